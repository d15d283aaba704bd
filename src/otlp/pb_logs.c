/*
 * pb_logs.c — ExportLogsServiceRequest -> one lo_log_rec_t per LogRecord.
 */
#include "otlp/pb_internal.h"

static int log_record(lo_pbd_t *d, const uint8_t *p, size_t n, const lo_pbd_res_t *res,
                      const lo_pbd_scope_t *scope)
{
    lo_log_rec_t *rec = lo_otlp_batch_push(d->b);
    if (rec == NULL)
        return lo_pbd_push_fail(d);
    lo_env_cand_t cand;
    lo_pb_reader_t r;
    lo_pb_field_t f;
    const uint8_t *body = NULL;
    size_t body_n = 0;
    uint64_t t = 0, obs = 0;
    size_t tid_n = 0, sid_n = 0;
    int64_t ai = 0;
    bool first = true;
    int rc;
    memset(&cand, 0, sizeof(cand));
    rec->severity_text = rec->event_name = LO_STR_LIT("");
    lo_buf_reset(&d->attrs);
    lo_pbd_c(&d->attrs, '{');
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        switch (f.num) {
        case 1:
            LO_PBD_WANT(d, f, LO_PB_I64);
            t = f.v;
            break;
        case 11:
            LO_PBD_WANT(d, f, LO_PB_I64);
            obs = f.v;
            break;
        case 2:
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            rec->severity_number = (int32_t)(uint32_t)f.v;
            break;
        case 3:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (lo_pbd_string(d, f.p, f.n, &rec->severity_text) != LO_OK)
                return LO_ERROR;
            break;
        case 5:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            body = f.p;
            body_n = f.n;
            break;
        case 6:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            lo_pbd_push(d, "attributes", ai++);
            rc = lo_pbd_keyvalue(d, &d->attrs, &first, f.p, f.n, &cand, NULL);
            if (rc != LO_OK)
                return rc;
            lo_pbd_pop(d);
            break;
        case 7:
            LO_PBD_WANT(d, f, LO_PB_VARINT);
            rec->dropped_attributes_count = (uint32_t)f.v;
            break;
        case 8:
            LO_PBD_WANT(d, f, LO_PB_I32);
            rec->flags = (uint32_t)f.v;
            break;
        case 9:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            rec->env.has_trace_id = lo_pbd_id(&f, rec->env.trace_id, 16);
            tid_n = f.n;
            break;
        case 10:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            rec->env.has_span_id = lo_pbd_id(&f, rec->env.span_id, 8);
            sid_n = f.n;
            break;
        case 12:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (lo_pbd_string(d, f.p, f.n, &rec->event_name) != LO_OK)
                return LO_ERROR;
            break;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    /* empty or all-zero ids are "none"; another length is malformed (as in
     * the OTLP/JSON decoder) */
    if (tid_n != 0 && tid_n != 16) {
        rec->env.has_trace_id = false;
        rec->env.malformed = "a trace id that is not 16 bytes"; /* refused at admission */
    }
    if (sid_n != 0 && sid_n != 8) {
        rec->env.has_span_id = false;
        rec->env.malformed = "a span id that is not 8 bytes";
    }
    lo_pbd_c(&d->attrs, '}');
    rc = lo_pbd_finish(d, &d->attrs, &rec->attributes);
    if (rc != LO_OK)
        return rc;
    if (body != NULL) {
        lo_pbd_push(d, "body", -1);
        rc = lo_pbd_body(d, body, body_n, &rec->message, &rec->body_kind);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    } else {
        rec->message = LO_STR_LIT("");
    }
    rec->observed_ns = (int64_t)obs;
    rec->time_ns = t != 0 ? (int64_t)t : obs != 0 ? (int64_t)obs : d->receive_ns;
    rec->level = lo_log_level(rec->severity_number, rec->severity_text, d->a);
    rec->resource = res->json;
    rec->scope_name = scope->name;
    rec->scope_version = scope->version;
    lo_pbd_envelope(&rec->env, &cand, scope);
    return LO_OK;
}

int lo_pbd_logs(lo_pbd_t *d, const uint8_t *p, size_t n)
{
    static const char *const names[3] = { "resource_logs", "scope_logs", "log_records" };
    return lo_pbd_request(d, p, n, names, log_record);
}
