/*
 * eval.c — the evaluator: a periodic task (alert_eval) that runs on one
 * node at a time (its election lock), every alert_interval seconds
 * (docs/alerts.md, "Evaluation").
 *
 * Each enabled rule's query runs first, outside any transaction, bounded
 * by alert_query_timeout_seconds.  Then one transaction per rule locks the
 * rule, reads its instances, moves each group along the state machine
 * (state.c) and writes the new states, the events and the notifications
 * owed (the outbox) together, so a crash either keeps all of a transition
 * or none of it, and a restart neither re-fires nor forgets a pending
 * timer.  A failing query is recorded on its rule (last_error) and never
 * stops the others.  Times are the database's clock (shifted in tests:
 * lo_alert_clock_shift_us).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert_internal.h"
#include "core/log.h"

int64_t lo_alert_i64(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int64_t local_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t lo_alert_clock_shift_us(const lo_config_t *cfg)
{
    if (!cfg->alert_clock_file || !cfg->alert_clock_file[0])
        return 0;
    char text[32] = "";
    FILE *f = fopen(cfg->alert_clock_file, "r");
    if (!f)
        return 0; /* not written yet: no shift */
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *end;
    errno = 0;
    long long s = strtoll(text, &end, 10);
    while (*end == '\n' || *end == ' ')
        end++;
    if (end == text || *end != '\0' || errno != 0 || s < -86400LL * 3650 || s > 86400LL * 3650) {
        lo_log_warn("alert clock file ignored: not a number of seconds", "file=\"%s\"",
                    cfg->alert_clock_file);
        return 0;
    }
    return (int64_t)s * 1000000;
}

static bool cmd(PGconn *db, const char *sql, int n, const char *const *vals, char *err, size_t errlen)
{
    PGresult *r = lo_store_exec(db, sql, n, vals, err, errlen);
    PQclear(r);
    return r != NULL;
}

typedef struct {
    lo_alert_t *a;
    PGconn *db;
    const char *rule_id;
    const lo_alert_rule_t *rule;
    int64_t now_us;
    char *err;
    size_t errlen;
    int queued; /* notifications written */
} ctx_t;

/* Queues one message per target (of kind only_am: Alertmanager targets
 * alone) for the event. */
static bool enqueue(ctx_t *c, const lo_alert_note_t *n, const char *kind, bool only_am)
{
    char ev[24];
    snprintf(ev, sizeof ev, "%lld", (long long)n->event_id);
    lo_buf_t body, url;
    lo_buf_init(&body, 0);
    lo_buf_init(&url, 0);
    bool ok = true;
    for (size_t i = 0; ok && i < c->rule->n_targets; i++) {
        const lo_alert_target_t *t = &c->rule->targets[i];
        if (only_am && t->kind != LO_TARGET_ALERTMANAGER)
            continue;
        body.len = 0;
        if (t->kind == LO_TARGET_ALERTMANAGER)
            lo_alert_am_body(n, &body);
        else
            lo_alert_webhook_body(n, &body);
        lo_buf_putc(&body, '\0');
        if (body.err) {
            snprintf(c->err, c->errlen, "out of memory");
            ok = false;
            break;
        }
        /* Alertmanager's URL is its base: alerts are posted to its v2 API */
        url.len = 0;
        lo_buf_append(&url, t->url, strlen(t->url));
        while (url.len > 0 && url.p[url.len - 1] == '/')
            url.len--;
        if (t->kind == LO_TARGET_ALERTMANAGER)
            lo_buf_append(&url, "/api/v2/alerts", 14);
        lo_buf_putc(&url, '\0');
        if (url.err) {
            snprintf(c->err, c->errlen, "out of memory");
            ok = false;
            break;
        }
        const char *v[6] = { ev, kind, lo_alert_target_names[t->kind], url.p, t->secret, body.p };
        ok = cmd(c->db,
                 "INSERT INTO alert_notifications (event_id, kind, target_kind, url, secret, body) "
                 "VALUES ($1, $2, $3, $4, $5, $6)",
                 6, v, c->err, c->errlen);
        c->queued += ok;
    }
    lo_buf_free(&body);
    lo_buf_free(&url);
    return ok;
}

