/*
 * api.c — the rules API under /api/observe/alerts and the audit log under
 * /api/audit (docs/alerts.md, "API").
 *
 * Reading needs observe:read, writing alert:manage, the audit log admin.
 * Who sees a rule follows the query API: an unbound token sees every
 * rule; a token bound to projects sees the rules of its projects and of
 * public projects, and manages only those of its own projects; any other
 * rule answers 404, as an unknown one does.  Every change is written to
 * audit_log in its own transaction.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_internal.h"
#include "core/ids.h"
#include "query/exec.h"

#define PREFIX       "/api/observe/alerts"
#define MAX_RULES    10000
#define MAX_PAGE     1000
#define DEFAULT_PAGE 100

/* timestamptz as the API writes times */
#define TSJ(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* ---- small helpers ---- */

static PGresult *q(lo_api_req_t *req, lo_api_resp_t *resp, const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(req->db, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    if (PQstatus(req->db) != CONNECTION_OK) {
        req->db_broken = true;
        lo_api_error(resp, 503, "unavailable", "the database is unavailable; retry later");
    } else {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (code && strcmp(code, "57014") == 0)
            lo_api_error(resp, 503, "timeout", "the query took too long");
        else
            lo_api_error(resp, 500, "internal", "the database refused the statement");
    }
    PQclear(r);
    return NULL;
}

static bool tx(lo_api_req_t *req, lo_api_resp_t *resp, const char *what)
{
    PGresult *r = q(req, resp, what, 0, NULL);
    PQclear(r);
    return r != NULL;
}

static void rollback(lo_api_req_t *req)
{
    PGresult *r = PQexec(req->db, "ROLLBACK");
    PQclear(r);
}

static bool set_timeout(lo_api_req_t *req, lo_api_resp_t *resp)
{
    return tx(req, resp, "SET statement_timeout = 30000");
}

/* Writes the JSON value as the 200 (or status) answer; takes v. */
static int answer(lo_api_resp_t *resp, int status, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!s)
        return lo_api_error(resp, 500, "internal", "out of memory");
    lo_buf_reset(&resp->body);
    lo_buf_append(&resp->body, s, strlen(s));
    free(s);
    resp->status = status;
    return LO_OK;
}

/* A page of a list: o with has_more, limit and offset added; takes o. */
static int answer_page(lo_api_resp_t *resp, json_t *o, bool more, long long limit, long long offset)
{
    json_object_set_new(o, "has_more", json_boolean(more));
    json_object_set_new(o, "limit", json_integer(limit));
    json_object_set_new(o, "offset", json_integer(offset));
    return answer(resp, 200, o);
}

/* A rule in the request's body, checked; false with the 400 written. */
static bool body_rule(lo_api_req_t *req, lo_api_resp_t *resp, lo_alert_rule_t *rule)
{
    char err[512];
    if (!req->body || req->body_len == 0) {
        lo_api_error(resp, 400, "invalid_rule", "the body must be the rule as JSON (see docs/alerts.md)");
        return false;
    }
    if (lo_alert_rule_parse(req->body, req->body_len, rule, err, sizeof err) != LO_OK) {
        lo_api_error(resp, 400, "invalid_rule", "%s", err);
        return false;
    }
    return true;
}

/* limit/offset: optional integers; false with the 400 written. */
static bool paging(lo_api_req_t *req, lo_api_resp_t *resp, long long *limit, long long *offset)
{
    bool dup;
    const char *l = lo_api_param(req, "limit", &dup), *o = lo_api_param(req, "offset", NULL);
    char *end;
    *limit = DEFAULT_PAGE;
    *offset = 0;
    if (l) {
        *limit = strtoll(l, &end, 10);
        if (*l == '\0' || *end != '\0' || *limit < 1 || *limit > MAX_PAGE) {
            lo_api_error(resp, 400, "invalid_parameter", "limit must be an integer from 1 to %d", MAX_PAGE);
            return false;
        }
    }
    if (o) {
        *offset = strtoll(o, &end, 10);
        if (*o == '\0' || *end != '\0' || *offset < 0 || *offset > 1000000) {
            lo_api_error(resp, 400, "invalid_parameter", "offset must be an integer from 0 to 1000000");
            return false;
        }
    }
    return true;
}

