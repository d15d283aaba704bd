#include "core/lo.h"

#include <time.h>

const char *lo_signal_name(lo_signal_t s)
{
    switch (s) {
    case LO_SIGNAL_LOGS: return "logs";
    case LO_SIGNAL_SPANS: return "spans";
    case LO_SIGNAL_METRICS: return "metrics";
    default: return "unknown";
    }
}

int64_t lo_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t lo_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
