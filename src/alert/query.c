/*
 * query.c — a rule's query evaluated through the query API's executors
 * (query/exec.h): a metric aggregation over the window as one step that
 * starts at now - window, or a count of matching log entries.  One group
 * per output series (metric group_by) or per service (log group_by).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_internal.h"
#include "query/exec.h"

void lo_alert_result_free(lo_alert_result_t *res)
{
    for (size_t i = 0; i < res->n; i++)
        free(res->g[i].key);
    free(res->g);
    memset(res, 0, sizeof(*res));
}

static bool push(lo_alert_result_t *res, const char *key, size_t len, double v)
{
    if (res->n == LO_ALERT_MAX_GROUPS)
        return false;
    if (res->n == res->cap) {
        size_t cap = res->cap ? res->cap * 2 : 8;
        lo_alert_group_t *g = realloc(res->g, cap * sizeof(*g));
        if (!g)
            return false;
        res->g = g;
        res->cap = cap;
    }
    char *k = strndup(key, len);
    if (!k)
        return false;
    res->g[res->n++] = (lo_alert_group_t){ k, v };
    return true;
}

bool lo_alert_holds(const lo_alert_rule_t *r, bool has_value, double value)
{
    if (r->cond == LO_ALERT_ABSENT)
        return !has_value;
    return has_value && lo_alert_cond_holds(r->cond, value, r->threshold);
}

/* ---- metrics: a sink keeping each output series' one point ---- */

typedef struct {
    lo_alert_result_t *res;
    bool grouped;
    const char *labels;
    size_t len;
    bool has;
    double v;
    bool overflow;
} msink_t;

static void ms_begin(void *ud, const char *type, const char *unit)
{
    (void)ud, (void)type, (void)unit;
}

static void ms_series(void *ud, const char *labels, size_t len, int members)
{
    msink_t *m = ud;
    (void)members;
    m->labels = m->grouped ? labels : "{}";
    m->len = m->grouped ? len : 2;
    m->has = false;
}

static void ms_point(void *ud, int64_t ts_ms, double v)
{
    msink_t *m = ud;
    (void)ts_ms;
    if (isfinite(v)) {
        m->has = true;
        m->v = v;
    }
}

static void ms_end(void *ud)
{
    msink_t *m = ud;
    if (m->has && !push(m->res, m->labels, m->len, m->v))
        m->overflow = true;
}

/* ---- logs: rows (service or NULL, count) ---- */

typedef struct {
    lo_alert_result_t *res;
    bool overflow;
} lsink_t;

static bool log_row(void *ud, const PGresult *r)
{
    lsink_t *l = ud;
    double n = strtod(PQgetvalue(r, 0, 1), NULL);
    if (PQgetisnull(r, 0, 0)) {
        l->overflow |= !push(l->res, "{}", 2, n);
        return !l->overflow;
    }
    json_t *o = json_pack("{s:s}", "service", PQgetvalue(r, 0, 0));
    char *k = o ? json_dumps(o, JSON_COMPACT) : NULL;
    l->overflow |= !k || !push(l->res, k, strlen(k), n);
    free(k);
    json_decref(o);
    return !l->overflow;
}

/* The message of an error answer the executors wrote. */
static void error_text(const lo_api_resp_t *resp, char *err, size_t errlen)
{
    json_t *j = resp->body.p ? json_loadb(resp->body.p, resp->body.len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    snprintf(err, errlen, "%s", m ? m : "the query failed");
    json_decref(j);
}

int lo_alert_query(PGconn *db, const lo_alert_rule_t *r, int64_t now_us, lo_alert_result_t *out, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof(*out));
    static const lo_principal_t nobody;
    lo_api_req_t req = { .method = "POST", .path = "", .who = &nobody, .db = db };
    lo_api_resp_t resp = { 0 };
    lo_buf_init(&resp.body, 0);
    lo_q_vis_t vis = { .all = !r->has_project };
    lo_buf_init(&vis.arr, 0);
    if (r->has_project)
        lo_buf_printf(&vis.arr, "{%s}", r->project_id);
    int64_t from_us = now_us - r->window_s * 1000000;
    int rc;
    bool overflow;
    if (r->is_log) {
        lo_log_spec_t spec = { .from_us = from_us,
                               .to_us = now_us,
                               .session = r->has_session ? r->session : NULL,
                               .levels = r->has_levels ? r->levels : NULL,
                               .service = r->service,
                               .q = r->q };
        lsink_t l = { out, false };
        rc = lo_q_logs_count(&req, &resp, &spec, &vis, r->n_group_keys > 0, log_row, &l);
        overflow = l.overflow;
    } else {
        lo_metric_spec_t spec = { .name = r->metric,
                                  .labels = r->labels,
                                  .group_by = r->n_group_keys ? r->group_by.p : NULL,
                                  .agg = r->agg,
                                  .q = r->quantile,
                                  .merge = r->n_group_keys == 0,
                                  .align_from = true,
                                  .from_us = from_us,
                                  .to_us = now_us,
                                  .step_s = r->window_s };
        msink_t m = { .res = out, .grouped = r->n_group_keys > 0 };
        lo_metric_sink_t sink = { &m, ms_begin, ms_series, ms_point, ms_end, NULL, NULL, NULL, NULL };
        rc = lo_q_metric_run(&req, &resp, &spec, &vis, &sink);
        overflow = m.overflow;
    }
    if (rc != LO_OK) {
        error_text(&resp, err, errlen);
    } else if (overflow) {
        snprintf(err, errlen,
                 "the query has more than %d groups (or memory ran out); narrow it with labels or "
                 "fewer group_by keys",
                 LO_ALERT_MAX_GROUPS);
        rc = LO_ERROR;
    }
    if (rc != LO_OK)
        lo_alert_result_free(out);
    /* a log count without groups is one row even when nothing matched:
     * for absent, no entries is no data */
    if (rc == LO_OK && r->is_log && r->cond == LO_ALERT_ABSENT && out->n == 1 && out->g[0].value == 0)
        lo_alert_result_free(out);
    lo_buf_free(&resp.body);
    lo_buf_free(&vis.arr);
    return rc == LO_OK ? LO_OK : LO_ERROR;
}
