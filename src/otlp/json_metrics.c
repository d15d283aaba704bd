/*
 * json_metrics.c — ExportMetricsServiceRequest in OTLP/JSON to
 * lo_sample_rec_t: one record per data point of every metric type, with the
 * buckets JSON shapes otlp.h describes.
 */
#include "otlp/json_internal.h"

/* Members of the four data point messages; each type knows a subset. */
enum {
    PK_ATTRS,
    PK_START,
    PK_TIME,
    PK_FLAGS,
    PK_EXEMPLARS,
    PK_AS_DOUBLE,
    PK_AS_INT,
    PK_COUNT,
    PK_SUM,
    PK_BUCKET_COUNTS,
    PK_BOUNDS,
    PK_MIN,
    PK_MAX,
    PK_SCALE,
    PK_ZERO_COUNT,
    PK_POSITIVE,
    PK_NEGATIVE,
    PK_ZERO_THRESHOLD,
    PK_QUANTILES,
    PK_N
};
#define COMMON_KEYS                                                                          \
    [PK_ATTRS] = "attributes", [PK_START] = "startTimeUnixNano", [PK_TIME] = "timeUnixNano", \
    [PK_FLAGS] = "flags", [PK_EXEMPLARS] = "exemplars"
static const char *const number_keys[PK_N] = {
    COMMON_KEYS, [PK_AS_DOUBLE] = "asDouble", [PK_AS_INT] = "asInt"
};
static const char *const histogram_keys[PK_N] = {
    COMMON_KEYS,
    [PK_COUNT] = "count",
    [PK_SUM] = "sum",
    [PK_BUCKET_COUNTS] = "bucketCounts",
    [PK_BOUNDS] = "explicitBounds",
    [PK_MIN] = "min",
    [PK_MAX] = "max",
};
static const char *const exp_keys[PK_N] = {
    COMMON_KEYS,
    [PK_COUNT] = "count",
    [PK_SUM] = "sum",
    [PK_MIN] = "min",
    [PK_MAX] = "max",
    [PK_SCALE] = "scale",
    [PK_ZERO_COUNT] = "zeroCount",
    [PK_POSITIVE] = "positive",
    [PK_NEGATIVE] = "negative",
    [PK_ZERO_THRESHOLD] = "zeroThreshold",
};
static const char *const summary_keys[PK_N] = {
    COMMON_KEYS,
    [PK_COUNT] = "count",
    [PK_SUM] = "sum",
    [PK_QUANTILES] = "quantileValues",
};

/* What a metric's points share. */
typedef struct {
    lo_str_t name, description, unit;
    lo_metric_type_t type;
    int32_t temporality;
    bool monotonic;
    const lo_jd_owner_t *res, *scope;
} metric_t;

/* One exemplar, written to w as pb_metrics.c writes it (otlp.h). */
static int exemplar(lo_jd_t *c, lo_jw_t *w, json_t *v)
{
    enum { EX_ATTRS, EX_TIME, EX_AS_DOUBLE, EX_AS_INT, EX_SPAN, EX_TRACE, EX_N };
    static const char *const keys[EX_N] = {
        "filteredAttributes", "timeUnixNano", "asDouble", "asInt", "spanId", "traceId"
    };
    json_t *f[EX_N];
    uint64_t t = 0;
    double d = 0;
    int64_t i = 0;
    uint8_t *trace = NULL, *span = NULL;
    size_t tn = 0, sn = 0;
    int rc = lo_jd_obj(c, NULL, v);
    if (rc == LO_OK)
        rc = lo_jd_fields(c, v, keys, EX_N, f);
    if (rc == LO_OK)
        rc = lo_jd_u64(c, keys[EX_TIME], f[EX_TIME], &t);
    if (rc == LO_OK && f[EX_AS_DOUBLE] != NULL && f[EX_AS_INT] != NULL)
        rc = lo_jd_fail(c, NULL, "an exemplar holds one value, got both asDouble and asInt");
    if (rc == LO_OK)
        rc = lo_jd_f64(c, keys[EX_AS_DOUBLE], f[EX_AS_DOUBLE], &d);
    if (rc == LO_OK)
        rc = lo_jd_i64(c, keys[EX_AS_INT], f[EX_AS_INT], &i);
    if (rc == LO_OK)
        rc = lo_jd_hex(c, keys[EX_SPAN], f[EX_SPAN], &span, &sn);
    if (rc == LO_OK)
        rc = lo_jd_hex(c, keys[EX_TRACE], f[EX_TRACE], &trace, &tn);
    if (rc != LO_OK)
        return rc;
    char num[24];
    lo_jw_obj_begin(w);
    lo_jw_key(w, "time_unix_nano", 14);
    lo_jw_str(w, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)t));
    if (f[EX_AS_DOUBLE] != NULL) {
        lo_jw_key(w, "value", 5);
        lo_jw_f64(w, d);
    } else if (f[EX_AS_INT] != NULL) {
        lo_jw_key(w, "value", 5);
        lo_jw_i64(w, i);
    }
    if (lo_otlp_id_ok(trace, tn, 16)) {
        lo_jw_key(w, "trace_id", 8);
        lo_jw_hex(w, trace, tn);
    }
    if (lo_otlp_id_ok(span, sn, 8)) {
        lo_jw_key(w, "span_id", 7);
        lo_jw_hex(w, span, sn);
    }
    lo_jw_key(w, "attributes", 10);
    rc = lo_jd_attrs(c, w, f[EX_ATTRS], keys[EX_ATTRS], NULL, NULL, NULL);
    lo_jw_obj_end(w);
    return rc;
}

