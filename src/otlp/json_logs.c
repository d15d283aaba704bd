/*
 * json_logs.c — ExportLogsServiceRequest in OTLP/JSON to lo_log_rec_t.
 */
#include "otlp/json_internal.h"

enum {
    LR_TIME,
    LR_OBSERVED,
    LR_SEVNUM,
    LR_SEVTEXT,
    LR_BODY,
    LR_ATTRS,
    LR_DROPPED,
    LR_FLAGS,
    LR_TRACE,
    LR_SPAN,
    LR_EVENT,
    LR_N
};
static const char *const lr_keys[LR_N] = {
    "timeUnixNano", "observedTimeUnixNano",   "severityNumber", "severityText", "body",
    "attributes",   "droppedAttributesCount", "flags",          "traceId",      "spanId",
    "eventName",
};

/* The kind of an AnyValue that rendered (so it holds one value): its
 * protobuf field number, as otlp.h says; 0 when it holds none. */
static int32_t body_kind(json_t *body)
{
    static const char *const keys[][2] = {
        { "stringValue", "string_value" }, { "boolValue", "bool_value" },   { "intValue", "int_value" },
        { "doubleValue", "double_value" }, { "arrayValue", "array_value" }, { "kvlistValue", "kvlist_value" },
        { "bytesValue", "bytes_value" },
    };
    for (int32_t i = 0; i < 7; i++) {
        json_t *v = json_object_get(body, keys[i][0]);
        if (v == NULL)
            v = json_object_get(body, keys[i][1]);
        if (v != NULL && !json_is_null(v))
            return i + 1;
    }
    return 0;
}

/* message = the body if it is a string, else the body as JSON; "" without
 * a body or with an empty AnyValue.  Free text: scrubbed (redact.h).
 * *kind: the body's kind (otlp.h). */
static int body_message(lo_jd_t *c, json_t *body, lo_str_t *out, int32_t *kind)
{
    int rc;
    lo_redact_mode_t mode = lo_redact_text_mode(c->o->redact);
    *out = LO_STR_LIT("");
    *kind = 0;
    if (body == NULL)
        return LO_OK;
    lo_jd_push(c, "body", -1);
    rc = lo_jd_obj(c, NULL, body);
    json_t *sv = rc == LO_OK ? lo_jd_string_value(body) : NULL;
    bool str = sv != NULL && json_is_string(sv);
    if (rc == LO_OK) {
        /* a string body is scrubbed once, as the message */
        lo_jw_t w;
        lo_buf_reset(&c->tmp);
        lo_jw_init(&w, &c->tmp);
        rc = lo_jd_anyvalue_mode(c, &w, body, 1, str ? LO_REDACT_KEEP : mode);
    }
    if (rc == LO_OK) {
        /* rendering succeeded, so stringValue is the only value if present */
        if (str) {
            rc = lo_jd_str(c, NULL, sv, out);
            if (rc == LO_OK)
                rc = lo_jd_scrub(c, mode, out);
        } else if (!(c->tmp.len == 4 && memcmp(c->tmp.p, "null", 4) == 0)) {
            rc = lo_jd_keep(c, &c->tmp, 0, out);
        }
        *kind = str ? 1 : out->len ? body_kind(body) : 0;
    }
    lo_jd_pop(c);
    return rc;
}

static int log_record(lo_jd_t *c, json_t *v, const lo_jd_owner_t *res, const lo_jd_owner_t *scope)
{
    json_t *f[LR_N];
    lo_env_cand_t cand;
    uint64_t t = 0, obs = 0;
    int rc = lo_jd_obj(c, NULL, v);
    if (rc != LO_OK)
        return rc;
    if (v == NULL)
        return lo_jd_fail(c, NULL, "expected an object (LogRecord), got null");
    rc = lo_jd_fields(c, v, lr_keys, LR_N, f);
    if (rc != LO_OK)
        return rc;
    lo_log_rec_t *r = lo_jd_push_record(c);
    if (r == NULL)
        return LO_ERROR;
    memset(&cand, 0, sizeof(cand));
    /* absent strings are "" (never a NULL pointer), as in the protobuf walker */
    r->severity_text = r->event_name = LO_STR_LIT("");
    rc = lo_jd_u64(c, lr_keys[LR_TIME], f[LR_TIME], &t);
    if (rc == LO_OK)
        rc = lo_jd_u64(c, lr_keys[LR_OBSERVED], f[LR_OBSERVED], &obs);
    if (rc == LO_OK)
        rc = lo_jd_enum(c, lr_keys[LR_SEVNUM], f[LR_SEVNUM], &r->severity_number);
    if (rc == LO_OK)
        rc = lo_jd_str(c, lr_keys[LR_SEVTEXT], f[LR_SEVTEXT], &r->severity_text);
    if (rc == LO_OK)
        rc = body_message(c, f[LR_BODY], &r->message, &r->body_kind);
    if (rc == LO_OK)
        rc = lo_jd_attrs_keep(c, f[LR_ATTRS], lr_keys[LR_ATTRS], &cand, &r->attributes);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, lr_keys[LR_DROPPED], f[LR_DROPPED], &r->dropped_attributes_count);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, lr_keys[LR_FLAGS], f[LR_FLAGS], &r->flags);
    c->bad_id = NULL;
    if (rc == LO_OK)
        rc = lo_jd_id(c, lr_keys[LR_TRACE], f[LR_TRACE], r->env.trace_id, 16, true, &r->env.has_trace_id);
    if (rc == LO_OK)
        rc = lo_jd_id(c, lr_keys[LR_SPAN], f[LR_SPAN], r->env.span_id, 8, true, &r->env.has_span_id);
    r->env.malformed = c->bad_id;
    if (rc == LO_OK)
        rc = lo_jd_str(c, lr_keys[LR_EVENT], f[LR_EVENT], &r->event_name);
    if (rc != LO_OK)
        return rc;
    r->observed_ns = (int64_t)obs;
    r->time_ns = t != 0 ? (int64_t)t : obs != 0 ? (int64_t)obs : c->o->receive_ns;
    r->level = lo_log_level(r->severity_number, r->severity_text, c->b->arena);
    if (r->level.p == NULL)
        return LO_ERROR;
    r->resource = res->json;
    r->scope_name = scope->name;
    r->scope_version = scope->version;
    lo_jd_envelope(&r->env, &cand, scope, res);
    return LO_OK;
}

const lo_jd_signal_t lo_jd_logs = {
    .resources = "resourceLogs",
    .scopes = "scopeLogs",
    .records = "logRecords",
    .record = log_record,
};
