/* Alerts (src/alert, docs/alerts.md) without a database: the state machine
 * of one instance (table-driven: every transition, for_seconds, absent,
 * groups appearing and disappearing), conditions, the rule validator and
 * its stored form, patches, and the notification payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_internal.h"
#include "query/exec.h"

#define S 1000000LL

/* ---- the state machine ---- */

static void test_transitions_table(void **state)
{
    (void)state;
    static const struct {
        lo_alert_state_t from;
        int64_t pending_for_s; /* how long it has been pending (or firing) */
        bool holds;
        int64_t for_s;
        lo_alert_state_t to;
        lo_alert_transition_t tr;
    } cases[] = {
        { LO_AS_INACTIVE, 0, false, 0, LO_AS_INACTIVE, LO_AT_NONE },
        { LO_AS_INACTIVE, 0, false, 60, LO_AS_INACTIVE, LO_AT_NONE },
        { LO_AS_INACTIVE, 0, true, 60, LO_AS_PENDING, LO_AT_PENDING },
        { LO_AS_INACTIVE, 0, true, 0, LO_AS_FIRING, LO_AT_FIRED }, /* for_seconds 0 fires at once */
        { LO_AS_PENDING, 10, true, 60, LO_AS_PENDING, LO_AT_NONE },
        { LO_AS_PENDING, 59, true, 60, LO_AS_PENDING, LO_AT_NONE },
        { LO_AS_PENDING, 60, true, 60, LO_AS_FIRING, LO_AT_FIRED }, /* held exactly for_seconds */
        { LO_AS_PENDING, 61, true, 60, LO_AS_FIRING, LO_AT_FIRED },
        { LO_AS_PENDING, 30, false, 60, LO_AS_INACTIVE, LO_AT_CANCELLED }, /* a blip */
        { LO_AS_PENDING, 90, false, 60, LO_AS_INACTIVE, LO_AT_CANCELLED },
        { LO_AS_FIRING, 100, true, 60, LO_AS_FIRING, LO_AT_NONE },
        { LO_AS_FIRING, 100, false, 60, LO_AS_INACTIVE, LO_AT_RESOLVED },
        { LO_AS_FIRING, 0, false, 0, LO_AS_INACTIVE, LO_AT_RESOLVED },
    };
    int64_t now = 1796160000LL * S;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lo_alert_inst_t in = { cases[i].from, 0, 0 };
        if (cases[i].from != LO_AS_INACTIVE)
            in.pending_since_us = now - cases[i].pending_for_s * S;
        if (cases[i].from == LO_AS_FIRING)
            in.firing_since_us = in.pending_since_us;
        lo_alert_transition_t tr = lo_alert_step(&in, cases[i].holds, now, cases[i].for_s);
        if (tr != cases[i].tr || in.state != cases[i].to)
            fail_msg("case %zu: transition %d state %d, wanted %d %d", i, tr, in.state, cases[i].tr,
                     cases[i].to);
        if (tr == LO_AT_PENDING)
            assert_true(in.pending_since_us == now);
        if (tr == LO_AT_FIRED)
            assert_true(in.firing_since_us == now);
        if (tr == LO_AT_RESOLVED || tr == LO_AT_CANCELLED)
            assert_true(in.pending_since_us == 0 && in.firing_since_us == 0);
    }
}

/* A sequence of evaluations, one per interval: pending_since is kept, not
 * restarted, while the condition holds. */
static void test_timer_counts_from_first_true(void **state)
{
    (void)state;
    lo_alert_inst_t in = { LO_AS_INACTIVE, 0, 0 };
    int64_t t0 = 1000 * S;
    assert_int_equal(lo_alert_step(&in, true, t0, 90), LO_AT_PENDING);
    for (int k = 1; k < 3; k++)
        assert_int_equal(lo_alert_step(&in, true, t0 + k * 30 * S, 90), LO_AT_NONE);
    assert_true(in.pending_since_us == t0);
    assert_int_equal(lo_alert_step(&in, true, t0 + 90 * S, 90), LO_AT_FIRED);
    assert_int_equal(lo_alert_step(&in, true, t0 + 120 * S, 90), LO_AT_NONE);
    assert_int_equal(in.state, LO_AS_FIRING);
    assert_int_equal(lo_alert_step(&in, false, t0 + 150 * S, 90), LO_AT_RESOLVED);
    /* and a new episode starts from scratch */
    assert_int_equal(lo_alert_step(&in, true, t0 + 180 * S, 90), LO_AT_PENDING);
    assert_true(in.pending_since_us == t0 + 180 * S);
}

