/*
 * alert.h — alert rules over metrics and logs (docs/alerts.md): the rules
 * API under /api/observe/alerts and /api/audit, the evaluator (a periodic
 * task, one node at a time) and the notification dispatcher (a periodic
 * task on every node; the outbox rows decide who sends what).
 */
#ifndef LO_ALERT_H
#define LO_ALERT_H

#include "core/config.h"
#include "http/api.h"
#include "sched/sched.h"

typedef struct lo_alert lo_alert_t;

/* NULL: out of memory.  cfg must outlive the module. */
lo_alert_t *lo_alert_create(const lo_config_t *cfg);
/* Adds the routes, the tasks alert_eval and alert_notify, and the
 * /metrics renderer.  LO_OK or LO_ERROR. */
int lo_alert_register(lo_alert_t *a, lo_api_routes_t *routes, lo_sched_t *sched) LO_MUST_USE;
/* Adds the tasks alone (`lookout task run alert_eval`). */
int lo_alert_add_tasks(lo_alert_t *a, lo_sched_t *sched) LO_MUST_USE;
/* Accepts NULL. */
void lo_alert_destroy(lo_alert_t *a);

#endif
