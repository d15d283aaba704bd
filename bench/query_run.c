/*
 * query_run.c — times query API requests without the HTTP listener: each
 * argument "NAME=PATH?QUERY" is parsed like a URL (percent-decoded) and
 * answered by lo_query_handle on one PostgreSQL connection, RUNS times after
 * three warm-up runs.  Prints one Markdown table row per query with p50 and
 * p99 in milliseconds (bench/query_bench.sh).  The caller is an unbound
 * observe:read principal.
 *
 *   query_run [--cold URL] [--fresh DIR] [--dump DIR] DSN RUNS NAME=PATH?QUERY...
 *
 * --cold URL  queries read the cold tier at URL too (docs/cold-store.md,
 *             "Queries"), through a reader made for each query, so its first
 *             run meets an empty cache (LOOKOUT_COLD_CACHE_MB sets the size)
 * --fresh DIR every run is a first run: no warm-up, and before each run a new
 *             reader (empty cache) and the files under DIR (the file:// store's
 *             directory) dropped from the page cache (bench/cold_query_bench.sh)
 * --dump DIR  the last answer of query N is written to DIR/N.json
 */
#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cold/coldread.h"
#include "core/config.h"
#include "core/json_write.h"
#include "query/query.h"

/* The HTTP layer's side of api.h, over a decoded parameter list. */
typedef struct {
    int n;
    char *k[64], *v[64];
} params_t;

const char *lo_api_param(const lo_api_req_t *r, const char *name, bool *dup)
{
    const params_t *p = r->http;
    const char *found = NULL;
    if (dup)
        *dup = false;
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->k[i], name) != 0)
            continue;
        if (found && dup)
            *dup = true;
        if (!found)
            found = p->v[i];
    }
    return found;
}

void lo_api_params_each(const lo_api_req_t *r, void (*fn)(void *ud, const char *k, const char *v), void *ud)
{
    const params_t *p = r->http;
    for (int i = 0; i < p->n; i++)
        fn(ud, p->k[i], p->v[i]);
}

int lo_api_error(lo_api_resp_t *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lo_buf_reset(&resp->body);
    lo_jw_t w;
    lo_jw_init(&w, &resp->body);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "error", 5);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "code", 4), lo_jw_cstr(&w, code);
    lo_jw_key(&w, "message", 7), lo_jw_cstr(&w, msg);
    lo_jw_obj_end(&w);
    lo_jw_obj_end(&w);
    resp->status = status;
    return LO_OK;
}

static void pct_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '+') {
            *o++ = ' ';
        } else if (*s == '%' && s[1] && s[2]) {
            char h[3] = { s[1], s[2], 0 };
            *o++ = (char)strtol(h, NULL, 16);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Drops a file's pages from the page cache (they are clean: the store
 * fsyncs what it writes). */
static int evict_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type != FTW_F)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
    return 0;
}

/* A new reader of the cold tier for the queries (the old one freed). */
static lo_cold_reader_t *new_reader(lo_config_t *cfg, lo_cold_reader_t *old)
{
    lo_query_set_cold(NULL);
    lo_cold_reader_destroy(old);
    char err[512];
    lo_cold_reader_t *r = lo_cold_reader_create(cfg, err, sizeof err);
    if (!r) {
        fprintf(stderr, "query_run: cold reader: %s\n", err);
        exit(1);
    }
    lo_query_set_cold(r);
    return r;
}

