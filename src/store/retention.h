/*
 * retention.h — the one owner of every time window (docs/architecture.md,
 * "Retention"): which record times ingest accepts, which daily partitions
 * exist, and how long each signal stays hot.  Everything that needs one of
 * these asks here; nothing recomputes them.
 *
 * The rules:
 *   - a record is accepted when its time lies in [now - ingest_max_age,
 *     now + 24 h] (else it is rejected, counted in partial_success);
 *   - partitions exist for every day the acceptance window touches, plus
 *     partition_days_ahead days: the days from today - (max age in days + 1)
 *     to today + days ahead.  So an accepted record always has a partition;
 *   - each signal is hot for its hot window (logs and spans 48 h, metric
 *     samples 1 h by default).  A record older than its hot window but
 *     inside the acceptance window (a late export) is still accepted into
 *     the hot tier; the cold tier's rotation moves such rows when it runs;
 *   - a partition may be dropped only when its whole day lies before the
 *     acceptance window (lo_retention_droppable_before): upkeep never
 *     re-creates it and no accepted record can need it.  Rows of younger
 *     days that leave the hot tier are deleted, not dropped with their
 *     partition.
 */
#ifndef LO_STORE_RETENTION_H
#define LO_STORE_RETENTION_H

#include "core/config.h"
#include "core/lo.h"
#include "store/store.h"

#define LO_RETENTION_FUTURE_NS (24LL * 3600 * 1000000000LL)

typedef struct {
    int64_t max_age_ns;              /* acceptance: how old a record may be */
    int64_t hot_ns[LO_SIGNAL_COUNT]; /* hot window per signal */
    lo_partition_range_t partitions; /* days before and after today */
} lo_retention_t;

/* From the settings, checked together: LO_OK, or LO_INVALID with err
 * naming the settings in conflict. */
int lo_retention_init(lo_retention_t *r, const lo_config_t *cfg, char *err, size_t errlen) LO_MUST_USE;
/* The accepted record times at now (Unix ns), inclusive. */
void lo_retention_window(const lo_retention_t *r, int64_t now, int64_t *oldest, int64_t *newest);
/* Where signal s stops being hot at now: older rows belong to the cold tier. */
int64_t lo_retention_hot_start(const lo_retention_t *r, lo_signal_t s, int64_t now);
/* Partitions of days starting before this (Unix ns, a UTC midnight) may be
 * dropped at now; younger ones are kept (upkeep would re-create them). */
int64_t lo_retention_droppable_before(const lo_retention_t *r, int64_t now);

#endif
