/* copy_spans.c — one span as a COPY row of spans. */
#include "ingest/copy.h"

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

    w = lo_copy_ts(c, w, r->start_ns);
    *w++ = '\t';
    w = lo_copy_ts(c, w, r->end_ns);
    *w++ = '\t';
    w = lo_copy_i64(w, lo_copy_duration(r->start_ns, r->end_ns));
    *w++ = '\t';
    /* a span's own ids are required columns: zeros if the decoder had none */
    w = lo_copy_bytea(w, e->trace_id, 16);
    *w++ = '\t';
    w = lo_copy_bytea(w, e->span_id, 8);
    *w++ = '\t';
    w = lo_copy_opt_bytea(w, r->has_parent, r->parent_span_id, 8);
    *w++ = '\t';
    w = lo_copy_opt_uuid(w, e->has_project, e->project_id);
    *w++ = '\t';
    w = lo_copy_opt_uuid(w, e->has_session, e->session_id);
    *w++ = '\t';
    w = lo_copy_opt_uuid(w, e->has_user, e->user_id);
    *w++ = '\t';
    w = lo_copy_text(w, e->service.p, e->service.len);
    *w++ = '\t';
    w = lo_copy_text(w, r->name.p, r->name.len);
    *w++ = '\t';
    w = lo_copy_i16_sat(w, r->kind);
    *w++ = '\t';
    w = lo_copy_i16_sat(w, r->status_code);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->status_message);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->trace_state);
    *w++ = '\t';
    w = lo_copy_u32_bits(w, r->flags);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->attributes);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->events);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->links);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->resource);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->scope_name);
    *w++ = '\t';
    w = lo_copy_text_or_null(w, r->scope_version);
    *w++ = '\t';
    w = lo_copy_u32_sat(w, r->dropped_attributes_count);
    *w++ = '\t';
    w = lo_copy_u32_sat(w, r->dropped_events_count);
    *w++ = '\t';
    w = lo_copy_u32_sat(w, r->dropped_links_count);
    *w++ = '\n';
    b->len = (size_t)(w - b->p);
    return LO_OK;
}