/* A point's exemplars into *out (empty when none). */
static int exemplars(lo_jd_t *c, json_t *arr, lo_str_t *out)
{
    lo_jw_t w;
    *out = LO_STR_LIT("");
    int rc = lo_jd_arr(c, "exemplars", arr);
    size_t n = rc == LO_OK && arr != NULL ? json_array_size(arr) : 0;
    if (n == 0)
        return rc;
    lo_buf_reset(&c->tmp2);
    lo_jw_init(&w, &c->tmp2);
    lo_jw_arr_begin(&w);
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        lo_jd_push(c, "exemplars", (long)i);
        rc = exemplar(c, &w, json_array_get(arr, i));
        lo_jd_pop(c);
    }
    lo_jw_arr_end(&w);
    if (rc == LO_OK)
        rc = lo_jd_keep(c, &c->tmp2, 0, out);
    return rc;
}

/* A JSON array of uint64 (bucket counts) written as a JSON array. */
static int u64_list(lo_jd_t *c, lo_jw_t *w, json_t *arr, const char *key)
{
    int rc = lo_jd_arr(c, key, arr);
    size_t n = rc == LO_OK && arr != NULL ? json_array_size(arr) : 0;
    lo_jw_arr_begin(w);
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        uint64_t x = 0;
        lo_jd_push(c, key, (long)i);
        json_t *v = json_array_get(arr, i);
        rc = json_is_null(v) ? lo_jd_fail(c, NULL, "expected an integer or a decimal string, got null")
                             : lo_jd_u64(c, NULL, v, &x);
        lo_jd_pop(c);
        lo_jw_u64(w, x);
    }
    lo_jw_arr_end(w);
    return rc;
}

static int f64_list(lo_jd_t *c, lo_jw_t *w, json_t *arr, const char *key)
{
    int rc = lo_jd_arr(c, key, arr);
    size_t n = rc == LO_OK && arr != NULL ? json_array_size(arr) : 0;
    lo_jw_arr_begin(w);
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        double x = 0;
        lo_jd_push(c, key, (long)i);
        json_t *v = json_array_get(arr, i);
        rc = json_is_null(v) ? lo_jd_fail(c, NULL, "expected a number, got null") : lo_jd_f64(c, NULL, v, &x);
        lo_jd_pop(c);
        lo_jw_f64(w, x);
    }
    lo_jw_arr_end(w);
    return rc;
}

/* ExponentialHistogramDataPoint.Buckets as {"offset":o,"counts":[..]}. */
static int exp_buckets(lo_jd_t *c, lo_jw_t *w, json_t *v, const char *key)
{
    enum { B_OFFSET, B_COUNTS, B_N };
    static const char *const keys[B_N] = { "offset", "bucketCounts" };
    json_t *f[B_N] = { NULL, NULL };
    int32_t offset = 0;
    lo_jd_push(c, key, -1);
    int rc = lo_jd_obj(c, NULL, v);
    if (rc == LO_OK && v != NULL)
        rc = lo_jd_fields(c, v, keys, B_N, f);
    if (rc == LO_OK)
        rc = lo_jd_i32(c, keys[B_OFFSET], f[B_OFFSET], &offset);
    if (rc == LO_OK) {
        lo_jw_obj_begin(w);
        lo_jw_key(w, "offset", 6);
        lo_jw_i64(w, offset);
        lo_jw_key(w, "counts", 6);
        rc = u64_list(c, w, f[B_COUNTS], keys[B_COUNTS]);
        lo_jw_obj_end(w);
    }
    lo_jd_pop(c);
    return rc;
}

