/*
 * metric_query.c — GET /api/observe/metrics (time series) and
 * GET /api/observe/metrics/names (the catalogue).
 *
 * Series matching: name, labels (jsonb containment: each given pair must be
 * equal, with its JSON type: 200 and "200" differ), project visibility.
 * Output: one series per distinct label set (group=labels, the default),
 * or everything matched merged into one (group=none).  Points are
 * [unix_ms, value] at multiples of step (bucket start), only where data is.
 *
 * Aggregations, per output series and step:
 *  - gauge/sum: avg (mean of all samples), sum (sum over the series of each
 *    series' mean in the step), min, max, count (samples);
 *  - rate / increase (sums): per underlying series, the increase between
 *    consecutive samples, where a value that went down or a later
 *    start_time is a counter reset (the new value counts from 0); a
 *    series' first sample counts in full only when the counter started
 *    inside the range.  Increases are attributed to the step of the later
 *    sample and summed over the series; rate = increase / step seconds.
 *    Delta sums are increases already.  The previous sample is looked up
 *    one lookback (max(step, 5 min)) before from.
 *  - histograms (explicit and exponential, the latter read as explicit
 *    buckets): p50|p90|p95|p99 interpolated linearly inside the bucket
 *    that holds the rank (the first bucket starts at 0, or is the point at
 *    its own bound when that is not positive; the +Inf bucket answers
 *    its lower bound), from the bucket counts observed in the step
 *    (cumulative counts differenced like counters) merged over the series;
 *    count (observations), sum, avg (sum / count), min, max.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "query/query_internal.h"

#define MAX_SERIES       10000
#define MAX_LABELS_BYTES 4096
#define MAX_LABEL_PAIRS  32
#define MAX_BOUNDS       512
#define MAX_HIST_CELLS   (16 * 1024 * 1024) /* points x buckets held at once */
#define MAX_TOTAL_POINTS 1000000            /* points x output series in one answer */
#define MAX_HIST_SAMPLES 1000000            /* histogram samples read for one answer */

static const char *const METRIC_PARAMS[] = { "name",    "labels", "project_id", "from",     "to",
                                             "step",    "agg",    "group",      "group_by", "resource",
                                             "service", "type",   "exemplars",  NULL };
static const char *const TYPE_PARAM[] = { "gauge",   "sum", "histogram", "exponential_histogram",
                                          "summary", NULL };
static const char *const NAMES_PARAMS[] = { "project_id", "prefix", "limit", NULL };
static const char *const BOOL_PARAM[] = { "false", "true", NULL };

/* The exemplars of the matched series ($1) in [$2, $3), newest first, one
 * more than the answer takes (so it can say there were more); %s is the
 * samples' relation (both tiers), %d the limit. */
static const char EXEMPLARS_SQL[] =
    "SELECT (jsonb_build_object('series_id', s.series_id, 'labels', m.labels) || e)::text "
    "FROM %s s JOIN metric_series m ON m.series_id = s.series_id, jsonb_array_elements(s.exemplars) e "
    "WHERE s.series_id = ANY($1::int8[]) AND s.time >= $2::timestamptz AND s.time < $3::timestamptz "
    "AND s.exemplars IS NOT NULL AND jsonb_typeof(s.exemplars) = 'array' "
    "ORDER BY s.time DESC, s.series_id, (e->>'time_unix_nano') DESC LIMIT %d";

enum {
    A_AVG,
    A_SUM,
    A_MIN,
    A_MAX,
    A_COUNT,
    A_RATE,
    A_INCREASE,
    A_P50,
    A_P90,
    A_P95,
    A_P99,
    A_PCT,
    A_BUCKETS
};
const char *const lo_metric_agg_names[] = { "avg",      "sum", "min", "max", "count", "rate",
                                            "increase", "p50", "p90", "p95", "p99",   NULL };
#define AGG_NAMES lo_metric_agg_names
static const double AGG_Q[] = { 0, 0, 0, 0, 0, 0, 0, 0.50, 0.90, 0.95, 0.99 };

/* The agg as the caller wrote it (specs built in process may leave
 * agg_name empty). */
static const char *agg_label(const lo_metric_spec_t *spec)
{
    if (spec->agg_name[0] != '\0')
        return spec->agg_name;
    return spec->agg >= 0 && spec->agg < A_PCT ? AGG_NAMES[spec->agg] : "a percentile";
}

int lo_metric_agg_parse(const char *s, lo_metric_spec_t *spec)
{
    for (int i = 0; AGG_NAMES[i]; i++) {
        if (strcasecmp(AGG_NAMES[i], s) == 0) {
            spec->agg = i;
            spec->q = i >= A_P50 ? AGG_Q[i] : 0;
            snprintf(spec->agg_name, sizeof spec->agg_name, "%s", AGG_NAMES[i]);
            return LO_OK;
        }
    }
    if (strcasecmp(s, "buckets") == 0) {
        spec->agg = A_BUCKETS;
        spec->q = 0;
        snprintf(spec->agg_name, sizeof spec->agg_name, "buckets");
        return LO_OK;
    }
    /* pNN(.N{1,3}): whole digits 1-2, fraction digits 0-3, strictly inside (0, 100) */
    if (s[0] != 'p' && s[0] != 'P')
        return LO_INVALID;
    const char *p = s + 1;
    size_t whole = strspn(p, "0123456789"), frac = 0;
    if (whole < 1 || whole > 2)
        return LO_INVALID;
    if (p[whole] == '.') {
        frac = strspn(p + whole + 1, "0123456789");
        if (frac < 1 || frac > 3 || p[whole + 1 + frac] != '\0')
            return LO_INVALID;
    } else if (p[whole] != '\0') {
        return LO_INVALID;
    }
    double pct = strtod(p, NULL);
    if (!(pct > 0 && pct < 100))
        return LO_INVALID;
    spec->agg = A_PCT;
    spec->q = pct / 100.0;
    snprintf(spec->agg_name, sizeof spec->agg_name, "p%s", p);
    return LO_OK;
}
static const char *const GROUP_NAMES[] = { "labels", "none", NULL };
static const char *const TYPE_NAMES[] = { "unknown", "gauge", "sum", "histogram", "exponential_histogram",
                                          "summary" };

/* Division rounding towards minus infinity (times before the origin). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static const char *type_name(int t)
{
    return t >= 1 && t <= 5 ? TYPE_NAMES[t] : TYPE_NAMES[0];
}

/* labels: a JSON object of at most 32 scalar pairs in at most 4 KiB. */
static int check_labels(lo_api_resp_t *resp, const char *param, const char *v)
{
    size_t n = strlen(v);
    if (n > MAX_LABELS_BYTES) {
        lo_api_error(resp, 400, "invalid_parameter", "%s is %zu bytes; at most %d are accepted", param, n,
                     MAX_LABELS_BYTES);
        return LO_INVALID;
    }
    json_error_t e;
    json_t *j = json_loadb(v, n, JSON_REJECT_DUPLICATES, &e);
    int rc = LO_INVALID;
    if (!j || !json_is_object(j)) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "%s must be a JSON object of exact matches, such as {\"http.method\":\"GET\"}", param);
        goto cleanup;
    }
    if (json_object_size(j) > MAX_LABEL_PAIRS) {
        lo_api_error(resp, 400, "invalid_parameter", "%s has %zu pairs; at most %d are accepted", param,
                     json_object_size(j), MAX_LABEL_PAIRS);
        goto cleanup;
    }
    const char *k;
    json_t *val;
    json_object_foreach(j, k, val)
    {
        if (!json_is_string(val) && !json_is_number(val) && !json_is_boolean(val)) {
            lo_api_error(resp, 400, "invalid_parameter",
                         "%s values must be strings, numbers or booleans (\"%.64s\" is not)", param, k);
            goto cleanup;
        }
    }
    rc = LO_OK;
