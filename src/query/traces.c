/*
 * traces.c — GET /api/observe/traces (trace summaries, newest first) and
 * GET /api/observe/traces/{trace_id} (the whole trace as a span tree).
 *
 * The tree: a span whose parent is in the trace is nested under it; a span
 * whose parent never arrived (or that would close a cycle) is a root flagged
 * "orphan".  Children are ordered by start time.  Spans stored twice (an
 * exporter's retry) are shown once.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "query/query_internal.h"
#include "store/columns.h"

#define MAX_TRACE_SPANS 10000
#define MAX_NEST        100 /* deeper descendants are listed flat under their ancestor at this depth */

static const char *const TRACES_PARAMS[] = { "project_id",   "session_id",   "service", "status", "span_name",
                                             "min_duration", "max_duration", "attr.*",  "from",   "to",
                                             "limit",        "offset",       NULL };

#define MAX_ATTR_FILTERS 16
static const char *const TRACE_PARAMS[] = { "project_id", NULL };

int lo_q_traces_run(lo_api_req_t *req, lo_api_resp_t *resp, const lo_trace_spec_t *spec,
                    const lo_q_vis_t *vis, lo_q_row_fn row, void *ud)
{
    char from_s[32], to_s[32], lim_s[24], off_s[24], status_s[12], min_s[24], max_s[24];
    lo_q_fmt_time(spec->from_us, from_s);
    lo_q_fmt_time(spec->to_us, to_s);
    snprintf(lim_s, sizeof lim_s, "%lld", (long long)spec->limit + 1);
    snprintf(off_s, sizeof off_s, "%lld", (long long)spec->offset);
    snprintf(status_s, sizeof status_s, "%d", spec->status);
    snprintf(min_s, sizeof min_s, "%lld", (long long)spec->min_duration_ns);
    snprintf(max_s, sizeof max_s, "%lld", (long long)spec->max_duration_ns);
    bool by_span =
        spec->span_name || spec->min_duration_ns > 0 || spec->max_duration_ns < INT64_MAX || spec->attrs;
    lo_q_tier_t tier;
    lo_q_tier_init(&tier);
    int rc;

    /* the select list in the order of LO_TRACE_*; trace summaries stay in
     * PostgreSQL when their spans rotate (docs/cold-store.md, "Queries") */
    lo_q_sql_t s;
    lo_q_sql_init(&s, "SELECT encode(t.trace_id, 'hex'), (extract(epoch FROM t.start_time) * 1000000)::int8, "
                      "(extract(epoch FROM t.end_time) * 1000000)::int8, t.root_span_name, t.service, "
                      "t.status_code, t.span_count, t.error_count, t.project_id, t.session_id, t.user_id, "
                      "coalesce(t.services, ARRAY[t.service]), ");
    if (by_span) {
        /* the spans that meet the span conditions, per trace, from both tiers */
        lo_cold_filter_t f = { .from_us = spec->from_us,
                               .to_us = spec->to_us,
                               .projects = vis->all ? NULL : vis->arr.p };
        if ((rc = lo_q_tier_load(req, resp, &tier, LO_SIGNAL_SPANS, &f)) != LO_OK)
            goto out;
        lo_q_sql_add(&s,
                     "m.matched FROM traces t JOIN (SELECT trace_id, project_id, count(*) AS matched FROM ");
        lo_q_sql_add(&s, lo_q_tier_from(&tier, LO_SIGNAL_SPANS));
        lo_q_sql_bind(&s, " WHERE start_time >= $?::timestamptz", from_s);
        lo_q_sql_bind(&s, " AND start_time < $?::timestamptz", to_s);
        if (!vis->all)
            lo_q_sql_bind(&s, " AND project_id = ANY($?::uuid[])", vis->arr.p);
        if (spec->span_name)
            lo_q_sql_bind(&s, " AND name = $?", spec->span_name);
        if (spec->min_duration_ns > 0)
            lo_q_sql_bind(&s, " AND duration_ns >= $?::int8", min_s);
        if (spec->max_duration_ns < INT64_MAX)
            lo_q_sql_bind(&s, " AND duration_ns <= $?::int8", max_s);
        if (spec->attrs)
            lo_q_sql_bind(&s,
                          " AND NOT EXISTS (SELECT 1 FROM jsonb_each_text($?::jsonb) a WHERE "
                          "(attributes ->> a.key) IS DISTINCT FROM a.value)",
                          spec->attrs);
        lo_q_sql_add(&s,
                     " GROUP BY trace_id, project_id) m ON m.trace_id = t.trace_id AND m.project_id IS NOT "
                     "DISTINCT FROM t.project_id WHERE ");
    } else {
        lo_q_sql_add(&s, "t.span_count FROM traces t WHERE ");
    }
    lo_q_sql_bind(&s, "t.start_time >= $?::timestamptz", from_s);
    lo_q_sql_bind(&s, " AND t.start_time < $?::timestamptz", to_s);
    if (!vis->all)
        lo_q_sql_bind(&s, " AND t.project_id = ANY($?::uuid[])", vis->arr.p);
    if (spec->session)
        lo_q_sql_bind(&s, " AND t.session_id = $?::uuid", spec->session);
    if (spec->service)
        lo_q_sql_bind(&s, " AND $? = ANY(coalesce(t.services, ARRAY[t.service]))", spec->service);
    if (spec->status >= 0)
        lo_q_sql_bind(&s, " AND t.status_code = $?::int2", status_s);
    lo_q_sql_bind(&s, " ORDER BY t.start_time DESC, t.trace_id DESC LIMIT $?", lim_s);
    lo_q_sql_bind(&s, " OFFSET $?", off_s);
    if (s.overflow) {
        lo_api_error(resp, 500, "internal", "query too long");
        rc = LO_ERROR;
        goto out;
    }
    rc = lo_q_stream(req, resp, s.sql, s.n, s.vals, row, ud);
out:
    lo_q_tier_end(req, &tier);
    return rc;
}