static lo_alert_rule_t parse_ok(const char *text)
{
    lo_alert_rule_t r;
    char err[512];
    if (lo_alert_rule_parse(text, strlen(text), &r, err, sizeof err) != LO_OK)
        fail_msg("refused: %s (%s)", err, text);
    return r;
}

static void parse_bad(const char *text, const char *field)
{
    lo_alert_rule_t r;
    char err[512] = "";
    if (lo_alert_rule_parse(text, strlen(text), &r, err, sizeof err) == LO_OK)
        fail_msg("accepted: %s", text);
    if (!strstr(err, field))
        fail_msg("error \"%s\" does not name %s", err, field);
}

/* Conditions, and absence: a group without a value holds only for absent. */
static void test_conditions_and_absent(void **state)
{
    (void)state;
    assert_true(lo_alert_cond_holds(LO_ALERT_GT, 2, 1) && !lo_alert_cond_holds(LO_ALERT_GT, 1, 1));
    assert_true(lo_alert_cond_holds(LO_ALERT_GE, 1, 1) && !lo_alert_cond_holds(LO_ALERT_GE, 0.5, 1));
    assert_true(lo_alert_cond_holds(LO_ALERT_LT, 0, 1) && !lo_alert_cond_holds(LO_ALERT_LT, 1, 1));
    assert_true(lo_alert_cond_holds(LO_ALERT_LE, 1, 1) && !lo_alert_cond_holds(LO_ALERT_LE, 2, 1));
    assert_true(lo_alert_cond_holds(LO_ALERT_EQ, 1, 1) && !lo_alert_cond_holds(LO_ALERT_EQ, 2, 1));
    assert_true(lo_alert_cond_holds(LO_ALERT_NE, 2, 1) && !lo_alert_cond_holds(LO_ALERT_NE, 1, 1));
    lo_alert_rule_t gt =
        parse_ok("{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"name\":\"m\",\"window_seconds\":60},"
                 "\"condition\":\"gt\",\"threshold\":1}");
    lo_alert_rule_t ab =
        parse_ok("{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"name\":\"m\",\"window_seconds\":60},"
                 "\"condition\":\"absent\"}");
    assert_false(lo_alert_holds(&gt, false, 0)); /* a group that disappeared resolves */
    assert_true(lo_alert_holds(&gt, true, 2));
    assert_true(lo_alert_holds(&ab, false, 0));
    assert_false(lo_alert_holds(&ab, true, 0));
    /* a group appearing then disappearing, as the evaluator sees it */
    lo_alert_inst_t in = { LO_AS_INACTIVE, 0, 0 };
    assert_int_equal(lo_alert_step(&in, lo_alert_holds(&gt, true, 5), 10 * S, 0), LO_AT_FIRED);
    assert_int_equal(lo_alert_step(&in, lo_alert_holds(&gt, false, 0), 40 * S, 0), LO_AT_RESOLVED);
    lo_alert_rule_free(&gt);
    lo_alert_rule_free(&ab);
}

/* ---- the rule validator ---- */