cleanup:
    json_decref(j);
    return rc;
}

/* The matched series, grouped: rows ordered so that equal label sets are
 * adjacent; grp[i] is the output series of row i. */
typedef struct {
    PGresult *r;
    int n;
    int ngroups;
    int type;
    int *grp;
    int *first_row;     /* of each group */
    lo_buf_t ids, grps; /* array literals for unnest() */
} series_set_t;

static void series_free(series_set_t *s)
{
    PQclear(s->r);
    free(s->grp);
    free(s->first_row);
    lo_buf_free(&s->ids);
    lo_buf_free(&s->grps);
}

static int find_series(lo_api_req_t *req, lo_api_resp_t *resp, const lo_metric_spec_t *spec,
                       const lo_q_vis_t *vis, series_set_t *s)
{
    const char *name = spec->name, *labels = spec->labels, *group_by = spec->group_by;
    bool merge = spec->merge;
    lo_q_sql_t q;
    lo_q_sql_init(&q, "SELECT series_id, ");
    /* column 1 is what groups: the labels, or only the group_by keys' */
    if (group_by)
        lo_q_sql_bind(&q,
                      "(SELECT coalesce(jsonb_object_agg(k, v), '{}'::jsonb) FROM ("
                      "SELECT key AS k, value AS v FROM jsonb_each(labels) UNION ALL "
                      "SELECT 'resource.' || key, value FROM jsonb_each(coalesce(resource, '{}'::jsonb))) x "
                      "WHERE k = ANY($?::text[]))::text",
                      group_by);
    else
        lo_q_sql_add(&q, "labels::text");
    lo_q_sql_add(&q, ", type, temporality, unit, description, monotonic FROM metric_series WHERE ");
    lo_q_sql_bind(&q, "name = $?", name);
    /* each given pair matches by its value's text, whatever JSON type either
     * side has: {"code":"200"} finds a label sent as the integer 200 */
    if (labels)
        lo_q_sql_bind(&q,
                      " AND NOT EXISTS (SELECT 1 FROM jsonb_each($?::jsonb) f WHERE "
                      "(labels ->> f.key) IS DISTINCT FROM (f.value #>> '{}'))",
                      labels);
    if (spec->resource)
        lo_q_sql_bind(&q,
                      " AND NOT EXISTS (SELECT 1 FROM jsonb_each($?::jsonb) f WHERE "
                      "(resource ->> f.key) IS DISTINCT FROM (f.value #>> '{}'))",
                      spec->resource);
    if (spec->service)
        lo_q_sql_bind(&q, " AND service = $?", spec->service);
    char type_s[16];
    if (spec->type > 0) {
        snprintf(type_s, sizeof type_s, "%d", spec->type);
        lo_q_sql_bind(&q, " AND type = $?::int2", type_s);
    }
    if (!vis->all)
        lo_q_sql_bind(&q, " AND project_id = ANY($?::uuid[])", vis->arr.p);
    lo_q_sql_add(&q, " ORDER BY 2, series_id LIMIT 10001");
    s->r = lo_q_exec(req, resp, q.sql, q.n, q.vals);
    if (!s->r)
        return LO_ERROR;
    s->n = PQntuples(s->r);
    if (s->n > MAX_SERIES) {
        lo_api_error(resp, 400, "too_many_series",
                     "more than %d series match; add labels or project_id to narrow the query", MAX_SERIES);
        return LO_INVALID;
    }
    s->grp = calloc((size_t)s->n + 1, sizeof(int));
    s->first_row = calloc((size_t)s->n + 1, sizeof(int));
    if (!s->grp || !s->first_row) {
        lo_api_error(resp, 500, "internal", "out of memory");
        return LO_ERROR;
    }
    s->type = s->n ? atoi(PQgetvalue(s->r, 0, 2)) : 1;
    lo_buf_putc(&s->ids, '{');
    lo_buf_putc(&s->grps, '{');
    for (int i = 0; i < s->n; i++) {
        int t = atoi(PQgetvalue(s->r, i, 2));
        /* explicit and exponential histograms read alike; any other two
         * types are two metrics */
        bool both_hist = (t == 3 || t == 4) && (s->type == 3 || s->type == 4);
        if (t != s->type && !both_hist) {
            lo_api_error(resp, 400, "mixed_types",
                         "metric %.200s has series of different types (%s and %s); choose one with type= (or "
                         "narrow it with labels or "
                         "project_id)",
                         name, type_name(s->type), type_name(t));
            return LO_INVALID;
        }
        if (t == 5) {
            lo_api_error(resp, 400, "unsupported",
                         "metric %.200s is a %s; only gauges, sums and histograms can be queried yet", name,
                         type_name(t));
            return LO_INVALID;
        }
        if (i == 0 || (!merge && strcmp(PQgetvalue(s->r, i, 1), PQgetvalue(s->r, i - 1, 1)) != 0)) {
            s->first_row[s->ngroups] = i;
            s->ngroups++;
        }
        s->grp[i] = s->ngroups - 1;
        lo_buf_printf(&s->ids, "%s%s", i ? "," : "", PQgetvalue(s->r, i, 0));
        lo_buf_printf(&s->grps, "%s%d", i ? "," : "", s->grp[i]);
    }
    lo_buf_putc(&s->ids, '}');
    lo_buf_putc(&s->grps, '}');
    if (s->ids.err || s->grps.err) {
        lo_api_error(resp, 500, "internal", "out of memory");
        return LO_ERROR;
    }
    return LO_OK;
}

/* sql with its one "metric_samples s" read from samples (the FROM item
 * of lo_q_tier_from: the hot table, or both tiers) instead. */
static void with_samples(char *out, size_t n, const char *sql, const char *samples)
{
    const char *at = strstr(sql, "metric_samples s ");
    if (at == NULL) {
        snprintf(out, n, "%s", sql);
        return;
    }
    snprintf(out, n, "%.*s%s%s", (int)(at - sql), sql, samples, at + strlen("metric_samples"));
}

/* ---- gauges and sums: aggregated in SQL ---- */

/* Per (group, step); step boundaries from date_bin (integer arithmetic:
 * extract(epoch) per row would be numeric and several times slower). */
static const char SIMPLE_SQL_HEAD[] =
    "WITH g(series_id, grp) AS (SELECT * FROM unnest($1::int8[], $2::int4[])) "
    "SELECT grp, (extract(epoch FROM b) * 1000)::int8, v FROM ("
    "SELECT g.grp, date_bin($5::int8 * interval '1 millisecond', s.time, $6::timestamptz) AS b, ";
static const char *const SIMPLE_AGG_SQL[] = {
    "avg(s.value)", NULL, "min(s.value)", "max(s.value)", "count(*)::float8",
};
static const char SIMPLE_SQL_TAIL[] =
    " AS v FROM metric_samples s JOIN g ON s.series_id = g.series_id "
    "WHERE s.time >= $3::timestamptz AND s.time < $4::timestamptz AND s.value IS NOT NULL "
    "GROUP BY 1, 2) x ORDER BY 1, 2";

