/* OTLP/JSON logs decoding (src/otlp/json_logs.c + json_common.c). */
#include <dirent.h>

#include "json_harness.h"

static const char FULL[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}},"
    "{\"key\":\"project_id\",\"value\":{\"stringValue\":\"0b7e9a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b\"}},"
    "{\"key\":\"host.cpus\",\"value\":{\"intValue\":\"8\"}}],\"droppedAttributesCount\":1},"
    "\"schemaUrl\":\"https://opentelemetry.io/schemas/1.21.0\","
    "\"scopeLogs\":[{\"scope\":{\"name\":\"my.lib\",\"version\":\"1.2.3\",\"attributes\":["
    "{\"key\":\"user.id\",\"value\":{\"stringValue\":\"c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6\"}}],"
    "\"droppedAttributesCount\":0},\"schemaUrl\":\"\","
    "\"logRecords\":[{\"timeUnixNano\":\"1700000000123456789\",\"observedTimeUnixNano\":1700000000223456789,"
    "\"severityNumber\":17,\"severityText\":\"ERROR\",\"body\":{\"stringValue\":\"card declined\"},"
    "\"attributes\":["
    "{\"key\":\"session.id\",\"value\":{\"stringValue\":\"3f1c2b7a-9d4e-4c8b-a1f0-5e6d7c8b9a01\"}},"
    "{\"key\":\"amount\",\"value\":{\"doubleValue\":12.5}},"
    "{\"key\":\"retries\",\"value\":{\"intValue\":3}},"
    "{\"key\":\"ok\",\"value\":{\"boolValue\":false}},"
    "{\"key\":\"raw\",\"value\":{\"bytesValue\":\"aGVsbG8=\"}},"
    "{\"key\":\"tags\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"a\"},{\"intValue\":"
    "\"9007199254740993\"},{}]}}},"
    "{\"key\":\"ctx\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":{\"boolValue\":true}},"
    "{\"key\":\"e\"}]}}},"
    "{\"key\":\"empty\",\"value\":{}}"
    "],\"droppedAttributesCount\":2,\"flags\":1,"
    "\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"eee19b7ec3c1b174\","
    "\"eventName\":\"payment.failed\",\"someFutureField\":{\"x\":[1,2]}}]}]}]}";

static void test_full_record(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_LOGS, FULL);
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 1);
    lo_log_rec_t *r = &t.b.logs[0];
    assert_true(r->time_ns == 1700000000123456789LL);
    assert_true(r->observed_ns == 1700000000223456789LL);
    assert_int_equal(r->severity_number, 17);
    assert_str(r->severity_text, "ERROR");
    assert_str(r->level, "error");
    assert_str(r->message, "card declined");
    assert_str(
        r->attributes,
        "{\"session.id\":\"3f1c2b7a-9d4e-4c8b-a1f0-5e6d7c8b9a01\",\"amount\":12.5,\"retries\":3,\"ok\":false,"
        "\"raw\":\"aGVsbG8=\",\"tags\":[\"a\",\"9007199254740993\",null],\"ctx\":{\"k\":true,\"e\":null},"
        "\"empty\":null}");
    assert_str(r->resource,
               "{\"service.name\":\"checkout\",\"project_id\":\"0b7e9a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b\","
               "\"host.cpus\":8}");
    assert_str(r->scope_name, "my.lib");
    assert_str(r->scope_version, "1.2.3");
    assert_str(r->event_name, "payment.failed");
    assert_int_equal(r->flags, 1);
    assert_int_equal(r->dropped_attributes_count, 2);
    static const uint8_t trace[16] = { 0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                       0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c };
    static const uint8_t span[8] = { 0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74 };
    assert_true(r->env.has_trace_id && memcmp(r->env.trace_id, trace, 16) == 0);
    assert_true(r->env.has_span_id && memcmp(r->env.span_id, span, 8) == 0);
    assert_true(r->env.has_session && r->env.session_id[0] == 0x3f && r->env.session_id[15] == 0x01);
    assert_true(r->env.has_project && r->env.project_id[0] == 0x0b);
    assert_true(r->env.has_user && r->env.user_id[0] == 0xc2);
    assert_str(r->env.service, "checkout");
    jt_free(&t);
}