static int quantiles(lo_jd_t *c, lo_jw_t *w, json_t *arr, const char *key)
{
    enum { Q_QUANTILE, Q_VALUE, Q_N };
    static const char *const keys[Q_N] = { "quantile", "value" };
    int rc = lo_jd_arr(c, key, arr);
    size_t n = rc == LO_OK && arr != NULL ? json_array_size(arr) : 0;
    lo_jw_arr_begin(w);
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        json_t *v = json_array_get(arr, i), *f[Q_N];
        double q = 0, x = 0;
        lo_jd_push(c, key, (long)i);
        rc = lo_jd_obj(c, NULL, v);
        if (rc == LO_OK)
            rc = lo_jd_fields(c, v, keys, Q_N, f);
        if (rc == LO_OK)
            rc = lo_jd_f64(c, keys[Q_QUANTILE], f[Q_QUANTILE], &q);
        if (rc == LO_OK)
            rc = lo_jd_f64(c, keys[Q_VALUE], f[Q_VALUE], &x);
        lo_jd_pop(c);
        lo_jw_arr_begin(w);
        lo_jw_f64(w, q);
        lo_jw_f64(w, x);
        lo_jw_arr_end(w);
    }
    lo_jw_arr_end(w);
    return rc;
}

/* The buckets JSON of a histogram, exponential histogram or summary point. */
static int buckets(lo_jd_t *c, const metric_t *m, json_t **f, lo_sample_rec_t *r)
{
    const char *const *keys = m->type == LO_METRIC_HISTOGRAM       ? histogram_keys
                              : m->type == LO_METRIC_EXP_HISTOGRAM ? exp_keys
                                                                   : summary_keys;
    lo_jw_t w;
    int rc = LO_OK;
    lo_buf_reset(&c->tmp2);
    lo_jw_init(&w, &c->tmp2);
    lo_jw_obj_begin(&w);
    if (m->type == LO_METRIC_HISTOGRAM) {
        lo_jw_key(&w, "bounds", 6);
        rc = f64_list(c, &w, f[PK_BOUNDS], keys[PK_BOUNDS]);
        lo_jw_key(&w, "counts", 6);
        if (rc == LO_OK)
            rc = u64_list(c, &w, f[PK_BUCKET_COUNTS], keys[PK_BUCKET_COUNTS]);
    } else if (m->type == LO_METRIC_EXP_HISTOGRAM) {
        int32_t scale = 0;
        uint64_t zero_count = 0;
        double zero_threshold = 0;
        rc = lo_jd_i32(c, keys[PK_SCALE], f[PK_SCALE], &scale);
        if (rc == LO_OK)
            rc = lo_jd_u64(c, keys[PK_ZERO_COUNT], f[PK_ZERO_COUNT], &zero_count);
        if (rc == LO_OK)
            rc = lo_jd_f64(c, keys[PK_ZERO_THRESHOLD], f[PK_ZERO_THRESHOLD], &zero_threshold);
        lo_jw_key(&w, "scale", 5);
        lo_jw_i64(&w, scale);
        lo_jw_key(&w, "zero_count", 10);
        lo_jw_u64(&w, zero_count);
        lo_jw_key(&w, "zero_threshold", 14);
        lo_jw_f64(&w, zero_threshold);
        lo_jw_key(&w, "positive", 8);
        if (rc == LO_OK)
            rc = exp_buckets(c, &w, f[PK_POSITIVE], keys[PK_POSITIVE]);
        lo_jw_key(&w, "negative", 8);
        if (rc == LO_OK)
            rc = exp_buckets(c, &w, f[PK_NEGATIVE], keys[PK_NEGATIVE]);
    } else {
        lo_jw_key(&w, "quantiles", 9);
        rc = quantiles(c, &w, f[PK_QUANTILES], keys[PK_QUANTILES]);
    }
    lo_jw_obj_end(&w);
    if (rc != LO_OK)
        return rc;
    return lo_jd_keep(c, &c->tmp2, 0, &r->buckets);
}

