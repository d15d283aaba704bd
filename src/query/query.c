/*
 * query.c — routing of /api/observe/... to the query handlers, the scope
 * check, project visibility, and the small SQL/JSON helpers they share.
 *
 * Visibility (docs/query-api.md, docs/auth.md): an unbound token reads everything, including records
 * that carry no project (they were ingested by unbound tokens and belong to
 * nobody, so only unbound tokens may see them).  A token bound to projects
 * reads those projects and the public ones; naming any other project answers
 * 404, so a project's existence does not leak, and queries without
 * project_id are restricted to the readable set.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/ids.h"
#include "core/log.h"
#include "query/query.h"
#include "query/query_internal.h"

#define PREFIX "/api/observe/"

static bool bound_to(const lo_principal_t *p, const uint8_t project[16])
{
    if (p->n_projects == 0)
        return true;
    for (size_t i = 0; i < p->n_projects && i < LO_TOKEN_MAX_PROJECTS; i++)
        if (memcmp(p->projects[i], project, 16) == 0)
            return true;
    return false;
}

/* A bound on every statement of the request (the connection is pooled:
 * the setting stays, which suits the pool's other users too).  false when
 * resp already holds the error. */
static bool prelude(lo_api_req_t *req, lo_api_resp_t *resp)
{
    PGresult *t = lo_q_exec(req, resp, "SET statement_timeout = " LO_Q_STATEMENT_TIMEOUT_MS, 0, NULL);
    if (!t)
        return false;
    PQclear(t);
    return true;
}

static int h_logs(lo_api_req_t *req, lo_api_resp_t *resp)
{
    return prelude(req, resp) ? lo_q_logs(req, resp) : LO_OK;
}

static int h_traces(lo_api_req_t *req, lo_api_resp_t *resp)
{
    return prelude(req, resp) ? lo_q_traces(req, resp) : LO_OK;
}

static int h_trace(lo_api_req_t *req, lo_api_resp_t *resp)
{
    return prelude(req, resp) ? lo_q_trace(req, resp, lo_api_path_param(req, "trace_id")) : LO_OK;
}

static int h_metrics(lo_api_req_t *req, lo_api_resp_t *resp)
{
    return prelude(req, resp) ? lo_q_metrics(req, resp) : LO_OK;
}

static int h_names(lo_api_req_t *req, lo_api_resp_t *resp)
{
    return prelude(req, resp) ? lo_q_metric_names(req, resp) : LO_OK;
}

static int h_timeline(lo_api_req_t *req, lo_api_resp_t *resp)
{
    return prelude(req, resp) ? lo_q_timeline(req, resp, lo_api_path_param(req, "session_id")) : LO_OK;
}

#define READ LO_SCOPE_OBSERVE_READ
static const lo_api_route_t ROUTES[] = {
    { "GET", PREFIX "logs", READ, true, LO_ROUTE_JSON, h_logs, NULL },
    { "GET", PREFIX "traces", READ, true, LO_ROUTE_JSON, h_traces, NULL },
    { "GET", PREFIX "traces/{trace_id}", READ, true, LO_ROUTE_JSON, h_trace, NULL },
    { "GET", PREFIX "metrics", READ, true, LO_ROUTE_JSON, h_metrics, NULL },
    { "GET", PREFIX "metrics/names", READ, true, LO_ROUTE_JSON, h_names, NULL },
    { "GET", PREFIX "sessions/{session_id}/timeline", READ, true, LO_ROUTE_JSON, h_timeline, NULL },
};
#undef READ

int lo_query_routes(lo_api_routes_t *t)
{
    return lo_api_routes_add(t, ROUTES, LO_ARRAY_LEN(ROUTES));
}

int lo_query_handle(lo_api_req_t *req, lo_api_resp_t *resp)
{
    lo_api_routes_t t;
    lo_api_routes_init(&t);
    if (lo_query_routes(&t) != LO_OK)
        return LO_ERROR;
    const lo_api_route_t *r;
    char allow[64];
    lo_api_req_t probe = { 0 };
    if (lo_api_routes_match(&t, req->method ? req->method : "", req->path, &probe, &r, allow,
                            sizeof(allow)) == LO_DECLINED)
        return LO_DECLINED;
    return lo_api_routes_call(&t, req, resp);
}