/* snake_case keys (the protobuf names) read as their lowerCamelCase keys,
 * as the OpenTelemetry Collector reads them. */
static void test_snake_case(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_LOGS,
              "{\"resource_logs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
              "\"string_value\":\"snake\"}}]},\"scope_logs\":[{\"log_records\":[{\"time_unix_nano\":\"1000\","
              "\"severity_number\":13,\"severity_text\":\"W\",\"body\":{\"string_value\":\"hi\"},"
              "\"trace_id\":\"5b8efff798038103d269b633813fc60c\",\"attributes\":[{\"key\":\"n\",\"value\":{"
              "\"int_value\":\"7\"}}]}]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 1);
    lo_log_rec_t *r = t.b.logs;
    assert_true(r->time_ns == 1000);
    assert_str(r->level, "warn");
    assert_str(r->message, "hi");
    assert_str(r->env.service, "snake");
    assert_true(r->env.has_trace_id && r->env.trace_id[0] == 0x5b);
    assert_str(r->attributes, "{\"n\":7}");
    jt_free(&t);
}

/* Integers in the protobuf JSON mapping's other spellings: exponent
 * notation in strings, integral reals; exact, never through a double. */
static void test_integer_forms(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_LOGS,
              "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
              "{\"timeUnixNano\":\"1700000000123456789e0\",\"severityNumber\":9,\"attributes\":["
              "{\"key\":\"a\",\"value\":{\"intValue\":\"1e3\"}},{\"key\":\"b\",\"value\":{\"intValue\":\"-2."
              "5E2\"}},"
              "{\"key\":\"c\",\"value\":{\"intValue\":\"90071992547409930e-1\"}},"
              "{\"key\":\"d\",\"value\":{\"intValue\":1e3}}]},"
              "{\"timeUnixNano\":\"17e17\"}]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 2);
    assert_true(t.b.logs[0].time_ns == 1700000000123456789LL);
    assert_str(t.b.logs[0].attributes, "{\"a\":1000,\"b\":-250,\"c\":\"9007199254740993\",\"d\":1000}");
    assert_true(t.b.logs[1].time_ns == 1700000000000000000LL);
    jt_free(&t);
    static const char *const bad[] = { "\"1.5e0\"", "\"1e-1\"", "\"e3\"",     "\"1e\"",
                                       "\"1e3x\"",  "\"2e19\"", "\"1.2.3e4\"" };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":%s}]}]}]}", bad[i]);
        jt_decode(&t, LO_SIGNAL_LOGS, json);
        if (t.rc != LO_INVALID)
            fail_msg("%s was accepted", bad[i]);
        jt_free(&t);
    }
}

static void test_defaults_and_fallbacks(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_LOGS,
              "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
              "{},"
              "{\"observedTimeUnixNano\":\"5\",\"severityText\":\"Notice\"},"
              "{\"timeUnixNano\":7,\"observedTimeUnixNano\":null,\"body\":{\"intValue\":\"42\"}},"
              "{\"body\":{}},"
              "{\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"a\",\"value\":{\"stringValue\":\"b\"}}]}}},"
              "{\"body\":{\"stringValue\":\"\"},\"traceId\":\"\",\"spanId\":\"\"}"
              "]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 6);
    lo_log_rec_t *r = t.b.logs;
    assert_true(r[0].time_ns == RECEIVE_NS);
    assert_true(r[0].observed_ns == 0);
    assert_str(r[0].level, "unspecified");
    assert_str(r[0].message, "");
    assert_str(r[0].attributes, "{}");
    assert_str(r[0].resource, "{}");
    assert_int_equal(r[0].scope_name.len, 0);
    assert_str(r[0].env.service, "unknown_service");
    assert_false(r[0].env.has_trace_id || r[0].env.has_span_id || r[0].env.has_session);
    assert_true(r[1].time_ns == 5 && r[1].observed_ns == 5);
    assert_str(r[1].level, "info"); /* a usual spelling is stored as its level */
    assert_true(r[2].time_ns == 7 && r[2].observed_ns == 0);
    assert_str(r[2].message, "42");
    assert_str(r[3].message, "");
    assert_str(r[4].message, "{\"a\":\"b\"}");
    assert_str(r[5].message, "");
    assert_false(r[5].env.has_trace_id || r[5].env.has_span_id);
    jt_free(&t);
}

