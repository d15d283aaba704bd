/*
 * test_pb_metrics.c — the protobuf walker against protobuf-c for metrics:
 * every metric type, bucket shapes, packed and unpacked repeated scalars,
 * labels hashes, absent optionals.
 */
#include "pb_corpus.h"
#include "pb_oracle.h"

#define T(x) LookoutTest__##x

static T(Exemplar) * *rnd_exemplars(size_t *n)
{
    *n = coin(20) ? rndn(3) : 0;
    T(Exemplar) **e = PARR(T(Exemplar) *, *n);
    for (size_t i = 0; i < *n; i++) {
        e[i] = PNEW(T(Exemplar), LOOKOUT_TEST__EXEMPLAR__INIT);
        e[i]->time_unix_nano = rnd_time();
        uint32_t k = rndn(3);
        if (k == 0) {
            e[i]->value_case = LOOKOUT_TEST__EXEMPLAR__VALUE_AS_DOUBLE;
            e[i]->as_double = rnd_double();
        } else if (k == 1) {
            e[i]->value_case = LOOKOUT_TEST__EXEMPLAR__VALUE_AS_INT;
            e[i]->as_int = (int64_t)(rnd() >> rndn(64));
        }
        e[i]->trace_id = rnd_id(16);
        e[i]->span_id = rnd_id(8);
        e[i]->filtered_attributes = rnd_attrs(&e[i]->n_filtered_attributes, 2);
    }
    return e;
}

static uint64_t *rnd_u64s(size_t *n)
{
    *n = rndn(8);
    uint64_t *v = PARR(uint64_t, *n);
    for (size_t i = 0; i < *n; i++)
        v[i] = coin(80) ? rndn(1000) : rnd();
    return v;
}

