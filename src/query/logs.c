/*
 * logs.c — GET /api/observe/logs: log search, newest first, with paging.
 *
 * q is a case-insensitive substring match (ILIKE with the pattern's
 * metacharacters escaped), served by the trigram index of 002_query.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/log_entry.h"
#include "query/query_internal.h"
#include "store/columns.h"

static const char *const LOG_PARAMS[] = { "project_id", "session_id", "trace_id", "level",  "service", "q",
                                          "from",       "to",         "limit",    "offset", "fields",  NULL };

#define SHORT_Q_MAX_RANGE_US (3600LL * 1000000)

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* level: a comma-separated list of up to 8 level names ([a-z0-9_.-], 1-32
 * characters each, any case) into a quoted array literal.  A usual
 * spelling ("warning", "err", "critical") adds its level ("warn", "error",
 * "fatal") as well as itself, which rows stored before spellings were
 * mapped at ingest may hold. */
int lo_q_parse_levels(const char *v, char *out, size_t cap)
{
    size_t o = 0;
    int count = 0;
    out[o++] = '{';
    for (const char *p = v;;) {
        size_t k = strcspn(p, ",");
        char word[33];
        if (k == 0 || k > 32 || ++count > 8 || o + 2 * (k + 3) + 2 >= cap)
            return LO_INVALID;
        for (size_t i = 0; i < k; i++) {
            char c = p[i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
                return LO_INVALID;
            word[i] = c;
        }
        word[k] = '\0';
        const char *alias = lo_level_alias(word, k);
        o += (size_t)snprintf(out + o, cap - o, "%s\"%s\"", o > 1 ? "," : "", word);
        if (alias != NULL && strcmp(alias, word) != 0)
            o += (size_t)snprintf(out + o, cap - o, ",\"%s\"", alias);
        if (p[k] == '\0')
            break;
        p += k + 1;
    }
    out[o++] = '}';
    out[o] = '\0';
    return LO_OK;
}

/* Appends spec's filters (from "WHERE ") to s.  *pattern receives the
 * LIKE pattern bound for q (the caller frees it).  false: out of memory,
 * answered. */
static bool logs_where(lo_q_sql_t *s, lo_api_resp_t *resp, const lo_log_spec_t *spec, const lo_q_vis_t *vis,
                       char from_s[32], char to_s[32], char **pattern)
{
    *pattern = NULL;
    lo_q_fmt_time(spec->from_us, from_s);
    lo_q_fmt_time(spec->to_us, to_s);
    lo_q_sql_bind(s, " WHERE time >= $?::timestamptz", from_s);
    lo_q_sql_bind(s, " AND time < $?::timestamptz", to_s);
    if (!vis->all)
        lo_q_sql_bind(s, " AND project_id = ANY($?::uuid[])", vis->arr.p);
    if (spec->session)
        lo_q_sql_bind(s, " AND session_id = $?::uuid", spec->session);
    if (spec->trace)
        lo_q_sql_bind(s, " AND trace_id = decode($?, 'hex')", spec->trace);
    if (spec->levels)
        lo_q_sql_bind(s, " AND level = ANY($?::text[])", spec->levels);
    if (spec->service)
        lo_q_sql_bind(s, " AND service = $?", spec->service);
    if (spec->q) {
        *pattern = malloc(strlen(spec->q) * 2 + 3);
        if (!*pattern) {
            lo_api_error(resp, 500, "internal", "out of memory");
            return false;
        }
        (*pattern)[0] = '%';
        lo_q_like_escape(spec->q, *pattern + 1);
        strcat(*pattern, "%");
        lo_q_sql_bind(s, " AND message ILIKE $?", *pattern);
    }
    return true;
}

static int logs_stream(lo_api_req_t *req, lo_api_resp_t *resp, lo_q_sql_t *s, char *pattern, lo_q_row_fn row,
                       void *ud)
{
    int rc;
    if (s->overflow) {
        lo_api_error(resp, 500, "internal", "query too long");
        rc = LO_ERROR;
    } else {
        rc = lo_q_stream(req, resp, s->sql, s->n, s->vals, row, ud);
    }
    free(pattern);
    return rc;
}

/* The hot tier's newest newest matches' times (Unix microseconds), in the
 * query's snapshot: cold rows older than all of them are not read. */
static int hot_seed(lo_api_req_t *req, lo_api_resp_t *resp, const lo_log_spec_t *spec, const lo_q_vis_t *vis,
                    int64_t newest, int64_t **seed, size_t *n_seed)
{
    char from_s[32], to_s[32], lim_s[24];
    char *pattern;
    *seed = NULL;
    *n_seed = 0;
    snprintf(lim_s, sizeof lim_s, "%lld", (long long)newest);
    lo_q_sql_t s;
    lo_q_sql_init(&s, "SELECT (extract(epoch FROM time) * 1000000)::int8 FROM log_entries");
    if (!logs_where(&s, resp, spec, vis, from_s, to_s, &pattern))
        return LO_ERROR;
    lo_q_sql_bind(&s, " ORDER BY time DESC LIMIT $?", lim_s);
    PGresult *r = s.overflow ? NULL : lo_q_exec(req, resp, s.sql, s.n, s.vals);
    free(pattern);
    if (r == NULL) {
        if (s.overflow)
            lo_api_error(resp, 500, "internal", "query too long");
        return LO_ERROR;
    }
    int n = PQntuples(r);
    if (n > 0 && (*seed = malloc((size_t)n * sizeof **seed)) == NULL) {
        PQclear(r);
        lo_api_error(resp, 500, "internal", "out of memory");
        return LO_ERROR;
    }
    for (int i = 0; i < n; i++)
        (*seed)[i] = lo_q_i64(r, i, 0);
    *n_seed = (size_t)n;
    PQclear(r);
    return LO_OK;
}

/* Loads the cold rows spec may match (newest > 0: only the newest that
 * many are needed, and the hot tier's newest bound what is read). */
static int logs_tier(lo_api_req_t *req, lo_api_resp_t *resp, const lo_log_spec_t *spec, const lo_q_vis_t *vis,
                     int64_t newest, lo_q_tier_t *t)
{
    lo_cold_filter_t f = { .from_us = spec->from_us,
                           .to_us = spec->to_us,
                           .projects = vis->all ? NULL : vis->arr.p,
                           .service = spec->service,
                           .session = spec->session,
                           .trace = spec->trace,
                           .levels = spec->levels,
                           .q = spec->q,
                           .newest = newest };
    int64_t *seed = NULL;
    bool any;
    lo_q_tier_init(t);
    if (lo_q_tier_any(req, resp, t, LO_SIGNAL_LOGS, &f, &any) != LO_OK)
        return LO_ERROR;
    if (!any)
        return LO_OK; /* the hot table alone: no seed to read */
    if (newest > 0 && hot_seed(req, resp, spec, vis, newest, &seed, &f.n_seed) != LO_OK)
        return LO_ERROR;
    f.seed = seed;
    int rc = lo_q_tier_load(req, resp, t, LO_SIGNAL_LOGS, &f);
    free(seed);
    return rc;
}

static int logs_end(lo_api_req_t *req, const lo_log_spec_t *spec, lo_q_tier_t *t, int rc)
{
    lo_q_tier_end(req, t);
    lo_q_tier_merge(spec->cold, &t->report);
    return rc;
}

int lo_q_logs_run(lo_api_req_t *req, lo_api_resp_t *resp, const lo_log_spec_t *spec, const lo_q_vis_t *vis,
                  lo_q_row_fn row, void *ud)
{
    char from_s[32], to_s[32], lim_s[24], off_s[24];
    char *pattern;
    lo_q_tier_t t;
    snprintf(lim_s, sizeof lim_s, "%lld", (long long)spec->limit + 1);
    snprintf(off_s, sizeof off_s, "%lld", (long long)spec->offset);
    if (logs_tier(req, resp, spec, vis, spec->offset + spec->limit + 1, &t) != LO_OK)
        return logs_end(req, spec, &t, LO_ERROR);
    lo_q_sql_t s;
    lo_q_sql_init(&s, "SELECT ");
    lo_q_sql_add(&s, lo_columns_select(LO_SIGNAL_LOGS));
    lo_q_sql_add(&s, " FROM ");
    lo_q_sql_add(&s, lo_q_tier_from(&t, LO_SIGNAL_LOGS));
    if (!logs_where(&s, resp, spec, vis, from_s, to_s, &pattern))
        return logs_end(req, spec, &t, LO_ERROR);
    lo_q_sql_bind(&s, " ORDER BY time DESC, id DESC LIMIT $?", lim_s);
    lo_q_sql_bind(&s, " OFFSET $?", off_s);
    return logs_end(req, spec, &t, logs_stream(req, resp, &s, pattern, row, ud));
}

int lo_q_logs_count(lo_api_req_t *req, lo_api_resp_t *resp, const lo_log_spec_t *spec, const lo_q_vis_t *vis,
                    bool by_service, lo_q_row_fn row, void *ud)
{
    char from_s[32], to_s[32];
    char *pattern;
    lo_q_tier_t t;
    if (logs_tier(req, resp, spec, vis, 0, &t) != LO_OK)
        return logs_end(req, spec, &t, LO_ERROR);
    lo_q_sql_t s;
    lo_q_sql_init(&s, by_service ? "SELECT service, count(*) FROM " : "SELECT NULL, count(*) FROM ");
    lo_q_sql_add(&s, lo_q_tier_from(&t, LO_SIGNAL_LOGS));
    if (!logs_where(&s, resp, spec, vis, from_s, to_s, &pattern))
        return logs_end(req, spec, &t, LO_ERROR);
    if (by_service)
        lo_q_sql_add(&s, " GROUP BY service ORDER BY service LIMIT 10001");
    return logs_end(req, spec, &t, logs_stream(req, resp, &s, pattern, row, ud));
}

/* ---- GET /api/observe/logs: parameters in, JSON out ---- */

/* Reads the request into spec (pointing into the request and the given
 * buffers); LO_OK, or LO_INVALID with the 400 written. */
static int parse_spec(lo_api_req_t *req, lo_api_resp_t *resp, lo_log_spec_t *spec, char project[37],
                      bool *has_project, char session[37], char trace[33], char levels[400])
{
    bool has_session;
    const char *level, *trace_v;
    *spec = (lo_log_spec_t){ 0 };
    if (lo_q_check_params(req, resp, LOG_PARAMS) != LO_OK ||
        lo_q_uuid(req, resp, "project_id", project, has_project) != LO_OK ||
        lo_q_uuid(req, resp, "session_id", session, &has_session) != LO_OK ||
        lo_q_str(req, resp, "level", 1, 300, &level) != LO_OK ||
        lo_q_str(req, resp, "service", 1, 256, &spec->service) != LO_OK ||
        lo_q_str(req, resp, "q", 1, 1000, &spec->q) != LO_OK ||
        lo_q_range(req, resp, &spec->from_us, &spec->to_us) != LO_OK ||
        lo_q_int(req, resp, "limit", 1, 1000, 100, &spec->limit) != LO_OK ||
        lo_q_int(req, resp, "offset", 0, 100000, 0, &spec->offset) != LO_OK)
        return LO_INVALID;
    spec->session = has_session ? session : NULL;
    trace_v = lo_api_param(req, "trace_id", NULL);
    if (trace_v && lo_q_parse_hex_id(trace_v, 16, trace) != LO_OK) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "trace_id must be 32 hexadecimal characters, not all zero");
        return LO_INVALID;
    }
    spec->trace = trace_v ? trace : NULL;
    if (level && lo_q_parse_levels(level, levels, 400) != LO_OK) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "level must be a level name (trace, debug, info, warn, error, fatal, unspecified) or a "
                     "comma-separated list of up to 8");
        return LO_INVALID;
    }
    spec->levels = level ? levels : NULL;
    /* The trigram index serves 3+ characters; a shorter q is a scan of
     * every message in the range, so the range is bounded (docs/query-api.md). */
    if (spec->q && utf8_chars(spec->q) < 3 && spec->to_us - spec->from_us > SHORT_Q_MAX_RANGE_US &&
        !spec->session && !spec->trace) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "q shorter than 3 characters searches at most 1 hour (narrow from/to, add session_id or "
                     "trace_id, or lengthen q)");
        return LO_INVALID;
    }
    return LO_OK;
}