/* ---- GET /api/observe/traces: parameters in, JSON out ---- */

typedef struct {
    lo_jw_t w;
    int64_t n, limit;
    bool more;
} page_t;

static bool trace_row(void *ud, const PGresult *r)
{
    page_t *p = ud;
    lo_jw_t *w = &p->w;
    if (p->n == p->limit) {
        p->more = true;
        return false;
    }
    p->n++;
    int64_t st = lo_q_i64(r, 0, LO_TRACE_START), en = lo_q_i64(r, 0, LO_TRACE_END);
    lo_jw_obj_begin(w);
    lo_jw_key(w, "trace_id", 8), lo_q_jw_text(w, r, 0, LO_TRACE_ID);
    lo_jw_key(w, "root_span_name", 14), lo_q_jw_text(w, r, 0, LO_TRACE_ROOT_NAME);
    lo_jw_key(w, "service", 7), lo_q_jw_text(w, r, 0, LO_TRACE_SERVICE);
    lo_jw_key(w, "start", 5), lo_q_jw_time(w, r, 0, LO_TRACE_START);
    lo_jw_key(w, "start_unix_ms", 13), lo_jw_i64(w, st / 1000);
    lo_jw_key(w, "end", 3), lo_q_jw_time(w, r, 0, LO_TRACE_END);
    lo_jw_key(w, "duration_ns", 11), lo_jw_i64(w, (en - st) * 1000);
    char nb[24];
    lo_jw_key(w, "status", 6), lo_jw_cstr(w, lo_span_status_name(lo_q_i64(r, 0, LO_TRACE_STATUS), nb));
    lo_jw_key(w, "span_count", 10), lo_jw_i64(w, lo_q_i64(r, 0, LO_TRACE_SPAN_COUNT));
    lo_jw_key(w, "error_count", 11), lo_jw_i64(w, lo_q_i64(r, 0, LO_TRACE_ERROR_COUNT));
    lo_jw_key(w, "project_id", 10), lo_q_jw_text(w, r, 0, LO_TRACE_PROJECT_ID);
    lo_jw_key(w, "session_id", 10), lo_q_jw_text(w, r, 0, LO_TRACE_SESSION_ID);
    lo_jw_key(w, "user_id", 7), lo_q_jw_text(w, r, 0, LO_TRACE_USER_ID);
    lo_jw_key(w, "services", 8);
    lo_q_jw_text_array(w, r, 0, LO_TRACE_SERVICES);
    lo_jw_key(w, "matched_span_count", 18), lo_jw_i64(w, lo_q_i64(r, 0, LO_TRACE_MATCHED_SPANS));
    lo_jw_obj_end(w);
    return lo_jw_status(w) == LO_OK;
}

