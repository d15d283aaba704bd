/*
 * fuzz_alert_rule.c — libFuzzer target: the alert rule validator
 * (alert/rule.h).  Whatever it accepts must be within the rule's bounds,
 * dump to JSON that parses back to the same rule (so what is stored is
 * what was checked), survive a patch with the same bytes, and render both
 * notification payloads as valid JSON.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_internal.h"

static void check_json(const lo_buf_t *b)
{
    json_t *j = json_loadb(b->p, b->len, 0, NULL);
    if (!j)
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    lo_alert_rule_t r, again, patched;
    if (lo_alert_rule_parse((const char *)data, size, &r, err, sizeof err) != LO_OK) {
        if (err[0] == '\0')
            abort(); /* a refusal always says why */
        return 0;
    }
    if (strlen(r.name) == 0 || r.window_s < LO_ALERT_MIN_WINDOW_S || r.window_s > LO_ALERT_MAX_WINDOW_S ||
        r.for_s < 0 || r.for_s > LO_ALERT_MAX_FOR_S || r.n_targets > LO_ALERT_MAX_TARGETS ||
        r.n_group_keys > LO_ALERT_MAX_GROUP_KEYS || !isfinite(r.threshold) || (r.is_log && r.metric) ||
        (!r.is_log && !r.metric))
        abort();
    for (size_t i = 0; i < r.n_targets; i++)
        if (strncmp(r.targets[i].url, "http", 4) != 0 || strlen(r.targets[i].url) > LO_ALERT_MAX_URL)
            abort();
    char *stored = lo_alert_rule_dump(&r, true);
    char *shown = lo_alert_rule_dump(&r, false);
    if (!stored || !shown)
        abort();
    if (lo_alert_rule_parse(stored, strlen(stored), &again, err, sizeof err) != LO_OK)
        abort(); /* the stored form is a valid rule */
    char *stored2 = lo_alert_rule_dump(&again, true);
    if (!stored2 || strcmp(stored, stored2) != 0)
        abort(); /* and stable */
    char changed[256];
    if (lo_alert_rule_patch(&r, (const char *)data, size, &patched, changed, sizeof changed, err,
                            sizeof err) == LO_OK)
        lo_alert_rule_free(&patched);

    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_alert_note_t n = { .rule_id = "00000000-0000-4000-8000-000000000000",
                          .group_key = "{\"route\":\"/a\"}",
                          .public_url = "http://127.0.0.1:8080",
                          .rule = &r,
                          .status = "firing",
                          .value = 1.5,
                          .has_value = true,
                          .event_id = 7,
                          .fired_at_us = 1796160000000000LL,
                          .ends_at_us = 1796160120000000LL };
    lo_alert_webhook_body(&n, &b);
    check_json(&b);
    b.len = 0;
    lo_alert_am_body(&n, &b);
    check_json(&b);
    lo_buf_free(&b);
    free(stored);
    free(stored2);
    free(shown);
    lo_alert_rule_free(&again);
    lo_alert_rule_free(&r);
    return 0;
}