static T(Metric) * rnd_metric(void)
{
    T(Metric) *m = PNEW(T(Metric), LOOKOUT_TEST__METRIC__INIT);
    if (coin(95))
        m->name = coin(50) ? pstrdup("http.server.duration") : rnd_str();
    if (coin(50))
        m->description = rnd_str();
    if (coin(50))
        m->unit = pstrdup(coin(50) ? "ms" : "By");
    if (coin(10))
        m->metadata = rnd_attrs(&m->n_metadata, 2);
    size_t np = rndn(4);
    switch (rndn(6)) {
    case 0:
    case 1: {
        bool gauge = coin(50);
        T(NumberDataPoint) **pts = PARR(T(NumberDataPoint) *, np);
        for (size_t i = 0; i < np; i++) {
            T(NumberDataPoint) *p = PNEW(T(NumberDataPoint), LOOKOUT_TEST__NUMBER_DATA_POINT__INIT);
            p->attributes = rnd_attrs(&p->n_attributes, 5);
            p->start_time_unix_nano = rnd_time();
            p->time_unix_nano = rnd_time();
            uint32_t k = rndn(5);
            if (k < 2) {
                p->value_case = LOOKOUT_TEST__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
                p->as_double = rnd_double();
            } else if (k < 4) {
                p->value_case = LOOKOUT_TEST__NUMBER_DATA_POINT__VALUE_AS_INT;
                p->as_int = (int64_t)(rnd() >> rndn(64));
            }
            p->exemplars = rnd_exemplars(&p->n_exemplars);
            p->flags = coin(20) ? rndn(2) : 0;
            pts[i] = p;
        }
        if (gauge) {
            m->data_case = LOOKOUT_TEST__METRIC__DATA_GAUGE;
            m->gauge = PNEW(T(Gauge), LOOKOUT_TEST__GAUGE__INIT);
            m->gauge->n_data_points = np;
            m->gauge->data_points = pts;
        } else {
            m->data_case = LOOKOUT_TEST__METRIC__DATA_SUM;
            m->sum = PNEW(T(Sum), LOOKOUT_TEST__SUM__INIT);
            m->sum->n_data_points = np;
            m->sum->data_points = pts;
            m->sum->aggregation_temporality = coin(90) ? (int32_t)rndn(3) : (int32_t)rnd();
            m->sum->is_monotonic = coin(50);
        }
        break;
    }
    case 2: {
        m->data_case = LOOKOUT_TEST__METRIC__DATA_HISTOGRAM;
        m->histogram = PNEW(T(Histogram), LOOKOUT_TEST__HISTOGRAM__INIT);
        m->histogram->aggregation_temporality = (int32_t)rndn(3);
        m->histogram->n_data_points = np;
        m->histogram->data_points = PARR(T(HistogramDataPoint) *, np);
        for (size_t i = 0; i < np; i++) {
            T(HistogramDataPoint) *p = PNEW(T(HistogramDataPoint), LOOKOUT_TEST__HISTOGRAM_DATA_POINT__INIT);
            p->attributes = rnd_attrs(&p->n_attributes, 5);
            p->start_time_unix_nano = rnd_time();
            p->time_unix_nano = rnd_time();
            p->count = rnd() >> rndn(64);
            if (coin(70)) {
                p->_sum_case = LOOKOUT_TEST__HISTOGRAM_DATA_POINT___SUM_SUM;
                p->sum = rnd_double();
            }
            if (coin(50)) {
                p->_min_case = LOOKOUT_TEST__HISTOGRAM_DATA_POINT___MIN_MIN;
                p->min = rnd_double();
            }
            if (coin(50)) {
                p->_max_case = LOOKOUT_TEST__HISTOGRAM_DATA_POINT___MAX_MAX;
                p->max = rnd_double();
            }
            p->bucket_counts = rnd_u64s(&p->n_bucket_counts);
            p->n_explicit_bounds = p->n_bucket_counts ? p->n_bucket_counts - 1 : 0;
            p->explicit_bounds = PARR(double, p->n_explicit_bounds);
            for (size_t k = 0; k < p->n_explicit_bounds; k++)
                p->explicit_bounds[k] = coin(80) ? (double)k * 2.5 : rnd_double();
            p->exemplars = rnd_exemplars(&p->n_exemplars);
            p->flags = coin(20) ? rndn(2) : 0;
            m->histogram->data_points[i] = p;
        }
        break;
    }
    case 3: {
        m->data_case = LOOKOUT_TEST__METRIC__DATA_EXPONENTIAL_HISTOGRAM;
        m->exponential_histogram = PNEW(T(ExponentialHistogram), LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM__INIT);
        m->exponential_histogram->aggregation_temporality = (int32_t)rndn(3);
        m->exponential_histogram->n_data_points = np;
        m->exponential_histogram->data_points = PARR(T(ExponentialHistogramDataPoint) *, np);
        for (size_t i = 0; i < np; i++) {
            T(ExponentialHistogramDataPoint) *p =
                PNEW(T(ExponentialHistogramDataPoint), LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT__INIT);
            p->attributes = rnd_attrs(&p->n_attributes, 5);
            p->start_time_unix_nano = rnd_time();
            p->time_unix_nano = rnd_time();
            p->count = rnd() >> rndn(64);
            if (coin(70)) {
                p->_sum_case = LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT___SUM_SUM;
                p->sum = rnd_double();
            }
            if (coin(50)) {
                p->_min_case = LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT___MIN_MIN;
                p->min = rnd_double();
            }
            if (coin(50)) {
                p->_max_case = LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT___MAX_MAX;
                p->max = rnd_double();
            }
            p->scale = (int32_t)rndn(41) - 20;
            p->zero_count = rnd() >> rndn(64);
            p->zero_threshold = coin(50) ? 0.0 : rnd_double();
            for (int side = 0; side < 2; side++) {
                if (coin(20))
                    continue;
                T(ExponentialHistogramDataPoint__Buckets) *b =
                    PNEW(T(ExponentialHistogramDataPoint__Buckets),
                         LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT__BUCKETS__INIT);
                b->offset = coin(50) ? (int32_t)rndn(200) - 100 : (int32_t)rnd();
                b->bucket_counts = rnd_u64s(&b->n_bucket_counts);
                if (side == 0)
                    p->positive = b;
                else
                    p->negative = b;
            }
            p->exemplars = rnd_exemplars(&p->n_exemplars);
            p->flags = coin(20) ? rndn(2) : 0;
            m->exponential_histogram->data_points[i] = p;
        }
        break;
    }
    case 4: {
        m->data_case = LOOKOUT_TEST__METRIC__DATA_SUMMARY;
        m->summary = PNEW(T(Summary), LOOKOUT_TEST__SUMMARY__INIT);
        m->summary->n_data_points = np;
        m->summary->data_points = PARR(T(SummaryDataPoint) *, np);
        for (size_t i = 0; i < np; i++) {
            T(SummaryDataPoint) *p = PNEW(T(SummaryDataPoint), LOOKOUT_TEST__SUMMARY_DATA_POINT__INIT);
            p->attributes = rnd_attrs(&p->n_attributes, 5);
            p->start_time_unix_nano = rnd_time();
            p->time_unix_nano = rnd_time();
            p->count = rnd() >> rndn(64);
            p->sum = coin(80) ? rnd_double() : 0.0;
            p->n_quantile_values = rndn(4);
            p->quantile_values = PARR(T(SummaryDataPoint__ValueAtQuantile) *, p->n_quantile_values);
            for (size_t k = 0; k < p->n_quantile_values; k++) {
                T(SummaryDataPoint__ValueAtQuantile) *q =
                    PNEW(T(SummaryDataPoint__ValueAtQuantile),
                         LOOKOUT_TEST__SUMMARY_DATA_POINT__VALUE_AT_QUANTILE__INIT);
                q->quantile = coin(80) ? 0.25 * (double)k : rnd_double();
                q->value = rnd_double();
                p->quantile_values[k] = q;
            }
            p->flags = coin(20) ? rndn(2) : 0;
            m->summary->data_points[i] = p;
        }
        break;
    }
    default: break; /* no data at all */
    }
    return m;
}