/* sum: over the series of each series' mean in the step. */
static const char SUM_SQL[] =
    "WITH g(series_id, grp) AS (SELECT * FROM unnest($1::int8[], $2::int4[])), "
    "per AS (SELECT g.grp, s.series_id, date_bin($5::int8 * interval '1 millisecond', s.time, "
    "$6::timestamptz) AS b, "
    "avg(s.value) AS a FROM metric_samples s JOIN g ON s.series_id = g.series_id "
    "WHERE s.time >= $3::timestamptz AND s.time < $4::timestamptz AND s.value IS NOT NULL GROUP BY 1, 2, 3) "
    "SELECT grp, (extract(epoch FROM b) * 1000)::int8, sum(a) FROM per GROUP BY grp, b ORDER BY 1, 2";

/* The matched series with their output group and whether they are delta
 * temporality (each series' own: a metric may have both). */
#define GROUPS_CTE                                                                                   \
    "WITH g(series_id, grp, delta) AS (SELECT u.series_id, u.grp, ms.temporality = 1 "               \
    "FROM unnest($1::int8[], $2::int4[]) u(series_id, grp) JOIN metric_series ms ON ms.series_id = " \
    "u.series_id) "

/* Counter increases per (group, step).  $7: lookback start. */
static const char INCREASE_SQL[] = GROUPS_CTE
    ", "
    "d AS (SELECT g.grp, s.time, CASE "
    "  WHEN g.delta THEN s.value "
    "  WHEN lag(s.value) OVER w IS NULL THEN CASE WHEN s.start_time >= $3::timestamptz THEN s.value END "
    "  WHEN s.value < lag(s.value) OVER w OR s.start_time > lag(s.start_time) OVER w THEN s.value "
    "  ELSE s.value - lag(s.value) OVER w END AS inc "
    "FROM metric_samples s JOIN g ON s.series_id = g.series_id "
    "WHERE s.time >= $7::timestamptz AND s.time < $4::timestamptz AND s.value IS NOT NULL "
    "WINDOW w AS (PARTITION BY s.series_id ORDER BY s.time)) "
    "SELECT grp, (extract(epoch FROM b) * 1000)::int8, v FROM ("
    "SELECT grp, date_bin($5::int8 * interval '1 millisecond', time, $6::timestamptz) AS b, sum(inc) AS v "
    "FROM d WHERE time >= $3::timestamptz AND inc IS NOT NULL GROUP BY 1, 2) x ORDER BY 1, 2";

/* The labels of output series gi: the group's own, or what was asked
 * for when everything is merged. */
static void begin_group(const lo_metric_sink_t *k, const series_set_t *s, int gi, const char *labels,
                        bool merge)
{
    int members = 0;
    for (int i = 0; i < s->n; i++)
        members += s->grp[i] == gi;
    if (merge) {
        const char *l = labels ? labels : "{}";
        k->series(k->ud, l, strlen(l), members);
    } else {
        k->series(k->ud, PQgetvalue(s->r, s->first_row[gi], 1),
                  (size_t)PQgetlength(s->r, s->first_row[gi], 1), members);
    }
}

/* Rows (grp, b_ms, value) into the sink, group by group. */
static void emit_rows(const lo_metric_sink_t *k, const PGresult *r, const series_set_t *s, const char *labels,
                      bool merge, double scale)
{
    int rows = PQntuples(r), i = 0;
    for (int gi = 0; gi < s->ngroups; gi++) {
        begin_group(k, s, gi, labels, merge);
        for (; i < rows && atoi(PQgetvalue(r, i, 0)) == gi; i++)
            if (!PQgetisnull(r, i, 2))
                k->point(k->ud, lo_q_i64(r, i, 1), strtod(PQgetvalue(r, i, 2), NULL) * scale);
        k->series_end(k->ud);
    }
}

/* ---- histograms: differenced and merged in C ---- */

static const char HIST_SQL[] =
    GROUPS_CTE "SELECT g.grp, s.series_id, (extract(epoch FROM s.time) * 1000000)::int8, "
               "(extract(epoch FROM s.start_time) * 1000000)::int8, s.count, s.sum, s.min, s.max, "
               "s.buckets::text, g.delta "
               "FROM metric_samples s JOIN g ON s.series_id = g.series_id "
               "WHERE s.time >= $3::timestamptz AND s.time < $4::timestamptz "
               "ORDER BY g.grp, s.series_id, s.time LIMIT 1000001";

typedef struct {
    double bounds[MAX_BOUNDS];
    double counts[MAX_BOUNDS + 1];
    int nb; /* bounds; counts has nb + 1 */
    double count, sum;
    bool ok;
} hsample_t;

static double jnum(json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v))
        return strtod(json_string_value(v), NULL);
    return NAN;
}

/* Appends one bucket (upper bound, count) of an exponential histogram. */
static void exp_push(hsample_t *h, double bound, double count)
{
    if (h->nb >= MAX_BOUNDS || !isfinite(bound) || !isfinite(count) || count < 0 ||
        (h->nb > 0 && !(bound > h->bounds[h->nb - 1]))) {
        h->ok = false;
        return;
    }
    h->bounds[h->nb] = bound;
    h->counts[h->nb++] = count;
}

/* An exponential histogram as explicit buckets: the negative buckets (most
 * negative first), the zero bucket, the positive ones; bucket index i
 * covers (base^i, base^(i+1)] (negated for the negative side), base =
 * 2^(2^-scale).  Each bucket is given its own lower edge: an empty bucket
 * goes before it where the bucket below does not end there, so a
 * percentile interpolates inside the bucket's true range — the zero bucket
 * is [-zero_threshold, zero_threshold] (a point at 0 when the threshold is
 * 0), never stretched to the nearest negative bucket.  The same index at
 * the same scale always gives the same double, so bounds line up across
 * samples. */
static void parse_exp(json_t *j, hsample_t *h)
{
    json_int_t scale = json_integer_value(json_object_get(j, "scale"));
    if (scale < -10 || scale > 20)
        return;
    double step = ldexp(1.0, -(int)scale);
    double zc = jnum(json_object_get(j, "zero_count")), zt = jnum(json_object_get(j, "zero_threshold"));
    double zhi = isfinite(zt) && zt > 0 ? zt : 0;
    h->ok = true;
    json_t *neg = json_object_get(j, "negative"), *pos = json_object_get(j, "positive");
    json_t *nc = json_object_get(neg, "counts"), *pc = json_object_get(pos, "counts");
    json_int_t noff = json_integer_value(json_object_get(neg, "offset"));
    json_int_t poff = json_integer_value(json_object_get(pos, "offset"));
    size_t nn = json_array_size(nc), np = json_array_size(pc);
    if (nn > 0) /* the lower edge of the most negative bucket */
        exp_push(h, -exp2((double)(noff + (json_int_t)nn) * step), 0);
    for (size_t i = nn; i-- > 0 && h->ok;)
        exp_push(h, -exp2((double)(noff + (json_int_t)i) * step), jnum(json_array_get(nc, i)));
    /* the zero bucket's lower edge: -zero_threshold, or just below 0 */
    double zlo = zhi > 0 ? -zhi : nextafter(0.0, -1.0);
    if (h->ok && (h->nb == 0 || zlo > h->bounds[h->nb - 1]))
        exp_push(h, zlo, 0);
    exp_push(h, zhi, isfinite(zc) ? zc : 0);
    if (np > 0 && h->ok && exp2((double)poff * step) > zhi) /* the first positive bucket's lower edge */
        exp_push(h, exp2((double)poff * step), 0);
    for (size_t i = 0; i < np && h->ok; i++)
        exp_push(h, exp2((double)(poff + (json_int_t)i + 1) * step), jnum(json_array_get(pc, i)));
    if (h->ok && h->nb < MAX_BOUNDS + 1)
        h->counts[h->nb] = 0; /* no +Inf bucket */
}

