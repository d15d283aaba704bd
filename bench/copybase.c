/*
 * copybase.c — the raw COPY baseline of the ingest benchmark.
 *
 * Renders the rows lookout would store from loadgen's requests (same
 * generator, seed and request numbering: bench/gen.c) as COPY text, then
 * streams them with PQputCopyData over --connections connections (use the
 * server's `writers` setting), one COPY statement of --batch rows per
 * transaction, for --duration seconds.  Trace ids are rewritten per batch
 * exactly as loadgen does per request.  Prints rows/s; the last line is
 * machine-readable (RESULT key=value ...).
 *
 *   copybase --dsn URL --signal logs|spans|metrics [--connections 2]
 *            [--duration 10] [--batch 20000] [--request-records 1000]
 *            [--bodies 16] [--dump FILE]
 *
 * What is not in it, on purpose: the server's side tables (traces summary
 * upserts for spans, metric_series upserts), which are extra work the
 * server does beyond "the same rows".
 */
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "rows.h"

typedef struct {
    int id;
    pthread_t th;
    long rows, batches, errors;
} worker_t;

static struct {
    const char *dsn;
    bg_signal_t signal;
    int connections, batch, request_records, bodies;
    double duration;
    uint64_t seed;
    const char *dump;
} opt;

static bg_chunk_t *chunks;
static int64_t deadline_ns;

static int build_chunks(void)
{
    chunks = calloc((size_t)opt.bodies, sizeof *chunks);
    if (!chunks)
        return -1;
    int64_t now = bg_now_ns();
    size_t total = 0;
    for (int i = 0; i < opt.bodies; i++) {
        bg_req_t r;
        if (bg_req_build(&r, opt.signal, opt.request_records, opt.seed, i, now) != 0)
            return -1;
        int rc = bg_rows_render(&r, &chunks[i]);
        bg_req_free(&r);
        if (rc != 0)
            return -1;
        total += chunks[i].len;
    }
    fprintf(stderr, "copybase: %d chunks of %d %s rows, %.0f bytes of COPY text per row\n", opt.bodies,
            opt.request_records, bg_signal_name(opt.signal),
            (double)total / ((double)opt.bodies * opt.request_records));
    return 0;
}

/* ---- streaming ---- */

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    PGconn *db = PQconnectdb(opt.dsn);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "copybase: connect: %s", PQerrorMessage(db));
        PQfinish(db);
        w->errors++;
        return NULL;
    }
    size_t maxlen = 0;
    for (int i = 0; i < opt.bodies; i++)
        if (chunks[i].len > maxlen)
            maxlen = chunks[i].len;
    char *work = malloc(maxlen);
    if (!work) {
        PQfinish(db);
        w->errors++;
        return NULL;
    }
    int ci = w->id % opt.bodies;
    uint64_t seq = 0;
    static const char hx[] = "0123456789abcdef";
    while (bg_mono_ns() < deadline_ns) {
        PGresult *res = PQexec(db, bg_rows_copy_sql(opt.signal));
        if (PQresultStatus(res) != PGRES_COPY_IN) {
            fprintf(stderr, "copybase: %s", PQerrorMessage(db));
            PQclear(res);
            w->errors++;
            break;
        }
        PQclear(res);
        int rows = 0;
        bool ok = true;
        while (rows < opt.batch) {
            const bg_chunk_t *c = &chunks[ci];
            ci = (ci + 1) % opt.bodies;
            memcpy(work, c->text, c->len);
            uint64_t tag = ((uint64_t)(w->id + 1) << 40) | seq++;
            for (size_t i = 0; i < c->ntrace; i++)
                for (int k = 0; k < 16; k++)
                    work[c->trace_at[i] + (size_t)k] = hx[(tag >> (60 - 4 * k)) & 15];
            if (PQputCopyData(db, work, (int)c->len) != 1) {
                ok = false;
                break;
            }
            rows += c->rows;
        }
        if (PQputCopyEnd(db, ok ? NULL : "aborted") != 1)
            ok = false;
        while ((res = PQgetResult(db)) != NULL) {
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "copybase: COPY failed: %s", PQerrorMessage(db));
                ok = false;
            }
            PQclear(res);
        }
        if (!ok) {
            w->errors++;
            break;
        }
        w->rows += rows;
        w->batches++;
    }
    free(work);
    PQfinish(db);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: copybase --dsn URL --signal logs|spans|metrics [--connections 2] [--duration 10]\n"
            "                [--batch 20000] [--request-records 1000] [--bodies 16] [--seed 1]\n"
            "                [--dump FILE]\n");
}

