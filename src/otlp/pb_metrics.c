/*
 * pb_metrics.c — ExportMetricsServiceRequest -> one lo_sample_rec_t per data
 * point, for every metric type.  Histogram-like points keep count, sum,
 * min, max and their buckets as JSON (shapes in otlp.h); repeated scalars
 * are accepted packed and unpacked.
 */
#include <stdio.h>

#include "otlp/pb_internal.h"

/* What every point of one Metric shares. */
typedef struct {
    lo_str_t name, description, unit;
    lo_metric_type_t type;
    int32_t temporality;
    bool monotonic;
} metric_t;

static double as_double(uint64_t v)
{
    double x;
    memcpy(&x, &v, sizeof(x));
    return x;
}

/* Appends every value of a repeated fixed64/double field (number num) of the
 * message p/n to w, packed or not. */
static int fixed64_list(lo_pbd_t *d, lo_buf_t *w, const uint8_t *p, size_t n, uint32_t num, bool dbl)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    bool first = true;
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != num)
            continue;
        if (f.wt == LO_PB_I64) {
            if (!first)
                lo_pbd_c(w, ',');
            first = false;
            dbl ? lo_pbd_json_f64(w, as_double(f.v)) : lo_pbd_json_u64(w, f.v);
            continue;
        }
        if (f.wt != LO_PB_LEN)
            return lo_pbd_wt_fail(d, &f);
        if (f.n % 8 != 0)
            return lo_pbd_fail(d, "field %u: packed length %zu is not a multiple of 8", num, f.n);
        lo_pb_packed_t k = { f.p, f.p + f.n };
        uint64_t v;
        while (lo_pb_packed_next64(&k, &v) == 1) {
            if (!first)
                lo_pbd_c(w, ',');
            first = false;
            dbl ? lo_pbd_json_f64(w, as_double(v)) : lo_pbd_json_u64(w, v);
        }
    }
    return LO_OK;
}

/* ExponentialHistogramDataPoint.Buckets: 1 offset (sint32), 2 bucket_counts
 * (varint, packed or not) -> {"offset":o,"counts":[..]}. */
static int exp_buckets(lo_pbd_t *d, lo_buf_t *w, const uint8_t *p, size_t n)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    int32_t offset = 0;
    int rc;
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num == 1) {
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            offset = lo_pb_zigzag32(f.v);
        } else if (f.num == 2 && f.wt != LO_PB_VARINT && f.wt != LO_PB_LEN) {
            return lo_pbd_wt_fail(d, &f);
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    bool first = true;
    LO_PBD_LIT(w, "{\"offset\":");
    lo_pbd_json_i64(w, offset);
    LO_PBD_LIT(w, ",\"counts\":[");
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 2)
            continue;
        if (f.wt == LO_PB_VARINT) {
            if (!first)
                lo_pbd_c(w, ',');
            first = false;
            lo_pbd_json_u64(w, f.v);
            continue;
        }
        lo_pb_packed_t k = { f.p, f.p + f.n };
        uint64_t v;
        while ((rc = lo_pb_packed_next_varint(&k, &v)) == LO_PB_FIELD) {
            if (!first)
                lo_pbd_c(w, ',');
            first = false;
            lo_pbd_json_u64(w, v);
        }
        if (rc != 0)
            return lo_pbd_fail(d, "field 2: malformed packed varints");
    }
    LO_PBD_LIT(w, "]}");
    return LO_OK;
}

/* Summary quantiles: each ValueAtQuantile{1 quantile, 2 value} -> [q,v]. */
static int quantile(lo_pbd_t *d, lo_buf_t *w, const uint8_t *p, size_t n)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    uint64_t q = 0, v = 0;
    int rc;
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num == 1 || f.num == 2) {
            LO_PBD_WANT(d, f, LO_PB_I64);
            if (f.num == 1)
                q = f.v;
            else
                v = f.v;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    lo_pbd_c(w, '[');
    lo_pbd_json_f64(w, as_double(q));
    lo_pbd_c(w, ',');
    lo_pbd_json_f64(w, as_double(v));
    lo_pbd_c(w, ']');
    return LO_OK;
}