/* ---- visibility ---- */

static void not_found_project(lo_api_resp_t *resp, const char *project_id)
{
    lo_api_error(resp, 404, "not_found", "project %s not found", project_id);
}

int lo_q_visibility(lo_api_req_t *req, lo_api_resp_t *resp, const char *project_id, lo_q_vis_t *vis)
{
    const lo_principal_t *who = req->who;
    vis->all = false;
    lo_buf_init(&vis->arr, 0);
    if (project_id) {
        uint8_t b[16];
        if (!lo_uuid_parse((lo_str_t){ project_id, strlen(project_id) }, b)) {
            lo_api_error(resp, 400, "invalid_parameter", "project_id must be a UUID");
            return LO_INVALID;
        }
        if (!bound_to(who, b)) {
            const char *vals[1] = { project_id };
            PGresult *r =
                lo_q_exec(req, resp, "SELECT 1 FROM projects WHERE id = $1::uuid AND public", 1, vals);
            if (!r)
                return LO_ERROR;
            bool pub = PQntuples(r) == 1;
            PQclear(r);
            if (!pub) {
                not_found_project(resp, project_id);
                return LO_NOT_FOUND;
            }
        }
        lo_buf_printf(&vis->arr, "{%s}", project_id);
    } else if (who->n_projects == 0) {
        vis->all = true;
        return LO_OK;
    } else {
        lo_buf_putc(&vis->arr, '{');
        for (size_t i = 0; i < who->n_projects && i < LO_TOKEN_MAX_PROJECTS; i++) {
            char t[37];
            lo_uuid_format(who->projects[i], t);
            lo_buf_printf(&vis->arr, "%s%s", i ? "," : "", t);
        }
        PGresult *r = lo_q_exec(req, resp, "SELECT id::text FROM projects WHERE public", 0, NULL);
        if (!r)
            return LO_ERROR;
        for (int i = 0; i < PQntuples(r); i++)
            lo_buf_printf(&vis->arr, ",%s", PQgetvalue(r, i, 0));
        PQclear(r);
        lo_buf_putc(&vis->arr, '}');
    }
    if (vis->arr.err != LO_OK) {
        lo_api_error(resp, 500, "internal", "out of memory");
        return LO_ERROR;
    }
    return LO_OK;
}

void lo_q_vis_free(lo_q_vis_t *vis)
{
    if (vis)
        lo_buf_free(&vis->arr);
}

/* ---- SQL ---- */

/* The answer for a statement that failed with r (NULL: never sent). */
static void exec_failed(lo_api_req_t *req, lo_api_resp_t *resp, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(req->db) != CONNECTION_OK) {
        req->db_broken = true;
        lo_api_error(resp, 503, "unavailable", "the database is unavailable; retry later");
    } else if (state && strcmp(state, "57014") == 0) {
        lo_api_error(resp, 503, "timeout", "the query took too long; narrow the time range or add filters");
    } else {
        /* the SQLSTATE only: PostgreSQL's message may quote stored values */
        lo_log_error("query failed", "sqlstate=%s", state ? state : "none");
        lo_api_error(resp, 500, "internal", "the query failed");
    }
}