static void test_rule_defaults_and_stored_form(void **state)
{
    (void)state;
    lo_alert_rule_t r = parse_ok(
        "{\"name\":\"p99\",\"query\":{\"type\":\"metric\",\"name\":\"http.server.duration\",\"labels\":{"
        "\"b\":1,"
        "\"a\":\"x\"},\"agg\":\"p99\",\"window_seconds\":300,\"group_by\":[\"http.route\",\"code\"]},"
        "\"condition\":\"gt\",\"threshold\":0.5,\"targets\":[{\"type\":\"webhook\",\"url\":\"https://h/x\","
        "\"secret\":\"s\"}]}");
    assert_true(r.enabled);
    assert_string_equal(r.severity, "warning");
    assert_int_equal(r.for_s, 0);
    assert_false(r.has_project);
    assert_string_equal(r.labels, "{\"a\":\"x\",\"b\":1}"); /* canonical order */
    assert_string_equal(r.group_by.p, "{\"http.route\",\"code\"}");
    assert_int_equal(r.n_group_keys, 2);
    assert_string_equal(lo_metric_agg_names[r.agg], "p99");
    char *shown = lo_alert_rule_dump(&r, false), *stored = lo_alert_rule_dump(&r, true);
    assert_null(strstr(shown, "\"secret\":"));
    assert_non_null(strstr(shown, "\"secret_set\":true"));
    assert_non_null(strstr(stored, "\"secret\":\"s\""));
    assert_non_null(strstr(stored, "\"project_id\":null"));
    free(shown);
    free(stored);
    lo_alert_rule_free(&r);

    r = parse_ok(
        "{\"name\":\"errors\",\"project_id\":\"0B9F5C2E-6A51-4C0E-9A0E-0C1F2D3E4F50\",\"query\":{\"type\":"
        "\"log\",\"filter\":{\"level\":\"WARN,error\",\"service\":\"checkout\"},\"window_seconds\":60,"
        "\"group_by\":[\"service\"]},\"condition\":\"ge\",\"threshold\":10,\"for_seconds\":120}");
    assert_true(r.is_log && r.has_project && r.has_levels);
    assert_string_equal(r.project_id, "0b9f5c2e-6a51-4c0e-9a0e-0c1f2d3e4f50");
    assert_string_equal(r.levels, "{\"warn\",\"error\"}");
    assert_string_equal(r.service, "checkout");
    lo_alert_rule_free(&r);
}

static void test_rule_refusals_name_the_field(void **state)
{
    (void)state;
#define Q "\"query\":{\"type\":\"metric\",\"name\":\"m\",\"window_seconds\":60}"
    parse_bad("[]", "object");
    parse_bad("{\"name\":\"a\",\"condition\":\"gt\",\"threshold\":1}", "query");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\",\"threshold\":1e999}", "not JSON");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\",\"threshold\":\"1\"}", "threshold");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\"}", "threshold");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"absent\",\"threshold\":1}", "threshold");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"over\",\"threshold\":1}", "condition");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\",\"threshold\":1,\"for_seconds\":86401}",
              "for_seconds");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\",\"threshold\":1,\"for_seconds\":1.5}",
              "for_seconds");
    parse_bad("{\"name\":\"\"," Q ",\"condition\":\"gt\",\"threshold\":1}", "name");
    parse_bad("{\"name\":\"a\\u0001\"," Q ",\"condition\":\"gt\",\"threshold\":1}", "name");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\",\"threshold\":1,\"sql\":\"x\"}", "sql");
    parse_bad("{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"name\":\"m\",\"agg\":\"buckets\",\"window_"
              "seconds\":60},"
              "\"condition\":\"gt\",\"threshold\":1}",
              "query.agg");
    parse_bad("{\"name\":\"a\",\"name\":\"b\"," Q ",\"condition\":\"gt\",\"threshold\":1}", "not JSON");
    parse_bad(
        "{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"name\":\"m\",\"window_seconds\":5},\"condition\":"
        "\"gt\",\"threshold\":1}",
        "window_seconds");
    parse_bad("{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"window_seconds\":60},\"condition\":\"gt\","
              "\"threshold\":1}",
              "query.name");
    parse_bad(
        "{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"name\":\"m\",\"window_seconds\":60,\"group_by\":["
        "\"r\",\"r\"]},\"condition\":\"gt\",\"threshold\":1}",
        "group_by");
    parse_bad(
        "{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"name\":\"m\",\"window_seconds\":60,\"group_by\":["
        "\"r\"]},\"condition\":\"absent\"}",
        "group_by");
    parse_bad("{\"name\":\"a\",\"query\":{\"type\":\"log\",\"filter\":{\"session_id\":\"x\"},\"window_"
              "seconds\":60},"
              "\"condition\":\"gt\",\"threshold\":1}",
              "query.filter.session_id");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\",\"threshold\":1,\"targets\":[{\"type\":\"webhook\","
              "\"url\":\"http://\"}]}",
              "targets[0].url");
    parse_bad("{\"name\":\"a\"," Q
              ",\"condition\":\"gt\",\"threshold\":1,\"targets\":[{\"type\":\"alertmanager\","
              "\"url\":\"http://am\",\"secret\":\"x\"}]}",
              "targets[0].secret");
    parse_bad("{\"name\":\"a\"," Q ",\"condition\":\"gt\",\"threshold\":1,\"targets\":[{\"type\":\"webhook\","
              "\"url\":\"http://h/a b\"}]}",
              "targets[0].url");
