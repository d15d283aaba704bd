/*
 * notify.c — notification payloads and the dispatcher (docs/alerts.md,
 * "Notifications").
 *
 * The evaluator writes one outbox row (alert_notifications) per target
 * and transition, in the transaction of the transition.  The dispatcher,
 * a periodic task on every node, claims due rows with FOR UPDATE SKIP
 * LOCKED (so two nodes never send the same row), sends them all at once
 * with libcurl's multi interface (a slow target does not hold up the
 * others of the batch), records every attempt (alert_deliveries) and
 * marks the row sent, failed (given up) or due again after a backoff —
 * all in the claiming transaction.  A later message for the same event
 * and target waits until the earlier one is finished, so "resolved" never
 * overtakes "firing".  A crash after a send and before the commit sends
 * that message again: receivers may deduplicate by X-Lookout-Delivery.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert_internal.h"
#include "core/json_write.h"
#include "core/log.h"
#include "query/exec.h"

#define BATCH          32
#define MAX_BACKOFF_S  300
#define MAX_REPLY_READ 65536
#define PRUNE_EVERY    3000 /* runs: about ten minutes */

/* ---- payloads ---- */

static void url_enc(lo_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~') {
            lo_buf_putc(b, (char)*p);
        } else {
            lo_buf_putc(b, '%');
            lo_buf_putc(b, hex[*p >> 4]);
            lo_buf_putc(b, hex[*p & 15]);
        }
    }
}

static void param(lo_buf_t *b, const char *name, const char *v)
{
    if (!v)
        return;
    lo_buf_printf(b, "&%s=", name);
    url_enc(b, v);
}

void lo_alert_link(const lo_alert_rule_t *r, const char *public_url, int64_t now_us, lo_buf_t *out)
{
    const char *base = public_url ? public_url : "";
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    lo_buf_append(out, base, bl);
    long long to_ms = (long long)(now_us / 1000), from_ms = to_ms - (long long)r->window_s * 1000;
    if (r->is_log) {
        lo_buf_printf(out, "/api/observe/logs?from=%lld&to=%lld", from_ms, to_ms);
        param(out, "level", r->level_text);
        param(out, "service", r->service);
        param(out, "q", r->q);
        param(out, "session_id", r->has_session ? r->session : NULL);
    } else {
        lo_buf_printf(out, "/api/observe/metrics?from=%lld&to=%lld&step=%lld", from_ms, to_ms,
                      (long long)r->window_s);
        param(out, "name", r->metric);
        param(out, "agg", r->agg_name);
        param(out, "labels", r->labels);
        if (r->n_group_keys) {
            lo_buf_t keys;
            lo_buf_init(&keys, 0);
            for (size_t i = 0; i < r->n_group_keys; i++)
                lo_buf_printf(&keys, "%s%s", i ? "," : "", r->group_keys[i]);
            lo_buf_putc(&keys, '\0');
            param(out, "group_by", keys.p);
            lo_buf_free(&keys);
        } else {
            param(out, "group", "none");
        }
    }
    param(out, "project_id", r->has_project ? r->project_id : NULL);
}

static void jw_time(lo_jw_t *w, int64_t us)
{
    char t[32];
    if (us == 0) {
        lo_jw_null(w);
        return;
    }
    lo_q_fmt_time(us, t);
    lo_jw_cstr(w, t);
}

static void jw_value(lo_jw_t *w, bool has, double v)
{
    if (has && isfinite(v))
        lo_jw_f64(w, v);
    else
        lo_jw_null(w);
}