static int data_point(lo_jd_t *c, const metric_t *m, json_t *v)
{
    const char *const *keys = m->type == LO_METRIC_GAUGE || m->type == LO_METRIC_SUM ? number_keys
                              : m->type == LO_METRIC_HISTOGRAM                       ? histogram_keys
                              : m->type == LO_METRIC_EXP_HISTOGRAM                   ? exp_keys
                                                                                     : summary_keys;
    json_t *f[PK_N];
    lo_env_cand_t cand;
    uint64_t start = 0, t = 0, hash = 0;
    size_t npairs = 0;
    lo_jw_t w;
    int rc = lo_jd_obj(c, NULL, v);
    if (rc != LO_OK)
        return rc;
    rc = lo_jd_fields(c, v, keys, PK_N, f);
    if (rc != LO_OK)
        return rc;
    lo_sample_rec_t *r = lo_jd_push_record(c);
    if (r == NULL)
        return LO_ERROR;
    memset(&cand, 0, sizeof(cand));
    r->buckets = LO_STR_LIT("");
    r->name = m->name;
    r->description = m->description;
    r->unit = m->unit;
    r->type = m->type;
    r->temporality = m->temporality;
    r->monotonic = m->monotonic;
    r->resource = m->res->json;
    r->scope_name = m->scope->name;
    r->scope_version = m->scope->version;

    lo_buf_reset(&c->tmp);
    lo_jw_init(&w, &c->tmp);
    rc = lo_jd_attrs(c, &w, f[PK_ATTRS], keys[PK_ATTRS], &cand, &hash, &npairs);
    if (rc == LO_OK)
        rc = lo_jd_keep(c, &c->tmp, 0, &r->labels);
    r->labels_hash = lo_labels_hash_finish(hash, npairs);
    if (rc == LO_OK)
        rc = lo_jd_u64(c, keys[PK_START], f[PK_START], &start);
    if (rc == LO_OK)
        rc = lo_jd_u64(c, keys[PK_TIME], f[PK_TIME], &t);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, keys[PK_FLAGS], f[PK_FLAGS], &r->flags);
    if (rc == LO_OK)
        rc = exemplars(c, f[PK_EXEMPLARS], &r->exemplars);
    if (rc != LO_OK)
        return rc;

    if (m->type == LO_METRIC_GAUGE || m->type == LO_METRIC_SUM) {
        if (f[PK_AS_DOUBLE] != NULL && f[PK_AS_INT] != NULL)
            return lo_jd_fail(c, NULL, "a data point holds one value, got both asDouble and asInt");
        if (f[PK_AS_DOUBLE] != NULL) {
            rc = lo_jd_f64(c, keys[PK_AS_DOUBLE], f[PK_AS_DOUBLE], &r->value);
            r->has_value = true;
        } else if (f[PK_AS_INT] != NULL) {
            int64_t x = 0;
            rc = lo_jd_i64(c, keys[PK_AS_INT], f[PK_AS_INT], &x);
            r->value = (double)x;
            r->has_value = true;
        }
    } else {
        rc = lo_jd_u64(c, keys[PK_COUNT], f[PK_COUNT], &r->count);
        if (rc == LO_OK)
            rc = lo_jd_f64(c, keys[PK_SUM], f[PK_SUM], &r->sum);
        /* sum is optional in histograms; in a summary it is always there */
        r->has_sum = f[PK_SUM] != NULL || m->type == LO_METRIC_SUMMARY;
        if (rc == LO_OK && keys[PK_MIN] != NULL) {
            rc = lo_jd_f64(c, keys[PK_MIN], f[PK_MIN], &r->min);
            r->has_min = f[PK_MIN] != NULL;
        }
        if (rc == LO_OK && keys[PK_MAX] != NULL) {
            rc = lo_jd_f64(c, keys[PK_MAX], f[PK_MAX], &r->max);
            r->has_max = f[PK_MAX] != NULL;
        }
        if (rc == LO_OK)
            rc = buckets(c, m, f, r);
    }
    if (rc != LO_OK)
        return rc;
    r->start_ns = (int64_t)start;
    r->time_ns = t != 0 ? (int64_t)t : c->o->receive_ns;
    lo_jd_envelope(&r->env, &cand, m->scope, m->res);
    return LO_OK;
}

enum {
    M_NAME,
    M_DESCRIPTION,
    M_UNIT,
    M_GAUGE,
    M_SUM,
    M_HISTOGRAM,
    M_EXP_HISTOGRAM,
    M_SUMMARY,
    M_METADATA,
    M_N
};
static const char *const metric_keys[M_N] = {
    "name", "description", "unit", "gauge", "sum", "histogram", "exponentialHistogram", "summary", "metadata",
};