static bool parse_hist(const char *text, hsample_t *h)
{
    h->ok = false;
    h->nb = 0;
    json_t *j = json_loads(text, 0, NULL);
    json_t *b = json_object_get(j, "bounds"), *c = json_object_get(j, "counts");
    if (!b && json_is_integer(json_object_get(j, "scale"))) {
        parse_exp(j, h);
    } else if (json_is_array(b) && json_is_array(c) && json_array_size(b) <= MAX_BOUNDS &&
               json_array_size(c) == json_array_size(b) + 1) {
        h->nb = (int)json_array_size(b);
        h->ok = true;
        for (int i = 0; i <= h->nb; i++) {
            if (i < h->nb)
                h->bounds[i] = jnum(json_array_get(b, (size_t)i));
            h->counts[i] = jnum(json_array_get(c, (size_t)i));
            if ((i < h->nb && !isfinite(h->bounds[i])) || !isfinite(h->counts[i]) || h->counts[i] < 0 ||
                (i > 0 && i < h->nb && !(h->bounds[i] > h->bounds[i - 1])))
                h->ok = false;
        }
    }
    json_decref(j);
    return h->ok;
}

static int bound_index(const double *u, int nu, double b)
{
    int lo = 0, hi = nu - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (u[mid] == b)
            return mid;
        if (u[mid] < b)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(const double *u, int nu, const double *cnt, double q)
{
    double total = 0;
    for (int i = 0; i <= nu; i++)
        total += cnt[i];
    if (!(total > 0))
        return NAN;
    double rank = q * total, cum = 0;
    for (int i = 0; i <= nu; i++) {
        if (cnt[i] > 0 && cum + cnt[i] >= rank) {
            if (i == nu) /* +Inf bucket: its lower bound is all we know */
                return nu > 0 ? u[nu - 1] : NAN;
            double lower = i > 0 ? u[i - 1] : (u[0] > 0 ? 0 : u[0]);
            double v = lower + (u[i] - lower) * (rank - cum) / cnt[i];
            return fabs(v) < 1e-300 ? 0 : v; /* a zero bucket of width 0 is the point 0 */
        }
        cum += cnt[i];
    }
    return nu > 0 ? u[nu - 1] : NAN;
}

typedef struct {
    double obs, sum, min, max;
    bool any, has_min, has_max;
} hpoint_t;

/* One output series' histogram points: the union of its bucket bounds
 * (ascending), and per step the bucket counts and totals observed. */
typedef struct {
    double *u;
    int nu;
    double *cells; /* npts x (nu + 1): step p's counts start at p * (nu + 1) */
    hpoint_t *pts;
    int npts;
    int64_t first_b, step_ms, from_us, origin_ms; /* steps start at origin_ms + k * step_ms */
    double q;                                     /* of a percentile agg */
} hgrid_t;

/* Collects the distinct bounds of rows [row, end) into g->u.  LO_OK, or
 * LO_INVALID with the 400 written when there are more than MAX_BOUNDS. */
static int union_bounds(lo_api_resp_t *resp, const PGresult *r, int row, int end, hsample_t *cur, hgrid_t *g)
{
    g->nu = 0;
    for (int i = row; i < end; i++) {
        if (PQgetisnull(r, i, 8) || !parse_hist(PQgetvalue(r, i, 8), cur))
            continue;
        for (int k = 0; k < cur->nb; k++) {
            if (bound_index(g->u, g->nu, cur->bounds[k]) >= 0)
                continue;
            if (g->nu == MAX_BOUNDS) {
                lo_api_error(resp, 400, "unsupported",
                             "the matched histograms have more than %d distinct bucket bounds; narrow the "
                             "query with labels",
                             MAX_BOUNDS);
                return LO_INVALID;
            }
            g->u[g->nu++] = cur->bounds[k];
            qsort(g->u, (size_t)g->nu, sizeof(double), cmp_double);
        }
    }
    return LO_OK;
}

/* Adds sample cur (row i of r) to step p: in full, or as its difference
 * from prev, the same series' previous sample. */
static void add_sample(hgrid_t *g, int p, const PGresult *r, int i, const hsample_t *cur,
                       const hsample_t *prev, bool use_diff)
{
    double *cell = g->cells + (size_t)p * (size_t)(g->nu + 1);
    for (int k = 0; k <= cur->nb; k++) {
        /* the previous count of the same bucket, found by its bound: the
         * layout may move between samples (exponential offsets) */
        double before = 0;
        if (use_diff) {
            int pk = k < cur->nb ? bound_index(prev->bounds, prev->nb, cur->bounds[k]) : prev->nb;
            before = pk >= 0 ? prev->counts[pk] : 0;
        }
        double c = cur->counts[k] - before;
        int ui = k < cur->nb ? bound_index(g->u, g->nu, cur->bounds[k]) : g->nu;
        if (c > 0 && ui >= 0)
            cell[ui] += c;
    }
    hpoint_t *pt = &g->pts[p];
    pt->obs += cur->count - (use_diff ? prev->count : 0);
    pt->sum += cur->sum - (use_diff ? prev->sum : 0);
    if (!PQgetisnull(r, i, 6)) {
        double mn = strtod(PQgetvalue(r, i, 6), NULL);
        pt->min = pt->has_min && pt->min < mn ? pt->min : mn;
        pt->has_min = true;
    }
    if (!PQgetisnull(r, i, 7)) {
        double mx = strtod(PQgetvalue(r, i, 7), NULL);
        pt->max = pt->has_max && pt->max > mx ? pt->max : mx;
        pt->has_max = true;
    }
    pt->any = true;
}

/* Rows [row, end) (ordered by series, then time) into g's steps: each
 * series' cumulative samples differenced like counters (a lower count or
 * a later start is a reset), delta samples in full.  cur and prev are
 * scratch. */
static void accumulate(hgrid_t *g, const PGresult *r, int row, int end, hsample_t *cur, hsample_t *prev)
{
    const char *series = NULL;
    int64_t prev_start = 0;
    prev->ok = false;
    for (int i = row; i < end; i++) {
        const char *sid = PQgetvalue(r, i, 1);
        if (!series || strcmp(series, sid) != 0) {
            series = sid;
            prev->ok = false;
        }
        int64_t t = lo_q_i64(r, i, 2);
        int64_t st = PQgetisnull(r, i, 3) ? 0 : lo_q_i64(r, i, 3);
        if (PQgetisnull(r, i, 8) || !parse_hist(PQgetvalue(r, i, 8), cur))
            continue;
        cur->count = PQgetisnull(r, i, 4) ? 0 : strtod(PQgetvalue(r, i, 4), NULL);
        cur->sum = PQgetisnull(r, i, 5) ? 0 : strtod(PQgetvalue(r, i, 5), NULL);
        bool delta = PQgetvalue(r, i, 9)[0] == 't';
        bool reset = prev->ok && (cur->count < prev->count || st > prev_start);
        bool use_full = delta || reset || (!prev->ok && st >= g->from_us && st > 0);
        bool use_diff = !use_full && prev->ok;
        int p = (int)(floor_div(t / 1000 - g->origin_ms, g->step_ms) - g->first_b);
        if ((use_full || use_diff) && p >= 0 && p < g->npts)
            add_sample(g, p, r, i, cur, prev, use_diff);
        hsample_t *tmp = prev; /* scratch either way: swap the pointers */
        prev = cur;
        cur = tmp;
        prev_start = st;
    }
}

/* g's steps that saw data, as agg asks, into the sink. */
static void emit_points(const lo_metric_sink_t *sink, const hgrid_t *g, int agg)
{
    if (agg == A_BUCKETS)
        sink->bounds(sink->ud, g->u, g->nu);
    for (int p = 0; p < g->npts; p++) {
        const hpoint_t *pt = &g->pts[p];
        if (!pt->any)
            continue;
        if (agg == A_BUCKETS) {
            sink->counts(sink->ud, g->origin_ms + (g->first_b + p) * g->step_ms,
                         g->cells + (size_t)p * (size_t)(g->nu + 1), g->nu + 1);
            continue;
        }
        double v;
        switch (agg) {
        case A_COUNT: v = pt->obs; break;
        case A_SUM: v = pt->sum; break;
        case A_AVG: v = pt->obs > 0 ? pt->sum / pt->obs : NAN; break;
        case A_MIN: v = pt->has_min ? pt->min : NAN; break;
        case A_MAX: v = pt->has_max ? pt->max : NAN; break;
        default: v = quantile(g->u, g->nu, g->cells + (size_t)p * (size_t)(g->nu + 1), g->q); break;
        }
        if (!isnan(v))
            sink->point(sink->ud, g->origin_ms + (g->first_b + p) * g->step_ms, v);
    }
}

static int emit_histograms(lo_api_req_t *req, lo_api_resp_t *resp, const lo_metric_sink_t *sink,
                           const series_set_t *s, const char *const *vals, int agg, double q, int64_t from_us,
                           int64_t to_us, int64_t step_ms, int64_t origin_ms, const char *labels, bool merge,
                           const char *samples)
{
    char sql[sizeof HIST_SQL + 200];
    with_samples(sql, sizeof sql, HIST_SQL, samples);
    PGresult *r = lo_q_exec(req, resp, sql, 4, vals);
    if (!r)
        return LO_ERROR;
    int rows = PQntuples(r), rc = LO_OK;
    if (rows > MAX_HIST_SAMPLES) {
        PQclear(r);
        lo_api_error(resp, 400, "too_much_data",
                     "more than %d histogram samples match; narrow the time range or add labels",
                     MAX_HIST_SAMPLES);
        return LO_INVALID;
    }
    hgrid_t g = { .step_ms = step_ms, .from_us = from_us, .origin_ms = origin_ms, .q = q };
    g.first_b = floor_div(from_us / 1000 - origin_ms, step_ms);
    g.npts = (int)(floor_div(to_us / 1000 - 1 - origin_ms, step_ms) - g.first_b + 1);
    g.u = malloc(sizeof(double) * MAX_BOUNDS);
    hsample_t *cur = malloc(sizeof *cur), *prev = malloc(sizeof *prev);
    if (!cur || !prev || !g.u) {
        rc = LO_ERROR;
        goto cleanup;
    }
    for (int gi = 0, row = 0; gi < s->ngroups; gi++) {
        int end = row;
        while (end < rows && atoi(PQgetvalue(r, end, 0)) == gi)
            end++;
        if ((rc = union_bounds(resp, r, row, end, cur, &g)) != LO_OK)
            goto cleanup;
        if ((int64_t)g.npts * (g.nu + 1) > MAX_HIST_CELLS) {
            lo_api_error(resp, 400, "too_many_points", "too many histogram points; raise step");
            rc = LO_INVALID;
            goto cleanup;
        }
        free(g.cells);
        free(g.pts);
        g.cells = calloc((size_t)g.npts * (size_t)(g.nu + 1), sizeof(double));
        g.pts = calloc((size_t)g.npts, sizeof(hpoint_t));
        if (!g.cells || !g.pts) {
            rc = LO_ERROR;
            goto cleanup;
        }
        accumulate(&g, r, row, end, cur, prev);
        begin_group(sink, s, gi, labels, merge);
        emit_points(sink, &g, agg);
        sink->series_end(sink->ud);
        row = end;
    }
cleanup:
    if (rc == LO_ERROR)
        lo_api_error(resp, 500, "internal", "out of memory");
    free(cur);
    free(prev);
    free(g.u);
    free(g.cells);
    free(g.pts);
    PQclear(r);
    return rc;
}

int lo_q_metric_run(lo_api_req_t *req, lo_api_resp_t *resp, const lo_metric_spec_t *spec,
                    const lo_q_vis_t *vis, const lo_metric_sink_t *k)
{
    char from_s[32], to_s[32], look_s[32], step_s[24], origin_s[32];
    series_set_t s = { 0 };
    PGresult *r = NULL;
    int rc = LO_INVALID, agg = spec->agg;
    lo_q_tier_t tier;
    lo_q_tier_init(&tier);
    int64_t step = spec->step_s, step_ms = step * 1000, from_us = spec->from_us, to_us = spec->to_us;
    int64_t origin_ms = spec->align_from ? from_us / 1000 : 0;
    int64_t npts =
        floor_div(to_us / 1000 - 1 - origin_ms, step_ms) - floor_div(from_us / 1000 - origin_ms, step_ms) + 1;

    lo_buf_init(&s.ids, 0);
    lo_buf_init(&s.grps, 0);
    if (find_series(req, resp, spec, vis, &s) != LO_OK)
        goto cleanup;
    bool hist = s.n > 0 && (s.type == 3 || s.type == 4);
    if ((int64_t)s.ngroups * npts > MAX_TOTAL_POINTS) {
        lo_api_error(
            resp, 400, "too_many_points",
            "%d series x %lld points exceed %d points in one answer; add labels, group=none, or raise step",
            s.ngroups, (long long)npts, MAX_TOTAL_POINTS);
        goto cleanup;
    }
    if (agg == A_BUCKETS && (k->bounds == NULL || k->counts == NULL)) {
        lo_api_error(resp, 400, "invalid_parameter", "agg=buckets is not available here");
        goto cleanup;
    }
    if (s.n > 0 && !hist && agg >= A_P50) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "agg=%s needs a histogram metric; %.200s is a %s (use avg, sum, min, max or count)",
                     agg_label(spec), spec->name, type_name(s.type));
        goto cleanup;
    }
    if (s.n > 0 && (agg == A_RATE || agg == A_INCREASE) && s.type != 2) {
        lo_api_error(resp, 400, "invalid_parameter", "agg=%s needs a sum (counter) metric; %.200s is a %s",
                     agg_label(spec), spec->name, type_name(s.type));
        goto cleanup;
    }
    /* an up-down counter goes down without resetting: increase and rate
     * would read every decrease as a reset (docs/query-api.md) */
    for (int i = 0; s.n > 0 && s.type == 2 && (agg == A_RATE || agg == A_INCREASE) && i < s.n; i++) {
        if (PQgetvalue(s.r, i, 6)[0] != 't' && atoi(PQgetvalue(s.r, i, 3)) != 1) {
            lo_api_error(resp, 400, "invalid_parameter",
                         "agg=%s needs a monotonic sum; %.200s is a non-monotonic (up-down) counter, whose "
                         "decreases are not resets: use avg, min, max or sum of its values",
                         agg_label(spec), spec->name);
            goto cleanup;
        }
    }
    k->begin(k->ud, s.n ? type_name(s.type) : NULL,
             s.n && !PQgetisnull(s.r, 0, 4) ? PQgetvalue(s.r, 0, 4) : NULL);

    lo_q_fmt_time(from_us, from_s);
    lo_q_fmt_time(to_us, to_s);
    int64_t lookback = step * 1000000 > 300000000 ? step * 1000000 : 300000000;
    lo_q_fmt_time(from_us - lookback > 0 ? from_us - lookback : 0, look_s);
    snprintf(step_s, sizeof step_s, "%lld", (long long)step_ms);
    lo_q_fmt_time(origin_ms * 1000, origin_s);
    const char *vals[7] = { s.ids.p, s.grps.p, from_s, to_s, step_s, origin_s, look_s };
    /* the matched series' samples from one lookback early, from both tiers */
    lo_cold_filter_t cf = {
        .from_us = from_us - lookback, .to_us = to_us, .series = s.ids.p, .metric = spec->name
    };
    if (s.n > 0 && lo_q_tier_load(req, resp, &tier, LO_SIGNAL_METRICS, &cf) != LO_OK) {
        rc = LO_ERROR;
        goto cleanup;
    }
    const char *samples = lo_q_tier_rel(&tier, LO_SIGNAL_METRICS);
    rc = LO_OK;
    if (s.n > 0 && hist) {
        /* histogram rows start one lookback early, for the previous sample */
        const char *hv[4] = { s.ids.p, s.grps.p, look_s, to_s };
        double q = spec->q > 0 ? spec->q : agg >= A_P50 && agg < A_PCT ? AGG_Q[agg] : 0;
        rc = emit_histograms(req, resp, k, &s, hv, agg, q, from_us, to_us, step_ms, origin_ms, spec->labels,
                             spec->merge, samples);
    } else if (s.n > 0) {
        char sql[2048], tsql[2400];
        if (agg == A_RATE || agg == A_INCREASE) {
            with_samples(tsql, sizeof tsql, INCREASE_SQL, samples);
            r = lo_q_exec(req, resp, tsql, 7, vals);
        } else if (agg == A_SUM) {
            with_samples(tsql, sizeof tsql, SUM_SQL, samples);
            r = lo_q_exec(req, resp, tsql, 6, vals);
        } else {
            snprintf(sql, sizeof sql, "%s%s%s", SIMPLE_SQL_HEAD, SIMPLE_AGG_SQL[agg], SIMPLE_SQL_TAIL);
            with_samples(tsql, sizeof tsql, sql, samples);
            r = lo_q_exec(req, resp, tsql, 6, vals);
        }
        if (!r)
            rc = LO_ERROR;
        else
            emit_rows(k, r, &s, spec->labels, spec->merge, agg == A_RATE ? 1.0 / (double)step : 1.0);
    }
    if (rc == LO_OK && spec->exemplars && k->exemplar) {
        PGresult *e = NULL;
        if (s.n > 0) {
            char esql[1024];
            snprintf(esql, sizeof esql, EXEMPLARS_SQL, samples, LO_Q_MAX_EXEMPLARS + 1);
            e = lo_q_exec(req, resp, esql, 3, (const char *[]){ s.ids.p, from_s, to_s });
            if (!e)
                rc = LO_ERROR;
        }
        int n = e ? PQntuples(e) : 0;
        for (int i = 0; rc == LO_OK && i < n && i < LO_Q_MAX_EXEMPLARS; i++)
            k->exemplar(k->ud, PQgetvalue(e, i, 0), (size_t)PQgetlength(e, i, 0));
        if (rc == LO_OK)
            k->exemplars_end(k->ud, n > LO_Q_MAX_EXEMPLARS);
        PQclear(e);
    }