void lo_alert_webhook_body(const lo_alert_note_t *n, lo_buf_t *out)
{
    const lo_alert_rule_t *r = n->rule;
    lo_jw_t w;
    lo_buf_t link;
    lo_buf_init(&link, 0);
    lo_alert_link(r, n->public_url, n->resolved_at_us ? n->resolved_at_us : n->fired_at_us, &link);
    lo_jw_init(&w, out);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "version", 7), lo_jw_i64(&w, 1);
    lo_jw_key(&w, "status", 6), lo_jw_cstr(&w, n->status);
    lo_jw_key(&w, "event_id", 8), lo_jw_i64(&w, n->event_id);
    lo_jw_key(&w, "rule", 4);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "id", 2), lo_jw_cstr(&w, n->rule_id);
    lo_jw_key(&w, "name", 4), lo_jw_cstr(&w, r->name);
    lo_jw_key(&w, "severity", 8), lo_jw_cstr(&w, r->severity);
    lo_jw_obj_end(&w);
    lo_jw_key(&w, "project_id", 10);
    if (r->has_project)
        lo_jw_cstr(&w, r->project_id);
    else
        lo_jw_null(&w);
    lo_jw_key(&w, "group", 5), lo_jw_raw(&w, n->group_key, strlen(n->group_key));
    lo_jw_key(&w, "value", 5), jw_value(&w, n->has_value, n->value);
    lo_jw_key(&w, "threshold", 9), jw_value(&w, r->cond != LO_ALERT_ABSENT, r->threshold);
    lo_jw_key(&w, "condition", 9), lo_jw_cstr(&w, lo_alert_cond_names[r->cond]);
    lo_jw_key(&w, "fired_at", 8), jw_time(&w, n->fired_at_us);
    lo_jw_key(&w, "resolved_at", 11), jw_time(&w, n->resolved_at_us);
    lo_jw_key(&w, "link", 4), lo_jw_str(&w, link.p ? link.p : "", link.len);
    lo_jw_obj_end(&w);
    lo_buf_free(&link);
}

/* Alertmanager label names are [a-zA-Z_][a-zA-Z0-9_]*: others become _. */
static void am_label(lo_jw_t *w, const char *name, const char *value)
{
    char k[260];
    size_t n = 0;
    for (const char *p = name; *p && n < sizeof k - 2; p++) {
        char c = *p;
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (n > 0 && c >= '0' && c <= '9');
        if (n == 0 && c >= '0' && c <= '9')
            k[n++] = '_';
        k[n++] = ok || (c >= '0' && c <= '9') ? c : '_';
    }
    k[n] = '\0';
    lo_jw_key(w, k, n);
    lo_jw_cstr(w, value);
}

static const char *cond_word(lo_alert_cond_t c)
{
    static const char *const words[] = { ">", ">=", "<", "<=", "==", "!=", "absent" };
    return words[c];
}

void lo_alert_am_body(const lo_alert_note_t *n, lo_buf_t *out)
{
    const lo_alert_rule_t *r = n->rule;
    lo_jw_t w;
    lo_buf_t link;
    char num[64], summary[400];
    lo_buf_init(&link, 0);
    lo_alert_link(r, n->public_url, n->resolved_at_us ? n->resolved_at_us : n->fired_at_us, &link);
    lo_buf_putc(&link, '\0');
    lo_jw_init(&w, out);
    lo_jw_arr_begin(&w);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "labels", 6);
    lo_jw_obj_begin(&w);
    /* group labels first: the rule's own names below win over a clash */
    json_t *g = json_loads(n->group_key, 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(g, k, v)
    {
        if (strcmp(k, "alertname") == 0 || strcmp(k, "severity") == 0 || strcmp(k, "project_id") == 0 ||
            strcmp(k, "lookout_rule_id") == 0)
            continue;
        char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        am_label(&w, k, s ? s : json_string_value(v));
        free(s);
    }
    json_decref(g);
    lo_jw_key(&w, "alertname", 9), lo_jw_cstr(&w, r->name);
    lo_jw_key(&w, "severity", 8), lo_jw_cstr(&w, r->severity);
    if (r->has_project)
        lo_jw_key(&w, "project_id", 10), lo_jw_cstr(&w, r->project_id);
    lo_jw_key(&w, "lookout_rule_id", 15), lo_jw_cstr(&w, n->rule_id);
    lo_jw_obj_end(&w);
    lo_jw_key(&w, "annotations", 11);
    lo_jw_obj_begin(&w);
    if (n->has_value)
        snprintf(num, sizeof num, "%.17g", n->value);
    else
        snprintf(num, sizeof num, "no data");
    if (r->cond == LO_ALERT_ABSENT)
        snprintf(summary, sizeof summary, "%.200s: no data in %llds", r->name, (long long)r->window_s);
    else
        snprintf(summary, sizeof summary, "%.200s: %s %s %.17g", r->name, num, cond_word(r->cond),
                 r->threshold);
    lo_jw_key(&w, "summary", 7), lo_jw_cstr(&w, summary);
    lo_jw_key(&w, "value", 5), lo_jw_cstr(&w, num);
    if (r->cond != LO_ALERT_ABSENT) {
        snprintf(num, sizeof num, "%.17g", r->threshold);
        lo_jw_key(&w, "threshold", 9), lo_jw_cstr(&w, num);
    }
    lo_jw_obj_end(&w);
    lo_jw_key(&w, "startsAt", 8), jw_time(&w, n->fired_at_us);
    lo_jw_key(&w, "endsAt", 6), jw_time(&w, n->ends_at_us);
    if (link.len > 0 && strncmp(link.p, "http", 4) == 0)
        lo_jw_key(&w, "generatorURL", 12), lo_jw_cstr(&w, link.p);
    lo_jw_obj_end(&w);
    lo_jw_arr_end(&w);
    lo_buf_free(&link);
}

