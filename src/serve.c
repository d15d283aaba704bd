/*
 * serve.c — lookout serve: settings, schema, writers, listeners, and an
 * orderly shutdown on SIGTERM/SIGINT (stop accepting, let requests in
 * flight reach the writers, commit everything buffered, answer every
 * request, exit 0).  A second signal during shutdown ends the process at
 * once.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cli.h"
#include "core/config.h"
#include "core/log.h"
#include "http/http.h"
#include "ingest/ingest.h"
#include "ingest/ratelimit.h"
#include "otlp/otlp.h"
#include "http/metrics.h"
#include "query/query.h"
#include "sched/sched.h"
#include "store/locks.h"
#include "store/pool.h"
#include "store/retention.h"
#include "store/store.h"

#define CONNECT_TRIES 10       /* start-up waits this many seconds for the database */
#define IDLE_WAIT_MS 10000     /* longest wait for request bodies still arriving at shutdown */
#define DRAIN_WAIT_MS 10000    /* longest wait for answers to be sent after the final commit */

#define PARTITIONS_PERIOD_MS (3600LL * 1000)
#define PARTITIONS_JITTER_MS (60LL * 1000)

/* The periodic tasks of every module, for serve and for `lookout task`. */
static int add_tasks(lo_sched_t *s, const lo_retention_t *ret, lo_partition_range_t *range)
{
    *range = ret->partitions;
    lo_task_t partitions = { .name = "partitions",
                             .period_ms = PARTITIONS_PERIOD_MS,
                             .jitter_ms = PARTITIONS_JITTER_MS,
                             .lock_key = LO_LOCK_TASK_PARTITIONS,
                             .run = lo_store_partitions_task,
                             .arg = range };
    return lo_sched_add(s, &partitions);
}

static int prepare_schema(const lo_config_t *cfg, const lo_retention_t *ret)
{
    char err[512];
    PGconn *c = NULL;
    for (int i = 0; i < CONNECT_TRIES; i++) {
        c = lo_store_connect(cfg->database_url, err, sizeof(err));
        if (c != NULL)
            break;
        lo_log_warn("database unreachable, retrying", "attempt=%d", i + 1);
        sleep(1);
    }
    if (c == NULL) {
        fprintf(stderr, "lookout serve: cannot connect to the database: %s\n", err);
        return LO_UNAVAIL;
    }
    int rc = lo_store_migrate(c, err, sizeof(err));
    if (rc != LO_OK) {
        fprintf(stderr, "lookout serve: migrating the schema: %s\n", err);
        goto cleanup;
    }
    rc = lo_store_ensure_partitions(c, ret->partitions.days_back, ret->partitions.days_ahead, err, sizeof(err));
    if (rc != LO_OK)
        fprintf(stderr, "lookout serve: creating partitions: %s\n", err);
cleanup:
    PQfinish(c);
    return rc;
}

static void usage(void)
{
    printf("usage: lookout serve [flags]\n"
           "Runs the OTLP/HTTP listener, the API listener and the batch writers.\n\n");
    lo_config_print_help(stdout);
}