cleanup:
    PQclear(r);
    lo_q_tier_end(req, &tier);
    lo_q_tier_merge(spec->cold, &tier.report);
    series_free(&s);
    return rc;
}

/* ---- GET /api/observe/metrics: parameters in, JSON out ---- */

typedef struct {
    lo_jw_t w;
    const lo_metric_spec_t *spec;
    const char *from_s, *to_s;
    int nseries;
    lo_buf_t ex; /* exemplars=true: the exemplar objects, comma-separated */
    bool ex_more;
} json_sink_t;

static void js_begin(void *ud, const char *type, const char *unit)
{
    json_sink_t *j = ud;
    lo_jw_t *w = &j->w;
    lo_jw_obj_begin(w);
    lo_jw_key(w, "name", 4), lo_jw_cstr(w, j->spec->name);
    lo_jw_key(w, "type", 4), lo_jw_cstr(w, type ? type : "unknown");
    lo_jw_key(w, "unit", 4);
    if (unit)
        lo_jw_cstr(w, unit);
    else
        lo_jw_null(w);
    lo_jw_key(w, "agg", 3), lo_jw_cstr(w, j->spec->agg_name);
    lo_jw_key(w, "step", 4), lo_jw_i64(w, j->spec->step_s);
    lo_jw_key(w, "from", 4), lo_jw_cstr(w, j->from_s);
    lo_jw_key(w, "to", 2), lo_jw_cstr(w, j->to_s);
    lo_jw_key(w, "series", 6);
    lo_jw_arr_begin(w);
}

