/*
 * pb_traces.c — ExportTraceServiceRequest -> one lo_span_rec_t per Span,
 * with events and links rendered as JSON arrays (keys as in otlp.h).
 */
#include "otlp/pb_internal.h"

/* Span.Event: 1 time_unix_nano, 2 name, 3 attributes, 4 dropped_attributes_count.
 * Rendered as {"time_unix_nano","name","attributes","dropped_attributes_count"}. */
static int event(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    uint64_t t = 0, dropped = 0;
    const uint8_t *name = (const uint8_t *)"";
    size_t name_n = 0;
    int rc;
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        switch (f.num) {
        case 1:
            LO_PBD_WANT(d, f, LO_PB_I64);
            t = f.v;
            break;
        case 2:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            name = f.p;
            name_n = f.n;
            break;
        case 3: LO_PBD_WANT(d, f, LO_PB_LEN); break;
        case 4:
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            dropped = (uint32_t)f.v;
            break;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    LO_PBD_LIT(b, "{\"time_unix_nano\":");
    lo_pbd_json_u64(b, t);
    LO_PBD_LIT(b, ",\"name\":");
    lo_pbd_json_str(b, name, name_n);
    LO_PBD_LIT(b, ",\"attributes\":{");
    bool first = true;
    int64_t i = 0;
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 3)
            continue;
        lo_pbd_push(d, "attributes", i++);
        rc = lo_pbd_keyvalue(d, b, &first, f.p, f.n, NULL, NULL);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    LO_PBD_LIT(b, "},\"dropped_attributes_count\":");
    lo_pbd_json_u64(b, dropped);
    lo_pbd_c(b, '}');
    return LO_OK;
}

/* Span.Link: 1 trace_id, 2 span_id, 3 trace_state, 4 attributes, 5 dropped, 6 flags.
 * Rendered as {"trace_id","span_id","trace_state","attributes","flags"}. */
static int link(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    lo_pb_field_t tid = { .p = (const uint8_t *)"" }, sid = { .p = (const uint8_t *)"" };
    const uint8_t *ts = (const uint8_t *)"";
    size_t ts_n = 0;
    uint64_t flags = 0;
    int rc;
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        switch (f.num) {
        case 1:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            tid = f;
            break;
        case 2:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            sid = f;
            break;
        case 3:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            ts = f.p;
            ts_n = f.n;
            break;
        case 4: LO_PBD_WANT(d, f, LO_PB_LEN); break;
        case 5: LO_PBD_WANT(d, f, LO_PB_VARINT); break;
        case 6:
            LO_PBD_WANT(d, f, LO_PB_I32);
            flags = f.v;
            break;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    LO_PBD_LIT(b, "{\"trace_id\":");
    lo_pbd_json_hex(b, tid.p, tid.n);
    LO_PBD_LIT(b, ",\"span_id\":");
    lo_pbd_json_hex(b, sid.p, sid.n);
    LO_PBD_LIT(b, ",\"trace_state\":");
    lo_pbd_json_str(b, ts, ts_n);
    LO_PBD_LIT(b, ",\"attributes\":{");
    bool first = true;
    int64_t i = 0;
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 4)
            continue;
        lo_pbd_push(d, "attributes", i++);
        rc = lo_pbd_keyvalue(d, b, &first, f.p, f.n, NULL, NULL);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    LO_PBD_LIT(b, "},\"flags\":");
    lo_pbd_json_u64(b, flags);
    lo_pbd_c(b, '}');
    return LO_OK;
}

/* Status: 2 message, 3 code (field 1 is reserved); the message is free text
 * and scrubbed (redact.h). */
static int status(lo_pbd_t *d, lo_span_rec_t *rec, const uint8_t *p, size_t n)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    int rc;
    rec->status_code = 0;
    rec->status_message = LO_STR_LIT("");
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num == 2) {
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (lo_pbd_string(d, f.p, f.n, &rec->status_message) != LO_OK)
                return LO_ERROR;
        } else if (f.num == 3) {
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            int32_t c = (int32_t)(uint32_t)f.v;
            rec->status_code = c >= 0 && c <= INT16_MAX ? c : 0; /* unknown codes kept as numbers */
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    return lo_pbd_scrub(d, lo_redact_text_mode(d->red), &rec->status_message);
}

/* Appends element i of a span's events or links (decoded by fn from f)
 * to the JSON array in b. */
static int element(lo_pbd_t *d, lo_buf_t *b, const char *what, int64_t i,
                   int (*fn)(lo_pbd_t *, lo_buf_t *, const uint8_t *, size_t), const lo_pb_field_t *f)
{
    if (i > 0)
        lo_pbd_c(b, ',');
    lo_pbd_push(d, what, i);
    int rc = fn(d, b, f->p, f->n);
    if (rc == LO_OK)
        lo_pbd_pop(d);
    return rc;
}

/* A span's own ids are its identity (as in the OTLP/JSON decoder): a
 * wrong length is malformed, and a span without them cannot be stored.
 * The *_n are the lengths seen on the wire (0: absent). */