/* Refuses parameters not in allowed (NULL-terminated). */
typedef struct {
    const char *const *allowed;
    const char *bad;
} params_t;

static void each_param(void *ud, const char *k, const char *v)
{
    params_t *p = ud;
    bool ok = v != NULL;
    if (ok) {
        ok = false;
        for (size_t i = 0; p->allowed[i]; i++)
            ok |= strcmp(p->allowed[i], k) == 0;
    }
    if (!ok && !p->bad)
        p->bad = k ? k : "";
}

static bool only_params(lo_api_req_t *req, lo_api_resp_t *resp, const char *const *allowed)
{
    params_t p = { allowed, NULL };
    lo_api_params_each(req, each_param, &p);
    if (p.bad) {
        lo_api_error(resp, 400, "invalid_parameter", "unknown or malformed parameter %.64s", p.bad);
        return false;
    }
    return true;
}

/* The {id} of the path as a canonical UUID; false: no such rule (404). */
static bool rule_id(lo_api_req_t *req, lo_api_resp_t *resp, char out[37])
{
    const char *id = lo_api_path_param(req, "id");
    uint8_t b[16];
    if (!id || !lo_uuid_parse((lo_str_t){ id, strlen(id) }, b)) {
        lo_api_error(resp, 404, "not_found", "no alert rule has this id");
        return false;
    }
    lo_uuid_format(b, out);
    return true;
}

/* Whether the caller may change rules of project (NULL: no project). */
static bool may_manage(const lo_principal_t *who, const char *project)
{
    if (who->n_projects == 0)
        return true;
    uint8_t b[16];
    return project && lo_uuid_parse((lo_str_t){ project, strlen(project) }, b) &&
           lo_principal_allows_project(who, b);
}

/* The stored rule text without secrets, as a JSON object (NULL: corrupt). */
static json_t *public_rule(const char *text)
{
    json_t *o = json_loads(text, 0, NULL);
    lo_alert_rule_hide_secrets(o);
    return o;
}

static json_t *text_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

static json_t *num_or_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null() : json_real(strtod(PQgetvalue(r, row, col), NULL));
}

/* The columns of a rule as the API shows it (RULE_COLS). */
#define RULE_COLS                                                                                           \
    "r.id::text, r.rule::text, " TSJ("r.created_at") ", " TSJ("r.updated_at") ", " TSJ(                     \
        "r.last_evaluated_at") ", r.last_value, r.last_error, r.last_duration_ms, "                         \
                               "coalesce((SELECT max(CASE i.state WHEN 'firing' THEN 2 ELSE 1 END) FROM "   \
                               "alert_instances i "                                                         \
                               "WHERE i.rule_id = r.id), 0) AS st, r.project_id::text, coalesce(p.public, " \
                               "false) AS public"
enum {
    C_ID,
    C_RULE,
    C_CREATED,
    C_UPDATED,
    C_EVALUATED,
    C_VALUE,
    C_ERROR,
    C_DURATION,
    C_STATE,
    C_PROJECT,
    C_PUBLIC
};

static json_t *rule_json(const PGresult *r, int row)
{
    json_t *o = public_rule(PQgetvalue(r, row, C_RULE));
    if (!o)
        o = json_object();
    json_object_set_new(o, "id", json_string(PQgetvalue(r, row, C_ID)));
    json_object_set_new(o, "state", json_string(lo_alert_state_names[atoi(PQgetvalue(r, row, C_STATE)) % 3]));
    json_object_set_new(o, "created_at", text_or_null(r, row, C_CREATED));
    json_object_set_new(o, "updated_at", text_or_null(r, row, C_UPDATED));
    json_object_set_new(o, "last_evaluated_at", text_or_null(r, row, C_EVALUATED));
    json_object_set_new(o, "last_value", num_or_null(r, row, C_VALUE));
    json_object_set_new(o, "last_error", text_or_null(r, row, C_ERROR));
    json_object_set_new(o, "last_duration_ms", num_or_null(r, row, C_DURATION));
    return o;
}

/* Loads rule id if the caller may read it (or, manage, change it); NULL
 * with the 404 (or error) written.  lock: FOR UPDATE (in a transaction). */