/* What an exponential histogram point says about its buckets (read in the
 * field walk, written out after it). */
typedef struct {
    int32_t scale;
    uint64_t zero_count, zero_threshold;
    const uint8_t *pos, *neg;
    size_t pos_n, neg_n;
} exph_t;

/* The fields only histograms have (bucket lists are read again later). */
static int hist_field(lo_pbd_t *d, lo_sample_rec_t *rec, const lo_pb_field_t *f)
{
    if (f->num == 6 || f->num == 7) {
        if (f->wt != LO_PB_I64 && f->wt != LO_PB_LEN)
            return lo_pbd_wt_fail(d, f);
    } else if (f->num == 8) {
        LO_PBD_WANT(d, *f, LO_PB_LEN);
    } else if (f->num == 11 || f->num == 12) {
        LO_PBD_WANT(d, *f, LO_PB_I64);
        if (f->num == 11) {
            rec->min = as_double(f->v);
            rec->has_min = true;
        } else {
            rec->max = as_double(f->v);
            rec->has_max = true;
        }
    }
    return LO_OK;
}

/* The fields only exponential histograms have. */
static int exph_field(lo_pbd_t *d, lo_sample_rec_t *rec, const lo_pb_field_t *f, exph_t *x)
{
    switch (f->num) {
    case 6:
        LO_PBD_WANT(d, *f, LO_PB_VARINT);
        x->scale = lo_pb_zigzag32(f->v);
        break;
    case 7:
        LO_PBD_WANT(d, *f, LO_PB_I64);
        x->zero_count = f->v;
        break;
    case 8:
        LO_PBD_WANT(d, *f, LO_PB_LEN);
        x->pos = f->p;
        x->pos_n = f->n;
        break;
    case 9:
        LO_PBD_WANT(d, *f, LO_PB_LEN);
        x->neg = f->p;
        x->neg_n = f->n;
        break;
    case 11: LO_PBD_WANT(d, *f, LO_PB_LEN); break;
    case 12:
        LO_PBD_WANT(d, *f, LO_PB_I64);
        rec->min = as_double(f->v);
        rec->has_min = true;
        break;
    case 13:
        LO_PBD_WANT(d, *f, LO_PB_I64);
        rec->max = as_double(f->v);
        rec->has_max = true;
        break;
    case 14:
        LO_PBD_WANT(d, *f, LO_PB_I64);
        x->zero_threshold = f->v;
        break;
    }
    return LO_OK;
}

/* {"bounds":[...],"counts":[...]} of a histogram point p. */
static int hist_buckets(lo_pbd_t *d, lo_buf_t *w, const uint8_t *p, size_t n)
{
    LO_PBD_LIT(w, "{\"bounds\":[");
    int rc = fixed64_list(d, w, p, n, 7, true);
    if (rc != LO_OK)
        return rc;
    LO_PBD_LIT(w, "],\"counts\":[");
    rc = fixed64_list(d, w, p, n, 6, false);
    if (rc != LO_OK)
        return rc;
    LO_PBD_LIT(w, "]}");
    return LO_OK;
}

/* {"scale":..,"zero_count":..,"zero_threshold":..,"positive":..,"negative":..} */
static int exph_buckets(lo_pbd_t *d, lo_buf_t *w, const exph_t *x)
{
    LO_PBD_LIT(w, "{\"scale\":");
    lo_pbd_json_i64(w, x->scale);
    LO_PBD_LIT(w, ",\"zero_count\":");
    lo_pbd_json_u64(w, x->zero_count);
    LO_PBD_LIT(w, ",\"zero_threshold\":");
    lo_pbd_json_f64(w, as_double(x->zero_threshold));
    LO_PBD_LIT(w, ",\"positive\":");
    lo_pbd_push(d, "positive", -1);
    int rc = exp_buckets(d, w, x->pos != NULL ? x->pos : (const uint8_t *)"", x->pos_n);
    if (rc != LO_OK)
        return rc;
    lo_pbd_pop(d);
    LO_PBD_LIT(w, ",\"negative\":");
    lo_pbd_push(d, "negative", -1);
    rc = exp_buckets(d, w, x->neg != NULL ? x->neg : (const uint8_t *)"", x->neg_n);
    if (rc != LO_OK)
        return rc;
    lo_pbd_pop(d);
    lo_pbd_c(w, '}');
    return LO_OK;
}