void lo_alert_signature(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    static const char hex[] = "0123456789abcdef";
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &ml);
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < ml && i < 32; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[8 + 2 * i] = hex[mac[i] & 15];
    }
    out[7 + 2 * (ml < 32 ? ml : 32)] = '\0';
}

/* ---- the dispatcher ---- */

typedef struct {
    CURL *h;
    struct curl_slist *hdr;
    long status;
    char err[CURL_ERROR_SIZE];
    size_t read;
    double ms;
    bool done;
    CURLcode rc;
} send_t;

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    send_t *s = ud;
    (void)p;
    s->read += size * n;
    return s->read > MAX_REPLY_READ ? 0 : size * n;
}

static bool setup(send_t *s, const lo_alert_t *a, const char *id, const char *event, const char *url,
                  const char *secret, const char *body)
{
    char h[160];
    s->h = curl_easy_init();
    if (!s->h)
        return false;
    s->hdr = curl_slist_append(s->hdr, "Content-Type: application/json");
    snprintf(h, sizeof h, "X-Lookout-Delivery: %s", id);
    s->hdr = curl_slist_append(s->hdr, h);
    snprintf(h, sizeof h, "X-Lookout-Event: %s", event);
    s->hdr = curl_slist_append(s->hdr, h);
    if (secret) {
        char sig[72];
        lo_alert_signature(secret, body, strlen(body), sig);
        snprintf(h, sizeof h, "X-Lookout-Signature: %s", sig);
        s->hdr = curl_slist_append(s->hdr, h);
    }
    s->hdr = curl_slist_append(s->hdr, "Expect:");
    long timeout_ms = (long)a->cfg->alert_notify_timeout_seconds * 1000;
    curl_easy_setopt(s->h, CURLOPT_URL, url);
    curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(s->h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hdr);
    curl_easy_setopt(s->h, CURLOPT_USERAGENT, "lookout-alerts/1");
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->err);
    curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
    return true;
}

/* Sends every prepared request at once; returns when all are done. */
static void send_all(send_t *s, int n)
{
    CURLM *m = curl_multi_init();
    if (!m) {
        for (int i = 0; i < n; i++)
            snprintf(s[i].err, sizeof s[i].err, "out of memory");
        return;
    }
    for (int i = 0; i < n; i++)
        if (s[i].h)
            curl_multi_add_handle(m, s[i].h);
    int running = 1;
    while (running) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            send_t *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            x->done = true;
            x->rc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &x->status);
            double t = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME, &t);
            x->ms = t * 1000.0;
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 200, NULL);
    }
    for (int i = 0; i < n; i++)
        if (s[i].h)
            curl_multi_remove_handle(m, s[i].h);
    curl_multi_cleanup(m);
}

