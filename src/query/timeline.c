/*
 * timeline.c — GET /api/observe/sessions/{session_id}/timeline: every log
 * and span of a session in time order, each tagged "log" or "span".
 *
 * Paging is by cursor, not offset, so that long sessions page in constant
 * time: the order is (time, kind, key) with key the log id or the span id,
 * and next_cursor is "<unix_us>_<l|s>_<key>" of the last item returned.
 * A session with nothing the caller may read answers 404.
 */
#include <stdio.h>
#include <stdlib.h>

#include "query/query_internal.h"
#include "store/columns.h"

static const char *const TIMELINE_PARAMS[] = { "limit", "cursor", NULL };

/* Over the FROM items of log_entries and spans: $1 session, $2 visible projects (NULL: all), $3 cursor time
 * (NULL: from the start), $4 cursor kind, $5 cursor key, $6 limit + 1. */
static const char TIMELINE_SQL_FMT[] =
    "(SELECT 'log' AS kind, (extract(epoch FROM time) * 1000000)::int8 AS t, id::text AS k, service, "
    "  encode(trace_id, 'hex'), encode(span_id, 'hex'), project_id, user_id, level, message, attributes, "
    "  NULL::text AS name, NULL::int8 AS dur, NULL::int2 AS st, NULL::int2 AS sk, NULL::text AS parent, "
    "NULL::text AS smsg "
    " FROM %s WHERE session_id = $1::uuid AND ($2::uuid[] IS NULL OR project_id = ANY($2::uuid[])) "
    "  AND ($3::timestamptz IS NULL OR (time >= $3::timestamptz AND (time, 'log'::text, id::text) > "
    "($3::timestamptz, $4::text, $5::text))) "
    " ORDER BY time, id::text LIMIT $6::int8) "
    "UNION ALL "
    "(SELECT 'span', (extract(epoch FROM start_time) * 1000000)::int8, encode(span_id, 'hex'), service, "
    "  encode(trace_id, 'hex'), encode(span_id, 'hex'), project_id, user_id, NULL, NULL, attributes, "
    "  name, duration_ns, status_code, kind, encode(parent_span_id, 'hex'), status_message "
    " FROM %s WHERE session_id = $1::uuid AND ($2::uuid[] IS NULL OR project_id = ANY($2::uuid[])) "
    "  AND ($3::timestamptz IS NULL OR (start_time >= $3::timestamptz "
    "       AND (start_time, 'span'::text, encode(span_id, 'hex')) > ($3::timestamptz, $4::text, $5::text))) "
    " ORDER BY start_time, encode(span_id, 'hex') LIMIT $6::int8) "
    "ORDER BY t, kind, k LIMIT $6::int8";

/* "<unix_us>_<l|s>_<key>": key a UUID (logs) or 16 hex digits (spans). */
static int parse_cursor(const char *c, int64_t *t_us, const char **kind, char key[40])
{
    char *end;
    if (!(c[0] >= '0' && c[0] <= '9'))
        return LO_INVALID;
    long long t = strtoll(c, &end, 10);
    if (end - c > 17 || end[0] != '_' || (end[1] != 'l' && end[1] != 's') || end[2] != '_')
        return LO_INVALID;
    *t_us = t;
    *kind = end[1] == 'l' ? "log" : "span";
    if (end[1] == 'l')
        return lo_q_parse_uuid(end + 3, key);
    return lo_q_parse_hex_id(end + 3, 8, key);
}

