/* copy_metrics.c — one data point as a COPY row of metric_samples. */
#include <assert.h>

#include "ingest/copy.h"
#include "store/columns.h"

int lo_copy_sample_row(lo_copy_ctx_t *c, lo_buf_t *b, const lo_sample_rec_t *r, int64_t series_id)
{
    const lo_envelope_t *e = &r->env;
    size_t max = 640 + lo_copy_text_max(e->service.len + r->buckets.len + r->exemplars.len);
    int rc = lo_buf_reserve(b, max);
    if (rc != LO_OK)
        return rc;
    char *w = b->p + b->len;
    bool dist =
        r->type == LO_METRIC_HISTOGRAM || r->type == LO_METRIC_EXP_HISTOGRAM || r->type == LO_METRIC_SUMMARY;

    /* each column of store/columns.h, in its order; count is a bigint:
     * counts past 2^63 (never seen in practice) saturate */
#define ENC_TIME       lo_copy_ts(c, w, r->time_ns)
#define ENC_SERIES_ID  lo_copy_i64(w, series_id)
#define ENC_START_TIME (r->start_ns != 0 ? lo_copy_ts(c, w, r->start_ns) : lo_copy_null(w))
#define ENC_VALUE      (r->has_value ? lo_copy_f64(w, r->value) : lo_copy_null(w))
#define ENC_COUNT      (dist ? lo_copy_u64(w, r->count > INT64_MAX ? INT64_MAX : r->count) : lo_copy_null(w))
#define ENC_SUM        (r->has_sum ? lo_copy_f64(w, r->sum) : lo_copy_null(w))
#define ENC_MIN        (r->has_min ? lo_copy_f64(w, r->min) : lo_copy_null(w))
#define ENC_MAX        (r->has_max ? lo_copy_f64(w, r->max) : lo_copy_null(w))
#define ENC_BUCKETS    lo_copy_text_or_null(w, r->buckets)
#define ENC_FLAGS      lo_copy_u32_bits(w, r->flags)
#define ENC_PROJECT_ID lo_copy_opt_uuid(w, e->has_project, e->project_id)
#define ENC_SESSION_ID lo_copy_opt_uuid(w, e->has_session, e->session_id)
#define ENC_USER_ID    lo_copy_opt_uuid(w, e->has_user, e->user_id)
#define ENC_TRACE_ID   lo_copy_opt_bytea(w, e->has_trace_id, e->trace_id, 16)
#define ENC_SPAN_ID    lo_copy_opt_bytea(w, e->has_span_id, e->span_id, 8)
#define ENC_SERVICE    lo_copy_text(w, e->service.p, e->service.len)
#define ENC_EXEMPLARS  lo_copy_text_or_null(w, r->exemplars)
#define COL(E, n, k) \
    w = ENC_##E;     \
    *w++ = '\t';
    LO_SAMPLE_COLUMNS(COL)
#undef COL
    w[-1] = '\n';
    assert((size_t)(w - b->p) <= b->cap); /* the reserve above bounds every row */
    b->len = (size_t)(w - b->p);
    return LO_OK;
}