static PGresult *load_rule(lo_api_req_t *req, lo_api_resp_t *resp, const char *id, bool manage, bool lock)
{
    PGresult *r =
        q(req, resp,
          lock ? "SELECT " RULE_COLS " FROM alert_rules r LEFT JOIN projects p ON p.id = r.project_id "
                 "WHERE r.id = $1 FOR UPDATE OF r"
               : "SELECT " RULE_COLS " FROM alert_rules r LEFT JOIN projects p ON p.id = r.project_id "
                 "WHERE r.id = $1",
          1, (const char *[]){ id });
    if (!r)
        return NULL;
    bool ok = PQntuples(r) == 1;
    if (ok) {
        const char *project = PQgetisnull(r, 0, C_PROJECT) ? NULL : PQgetvalue(r, 0, C_PROJECT);
        bool mine = may_manage(req->who, project);
        ok = manage ? mine : mine || PQgetvalue(r, 0, C_PUBLIC)[0] == 't';
    }
    if (!ok) {
        PQclear(r);
        lo_api_error(resp, 404, "not_found", "alert rule %s not found", id);
        return NULL;
    }
    return r;
}

static bool audit(lo_api_req_t *req, lo_api_resp_t *resp, const char *action, const char *id, json_t *changes)
{
    char tok[24];
    snprintf(tok, sizeof tok, "%lld", (long long)req->who->token_id);
    char *c = changes ? json_dumps(changes, JSON_COMPACT) : NULL;
    json_decref(changes);
    PGresult *r = q(req, resp,
                    "INSERT INTO audit_log (token_id, action, object_type, object_id, changes) "
                    "VALUES ($1, $2, 'alert_rule', $3, $4::jsonb)",
                    4, (const char *[]){ tok, action, id, c });
    free(c);
    PQclear(r);
    return r != NULL;
}

/* A project named by a rule must exist and be the caller's to use. */
static bool check_project(lo_api_req_t *req, lo_api_resp_t *resp, const lo_alert_rule_t *rule)
{
    if (!rule->has_project) {
        if (req->who->n_projects > 0) {
            lo_api_error(
                resp, 400, "invalid_rule",
                "project_id is required: this token is bound to projects, so its rules must name one");
            return false;
        }
        return true;
    }
    if (!may_manage(req->who, rule->project_id)) {
        lo_api_error(resp, 404, "not_found", "project %s not found", rule->project_id);
        return false;
    }
    PGresult *r =
        q(req, resp, "SELECT 1 FROM projects WHERE id = $1::uuid", 1, (const char *[]){ rule->project_id });
    if (!r)
        return false;
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found)
        lo_api_error(resp, 404, "not_found", "project %s not found", rule->project_id);
    return found;
}

/* ---- GET /api/observe/alerts ---- */

static const char *const LIST_PARAMS[] = { "project_id", "state", "limit", "offset", NULL };

static int h_list(lo_api_req_t *req, lo_api_resp_t *resp)
{
    long long limit, offset;
    if (!set_timeout(req, resp) || !only_params(req, resp, LIST_PARAMS) ||
        !paging(req, resp, &limit, &offset))
        return LO_OK;
    const char *project = lo_api_param(req, "project_id", NULL), *state = lo_api_param(req, "state", NULL);
    int st = -1;
    if (state) {
        for (int i = 0; lo_alert_state_names[i]; i++)
            if (strcmp(state, lo_alert_state_names[i]) == 0)
                st = i;
        if (st < 0)
            return lo_api_error(resp, 400, "invalid_parameter", "state must be inactive, pending or firing");
    }
    char canon[37];
    if (project) {
        uint8_t b[16];
        if (!lo_uuid_parse((lo_str_t){ project, strlen(project) }, b))
            return lo_api_error(resp, 400, "invalid_parameter", "project_id must be a UUID");
        lo_uuid_format(b, canon);
        project = canon;
    }
    lo_q_vis_t vis = { 0 };
    if (lo_q_visibility(req, resp, project, &vis) != LO_OK)
        return LO_OK;
    char st_s[16], lim_s[24], off_s[24];
    snprintf(st_s, sizeof st_s, "%d", st);
    snprintf(lim_s, sizeof lim_s, "%lld", limit + 1);
    snprintf(off_s, sizeof off_s, "%lld", offset);
    /* a bound token reads its projects and public ones (vis); an unbound
     * one naming no project reads all, rules without a project included */
    PGresult *r =
        q(req, resp,
          "SELECT * FROM (SELECT " RULE_COLS ", r.name AS name FROM alert_rules r "
          "LEFT JOIN projects p ON p.id = r.project_id "
          "WHERE ($1::bool OR r.project_id = ANY($2::uuid[]))) x "
          "WHERE $3::int < 0 OR x.st = $3::int ORDER BY x.name, x.id LIMIT $4 OFFSET $5",
          5, (const char *[]){ vis.all ? "true" : "false", vis.all ? "{}" : vis.arr.p, st_s, lim_s, off_s });
    lo_q_vis_free(&vis);
    if (!r)
        return LO_OK;
    json_t *o = json_object(), *arr = json_array();
    int n = PQntuples(r);
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(arr, rule_json(r, i));
    json_object_set_new(o, "rules", arr);
    PQclear(r);
    return answer_page(resp, o, n > limit, limit, offset);
}