#undef Q
}

static void test_patch(void **state)
{
    (void)state;
    lo_alert_rule_t base = parse_ok(
        "{\"name\":\"a\",\"query\":{\"type\":\"metric\",\"name\":\"m\",\"window_seconds\":60},\"condition\":"
        "\"gt\","
        "\"threshold\":1,\"targets\":[{\"type\":\"webhook\",\"url\":\"http://h/x\",\"secret\":\"k\"}]}");
    lo_alert_rule_t next;
    char err[512], changed[256];
    /* a target sent back as GET shows it keeps its secret */
    const char *p =
        "{\"threshold\":3,\"targets\":[{\"type\":\"webhook\",\"url\":\"http://h/x\",\"secret_set\":true}]}";
    assert_int_equal(
        lo_alert_rule_patch(&base, p, strlen(p), &next, changed, sizeof changed, err, sizeof err), LO_OK);
    assert_true(next.threshold == 3);
    assert_string_equal(next.targets[0].secret, "k");
    assert_string_equal(changed, "threshold,targets");
    lo_alert_rule_free(&next);
    p = "{\"for_seconds\":-1}";
    assert_int_equal(
        lo_alert_rule_patch(&base, p, strlen(p), &next, changed, sizeof changed, err, sizeof err),
        LO_INVALID);
    assert_non_null(strstr(err, "for_seconds"));
    p = "{\"project_id\":null,\"enabled\":false}";
    assert_int_equal(
        lo_alert_rule_patch(&base, p, strlen(p), &next, changed, sizeof changed, err, sizeof err), LO_OK);
    assert_false(next.enabled);
    lo_alert_rule_free(&next);
    p = "{}";
    assert_int_equal(
        lo_alert_rule_patch(&base, p, strlen(p), &next, changed, sizeof changed, err, sizeof err),
        LO_INVALID);
    lo_alert_rule_free(&base);
}

/* ---- payloads ---- */

static json_t *load(const lo_buf_t *b)
{
    json_error_t e;
    json_t *j = json_loadb(b->p, b->len, 0, &e);
    if (!j)
        fail_msg("not JSON: %s: %.*s", e.text, (int)b->len, b->p);
    return j;
}

