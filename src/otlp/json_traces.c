/*
 * json_traces.c — ExportTraceServiceRequest in OTLP/JSON to lo_span_rec_t.
 * Events and links are rendered as the JSON arrays otlp.h describes.
 */
#include "otlp/json_internal.h"

enum {
    SP_TRACE,
    SP_SPAN,
    SP_STATE,
    SP_PARENT,
    SP_FLAGS,
    SP_NAME,
    SP_KIND,
    SP_START,
    SP_END,
    SP_ATTRS,
    SP_DROPPED_ATTRS,
    SP_EVENTS,
    SP_DROPPED_EVENTS,
    SP_LINKS,
    SP_DROPPED_LINKS,
    SP_STATUS,
    SP_N
};
static const char *const sp_keys[SP_N] = {
    "traceId",
    "spanId",
    "traceState",
    "parentSpanId",
    "flags",
    "name",
    "kind",
    "startTimeUnixNano",
    "endTimeUnixNano",
    "attributes",
    "droppedAttributesCount",
    "events",
    "droppedEventsCount",
    "links",
    "droppedLinksCount",
    "status",
};

/* One Span.Event as {"time_unix_nano","name","attributes","dropped_attributes_count"}. */
static int event(lo_jd_t *c, lo_jw_t *w, json_t *v)
{
    enum { EV_TIME, EV_NAME, EV_ATTRS, EV_DROPPED, EV_N };
    static const char *const keys[EV_N] = { "timeUnixNano", "name", "attributes", "droppedAttributesCount" };
    json_t *f[EV_N];
    uint64_t t = 0;
    uint32_t dropped = 0;
    lo_str_t name = LO_STR_LIT("");
    int rc = lo_jd_obj(c, NULL, v);
    if (rc != LO_OK)
        return rc;
    rc = lo_jd_fields(c, v, keys, EV_N, f);
    if (rc == LO_OK)
        rc = lo_jd_u64(c, keys[EV_TIME], f[EV_TIME], &t);
    if (rc == LO_OK)
        rc = lo_jd_str_view(c, keys[EV_NAME], f[EV_NAME], &name);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, keys[EV_DROPPED], f[EV_DROPPED], &dropped);
    if (rc != LO_OK)
        return rc;
    lo_jw_obj_begin(w);
    lo_jw_key(w, "time_unix_nano", 14);
    lo_jw_u64(w, t);
    lo_jw_key(w, "name", 4);
    lo_jw_str(w, name.p, name.len);
    lo_jw_key(w, "attributes", 10);
    rc = lo_jd_attrs(c, w, f[EV_ATTRS], keys[EV_ATTRS], NULL, NULL, NULL);
    lo_jw_key(w, "dropped_attributes_count", 24);
    lo_jw_u64(w, dropped);
    lo_jw_obj_end(w);
    return rc;
}

/* A link id that is not hex spoils its span, not the request: the span is
 * refused at admission (docs/ingest-storage.md).  Any length is kept as
 * given, as the protobuf walker does. */
#define LINK_ID_MALFORMED "a link whose id is not hex digits"