/* ---- GET /api/observe/alerts/{id} ---- */

static int h_get(lo_api_req_t *req, lo_api_resp_t *resp)
{
    char id[37];
    if (!set_timeout(req, resp) || !only_params(req, resp, (const char *const[]){ NULL }) ||
        !rule_id(req, resp, id))
        return LO_OK;
    PGresult *r = load_rule(req, resp, id, false, false);
    if (!r)
        return LO_OK;
    json_t *o = rule_json(r, 0);
    PQclear(r);
    r = q(req, resp,
          "SELECT group_key, state, " TSJ("pending_since") ", " TSJ(
              "firing_since") ", last_value, event_id "
                              "FROM alert_instances WHERE rule_id = $1 ORDER BY group_key",
          1, (const char *[]){ id });
    if (!r) {
        json_decref(o);
        return LO_OK;
    }
    json_t *arr = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *g = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        json_array_append_new(
            arr, json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "group", g ? g : json_object(), "state",
                           PQgetvalue(r, i, 1), "pending_since", text_or_null(r, i, 2), "firing_since",
                           text_or_null(r, i, 3), "value", num_or_null(r, i, 4), "event_id",
                           PQgetisnull(r, i, 5) ? json_null() : json_integer(lo_alert_i64(r, i, 5))));
    }
    PQclear(r);
    json_object_set_new(o, "instances", arr);
    return answer(resp, 200, o);
}

/* ---- POST /api/observe/alerts ---- */

static int h_create(lo_api_req_t *req, lo_api_resp_t *resp)
{
    lo_alert_rule_t rule;
    if (!set_timeout(req, resp) || !only_params(req, resp, (const char *const[]){ NULL }))
        return LO_OK;
    if (!body_rule(req, resp, &rule))
        return LO_OK;
    char *stored = lo_alert_rule_dump(&rule, true);
    PGresult *r = NULL;
    bool ok = stored && check_project(req, resp, &rule) && tx(req, resp, "BEGIN");
    if (!stored)
        lo_api_error(resp, 500, "internal", "out of memory");
    if (ok) {
        char max_s[24];
        snprintf(max_s, sizeof max_s, "%d", MAX_RULES);
        r = q(req, resp, "SELECT count(*) >= $1::int8 FROM alert_rules", 1, (const char *[]){ max_s });
        ok = r != NULL;
        if (ok && PQgetvalue(r, 0, 0)[0] == 't') {
            lo_api_error(resp, 400, "too_many_rules", "there are %d alert rules already; delete some first",
                         MAX_RULES);
            ok = false;
        }
        PQclear(r);
        r = NULL;
    }
    if (ok) {
        char tok[24];
        snprintf(tok, sizeof tok, "%lld", (long long)req->who->token_id);
        r = q(req, resp,
              "INSERT INTO alert_rules (id, project_id, name, enabled, rule, created_by) "
              "VALUES (gen_random_uuid(), $1::uuid, $2, $3::bool, $4::jsonb, $5) RETURNING id::text",
              5,
              (const char *[]){ rule.has_project ? rule.project_id : NULL, rule.name,
                                rule.enabled ? "true" : "false", stored, tok });
        ok = r != NULL;
    }
    char id[37] = "";
    if (ok) {
        snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
        ok = audit(req, resp, "create", id, json_pack("{s:O}", "rule", json_object_get(rule.root, "name"))) &&
             tx(req, resp, "COMMIT");
    }
    PQclear(r);
    free(stored);
    lo_alert_rule_free(&rule);
    if (!ok) {
        rollback(req);
        return LO_OK;
    }
    r = load_rule(req, resp, id, false, false);
    if (!r)
        return LO_OK;
    json_t *o = rule_json(r, 0);
    PQclear(r);
    char loc[128];
    snprintf(loc, sizeof loc, PREFIX "/%s", id);
    lo_api_header(resp, "Location", loc);
    return answer(resp, 201, o);
}