static void test_payloads(void **state)
{
    (void)state;
    lo_alert_rule_t r =
        parse_ok("{\"name\":\"slow "
                 "checkout\",\"project_id\":\"0b9f5c2e-6a51-4c0e-9a0e-0c1f2d3e4f50\",\"severity\":\"page\","
                 "\"query\":{\"type\":\"metric\",\"name\":\"http.server.duration\",\"agg\":\"p99\",\"window_"
                 "seconds\":300,"
                 "\"group_by\":[\"http.route\"]},\"condition\":\"gt\",\"threshold\":0.5}");
    lo_alert_note_t n = { .rule_id = "11111111-2222-4333-8444-555555555555",
                          .group_key = "{\"2xx\": true, \"http.route\": \"/checkout\"}",
                          .public_url = "http://lookout:8080/",
                          .rule = &r,
                          .status = "firing",
                          .value = 0.75,
                          .has_value = true,
                          .event_id = 42,
                          .fired_at_us = 1796160000000000LL,
                          .ends_at_us = 1796160240000000LL };
    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_alert_webhook_body(&n, &b);
    json_t *w = load(&b);
    assert_string_equal(json_string_value(json_object_get(w, "status")), "firing");
    assert_int_equal(json_integer_value(json_object_get(w, "event_id")), 42);
    assert_string_equal(json_string_value(json_object_get(json_object_get(w, "rule"), "name")),
                        "slow checkout");
    assert_string_equal(json_string_value(json_object_get(json_object_get(w, "group"), "http.route")),
                        "/checkout");
    assert_true(json_real_value(json_object_get(w, "value")) == 0.75);
    assert_true(json_real_value(json_object_get(w, "threshold")) == 0.5);
    assert_string_equal(json_string_value(json_object_get(w, "fired_at")), "2026-12-01T21:20:00.000000Z");
    assert_true(json_is_null(json_object_get(w, "resolved_at")));
    const char *link = json_string_value(json_object_get(w, "link"));
    assert_string_equal(link,
                        "http://lookout:8080/api/observe/metrics?from=1796159700000&to=1796160000000&step=300"
                        "&name=http.server.duration&agg=p99&group_by=http.route"
                        "&project_id=0b9f5c2e-6a51-4c0e-9a0e-0c1f2d3e4f50");
    json_decref(w);

    b.len = 0;
    lo_alert_am_body(&n, &b);
    json_t *am = load(&b);
    assert_true(json_is_array(am) && json_array_size(am) == 1);
    json_t *a = json_array_get(am, 0), *labels = json_object_get(a, "labels");
    assert_string_equal(json_string_value(json_object_get(labels, "alertname")), "slow checkout");
    assert_string_equal(json_string_value(json_object_get(labels, "severity")), "page");
    assert_string_equal(json_string_value(json_object_get(labels, "http_route")),
                        "/checkout"); /* sanitized */
    assert_string_equal(json_string_value(json_object_get(labels, "_2xx")), "true");
    assert_string_equal(json_string_value(json_object_get(labels, "lookout_rule_id")), n.rule_id);
    assert_string_equal(json_string_value(json_object_get(a, "startsAt")), "2026-12-01T21:20:00.000000Z");
    assert_string_equal(json_string_value(json_object_get(a, "endsAt")), "2026-12-01T21:24:00.000000Z");
    assert_non_null(json_object_get(a, "generatorURL"));
    json_decref(am);

    n.status = "resolved";
    n.resolved_at_us = n.ends_at_us = 1796160600000000LL;
    b.len = 0;
    lo_alert_webhook_body(&n, &b);
    w = load(&b);
    assert_string_equal(json_string_value(json_object_get(w, "resolved_at")), "2026-12-01T21:30:00.000000Z");
    json_decref(w);
    lo_buf_free(&b);
    lo_alert_rule_free(&r);
}

static void test_log_link_encodes(void **state)
{
    (void)state;
    lo_alert_rule_t r =
        parse_ok("{\"name\":\"a\",\"query\":{\"type\":\"log\",\"filter\":{\"level\":\"error\",\"q\":"
                 "\"50% & up\"},\"window_seconds\":60},\"condition\":\"gt\",\"threshold\":1}");
    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_alert_link(&r, "", 1796160000000000LL, &b);
    lo_buf_putc(&b, '\0');
    assert_string_equal(
        b.p, "/api/observe/logs?from=1796159940000&to=1796160000000&level=error&q=50%25%20%26%20up");
    lo_buf_free(&b);
    lo_alert_rule_free(&r);
}

/* RFC 4231, test case 2. */
static void test_signature(void **state)
{
    (void)state;
    char sig[72];
    const char *data = "what do ya want for nothing?";
    lo_alert_signature("Jefe", data, strlen(data), sig);
    assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions_table),
        cmocka_unit_test(test_timer_counts_from_first_true),
        cmocka_unit_test(test_conditions_and_absent),
        cmocka_unit_test(test_rule_defaults_and_stored_form),
        cmocka_unit_test(test_rule_refusals_name_the_field),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_payloads),
        cmocka_unit_test(test_log_link_encodes),
        cmocka_unit_test(test_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
