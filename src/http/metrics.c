#include "http/metrics.h"

#include <inttypes.h>

#include "core/stats.h"
#include "http/api_exec.h"
#include "http/guard.h"

/* The status codes the listeners answer; anything else counts as "other". */
static const unsigned codes[] = { 200, 400, 401, 403, 404, 405, 413, 415, 429, 500, 503 };
#define N_CODES (LO_ARRAY_LEN(codes) + 1)

atomic_llong lo_http_held_bytes;

#define MAX_RENDERERS 8
static struct {
    lo_metrics_fn fn;
    void *arg;
} renderers[MAX_RENDERERS];
static size_t n_renderers;

int lo_metrics_add_renderer(lo_metrics_fn fn, void *arg)
{
    if (n_renderers >= MAX_RENDERERS || fn == NULL)
        return LO_ERROR;
    renderers[n_renderers].fn = fn;
    renderers[n_renderers].arg = arg;
    n_renderers++;
    return LO_OK;
}

void lo_metrics_clear_renderers(void)
{
    n_renderers = 0;
}
static atomic_llong responses[LO_LISTENER_COUNT][N_CODES];
static const char *const listener_names[LO_LISTENER_COUNT] = { "otlp", "api" };

void lo_http_count_response(lo_listener_t l, unsigned status)
{
    size_t i = 0;
    while (i < LO_ARRAY_LEN(codes) && codes[i] != status)
        i++;
    lo_stat_add(&responses[l][i], 1);
}

static long long get(atomic_llong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* One counter or gauge per signal. */
static void per_signal(lo_buf_t *b, const char *name, const char *type, const char *help, atomic_llong *v)
{
    lo_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (int s = 0; s < LO_SIGNAL_COUNT; s++)
        lo_buf_printf(b, "%s{signal=\"%s\"} %lld\n", name, lo_signal_name((lo_signal_t)s), get(&v[s]));
}

int lo_metrics_render(lo_buf_t *b)
{
    lo_stats_t *st = &lo_stats;
    per_signal(b, "lookout_records_ingested_total", "counter", "Records committed to PostgreSQL.",
               st->records_ingested);
    per_signal(b, "lookout_records_rejected_total", "counter",
               "Records refused in an accepted request (partial_success).", st->records_rejected);
    per_signal(b, "lookout_ingest_requests_total", "counter", "OTLP export requests received.", st->requests);
    per_signal(b, "lookout_ingest_requests_invalid_total", "counter",
               "OTLP export requests answered 400 (malformed payload).", st->requests_invalid);
    per_signal(b, "lookout_ingest_requests_throttled_total", "counter",
               "OTLP export requests answered 429 (buffer full or rate limit).", st->requests_busy);
    per_signal(b, "lookout_ingest_requests_unavailable_total", "counter",
               "OTLP export requests answered 503 (storage unavailable).", st->requests_unavail);
    per_signal(b, "lookout_buffer_bytes", "gauge", "Bytes of decoded requests waiting for a writer.",
               st->buffer_bytes);
    per_signal(b, "lookout_commit_failures_total", "counter", "Writer transactions that failed.",
               st->commit_failures);

    lo_buf_puts(b, "# HELP lookout_batch_records Records per committed batch.\n"
                   "# TYPE lookout_batch_records summary\n");
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        const char *sn = lo_signal_name((lo_signal_t)s);
        lo_buf_printf(b, "lookout_batch_records_sum{signal=\"%s\"} %lld\n", sn,
                      get(&st->batch_records_sum[s]));
        lo_buf_printf(b, "lookout_batch_records_count{signal=\"%s\"} %lld\n", sn, get(&st->batches[s]));
    }

    lo_buf_puts(b, "# HELP lookout_commit_latency_seconds Time a writer takes to write and commit one batch "
                   "(COPY, side tables, COMMIT).\n"
                   "# TYPE lookout_commit_latency_seconds histogram\n");
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        const char *sn = lo_signal_name((lo_signal_t)s);
        long long cum = 0;
        for (int i = 0; i < LO_STATS_LAT_BUCKETS; i++) {
            cum += get(&st->commit_latency_bucket[s][i]);
            if (i == LO_STATS_LAT_BUCKETS - 1)
                lo_buf_printf(b, "lookout_commit_latency_seconds_bucket{signal=\"%s\",le=\"+Inf\"} %lld\n",
                              sn, cum);
            else
                lo_buf_printf(b, "lookout_commit_latency_seconds_bucket{signal=\"%s\",le=\"%g\"} %lld\n", sn,
                              lo_stats_lat_bounds[i], cum);
        }
        lo_buf_printf(b, "lookout_commit_latency_seconds_sum{signal=\"%s\"} %.6f\n", sn,
                      (double)get(&st->commit_latency_sum_us[s]) / 1e6);
        lo_buf_printf(b, "lookout_commit_latency_seconds_count{signal=\"%s\"} %lld\n", sn, cum);
    }

    lo_buf_printf(b,
                  "# HELP lookout_http_body_bytes Bytes of OTLP request bodies being received or decoded.\n"
                  "# TYPE lookout_http_body_bytes gauge\nlookout_http_body_bytes %lld\n",
                  get(&lo_http_held_bytes));
    lo_buf_printf(b,
                  "# HELP lookout_http_heads_timed_out_total Connections closed because their request head "
                  "did not arrive in time.\n# TYPE lookout_http_heads_timed_out_total counter\n"
                  "lookout_http_heads_timed_out_total %lld\n",
                  get(&lo_http_heads_timed_out));
    lo_buf_printf(
        b,
        "# HELP lookout_api_queries_total API requests run on the query threads.\n"
        "# TYPE lookout_api_queries_total counter\nlookout_api_queries_total %lld\n"
        "# HELP lookout_api_queries_refused_total API requests refused (429) because the query queue was "
        "full.\n"
        "# TYPE lookout_api_queries_refused_total counter\nlookout_api_queries_refused_total %lld\n"
        "# HELP lookout_api_queries_in_progress API requests queued or running on the query threads.\n"
        "# TYPE lookout_api_queries_in_progress gauge\nlookout_api_queries_in_progress %lld\n",
        get(&lo_api_exec_run), get(&lo_api_exec_refused), get(&lo_api_exec_busy));
    lo_buf_puts(b, "# HELP lookout_http_responses_total HTTP responses by listener and status code.\n"
                   "# TYPE lookout_http_responses_total counter\n");
    for (int l = 0; l < LO_LISTENER_COUNT; l++) {
        for (size_t i = 0; i < N_CODES; i++) {
            long long v = get(&responses[l][i]);
            if (i < LO_ARRAY_LEN(codes))
                lo_buf_printf(b, "lookout_http_responses_total{listener=\"%s\",code=\"%u\"} %lld\n",
                              listener_names[l], codes[i], v);
            else
                lo_buf_printf(b, "lookout_http_responses_total{listener=\"%s\",code=\"other\"} %lld\n",
                              listener_names[l], v);
        }
    }
    for (size_t i = 0; i < n_renderers; i++)
        renderers[i].fn(renderers[i].arg, b);
    return b->err;
}
