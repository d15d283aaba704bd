/* retention.c — the time windows of retention.h. */
#include "store/retention.h"

#include <stdio.h>

#define HOUR_NS (3600LL * 1000000000LL)
#define DAY_NS  (24 * HOUR_NS)

int lo_retention_init(lo_retention_t *r, const lo_config_t *cfg, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->max_age_ns = cfg->ingest_max_age_hours * HOUR_NS;
    r->hot_ns[LO_SIGNAL_LOGS] = cfg->logs_hot_hours * HOUR_NS;
    r->hot_ns[LO_SIGNAL_SPANS] = cfg->spans_hot_hours * HOUR_NS;
    r->hot_ns[LO_SIGNAL_METRICS] = cfg->metrics_hot_hours * HOUR_NS;
    /* every day the acceptance window touches: its first day may be
     * max_age/24 days and a part back, so one more */
    r->partitions.days_back = (int)(cfg->ingest_max_age_hours / 24) + 1;
    r->partitions.days_ahead = (int)cfg->partition_days_ahead;
    if (r->partitions.days_ahead < 1) {
        snprintf(err, errlen, "partition_days_ahead must be at least 1: accepted records may be 24 h ahead");
        return LO_INVALID;
    }
    return LO_OK;
}

void lo_retention_window(const lo_retention_t *r, int64_t now, int64_t *oldest, int64_t *newest)
{
    *oldest = now - r->max_age_ns;
    *newest = now + LO_RETENTION_FUTURE_NS;
}

int64_t lo_retention_hot_start(const lo_retention_t *r, lo_signal_t s, int64_t now)
{
    return now - r->hot_ns[(int)s >= 0 && s < LO_SIGNAL_COUNT ? s : 0];
}

int64_t lo_retention_droppable_before(const lo_retention_t *r, int64_t now)
{
    int64_t oldest = now - r->max_age_ns;
    /* the UTC midnight starting the oldest accepted record's day, and one
     * day more: the range upkeep keeps (days_back) starts there */
    int64_t day = oldest >= 0 ? oldest / DAY_NS : (oldest - DAY_NS + 1) / DAY_NS;
    int64_t today = now >= 0 ? now / DAY_NS : (now - DAY_NS + 1) / DAY_NS;
    int64_t kept_from = today - r->partitions.days_back;
    return (day < kept_from ? day : kept_from) * DAY_NS;
}
