/* copy_spans.c — one span as a COPY row of spans. */
#include <assert.h>

#include "ingest/copy.h"
#include "store/columns.h"

int lo_copy_span_row(lo_copy_ctx_t *c, lo_buf_t *b, const lo_span_rec_t *r)
{
    const lo_envelope_t *e = &r->env;
    size_t max =
        640 + lo_copy_text_max(e->service.len + r->name.len + r->status_message.len + r->trace_state.len +
                               r->attributes.len + r->events.len + r->links.len + r->resource.len +
                               r->scope_name.len + r->scope_version.len);
    int rc = lo_buf_reserve(b, max);
    if (rc != LO_OK)
        return rc;
    char *w = b->p + b->len;

    /* each column of store/columns.h, in its order; a span's own ids are
     * required columns: zeros if the decoder had none */
#define ENC_START_TIME               lo_copy_ts(c, w, r->start_ns)
#define ENC_END_TIME                 lo_copy_ts(c, w, r->end_ns)
#define ENC_DURATION_NS              lo_copy_i64(w, lo_copy_duration(r->start_ns, r->end_ns))
#define ENC_TRACE_ID                 lo_copy_bytea(w, e->trace_id, 16)
#define ENC_SPAN_ID                  lo_copy_bytea(w, e->span_id, 8)
#define ENC_PARENT_SPAN_ID           lo_copy_opt_bytea(w, r->has_parent, r->parent_span_id, 8)
#define ENC_PROJECT_ID               lo_copy_opt_uuid(w, e->has_project, e->project_id)
#define ENC_SESSION_ID               lo_copy_opt_uuid(w, e->has_session, e->session_id)
#define ENC_USER_ID                  lo_copy_opt_uuid(w, e->has_user, e->user_id)
#define ENC_SERVICE                  lo_copy_text(w, e->service.p, e->service.len)
#define ENC_NAME                     lo_copy_text(w, r->name.p, r->name.len)
#define ENC_KIND                     lo_copy_i16_sat(w, r->kind)
#define ENC_STATUS_CODE              lo_copy_i16_sat(w, r->status_code)
#define ENC_STATUS_MESSAGE           lo_copy_text_or_null(w, r->status_message)
#define ENC_TRACE_STATE              lo_copy_text_or_null(w, r->trace_state)
#define ENC_FLAGS                    lo_copy_u32_bits(w, r->flags)
#define ENC_ATTRIBUTES               lo_copy_text_or_null(w, r->attributes)
#define ENC_EVENTS                   lo_copy_text_or_null(w, r->events)
#define ENC_LINKS                    lo_copy_text_or_null(w, r->links)
#define ENC_RESOURCE                 lo_copy_text_or_null(w, r->resource)
#define ENC_SCOPE_NAME               lo_copy_text_or_null(w, r->scope_name)
#define ENC_SCOPE_VERSION            lo_copy_text_or_null(w, r->scope_version)
#define ENC_DROPPED_ATTRIBUTES_COUNT lo_copy_u32_sat(w, r->dropped_attributes_count)
#define ENC_DROPPED_EVENTS_COUNT     lo_copy_u32_sat(w, r->dropped_events_count)
#define ENC_DROPPED_LINKS_COUNT      lo_copy_u32_sat(w, r->dropped_links_count)
#define COL(E, n, k) \
    w = ENC_##E;     \
    *w++ = '\t';
    LO_SPAN_COLUMNS(COL)
#undef COL
    w[-1] = '\n';
    assert((size_t)(w - b->p) <= b->cap); /* the reserve above bounds every row */
    b->len = (size_t)(w - b->p);
    return LO_OK;
}