/* A duration: a number with a unit (ns, us, ms, s, m, h; "1.5s", "250ms"),
 * or a bare number of milliseconds, into nanoseconds.  LO_OK or LO_INVALID. */
static int parse_duration(const char *v, int64_t *ns)
{
    char *end;
    double x = strtod(v, &end);
    if (end == v || !isfinite(x) || x < 0 || v[0] == '-' || v[0] == '+' ||
        (v[0] != '.' && !isdigit((unsigned char)v[0])))
        return LO_INVALID;
    static const struct {
        const char *unit;
        double ns;
    } units[] = { { "ns", 1 },   { "us", 1e3 },   { "ms", 1e6 }, { "s", 1e9 },
                  { "m", 60e9 }, { "h", 3600e9 }, { "", 1e6 } };
    for (size_t i = 0; i < LO_ARRAY_LEN(units); i++)
        if (strcmp(end, units[i].unit) == 0) {
            double d = x * units[i].ns;
            if (d > 9.2e18)
                return LO_INVALID;
            *ns = (int64_t)d;
            return LO_OK;
        }
    return LO_INVALID;
}

/* attr.KEY=VALUE parameters into a JSON object of the values as text. */
typedef struct {
    lo_jw_t w;
    int n;
    bool dup;
} attrs_t;

static void attr_param(void *ud, const char *k, const char *v)
{
    attrs_t *a = ud;
    if (v == NULL || strncmp(k, "attr.", 5) != 0)
        return;
    if (++a->n > MAX_ATTR_FILTERS)
        return;
    lo_jw_key(&a->w, k + 5, strlen(k + 5));
    lo_jw_str(&a->w, v, strlen(v));
}

int lo_q_traces(lo_api_req_t *req, lo_api_resp_t *resp)
{
    char project[37], session[37], from_s[32], to_s[32];
    bool has_project, has_session;
    lo_trace_spec_t spec = { 0 };
    lo_q_vis_t vis = { 0 };
    const char *min_v, *max_v;
    lo_buf_t attrs;
    lo_buf_init(&attrs, 0);

    if (lo_q_check_params(req, resp, TRACES_PARAMS) != LO_OK ||
        lo_q_uuid(req, resp, "project_id", project, &has_project) != LO_OK ||
        lo_q_uuid(req, resp, "session_id", session, &has_session) != LO_OK ||
        lo_q_str(req, resp, "service", 1, 256, &spec.service) != LO_OK ||
        lo_q_enum(req, resp, "status", lo_span_status_names, &spec.status) != LO_OK ||
        lo_q_range(req, resp, &spec.from_us, &spec.to_us) != LO_OK ||
        lo_q_int(req, resp, "limit", 1, 1000, 100, &spec.limit) != LO_OK ||
        lo_q_int(req, resp, "offset", 0, 100000, 0, &spec.offset) != LO_OK ||
        lo_q_str(req, resp, "span_name", 1, 1024, &spec.span_name) != LO_OK ||
        lo_q_str(req, resp, "min_duration", 1, 32, &min_v) != LO_OK ||
        lo_q_str(req, resp, "max_duration", 1, 32, &max_v) != LO_OK)
        return LO_OK;
    spec.session = has_session ? session : NULL;
    spec.max_duration_ns = INT64_MAX;
    if ((min_v && parse_duration(min_v, &spec.min_duration_ns) != LO_OK) ||
        (max_v && parse_duration(max_v, &spec.max_duration_ns) != LO_OK)) {
        lo_api_error(
            resp, 400, "invalid_parameter",
            "min_duration and max_duration are a span's duration: a number with a unit (ns, us, ms, s, "
            "m, h), such as 250ms or 1.5s, or a number of milliseconds");
        return LO_OK;
    }
    attrs_t at = { .n = 0 };
    lo_buf_init(&attrs, 64 * 1024);
    lo_jw_init(&at.w, &attrs);
    lo_jw_obj_begin(&at.w);
    lo_api_params_each(req, attr_param, &at);
    lo_jw_obj_end(&at.w);
    if (at.n > MAX_ATTR_FILTERS || lo_jw_status(&at.w) != LO_OK) {
        lo_api_error(resp, 400, "invalid_parameter", "at most %d attr.KEY=VALUE conditions",
                     MAX_ATTR_FILTERS);
        goto cleanup;
    }
    if (at.n > 0) {
        lo_buf_putc(&attrs, '\0');
        spec.attrs = attrs.p;
    }
    if (lo_q_visibility(req, resp, has_project ? project : NULL, &vis) != LO_OK)
        goto cleanup;

    page_t p = { .limit = spec.limit };
    lo_jw_init(&p.w, &resp->body);
    lo_jw_obj_begin(&p.w);
    lo_jw_key(&p.w, "traces", 6);
    lo_jw_arr_begin(&p.w);
    if (lo_q_traces_run(req, resp, &spec, &vis, trace_row, &p) != LO_OK)
        goto cleanup;
    lo_q_fmt_time(spec.from_us, from_s);
    lo_q_fmt_time(spec.to_us, to_s);
    lo_jw_arr_end(&p.w);
    lo_jw_key(&p.w, "has_more", 8), lo_jw_bool(&p.w, p.more);
    lo_jw_key(&p.w, "limit", 5), lo_jw_i64(&p.w, spec.limit);
    lo_jw_key(&p.w, "offset", 6), lo_jw_i64(&p.w, spec.offset);
    lo_jw_key(&p.w, "from", 4), lo_jw_cstr(&p.w, from_s);
    lo_jw_key(&p.w, "to", 2), lo_jw_cstr(&p.w, to_s);
    lo_jw_obj_end(&p.w);
    (void)lo_q_finish(resp, &p.w);

cleanup:
    lo_buf_free(&attrs);
    lo_q_vis_free(&vis);
    return LO_OK;
}