static T(ExportMetricsServiceRequest) * rnd_metrics_req(void)
{
    T(ExportMetricsServiceRequest) *q =
        PNEW(T(ExportMetricsServiceRequest), LOOKOUT_TEST__EXPORT_METRICS_SERVICE_REQUEST__INIT);
    q->n_resource_metrics = rndn(3) + (coin(90) ? 1 : 0);
    q->resource_metrics = PARR(T(ResourceMetrics) *, q->n_resource_metrics);
    for (size_t i = 0; i < q->n_resource_metrics; i++) {
        T(ResourceMetrics) *rm = PNEW(T(ResourceMetrics), LOOKOUT_TEST__RESOURCE_METRICS__INIT);
        rm->resource = rnd_resource();
        rm->n_scope_metrics = rndn(3) + 1;
        rm->scope_metrics = PARR(T(ScopeMetrics) *, rm->n_scope_metrics);
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            T(ScopeMetrics) *sm = PNEW(T(ScopeMetrics), LOOKOUT_TEST__SCOPE_METRICS__INIT);
            sm->scope = rnd_scope();
            sm->n_metrics = rndn(5);
            sm->metrics = PARR(T(Metric) *, sm->n_metrics);
            for (size_t k = 0; k < sm->n_metrics; k++)
                sm->metrics[k] = rnd_metric();
            rm->scope_metrics[j] = sm;
        }
        q->resource_metrics[i] = rm;
    }
    return q;
}

/* ---- expected records ---- */

typedef struct {
    lo_metric_type_t type;
    int32_t temporality;
    bool monotonic;
    lo_buf_t labels, buckets, exemplars;
    uint64_t hash;
    lo_env_cand_t cand;
    int64_t start, time;
    bool has_value, has_sum, has_min, has_max;
    double value, sum, min, max;
    uint64_t count;
    uint32_t flags;
} exp_point_t;

static void exp_labels(exp_point_t *e, T(KeyValue) *const *kv, size_t n)
{
    uint64_t acc = 0;
    memset(&e->cand, 0, sizeof(e->cand));
    exp_attrs(&e->labels, kv, n, &e->cand, &acc);
    e->hash = lo_labels_hash_finish(acc, n);
}

static void exp_side(lo_jw_t *w, const T(ExponentialHistogramDataPoint__Buckets) * b)
{
    lo_jw_obj_begin(w);
    lo_jw_key(w, "offset", 6);
    lo_jw_i64(w, b ? b->offset : 0);
    lo_jw_key(w, "counts", 6);
    lo_jw_arr_begin(w);
    for (size_t i = 0; b && i < b->n_bucket_counts; i++)
        lo_jw_u64(w, b->bucket_counts[i]);
    lo_jw_arr_end(w);
    lo_jw_obj_end(w);
}