/* ---- PATCH /api/observe/alerts/{id} ---- */

static int h_patch(lo_api_req_t *req, lo_api_resp_t *resp)
{
    lo_alert_t *a = req->arg;
    char id[37], err[512], changed[256];
    if (!set_timeout(req, resp) || !only_params(req, resp, (const char *const[]){ NULL }) ||
        !rule_id(req, resp, id))
        return LO_OK;
    if (!req->body || req->body_len == 0)
        return lo_api_error(resp, 400, "invalid_rule",
                            "the body must be a JSON object of the fields to change");
    if (!tx(req, resp, "BEGIN"))
        return LO_OK;
    lo_alert_rule_t base = { 0 }, next = { 0 };
    char *stored = NULL;
    bool ok = false;
    PGresult *r = load_rule(req, resp, id, true, true);
    if (!r)
        goto done;
    if (lo_alert_rule_parse(PQgetvalue(r, 0, C_RULE), (size_t)PQgetlength(r, 0, C_RULE), &base, err,
                            sizeof err) != LO_OK) {
        lo_api_error(resp, 500, "internal", "the stored rule is unreadable: %s", err);
        goto done;
    }
    if (lo_alert_rule_patch(&base, req->body, req->body_len, &next, changed, sizeof changed, err,
                            sizeof err) != LO_OK) {
        lo_api_error(resp, 400, "invalid_rule", "%s", err);
        goto done;
    }
    if (!check_project(req, resp, &next))
        goto done;
    /* disabled, or its query or targets changed: the open alerts end now */
    json_t *bq = json_object_get(base.root, "query"), *nq = json_object_get(next.root, "query");
    bool ends = (base.enabled && !next.enabled) || !json_equal(bq, nq) ||
                strcmp(base.project_id, next.project_id) != 0;
    if (ends && lo_alert_end_all(a, req->db, id, &base, err, sizeof err) != LO_OK) {
        lo_api_error(resp, 500, "internal", "could not end the rule's alerts: %s", err);
        goto done;
    }
    stored = lo_alert_rule_dump(&next, true);
    if (!stored) {
        lo_api_error(resp, 500, "internal", "out of memory");
        goto done;
    }
    PQclear(r);
    r = q(req, resp,
          "UPDATE alert_rules SET project_id = $2::uuid, name = $3, enabled = $4::bool, rule = $5::jsonb, "
          "updated_at = now() WHERE id = $1",
          5,
          (const char *[]){ id, next.has_project ? next.project_id : NULL, next.name,
                            next.enabled ? "true" : "false", stored });
    ok = r != NULL && audit(req, resp, "update", id, json_pack("{s:s}", "fields", changed)) &&
         tx(req, resp, "COMMIT");
    if (ok && ends)
        lo_sched_wake(a->sched, "alert_notify"); /* resolutions queued */
done:
    PQclear(r);
    free(stored);
    lo_alert_rule_free(&base);
    lo_alert_rule_free(&next);
    if (!ok) {
        rollback(req);
        return LO_OK;
    }
    r = load_rule(req, resp, id, false, false);
    if (!r)
        return LO_OK;
    json_t *o = rule_json(r, 0);
    PQclear(r);
    return answer(resp, 200, o);
}

/* ---- DELETE /api/observe/alerts/{id} ---- */

