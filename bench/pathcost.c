/*
 * pathcost.c — the server's CPU per record on its two hot steps, in
 * process and on one core: decoding the load generator's protobuf bodies
 * (lo_otlp_pb_decode: walker, envelope, JSON attributes, redaction as
 * lookout serve does it) and encoding the decoded records as COPY rows
 * (lo_copy_*_row).  What is left of the server's measured CPU per record
 * is HTTP, queueing and libpq.  Times are this thread's CPU time, so a busy
 * machine does not inflate them.
 *
 *   pathcost [--signal logs|spans|metrics] [--seconds 1]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "encode.h"
#include "gen.h"
#include "ingest/copy.h"
#include "otlp/otlp.h"

#define NBODIES 8

/* CPU time of this thread: the machine may be shared, wall time would
 * count other processes' turns */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#define RECORDS 1000

typedef struct {
    pbw_t w;
    lo_arena_t *arena;
    lo_otlp_batch_t batch;
} item_t;

/* redaction as lookout serve does it by default (docs/auth.md) */
static lo_redact_t *g_redact;

static int decode(item_t *it, bg_signal_t s)
{
    lo_arena_reset(it->arena);
    lo_otlp_batch_free(&it->batch);
    lo_otlp_batch_init(&it->batch, (lo_signal_t)s, it->arena);
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = bg_now_ns(), .redact = g_redact };
    int rc = lo_otlp_pb_decode((lo_signal_t)s, it->w.p, it->w.len, &o, &it->batch);
    if (rc != LO_OK)
        fprintf(stderr, "pathcost: decode: %s\n", it->batch.error);
    return rc;
}

static int run(bg_signal_t s, double seconds)
{
    item_t it[NBODIES];
    memset(it, 0, sizeof it);
    int64_t now = bg_now_ns();
    size_t bytes = 0;
    for (int i = 0; i < NBODIES; i++) {
        bg_req_t r;
        if (bg_req_build(&r, s, RECORDS, 1, i, now) != 0)
            return 1;
        bg_encode_request(&it[i].w, &r);
        bg_req_free(&r);
        it[i].arena = lo_arena_create(256 * 1024, 256u << 20);
        if (!it[i].arena)
            return 1;
        bytes += it[i].w.len;
    }
    /* decode */
    long rounds = 0;
    int64_t t0 = cpu_ns(), t1;
    do {
        for (int i = 0; i < NBODIES; i++)
            if (decode(&it[i], s) != LO_OK)
                return 1;
        rounds++;
        t1 = cpu_ns();
    } while ((double)(t1 - t0) < seconds * 1e9);
    double dec_ns = (double)(t1 - t0) / ((double)rounds * NBODIES * RECORDS);
    double dec_mbs = (double)bytes * (double)rounds / ((double)(t1 - t0) / 1e9) / 1e6;
    /* COPY encoding of the last decoded batches */
    lo_copy_ctx_t ctx;
    lo_copy_ctx_init(&ctx);
    lo_buf_t buf;
    lo_buf_init(&buf, 0);
    size_t out_bytes = 0;
    rounds = 0;
    t0 = cpu_ns();
    do {
        for (int i = 0; i < NBODIES; i++) {
            lo_buf_reset(&buf);
            lo_otlp_batch_t *b = &it[i].batch;
            int64_t now_ms = lo_now_ns() / 1000000; /* as the writer: one reading a batch */
            for (size_t k = 0; k < b->n; k++) {
                if (s == BG_LOGS) { /* each pass mints anew, as each real batch does */
                    memset(b->logs[k].id, 0, sizeof(b->logs[k].id));
                    lo_log_mint_id(&ctx, &b->logs[k], now_ms);
                }
                int rc = s == BG_LOGS    ? lo_copy_log_row(&ctx, &buf, &b->logs[k])
                         : s == BG_SPANS ? lo_copy_span_row(&ctx, &buf, &b->spans[k])
                                         : lo_copy_sample_row(&ctx, &buf, &b->samples[k], (int64_t)k);
                if (rc != LO_OK)
                    return 1;
            }
            out_bytes += buf.len;
        }
        rounds++;
        t1 = cpu_ns();
    } while ((double)(t1 - t0) < seconds * 1e9);
    double enc_ns = (double)(t1 - t0) / ((double)rounds * NBODIES * RECORDS);
    printf("%s: decode %.0f ns/record (%.0f MB/s of protobuf), COPY encode %.0f ns/record "
           "(%.0f bytes/row); together %.2f us/record\n",
           bg_signal_name(s), dec_ns, dec_mbs, enc_ns,
           (double)out_bytes / ((double)rounds * NBODIES * RECORDS), (dec_ns + enc_ns) / 1000.0);
    printf("RESULT signal=%s decode_ns=%.0f decode_mb_per_s=%.0f copy_ns=%.0f\n", bg_signal_name(s), dec_ns,
           dec_mbs, enc_ns);
    lo_buf_free(&buf);
    for (int i = 0; i < NBODIES; i++) {
        lo_otlp_batch_free(&it[i].batch);
        lo_arena_destroy(it[i].arena);
        pbw_free(&it[i].w);
    }
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = 1;
    int only = -1;
    static const struct option lo[] = {
        { "signal", 1, 0, 's' }, { "seconds", 1, 0, 't' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (ch == 's' && (only = bg_signal_parse(optarg)) >= 0)
            continue;
        if (ch == 't' && (seconds = atof(optarg)) > 0)
            continue;
        fprintf(stderr, "usage: pathcost [--signal logs|spans|metrics] [--seconds 1]\n");
        return ch == 'h' ? 0 : 2;
    }
    lo_config_t cfg;
    if (lo_config_defaults(&cfg) != LO_OK || (g_redact = lo_redact_from_config(&cfg)) == NULL) {
        fprintf(stderr, "pathcost: out of memory\n");
        return 1;
    }
    lo_config_free(&cfg);
    for (int s = 0; s < 3; s++)
        if ((only < 0 || only == s) && run((bg_signal_t)s, seconds) != 0)
            return 1;
    lo_redact_destroy(g_redact);
    return 0;
}