static bool ok_id(ProtobufCBinaryData b, size_t n)
{
    if (b.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (b.data[i] != 0)
            return true;
    return false;
}

/* The exemplars as the walker writes them (otlp.h). */
static void exp_exemplars(lo_buf_t *out, T(Exemplar) *const *ex, size_t n)
{
    lo_jw_t w;
    lo_buf_t attrs;
    char num[24];
    lo_buf_reset(out);
    if (n == 0)
        return;
    lo_buf_init(&attrs, 0);
    lo_jw_init(&w, out);
    lo_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const T(Exemplar) *e = ex[i];
        lo_jw_obj_begin(&w);
        lo_jw_key(&w, "time_unix_nano", 14);
        lo_jw_str(&w, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)e->time_unix_nano));
        if (e->value_case == LOOKOUT_TEST__EXEMPLAR__VALUE_AS_DOUBLE) {
            lo_jw_key(&w, "value", 5);
            lo_jw_f64(&w, e->as_double);
        } else if (e->value_case == LOOKOUT_TEST__EXEMPLAR__VALUE_AS_INT) {
            lo_jw_key(&w, "value", 5);
            lo_jw_i64(&w, e->as_int);
        }
        if (ok_id(e->trace_id, 16)) {
            lo_jw_key(&w, "trace_id", 8);
            lo_jw_hex(&w, e->trace_id.data, 16);
        }
        if (ok_id(e->span_id, 8)) {
            lo_jw_key(&w, "span_id", 7);
            lo_jw_hex(&w, e->span_id.data, 8);
        }
        lo_jw_key(&w, "attributes", 10);
        exp_attrs(&attrs, e->filtered_attributes, e->n_filtered_attributes, NULL, NULL);
        lo_jw_raw(&w, attrs.p, attrs.len);
        lo_jw_obj_end(&w);
    }
    lo_jw_arr_end(&w);
    lo_buf_free(&attrs);
}

static void assert_double(double got, double want, const char *what)
{
    if (memcmp(&got, &want, sizeof(got)) != 0 && !(got != got && want != want)) {
        print_error("%s: got %.17g want %.17g\n", what, got, want);
        fail();
    }
}

static void check_point(const lo_sample_rec_t *g, const exp_point_t *e, const T(Metric) * m,
                        const lo_env_cand_t *sc, const lo_env_cand_t *rc, const lo_buf_t *res_json,
                        const T(InstrumentationScope) * scope)
{
    assert_int_equal(g->type, e->type);
    assert_text(g->name, m->name, "name");
    assert_text(g->description, m->description, "description");
    assert_text(g->unit, m->unit, "unit");
    assert_int_equal(g->temporality, e->temporality);
    assert_int_equal(g->monotonic, e->monotonic);
    assert_str_buf(g->labels, &e->labels, "labels");
    assert_true(g->labels_hash == e->hash);
    assert_str_buf(g->resource, res_json, "resource");
    assert_text(g->scope_name, scope ? scope->name : "", "scope_name");
    assert_text(g->scope_version, scope ? scope->version : "", "scope_version");
    assert_int_equal(g->start_ns, e->start);
    assert_int_equal(g->time_ns, e->time ? e->time : TEST_RECEIVE_NS);
    assert_int_equal(g->has_value, e->has_value);
    if (e->has_value)
        assert_double(g->value, e->value, "value");
    assert_true(g->count == e->count);
    assert_int_equal(g->has_sum, e->has_sum);
    if (e->has_sum)
        assert_double(g->sum, e->sum, "sum");
    assert_int_equal(g->has_min, e->has_min);
    if (e->has_min)
        assert_double(g->min, e->min, "min");
    assert_int_equal(g->has_max, e->has_max);
    if (e->has_max)
        assert_double(g->max, e->max, "max");
    assert_str_buf(g->buckets, &e->buckets, "buckets");
    assert_str_buf(g->exemplars, &e->exemplars, "exemplars");
    assert_int_equal(g->flags, e->flags);
    lo_envelope_t env;
    memset(&env, 0, sizeof(env));
    lo_envelope_build(&env, &e->cand, sc, rc);
    assert_env(&g->env, &env);
}