static void test_empty_requests(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{}",
        "{\"resourceLogs\":[]}",
        "{\"resourceLogs\":null}",
        "{\"resourceLogs\":[{}]}",
        "{\"resourceLogs\":[{\"scopeLogs\":[{}]}]}",
        " \n{ \"resourceLogs\" : [ ] }\n ",
        "", /* an empty body is an empty request, as in protobuf */
        " \r\n\t ",
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(ok); i++) {
        jt_t t;
        jt_decode(&t, LO_SIGNAL_LOGS, ok[i]);
        assert_int_equal(t.rc, LO_OK);
        assert_int_equal(t.b.n, 0);
        jt_free(&t);
    }
}

static void test_trace_context_in_attributes(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_LOGS,
              "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":["
              "{\"key\":\"trace_id\",\"value\":{\"stringValue\":\"0102030405060708090a0b0c0d0e0f10\"}},"
              "{\"key\":\"span_id\",\"value\":{\"stringValue\":\"0102030405060708\"}}]}]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    assert_true(t.b.logs[0].env.has_trace_id && t.b.logs[0].env.trace_id[15] == 0x10);
    assert_true(t.b.logs[0].env.has_span_id && t.b.logs[0].env.span_id[7] == 0x08);
    jt_free(&t);
}

static void test_errors(void **state)
{
    (void)state;
    const lo_signal_t L = LO_SIGNAL_LOGS;
    jt_expect_invalid(L, " x", "invalid JSON");
    jt_expect_invalid(L, "[]", "expected a JSON object at the top level");
    jt_expect_invalid(L, "{\"resourceLogs\":{}}", "resourceLogs: expected an array, got an object");
    jt_expect_invalid(L, "{\"resourceLogs\":[\"x\"]}", "resourceLogs[0]: expected an object, got a string");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"resource\":\"x\"}]}",
                      "resourceLogs[0].resource: expected an object");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"resource\":{\"attributes\":{}}}]}",
                      "resourceLogs[0].resource.attributes: expected an array");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"scope\":{\"name\":5}}]}]}",
                      "resourceLogs[0].scopeLogs[0].scope.name: expected a string, got an integer");
    jt_expect_invalid(
        L,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{},{},"
        "{\"timeUnixNano\":\"12ab\"}]}]}]}",
        "resourceLogs[0].scopeLogs[0].logRecords[2].timeUnixNano: expected an integer or a decimal "
        "string");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"1\","
                      "\"time_unix_nano\":\"1\"}]}]}]}",
                      "logRecords[0]: \"timeUnixNano\" is given twice (in lowerCamelCase and in snake_case)");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":-1}]}]}]}",
                      "timeUnixNano: expected a non-negative integer");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"-1\"}]}]}]}",
                      "timeUnixNano: expected a non-negative integer");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":1.5}]}]}]}",
                      "timeUnixNano: expected an integer or a decimal string, got a fractional number");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":true}]}]}]}",
                      "timeUnixNano: expected an integer or a decimal string, got a boolean");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"\"}]}]}]}",
                      "timeUnixNano: expected an integer or a decimal string");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\" 1\"}]}]}]}",
                      "timeUnixNano: expected an integer or a decimal string");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":"
                      "\"18446744073709551616\"}]}]}]}",
                      "timeUnixNano: integer out of range");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":\"9\"}]}]}]}",
                      "severityNumber: expected an integer (OTLP/JSON enums are integers)");
    jt_expect_invalid(
        L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":4294967296}]}]}]}",
        "severityNumber: integer out of range");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":9}]}]}]}",
                      "severityText: expected a string, got an integer");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"flags\":4294967296}]}]}]}",
                      "flags: integer out of range");
    jt_expect_malformed(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":\"zz\"}]}]}]}",
                        "a trace id that is not 32 hex digits");
    jt_expect_malformed(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"spanId\":\"abcd\"}]}]}]}",
                        "a span id that is not 16 hex digits");
    jt_expect_malformed(L,
                        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":"
                        "\"BwcHBwcHBwcHBwcHBwcHBw==\"}]}]}]}",
                        "a trace id that is not 32 hex digits");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"traceId\":5}]}]}]}",
                      "traceId: expected a string, got an integer");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":\"text\"}]}]}]}",
                      "logRecords[0].body: expected an object, got a string");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":\"x\","
                      "\"string_value\":"
                      "\"x\"}}]}]}]}",
                      "logRecords[0].body: \"stringValue\" is given twice");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"a\","
                      "\"value\":{\"intValue\":\"x\"}}]}]}]}]}",
                      "logRecords[0].attributes[0].value.intValue: expected an integer or a decimal string");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"a\","
                      "\"value\":{\"stringValue\":\"x\",\"intValue\":1}}]}]}]}]}",
                      "attributes[0].value: an AnyValue holds one value");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"a\","
                      "\"value\":{\"bytesValue\":\"***\"}}]}]}]}]}",
                      "attributes[0].value.bytesValue: expected a base64 string");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"a\","
                      "\"value\":{\"arrayValue\":{\"values\":[{\"doubleValue\":\"abc\"}]}}}]}]}]}]}",
                      "attributes[0].value.arrayValue.values[0].doubleValue: expected a number");
    jt_expect_invalid(
        L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":7}]}]}]}]}",
        "attributes[0].key: expected a string");
    jt_expect_invalid(L, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[null]}]}]}]}",
                      "attributes[0]: expected an object, got null");
    jt_expect_invalid(L,
                      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"a\","
                      "\"value\":{\"boolValue\":\"true\"}}]}]}]}]}",
                      "boolValue: expected a boolean, got a string");
    jt_expect_invalid(L, "{\"resourceLogs\":[]} x", "invalid JSON");
    jt_expect_invalid(
        L,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":"
        "18446744073709551616}]}]}]}",
        "invalid JSON: a number is out of range (64-bit integers beyond int64 must be decimal strings)");
    /* jansson's excerpt of the input is not echoed */
    {
        jt_t t;
        jt_decode(&t, L, "{\"resourceLogs\":[secret-token-123]}");
        assert_int_equal(t.rc, LO_INVALID);
        assert_null(strstr(t.b.error, "secret"));
        assert_non_null(strstr(t.b.error, "invalid JSON: invalid token (line 1, column"));
        jt_free(&t);
    }
}