int main(int argc, char **argv)
{
    const char *cold = NULL, *fresh = NULL, *dump = NULL;
    int a0 = 1;
    lo_malloc_tune(); /* as lookout's main */
    for (; a0 + 1 < argc && strncmp(argv[a0], "--", 2) == 0; a0 += 2) {
        if (strcmp(argv[a0], "--cold") == 0)
            cold = argv[a0 + 1];
        else if (strcmp(argv[a0], "--fresh") == 0)
            fresh = argv[a0 + 1];
        else if (strcmp(argv[a0], "--dump") == 0)
            dump = argv[a0 + 1];
        else
            break;
    }
    if (argc - a0 < 3 || (fresh && !cold)) {
        fprintf(stderr,
                "usage: query_run [--cold URL] [--fresh DIR] [--dump DIR] DSN RUNS NAME=PATH?QUERY...\n");
        return 2;
    }
    lo_config_t cfg;
    char cerr[512];
    if (cold && (lo_config_defaults(&cfg) != LO_OK || lo_config_load_env(&cfg, cerr, sizeof cerr) != LO_OK ||
                 lo_config_set(&cfg, "cold_url", cold, cerr, sizeof cerr) != LO_OK)) {
        fprintf(stderr, "query_run: %s\n", cerr);
        return 2;
    }
    PGconn *db = PQconnectdb(argv[a0]);
    if (PQstatus(db) != CONNECTION_OK) {
        fprintf(stderr, "query_run: %s", PQerrorMessage(db));
        return 1;
    }
    int runs = atoi(argv[a0 + 1]);
    double *t = calloc((size_t)runs, sizeof(double));
    lo_principal_t who = { .token_id = 1, .scopes = LO_SCOPE_OBSERVE_READ };
    lo_cold_reader_t *reader = NULL;
    printf("| query | p50 ms | p99 ms | answer |\n|---|---:|---:|---|\n");
    for (int a = a0 + 2; a < argc; a++) {
        char *spec = strdup(argv[a]);
        char *eq = strchr(spec, '=');
        if (!eq)
            return 2;
        *eq = '\0';
        char *path = eq + 1, *qs = strchr(path, '?');
        params_t p = { 0 };
        if (qs) {
            *qs++ = '\0';
            for (char *tok = strtok(qs, "&"); tok && p.n < 64; tok = strtok(NULL, "&")) {
                char *e = strchr(tok, '=');
                if (e)
                    *e++ = '\0';
                pct_decode(tok);
                if (e)
                    pct_decode(e);
                p.k[p.n] = tok;
                p.v[p.n++] = e ? e : "";
            }
        }
        pct_decode(path);
        lo_api_req_t req = { .method = "GET", .path = path, .who = &who, .db = db, .http = &p };
        lo_api_resp_t resp = { 0 };
        lo_buf_init(&resp.body, 64 << 20);
        if (cold)
            reader = new_reader(&cfg, reader);
        for (int i = fresh ? 0 : -3; i < runs; i++) {
            struct timespec t0, t1;
            if (fresh) {
                reader = new_reader(&cfg, reader);
                nftw(fresh, evict_one, 16, FTW_PHYS);
            }
            lo_buf_reset(&resp.body);
            clock_gettime(CLOCK_MONOTONIC, &t0);
            int rc = lo_query_handle(&req, &resp);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (rc != LO_OK) {
                fprintf(stderr, "query_run: %s declined\n", spec);
                return 1;
            }
            if (i >= 0)
                t[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        }
        qsort(t, (size_t)runs, sizeof(double), cmp_d);
        int i99 = (int)(0.99 * runs);
        printf("| %s | %.1f | %.1f | %d, %zu bytes%s%.120s |\n", spec, t[runs / 2],
               t[i99 < runs ? i99 : runs - 1], resp.status, resp.body.len, resp.status == 200 ? "" : ": ",
               resp.status == 200 ? "" : resp.body.p);
        if (dump) {
            char out[4096];
            snprintf(out, sizeof out, "%s/%d.json", dump, a - a0 - 2);
            FILE *f = fopen(out, "w");
            if (!f || fwrite(resp.body.p, 1, resp.body.len, f) != resp.body.len) {
                fprintf(stderr, "query_run: cannot write %s\n", out);
                return 1;
            }
            fclose(f);
        }
        lo_buf_free(&resp.body);
        free(spec);
    }
    lo_query_set_cold(NULL);
    lo_cold_reader_destroy(reader);
    if (cold)
        lo_config_free(&cfg);
    free(t);
    PQfinish(db);
    return 0;
}