static void check_metrics(const T(ExportMetricsServiceRequest) * q, const lo_otlp_batch_t *b)
{
    lo_buf_t res_json, svc;
    exp_point_t e;
    lo_buf_init(&res_json, 0);
    lo_buf_init(&svc, 0);
    memset(&e, 0, sizeof(e));
    lo_buf_init(&e.labels, 0);
    lo_buf_init(&e.buckets, 0);
    lo_buf_init(&e.exemplars, 0);
    size_t n = 0;
    for (size_t i = 0; i < q->n_resource_metrics; i++) {
        const T(ResourceMetrics) *rm = q->resource_metrics[i];
        lo_env_cand_t rc;
        res_cand(rm->resource, &rc, &res_json, &svc);
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            const T(ScopeMetrics) *sm = rm->scope_metrics[j];
            lo_env_cand_t sc;
            scope_cand(sm->scope, &sc);
            for (size_t k = 0; k < sm->n_metrics; k++) {
                const T(Metric) *m = sm->metrics[k];
                size_t np = 0;
                switch (m->data_case) {
                case LOOKOUT_TEST__METRIC__DATA_GAUGE: np = m->gauge->n_data_points; break;
                case LOOKOUT_TEST__METRIC__DATA_SUM: np = m->sum->n_data_points; break;
                case LOOKOUT_TEST__METRIC__DATA_HISTOGRAM: np = m->histogram->n_data_points; break;
                case LOOKOUT_TEST__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
                    np = m->exponential_histogram->n_data_points;
                    break;
                case LOOKOUT_TEST__METRIC__DATA_SUMMARY: np = m->summary->n_data_points; break;
                default: break;
                }
                for (size_t x = 0; x < np; x++) {
                    lo_jw_t w;
                    lo_buf_reset(&e.buckets);
                    lo_jw_init(&w, &e.buckets);
                    e.temporality = 0;
                    e.monotonic = false;
                    e.has_value = e.has_sum = e.has_min = e.has_max = false;
                    e.value = e.sum = e.min = e.max = 0;
                    e.count = 0;
                    lo_buf_reset(&e.exemplars);
                    if (m->data_case == LOOKOUT_TEST__METRIC__DATA_GAUGE ||
                        m->data_case == LOOKOUT_TEST__METRIC__DATA_SUM) {
                        bool gauge = m->data_case == LOOKOUT_TEST__METRIC__DATA_GAUGE;
                        const T(NumberDataPoint) *p =
                            gauge ? m->gauge->data_points[x] : m->sum->data_points[x];
                        e.type = gauge ? LO_METRIC_GAUGE : LO_METRIC_SUM;
                        if (!gauge) {
                            int32_t tv = m->sum->aggregation_temporality;
                            e.temporality = tv >= 0 && tv <= 2 ? tv : 0;
                            e.monotonic = m->sum->is_monotonic;
                        }
                        exp_labels(&e, p->attributes, p->n_attributes);
                        e.start = (int64_t)p->start_time_unix_nano;
                        e.time = (int64_t)p->time_unix_nano;
                        e.has_value = p->value_case != LOOKOUT_TEST__NUMBER_DATA_POINT__VALUE__NOT_SET;
                        e.value = p->value_case == LOOKOUT_TEST__NUMBER_DATA_POINT__VALUE_AS_INT
                                      ? (double)p->as_int
                                      : p->as_double;
                        e.flags = p->flags;
                        exp_exemplars(&e.exemplars, p->exemplars, p->n_exemplars);
                    } else if (m->data_case == LOOKOUT_TEST__METRIC__DATA_HISTOGRAM) {
                        const T(HistogramDataPoint) *p = m->histogram->data_points[x];
                        e.type = LO_METRIC_HISTOGRAM;
                        e.temporality = m->histogram->aggregation_temporality;
                        exp_labels(&e, p->attributes, p->n_attributes);
                        e.start = (int64_t)p->start_time_unix_nano;
                        e.time = (int64_t)p->time_unix_nano;
                        e.count = p->count;
                        e.has_sum = p->_sum_case == LOOKOUT_TEST__HISTOGRAM_DATA_POINT___SUM_SUM;
                        e.sum = e.has_sum ? p->sum : 0;
                        e.has_min = p->_min_case == LOOKOUT_TEST__HISTOGRAM_DATA_POINT___MIN_MIN;
                        e.min = e.has_min ? p->min : 0;
                        e.has_max = p->_max_case == LOOKOUT_TEST__HISTOGRAM_DATA_POINT___MAX_MAX;
                        e.max = e.has_max ? p->max : 0;
                        e.flags = p->flags;
                        exp_exemplars(&e.exemplars, p->exemplars, p->n_exemplars);
                        lo_jw_obj_begin(&w);
                        lo_jw_key(&w, "bounds", 6);
                        lo_jw_arr_begin(&w);
                        for (size_t y = 0; y < p->n_explicit_bounds; y++)
                            lo_jw_f64(&w, p->explicit_bounds[y]);
                        lo_jw_arr_end(&w);
                        lo_jw_key(&w, "counts", 6);
                        lo_jw_arr_begin(&w);
                        for (size_t y = 0; y < p->n_bucket_counts; y++)
                            lo_jw_u64(&w, p->bucket_counts[y]);
                        lo_jw_arr_end(&w);
                        lo_jw_obj_end(&w);
                    } else if (m->data_case == LOOKOUT_TEST__METRIC__DATA_EXPONENTIAL_HISTOGRAM) {
                        const T(ExponentialHistogramDataPoint) *p = m->exponential_histogram->data_points[x];
                        e.type = LO_METRIC_EXP_HISTOGRAM;
                        e.temporality = m->exponential_histogram->aggregation_temporality;
                        exp_labels(&e, p->attributes, p->n_attributes);
                        e.start = (int64_t)p->start_time_unix_nano;
                        e.time = (int64_t)p->time_unix_nano;
                        e.count = p->count;
                        e.has_sum = p->_sum_case == LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT___SUM_SUM;
                        e.sum = e.has_sum ? p->sum : 0;
                        e.has_min = p->_min_case == LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT___MIN_MIN;
                        e.min = e.has_min ? p->min : 0;
                        e.has_max = p->_max_case == LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT___MAX_MAX;
                        e.max = e.has_max ? p->max : 0;
                        e.flags = p->flags;
                        exp_exemplars(&e.exemplars, p->exemplars, p->n_exemplars);
                        lo_jw_obj_begin(&w);
                        lo_jw_key(&w, "scale", 5);
                        lo_jw_i64(&w, p->scale);
                        lo_jw_key(&w, "zero_count", 10);
                        lo_jw_u64(&w, p->zero_count);
                        lo_jw_key(&w, "zero_threshold", 14);
                        lo_jw_f64(&w, p->zero_threshold);
                        lo_jw_key(&w, "positive", 8);
                        exp_side(&w, p->positive);
                        lo_jw_key(&w, "negative", 8);
                        exp_side(&w, p->negative);
                        lo_jw_obj_end(&w);
                    } else {
                        const T(SummaryDataPoint) *p = m->summary->data_points[x];
                        e.type = LO_METRIC_SUMMARY;
                        exp_labels(&e, p->attributes, p->n_attributes);
                        e.start = (int64_t)p->start_time_unix_nano;
                        e.time = (int64_t)p->time_unix_nano;
                        e.count = p->count;
                        e.has_sum = true;
                        e.sum = p->sum;
                        e.flags = p->flags;
                        lo_jw_obj_begin(&w);
                        lo_jw_key(&w, "quantiles", 9);
                        lo_jw_arr_begin(&w);
                        for (size_t y = 0; y < p->n_quantile_values; y++) {
                            lo_jw_arr_begin(&w);
                            lo_jw_f64(&w, p->quantile_values[y]->quantile);
                            lo_jw_f64(&w, p->quantile_values[y]->value);
                            lo_jw_arr_end(&w);
                        }
                        lo_jw_arr_end(&w);
                        lo_jw_obj_end(&w);
                    }
                    assert_true(n < b->n);
                    check_point(&b->samples[n++], &e, m, &sc, &rc, &res_json, sm->scope);
                }
            }
        }
    }
    assert_int_equal(n, b->n);
    lo_buf_free(&res_json);
    lo_buf_free(&svc);
    lo_buf_free(&e.labels);
    lo_buf_free(&e.buckets);
    lo_buf_free(&e.exemplars);
}