static void test_numbers(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_LOGS,
              "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
              "{\"timeUnixNano\":\"18446744073709551615\",\"attributes\":["
              "{\"key\":\"max\",\"value\":{\"intValue\":\"9223372036854775807\"}},"
              "{\"key\":\"min\",\"value\":{\"intValue\":\"-9223372036854775808\"}},"
              "{\"key\":\"num\",\"value\":{\"intValue\":-9223372036854775808}},"
              "{\"key\":\"real\",\"value\":{\"intValue\":1e3}},"
              "{\"key\":\"zero\",\"value\":{\"intValue\":\"-0\"}},"
              "{\"key\":\"lead\",\"value\":{\"intValue\":\"007\"}},"
              "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}},"
              "{\"key\":\"inf\",\"value\":{\"doubleValue\":\"-Infinity\"}},"
              "{\"key\":\"dstr\",\"value\":{\"doubleValue\":\"2.5e-3\"}},"
              "{\"key\":\"dint\",\"value\":{\"doubleValue\":3}},"
              "{\"key\":\"big\",\"value\":{\"doubleValue\":1e300}}]},"
              "{\"timeUnixNano\":1.7e18,\"severityNumber\":-3,\"flags\":\"4294967295\"}"
              "]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    assert_true(t.b.logs[0].time_ns == -1); /* fixed64 beyond int64 wraps as the protobuf walker does */
    assert_str(
        t.b.logs[0].attributes,
        "{\"max\":\"9223372036854775807\",\"min\":\"-9223372036854775808\",\"num\":\"-9223372036854775808\","
        "\"real\":1000,\"zero\":0,\"lead\":7,\"nan\":\"NaN\",\"inf\":\"-Infinity\",\"dstr\":0."
        "0025000000000000001,"
        "\"dint\":3,\"big\":1.0000000000000001e+300}");
    assert_true(t.b.logs[1].time_ns == 1700000000000000000LL);
    assert_int_equal(t.b.logs[1].severity_number, -3);
    assert_str(t.b.logs[1].level, "unspecified");
    assert_true(t.b.logs[1].flags == 4294967295u);
    jt_free(&t);
}