static int64_t ends_at(const lo_alert_t *a, int64_t now_us)
{
    int64_t every = a->cfg->alert_resend_seconds > a->cfg->alert_interval ? a->cfg->alert_resend_seconds
                                                                          : a->cfg->alert_interval;
    return now_us + 4 * every * 1000000;
}

/* Writes what transition tr of group key (now in state *in) means. */
static bool apply(ctx_t *c, const char *key, const lo_alert_inst_t *in, lo_alert_transition_t tr,
                  bool has_value, double value, int64_t event_id, int64_t resent_us)
{
    char now_s[24], v_s[40], pend_s[24], fire_s[24], th_s[40], ev_s[24];
    snprintf(now_s, sizeof now_s, "%lld", (long long)c->now_us);
    snprintf(v_s, sizeof v_s, "%.17g", value);
    snprintf(pend_s, sizeof pend_s, "%lld", (long long)in->pending_since_us);
    snprintf(fire_s, sizeof fire_s, "%lld", (long long)in->firing_since_us);
    snprintf(th_s, sizeof th_s, "%.17g", c->rule->threshold);
    const char *val = has_value ? v_s : NULL;
    lo_alert_note_t n = { .rule_id = c->rule_id,
                          .group_key = key,
                          .public_url = c->a->public_url,
                          .rule = c->rule,
                          .value = value,
                          .has_value = has_value,
                          .event_id = event_id };
    lo_stat_add(&c->a->st.transitions[tr], 1);
    switch (tr) {
    case LO_AT_NONE:
        if (in->state == LO_AS_INACTIVE)
            return true;
        if (!cmd(c->db, "UPDATE alert_instances SET last_value = $3 WHERE rule_id = $1 AND group_key = $2", 3,
                 (const char *[]){ c->rule_id, key, val }, c->err, c->errlen))
            return false;
        if (in->state != LO_AS_FIRING || c->now_us - resent_us < c->a->cfg->alert_resend_seconds * 1000000)
            return true;
        /* still firing: Alertmanager forgets an alert it is not told about again */
        n.status = "firing";
        n.fired_at_us = in->firing_since_us;
        n.ends_at_us = ends_at(c->a, c->now_us);
        return enqueue(c, &n, "refresh", true) &&
               cmd(c->db,
                   "UPDATE alert_instances SET resent_at = lo_us_ts($3::int8) WHERE rule_id = $1 AND "
                   "group_key = $2",
                   3, (const char *[]){ c->rule_id, key, now_s }, c->err, c->errlen);
    case LO_AT_PENDING:
        return cmd(c->db,
                   "INSERT INTO alert_instances (rule_id, group_key, state, pending_since, last_value) "
                   "VALUES ($1, $2, 'pending', lo_us_ts($3::int8), $4)",
                   4, (const char *[]){ c->rule_id, key, pend_s, val }, c->err, c->errlen);
    case LO_AT_FIRED: {
        PGresult *r = lo_store_exec(
            c->db,
            "INSERT INTO alert_events (rule_id, group_key, value, threshold, fired_at) "
            "VALUES ($1, $2, $3, $4, lo_us_ts($5::int8)) RETURNING id",
            5,
            (const char *[]){ c->rule_id, key, val, c->rule->cond == LO_ALERT_ABSENT ? NULL : th_s, fire_s },
            c->err, c->errlen);
        if (!r)
            return false;
        n.event_id = lo_alert_i64(r, 0, 0);
        PQclear(r);
        snprintf(ev_s, sizeof ev_s, "%lld", (long long)n.event_id);
        n.status = "firing";
        n.fired_at_us = in->firing_since_us;
        n.ends_at_us = ends_at(c->a, c->now_us);
        return cmd(c->db,
                   "INSERT INTO alert_instances (rule_id, group_key, state, pending_since, firing_since, "
                   "event_id, "
                   "last_value, resent_at) VALUES ($1, $2, 'firing', lo_us_ts($3::int8), lo_us_ts($4::int8), "
                   "$5, $6, lo_us_ts($4::int8)) "
                   "ON CONFLICT (rule_id, group_key) DO UPDATE SET state = 'firing', firing_since = "
                   "excluded.firing_since, event_id = excluded.event_id, last_value = "
                   "excluded.last_value, "
                   "resent_at = excluded.resent_at",
                   6, (const char *[]){ c->rule_id, key, pend_s, fire_s, ev_s, val }, c->err, c->errlen) &&
               enqueue(c, &n, "firing", false);
    }
    case LO_AT_RESOLVED:
        snprintf(ev_s, sizeof ev_s, "%lld", (long long)event_id);
        n.status = "resolved";
        n.resolved_at_us = c->now_us;
        n.ends_at_us = c->now_us;
        {
            PGresult *r = lo_store_exec(
                c->db,
                "UPDATE alert_events SET resolved_at = lo_us_ts($2::int8), resolved_value = $3 WHERE id = $1 "
                "RETURNING (extract(epoch FROM fired_at) * 1000000)::int8",
                3, (const char *[]){ ev_s, now_s, val }, c->err, c->errlen);
            if (!r)
                return false;
            n.fired_at_us = PQntuples(r) ? lo_alert_i64(r, 0, 0) : 0;
            PQclear(r);
        }
        return cmd(c->db, "DELETE FROM alert_instances WHERE rule_id = $1 AND group_key = $2", 2,
                   (const char *[]){ c->rule_id, key }, c->err, c->errlen) &&
               enqueue(c, &n, "resolved", false);
    case LO_AT_CANCELLED:
        return cmd(c->db, "DELETE FROM alert_instances WHERE rule_id = $1 AND group_key = $2", 2,
                   (const char *[]){ c->rule_id, key }, c->err, c->errlen);
    }
    return true;
}

