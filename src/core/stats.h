/*
 * stats.h — process-wide counters behind GET /metrics.  Lock-free (relaxed
 * atomics): any thread may bump them; the exporter reads them.
 */
#ifndef LO_STATS_H
#define LO_STATS_H

#include <stdatomic.h>

#include "core/lo.h"

#define LO_STATS_LAT_BUCKETS 12 /* commit latency, seconds: 0.001 .. 10, +Inf */

typedef struct {
    atomic_llong records_ingested[LO_SIGNAL_COUNT];
    atomic_llong records_rejected[LO_SIGNAL_COUNT];
    atomic_llong requests[LO_SIGNAL_COUNT];
    atomic_llong requests_invalid[LO_SIGNAL_COUNT]; /* 400 */
    atomic_llong requests_busy[LO_SIGNAL_COUNT];    /* 429 */
    atomic_llong requests_unavail[LO_SIGNAL_COUNT]; /* 503 */
    atomic_llong buffer_bytes[LO_SIGNAL_COUNT];     /* current */
    atomic_llong batches[LO_SIGNAL_COUNT];
    atomic_llong batch_records_sum[LO_SIGNAL_COUNT];
    atomic_llong commit_failures[LO_SIGNAL_COUNT];
    atomic_llong commit_latency_bucket[LO_SIGNAL_COUNT][LO_STATS_LAT_BUCKETS];
    atomic_llong commit_latency_sum_us[LO_SIGNAL_COUNT];
} lo_stats_t;

extern lo_stats_t lo_stats;

/* Upper bounds (seconds) of the commit latency buckets; the last is +Inf. */
extern const double lo_stats_lat_bounds[LO_STATS_LAT_BUCKETS];

static inline void lo_stat_add(atomic_llong *c, long long v)
{
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

void lo_stats_observe_commit(lo_signal_t s, int64_t ns);

#endif
