#include "core/stats.h"

lo_stats_t lo_stats;

const double lo_stats_lat_bounds[LO_STATS_LAT_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 10, 1e300,
};

void lo_stats_observe_commit(lo_signal_t s, int64_t ns)
{
    double sec = (double)ns / 1e9;
    int i = 0;
    while (i < LO_STATS_LAT_BUCKETS - 1 && sec > lo_stats_lat_bounds[i])
        i++;
    lo_stat_add(&lo_stats.commit_latency_bucket[s][i], 1);
    lo_stat_add(&lo_stats.commit_latency_sum_us[s], ns / 1000);
}