/* ---- one trace ---- */

/* The spans of one trace, every column of store/columns.h (result column
 * i is lo_span_col_t i), for the projects the caller may read. */
static void trace_sql(char *out, size_t n, const char *spans)
{
    snprintf(out, n,
             "SELECT %s FROM %s WHERE trace_id = decode($1, 'hex') AND ($2::uuid[] IS NULL OR "
             "project_id = ANY($2::uuid[])) ORDER BY start_time, span_id LIMIT 10001",
             lo_columns_select(LO_SIGNAL_SPANS), spans);
}

typedef struct {
    int row; /* row in the result */
    int first_child, next_sibling, parent;
    int depth;
    bool orphan, shown;
} node_t;

typedef struct {
    const PGresult *r;
    node_t *nodes;
    int n;
    int64_t trace_start_us;
} tree_t;

static int cmp_span_row(const void *a, const void *b, void *ud)
{
    const PGresult *r = ud;
    const node_t *x = a, *y = b;
    int c = strcmp(PQgetvalue(r, x->row, LO_SPAN_SPAN_ID), PQgetvalue(r, y->row, LO_SPAN_SPAN_ID));
    return c ? c : (x->row - y->row);
}

static void write_span(lo_jw_t *w, tree_t *t, int idx);

static void write_children(lo_jw_t *w, tree_t *t, int idx)
{
    lo_jw_key(w, "children", 8);
    lo_jw_arr_begin(w);
    if (t->nodes[idx].depth < MAX_NEST) {
        for (int c = t->nodes[idx].first_child; c >= 0; c = t->nodes[c].next_sibling)
            write_span(w, t, c);
    }
    lo_jw_arr_end(w);
}