static const lo_alert_group_t *find_group(const lo_alert_result_t *res, const char *key, bool *seen)
{
    for (size_t i = 0; i < res->n; i++)
        if (strcmp(res->g[i].key, key) == 0) {
            seen[i] = true;
            return &res->g[i];
        }
    return NULL;
}

/* The state transitions of one rule, in one transaction.  false with
 * c->err set (rolled back by the caller). */
static bool transitions(ctx_t *c, const lo_alert_result_t *res)
{
    const char *id[1] = { c->rule_id };
    PGresult *r = lo_store_exec(c->db, "SELECT 1 FROM alert_rules WHERE id = $1 AND enabled FOR UPDATE", 1,
                                id, c->err, c->errlen);
    if (!r)
        return false;
    bool exists = PQntuples(r) == 1;
    PQclear(r);
    if (!exists)
        return true; /* deleted or disabled meanwhile */
    r = lo_store_exec(
        c->db,
        "SELECT group_key, state, (extract(epoch FROM pending_since) * 1000000)::int8, "
        "(extract(epoch FROM firing_since) * 1000000)::int8, event_id, "
        "(extract(epoch FROM resent_at) * 1000000)::int8 FROM alert_instances WHERE rule_id = $1",
        1, id, c->err, c->errlen);
    if (!r)
        return false;
    bool *seen = calloc(res->n + 1, sizeof(bool));
    bool ok = seen != NULL, had_whole = false;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        const char *key = PQgetvalue(r, i, 0);
        had_whole |= strcmp(key, "{}") == 0;
        lo_alert_inst_t in = { strcmp(PQgetvalue(r, i, 1), "firing") == 0 ? LO_AS_FIRING : LO_AS_PENDING,
                               lo_alert_i64(r, i, 2), lo_alert_i64(r, i, 3) };
        const lo_alert_group_t *g = find_group(res, key, seen);
        bool holds = lo_alert_holds(c->rule, g != NULL, g ? g->value : 0);
        lo_alert_transition_t tr = lo_alert_step(&in, holds, c->now_us, c->rule->for_s);
        ok =
            apply(c, key, &in, tr, g != NULL, g ? g->value : 0, lo_alert_i64(r, i, 4), lo_alert_i64(r, i, 5));
    }
    PQclear(r);
    /* groups with no instance yet; absent with no data at all is the
     * rule's one group "{}" */
    for (size_t i = 0; ok && i < res->n; i++) {
        if (seen[i])
            continue;
        lo_alert_inst_t in = { LO_AS_INACTIVE, 0, 0 };
        lo_alert_transition_t tr =
            lo_alert_step(&in, lo_alert_holds(c->rule, true, res->g[i].value), c->now_us, c->rule->for_s);
        ok = apply(c, res->g[i].key, &in, tr, true, res->g[i].value, 0, c->now_us);
    }
    if (ok && c->rule->cond == LO_ALERT_ABSENT && res->n == 0 && !had_whole) {
        lo_alert_inst_t in = { LO_AS_INACTIVE, 0, 0 };
        lo_alert_transition_t tr = lo_alert_step(&in, true, c->now_us, c->rule->for_s);
        ok = apply(c, "{}", &in, tr, false, 0, 0, c->now_us);
    }
    free(seen);
    return ok;
}