/* Renders rows into a JSON array as they arrive; the row past limit only
 * says there is more. */
typedef struct {
    lo_jw_t w;
    int64_t n, limit;
    bool more;
    lo_log_fields_t fields;
} page_t;

static bool page_row(void *ud, const PGresult *r)
{
    page_t *p = ud;
    if (p->n == p->limit) {
        p->more = true;
        return false;
    }
    p->n++;
    lo_log_view_t v;
    lo_log_view_from_row(&v, r, 0);
    lo_log_entry_write_fields(&p->w, &v, p->fields);
    return lo_jw_status(&p->w) == LO_OK;
}

int lo_q_logs(lo_api_req_t *req, lo_api_resp_t *resp)
{
    char project[37], session[37], trace[33], levels[400], from_s[32], to_s[32];
    bool has_project;
    lo_log_spec_t spec;
    lo_q_vis_t vis = { 0 };

    if (parse_spec(req, resp, &spec, project, &has_project, session, trace, levels) != LO_OK)
        return LO_OK;
    const char *fields_v;
    lo_log_fields_t fields = LO_LOG_FIELDS_ALL;
    if (lo_q_str(req, resp, "fields", 1, 1000, &fields_v) != LO_OK)
        return LO_OK;
    if (fields_v && lo_log_fields_parse(fields_v, &fields) != LO_OK)
        return lo_api_error(
            resp, 400, "invalid_parameter",
            "fields must list the entry's fields to return (time,level,message) or to leave out "
            "(-resource,-attributes), not both");
    if (lo_q_visibility(req, resp, has_project ? project : NULL, &vis) != LO_OK)
        goto cleanup;

    lo_cold_report_t cold = { 0 };
    spec.cold = &cold;
    page_t p = { .limit = spec.limit, .fields = fields };
    lo_jw_init(&p.w, &resp->body);
    lo_jw_obj_begin(&p.w);
    lo_jw_key(&p.w, "logs", 4);
    lo_jw_arr_begin(&p.w);
    if (lo_q_logs_run(req, resp, &spec, &vis, page_row, &p) != LO_OK)
        goto cleanup;
    lo_q_fmt_time(spec.from_us, from_s);
    lo_q_fmt_time(spec.to_us, to_s);
    lo_jw_arr_end(&p.w);
    lo_jw_key(&p.w, "has_more", 8), lo_jw_bool(&p.w, p.more);
    lo_jw_key(&p.w, "limit", 5), lo_jw_i64(&p.w, spec.limit);
    lo_jw_key(&p.w, "offset", 6), lo_jw_i64(&p.w, spec.offset);
    lo_jw_key(&p.w, "from", 4), lo_jw_cstr(&p.w, from_s);
    lo_jw_key(&p.w, "to", 2), lo_jw_cstr(&p.w, to_s);
    lo_q_tier_report(&p.w, &cold);
    lo_jw_obj_end(&p.w);
    (void)lo_q_finish(resp, &p.w);

cleanup:
    lo_q_vis_free(&vis);
    return LO_OK;
}