static void test_random_requests(void **state)
{
    (void)state;
    lo_redact_t *red = lo_redact_create("password,authorization,cookie,token");
    for (int iter = 0; iter < 300; iter++) {
        g_redact = iter % 2 ? red : NULL;
        T(ExportMetricsServiceRequest) *q = rnd_metrics_req();
        size_t n;
        uint8_t *p = pack_msg(&q->base, &n);
        dec_t d = { 0 };
        int rc = dec_run(&d, LO_SIGNAL_METRICS, p, n);
        if (rc != LO_OK)
            print_error("decode: %s\n", d.b.error);
        assert_int_equal(rc, LO_OK);
        T(ExportMetricsServiceRequest) *u = lookout_test__export_metrics_service_request__unpack(NULL, n, p);
        assert_non_null(u);
        check_metrics(u, &d.b);
        lookout_test__export_metrics_service_request__free_unpacked(u, NULL);
        dec_free(&d);
        free(p);
        pool_free();
    }
    g_redact = NULL;
    lo_redact_destroy(red);
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    for (int iter = 0; iter < 5; iter++) {
        T(ExportMetricsServiceRequest) *q = rnd_metrics_req();
        size_t n;
        uint8_t *p = pack_msg(&q->base, &n);
        for (size_t cut = 0; cut < n; cut++) {
            dec_t d = { 0 };
            int rc = dec_run(&d, LO_SIGNAL_METRICS, p, cut);
            T(ExportMetricsServiceRequest) *u =
                lookout_test__export_metrics_service_request__unpack(NULL, cut, p);
            if (u == NULL) {
                assert_int_equal(rc, LO_INVALID);
                assert_true(d.b.error[0] != '\0');
            } else {
                assert_int_equal(rc, LO_OK);
                check_metrics(u, &d.b);
                lookout_test__export_metrics_service_request__free_unpacked(u, NULL);
            }
            dec_free(&d);
        }
        free(p);
        pool_free();
    }
}