static void test_duplicate_keys_last_wins(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(
        &t, LO_SIGNAL_LOGS,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"a\",\"severityText\":\"b\","
        "\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":1}},{\"key\":\"k\",\"value\":{\"intValue\":2}"
        "}]"
        "}]}]}],\"resourceLogs\":[]}");
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 0); /* the second resourceLogs (empty) replaced the first */
    jt_free(&t);
    jt_decode(
        &t, LO_SIGNAL_LOGS,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"a\",\"severityText\":\"b\","
        "\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":1}},{\"key\":\"k\",\"value\":{\"intValue\":2}"
        "}]"
        "}]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    assert_str(t.b.logs[0].severity_text, "b");
    /* repeated attribute keys are kept in order, as the protobuf walker keeps them */
    assert_str(t.b.logs[0].attributes, "{\"k\":1,\"k\":2}");
    jt_free(&t);
}

static void test_strings_utf8_and_nul(void **state)
{
    (void)state;
    jt_t t;
    /* \u0000 is accepted by JSON but refused by PostgreSQL: it becomes U+FFFD */
    jt_decode(&t, LO_SIGNAL_LOGS,
              "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
              "{\"stringValue\":\"s\\u0000v\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"n\\u0000\"},"
              "\"logRecords\":[{\"severityText\":\"\\u0000\",\"body\":{\"stringValue\":\"a\\u0000b \\u00e9 "
              "\\ud83d\\ude00\"},"
              "\"eventName\":\"\\u0000\",\"attributes\":[{\"key\":\"k\\u0000\",\"value\":{\"stringValue\":"
              "\"\\u0000\"}},"
              "{\"key\":\"q\",\"value\":{\"stringValue\":\"\\\"\\\\\\n\\u0001\"}}]}]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    lo_log_rec_t *r = &t.b.logs[0];
    assert_str(r->message, "a\xEF\xBF\xBD"
                           "b \xC3\xA9 \xF0\x9F\x98\x80");
    assert_str(r->severity_text, "\xEF\xBF\xBD");
    assert_str(r->event_name, "\xEF\xBF\xBD");
    assert_str(r->scope_name, "n\xEF\xBF\xBD");
    assert_str(r->env.service, "s\xEF\xBF\xBDv");
    assert_str(r->attributes, "{\"k\xEF\xBF\xBD\":\"\xEF\xBF\xBD\",\"q\":\"\\\"\\\\\\n\\u0001\"}");
    assert_clean(r->message);
    assert_clean(r->attributes);
    assert_clean(r->level);
    jt_free(&t);

    /* invalid UTF-8 in the body: jansson refuses it, a clean 400 */
    jt_expect_invalid(
        LO_SIGNAL_LOGS,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"\xC3\x28\"}]}]}]}",
        "invalid JSON: the body is not valid UTF-8 (line 1, column");
    jt_expect_invalid(
        LO_SIGNAL_LOGS,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"\xED\xA0\x80\"}]}]}]}",
        "invalid JSON");
    /* a lone surrogate escape */
    jt_expect_invalid(
        LO_SIGNAL_LOGS,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"\\ud800\"}]}]}]}",
        "invalid JSON");
    /* a raw NUL byte in the body */
    {
        static const char nul[] =
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"a\0b\"}]}]}]}";
        jt_t u;
        lo_decode_opts_t o = { .max_depth = 32, .receive_ns = RECEIVE_NS };
        jt_decode_opts(&u, LO_SIGNAL_LOGS, nul, sizeof(nul) - 1, &o);
        assert_int_equal(u.rc, LO_INVALID);
        assert_non_null(strstr(u.b.error, "invalid JSON"));
        jt_free(&u);
    }
}

static char *nested_attr(int levels, bool kvlist)
{
    size_t cap = (size_t)levels * 64 + 256;
    char *p = malloc(cap);
    size_t o = (size_t)snprintf(
        p, cap,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"d\",\"value\":");
    for (int i = 0; i < levels; i++)
        o += (size_t)snprintf(p + o, cap - o,
                              kvlist ? "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
                                     : "{\"arrayValue\":{\"values\":[");
    o += (size_t)snprintf(p + o, cap - o, "{\"intValue\":1}");
    for (int i = 0; i < levels; i++)
        o += (size_t)snprintf(p + o, cap - o, kvlist ? "}]}}" : "]}}");
    snprintf(p + o, cap - o, "}]}]}]}]}");
    return p;
}

static void test_depth(void **state)
{
    (void)state;
    lo_decode_opts_t o = { .max_depth = 3, .receive_ns = RECEIVE_NS };
    for (int kv = 0; kv < 2; kv++) {
        jt_t t;
        /* depth counts values: 2 containers put the scalar at depth 3 */
        char *ok = nested_attr(2, kv), *deep = nested_attr(3, kv);
        jt_decode_opts(&t, LO_SIGNAL_LOGS, ok, strlen(ok), &o);
        assert_int_equal(t.rc, LO_OK);
        assert_str(t.b.logs[0].attributes, kv ? "{\"d\":{\"k\":{\"k\":1}}}" : "{\"d\":[[1]]}");
        jt_free(&t);
        jt_decode_opts(&t, LO_SIGNAL_LOGS, deep, strlen(deep), &o);
        assert_int_equal(t.rc, LO_INVALID);
        assert_non_null(strstr(t.b.error, "nested deeper than 3 levels"));
        assert_non_null(strstr(t.b.error, "attributes[0].value."));
        jt_free(&t);
        free(ok);
        free(deep);
    }
    /* the same bound applies to the body */
    {
        jt_t t;
        const char *body =
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"arrayValue\":{\"values\":["
            "{\"arrayValue\":{\"values\":[{\"arrayValue\":{\"values\":[{\"arrayValue\":{}}]}}]}}]}}}]}]}]}";
        jt_decode_opts(&t, LO_SIGNAL_LOGS, body, strlen(body), &o);
        assert_int_equal(t.rc, LO_INVALID);
        assert_non_null(strstr(t.b.error, "logRecords[0].body.arrayValue.values[0].arrayValue.values[0]"));
        jt_free(&t);
    }
    /* 10,000 levels: refused by jansson's own depth limit (2048), not a stack overflow */
    {
        jt_t t;
        char *deep = nested_attr(10000, false);
        o.max_depth = 128;
        jt_decode_opts(&t, LO_SIGNAL_LOGS, deep, strlen(deep), &o);
        assert_int_equal(t.rc, LO_INVALID);
        assert_non_null(strstr(t.b.error, "invalid JSON: nested too deep"));
        jt_free(&t);
        free(deep);
        /* plain nested arrays, 10,000 deep */
        size_t n = 20000;
        char *arr = malloc(n + 64);
        memset(arr, '[', n / 2);
        memset(arr + n / 2, ']', n / 2);
        jt_decode_opts(&t, LO_SIGNAL_LOGS, arr, n, &o);
        assert_int_equal(t.rc, LO_INVALID);
        jt_free(&t);
        /* 500 levels of AnyValue pass jansson's limit: ours refuses them */
        deep = nested_attr(500, true);
        jt_decode_opts(&t, LO_SIGNAL_LOGS, deep, strlen(deep), &o);
        assert_int_equal(t.rc, LO_INVALID);
        assert_non_null(strstr(t.b.error, "nested deeper than 128 levels"));
        jt_free(&t);
        free(deep);
        free(arr);
    }
}

/* jansson's tree is bounded: a body whose tree would take more than the
 * budget is refused (413), not allowed to take the process's memory. */
static void test_memory_budget(void **state)
{
    (void)state;
    size_t n = 1u << 20, o = 0;
    char *p = malloc(n + 64);
    o += (size_t)sprintf(p, "{\"resourceLogs\":[");
    while (o + 4 < n) {
        memcpy(p + o, "{},", 3);
        o += 3;
    }
    p[o - 1] = ']';
    p[o++] = '}';
    jt_t t;
    lo_decode_opts_t opts = { .max_depth = 32, .receive_ns = RECEIVE_NS };
    jt_decode_opts(&t, LO_SIGNAL_LOGS, p, o, &opts);
    assert_int_equal(t.rc, LO_TOO_LARGE);
    assert_non_null(strstr(t.b.error, "JSON body too large to decode"));
    jt_free(&t);
    /* the budget is per decode: the next one starts afresh */
    jt_decode(&t, LO_SIGNAL_LOGS, "{\"resourceLogs\":[{}]}");
    assert_int_equal(t.rc, LO_OK);
    jt_free(&t);
    free(p);
}

static void test_redaction(void **state)
{
    (void)state;
    lo_redact_t *red = lo_redact_create("password,authorization,token");
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = RECEIVE_NS, .redact = red };
    const char *json =
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"Token\",\"value\":{\"intValue\":5}}]},"
        "\"scopeLogs\":[{\"logRecords\":[{\"attributes\":["
        "{\"key\":\"password\",\"value\":{\"stringValue\":\"hunter2\"}},"
        "{\"key\":\"http.request.header.authorization\",\"value\":{\"arrayValue\":{\"values\":[{"
        "\"stringValue\":\"Bearer x\"}]}}},"
        "{\"key\":\"req\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"PASSWORD\",\"value\":{"
        "\"stringValue\":\"x\"}},"
        "{\"key\":\"user\",\"value\":{\"stringValue\":\"bob\"}}]}}}],"
        "\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"token\",\"value\":{\"stringValue\":\"t\"}}]}}}]}]}"
        "]}";
    jt_t t;
    jt_decode_opts(&t, LO_SIGNAL_LOGS, json, strlen(json), &o);
    assert_int_equal(t.rc, LO_OK);
    assert_str(t.b.logs[0].attributes,
               "{\"password\":\"[REDACTED]\",\"http.request.header.authorization\":\"[REDACTED]\","
               "\"req\":{\"PASSWORD\":\"[REDACTED]\",\"user\":\"bob\"}}");
    assert_str(t.b.logs[0].resource, "{\"Token\":\"[REDACTED]\"}");
    assert_str(t.b.logs[0].message, "{\"token\":\"[REDACTED]\"}");
    jt_free(&t);
    /* a redacted value is still checked: wrong types are a 400 all the same */
    json = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":["
           "{\"key\":\"password\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"token\",\"value\":"
           "{\"intValue\":\"x\"}}]}}}]}]}]}]}";
    jt_decode_opts(&t, LO_SIGNAL_LOGS, json, strlen(json), &o);
    assert_int_equal(t.rc, LO_INVALID);
    assert_non_null(
        strstr(t.b.error, "attributes[0].value.kvlistValue.values[0].value.intValue: expected an integer"));
    jt_free(&t);
    lo_redact_destroy(red);
}