/* Evaluates one rule: its query, then its transitions. */
static void eval_rule(lo_alert_t *a, PGconn *db, const char *rule_id, const char *text, int64_t offset_us)
{
    char err[512] = "", now_s[24], dur_s[32], val_s[40];
    lo_alert_rule_t rule;
    lo_alert_result_t res = { 0 };
    int64_t t0 = local_us(), now_us = t0 + offset_us;
    bool ok = false;
    snprintf(now_s, sizeof now_s, "%lld", (long long)now_us);
    lo_stat_add(&a->st.evaluations, 1);
    if (lo_alert_rule_parse(text, strlen(text), &rule, err, sizeof err) != LO_OK)
        goto record;
    ctx_t c = { a, db, rule_id, &rule, now_us, err, sizeof err, 0 };
    if (lo_alert_query(db, &rule, now_us, &res, err, sizeof err) != LO_OK)
        goto record_rule;
    if (!cmd(db, "BEGIN", 0, NULL, err, sizeof err))
        goto record_rule;
    if (transitions(&c, &res) && cmd(db, "COMMIT", 0, NULL, err, sizeof err)) {
        ok = true;
        /* this node's dispatcher sends them at once rather than at its next poll */
        if (c.queued > 0)
            lo_sched_wake(a->sched, "alert_notify");
    } else {
        PGresult *rb = PQexec(db, "ROLLBACK");
        PQclear(rb);
    }
record_rule:
    lo_alert_rule_free(&rule);
record:
    if (!ok) {
        lo_stat_add(&a->st.eval_failures, 1);
        lo_log_warn("alert rule evaluation failed", "rule=%s error=\"%.300s\"", rule_id, err);
    }
    double best = 0;
    for (size_t i = 0; i < res.n; i++)
        if (i == 0 || res.g[i].value > best)
            best = res.g[i].value;
    snprintf(val_s, sizeof val_s, "%.17g", best);
    snprintf(dur_s, sizeof dur_s, "%.3f", (double)(local_us() - t0) / 1000.0);
    lo_stat_add(&a->st.eval_us_sum, local_us() - t0);
    char err2[256];
    (void)cmd(
        db,
        "UPDATE alert_rules SET last_evaluated_at = lo_us_ts($2::int8), last_value = $3, last_error = $4, "
        "last_duration_ms = $5 WHERE id = $1",
        5, (const char *[]){ rule_id, now_s, ok && res.n ? val_s : NULL, ok ? NULL : err, dur_s }, err2,
        sizeof err2);
    lo_alert_result_free(&res);
}