/* One Span.Link as {"trace_id","span_id","trace_state","attributes","flags"}. */
static int link(lo_jd_t *c, lo_jw_t *w, json_t *v)
{
    enum { LK_TRACE, LK_SPAN, LK_STATE, LK_ATTRS, LK_DROPPED, LK_FLAGS, LK_N };
    static const char *const keys[LK_N] = {
        "traceId", "spanId", "traceState", "attributes", "droppedAttributesCount", "flags"
    };
    json_t *f[LK_N];
    uint8_t *trace = NULL, *span = NULL;
    size_t trace_n = 0, span_n = 0;
    uint32_t dropped = 0, flags = 0;
    lo_str_t state = LO_STR_LIT("");
    int rc = lo_jd_obj(c, NULL, v);
    if (rc != LO_OK)
        return rc;
    rc = lo_jd_fields(c, v, keys, LK_N, f);
    if (rc == LO_OK)
        rc = lo_jd_hex_or(c, keys[LK_TRACE], f[LK_TRACE], &trace, &trace_n, LINK_ID_MALFORMED);
    if (rc == LO_OK)
        rc = lo_jd_hex_or(c, keys[LK_SPAN], f[LK_SPAN], &span, &span_n, LINK_ID_MALFORMED);
    if (rc == LO_OK)
        rc = lo_jd_str_view(c, keys[LK_STATE], f[LK_STATE], &state);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, keys[LK_DROPPED], f[LK_DROPPED], &dropped);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, keys[LK_FLAGS], f[LK_FLAGS], &flags);
    if (rc != LO_OK)
        return rc;
    lo_jw_obj_begin(w);
    lo_jw_key(w, "trace_id", 8);
    lo_jw_hex(w, trace, trace_n);
    lo_jw_key(w, "span_id", 7);
    lo_jw_hex(w, span, span_n);
    lo_jw_key(w, "trace_state", 11);
    lo_jw_str(w, state.p, state.len);
    lo_jw_key(w, "attributes", 10);
    rc = lo_jd_attrs(c, w, f[LK_ATTRS], keys[LK_ATTRS], NULL, NULL, NULL);
    lo_jw_key(w, "flags", 5);
    lo_jw_u64(w, flags);
    lo_jw_obj_end(w);
    return rc;
}

/* Renders events or links (arr may be NULL) as a JSON array into the arena. */
static int render_list(lo_jd_t *c, json_t *arr, const char *key, int (*one)(lo_jd_t *, lo_jw_t *, json_t *),
                       lo_str_t *out)
{
    lo_jw_t w;
    int rc = lo_jd_arr(c, key, arr);
    if (rc != LO_OK)
        return rc;
    lo_buf_reset(&c->tmp2);
    lo_jw_init(&w, &c->tmp2);
    lo_jw_arr_begin(&w);
    size_t n = arr != NULL ? json_array_size(arr) : 0;
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        lo_jd_push(c, key, (long)i);
        rc = one(c, &w, json_array_get(arr, i));
        lo_jd_pop(c);
    }
    lo_jw_arr_end(&w);
    if (rc != LO_OK)
        return rc;
    if (lo_jw_status(&w) == LO_INVALID)
        return lo_jd_fail(c, key, "nested too deep");
    return lo_jd_keep(c, &c->tmp2, 0, out);
}

static int status(lo_jd_t *c, json_t *v, lo_span_rec_t *r)
{
    enum { ST_MESSAGE, ST_CODE, ST_N };
    static const char *const keys[ST_N] = { "message", "code" };
    json_t *f[ST_N];
    int rc;
    if (v == NULL)
        return LO_OK;
    lo_jd_push(c, "status", -1);
    rc = lo_jd_obj(c, NULL, v);
    if (rc == LO_OK)
        rc = lo_jd_fields(c, v, keys, ST_N, f);
    if (rc == LO_OK)
        rc = lo_jd_str(c, keys[ST_MESSAGE], f[ST_MESSAGE], &r->status_message);
    if (rc == LO_OK) /* free text: scrubbed (redact.h) */
        rc = lo_jd_scrub(c, lo_redact_text_mode(c->o->redact), &r->status_message);
    if (rc == LO_OK)
        rc = lo_jd_enum(c, keys[ST_CODE], f[ST_CODE], &r->status_code);
    /* codes this version does not know are "unset" (as in the protobuf walker) */
    if (r->status_code < 0 || r->status_code > INT16_MAX)
        r->status_code = 0; /* unknown codes in range are kept as numbers */
    lo_jd_pop(c);
    return rc;
}

