/*
 * alert_internal.h — shared by the files of src/alert: the state machine
 * (state.c), evaluating a rule's query (query.c), the evaluator task
 * (eval.c), notification payloads and the dispatcher (notify.c), and the
 * API (api.c).  docs/alerts.md describes the behaviour.
 */
#ifndef LO_ALERT_INTERNAL_H
#define LO_ALERT_INTERNAL_H

#include <libpq-fe.h>
#include <stdatomic.h>

#include "alert/alert.h"
#include "alert/rule.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/stats.h"
#include "store/store.h"

#define LO_ALERT_MAX_GROUPS 1000 /* alert instances of one rule */

/* ---- state.c: one alert instance (a rule and group) ---- */

typedef enum { LO_AS_INACTIVE, LO_AS_PENDING, LO_AS_FIRING } lo_alert_state_t;
extern const char *const lo_alert_state_names[]; /* inactive pending firing */

typedef enum {
    LO_AT_NONE,      /* unchanged */
    LO_AT_PENDING,   /* inactive -> pending */
    LO_AT_FIRED,     /* pending (or inactive, for_seconds 0) -> firing */
    LO_AT_RESOLVED,  /* firing -> inactive */
    LO_AT_CANCELLED, /* pending -> inactive: the condition did not hold long enough */
} lo_alert_transition_t;

typedef struct {
    lo_alert_state_t state;
    int64_t pending_since_us; /* pending and firing */
    int64_t firing_since_us;  /* firing */
} lo_alert_inst_t;

/* Moves in along the state machine for one evaluation at now_us where the
 * condition holds or not; for_s: how long it must hold before firing. */
lo_alert_transition_t lo_alert_step(lo_alert_inst_t *in, bool holds, int64_t now_us, int64_t for_s);

/* ---- query.c: a rule's query, evaluated ---- */

typedef struct {
    char *key; /* the group's labels, canonical JSON ("{}" without group_by) */
    double value;
} lo_alert_group_t;

typedef struct {
    lo_alert_group_t *g; /* groups with a value */
    size_t n, cap;
} lo_alert_result_t;

/* Runs r's query over (now - window, now] on db through the query API's
 * executors.  LO_OK with out filled (free with lo_alert_result_free; no
 * groups: no data), or an error with err saying why. */
int lo_alert_query(PGconn *db, const lo_alert_rule_t *r, int64_t now_us, lo_alert_result_t *out, char *err,
                   size_t errlen) LO_MUST_USE;
void lo_alert_result_free(lo_alert_result_t *res);
/* Whether the condition holds for a group: absent (no value) holds only
 * for the condition absent. */
bool lo_alert_holds(const lo_alert_rule_t *r, bool has_value, double value);

/* ---- notify.c: payloads ---- */

typedef struct {
    const char *rule_id, *group_key, *public_url;
    const lo_alert_rule_t *rule;
    const char *status; /* firing | resolved */
    double value;
    bool has_value;
    int64_t event_id, fired_at_us, resolved_at_us; /* resolved_at_us 0 while firing */
    int64_t ends_at_us;                            /* Alertmanager's endsAt while firing */
} lo_alert_note_t;

/* The webhook's JSON body and Alertmanager's (an array of one alert). */
void lo_alert_webhook_body(const lo_alert_note_t *n, lo_buf_t *out);
void lo_alert_am_body(const lo_alert_note_t *n, lo_buf_t *out);
/* "sha256=" + hex HMAC-SHA-256 of body under secret, into out (72 bytes). */
void lo_alert_signature(const char *secret, const char *body, size_t len, char out[72]);
/* The query API request that shows what the rule evaluated (absolute with
 * public_url, else a path). */
void lo_alert_link(const lo_alert_rule_t *r, const char *public_url, int64_t now_us, lo_buf_t *out);

/* ---- counters (for /metrics) ---- */

typedef struct {
    atomic_llong evaluations, eval_failures, eval_runs, eval_us_sum;
    atomic_llong pending, firing; /* instances, after the last run */
    atomic_llong rules[4];        /* inactive, pending, firing, disabled: after the last run */
    atomic_llong transitions[5];
    atomic_llong sent, failed, retried;
} lo_alert_stats_t;

struct lo_alert {
    const lo_config_t *cfg;
    lo_sched_t *sched; /* to wake alert_notify when notifications are queued */
    char *public_url;
    lo_alert_stats_t st;
};

/* The tasks (eval.c, notify.c). */
int lo_alert_eval_task(PGconn *db, void *arg, char *err, size_t errlen);
int lo_alert_notify_task(PGconn *db, void *arg, char *err, size_t errlen);
/* The evaluator's clock is the database's plus this: the seconds in
 * alert_clock_file (a test aid, docs/alerts.md), 0 without one. */
int64_t lo_alert_clock_shift_us(const lo_config_t *cfg);
/* Inside the caller's transaction: resolves every firing instance of
 * the rule (events closed, "resolved" notifications queued) and removes
 * its instances — a rule disabled or deleted ends its alerts.  LO_OK or
 * LO_ERROR with err. */
int lo_alert_end_all(lo_alert_t *a, PGconn *db, const char *rule_id, const lo_alert_rule_t *rule, char *err,
                     size_t errlen) LO_MUST_USE;
/* The routes (api.c). */
int lo_alert_add_routes(lo_alert_t *a, lo_api_routes_t *t) LO_MUST_USE;

/* Unix microseconds of a timestamptz rendered by extract(epoch ...) * 1e6. */
int64_t lo_alert_i64(const PGresult *r, int row, int col);

#endif
