/* copy_logs.c — one log record as a COPY row of log_entries. */
#include "ingest/copy.h"

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
    uint8_t id[16];
    lo_uuidv7(c, r->time_ns / 1000000, id);

    w = lo_copy_ts(c, w, r->time_ns);
    *w++ = '\t';
    w = r->observed_ns != 0 ? lo_copy_ts(c, w, r->observed_ns) : lo_copy_null(w);
    *w++ = '\t';
    w = lo_copy_uuid(w, id);
    *w++ = '\t';
    w = lo_copy_opt_uuid(w, e->has_project, e->project_id);
    *w++ = '\t';
    w = lo_copy_opt_uuid(w, e->has_session, e->session_id);
    *w++ = '\t';
    w = lo_copy_opt_uuid(w, e->has_user, e->user_id);
    *w++ = '\t';
    w = lo_copy_opt_bytea(w, e->has_trace_id, e->trace_id, 16);
    *w++ = '\t';
    w = lo_copy_opt_bytea(w, e->has_span_id, e->span_id, 8);
    *w++ = '\t';
    w = lo_copy_text(w, e->service.p, e->service.len);
    *w++ = '\t';
    w = lo_copy_text(w, r->level.p, r->level.len);
    *w++ = '\t';
    w = lo_copy_i16_sat(w, r->severity_number);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->severity_text);
    *w++ = '\t';
    w = lo_copy_text(w, r->message.p, r->message.len);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->attributes);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->resource);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->scope_name);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->scope_version);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->event_name);
    *w++ = '\t';
    w = lo_copy_u32_bits(w, r->flags);
    *w++ = '\t';
    w = lo_copy_u32_sat(w, r->dropped_attributes_count);
    *w++ = '\n';
    b->len = (size_t)(w - b->p);
    return LO_OK;
}