/* Wraps a data point (bytes) as Metric{type field: {1: point}} in a request. */
static void wrap_point(wbuf_t *out, uint32_t type_field, const uint8_t *pt, size_t n)
{
    wbuf_t data = { .n = 0 }, m = { .n = 0 }, sm = { .n = 0 }, rm = { .n = 0 };
    w_bytes(&data, 1, pt, n);
    w_bytes(&m, 1, "m", 1);
    w_sub(&m, type_field, &data);
    w_sub(&sm, 2, &m);
    w_sub(&rm, 2, &sm);
    out->n = 0;
    w_sub(out, 1, &rm);
}

static lo_str_t decode_buckets(const wbuf_t *body, dec_t *d)
{
    assert_int_equal(dec_run(d, LO_SIGNAL_METRICS, body->p, body->n), LO_OK);
    assert_int_equal(d->b.n, 1);
    return d->b.samples[0].buckets;
}

static void test_packed_and_unpacked(void **state)
{
    (void)state;
    static uint64_t counts[] = { 1, 0, 300, 1ULL << 60 };
    static double bounds[] = { 0.5, 1, 2.5 };
    /* explicit histogram */
    T(HistogramDataPoint) hp = LOOKOUT_TEST__HISTOGRAM_DATA_POINT__INIT;
    T(HistogramDataPointUnpacked) hu = LOOKOUT_TEST__HISTOGRAM_DATA_POINT_UNPACKED__INIT;
    hp.n_bucket_counts = hu.n_bucket_counts = 4;
    hp.bucket_counts = hu.bucket_counts = counts;
    hp.n_explicit_bounds = hu.n_explicit_bounds = 3;
    hp.explicit_bounds = hu.explicit_bounds = bounds;
    hp.count = hu.count = 7;
    size_t n1, n2;
    uint8_t *p1 = pack_msg(&hp.base, &n1), *p2 = pack_msg(&hu.base, &n2);
    assert_int_not_equal(n1, n2); /* really two encodings */
    wbuf_t b1, b2;
    wrap_point(&b1, 9, p1, n1);
    wrap_point(&b2, 9, p2, n2);
    dec_t d1 = { 0 }, d2 = { 0 };
    lo_str_t s1 = decode_buckets(&b1, &d1), s2 = decode_buckets(&b2, &d2);
    assert_true(lo_str_eq(s1, "{\"bounds\":[0.5,1,2.5],\"counts\":[1,0,300,\"1152921504606846976\"]}"));
    assert_true(s1.len == s2.len && memcmp(s1.p, s2.p, s1.len) == 0);
    assert_true(d1.b.samples[0].count == 7);
    assert_false(d1.b.samples[0].has_sum);
    dec_free(&d1);
    dec_free(&d2);
    free(p1);
    free(p2);

    /* exponential buckets: varints packed and not */
    T(ExponentialHistogramDataPoint) ep = LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT__INIT;
    T(ExponentialHistogramDataPoint__Buckets)
    bp = LOOKOUT_TEST__EXPONENTIAL_HISTOGRAM_DATA_POINT__BUCKETS__INIT;
    bp.offset = -3;
    bp.n_bucket_counts = 4;
    bp.bucket_counts = counts;
    ep.positive = &bp;
    ep.scale = -2;
    uint8_t *pe = pack_msg(&ep.base, &n1);
    wrap_point(&b1, 10, pe, n1);
    T(BucketsUnpacked) bu = LOOKOUT_TEST__BUCKETS_UNPACKED__INIT;
    bu.offset = -3;
    bu.n_bucket_counts = 4;
    bu.bucket_counts = counts;
    uint8_t *pb = pack_msg(&bu.base, &n2);
    wbuf_t pt = { .n = 0 };
    w_tag(&pt, 6, 0);
    w_varint(&pt, 3); /* zigzag(-2) */
    w_bytes(&pt, 8, pb, n2);
    wrap_point(&b2, 10, pt.p, pt.n);
    s1 = decode_buckets(&b1, &d1);
    s2 = decode_buckets(&b2, &d2);
    assert_true(lo_str_eq(s1, "{\"scale\":-2,\"zero_count\":0,\"zero_threshold\":0,"
                              "\"positive\":{\"offset\":-3,\"counts\":[1,0,300,\"1152921504606846976\"]},"
                              "\"negative\":{\"offset\":0,\"counts\":[]}}"));
    assert_true(s1.len == s2.len && memcmp(s1.p, s2.p, s1.len) == 0);
    dec_free(&d1);
    dec_free(&d2);
    free(pe);
    free(pb);

    /* a packed fixed64 run whose length is not a multiple of 8 */
    pt.n = 0;
    w_bytes(&pt, 6, "1234567", 7);
    wrap_point(&b1, 9, pt.p, pt.n);
    assert_int_equal(dec_run(&d1, LO_SIGNAL_METRICS, b1.p, b1.n), LO_INVALID);
    assert_non_null(strstr(d1.b.error, "metrics[0].histogram.data_points[0]: field 6: packed length"));
    dec_free(&d1);
}