static void test_envelope_precedence(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(
        &t, LO_SIGNAL_LOGS,
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":["
        "{\"key\":\"session_id\",\"value\":{\"stringValue\":\"11111111-1111-1111-1111-111111111111\"}},"
        "{\"key\":\"project.id\",\"value\":{\"stringValue\":\"22222222-2222-2222-2222-222222222222\"}},"
        "{\"key\":\"enduser.id\",\"value\":{\"stringValue\":\"33333333-3333-3333-3333-333333333333\"}}]},"
        "\"scopeLogs\":[{\"scope\":{\"attributes\":["
        "{\"key\":\"project_id\",\"value\":{\"stringValue\":\"44444444-4444-4444-4444-444444444444\"}}]},"
        "\"logRecords\":[{\"attributes\":["
        "{\"key\":\"session_id\",\"value\":{\"stringValue\":\"not-a-uuid\"}},"
        "{\"key\":\"user_id\",\"value\":{\"intValue\":5}}]},"
        "{\"attributes\":[{\"key\":\"session.id\",\"value\":{\"stringValue\":\"55555555-5555-5555-5555-"
        "555555555555\"}}]}"
        "]}]}]}");
    assert_int_equal(t.rc, LO_OK);
    lo_log_rec_t *r = t.b.logs;
    assert_true(r[0].env.has_session &&
                r[0].env.session_id[0] == 0x11); /* malformed at record: resource wins */
    assert_true(r[0].env.has_project && r[0].env.project_id[0] == 0x44); /* scope before resource */
    assert_true(r[0].env.has_user && r[0].env.user_id[0] == 0x33); /* non-string values are not candidates */
    assert_str(r[0].attributes, "{\"session_id\":\"not-a-uuid\",\"user_id\":5}");
    assert_true(r[1].env.session_id[0] == 0x55);
    jt_free(&t);
}

