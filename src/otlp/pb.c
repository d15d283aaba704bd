/*
 * pb.c — lo_otlp_pb_decode: sets up the walker state and hands the body to
 * the signal's walker (pb_logs.c, pb_traces.c, pb_metrics.c).
 */
#include "otlp/pb_internal.h"

/* AnyValue depth when the caller gives none; and a ceiling that keeps the
 * JSON writer (LO_JW_MAX_DEPTH) and the C stack far from their limits. */
#define DEFAULT_DEPTH 32
#define MAX_DEPTH     200

int lo_otlp_pb_decode(lo_signal_t s, const uint8_t *p, size_t n, const lo_decode_opts_t *o,
                      lo_otlp_batch_t *b)
{
    lo_pbd_t d;
    int rc;
    memset(&d, 0, sizeof(d));
    d.b = b;
    d.o = o;
    d.red = o != NULL ? o->redact : NULL;
    d.a = b->arena;
    d.max_depth = o != NULL && o->max_depth > 0 ? o->max_depth : DEFAULT_DEPTH;
    if (d.max_depth > MAX_DEPTH)
        d.max_depth = MAX_DEPTH;
    d.receive_ns = o != NULL && o->receive_ns != 0 ? o->receive_ns : lo_now_ns();
    /* One record's JSON is at most ~6x its protobuf (escaped control
     * characters); 8x the body bounds every scratch buffer. */
    size_t lim = n <= (SIZE_MAX - (1u << 20)) / 8 ? n * 8 + (1u << 20) : SIZE_MAX / 4;
    lo_buf_init(&d.attrs, lim);
    lo_buf_init(&d.aux1, lim);
    lo_buf_init(&d.aux2, lim);
    lo_buf_init(&d.tmp, lim);
    lo_buf_init(&d.scrub, lim);
    if (p == NULL)
        p = (const uint8_t *)"";
    switch (s) {
    case LO_SIGNAL_LOGS: rc = lo_pbd_logs(&d, p, n); break;
    case LO_SIGNAL_SPANS: rc = lo_pbd_traces(&d, p, n); break;
    case LO_SIGNAL_METRICS: rc = lo_pbd_metrics(&d, p, n); break;
    default: rc = lo_otlp_fail(b, "unknown signal"); break;
    }
    lo_buf_free(&d.attrs);
    lo_buf_free(&d.aux1);
    lo_buf_free(&d.aux2);
    lo_buf_free(&d.tmp);
    lo_buf_free(&d.scrub);
    return rc;
}