static void js_series(void *ud, const char *labels, size_t len, int members)
{
    json_sink_t *j = ud;
    j->nseries++;
    lo_jw_t *w = &j->w;
    lo_jw_obj_begin(w);
    lo_jw_key(w, "labels", 6), lo_jw_raw(w, labels, len);
    lo_jw_key(w, "series_count", 12), lo_jw_i64(w, members);
    if (j->spec->agg != A_BUCKETS) { /* with buckets, "points" follows "bounds" */
        lo_jw_key(w, "points", 6);
        lo_jw_arr_begin(w);
    }
}

static void js_point(void *ud, int64_t ts_ms, double v)
{
    lo_jw_t *w = &((json_sink_t *)ud)->w;
    lo_jw_arr_begin(w);
    lo_jw_i64(w, ts_ms);
    lo_jw_f64(w, v);
    lo_jw_arr_end(w);
}

static void js_bounds(void *ud, const double *bounds, int nb)
{
    lo_jw_t *w = &((json_sink_t *)ud)->w;
    lo_jw_key(w, "bounds", 6);
    lo_jw_arr_begin(w);
    for (int i = 0; i < nb; i++)
        lo_jw_f64(w, bounds[i]);
    lo_jw_arr_end(w);
    lo_jw_key(w, "points", 6);
    lo_jw_arr_begin(w);
}

static void js_counts(void *ud, int64_t ts_ms, const double *counts, int n)
{
    lo_jw_t *w = &((json_sink_t *)ud)->w;
    lo_jw_arr_begin(w);
    lo_jw_i64(w, ts_ms);
    lo_jw_arr_begin(w);
    for (int i = 0; i < n; i++)
        lo_jw_f64(w, counts[i]);
    lo_jw_arr_end(w);
    lo_jw_arr_end(w);
}

static void js_series_end(void *ud)
{
    lo_jw_t *w = &((json_sink_t *)ud)->w;
    lo_jw_arr_end(w);
    lo_jw_obj_end(w);
}