static int h_delete(lo_api_req_t *req, lo_api_resp_t *resp)
{
    lo_alert_t *a = req->arg;
    char id[37], err[512];
    if (!set_timeout(req, resp) || !only_params(req, resp, (const char *const[]){ NULL }) ||
        !rule_id(req, resp, id) || !tx(req, resp, "BEGIN"))
        return LO_OK;
    lo_alert_rule_t rule = { 0 };
    bool ok = false;
    PGresult *r = load_rule(req, resp, id, true, true);
    if (!r)
        goto done;
    if (lo_alert_rule_parse(PQgetvalue(r, 0, C_RULE), (size_t)PQgetlength(r, 0, C_RULE), &rule, err,
                            sizeof err) == LO_OK &&
        lo_alert_end_all(a, req->db, id, &rule, err, sizeof err) != LO_OK) {
        lo_api_error(resp, 500, "internal", "could not end the rule's alerts: %s", err);
        goto done;
    }
    PQclear(r);
    r = q(req, resp, "DELETE FROM alert_rules WHERE id = $1", 1, (const char *[]){ id });
    ok = r != NULL && audit(req, resp, "delete", id, NULL) && tx(req, resp, "COMMIT");
    if (ok)
        lo_sched_wake(a->sched, "alert_notify");
done:
    PQclear(r);
    lo_alert_rule_free(&rule);
    if (!ok) {
        rollback(req);
        return LO_OK;
    }
    return answer(resp, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1));
}

/* ---- GET /api/observe/alerts/{id}/events ---- */

static int h_events(lo_api_req_t *req, lo_api_resp_t *resp)
{
    char id[37], lim_s[24], off_s[24];
    long long limit, offset;
    if (!set_timeout(req, resp) ||
        !only_params(req, resp, (const char *const[]){ "limit", "offset", NULL }) ||
        !paging(req, resp, &limit, &offset) || !rule_id(req, resp, id))
        return LO_OK;
    PGresult *r = load_rule(req, resp, id, false, false);
    if (!r)
        return LO_OK;
    PQclear(r);
    snprintf(lim_s, sizeof lim_s, "%lld", limit + 1);
    snprintf(off_s, sizeof off_s, "%lld", offset);
    r = q(
        req, resp,
        "SELECT e.id, e.group_key, e.value, e.threshold, " TSJ("e.fired_at") ", " TSJ(
            "e.resolved_at") ", "
                             "e.resolved_value, coalesce((SELECT json_agg(json_build_object("
                             "'id', n.id, 'kind', n.kind, 'target', json_build_object('type', n.target_kind, "
                             "'url', n.url), "
                             "'state', n.state, 'attempts', n.attempts, 'created_at', " TSJ(
                                 "n.created_at") ", "
                                                 "'finished_at', " TSJ(
                                                     "n.finished_at") ", 'deliveries', coalesce((SELECT "
                                                                      "json_agg(json_build_object("
                                                                      "'attempt', d.attempt, 'at', " TSJ(
                                                                          "d.at") ", 'http_status', "
                                                                                  "d.http_status, 'error', "
                                                                                  "d.error, "
                                                                                  "'duration_ms', "
                                                                                  "d.duration_ms) ORDER BY "
                                                                                  "d.attempt) FROM "
                                                                                  "alert_deliveries d "
                                                                                  "WHERE d.notification_id = "
                                                                                  "n.id), '[]'::json)) ORDER "
                                                                                  "BY n.id) FROM "
                                                                                  "alert_notifications n "
                                                                                  "WHERE n.event_id = e.id "
                                                                                  "AND n.kind <> 'refresh'), "
                                                                                  "'[]'::json)::text, "
                                                                                  "(SELECT count(*) FROM "
                                                                                  "alert_notifications n "
                                                                                  "WHERE n.event_id = e.id "
                                                                                  "AND n.kind = 'refresh' "
                                                                                  "AND n.state = 'sent') "
                                                                                  "FROM alert_events e WHERE "
                                                                                  "e.rule_id = $1 ORDER BY "
                                                                                  "e.id DESC LIMIT $2 OFFSET "
                                                                                  "$3",
        3, (const char *[]){ id, lim_s, off_s });
    if (!r)
        return LO_OK;
    json_t *o = json_object(), *arr = json_array();
    int n = PQntuples(r);
    for (int i = 0; i < n && i < limit; i++) {
        json_t *g = json_loads(PQgetvalue(r, i, 1), 0, NULL),
               *notes = json_loads(PQgetvalue(r, i, 7), 0, NULL);
        json_t *e = json_object();
        json_object_set_new(e, "id", json_integer(lo_alert_i64(r, i, 0)));
        json_object_set_new(e, "group", g ? g : json_object());
        json_object_set_new(e, "value", num_or_null(r, i, 2));
        json_object_set_new(e, "threshold", num_or_null(r, i, 3));
        json_object_set_new(e, "fired_at", text_or_null(r, i, 4));
        json_object_set_new(e, "resolved_at", text_or_null(r, i, 5));
        json_object_set_new(e, "resolved_value", num_or_null(r, i, 6));
        json_object_set_new(e, "notifications", notes ? notes : json_array());
        json_object_set_new(e, "refreshes_sent", json_integer(lo_alert_i64(r, i, 8)));
        json_array_append_new(arr, e);
    }
    json_object_set_new(o, "events", arr);
    PQclear(r);
    return answer_page(resp, o, n > limit, limit, offset);
}