/* The data of one type: {dataPoints, aggregationTemporality, isMonotonic}. */
static int metric_data(lo_jd_t *c, metric_t *m, json_t *v, const char *key)
{
    enum { D_POINTS, D_TEMPORALITY, D_MONOTONIC, D_N };
    const char *keys[D_N] = { "dataPoints", "aggregationTemporality", "isMonotonic" };
    json_t *f[D_N];
    if (m->type == LO_METRIC_GAUGE || m->type == LO_METRIC_SUMMARY)
        keys[D_TEMPORALITY] = NULL;
    if (m->type != LO_METRIC_SUM)
        keys[D_MONOTONIC] = NULL;
    lo_jd_push(c, key, -1);
    int rc = lo_jd_obj(c, NULL, v);
    if (rc == LO_OK)
        rc = lo_jd_fields(c, v, keys, D_N, f);
    if (rc == LO_OK)
        rc = lo_jd_enum(c, keys[D_TEMPORALITY], f[D_TEMPORALITY], &m->temporality);
    if (m->temporality < 0 || m->temporality > 2)
        m->temporality = 0; /* unknown temporalities are "unspecified" */
    if (rc == LO_OK)
        rc = lo_jd_bool(c, keys[D_MONOTONIC], f[D_MONOTONIC], &m->monotonic);
    if (rc == LO_OK)
        rc = lo_jd_arr(c, keys[D_POINTS], f[D_POINTS]);
    size_t n = rc == LO_OK && f[D_POINTS] != NULL ? json_array_size(f[D_POINTS]) : 0;
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        lo_jd_push(c, keys[D_POINTS], (long)i);
        rc = data_point(c, m, json_array_get(f[D_POINTS], i));
        lo_jd_pop(c);
    }
    lo_jd_pop(c);
    return rc;
}

static int metric(lo_jd_t *c, json_t *v, const lo_jd_owner_t *res, const lo_jd_owner_t *scope)
{
    static const lo_metric_type_t types[M_N] = {
        [M_GAUGE] = LO_METRIC_GAUGE,         [M_SUM] = LO_METRIC_SUM,
        [M_HISTOGRAM] = LO_METRIC_HISTOGRAM, [M_EXP_HISTOGRAM] = LO_METRIC_EXP_HISTOGRAM,
        [M_SUMMARY] = LO_METRIC_SUMMARY,
    };
    json_t *f[M_N];
    metric_t m;
    int which = -1;
    memset(&m, 0, sizeof(m));
    m.name = m.description = m.unit = LO_STR_LIT("");
    m.res = res;
    m.scope = scope;
    int rc = lo_jd_obj(c, NULL, v);
    if (rc == LO_OK)
        rc = lo_jd_fields(c, v, metric_keys, M_N, f);
    if (rc == LO_OK)
        rc = lo_jd_str(c, metric_keys[M_NAME], f[M_NAME], &m.name);
    if (rc == LO_OK)
        rc = lo_jd_str(c, metric_keys[M_DESCRIPTION], f[M_DESCRIPTION], &m.description);
    if (rc == LO_OK)
        rc = lo_jd_str(c, metric_keys[M_UNIT], f[M_UNIT], &m.unit);
    if (rc == LO_OK) {
        /* metadata is not stored; checked for wrong types only */
        lo_jw_t w;
        lo_buf_reset(&c->tmp);
        lo_jw_init(&w, &c->tmp);
        rc = lo_jd_attrs(c, &w, f[M_METADATA], metric_keys[M_METADATA], NULL, NULL, NULL);
    }
    for (int i = M_GAUGE; i <= M_SUMMARY && rc == LO_OK; i++) {
        if (f[i] == NULL)
            continue;
        if (which >= 0)
            return lo_jd_fail(c, NULL, "a metric holds one kind of data, got both %s and %s",
                              metric_keys[which], metric_keys[i]);
        which = i;
    }
    if (rc != LO_OK || which < 0)
        return rc;
    m.type = types[which];
    return metric_data(c, &m, f[which], metric_keys[which]);
}

const lo_jd_signal_t lo_jd_metrics = {
    .resources = "resourceMetrics",
    .scopes = "scopeMetrics",
    .records = "metrics",
    .record = metric,
};