static int check_ids(lo_pbd_t *d, lo_span_rec_t *rec, size_t tid_n, size_t sid_n, size_t pid_n)
{
    (void)d;
    /* the span is refused at admission; the rest of the request is kept */
    if (tid_n != 0 && tid_n != 16)
        rec->env.malformed = "a trace id that is not 16 bytes";
    else if (!rec->env.has_trace_id)
        rec->env.malformed = "a span without a trace id";
    else if (sid_n != 0 && sid_n != 8)
        rec->env.malformed = "a span id that is not 8 bytes";
    else if (!rec->env.has_span_id)
        rec->env.malformed = "a span without a span id";
    else if (pid_n != 0 && pid_n != 8)
        rec->env.malformed = "a parent span id that is not 8 bytes";
    return LO_OK;
}

static int span(lo_pbd_t *d, const uint8_t *p, size_t n, const lo_pbd_res_t *res, const lo_pbd_scope_t *scope)
{
    lo_span_rec_t *rec = lo_otlp_batch_push(d->b);
    if (rec == NULL)
        return lo_pbd_push_fail(d);
    lo_env_cand_t cand;
    lo_pb_reader_t r;
    lo_pb_field_t f;
    const uint8_t *st = NULL;
    size_t st_n = 0, tid_n = 0, sid_n = 0, pid_n = 0;
    int64_t ai = 0, ei = 0, li = 0;
    bool first = true;
    int rc;
    memset(&cand, 0, sizeof(cand));
    rec->name = rec->trace_state = rec->status_message = LO_STR_LIT("");
    lo_buf_reset(&d->attrs);
    lo_buf_reset(&d->aux1);
    lo_buf_reset(&d->aux2);
    lo_pbd_c(&d->attrs, '{');
    lo_pbd_c(&d->aux1, '[');
    lo_pbd_c(&d->aux2, '[');
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        switch (f.num) {
        case 1:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            rec->env.has_trace_id = lo_pbd_id(&f, rec->env.trace_id, 16);
            tid_n = f.n;
            break;
        case 2:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            rec->env.has_span_id = lo_pbd_id(&f, rec->env.span_id, 8);
            sid_n = f.n;
            break;
        case 3:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (lo_pbd_string(d, f.p, f.n, &rec->trace_state) != LO_OK)
                return LO_ERROR;
            break;
        case 4:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            rec->has_parent = lo_pbd_id(&f, rec->parent_span_id, 8);
            pid_n = f.n;
            break;
        case 5:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (lo_pbd_string(d, f.p, f.n, &rec->name) != LO_OK)
                return LO_ERROR;
            break;
        case 6: {
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            int32_t k = (int32_t)(uint32_t)f.v;
            rec->kind = k >= 0 && k <= INT16_MAX ? k : 0; /* unknown kinds kept as numbers */
            break;
        }
        case 7:
            LO_PBD_WANT(d, f, LO_PB_I64);
            rec->start_ns = (int64_t)f.v;
            break;
        case 8:
            LO_PBD_WANT(d, f, LO_PB_I64);
            rec->end_ns = (int64_t)f.v;
            break;
        case 9:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            lo_pbd_push(d, "attributes", ai++);
            rc = lo_pbd_keyvalue(d, &d->attrs, &first, f.p, f.n, &cand, NULL);
            if (rc != LO_OK)
                return rc;
            lo_pbd_pop(d);
            break;
        case 10:
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            rec->dropped_attributes_count = (uint32_t)f.v;
            break;
        case 11:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if ((rc = element(d, &d->aux1, "events", ei++, event, &f)) != LO_OK)
                return rc;
            break;
        case 12:
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            rec->dropped_events_count = (uint32_t)f.v;
            break;
        case 13:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if ((rc = element(d, &d->aux2, "links", li++, link, &f)) != LO_OK)
                return rc;
            break;
        case 14:
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            rec->dropped_links_count = (uint32_t)f.v;
            break;
        case 15:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            st = f.p; /* the last status wins */
            st_n = f.n;
            break;
        case 16:
            LO_PBD_WANT(d, f, LO_PB_I32);
            rec->flags = (uint32_t)f.v;
            break;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    if ((rc = check_ids(d, rec, tid_n, sid_n, pid_n)) != LO_OK)
        return rc;
    if (st != NULL) {
        lo_pbd_push(d, "status", -1);
        if ((rc = status(d, rec, st, st_n)) != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    lo_pbd_c(&d->attrs, '}');
    lo_pbd_c(&d->aux1, ']');
    lo_pbd_c(&d->aux2, ']');
    if ((rc = lo_pbd_finish(d, &d->attrs, &rec->attributes)) != LO_OK ||
        (rc = lo_pbd_finish(d, &d->aux1, &rec->events)) != LO_OK ||
        (rc = lo_pbd_finish(d, &d->aux2, &rec->links)) != LO_OK)
        return rc;
    rec->resource = res->json;
    rec->scope_name = scope->name;
    rec->scope_version = scope->version;
    lo_pbd_envelope(&rec->env, &cand, scope);
    return LO_OK;
}

int lo_pbd_traces(lo_pbd_t *d, const uint8_t *p, size_t n)
{
    static const char *const names[3] = { "resource_spans", "scope_spans", "spans" };
    return lo_pbd_request(d, p, n, names, span);
}
