/*
 * rule.h — an alert rule: its JSON, checked field by field, and the typed
 * form the evaluator runs (docs/alerts.md, "Rules").
 *
 * A rule is data, never SQL: a structured query (a metric aggregation or
 * a count of log entries over a window), a condition and a threshold, how
 * long the condition must hold, and where to send notifications.  The
 * parser is the single gate for every rule that reaches the database
 * (POST, PATCH after merging, and the evaluator reading rules back), and
 * is fuzzed (fuzz/fuzz_alert_rule.c).
 */
#ifndef LO_ALERT_RULE_H
#define LO_ALERT_RULE_H

#include <jansson.h>

#include "core/buf.h"
#include "core/lo.h"

#define LO_ALERT_MAX_NAME       200 /* characters */
#define LO_ALERT_MAX_TARGETS    10
#define LO_ALERT_MAX_URL        2048
#define LO_ALERT_MAX_GROUP_KEYS 16
#define LO_ALERT_MIN_WINDOW_S   10
#define LO_ALERT_MAX_WINDOW_S   86400
#define LO_ALERT_MAX_FOR_S      86400
#define LO_ALERT_MAX_RULE_BYTES 65536

typedef enum {
    LO_ALERT_GT,
    LO_ALERT_GE,
    LO_ALERT_LT,
    LO_ALERT_LE,
    LO_ALERT_EQ,
    LO_ALERT_NE,
    LO_ALERT_ABSENT
} lo_alert_cond_t;
extern const char *const lo_alert_cond_names[]; /* gt ge lt le eq ne absent */

typedef enum { LO_TARGET_WEBHOOK, LO_TARGET_ALERTMANAGER } lo_alert_target_kind_t;
extern const char *const lo_alert_target_names[]; /* webhook alertmanager */

typedef struct {
    lo_alert_target_kind_t kind;
    const char *url;
    const char *secret; /* webhook HMAC key, or NULL */
} lo_alert_target_t;

/* A checked rule.  Strings point into root (or the buffers here) and live
 * as long as the rule. */
typedef struct {
    json_t *root; /* the rule in its stored form (lo_alert_rule_dump) */
    const char *name;
    bool has_project;
    char project_id[37];
    bool enabled;
    const char *severity;
    bool is_log;
    /* type "metric" */
    const char *metric;
    char *labels; /* canonical JSON object of exact matches, or NULL */
    int agg;      /* as lo_metric_spec_t's (lo_metric_agg_parse) */
    double quantile;
    char agg_name[12];
    /* type "log" */
    bool has_levels;
    char levels[400]; /* array literal (lo_q_parse_levels) */
    const char *level_text;
    const char *service;
    const char *q;
    bool has_session;
    char session[37];
    /* both */
    int64_t window_s;
    size_t n_group_keys;
    const char *group_keys[LO_ALERT_MAX_GROUP_KEYS]; /* metric label keys, or "service" for logs */
    lo_buf_t group_by;                               /* the same as an array literal, "" when none */
    lo_alert_cond_t cond;
    double threshold; /* 0 for absent */
    int64_t for_s;
    size_t n_targets;
    lo_alert_target_t targets[LO_ALERT_MAX_TARGETS];
} lo_alert_rule_t;

/* Parses and checks the rule text (len bytes, at most
 * LO_ALERT_MAX_RULE_BYTES).  LO_OK with r filled (free with
 * lo_alert_rule_free), or LO_INVALID with err naming the field and what a
 * good value is. */
int lo_alert_rule_parse(const char *text, size_t len, lo_alert_rule_t *r, char *err,
                        size_t errlen) LO_MUST_USE;
/* The same for a JSON value (a reference is taken; the caller keeps its own). */
int lo_alert_rule_from_json(json_t *v, lo_alert_rule_t *r, char *err, size_t errlen) LO_MUST_USE;
/* Applies a PATCH body (a JSON object of top-level fields; "query" and
 * "targets" replace as a whole; null clears project_id) to a stored rule,
 * then checks the result.  changed receives the names of the fields the
 * patch set, comma-separated (for the audit log).  LO_OK or LO_INVALID
 * with err. */
int lo_alert_rule_patch(const lo_alert_rule_t *base, const char *patch, size_t len, lo_alert_rule_t *out,
                        char *changed, size_t changed_len, char *err, size_t errlen) LO_MUST_USE;
void lo_alert_rule_free(lo_alert_rule_t *r);

/* The rule as JSON text (malloc'd; NULL when out of memory): with
 * secrets, as stored; without, as the API shows it (each secret replaced
 * by "secret_set": true). */
char *lo_alert_rule_dump(const lo_alert_rule_t *r, bool secrets);

/* Replaces each target's "secret" in a rule's JSON (the stored form) with
 * "secret_set": true, as the API shows rules. */
void lo_alert_rule_hide_secrets(json_t *rule);

/* Whether value meets the rule's condition (absent: never; the caller
 * decides absence). */
bool lo_alert_cond_holds(lo_alert_cond_t c, double value, double threshold);

#endif
