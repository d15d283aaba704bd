/*
 * pb_response.c — protobuf response bodies: Export*ServiceResponse (with
 * partial_success when records were rejected) and google.rpc.Status.
 */
#include "otlp/otlp.h"
#include "otlp/pb.h"

static void put_varint(lo_buf_t *out, uint64_t v)
{
    uint8_t t[10];
    lo_buf_append(out, t, lo_pb_put_varint(t, v));
}

static void put_tag(lo_buf_t *out, uint32_t num, uint32_t wt)
{
    put_varint(out, (uint64_t)num << 3 | wt);
}

static void put_string(lo_buf_t *out, uint32_t num, const char *s, size_t n)
{
    put_tag(out, num, LO_PB_LEN);
    put_varint(out, n);
    lo_buf_append(out, s, n);
}

int lo_otlp_pb_response(lo_signal_t s, int64_t rejected, const char *message, lo_buf_t *out)
{
    (void)s; /* the three responses share field numbers */
    if (rejected <= 0)
        return out->err; /* an empty message: zero bytes */
    size_t mlen = message != NULL ? strlen(message) : 0;
    /* PartialSuccess{1 rejected:int64, 2 error_message:string} */
    uint8_t t[10];
    size_t inner = 1 + lo_pb_put_varint(t, (uint64_t)rejected);
    if (mlen > 0)
        inner += 1 + lo_pb_put_varint(t, mlen) + mlen;
    put_tag(out, 1, LO_PB_LEN);
    put_varint(out, inner);
    put_tag(out, 1, LO_PB_VARINT);
    put_varint(out, (uint64_t)rejected);
    if (mlen > 0)
        put_string(out, 2, message, mlen);
    return out->err;
}

int lo_otlp_pb_status(int32_t code, const char *message, lo_buf_t *out)
{
    /* google.rpc.Status{1 code:int32, 2 message:string}; proto3 omits defaults */
    if (code != 0) {
        put_tag(out, 1, LO_PB_VARINT);
        put_varint(out, (uint64_t)(int64_t)code); /* negative int32: 10 bytes, sign-extended */
    }
    size_t mlen = message != NULL ? strlen(message) : 0;
    if (mlen > 0)
        put_string(out, 2, message, mlen);
    return out->err;
}