/* {"quantiles":[...]} of a summary point p. */
static int summary_quantiles(lo_pbd_t *d, lo_buf_t *w, const uint8_t *p, size_t n)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    LO_PBD_LIT(w, "{\"quantiles\":[");
    int64_t i = 0;
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 6)
            continue;
        if (i > 0)
            lo_pbd_c(w, ',');
        lo_pbd_push(d, "quantile_values", i++);
        int rc = quantile(d, w, f.p, f.n);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    LO_PBD_LIT(w, "]}");
    return LO_OK;
}

/* Exemplar{7 filtered_attributes, 2 time_unix_nano, 3 as_double, 6 as_int,
 * 4 span_id, 5 trace_id} -> one object of lo_sample_rec_t.exemplars. */
static int exemplar(lo_pbd_t *d, lo_buf_t *w, const uint8_t *p, size_t n)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    uint64_t t = 0, v = 0;
    int value = 0; /* 3 double, 6 int */
    const uint8_t *trace = NULL, *span = NULL;
    size_t npairs = 0;
    int rc;
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num == 2 || f.num == 3 || f.num == 6) {
            LO_PBD_WANT(d, f, LO_PB_I64);
            if (f.num == 2)
                t = f.v;
            else
                v = f.v, value = (int)f.num; /* oneof value: the last wins */
        } else if (f.num == 4 || f.num == 5 || f.num == 7) {
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (f.num == 4)
                span = lo_otlp_id_ok(f.p, f.n, 8) ? f.p : NULL;
            else if (f.num == 5)
                trace = lo_otlp_id_ok(f.p, f.n, 16) ? f.p : NULL;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    char num[24];
    LO_PBD_LIT(w, "{\"time_unix_nano\":\"");
    lo_pbd_put(w, num, (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)t));
    lo_pbd_c(w, '"');
    if (value) {
        LO_PBD_LIT(w, ",\"value\":");
        value == 3 ? lo_pbd_json_f64(w, as_double(v)) : lo_pbd_json_i64(w, (int64_t)v);
    }
    if (trace) {
        LO_PBD_LIT(w, ",\"trace_id\":");
        lo_pbd_json_hex(w, trace, 16);
    }
    if (span) {
        LO_PBD_LIT(w, ",\"span_id\":");
        lo_pbd_json_hex(w, span, 8);
    }
    LO_PBD_LIT(w, ",\"attributes\":{");
    bool first = true;
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 7)
            continue;
        lo_pbd_push(d, "filtered_attributes", (int64_t)npairs++);
        rc = lo_pbd_keyvalue(d, w, &first, f.p, f.n, NULL, NULL);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    LO_PBD_LIT(w, "}}");
    return LO_OK;
}

/* The exemplars of a point (field num of p/n) into rec->exemplars. */
static int exemplars(lo_pbd_t *d, lo_sample_rec_t *rec, const uint8_t *p, size_t n, uint32_t num)
{
    lo_buf_t *w = &d->aux2;
    lo_pb_reader_t r;
    lo_pb_field_t f;
    int64_t i = 0;
    lo_buf_reset(w);
    lo_pbd_c(w, '[');
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != num)
            continue;
        if (i > 0)
            lo_pbd_c(w, ',');
        lo_pbd_push(d, "exemplars", i++);
        int rc = exemplar(d, w, f.p, f.n);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    lo_pbd_c(w, ']');
    if (i == 0)
        return LO_OK;
    return lo_pbd_finish(d, w, &rec->exemplars);
}