static void test_sdk_corpus(void **state)
{
    (void)state;
    const char *dir = "fuzz/corpus/fuzz_json_logs";
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        /* every seed decodes; the SDK's bodies are checked record by record */
        bool sdk = strncmp(e->d_name, "sdk-", 4) == 0;
        char path[512];
        size_t n = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char *p = jt_read_file(path, &n);
        assert_non_null(p);
        jt_t t;
        lo_decode_opts_t o = { .max_depth = 32, .receive_ns = RECEIVE_NS };
        jt_decode_opts(&t, LO_SIGNAL_LOGS, p, n, &o);
        if (t.rc != LO_OK)
            fprintf(stderr, "%s: %s\n", path, t.b.error);
        assert_int_equal(t.rc, LO_OK);
        assert_true(t.b.n > 0);
        for (size_t i = 0; sdk && i < t.b.n; i++) {
            lo_log_rec_t *r = &t.b.logs[i];
            assert_true(r->time_ns != 0);
            assert_true(r->env.service.len > 0 && !lo_str_eq(r->env.service, "unknown_service"));
            assert_clean(r->message);
            assert_clean(r->attributes);
            assert_clean(r->resource);
            assert_true(r->attributes.len >= 2 && r->attributes.p[0] == '{');
        }
        jt_free(&t);
        free(p);
        files++;
    }
    closedir(d);
    assert_true(files >= 1);
}