static void write_span(lo_jw_t *w, tree_t *t, int idx)
{
    node_t *nd = &t->nodes[idx];
    const PGresult *r = t->r;
    int i = nd->row;
    nd->shown = true;
    int64_t st = lo_q_i64(r, i, LO_SPAN_START_TIME);
    int64_t kind = lo_q_i64(r, i, LO_SPAN_KIND);
    lo_jw_obj_begin(w);
    lo_jw_key(w, "span_id", 7), lo_q_jw_text(w, r, i, LO_SPAN_SPAN_ID);
    lo_jw_key(w, "parent_span_id", 14), lo_q_jw_text(w, r, i, LO_SPAN_PARENT_SPAN_ID);
    lo_jw_key(w, "name", 4), lo_q_jw_text(w, r, i, LO_SPAN_NAME);
    lo_jw_key(w, "service", 7), lo_q_jw_text(w, r, i, LO_SPAN_SERVICE);
    char nb[24];
    lo_jw_key(w, "kind", 4), lo_jw_cstr(w, lo_span_kind_name(kind, nb));
    lo_jw_key(w, "status", 6), lo_jw_cstr(w, lo_span_status_name(lo_q_i64(r, i, LO_SPAN_STATUS_CODE), nb));
    lo_jw_key(w, "status_message", 14), lo_q_jw_text(w, r, i, LO_SPAN_STATUS_MESSAGE);
    lo_jw_key(w, "start", 5), lo_q_jw_time(w, r, i, LO_SPAN_START_TIME);
    lo_jw_key(w, "start_unix_ms", 13), lo_jw_i64(w, st / 1000);
    lo_jw_key(w, "end", 3), lo_q_jw_time(w, r, i, LO_SPAN_END_TIME);
    lo_jw_key(w, "duration_ns", 11), lo_jw_i64(w, lo_q_i64(r, i, LO_SPAN_DURATION_NS));
    lo_jw_key(w, "offset_ns", 9), lo_jw_i64(w, (st - t->trace_start_us) * 1000);
    lo_jw_key(w, "depth", 5), lo_jw_i64(w, nd->depth);
    lo_jw_key(w, "orphan", 6), lo_jw_bool(w, nd->orphan);
    lo_jw_key(w, "attributes", 10), lo_q_jw_json(w, r, i, LO_SPAN_ATTRIBUTES);
    lo_jw_key(w, "events", 6), lo_q_jw_json(w, r, i, LO_SPAN_EVENTS);
    lo_jw_key(w, "links", 5), lo_q_jw_json(w, r, i, LO_SPAN_LINKS);
    lo_jw_key(w, "resource", 8), lo_q_jw_json(w, r, i, LO_SPAN_RESOURCE);
    lo_jw_key(w, "project_id", 10), lo_q_jw_text(w, r, i, LO_SPAN_PROJECT_ID);
    lo_jw_key(w, "session_id", 10), lo_q_jw_text(w, r, i, LO_SPAN_SESSION_ID);
    lo_jw_key(w, "user_id", 7), lo_q_jw_text(w, r, i, LO_SPAN_USER_ID);
    lo_jw_key(w, "scope_name", 10), lo_q_jw_text(w, r, i, LO_SPAN_SCOPE_NAME);
    lo_jw_key(w, "scope_version", 13), lo_q_jw_text(w, r, i, LO_SPAN_SCOPE_VERSION);
    lo_jw_key(w, "flags", 5), lo_jw_i64(w, lo_q_i64(r, i, LO_SPAN_FLAGS));
    lo_jw_key(w, "trace_state", 11), lo_q_jw_text(w, r, i, LO_SPAN_TRACE_STATE);
    lo_jw_key(w, "dropped_attributes_count", 24),
        lo_jw_i64(w, lo_q_i64(r, i, LO_SPAN_DROPPED_ATTRIBUTES_COUNT));
    lo_jw_key(w, "dropped_events_count", 20), lo_jw_i64(w, lo_q_i64(r, i, LO_SPAN_DROPPED_EVENTS_COUNT));
    lo_jw_key(w, "dropped_links_count", 19), lo_jw_i64(w, lo_q_i64(r, i, LO_SPAN_DROPPED_LINKS_COUNT));
    write_children(w, t, idx);
    lo_jw_obj_end(w);
}