/* Exemplars go after the series array, which is still open: gathered. */
static void js_exemplar(void *ud, const char *json, size_t len)
{
    json_sink_t *j = ud;
    if (j->ex.len > 0)
        lo_buf_putc(&j->ex, ',');
    lo_buf_append(&j->ex, json, len);
}

static void js_exemplars_end(void *ud, bool more)
{
    ((json_sink_t *)ud)->ex_more = more;
}

/* The API's parameters as a spec.  LO_OK, or the 400 answer written. */
static int parse_spec(lo_api_req_t *req, lo_api_resp_t *resp, lo_metric_spec_t *spec, char project[37],
                      bool *has_project, lo_buf_t *group_by)
{
    int group, ex;
    const char *keys, *agg;
    memset(spec, 0, sizeof(*spec));
    if (lo_q_check_params(req, resp, METRIC_PARAMS) != LO_OK ||
        lo_q_str(req, resp, "name", 1, 256, &spec->name) != LO_OK ||
        lo_q_str(req, resp, "labels", 2, MAX_LABELS_BYTES, &spec->labels) != LO_OK ||
        lo_q_uuid(req, resp, "project_id", project, has_project) != LO_OK ||
        lo_q_range(req, resp, &spec->from_us, &spec->to_us) != LO_OK ||
        lo_q_str(req, resp, "agg", 1, 16, &agg) != LO_OK ||
        lo_q_enum(req, resp, "group", GROUP_NAMES, &group) != LO_OK ||
        lo_q_str(req, resp, "group_by", 1, 4096, &keys) != LO_OK ||
        lo_q_str(req, resp, "resource", 2, MAX_LABELS_BYTES, &spec->resource) != LO_OK ||
        lo_q_str(req, resp, "service", 1, 256, &spec->service) != LO_OK ||
        lo_q_enum(req, resp, "type", TYPE_PARAM, &spec->type) != LO_OK ||
        lo_q_enum(req, resp, "exemplars", BOOL_PARAM, &ex) != LO_OK)
        return LO_INVALID;
    spec->type = spec->type >= 0 ? spec->type + 1 : 0;
    spec->exemplars = ex == 1;
    if (spec->resource && check_labels(resp, "resource", spec->resource) != LO_OK)
        return LO_INVALID;
    if (keys) {
        if (group == 1) {
            lo_api_error(resp, 400, "invalid_parameter", "group_by and group=none cannot be combined");
            return LO_INVALID;
        }
        if (lo_q_label_keys(keys, group_by) != LO_OK) {
            lo_api_error(resp, 400, "invalid_parameter",
                         "group_by must be a comma-separated list of at most %d label keys, such as "
                         "http.route,http.method",
                         LO_Q_MAX_GROUP_KEYS);
            return LO_INVALID;
        }
        spec->group_by = group_by->p;
    }
    if (!spec->name) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "name is required: the metric's name, such as "
                     "http.server.duration (see /api/observe/metrics/names)");
        return LO_INVALID;
    }
    if (spec->labels && check_labels(resp, "labels", spec->labels) != LO_OK)
        return LO_INVALID;
    int64_t range_s = (spec->to_us - spec->from_us + 999999) / 1000000;
    int64_t def_step = range_s / LO_Q_MAX_POINTS + 1 > 60 ? range_s / LO_Q_MAX_POINTS + 1 : 60;
    if (lo_q_int(req, resp, "step", 1, 31 * 86400, def_step, &spec->step_s) != LO_OK)
        return LO_INVALID;
    int64_t step_ms = spec->step_s * 1000;
    int64_t npts = (spec->to_us / 1000 - 1) / step_ms - (spec->from_us / 1000) / step_ms + 1;
    if (npts > LO_Q_MAX_POINTS) {
        lo_api_error(
            resp, 400, "too_many_points",
            "from..to at step %llds gives %lld points per series; at most %d are allowed: raise step to "
            "at least %lld",
            (long long)spec->step_s, (long long)npts, LO_Q_MAX_POINTS,
            (long long)(range_s / LO_Q_MAX_POINTS + 1));
        return LO_INVALID;
    }
    if (lo_metric_agg_parse(agg ? agg : "avg", spec) != LO_OK) {
        lo_api_error(
            resp, 400, "invalid_parameter",
            "agg must be avg, sum, min, max, count, rate, increase, or a percentile pNN (p50, p99.9)");
        return LO_INVALID;
    }
    spec->merge = group == 1;
    return LO_OK;
}

/* An answer with no series while filters were given says why it is
 * empty: no such metric, or which label key no series of it has. */
static void no_match_note(lo_api_req_t *req, lo_api_resp_t *resp, lo_jw_t *w, const lo_metric_spec_t *spec,
                          const lo_q_vis_t *vis)
{
    lo_q_sql_t q;
    lo_q_sql_init(&q,
                  "SELECT k FROM (SELECT DISTINCT jsonb_object_keys(labels) AS k FROM metric_series WHERE ");
    lo_q_sql_bind(&q, "name = $?", spec->name);
    if (!vis->all)
        lo_q_sql_bind(&q, " AND project_id = ANY($?::uuid[])", vis->arr.p);
    lo_q_sql_add(&q, ") x ORDER BY k LIMIT 101");
    (void)resp; /* best effort: a failing look-up leaves the answer without its note */
    PGresult *r = PQexecParams(req->db, q.sql, q.n, NULL, q.vals, NULL, NULL, 0);
    PGresult *any = PQexecParams(req->db, "SELECT 1 FROM metric_series WHERE name = $1 LIMIT 1", 1, NULL,
                                 (const char *[]){ spec->name }, NULL, NULL, 0);
    if (q.overflow || PQresultStatus(r) != PGRES_TUPLES_OK || PQresultStatus(any) != PGRES_TUPLES_OK) {
        PQclear(r);
        PQclear(any);
        return;
    }
    char note[600];
    if (PQntuples(any) == 0) {
        snprintf(note, sizeof note, "no metric is named %.200s (see /api/observe/metrics/names)", spec->name);
    } else {
        json_t *want = spec->labels ? json_loads(spec->labels, 0, NULL) : NULL;
        const char *k, *missing = NULL;
        json_t *v;
        json_object_foreach(want, k, v)
        {
            bool found = false;
            for (int i = 0; i < PQntuples(r) && !found; i++)
                found = strcmp(PQgetvalue(r, i, 0), k) == 0;
            if (!found && !missing)
                missing = k;
        }
        if (missing) {
            lo_buf_t keys;
            lo_buf_init(&keys, 4096);
            for (int i = 0; i < PQntuples(r) && i < 100; i++)
                lo_buf_printf(&keys, "%s%s", i ? ", " : "", PQgetvalue(r, i, 0));
            lo_buf_putc(&keys, '\0');
            snprintf(note, sizeof note,
                     "no series of %.100s has the label %.100s; its label keys are: %.300s", spec->name,
                     missing, keys.p && keys.p[0] ? keys.p : "(none)");
            lo_buf_free(&keys);
        } else {
            snprintf(note, sizeof note,
                     "series of %.200s exist, but none has these label values, resource, service and type "
                     "together",
                     spec->name);
        }
        json_decref(want);
    }
    PQclear(any);
    PQclear(r);
    lo_jw_key(w, "note", 4), lo_jw_cstr(w, note);
}

