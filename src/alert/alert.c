/*
 * alert.c — the alert module: what it registers with `serve` (routes,
 * tasks, /metrics) and its counters (docs/alerts.md).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_internal.h"
#include "http/metrics.h"
#include "store/locks.h"

#define EVAL_JITTER_MS   250
#define NOTIFY_PERIOD_MS 200
#define NOTIFY_JITTER_MS 50

lo_alert_t *lo_alert_create(const lo_config_t *cfg)
{
    static bool curl_ready;
    if (!curl_ready) {
        /* once, before any thread uses libcurl (serve builds modules on one thread) */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = true;
    }
    lo_alert_t *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->cfg = cfg;
    if (cfg->public_url && cfg->public_url[0]) {
        a->public_url = strdup(cfg->public_url);
    } else {
        /* the API listener's address, as clients on this host reach it */
        size_t n = strlen(cfg->api_addr) + 8;
        a->public_url = malloc(n);
        if (a->public_url)
            snprintf(a->public_url, n, "http://%s", cfg->api_addr);
    }
    if (!a->public_url) {
        free(a);
        return NULL;
    }
    return a;
}

void lo_alert_destroy(lo_alert_t *a)
{
    if (!a)
        return;
    free(a->public_url);
    free(a);
}

static void render_metrics(void *arg, lo_buf_t *out)
{
    lo_alert_stats_t *s = &((lo_alert_t *)arg)->st;
    lo_buf_printf(
        out,
        "# HELP lookout_alert_evaluations_total Alert rule evaluations, and those that failed.\n"
        "# TYPE lookout_alert_evaluations_total counter\n"
        "lookout_alert_evaluations_total{result=\"ok\"} %lld\n"
        "lookout_alert_evaluations_total{result=\"error\"} %lld\n"
        "# HELP lookout_alert_evaluation_seconds_total Time spent evaluating rules.\n"
        "# TYPE lookout_alert_evaluation_seconds_total counter\n"
        "lookout_alert_evaluation_seconds_total %.6f\n"
        "# HELP lookout_alert_evaluator_runs_total Evaluator runs on this node.\n"
        "# TYPE lookout_alert_evaluator_runs_total counter\nlookout_alert_evaluator_runs_total %lld\n"
        "# HELP lookout_alert_instances Alert instances by state, after this node's last run.\n"
        "# TYPE lookout_alert_instances gauge\n"
        "lookout_alert_instances{state=\"pending\"} %lld\n"
        "lookout_alert_instances{state=\"firing\"} %lld\n"
        "# HELP lookout_alert_rules Alert rules by state (the most severe of their groups), after the "
        "last evaluation on this node.\n"
        "# TYPE lookout_alert_rules gauge\n"
        "lookout_alert_rules{state=\"inactive\"} %lld\n"
        "lookout_alert_rules{state=\"pending\"} %lld\n"
        "lookout_alert_rules{state=\"firing\"} %lld\n"
        "lookout_alert_rules{state=\"disabled\"} %lld\n"
        "# HELP lookout_alert_transitions_total State transitions written by this node.\n"
        "# TYPE lookout_alert_transitions_total counter\n"
        "lookout_alert_transitions_total{to=\"pending\"} %lld\n"
        "lookout_alert_transitions_total{to=\"firing\"} %lld\n"
        "lookout_alert_transitions_total{to=\"resolved\"} %lld\n"
        "lookout_alert_transitions_total{to=\"cancelled\"} %lld\n"
        "# HELP lookout_alert_notifications_total Notification attempts by outcome.\n"
        "# TYPE lookout_alert_notifications_total counter\n"
        "lookout_alert_notifications_total{outcome=\"sent\"} %lld\n"
        "lookout_alert_notifications_total{outcome=\"retry\"} %lld\n"
        "lookout_alert_notifications_total{outcome=\"failed\"} %lld\n",
        (long long)(atomic_load(&s->evaluations) - atomic_load(&s->eval_failures)),
        (long long)atomic_load(&s->eval_failures), (double)atomic_load(&s->eval_us_sum) / 1e6,
        (long long)atomic_load(&s->eval_runs), (long long)atomic_load(&s->pending),
        (long long)atomic_load(&s->firing), (long long)atomic_load(&s->rules[0]),
        (long long)atomic_load(&s->rules[1]), (long long)atomic_load(&s->rules[2]),
        (long long)atomic_load(&s->rules[3]), (long long)atomic_load(&s->transitions[LO_AT_PENDING]),
        (long long)atomic_load(&s->transitions[LO_AT_FIRED]),
        (long long)atomic_load(&s->transitions[LO_AT_RESOLVED]),
        (long long)atomic_load(&s->transitions[LO_AT_CANCELLED]), (long long)atomic_load(&s->sent),
        (long long)atomic_load(&s->retried), (long long)atomic_load(&s->failed));
}

int lo_alert_add_tasks(lo_alert_t *a, lo_sched_t *sched)
{
    a->sched = sched;
    lo_task_t eval = { .name = "alert_eval",
                       .period_ms = a->cfg->alert_interval * 1000,
                       .jitter_ms = EVAL_JITTER_MS,
                       .lock_key = LO_LOCK_TASK_ALERTS,
                       .run = lo_alert_eval_task,
                       .arg = a };
    lo_task_t notify = { .name = "alert_notify",
                         .period_ms = NOTIFY_PERIOD_MS,
                         .jitter_ms = NOTIFY_JITTER_MS,
                         .lock_key = 0, /* every node sends; rows are claimed one node at a time */
                         .run = lo_alert_notify_task,
                         .arg = a };
    return lo_sched_add(sched, &eval) == LO_OK && lo_sched_add(sched, &notify) == LO_OK ? LO_OK : LO_ERROR;
}

int lo_alert_register(lo_alert_t *a, lo_api_routes_t *routes, lo_sched_t *sched)
{
    if (lo_alert_add_routes(a, routes) != LO_OK || lo_alert_add_tasks(a, sched) != LO_OK ||
        lo_metrics_add_renderer(render_metrics, a) != LO_OK)
        return LO_ERROR;
    return LO_OK;
}
