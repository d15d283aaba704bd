#include "core/lo.h"

#include <malloc.h>
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

void lo_malloc_tune(void)
{
    /* Decoding buffers of 1-16 MiB are allocated and freed per column read
     * (docs/cold-store.md, "Memory"): past glibc's default thresholds each
     * is a new mapping, faulted in page by page on every query.  Keep
     * blocks up to 32 MiB (glibc's largest threshold) on the heap and up to
     * 128 MiB of freed memory at its top. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
}