int lo_q_metrics(lo_api_req_t *req, lo_api_resp_t *resp)
{
    char project[37], from_s[32], to_s[32];
    bool has_project;
    lo_metric_spec_t spec;
    lo_q_vis_t vis = { 0 };
    lo_buf_t group_by;
    lo_buf_init(&group_by, 0);
    if (parse_spec(req, resp, &spec, project, &has_project, &group_by) != LO_OK)
        goto cleanup;
    if (lo_q_visibility(req, resp, has_project ? project : NULL, &vis) != LO_OK)
        goto cleanup;
    lo_q_fmt_time(spec.from_us, from_s);
    lo_q_fmt_time(spec.to_us, to_s);
    json_sink_t j = { .spec = &spec, .from_s = from_s, .to_s = to_s };
    lo_buf_init(&j.ex, 0);
    lo_jw_init(&j.w, &resp->body);
    lo_metric_sink_t sink = { &j,        js_begin,  js_series,   js_point,        js_series_end,
                              js_bounds, js_counts, js_exemplar, js_exemplars_end };
    lo_cold_report_t cold = { 0 };
    spec.cold = &cold;
    int rc = lo_q_metric_run(req, resp, &spec, &vis, &sink);
    if (rc == LO_OK && j.ex.err) {
        lo_api_error(resp, 500, "internal", "out of memory");
        rc = LO_ERROR;
    }
    if (rc != LO_OK) {
        lo_buf_free(&j.ex);
        goto cleanup; /* the error answer is written */
    }
    lo_jw_arr_end(&j.w);
    if (spec.exemplars) {
        lo_jw_key(&j.w, "exemplars", 9);
        lo_jw_arr_begin(&j.w);
        if (j.ex.len)
            lo_jw_raw(&j.w, j.ex.p, j.ex.len);
        lo_jw_arr_end(&j.w);
        lo_jw_key(&j.w, "exemplars_truncated", 19), lo_jw_bool(&j.w, j.ex_more);
    }
    lo_buf_free(&j.ex);
    if (j.nseries == 0 && (spec.labels || spec.resource || spec.service || spec.type))
        no_match_note(req, resp, &j.w, &spec, &vis);
    lo_q_tier_report(&j.w, &cold);
    lo_jw_obj_end(&j.w);
    (void)lo_q_finish(resp, &j.w);

cleanup:
    lo_q_vis_free(&vis);
    lo_buf_free(&group_by);
    return LO_OK;
}

/* ---- names ---- */

int lo_q_metric_names(lo_api_req_t *req, lo_api_resp_t *resp)
{
    char project[37], lim_s[24];
    bool has_project;
    const char *prefix;
    int64_t limit;
    char *pattern = NULL;
    lo_q_vis_t vis = { 0 };
    PGresult *r = NULL;
    int rc = LO_OK;

    if (lo_q_check_params(req, resp, NAMES_PARAMS) != LO_OK ||
        lo_q_uuid(req, resp, "project_id", project, &has_project) != LO_OK ||
        lo_q_str(req, resp, "prefix", 1, 256, &prefix) != LO_OK ||
        lo_q_int(req, resp, "limit", 1, 10000, 1000, &limit) != LO_OK)
        return LO_OK;
    if (lo_q_visibility(req, resp, has_project ? project : NULL, &vis) != LO_OK)
        goto cleanup;
    snprintf(lim_s, sizeof lim_s, "%lld", (long long)limit + 1);
    lo_q_sql_t q;
    lo_q_sql_init(
        &q,
        "SELECT s.name, s.type, max(s.unit), max(s.description), count(DISTINCT s.series_id), "
        "coalesce(jsonb_agg(DISTINCT k.key ORDER BY k.key) FILTER (WHERE k.key IS NOT NULL), '[]')::text, "
        "coalesce(jsonb_agg(DISTINCT rk.key ORDER BY rk.key) FILTER (WHERE rk.key IS NOT NULL), '[]')::text, "
        "coalesce(jsonb_agg(DISTINCT s.service ORDER BY s.service), '[]')::text, "
        "CASE WHEN count(DISTINCT s.temporality) = 1 THEN min(s.temporality) ELSE -1 END, "
        "CASE WHEN bool_and(s.monotonic) THEN 1 WHEN bool_or(s.monotonic) THEN -1 ELSE 0 END "
        "FROM metric_series s LEFT JOIN LATERAL jsonb_object_keys(s.labels) k(key) ON true "
        "LEFT JOIN LATERAL jsonb_object_keys(coalesce(s.resource, '{}'::jsonb)) rk(key) ON true WHERE true");
    if (!vis.all)
        lo_q_sql_bind(&q, " AND s.project_id = ANY($?::uuid[])", vis.arr.p);
    if (prefix) {
        pattern = malloc(strlen(prefix) * 2 + 2);
        if (!pattern) {
            lo_api_error(resp, 500, "internal", "out of memory");
            goto cleanup;
        }
        lo_q_like_escape(prefix, pattern);
        strcat(pattern, "%");
        lo_q_sql_bind(&q, " AND s.name LIKE $?", pattern);
    }
    lo_q_sql_bind(&q, " GROUP BY s.name, s.type ORDER BY s.name, s.type LIMIT $?", lim_s);
    r = lo_q_exec(req, resp, q.sql, q.n, q.vals);
    if (!r)
        goto cleanup;
    int rows = PQntuples(r);
    bool more = rows > limit;
    if (more)
        rows = (int)limit;
    lo_jw_t w;
    lo_jw_init(&w, &resp->body);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "metrics", 7);
    lo_jw_arr_begin(&w);
    for (int i = 0; i < rows; i++) {
        lo_jw_obj_begin(&w);
        lo_jw_key(&w, "name", 4), lo_q_jw_text(&w, r, i, 0);
        lo_jw_key(&w, "type", 4), lo_jw_cstr(&w, type_name(atoi(PQgetvalue(r, i, 1))));
        lo_jw_key(&w, "unit", 4), lo_q_jw_text(&w, r, i, 2);
        lo_jw_key(&w, "description", 11), lo_q_jw_text(&w, r, i, 3);
        lo_jw_key(&w, "label_keys", 10), lo_q_jw_json(&w, r, i, 5);
        lo_jw_key(&w, "resource_keys", 13), lo_q_jw_json(&w, r, i, 6);
        lo_jw_key(&w, "services", 8), lo_q_jw_json(&w, r, i, 7);
        int type = atoi(PQgetvalue(r, i, 1));
        if (type >= 2 && type <= 4) {
            /* sums and histograms: how their points add up (a name's series may differ) */
            static const char *const TEMPORALITY[] = { "unspecified", "delta", "cumulative" };
            int t = atoi(PQgetvalue(r, i, 8)), m = atoi(PQgetvalue(r, i, 9));
            lo_jw_key(&w, "temporality", 11), lo_jw_cstr(&w, t >= 0 && t <= 2 ? TEMPORALITY[t] : "mixed");
            if (type == 2) {
                lo_jw_key(&w, "monotonic", 9);
                if (m < 0)
                    lo_jw_null(&w); /* some of its series are, some are not */
                else
                    lo_jw_bool(&w, m == 1);
            }
        }
        lo_jw_key(&w, "series_count", 12), lo_jw_i64(&w, lo_q_i64(r, i, 4));
        lo_jw_obj_end(&w);
    }
    lo_jw_arr_end(&w);
    lo_jw_key(&w, "has_more", 8), lo_jw_bool(&w, more);
    lo_jw_obj_end(&w);
    rc = lo_q_finish(resp, &w);

cleanup:
    free(pattern);
    PQclear(r);
    lo_q_vis_free(&vis);
    return rc;
}