static void test_points_and_absent_values(void **state)
{
    (void)state;
    wbuf_t pt = { .n = 0 }, body;
    dec_t d = { 0 };
    /* a gauge point with nothing set */
    wrap_point(&body, 5, pt.p, 0);
    assert_int_equal(dec_run(&d, LO_SIGNAL_METRICS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.n, 1);
    const lo_sample_rec_t *s = &d.b.samples[0];
    assert_int_equal(s->type, LO_METRIC_GAUGE);
    assert_false(s->has_value);
    assert_true(lo_str_eq(s->labels, "{}"));
    assert_true(s->labels_hash == lo_labels_hash_finish(0, 0));
    assert_int_equal(s->buckets.len, 0);
    assert_int_equal(s->time_ns, TEST_RECEIVE_NS);
    assert_true(lo_str_eq(s->name, "m"));
    dec_free(&d);
    /* label order does not change the hash */
    wbuf_t kv1 = { .n = 0 }, kv2 = { .n = 0 }, v = { .n = 0 };
    w_tag(&v, 3, 0);
    w_varint(&v, 5);
    w_bytes(&kv1, 1, "a", 1);
    w_sub(&kv1, 2, &v);
    w_bytes(&kv2, 1, "b", 1);
    w_sub(&kv2, 2, &v);
    pt.n = 0;
    w_sub(&pt, 7, &kv1);
    w_sub(&pt, 7, &kv2);
    wrap_point(&body, 7, pt.p, pt.n);
    assert_int_equal(dec_run(&d, LO_SIGNAL_METRICS, body.p, body.n), LO_OK);
    uint64_t h1 = d.b.samples[0].labels_hash;
    assert_true(lo_str_eq(d.b.samples[0].labels, "{\"a\":5,\"b\":5}"));
    dec_free(&d);
    pt.n = 0;
    w_sub(&pt, 7, &kv2);
    w_sub(&pt, 7, &kv1);
    wrap_point(&body, 7, pt.p, pt.n);
    assert_int_equal(dec_run(&d, LO_SIGNAL_METRICS, body.p, body.n), LO_OK);
    assert_true(d.b.samples[0].labels_hash == h1);
    dec_free(&d);
    /* a metric without data: no points, no error */
    wbuf_t m = { .n = 0 }, sm = { .n = 0 }, rm = { .n = 0 };
    w_bytes(&m, 1, "empty", 5);
    w_sub(&sm, 2, &m);
    w_sub(&rm, 2, &sm);
    body.n = 0;
    w_sub(&body, 1, &rm);
    assert_int_equal(dec_run(&d, LO_SIGNAL_METRICS, body.p, body.n), LO_OK);
    assert_int_equal(d.b.n, 0);
    dec_free(&d);
}

static void corpus_one(const uint8_t *p, size_t n, const char *name)
{
    T(ExportMetricsServiceRequest) *u = lookout_test__export_metrics_service_request__unpack(NULL, n, p);
    if (u == NULL)
        return;
    dec_t d = { 0 };
    int rc = dec_run(&d, LO_SIGNAL_METRICS, p, n);
    if (rc != LO_OK)
        print_error("%s: %s\n", name, d.b.error);
    assert_int_equal(rc, LO_OK);
    check_metrics(u, &d.b);
    lookout_test__export_metrics_service_request__free_unpacked(u, NULL);
    dec_free(&d);
}

static void test_corpus(void **state)
{
    (void)state;
    int n = corpus_each("fuzz/corpus/fuzz_pb_metrics", corpus_one);
    print_message("corpus: %d metrics bodies\n", n);
}

static const ProtobufCMessage *gen_seed(void)
{
    return &rnd_metrics_req()->base;
}

static void test_seeds(void **state)
{
    (void)state;
    corpus_write_seeds("fuzz_pb_metrics", gen_seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_requests),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_packed_and_unpacked),
        cmocka_unit_test(test_points_and_absent_values),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
