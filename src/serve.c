/*
 * serve.c — lookout serve, the one place that knows every module: settings,
 * schema, then each module built and its routes, tasks and metrics
 * registered, the running modules started in order, and an orderly
 * shutdown on SIGTERM/SIGINT (stop accepting, let requests in flight reach
 * the writers, commit everything buffered, answer every request, exit 0).
 * A second signal during shutdown ends the process at once.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "alert/alert.h"
#include "auth/auth.h"
#include "cli.h"
#include "cold/coldread.h"
#include "cold/rotate.h"
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
#include "tail/tail.h"

#define CONNECT_TRIES 10    /* start-up waits this many seconds for the database */
#define IDLE_WAIT_MS  10000 /* longest wait for request bodies still arriving at shutdown */
#define DRAIN_WAIT_MS 10000 /* longest wait for answers to be sent after the final commit */

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
    rc = lo_store_ensure_partitions(c, ret->partitions.days_back, ret->partitions.days_ahead, err,
                                    sizeof(err));
    if (rc != LO_OK)
        fprintf(stderr, "lookout serve: creating partitions: %s\n", err);
cleanup:
    PQfinish(c);
    return rc;
}

static void usage(void)
{
    printf("usage: lookout serve [flags] [--print-settings]\n"
           "Runs the OTLP/HTTP listener, the API listener, the batch writers and the periodic tasks.\n"
           "--print-settings prints the settings in effect (sensitive ones not shown) and exits.\n\n");
    lo_config_print_help(stdout);
}

/* Everything `serve` builds, in one place. */
typedef struct {
    lo_config_t cfg;
    lo_retention_t retention;
    lo_partition_range_t range;
    lo_api_routes_t routes; /* the API routes of the modules (api.h): the HTTP layer names none */
    lo_pg_pool_t *pool;
    lo_auth_t *auth;
    lo_ratelimit_t *rl;
    lo_redact_t *redact;
    lo_ingest_t *ingest;
    lo_sched_t *sched;
    lo_tail_t *tail;
    lo_alert_t *alert;
    lo_rotate_t *rotate;    /* NULL: no cold tier */
    lo_cold_reader_t *cold; /* the queries' reader of the cold tier; NULL: none */
    lo_http_t *http;
} serve_t;

/* Creates every module and registers what they contribute (routes, tasks,
 * metrics); nothing runs yet.  false with a message on stderr. */
static bool build(serve_t *s)
{
    char err[512];
    /* a connection per query thread, plus token checks and /readyz */
    s->pool = lo_pg_pool_create(s->cfg.database_url, (int)(s->cfg.query_threads + s->cfg.http_threads) + 2);
    s->auth = s->pool != NULL ? lo_auth_create(&s->cfg, s->pool) : NULL;
    s->rl = lo_ratelimit_create(&s->cfg);
    s->redact = lo_redact_from_config(&s->cfg);
    s->ingest = lo_ingest_create(&s->cfg);
    s->sched = lo_sched_create(s->cfg.database_url);
    if (s->pool == NULL || s->auth == NULL || s->rl == NULL || s->redact == NULL || s->ingest == NULL ||
        s->sched == NULL) {
        fprintf(stderr, "lookout serve: out of memory while starting\n");
        return false;
    }
    s->alert = lo_alert_create(&s->cfg);
    if (s->alert == NULL) {
        fprintf(stderr, "lookout serve: out of memory while starting\n");
        return false;
    }
    s->rotate = lo_rotate_create(&s->cfg, &s->retention, err, sizeof(err));
    if (s->rotate == NULL && err[0] != '\0') {
        fprintf(stderr, "lookout serve: %s\n", err);
        return false;
    }
    s->cold = lo_cold_reader_create(&s->cfg, err, sizeof(err));
    if (s->cold == NULL && err[0] != '\0') {
        fprintf(stderr, "lookout serve: %s\n", err);
        return false;
    }
    lo_query_set_cold(s->cold);
    s->tail = lo_tail_create(&s->cfg, err, sizeof(err));
    if (s->tail == NULL) {
        fprintf(stderr, "lookout serve: live tail: %s\n", err);
        return false;
    }
    lo_api_routes_init(&s->routes);
    if (lo_query_routes(&s->routes) != LO_OK || add_tasks(s->sched, &s->retention, &s->range) != LO_OK ||
        lo_metrics_add_renderer(lo_sched_render_metrics, s->sched) != LO_OK ||
        lo_tail_register(s->tail, &s->routes, s->ingest, s->sched) != LO_OK ||
        lo_alert_register(s->alert, &s->routes, s->sched) != LO_OK ||
        (s->rotate != NULL && lo_rotate_register(s->rotate, s->sched) != LO_OK)) {
        fprintf(stderr, "lookout serve: cannot register the modules' routes, tasks and metrics\n");
        return false;
    }
    lo_http_deps_t deps = { .cfg = &s->cfg,
                            .auth = s->auth,
                            .pool = s->pool,
                            .ingest = s->ingest,
                            .ratelimit = s->rl,
                            .redact = s->redact,
                            .routes = &s->routes,
                            .retention = &s->retention };
    s->http = lo_http_create(&deps, err, sizeof(err));
    if (s->http == NULL) {
        fprintf(stderr, "lookout serve: %s\n", err);
        return false;
    }
    return true;
}