int lo_alert_eval_task(PGconn *db, void *arg, char *err, size_t errlen)
{
    lo_alert_t *a = arg;
    char sql[96];
    snprintf(sql, sizeof sql, "SET statement_timeout = %lld",
             (long long)a->cfg->alert_query_timeout_seconds * 1000);
    if (!cmd(db, sql, 0, NULL, err, errlen))
        return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
    /* another node ran within most of an interval: this run is not needed */
    char min_gap[24];
    snprintf(min_gap, sizeof min_gap, "%lld", (long long)a->cfg->alert_interval * 800);
    PGresult *r = lo_store_exec(
        db,
        "UPDATE alert_evaluator SET last_run_at = now() WHERE id = 1 AND (last_run_at IS NULL OR "
        "last_run_at <= now() - $1::int8 * interval '1 millisecond') RETURNING 1",
        1, (const char *[]){ min_gap }, err, errlen);
    if (!r)
        return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
    bool mine = PQntuples(r) == 1;
    PQclear(r);
    if (!mine)
        return LO_OK;
    int64_t before = local_us();
    r = lo_store_exec(db, "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8", 0, NULL, err,
                      errlen);
    if (!r)
        return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
    int64_t after = local_us();
    /* database clock - ours, plus the test clock's shift */
    int64_t offset = lo_alert_i64(r, 0, 0) - (before + after) / 2 + lo_alert_clock_shift_us(a->cfg);
    PQclear(r);
    r = lo_store_exec(db, "SELECT id::text, rule::text FROM alert_rules WHERE enabled ORDER BY id", 0, NULL,
                      err, errlen);
    if (!r)
        return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
    for (int i = 0; i < PQntuples(r) && PQstatus(db) == CONNECTION_OK; i++)
        eval_rule(a, db, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), offset);
    PQclear(r);
    lo_stat_add(&a->st.eval_runs, 1);
    r = lo_store_exec(
        db,
        "SELECT (SELECT count(*) FROM alert_instances WHERE state = 'pending'), "
        "(SELECT count(*) FROM alert_instances WHERE state = 'firing'), "
        "count(*) FILTER (WHERE enabled AND st = 0), count(*) FILTER (WHERE enabled AND st = 1), "
        "count(*) FILTER (WHERE enabled AND st = 2), count(*) FILTER (WHERE NOT enabled) "
        "FROM (SELECT r.enabled, coalesce((SELECT max(CASE i.state WHEN 'firing' THEN 2 ELSE 1 END) "
        "FROM alert_instances i WHERE i.rule_id = r.id), 0) AS st FROM alert_rules r) x",
        0, NULL, err, errlen);
    if (r) {
        atomic_store(&a->st.pending, lo_alert_i64(r, 0, 0));
        atomic_store(&a->st.firing, lo_alert_i64(r, 0, 1));
        for (int k = 0; k < 4; k++)
            atomic_store(&a->st.rules[k], lo_alert_i64(r, 0, 2 + k));
        PQclear(r);
    }
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(err, errlen, "the database connection was lost");
        return LO_UNAVAIL;
    }
    return LO_OK;
}

int lo_alert_end_all(lo_alert_t *a, PGconn *db, const char *rule_id, const lo_alert_rule_t *rule, char *err,
                     size_t errlen)
{
    PGresult *r = lo_store_exec(db,
                                "SELECT group_key, (extract(epoch FROM pending_since) * 1000000)::int8, "
                                "(extract(epoch FROM firing_since) * 1000000)::int8, event_id, "
                                "(extract(epoch FROM now()) * 1000000)::int8 FROM alert_instances "
                                "WHERE rule_id = $1 AND state = 'firing'",
                                1, (const char *[]){ rule_id }, err, errlen);
    if (!r)
        return LO_ERROR;
    bool ok = true;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        ctx_t c = { a,   db,     rule_id, rule, lo_alert_i64(r, i, 4) + lo_alert_clock_shift_us(a->cfg),
                    err, errlen, 0 };
        lo_alert_inst_t in = { LO_AS_FIRING, lo_alert_i64(r, i, 1), lo_alert_i64(r, i, 2) };
        lo_alert_transition_t tr = lo_alert_step(&in, false, c.now_us, rule->for_s);
        ok = apply(&c, PQgetvalue(r, i, 0), &in, tr, false, 0, lo_alert_i64(r, i, 3), 0);
    }
    PQclear(r);
    return ok && cmd(db, "DELETE FROM alert_instances WHERE rule_id = $1", 1, (const char *[]){ rule_id },
                     err, errlen)
               ? LO_OK
               : LO_ERROR;
}