static int point(lo_pbd_t *d, const metric_t *m, const uint8_t *p, size_t n, const lo_pbd_res_t *res,
                 const lo_pbd_scope_t *scope)
{
    lo_sample_rec_t *rec = lo_otlp_batch_push(d->b);
    if (rec == NULL)
        return lo_pbd_push_fail(d);
    const bool number = m->type == LO_METRIC_GAUGE || m->type == LO_METRIC_SUM;
    const bool hist = m->type == LO_METRIC_HISTOGRAM, exph = m->type == LO_METRIC_EXP_HISTOGRAM;
    const bool summ = m->type == LO_METRIC_SUMMARY;
    /* attributes and flags move around between the point types */
    const uint32_t f_attrs = hist ? 9 : exph ? 1 : 7;
    const uint32_t f_flags = hist || exph ? 10 : 8;
    lo_env_cand_t cand;
    lo_pb_reader_t r;
    lo_pb_field_t f;
    uint64_t t = 0, hash = 0;
    exph_t x = { 0 };
    size_t npairs = 0;
    int rc;
    memset(&cand, 0, sizeof(cand));
    rec->name = m->name;
    rec->description = m->description;
    rec->unit = m->unit;
    rec->type = m->type;
    rec->temporality = m->temporality;
    rec->monotonic = m->monotonic;
    rec->buckets = LO_STR_LIT("");
    rec->exemplars = LO_STR_LIT("");
    rec->has_sum = summ;
    bool first = true;
    lo_buf_reset(&d->attrs);
    lo_pbd_c(&d->attrs, '{');
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        uint32_t k = f.num;
        if (k == f_attrs) {
            LO_PBD_WANT(d, f, LO_PB_LEN);
            lo_pbd_push(d, "attributes", (int64_t)npairs++);
            rc = lo_pbd_keyvalue(d, &d->attrs, &first, f.p, f.n, &cand, &hash);
            if (rc != LO_OK)
                return rc;
            lo_pbd_pop(d);
        } else if (k == f_flags) {
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            rec->flags = (uint32_t)f.v;
        } else if (k == 2) {
            LO_PBD_WANT(d, f, LO_PB_I64);
            rec->start_ns = (int64_t)f.v;
        } else if (k == 3) {
            LO_PBD_WANT(d, f, LO_PB_I64);
            t = f.v;
        } else if (number) {
            if (k == 4 || k == 6) { /* as_double, as_int (sfixed64): the last wins */
                LO_PBD_WANT(d, f, LO_PB_I64);
                rec->value = k == 4 ? as_double(f.v) : (double)(int64_t)f.v;
                rec->has_value = true;
            } else if (k == 5) {
                LO_PBD_WANT(d, f, LO_PB_LEN); /* exemplars: below */
            }
        } else if (k == 4) {
            LO_PBD_WANT(d, f, LO_PB_I64);
            rec->count = f.v;
        } else if (k == 5) {
            LO_PBD_WANT(d, f, LO_PB_I64);
            rec->sum = as_double(f.v);
            rec->has_sum = true;
        } else if (hist || exph) {
            rc = hist ? hist_field(d, rec, &f) : exph_field(d, rec, &f, &x);
            if (rc != LO_OK)
                return rc;
        } else if (summ && k == 6) {
            LO_PBD_WANT(d, f, LO_PB_LEN);
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    lo_pbd_c(&d->attrs, '}');
    rc = lo_pbd_finish(d, &d->attrs, &rec->labels);
    if (rc != LO_OK)
        return rc;
    rec->labels_hash = lo_labels_hash_finish(hash, npairs);

    if (!number) {
        lo_buf_t *w = &d->aux1;
        lo_buf_reset(w);
        rc = hist ? hist_buckets(d, w, p, n) : exph ? exph_buckets(d, w, &x) : summary_quantiles(d, w, p, n);
        if (rc == LO_OK)
            rc = lo_pbd_finish(d, w, &rec->buckets);
        if (rc != LO_OK)
            return rc;
    }
    if (!summ && (rc = exemplars(d, rec, p, n, number ? 5 : hist ? 8 : 11)) != LO_OK)
        return rc;
    rec->time_ns = t != 0 ? (int64_t)t : d->receive_ns;
    rec->resource = res->json;
    rec->scope_name = scope->name;
    rec->scope_version = scope->version;
    lo_pbd_envelope(&rec->env, &cand, scope);
    return LO_OK;
}

static const char *type_name(lo_metric_type_t t)
{
    switch (t) {
    case LO_METRIC_GAUGE: return "gauge";
    case LO_METRIC_SUM: return "sum";
    case LO_METRIC_HISTOGRAM: return "histogram";
    case LO_METRIC_EXP_HISTOGRAM: return "exponential_histogram";
    default: return "summary";
    }
}

static int metric(lo_pbd_t *d, const uint8_t *p, size_t n, const lo_pbd_res_t *res,
                  const lo_pbd_scope_t *scope)
{
    metric_t m;
    lo_pb_reader_t r;
    lo_pb_field_t f;
    const uint8_t *data = NULL;
    size_t data_n = 0;
    int rc;
    memset(&m, 0, sizeof(m));
    m.name = m.description = m.unit = LO_STR_LIT("");
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        lo_str_t *s = NULL;
        lo_metric_type_t t = 0;
        switch (f.num) {
        case 1: s = &m.name; break;
        case 2: s = &m.description; break;
        case 3: s = &m.unit; break;
        case 5: t = LO_METRIC_GAUGE; break;
        case 7: t = LO_METRIC_SUM; break;
        case 9: t = LO_METRIC_HISTOGRAM; break;
        case 10: t = LO_METRIC_EXP_HISTOGRAM; break;
        case 11: t = LO_METRIC_SUMMARY; break;
        case 12: LO_PBD_WANT(d, f, LO_PB_LEN); break; /* metadata: not stored */
        default: continue;
        }
        if (s != NULL || t != 0)
            LO_PBD_WANT(d, f, LO_PB_LEN);
        if (s != NULL && lo_pbd_string(d, f.p, f.n, s) != LO_OK)
            return LO_ERROR;
        if (t != 0) { /* oneof data: the last one wins */
            m.type = t;
            data = f.p;
            data_n = f.n;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    if (data == NULL)
        return LO_OK; /* a metric without data has no points */

    /* Gauge{1 points} Sum{1 points, 2 temporality, 3 monotonic}
     * Histogram/ExponentialHistogram{1 points, 2 temporality} Summary{1 points} */
    lo_pbd_push(d, type_name(m.type), -1);
    lo_pb_init(&r, data, data_n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num == 1) {
            LO_PBD_WANT(d, f, LO_PB_LEN);
        } else if (f.num == 2 && m.type != LO_METRIC_GAUGE && m.type != LO_METRIC_SUMMARY) {
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            int32_t tv = (int32_t)(uint32_t)f.v;
            m.temporality = tv >= 0 && tv <= 2 ? tv : 0;
        } else if (f.num == 3 && m.type == LO_METRIC_SUM) {
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            m.monotonic = f.v != 0;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    int64_t i = 0;
    lo_pb_init(&r, data, data_n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 1)
            continue;
        lo_pbd_push(d, "data_points", i++);
        rc = point(d, &m, f.p, f.n, res, scope);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    lo_pbd_pop(d);
    return LO_OK;
}

int lo_pbd_metrics(lo_pbd_t *d, const uint8_t *p, size_t n)
{
    static const char *const names[3] = { "resource_metrics", "scope_metrics", "metrics" };
    return lo_pbd_request(d, p, n, names, metric);
}