/* Records the outcome of s (row i of the claimed rows). */
static bool record(lo_alert_t *a, PGconn *db, const PGresult *due, int i, const send_t *s, char *err,
                   size_t errlen)
{
    const char *id = PQgetvalue(due, i, 0);
    int attempt = atoi(PQgetvalue(due, i, 6)) + 1;
    bool expired = PQgetvalue(due, i, 7)[0] == 't';
    bool ok = s->done && s->rc == CURLE_OK && s->status >= 200 && s->status < 300;
    /* a 4xx other than 408 and 429 will not get better by waiting */
    bool permanent = s->done && s->rc == CURLE_OK && s->status >= 400 && s->status < 500 &&
                     s->status != 408 && s->status != 429;
    char att[16], st[16], ms[32], backoff[24], e[CURL_ERROR_SIZE + 64];
    snprintf(att, sizeof att, "%d", attempt);
    snprintf(st, sizeof st, "%ld", s->status);
    snprintf(ms, sizeof ms, "%.3f", s->ms);
    int64_t b = attempt < 9 ? (1LL << (attempt - 1)) : MAX_BACKOFF_S;
    snprintf(backoff, sizeof backoff, "%lld", (long long)(b < MAX_BACKOFF_S ? b : MAX_BACKOFF_S));
    if (ok)
        e[0] = '\0';
    else if (!s->h)
        snprintf(e, sizeof e, "could not prepare the request");
    else if (s->rc != CURLE_OK)
        snprintf(e, sizeof e, "%s", s->err[0] ? s->err : curl_easy_strerror(s->rc));
    else
        snprintf(e, sizeof e, "HTTP %ld", s->status);
    const char *state = ok ? "sent" : (permanent || expired) ? "failed" : "pending";
    if (ok)
        lo_stat_add(&a->st.sent, 1);
    else if (state[0] == 'f')
        lo_stat_add(&a->st.failed, 1);
    else
        lo_stat_add(&a->st.retried, 1);
    if (!ok)
        lo_log_warn("alert notification not delivered", "notification=%s attempt=%d outcome=%s error=\"%s\"",
                    id, attempt, state, e);
    const char *v1[5] = { id, att, s->done && s->rc == CURLE_OK ? st : NULL, ok ? NULL : e, ms };
    PGresult *r = lo_store_exec(
        db,
        "INSERT INTO alert_deliveries (notification_id, attempt, http_status, error, duration_ms) "
        "VALUES ($1, $2, $3, $4, $5)",
        5, v1, err, errlen);
    if (!r)
        return false;
    PQclear(r);
    const char *v2[4] = { id, att, state, backoff };
    r = lo_store_exec(db,
                      "UPDATE alert_notifications SET attempts = $2, state = $3, "
                      "next_attempt_at = now() + $4::int8 * interval '1 second', "
                      "finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE now() END WHERE id = $1",
                      4, v2, err, errlen);
    PQclear(r);
    return r != NULL;
}

/* Alertmanager refreshes pile up while an alert fires (one a resend
 * interval): those finished more than a day ago are deleted now and then. */
static void prune_refreshes(PGconn *db)
{
    static _Atomic unsigned runs;
    if (atomic_fetch_add(&runs, 1) % PRUNE_EVERY != 0)
        return;
    PGresult *r = PQexec(db, "DELETE FROM alert_notifications WHERE kind = 'refresh' AND state <> 'pending' "
                             "AND finished_at < now() - interval '1 day'");
    PQclear(r);
}

int lo_alert_notify_task(PGconn *db, void *arg, char *err, size_t errlen)
{
    lo_alert_t *a = arg;
    char give_up[24];
    prune_refreshes(db);
    snprintf(give_up, sizeof give_up, "%lld", (long long)a->cfg->alert_notify_give_up_seconds);
    PGresult *b = PQexec(db, "BEGIN");
    if (PQresultStatus(b) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "%.300s", PQerrorMessage(db));
        PQclear(b);
        return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
    }
    PQclear(b);
    const char *v[1] = { give_up };
    PGresult *due =
        lo_store_exec(db,
                      "SELECT n.id, n.event_id, n.target_kind, n.url, n.secret, n.body, n.attempts, "
                      "n.created_at < now() - $1::int8 * interval '1 second' "
                      "FROM alert_notifications n WHERE n.state = 'pending' AND n.next_attempt_at <= now() "
                      "AND NOT EXISTS (SELECT 1 FROM alert_notifications o WHERE o.event_id = n.event_id "
                      "AND o.url = n.url AND o.state = 'pending' AND o.id < n.id) "
                      "ORDER BY n.id LIMIT 32 FOR UPDATE OF n SKIP LOCKED" /* BATCH */,
                      1, v, err, errlen);
    int n = due ? PQntuples(due) : 0;
    bool ok = due != NULL;
    if (n > 0) {
        send_t s[BATCH];
        memset(s, 0, sizeof s);
        for (int i = 0; i < n; i++)
            if (!setup(&s[i], a, PQgetvalue(due, i, 0), PQgetvalue(due, i, 1), PQgetvalue(due, i, 3),
                       PQgetisnull(due, i, 4) ? NULL : PQgetvalue(due, i, 4), PQgetvalue(due, i, 5))) {
                curl_easy_cleanup(s[i].h);
                s[i].h = NULL;
            }
        send_all(s, n);
        for (int i = 0; i < n; i++) {
            if (ok)
                ok = record(a, db, due, i, &s[i], err, errlen);
            curl_easy_cleanup(s[i].h);
            curl_slist_free_all(s[i].hdr);
        }
    }
    PQclear(due);
    PGresult *end = PQexec(db, ok ? "COMMIT" : "ROLLBACK");
    if (ok && PQresultStatus(end) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "%.300s", PQerrorMessage(db));
        ok = false;
    }
    PQclear(end);
    if (!ok)
        return PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
    return LO_OK;
}