/* ---- POST /api/observe/alerts/{id}/test and /api/observe/alerts/test ---- */

/* Evaluates rule now and answers what it finds, changing nothing. */
static int test_rule(lo_api_req_t *req, lo_api_resp_t *resp, const lo_alert_rule_t *rule)
{
    char err[512];
    lo_alert_t *a = req->arg;
    char shift[24];
    snprintf(shift, sizeof shift, "%lld", (long long)lo_alert_clock_shift_us(a->cfg));
    PGresult *r = q(req, resp,
                    "SELECT (extract(epoch FROM now()) * 1000000)::int8 + $1::int8, " TSJ(
                        "now() + $1::int8 * interval '1 microsecond'"),
                    1, (const char *[]){ shift });
    if (!r)
        return LO_OK;
    int64_t now_us = lo_alert_i64(r, 0, 0);
    json_t *o = json_object();
    json_object_set_new(o, "evaluated_at", json_string(PQgetvalue(r, 0, 1)));
    PQclear(r);
    lo_alert_result_t res;
    if (lo_alert_query(req->db, rule, now_us, &res, err, sizeof err) != LO_OK) {
        json_decref(o);
        if (PQstatus(req->db) != CONNECTION_OK)
            req->db_broken = true;
        return lo_api_error(resp, 400, "query_failed", "the rule's query failed: %s", err);
    }
    json_object_set_new(o, "condition", json_string(lo_alert_cond_names[rule->cond]));
    json_object_set_new(o, "threshold",
                        rule->cond == LO_ALERT_ABSENT ? json_null() : json_real(rule->threshold));
    json_object_set_new(o, "window_seconds", json_integer(rule->window_s));
    json_t *arr = json_array();
    bool any = false;
    for (size_t i = 0; i < res.n; i++) {
        json_t *g = json_loads(res.g[i].key, 0, NULL);
        bool holds = lo_alert_holds(rule, true, res.g[i].value);
        any |= holds;
        json_array_append_new(arr, json_pack("{s:o, s:f, s:b}", "group", g ? g : json_object(), "value",
                                             res.g[i].value, "condition_met", holds));
    }
    if (rule->cond == LO_ALERT_ABSENT && res.n == 0)
        any = true;
    json_object_set_new(o, "absent", json_boolean(res.n == 0));
    json_object_set_new(o, "groups", arr);
    json_object_set_new(o, "condition_met", json_boolean(any));
    json_object_set_new(o, "value", res.n == 1 ? json_real(res.g[0].value) : json_null());
    lo_alert_result_free(&res);
    return answer(resp, 200, o);
}

static int h_test(lo_api_req_t *req, lo_api_resp_t *resp)
{
    char id[37], err[512];
    if (!set_timeout(req, resp) || !only_params(req, resp, (const char *const[]){ NULL }) ||
        !rule_id(req, resp, id))
        return LO_OK;
    PGresult *r = load_rule(req, resp, id, false, false);
    if (!r)
        return LO_OK;
    lo_alert_rule_t rule;
    int rc = lo_alert_rule_parse(PQgetvalue(r, 0, C_RULE), (size_t)PQgetlength(r, 0, C_RULE), &rule, err,
                                 sizeof err);
    PQclear(r);
    if (rc != LO_OK)
        return lo_api_error(resp, 500, "internal", "the stored rule is unreadable: %s", err);
    test_rule(req, resp, &rule);
    lo_alert_rule_free(&rule);
    return LO_OK;
}