int lo_cmd_serve(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
    }
    lo_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    char err[512];
    int argi = 0, status = 1;
    lo_pg_pool_t *pool = NULL;
    lo_auth_t *auth = NULL;
    lo_ratelimit_t *rl = NULL;
    lo_redact_t *redact = NULL;
    lo_ingest_t *ingest = NULL;
    lo_http_t *http = NULL;
    lo_sched_t *sched = NULL;
    lo_partition_range_t range;
    lo_retention_t retention;
    bool ingest_started = false;
    /* the API routes of the modules (api.h): the HTTP layer names none */
    static lo_api_routes_t routes;
    lo_api_routes_init(&routes);

    if (lo_config_load(&cfg, argc, argv, &argi, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout serve: %s\n", err);
        status = 2;
        goto cleanup;
    }
    if (argi < argc) {
        fprintf(stderr, "lookout serve: unexpected argument \"%s\" (see --help)\n", argv[argi]);
        status = 2;
        goto cleanup;
    }
    lo_log_level_t level;
    if (lo_log_parse_level(cfg.log_level, &level) == LO_OK)
        lo_log_set_level(level);

    /* Every thread started from here on inherits this mask: only this
     * thread takes the signals (sigwait below). */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* as many connections as the hard limit allows (the listeners take
     * half of the descriptors each, http/server.c) */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }

    if (lo_retention_init(&retention, &cfg, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout serve: %s\n", err);
        status = 2;
        goto cleanup;
    }
    if (prepare_schema(&cfg, &retention) != LO_OK)
        goto cleanup;
    lo_log_info("schema ready", "version=%d", lo_store_latest_version());

    /* a connection per query thread, plus token checks and /readyz */
    pool = lo_pg_pool_create(cfg.database_url, (int)(cfg.query_threads + cfg.http_threads) + 2);
    auth = pool != NULL ? lo_auth_create(&cfg, pool) : NULL;
    rl = lo_ratelimit_create(&cfg);
    redact = lo_redact_create(cfg.redact_keys);
    ingest = lo_ingest_create(&cfg);
    if (pool == NULL || auth == NULL || rl == NULL || redact == NULL || ingest == NULL) {
        fprintf(stderr, "lookout serve: out of memory while starting\n");
        goto cleanup;
    }
    if (lo_ingest_start(ingest) != LO_OK) {
        fprintf(stderr, "lookout serve: cannot start the writers\n");
        goto cleanup;
    }
    ingest_started = true;

    if (lo_query_routes(&routes) != LO_OK) {
        fprintf(stderr, "lookout serve: cannot register the API routes\n");
        goto cleanup;
    }
    sched = lo_sched_create(cfg.database_url);
    if (sched == NULL || add_tasks(sched, &retention, &range) != LO_OK ||
        lo_metrics_add_renderer(lo_sched_render_metrics, sched) != LO_OK || lo_sched_start(sched) != LO_OK) {
        fprintf(stderr, "lookout serve: cannot start the periodic tasks\n");
        goto cleanup;
    }
    lo_http_deps_t deps = { .cfg = &cfg, .auth = auth, .pool = pool, .ingest = ingest, .ratelimit = rl,
                            .redact = redact, .routes = &routes, .retention = &retention };
    http = lo_http_create(&deps, err, sizeof(err));
    if (http == NULL || lo_http_start(http, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout serve: %s\n", err);
        goto cleanup;
    }
    lo_log_info("listening", "listener=otlp addr=%s port=%d", cfg.otlp_addr, lo_http_otlp_port(http));
    lo_log_info("listening", "listener=api addr=%s port=%d", cfg.api_addr, lo_http_api_port(http));

    int sig = 0;
    sigwait(&sigs, &sig);
    /* A second signal ends the process without waiting. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    lo_log_info("shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");

    lo_http_quiesce(http);
    if (!lo_http_wait_idle(http, IDLE_WAIT_MS))
        lo_log_warn("requests still arriving at shutdown, they get 503", "waited_ms=%d", IDLE_WAIT_MS);
    lo_ingest_stop(ingest);
    ingest_started = false;
    if (!lo_http_drain(http, DRAIN_WAIT_MS))
        lo_log_warn("some answers were not sent before shutdown", "waited_ms=%d", DRAIN_WAIT_MS);
    lo_http_stop(http);
    status = 0;

cleanup:
    /* a run in progress finishes first */
    lo_sched_stop(sched);
    if (ingest_started)
        lo_ingest_stop(ingest);
    lo_http_destroy(http);
    lo_metrics_clear_renderers();
    lo_sched_destroy(sched);
    lo_ingest_destroy(ingest);
    lo_redact_destroy(redact);
    lo_ratelimit_destroy(rl);
    lo_auth_destroy(auth);
    lo_pg_pool_destroy(pool);
    if (status == 0)
        lo_log_info("stopped", "status=%d", 0);
    lo_config_free(&cfg);
    return status;
}

/* lookout task list | lookout task run NAME: the periodic tasks of serve,
 * listed or run once now (with their election lock). */
int lo_cmd_task(int argc, char **argv)
{
    const char *usage_text = "usage: lookout task list | lookout task run NAME [flags of lookout serve]\n";
    if (argc < 1 || (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "run") != 0) ||
        (strcmp(argv[0], "run") == 0 && (argc < 2 || argv[1][0] == '-'))) {
        fputs(usage_text, stderr);
        return 2;
    }
    bool run = strcmp(argv[0], "run") == 0;
    int skip = run ? 2 : 1, argi = 0, status = 1;
    lo_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    char err[512];
    lo_partition_range_t range;
    lo_retention_t retention;
    lo_sched_t *s = NULL;
    if (lo_config_load(&cfg, argc - skip, argv + skip, &argi, err, sizeof(err)) != LO_OK ||
        lo_retention_init(&retention, &cfg, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout task: %s\n", err);
        status = 2;
        goto done;
    }
    s = lo_sched_create(cfg.database_url);
    if (s == NULL || add_tasks(s, &retention, &range) != LO_OK) {
        fprintf(stderr, "lookout task: out of memory\n");
        goto done;
    }
    if (!run) {
        lo_buf_t b;
        lo_buf_init(&b, 0);
        lo_sched_describe(s, &b);
        fwrite(b.p != NULL ? b.p : "", 1, b.len, stdout);
        lo_buf_free(&b);
        status = 0;
        goto done;
    }
    int rc = lo_sched_run_now(s, argv[1], err, sizeof(err));
    if (rc == LO_OK) {
        printf("task %s: done\n", argv[1]);
        status = 0;
    } else {
        fprintf(stderr, "lookout task: %s: %s\n", argv[1], err);
        status = rc == LO_DECLINED ? 2 : rc == LO_BUSY ? 3 : 1;
    }
done:
    lo_sched_destroy(s);
    lo_config_free(&cfg);
    return status;
}
