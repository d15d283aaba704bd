/*
 * json_response.c — OTLP/JSON response bodies: Export*ServiceResponse and
 * google.rpc.Status.
 */
#include "core/json_write.h"
#include "otlp/otlp.h"

int lo_otlp_json_response(lo_signal_t s, int64_t rejected, const char *message, lo_buf_t *out)
{
    static const char *const counts[LO_SIGNAL_COUNT] = {
        [LO_SIGNAL_LOGS] = "rejectedLogRecords",
        [LO_SIGNAL_SPANS] = "rejectedSpans",
        [LO_SIGNAL_METRICS] = "rejectedDataPoints",
    };
    lo_jw_t w;
    if ((unsigned)s >= LO_SIGNAL_COUNT)
        return LO_ERROR;
    lo_jw_init(&w, out);
    lo_jw_obj_begin(&w);
    if (rejected > 0) {
        lo_jw_key(&w, "partialSuccess", 14);
        lo_jw_obj_begin(&w);
        lo_jw_key(&w, counts[s], strlen(counts[s]));
        /* a number: protobuf JSON parsers accept numbers for int64 */
        lo_jw_i64(&w, rejected);
        if (message != NULL && message[0] != '\0') {
            lo_jw_key(&w, "errorMessage", 12);
            lo_jw_cstr(&w, message);
        }
        lo_jw_obj_end(&w);
    }
    lo_jw_obj_end(&w);
    return lo_jw_status(&w);
}

int lo_otlp_json_status(int32_t code, const char *message, lo_buf_t *out)
{
    lo_jw_t w;
    lo_jw_init(&w, out);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "code", 4);
    lo_jw_i64(&w, code);
    lo_jw_key(&w, "message", 7);
    lo_jw_cstr(&w, message != NULL ? message : "");
    lo_jw_obj_end(&w);
    return lo_jw_status(&w);
}