PGresult *lo_q_exec(lo_api_req_t *req, lo_api_resp_t *resp, const char *sql, int n, const char *const *values)
{
    PGresult *r = PQexecParams(req->db, sql, n, NULL, values, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    exec_failed(req, resp, r);
    PQclear(r);
    return NULL;
}

int lo_q_stream(lo_api_req_t *req, lo_api_resp_t *resp, const char *sql, int n, const char *const *values,
                lo_q_row_fn row, void *ud)
{
    if (!PQsendQueryParams(req->db, sql, n, NULL, values, NULL, NULL, 0)) {
        exec_failed(req, resp, NULL);
        return LO_ERROR;
    }
    /* right after a send it cannot fail; if it did, rows would arrive whole */
    bool single = PQsetSingleRowMode(req->db) == 1, wanted = true, failed = !single;
    if (!single)
        lo_api_error(resp, 500, "internal", "the query failed");
    PGresult *r;
    while ((r = PQgetResult(req->db)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            if (wanted && !failed)
                wanted = row(ud, r);
        } else if (st != PGRES_TUPLES_OK && !failed) { /* TUPLES_OK: the end, no rows */
            exec_failed(req, resp, r);
            failed = true;
        }
        PQclear(r);
    }
    if (!failed && PQstatus(req->db) != CONNECTION_OK) {
        exec_failed(req, resp, NULL);
        failed = true;
    }
    return failed ? LO_ERROR : LO_OK;
}

void lo_q_sql_init(lo_q_sql_t *q, const char *head)
{
    q->len = 0;
    q->n = 0;
    q->overflow = false;
    q->sql[0] = '\0';
    lo_q_sql_add(q, head);
}

void lo_q_sql_add(lo_q_sql_t *q, const char *text)
{
    size_t n = strlen(text);
    if (q->len + n + 1 > sizeof q->sql) {
        q->overflow = true;
        return;
    }
    memcpy(q->sql + q->len, text, n + 1);
    q->len += n;
}

void lo_q_sql_bind(lo_q_sql_t *q, const char *fmt, const char *val)
{
    if (q->n >= (int)LO_ARRAY_LEN(q->vals)) {
        q->overflow = true;
        return;
    }
    q->vals[q->n++] = val;
    char num[16];
    snprintf(num, sizeof num, "$%d", q->n);
    for (const char *f = fmt; *f; f++) {
        if (f[0] == '$' && f[1] == '?') {
            lo_q_sql_add(q, num);
            f++;
        } else {
            char c[2] = { *f, 0 };
            lo_q_sql_add(q, c);
        }
    }
}

/* ---- JSON ---- */

int lo_q_finish(lo_api_resp_t *resp, lo_jw_t *w)
{
    int rc = lo_jw_status(w);
    if (rc == LO_OK) {
        resp->status = 200;
        return LO_OK;
    }
    lo_buf_reset(&resp->body);
    if (rc == LO_TOO_LARGE)
        lo_api_error(resp, 400, "response_too_large",
                     "the answer exceeds the response size limit; lower limit or narrow the query");
    else
        lo_api_error(resp, 500, "internal", "could not write the answer");
    return LO_OK;
}

void lo_q_jw_text(lo_jw_t *w, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        lo_jw_null(w);
    else
        lo_jw_str(w, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

void lo_q_jw_text_array(lo_jw_t *w, const PGresult *r, int row, int col)
{
    const char *p = PQgetvalue(r, row, col);
    if (PQgetisnull(r, row, col) || *p != '{') {
        lo_jw_null(w);
        return;
    }
    lo_jw_arr_begin(w);
    p++;
    char item[1024];
    while (*p && *p != '}') {
        size_t n = 0;
        bool quoted = *p == '"';
        if (quoted) {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (n < sizeof item)
                    item[n++] = *p;
            }
            if (*p == '"')
                p++;
        } else {
            for (; *p && *p != ',' && *p != '}'; p++)
                if (n < sizeof item)
                    item[n++] = *p;
        }
        if (!quoted && n == 4 && memcmp(item, "NULL", 4) == 0)
            lo_jw_null(w);
        else
            lo_jw_str(w, item, n);
        if (*p == ',')
            p++;
    }
    lo_jw_arr_end(w);
}

void lo_q_jw_json(lo_jw_t *w, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        lo_jw_null(w);
    else
        lo_jw_raw(w, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

int64_t lo_q_i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void lo_q_jw_time(lo_jw_t *w, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) {
        lo_jw_null(w);
        return;
    }
    char t[32];
    lo_q_fmt_time(lo_q_i64(r, row, col), t);
    lo_jw_cstr(w, t);
}