int main(int argc, char **argv)
{
    opt.signal = BG_LOGS;
    opt.connections = 2;
    opt.duration = 10;
    opt.batch = 20000;
    opt.request_records = 1000;
    opt.bodies = 16;
    opt.seed = 1;
    static const struct option lo[] = {
        { "dsn", 1, 0, 'd' },      { "signal", 1, 0, 's' }, { "connections", 1, 0, 'c' },
        { "duration", 1, 0, 't' }, { "batch", 1, 0, 'b' },  { "request-records", 1, 0, 'r' },
        { "bodies", 1, 0, 'B' },   { "seed", 1, 0, 'S' },   { "dump", 1, 0, 'D' },
        { "help", 0, 0, 'h' },     { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd': opt.dsn = optarg; break;
        case 's': {
            int s = bg_signal_parse(optarg);
            if (s < 0) {
                usage();
                return 2;
            }
            opt.signal = (bg_signal_t)s;
            break;
        }
        case 'c': opt.connections = atoi(optarg); break;
        case 't': opt.duration = atof(optarg); break;
        case 'b': opt.batch = atoi(optarg); break;
        case 'r': opt.request_records = atoi(optarg); break;
        case 'B': opt.bodies = atoi(optarg); break;
        case 'S': opt.seed = strtoull(optarg, NULL, 10); break;
        case 'D': opt.dump = optarg; break;
        default: usage(); return ch == 'h' ? 0 : 2;
        }
    }
    if ((!opt.dsn && !opt.dump) || opt.connections < 1 || opt.connections > 64 || opt.batch < 1 ||
        opt.request_records < 1 || opt.request_records > 100000 || opt.bodies < 1 || opt.bodies > 1024 ||
        opt.duration <= 0) {
        usage();
        return 2;
    }
    if (build_chunks() != 0) {
        fprintf(stderr, "copybase: cannot render rows\n");
        return 1;
    }
    if (opt.dump) {
        FILE *f = fopen(opt.dump, "wb");
        if (!f || fwrite(chunks[0].text, 1, chunks[0].len, f) != chunks[0].len || fclose(f) != 0) {
            fprintf(stderr, "copybase: cannot write %s\n", opt.dump);
            return 1;
        }
        if (!opt.dsn)
            return 0;
    }
    worker_t *w = calloc((size_t)opt.connections, sizeof *w);
    if (!w)
        return 1;
    int64_t t0 = bg_mono_ns();
    deadline_ns = t0 + (int64_t)(opt.duration * 1e9);
    for (int i = 0; i < opt.connections; i++) {
        w[i].id = i;
        if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0)
            return 1;
    }
    long rows = 0, errors = 0, batches = 0;
    for (int i = 0; i < opt.connections; i++) {
        pthread_join(w[i].th, NULL);
        rows += w[i].rows;
        errors += w[i].errors;
        batches += w[i].batches;
    }
    double secs = (double)(bg_mono_ns() - t0) / 1e9;
    printf("copy %s: %ld rows in %.1f s over %d connections = %.0f rows/s (%ld COPYs of %d rows)\n",
           bg_signal_name(opt.signal), rows, secs, opt.connections, (double)rows / secs, batches, opt.batch);
    printf("RESULT signal=%s seconds=%.2f rows=%ld rows_per_s=%.0f connections=%d errors=%ld\n",
           bg_signal_name(opt.signal), secs, rows, (double)rows / secs, opt.connections, errors);
    free(w);
    return errors ? 1 : 0;
}