/* Links spans to parents; returns the node count (duplicates dropped). */
static int build_tree(tree_t *t, int rows)
{
    const PGresult *r = t->r;
    node_t *sorted = malloc(sizeof(node_t) * (size_t)(rows ? rows : 1));
    if (!sorted)
        return -1;
    for (int i = 0; i < rows; i++)
        sorted[i] = (node_t){ .row = i };
    qsort_r(sorted, (size_t)rows, sizeof(node_t), cmp_span_row, (void *)r);
    /* keep the first row of each span id (rows are in start order) */
    bool *dup = calloc((size_t)(rows ? rows : 1), sizeof(bool));
    int *row_of = malloc(sizeof(int) * (size_t)(rows ? rows : 1)); /* sorted unique span -> row */
    if (!dup || !row_of) {
        free(sorted);
        free(dup);
        free(row_of);
        return -1;
    }
    int uniq = 0;
    for (int i = 0; i < rows; i++) {
        if (i > 0 && strcmp(PQgetvalue(r, sorted[i].row, LO_SPAN_SPAN_ID),
                            PQgetvalue(r, sorted[i - 1].row, LO_SPAN_SPAN_ID)) == 0)
            dup[sorted[i].row] = true;
        else
            row_of[uniq++] = sorted[i].row;
    }
    /* nodes in row (= start) order, skipping duplicates */
    int *node_of_row = malloc(sizeof(int) * (size_t)(rows ? rows : 1));
    int n = 0;
    if (!node_of_row) {
        n = -1;
        goto cleanup;
    }
    for (int i = 0; i < rows; i++) {
        node_of_row[i] = -1;
        if (dup[i])
            continue;
        node_of_row[i] = n;
        t->nodes[n++] = (node_t){ .row = i, .first_child = -1, .next_sibling = -1, .parent = -1 };
    }
    /* parents, by binary search over the sorted unique span ids */
    for (int k = 0; k < n; k++) {
        int i = t->nodes[k].row;
        if (PQgetisnull(r, i, LO_SPAN_PARENT_SPAN_ID) || PQgetlength(r, i, LO_SPAN_PARENT_SPAN_ID) == 0)
            continue;
        const char *want = PQgetvalue(r, i, LO_SPAN_PARENT_SPAN_ID);
        int lo = 0, hi = uniq - 1, found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) / 2;
            int c = strcmp(PQgetvalue(r, row_of[mid], LO_SPAN_SPAN_ID), want);
            if (c == 0) {
                found = row_of[mid];
                break;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        if (found < 0 || node_of_row[found] == k)
            t->nodes[k].orphan = true;
        else
            t->nodes[k].parent = node_of_row[found];
    }
    /* break cycles: walk up from each node; a walk longer than n is a loop */
    for (int k = 0; k < n; k++) {
        int p = t->nodes[k].parent, steps = 0;
        while (p >= 0 && steps <= n) {
            if (p == k) {
                t->nodes[k].parent = -1;
                t->nodes[k].orphan = true;
                break;
            }
            p = t->nodes[p].parent;
            steps++;
        }
    }
    /* children lists in start order: append from the back */
    for (int k = n - 1; k >= 0; k--) {
        int p = t->nodes[k].parent;
        if (p < 0)
            continue;
        t->nodes[k].next_sibling = t->nodes[p].first_child;
        t->nodes[p].first_child = k;
    }
cleanup:
    free(sorted);
    free(dup);
    free(row_of);
    free(node_of_row);
    return n;
}

static void set_depths(tree_t *t, int idx, int depth)
{
    /* iterative: explicit stack of node indices */
    int *stack = malloc(sizeof(int) * (size_t)t->n);
    if (!stack)
        return;
    int sp = 0;
    t->nodes[idx].depth = depth;
    stack[sp++] = idx;
    while (sp > 0) {
        int k = stack[--sp];
        for (int c = t->nodes[k].first_child; c >= 0; c = t->nodes[c].next_sibling) {
            t->nodes[c].depth = t->nodes[k].depth + 1;
            if (sp < t->n)
                stack[sp++] = c;
        }
    }
    free(stack);
}