/* A rule not saved yet, tried (the rule editor's preview). */
static int h_try(lo_api_req_t *req, lo_api_resp_t *resp)
{
    lo_alert_rule_t rule;
    if (!set_timeout(req, resp) || !only_params(req, resp, (const char *const[]){ NULL }))
        return LO_OK;
    if (!body_rule(req, resp, &rule))
        return LO_OK;
    lo_q_vis_t vis = { 0 };
    /* reading a project's data: the query API's visibility */
    if (lo_q_visibility(req, resp, rule.has_project ? rule.project_id : NULL, &vis) == LO_OK) {
        if (!rule.has_project && !vis.all)
            lo_api_error(
                resp, 400, "invalid_rule",
                "project_id is required: this token is bound to projects, so its rules must name one");
        else
            test_rule(req, resp, &rule);
    }
    lo_q_vis_free(&vis);
    lo_alert_rule_free(&rule);
    return LO_OK;
}

/* ---- GET /api/audit ---- */

static int h_audit(lo_api_req_t *req, lo_api_resp_t *resp)
{
    long long limit, offset;
    char lim_s[24], off_s[24];
    if (!set_timeout(req, resp) ||
        !only_params(req, resp, (const char *const[]){ "limit", "offset", "object_id", NULL }) ||
        !paging(req, resp, &limit, &offset))
        return LO_OK;
    const char *object = lo_api_param(req, "object_id", NULL);
    if (object && strlen(object) > 64)
        return lo_api_error(resp, 400, "invalid_parameter", "object_id is at most 64 characters");
    snprintf(lim_s, sizeof lim_s, "%lld", limit + 1);
    snprintf(off_s, sizeof off_s, "%lld", offset);
    PGresult *r = q(req, resp,
                    "SELECT id, " TSJ("at") ", token_id, action, object_type, object_id, changes::text "
                                            "FROM audit_log WHERE $1::text IS NULL OR object_id = $1 ORDER "
                                            "BY id DESC LIMIT $2 OFFSET $3",
                    3, (const char *[]){ object, lim_s, off_s });
    if (!r)
        return LO_OK;
    json_t *o = json_object(), *arr = json_array();
    int n = PQntuples(r);
    for (int i = 0; i < n && i < limit; i++) {
        json_t *ch = PQgetisnull(r, i, 6) ? json_null() : json_loads(PQgetvalue(r, i, 6), 0, NULL);
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:o}", "id", (json_int_t)lo_alert_i64(r, i, 0),
                           "at", PQgetvalue(r, i, 1), "token_id",
                           PQgetisnull(r, i, 2) ? json_null() : json_integer(lo_alert_i64(r, i, 2)), "action",
                           PQgetvalue(r, i, 3), "object_type", PQgetvalue(r, i, 4), "object_id",
                           PQgetvalue(r, i, 5), "changes", ch ? ch : json_null()));
    }
    json_object_set_new(o, "entries", arr);
    PQclear(r);
    return answer_page(resp, o, n > limit, limit, offset);
}

int lo_alert_add_routes(lo_alert_t *a, lo_api_routes_t *t)
{
    const unsigned READ = LO_SCOPE_OBSERVE_READ, MANAGE = LO_SCOPE_ALERT_MANAGE;
    static lo_api_route_t routes[9];
    lo_api_route_t def[] = {
        { "GET", PREFIX, READ, true, LO_ROUTE_JSON, h_list, a },
        { "POST", PREFIX, MANAGE, true, LO_ROUTE_JSON, h_create, a },
        { "POST", PREFIX "/test", READ, true, LO_ROUTE_JSON, h_try, a },
        { "GET", PREFIX "/{id}", READ, true, LO_ROUTE_JSON, h_get, a },
        { "PATCH", PREFIX "/{id}", MANAGE, true, LO_ROUTE_JSON, h_patch, a },
        { "DELETE", PREFIX "/{id}", MANAGE, true, LO_ROUTE_JSON, h_delete, a },
        { "GET", PREFIX "/{id}/events", READ, true, LO_ROUTE_JSON, h_events, a },
        { "POST", PREFIX "/{id}/test", READ, true, LO_ROUTE_JSON, h_test, a },
        { "GET", "/api/audit", LO_SCOPE_ADMIN, true, LO_ROUTE_JSON, h_audit, a },
    };
    _Static_assert(sizeof(def) == sizeof(routes), "route table size");
    memcpy(routes, def, sizeof(def));
    return lo_api_routes_add(t, routes, LO_ARRAY_LEN(routes));
}
