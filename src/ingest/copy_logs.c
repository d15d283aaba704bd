/* copy_logs.c — one log record as a COPY row of log_entries. */
#include <assert.h>

#include "ingest/copy.h"
#include "store/columns.h"

#include <string.h>

/* Ids increase in the order the writer takes records (the queue's order,
 * then each request's), so entries with equal times sort in ingest order
 * (docs/query-api.md, "Order"). */
void lo_log_mint_id(lo_copy_ctx_t *c, lo_log_rec_t *r, int64_t now_ms)
{
    static const uint8_t unset[16];
    if (memcmp(r->id, unset, 16) == 0)
        lo_uuidv7_next(c, now_ms, r->id);
}

int lo_copy_log_row(lo_copy_ctx_t *c, lo_buf_t *b, const lo_log_rec_t *r)
{
    const lo_envelope_t *e = &r->env;
    size_t max = 512 + lo_copy_text_max(e->service.len + r->level.len + r->severity_text.len +
                                        r->message.len + r->attributes.len + r->resource.len +
                                        r->scope_name.len + r->scope_version.len + r->event_name.len);
    int rc = lo_buf_reserve(b, max);
    if (rc != LO_OK)
        return rc;
    char *w = b->p + b->len;

    /* each column of store/columns.h, in its order */
#define ENC_TIME                     lo_copy_ts(c, w, r->time_ns)
#define ENC_OBSERVED_TIME            (r->observed_ns != 0 ? lo_copy_ts(c, w, r->observed_ns) : lo_copy_null(w))
#define ENC_ID                       lo_copy_uuid(w, r->id)
#define ENC_PROJECT_ID               lo_copy_opt_uuid(w, e->has_project, e->project_id)
#define ENC_SESSION_ID               lo_copy_opt_uuid(w, e->has_session, e->session_id)
#define ENC_USER_ID                  lo_copy_opt_uuid(w, e->has_user, e->user_id)
#define ENC_TRACE_ID                 lo_copy_opt_bytea(w, e->has_trace_id, e->trace_id, 16)
#define ENC_SPAN_ID                  lo_copy_opt_bytea(w, e->has_span_id, e->span_id, 8)
#define ENC_SERVICE                  lo_copy_text(w, e->service.p, e->service.len)
#define ENC_LEVEL                    lo_copy_text(w, r->level.p, r->level.len)
#define ENC_SEVERITY_NUMBER          lo_copy_i16_sat(w, r->severity_number)
#define ENC_SEVERITY_TEXT            lo_copy_text_or_null(w, r->severity_text)
#define ENC_MESSAGE                  lo_copy_text(w, r->message.p, r->message.len)
#define ENC_ATTRIBUTES               lo_copy_text_or_null(w, r->attributes)
#define ENC_RESOURCE                 lo_copy_text_or_null(w, r->resource)
#define ENC_SCOPE_NAME               lo_copy_text_or_null(w, r->scope_name)
#define ENC_SCOPE_VERSION            lo_copy_text_or_null(w, r->scope_version)
#define ENC_EVENT_NAME               lo_copy_text_or_null(w, r->event_name)
#define ENC_FLAGS                    lo_copy_u32_bits(w, r->flags)
#define ENC_DROPPED_ATTRIBUTES_COUNT lo_copy_u32_sat(w, r->dropped_attributes_count)
#define ENC_BODY_KIND                (r->body_kind > 0 ? lo_copy_i16_sat(w, r->body_kind) : lo_copy_null(w))
#define COL(E, n, k) \
    w = ENC_##E;     \
    *w++ = '\t';
    LO_LOG_COLUMNS(COL)
#undef COL
    w[-1] = '\n';
    assert((size_t)(w - b->p) <= b->cap); /* the reserve above bounds every row */
    b->len = (size_t)(w - b->p);
    return LO_OK;
}