static void test_responses(void **state)
{
    (void)state;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    assert_int_equal(lo_otlp_json_response(LO_SIGNAL_LOGS, 0, "ignored", &b), LO_OK);
    assert_string_equal(b.p, "{}");
    lo_buf_reset(&b);
    assert_int_equal(lo_otlp_json_response(LO_SIGNAL_LOGS, 3, "project \"x\" not allowed", &b), LO_OK);
    assert_string_equal(
        b.p,
        "{\"partialSuccess\":{\"rejectedLogRecords\":3,\"errorMessage\":\"project \\\"x\\\" not allowed\"}}");
    lo_buf_reset(&b);
    assert_int_equal(lo_otlp_json_response(LO_SIGNAL_SPANS, 1, NULL, &b), LO_OK);
    assert_string_equal(b.p, "{\"partialSuccess\":{\"rejectedSpans\":1}}");
    lo_buf_reset(&b);
    assert_int_equal(lo_otlp_json_response(LO_SIGNAL_METRICS, 2, "old", &b), LO_OK);
    assert_string_equal(b.p, "{\"partialSuccess\":{\"rejectedDataPoints\":2,\"errorMessage\":\"old\"}}");
    lo_buf_reset(&b);
    assert_int_equal(lo_otlp_json_status(3, "resourceLogs[0]: bad \xff", &b), LO_OK);
    assert_string_equal(b.p, "{\"code\":3,\"message\":\"resourceLogs[0]: bad \xEF\xBF\xBD\"}");
    lo_buf_reset(&b);
    assert_int_equal(lo_otlp_json_status(16, NULL, &b), LO_OK);
    assert_string_equal(b.p, "{\"code\":16,\"message\":\"\"}");
    lo_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_defaults_and_fallbacks),
        cmocka_unit_test(test_snake_case),
        cmocka_unit_test(test_empty_requests),
        cmocka_unit_test(test_integer_forms),
        cmocka_unit_test(test_trace_context_in_attributes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_duplicate_keys_last_wins),
        cmocka_unit_test(test_strings_utf8_and_nul),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_memory_budget),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_envelope_precedence),
        cmocka_unit_test(test_sdk_corpus),
        cmocka_unit_test(test_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