static int span(lo_jd_t *c, json_t *v, const lo_jd_owner_t *res, const lo_jd_owner_t *scope)
{
    json_t *f[SP_N];
    lo_env_cand_t cand;
    uint64_t start = 0, end = 0;
    int rc = lo_jd_obj(c, NULL, v);
    if (rc != LO_OK)
        return rc;
    rc = lo_jd_fields(c, v, sp_keys, SP_N, f);
    if (rc != LO_OK)
        return rc;
    lo_span_rec_t *r = lo_jd_push_record(c);
    if (r == NULL)
        return LO_ERROR;
    memset(&cand, 0, sizeof(cand));
    r->name = r->trace_state = r->status_message = LO_STR_LIT("");
    /* a span's own ids are its identity: they must be there and well-formed,
     * or the span is refused at admission (the rest of the request is kept) */
    c->bad_id = NULL;
    rc = lo_jd_id(c, sp_keys[SP_TRACE], f[SP_TRACE], r->env.trace_id, 16, true, &r->env.has_trace_id);
    if (rc == LO_OK)
        rc = lo_jd_id(c, sp_keys[SP_SPAN], f[SP_SPAN], r->env.span_id, 8, true, &r->env.has_span_id);
    if (rc == LO_OK)
        rc = lo_jd_id(c, sp_keys[SP_PARENT], f[SP_PARENT], r->parent_span_id, 8, true, &r->has_parent);
    r->env.malformed = c->bad_id              ? c->bad_id
                       : !r->env.has_trace_id ? "a span without a trace id"
                       : !r->env.has_span_id  ? "a span without a span id"
                                              : NULL;
    if (rc == LO_OK)
        rc = lo_jd_str(c, sp_keys[SP_STATE], f[SP_STATE], &r->trace_state);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, sp_keys[SP_FLAGS], f[SP_FLAGS], &r->flags);
    if (rc == LO_OK)
        rc = lo_jd_str(c, sp_keys[SP_NAME], f[SP_NAME], &r->name);
    if (rc == LO_OK)
        rc = lo_jd_enum(c, sp_keys[SP_KIND], f[SP_KIND], &r->kind);
    if (r->kind < 0 || r->kind > INT16_MAX)
        r->kind = 0; /* unknown kinds in range are kept as numbers */
    if (rc == LO_OK)
        rc = lo_jd_u64(c, sp_keys[SP_START], f[SP_START], &start);
    if (rc == LO_OK)
        rc = lo_jd_u64(c, sp_keys[SP_END], f[SP_END], &end);
    if (rc == LO_OK)
        rc = lo_jd_attrs_keep(c, f[SP_ATTRS], sp_keys[SP_ATTRS], &cand, &r->attributes);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, sp_keys[SP_DROPPED_ATTRS], f[SP_DROPPED_ATTRS], &r->dropped_attributes_count);
    if (rc == LO_OK)
        rc = render_list(c, f[SP_EVENTS], sp_keys[SP_EVENTS], event, &r->events);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, sp_keys[SP_DROPPED_EVENTS], f[SP_DROPPED_EVENTS], &r->dropped_events_count);
    if (rc == LO_OK)
        rc = render_list(c, f[SP_LINKS], sp_keys[SP_LINKS], link, &r->links);
    if (r->env.malformed == NULL)
        r->env.malformed = c->bad_id; /* a link's */
    if (rc == LO_OK)
        rc = lo_jd_u32(c, sp_keys[SP_DROPPED_LINKS], f[SP_DROPPED_LINKS], &r->dropped_links_count);
    if (rc == LO_OK)
        rc = status(c, f[SP_STATUS], r);
    if (rc != LO_OK)
        return rc;
    r->start_ns = (int64_t)start;
    r->end_ns = (int64_t)end;
    r->resource = res->json;
    r->scope_name = scope->name;
    r->scope_version = scope->version;
    lo_jd_envelope(&r->env, &cand, scope, res);
    return LO_OK;
}

const lo_jd_signal_t lo_jd_traces = {
    .resources = "resourceSpans",
    .scopes = "scopeSpans",
    .records = "spans",
    .record = span,
};