int lo_q_trace(lo_api_req_t *req, lo_api_resp_t *resp, const char *trace_id)
{
    char trace[33], project[37];
    bool has_project;
    PGresult *r = NULL;
    lo_q_vis_t vis = { 0 };
    tree_t t = { 0 };
    int rc = LO_OK;
    lo_q_tier_t tier;
    lo_q_tier_init(&tier);

    if (lo_q_parse_hex_id(trace_id, 16, trace) != LO_OK) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "the trace id in the path must be 32 hexadecimal characters, "
                     "not all zero");
        return LO_OK;
    }
    if (lo_q_check_params(req, resp, TRACE_PARAMS) != LO_OK ||
        lo_q_uuid(req, resp, "project_id", project, &has_project) != LO_OK)
        return LO_OK;
    /* a trace id may be shared by projects: each reads only its own spans */
    if (lo_q_visibility(req, resp, has_project ? project : NULL, &vis) != LO_OK)
        goto cleanup;
    const char *vals[2] = { trace, vis.all ? NULL : vis.arr.p };
    /* a trace has no time range here: the catalog cannot prune, the bloom
     * filters of trace_id do */
    lo_cold_filter_t f = { .from_us = INT64_MIN, .to_us = INT64_MAX, .projects = vals[1], .trace = trace };
    if (lo_q_tier_load(req, resp, &tier, LO_SIGNAL_SPANS, &f) != LO_OK)
        goto cleanup;
    char sql[2800];
    trace_sql(sql, sizeof(sql), lo_q_tier_from(&tier, LO_SIGNAL_SPANS));
    r = lo_q_exec(req, resp, sql, 2, vals);
    lo_q_tier_end(req, &tier);
    if (!r)
        goto cleanup;
    int rows = PQntuples(r);
    if (rows == 0) {
        lo_api_error(resp, 404, "not_found", "trace %s not found", trace);
        goto cleanup;
    }
    bool truncated = rows > MAX_TRACE_SPANS;
    if (truncated)
        rows = MAX_TRACE_SPANS;
    t.r = r;
    t.nodes = calloc((size_t)rows, sizeof(node_t));
    if (!t.nodes || (t.n = build_tree(&t, rows)) < 0) {
        lo_api_error(resp, 500, "internal", "out of memory");
        goto cleanup;
    }
    int64_t start = INT64_MAX, end = INT64_MIN;
    int errors = 0;
    for (int k = 0; k < t.n; k++) {
        int i = t.nodes[k].row;
        int64_t s = lo_q_i64(r, i, LO_SPAN_START_TIME), e = lo_q_i64(r, i, LO_SPAN_END_TIME);
        start = s < start ? s : start;
        end = e > end ? e : end;
        errors += lo_q_i64(r, i, LO_SPAN_STATUS_CODE) == 2;
    }
    t.trace_start_us = start;
    int root = -1, orphans = 0;
    for (int k = 0; k < t.n; k++) {
        if (t.nodes[k].parent >= 0)
            continue;
        set_depths(&t, k, 0);
        if (!t.nodes[k].orphan && root < 0)
            root = k;
        orphans += t.nodes[k].orphan;
    }

    lo_jw_t w;
    lo_jw_init(&w, &resp->body);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "trace_id", 8), lo_jw_cstr(&w, trace);
    lo_jw_key(&w, "root_span_name", 14);
    if (root >= 0)
        lo_q_jw_text(&w, r, t.nodes[root].row, LO_SPAN_NAME);
    else
        lo_jw_null(&w);
    lo_jw_key(&w, "service", 7);
    lo_q_jw_text(&w, r, t.nodes[root >= 0 ? root : 0].row, LO_SPAN_SERVICE);
    char ts[32];
    lo_q_fmt_time(start, ts);
    lo_jw_key(&w, "start", 5), lo_jw_cstr(&w, ts);
    lo_jw_key(&w, "start_unix_ms", 13), lo_jw_i64(&w, start / 1000);
    lo_q_fmt_time(end, ts);
    lo_jw_key(&w, "end", 3), lo_jw_cstr(&w, ts);
    lo_jw_key(&w, "duration_ns", 11), lo_jw_i64(&w, (end - start) * 1000);
    lo_jw_key(&w, "span_count", 10), lo_jw_i64(&w, t.n);
    lo_jw_key(&w, "error_count", 11), lo_jw_i64(&w, errors);
    lo_jw_key(&w, "orphan_count", 12), lo_jw_i64(&w, orphans);
    lo_jw_key(&w, "truncated", 9), lo_jw_bool(&w, truncated);
    lo_jw_key(&w, "spans", 5);
    lo_jw_arr_begin(&w);
    for (int k = 0; k < t.n; k++)
        if (t.nodes[k].parent < 0)
            write_span(&w, &t, k);
    /* spans below MAX_NEST were not written nested: list them at the top level */
    for (int k = 0; k < t.n; k++)
        if (!t.nodes[k].shown)
            write_span(&w, &t, k);
    lo_jw_arr_end(&w);
    lo_q_tier_report(&w, &tier.report);
    lo_jw_obj_end(&w);
    rc = lo_q_finish(resp, &w);

cleanup:
    lo_q_tier_end(req, &tier);
    free(t.nodes);
    PQclear(r);
    lo_q_vis_free(&vis);
    return rc;
}
