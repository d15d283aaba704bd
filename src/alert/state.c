/*
 * state.c — the state machine of one alert instance (docs/alerts.md,
 * "States"):
 *
 *   inactive --holds--> pending --held for_seconds--> firing
 *       ^                  |                             |
 *       +----not holds-----+ (cancelled)                 |
 *       +---------------------not holds------------------+ (resolved)
 *
 * With for_seconds 0 an instance fires on the evaluation that first sees
 * the condition hold.
 */
#include "alert/alert_internal.h"

const char *const lo_alert_state_names[] = { "inactive", "pending", "firing", NULL };

lo_alert_transition_t lo_alert_step(lo_alert_inst_t *in, bool holds, int64_t now_us, int64_t for_s)
{
    switch (in->state) {
    case LO_AS_INACTIVE:
        if (!holds)
            return LO_AT_NONE;
        in->pending_since_us = now_us;
        if (for_s > 0) {
            in->state = LO_AS_PENDING;
            return LO_AT_PENDING;
        }
        in->state = LO_AS_FIRING;
        in->firing_since_us = now_us;
        return LO_AT_FIRED;
    case LO_AS_PENDING:
        if (!holds) {
            *in = (lo_alert_inst_t){ LO_AS_INACTIVE, 0, 0 };
            return LO_AT_CANCELLED;
        }
        if (now_us - in->pending_since_us < for_s * 1000000)
            return LO_AT_NONE;
        in->state = LO_AS_FIRING;
        in->firing_since_us = now_us;
        return LO_AT_FIRED;
    case LO_AS_FIRING:
        if (holds)
            return LO_AT_NONE;
        *in = (lo_alert_inst_t){ LO_AS_INACTIVE, 0, 0 };
        return LO_AT_RESOLVED;
    }
    return LO_AT_NONE;
}