int lo_q_timeline(lo_api_req_t *req, lo_api_resp_t *resp, const char *session_id)
{
    char session[37], key[40], cur_t[32], lim_s[24], next[96] = "";
    const char *kind = NULL, *cursor;
    int64_t limit, cur_us = 0;
    lo_q_vis_t vis = { 0 };
    PGresult *r = NULL;
    int rc = LO_OK;
    lo_q_tier_t tier;
    lo_q_tier_init(&tier);

    if (lo_q_parse_uuid(session_id, session) != LO_OK) {
        lo_api_error(
            resp, 400, "invalid_parameter",
            "the session id in the path must be a UUID such as 123e4567-e89b-12d3-a456-426614174000");
        return LO_OK;
    }
    if (lo_q_check_params(req, resp, TIMELINE_PARAMS) != LO_OK ||
        lo_q_int(req, resp, "limit", 1, 1000, 100, &limit) != LO_OK ||
        lo_q_str(req, resp, "cursor", 1, 80, &cursor) != LO_OK)
        return LO_OK;
    if (cursor && parse_cursor(cursor, &cur_us, &kind, key) != LO_OK) {
        lo_api_error(
            resp, 400, "invalid_parameter",
            "cursor is not one this API returned; pass next_cursor from the previous page unchanged");
        return LO_OK;
    }
    if (lo_q_visibility(req, resp, NULL, &vis) != LO_OK)
        goto cleanup;
    if (cursor)
        lo_q_fmt_time(cur_us, cur_t);
    snprintf(lim_s, sizeof lim_s, "%lld", (long long)limit + 1);
    const char *vals[6] = { session, vis.all ? NULL : vis.arr.p, cursor ? cur_t : NULL,
                            kind,    cursor ? key : NULL,        lim_s };
    /* a session has no time range here: the catalog's sessions and the
     * bloom filters of session_id prune */
    lo_cold_filter_t f = {
        .from_us = cursor ? cur_us : INT64_MIN, .to_us = INT64_MAX, .projects = vals[1], .session = session
    };
    if (lo_q_tier_load(req, resp, &tier, LO_SIGNAL_LOGS, &f) != LO_OK ||
        lo_q_tier_load(req, resp, &tier, LO_SIGNAL_SPANS, &f) != LO_OK)
        goto cleanup;
    char sql[sizeof(TIMELINE_SQL_FMT) + 400];
    snprintf(sql, sizeof sql, TIMELINE_SQL_FMT, lo_q_tier_from(&tier, LO_SIGNAL_LOGS),
             lo_q_tier_from(&tier, LO_SIGNAL_SPANS));
    r = lo_q_exec(req, resp, sql, 6, vals);
    lo_q_tier_end(req, &tier);
    if (!r)
        goto cleanup;
    int rows = PQntuples(r);
    if (rows == 0 && !cursor) {
        lo_api_error(resp, 404, "not_found", "session %s not found", session);
        goto cleanup;
    }
    bool more = rows > limit;
    if (more)
        rows = (int)limit;

    lo_jw_t w;
    lo_jw_init(&w, &resp->body);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "session_id", 10), lo_jw_cstr(&w, session);
    lo_jw_key(&w, "items", 5);
    lo_jw_arr_begin(&w);
    for (int i = 0; i < rows; i++) {
        bool is_log = PQgetvalue(r, i, 0)[0] == 'l';
        int64_t t = lo_q_i64(r, i, 1);
        lo_jw_obj_begin(&w);
        lo_jw_key(&w, "kind", 4), lo_jw_cstr(&w, is_log ? "log" : "span");
        lo_jw_key(&w, "time", 4), lo_q_jw_time(&w, r, i, 1);
        lo_jw_key(&w, "time_unix_ms", 12), lo_jw_i64(&w, t / 1000);
        lo_jw_key(&w, is_log ? "id" : "span_id", is_log ? 2 : 7), lo_q_jw_text(&w, r, i, 2);
        lo_jw_key(&w, "service", 7), lo_q_jw_text(&w, r, i, 3);
        lo_jw_key(&w, "trace_id", 8), lo_q_jw_text(&w, r, i, 4);
        if (is_log) {
            lo_jw_key(&w, "span_id", 7), lo_q_jw_text(&w, r, i, 5);
        }
        lo_jw_key(&w, "project_id", 10), lo_q_jw_text(&w, r, i, 6);
        lo_jw_key(&w, "user_id", 7), lo_q_jw_text(&w, r, i, 7);
        if (is_log) {
            lo_jw_key(&w, "level", 5), lo_q_jw_text(&w, r, i, 8);
            lo_jw_key(&w, "message", 7), lo_q_jw_text(&w, r, i, 9);
        } else {
            int64_t st = lo_q_i64(r, i, 13), sk = lo_q_i64(r, i, 14);
            char nb[24];
            lo_jw_key(&w, "name", 4), lo_q_jw_text(&w, r, i, 11);
            lo_jw_key(&w, "duration_ns", 11), lo_jw_i64(&w, lo_q_i64(r, i, 12));
            lo_jw_key(&w, "status", 6), lo_jw_cstr(&w, lo_span_status_name(st, nb));
            lo_jw_key(&w, "status_message", 14), lo_q_jw_text(&w, r, i, 16);
            lo_jw_key(&w, "span_kind", 9), lo_jw_cstr(&w, lo_span_kind_name(sk, nb));
            lo_jw_key(&w, "parent_span_id", 14), lo_q_jw_text(&w, r, i, 15);
        }
        lo_jw_key(&w, "attributes", 10), lo_q_jw_json(&w, r, i, 10);
        lo_jw_obj_end(&w);
        if (i == rows - 1)
            snprintf(next, sizeof next, "%lld_%c_%s", (long long)t, is_log ? 'l' : 's', PQgetvalue(r, i, 2));
    }
    lo_jw_arr_end(&w);
    lo_jw_key(&w, "next_cursor", 11);
    if (more)
        lo_jw_cstr(&w, next);
    else
        lo_jw_null(&w);
    lo_q_tier_report(&w, &tier.report);
    lo_jw_obj_end(&w);
    rc = lo_q_finish(resp, &w);

cleanup:
    lo_q_tier_end(req, &tier);
    PQclear(r);
    lo_q_vis_free(&vis);
    return rc;
}