/* ---- the lifecycle of the modules that run ----
 *
 * Started in table order; at shutdown every module is quiesced in reverse
 * order (the listeners stop accepting and let requests in flight reach the
 * writers; the writers commit everything queued and answer every request),
 * then stopped in reverse order (the listeners send the last answers and
 * close; the tasks finish a run in progress). */

static int start_writers(serve_t *s)
{
    return lo_ingest_start(s->ingest);
}

static void quiesce_writers(serve_t *s)
{
    lo_ingest_stop(s->ingest);
}

static int start_tasks(serve_t *s)
{
    return lo_sched_start(s->sched);
}

static void stop_tasks(serve_t *s)
{
    lo_sched_stop(s->sched);
}

static int start_tail(serve_t *s)
{
    return lo_tail_start(s->tail);
}

static void quiesce_tail(serve_t *s)
{
    lo_tail_quiesce(s->tail);
}

static void stop_tail(serve_t *s)
{
    lo_tail_stop(s->tail);
}

static int start_listeners(serve_t *s)
{
    char err[512];
    if (lo_http_start(s->http, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout serve: %s\n", err);
        return LO_ERROR;
    }
    lo_log_info("listening", "listener=otlp addr=%s port=%d", s->cfg.otlp_addr, lo_http_otlp_port(s->http));
    lo_log_info("listening", "listener=api addr=%s port=%d", s->cfg.api_addr, lo_http_api_port(s->http));
    return LO_OK;
}

static void quiesce_listeners(serve_t *s)
{
    lo_http_quiesce(s->http);
    if (!lo_http_wait_idle(s->http, IDLE_WAIT_MS))
        lo_log_warn("requests still arriving at shutdown, they get 503", "waited_ms=%d", IDLE_WAIT_MS);
}

static void stop_listeners(serve_t *s)
{
    if (!lo_http_drain(s->http, DRAIN_WAIT_MS))
        lo_log_warn("some answers were not sent before shutdown", "waited_ms=%d", DRAIN_WAIT_MS);
    lo_http_stop(s->http);
}

static const struct {
    const char *name;
    int (*start)(serve_t *s);
    void (*quiesce)(serve_t *s);
    void (*stop)(serve_t *s);
} modules[] = {
    { "writers", start_writers, quiesce_writers, NULL },
    { "periodic tasks", start_tasks, NULL, stop_tasks },
    { "live tail", start_tail, quiesce_tail, stop_tail },
    { "listeners", start_listeners, quiesce_listeners, stop_listeners },
};

/* Quiesces, then stops, the first n modules (those started), last first. */
static void shut_down(serve_t *s, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (modules[i].quiesce != NULL)
            modules[i].quiesce(s);
    for (size_t i = n; i-- > 0;)
        if (modules[i].stop != NULL)
            modules[i].stop(s);
}

static void destroy(serve_t *s)
{
    lo_http_destroy(s->http);
    lo_metrics_clear_renderers();
    lo_tail_destroy(s->tail);
    lo_alert_destroy(s->alert);
    lo_sched_destroy(s->sched);
    lo_rotate_destroy(s->rotate); /* after its task has stopped */
    lo_query_set_cold(NULL);
    lo_cold_reader_destroy(s->cold); /* after the query threads */
    lo_ingest_destroy(s->ingest);
    lo_redact_destroy(s->redact);
    lo_ratelimit_destroy(s->rl);
    lo_auth_destroy(s->auth);
    lo_pg_pool_destroy(s->pool);
    lo_config_free(&s->cfg);
}

/* Signals go to the main thread alone (sigwait); as many descriptors as
 * the hard limit allows (the listeners take half each, http/server.c). */
static void process_setup(sigset_t *sigs)
{
    sigemptyset(sigs);
    sigaddset(sigs, SIGTERM);
    sigaddset(sigs, SIGINT);
    /* every thread started from here on inherits this mask */
    pthread_sigmask(SIG_BLOCK, sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }
}

int lo_cmd_serve(int argc, char **argv)
{
    bool print_settings = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        }
        if (strcmp(argv[i], "--print-settings") == 0) {
            print_settings = true;
            memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof(char *));
            argc--;
            i--;
        }
    }
    static serve_t s; /* large (the route table); one per process */
    memset(&s, 0, sizeof(s));
    char err[512];
    int argi = 0, status = 1;
    size_t started = 0;

    if (lo_config_load(&s.cfg, argc, argv, &argi, err, sizeof(err)) != LO_OK ||
        lo_retention_init(&s.retention, &s.cfg, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout serve: %s\n", err);
        status = 2;
        goto cleanup;
    }
    if (argi < argc) {
        fprintf(stderr, "lookout serve: unexpected argument \"%s\" (see --help)\n", argv[argi]);
        status = 2;
        goto cleanup;
    }
    if (print_settings) {
        /* the settings in effect after defaults, --config, environment and
         * flags; sensitive ones are not shown */
        lo_config_print_effective(&s.cfg, stdout);
        lo_config_free(&s.cfg);
        return 0;
    }
    lo_log_level_t level;
    if (lo_log_parse_level(s.cfg.log_level, &level) == LO_OK)
        lo_log_set_level(level);
    sigset_t sigs;
    process_setup(&sigs);

    if (prepare_schema(&s.cfg, &s.retention) != LO_OK)
        goto cleanup;
    lo_log_info("schema ready", "version=%d", lo_store_latest_version());
    if (!build(&s))
        goto cleanup;
    for (; started < LO_ARRAY_LEN(modules); started++) {
        if (modules[started].start(&s) != LO_OK) {
            fprintf(stderr, "lookout serve: cannot start the %s\n", modules[started].name);
            goto cleanup;
        }
    }

    int sig = 0;
    sigwait(&sigs, &sig);
    /* A second signal ends the process without waiting. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
    lo_log_info("shutting down", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;

cleanup:
    shut_down(&s, started);
    destroy(&s);
    if (status == 0)
        lo_log_info("stopped", "status=%d", 0);
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
    lo_alert_t *alert = NULL;
    lo_rotate_t *rotate = NULL;
    if (lo_config_load(&cfg, argc - skip, argv + skip, &argi, err, sizeof(err)) != LO_OK ||
        lo_retention_init(&retention, &cfg, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout task: %s\n", err);
        status = 2;
        goto done;
    }
    s = lo_sched_create(cfg.database_url);
    alert = lo_alert_create(&cfg);
    rotate = lo_rotate_create(&cfg, &retention, err, sizeof(err));
    if (rotate == NULL && err[0] != '\0') {
        fprintf(stderr, "lookout task: %s\n", err);
        status = 2;
        goto done;
    }
    if (s == NULL || alert == NULL || add_tasks(s, &retention, &range) != LO_OK ||
        lo_alert_add_tasks(alert, s) != LO_OK || (rotate != NULL && lo_rotate_add_task(rotate, s) != LO_OK)) {
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
        status = rc == LO_NOT_FOUND ? 2 : rc == LO_BUSY ? 3 : 1;
    }
done:
    lo_sched_destroy(s);
    lo_alert_destroy(alert);
    lo_rotate_destroy(rotate);
    lo_config_free(&cfg);
    return status;
}
