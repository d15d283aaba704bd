/* OTLP/JSON traces decoding (src/otlp/json_traces.c). */
#include <dirent.h>

#include "json_harness.h"

static const char FULL[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"api\"}}]},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"http\",\"version\":\"0.1\"},\"spans\":["
    "{\"traceId\":\"0102030405060708090A0B0C0D0E0F10\",\"spanId\":\"1112131415161718\","
    "\"parentSpanId\":\"2122232425262728\",\"traceState\":\"k=v\",\"flags\":257,\"name\":\"GET /x\","
    "\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\",\"endTimeUnixNano\":1700000000500000000,"
    "\"attributes\":[{\"key\":\"http.status_code\",\"value\":{\"intValue\":500}},"
    "{\"key\":\"user.id\",\"value\":{\"stringValue\":\"c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6\"}}],"
    "\"droppedAttributesCount\":1,"
    "\"events\":[{\"timeUnixNano\":\"1700000000100000000\",\"name\":\"exception\",\"attributes\":["
    "{\"key\":\"exception.message\",\"value\":{\"stringValue\":\"boom\"}}],\"droppedAttributesCount\":2},"
    "{\"name\":\"bare\"}],"
    "\"droppedEventsCount\":3,"
    "\"links\":[{\"traceId\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0\",\"spanId\":\"b1b2b3b4b5b6b7b8\","
    "\"traceState\":\"x=y\",\"attributes\":[{\"key\":\"l\",\"value\":{\"boolValue\":true}}],"
    "\"droppedAttributesCount\":1,\"flags\":1},{}],"
    "\"droppedLinksCount\":4,"
    "\"status\":{\"code\":2,\"message\":\"internal error\"}},"
    "{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"2122232425262728\",\"parentSpanId\":\"\"}"
    "]}]}]}";

static void test_full_span(void **state)
{
    (void)state;
    jt_t t;
    jt_decode(&t, LO_SIGNAL_SPANS, FULL);
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.n, 2);
    lo_span_rec_t *s = &t.b.spans[0];
    assert_true(s->env.has_trace_id && s->env.trace_id[0] == 1 && s->env.trace_id[15] == 0x10);
    assert_true(s->env.has_span_id && s->env.span_id[0] == 0x11 && s->env.span_id[7] == 0x18);
    assert_true(s->has_parent && s->parent_span_id[0] == 0x21 && s->parent_span_id[7] == 0x28);
    assert_str(s->trace_state, "k=v");
    assert_int_equal(s->flags, 257);
    assert_str(s->name, "GET /x");
    assert_int_equal(s->kind, 2);
    assert_true(s->start_ns == 1700000000000000000LL && s->end_ns == 1700000000500000000LL);
    assert_str(s->attributes,
               "{\"http.status_code\":500,\"user.id\":\"c2d3e4f5-a6b7-4c8d-9e0f-a1b2c3d4e5f6\"}");
    assert_int_equal(s->dropped_attributes_count, 1);
    assert_str(s->events,
               "[{\"time_unix_nano\":\"1700000000100000000\",\"name\":\"exception\","
               "\"attributes\":{\"exception.message\":\"boom\"},\"dropped_attributes_count\":2},"
               "{\"time_unix_nano\":0,\"name\":\"bare\",\"attributes\":{},\"dropped_attributes_count\":0}]");
    assert_int_equal(s->dropped_events_count, 3);
    assert_str(s->links,
               "[{\"trace_id\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0\",\"span_id\":\"b1b2b3b4b5b6b7b8\","
               "\"trace_state\":\"x=y\",\"attributes\":{\"l\":true},\"flags\":1},"
               "{\"trace_id\":\"\",\"span_id\":\"\",\"trace_state\":\"\",\"attributes\":{},\"flags\":0}]");
    assert_int_equal(s->dropped_links_count, 4);
    assert_int_equal(s->status_code, 2);
    assert_str(s->status_message, "internal error");
    assert_str(s->resource, "{\"service.name\":\"api\"}");
    assert_str(s->scope_name, "http");
    assert_str(s->scope_version, "0.1");
    assert_str(s->env.service, "api");
    assert_true(s->env.has_user && s->env.user_id[0] == 0xc2);

    s = &t.b.spans[1];
    assert_false(s->has_parent);
    assert_str(s->attributes, "{}");
    assert_str(s->events, "[]");
    assert_str(s->links, "[]");
    assert_int_equal(s->status_code, 0);
    assert_int_equal(s->status_message.len, 0);
    assert_int_equal(s->kind, 0);
    jt_free(&t);
}

#define SPAN(x) "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" x "]}]}]}"
#define IDS     "\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"1112131415161718\""

static void test_errors(void **state)
{
    (void)state;
    const lo_signal_t S = LO_SIGNAL_SPANS;
    /* a span's ids spoil the span, not the request: it is refused at admission */
    jt_expect_malformed(S, SPAN("{\"spanId\":\"1112131415161718\"}"), "a span without a trace id");
    jt_expect_malformed(S, SPAN("{\"traceId\":\"\",\"spanId\":\"1112131415161718\"}"),
                        "a span without a trace id");
    jt_expect_malformed(
        S, SPAN("{\"traceId\":\"00000000000000000000000000000000\",\"spanId\":\"1112131415161718\"}"),
        "a span without a trace id");
    jt_expect_malformed(S, SPAN("{\"traceId\":\"0102\",\"spanId\":\"1112131415161718\"}"),
                        "a trace id that is not 32 hex digits");
    jt_expect_malformed(S, SPAN("{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\"}"),
                        "a span without a span id");
    jt_expect_malformed(
        S, SPAN("{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"111213141516171\"}"),
        "a span id that is not 16 hex digits");
    jt_expect_malformed(S, SPAN("{" IDS ",\"parentSpanId\":\"11\"}"), "a span id that is not 16 hex digits");
    /* a link id that is not hex spoils its span, not the request */
    jt_expect_malformed(S, SPAN("{" IDS ",\"links\":[{\"traceId\":\"012\"}]}"),
                        "a link whose id is not hex digits");
    jt_expect_malformed(S, SPAN("{" IDS ",\"links\":[{\"spanId\":\"zz\"}]}"),
                        "a link whose id is not hex digits");
    jt_expect_malformed(S, SPAN("{" IDS ",\"parentSpanId\":\"xyxyxyxyxyxyxyxy\"}"),
                        "a span id that is not 16 hex digits");
    jt_expect_invalid(S,
                      SPAN("{\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\",\"traceId\":"
                           "\"0102030405060708090a0b0c0d0e0f10\","
                           "\"spanId\":\"1112131415161718\"}"),
                      "spans[0]: \"traceId\" is given twice");
    jt_expect_invalid(S, SPAN("{" IDS ",\"kind\":\"SPAN_KIND_SERVER\"}"),
                      "spans[0].kind: expected an integer (OTLP/JSON enums are integers)");
    jt_expect_invalid(S, SPAN("{" IDS ",\"kind\":1.5}"),
                      "spans[0].kind: expected an integer, got a fractional");
    jt_expect_invalid(S, SPAN("{" IDS ",\"startTimeUnixNano\":{}}"),
                      "spans[0].startTimeUnixNano: expected an integer or a decimal string, got an object");
    jt_expect_invalid(S, SPAN("{" IDS ",\"name\":[]}"), "spans[0].name: expected a string, got an array");
    jt_expect_invalid(S, SPAN("{" IDS ",\"status\":\"ok\"}"), "spans[0].status: expected an object");
    jt_expect_invalid(S, SPAN("{" IDS ",\"status\":{\"code\":\"2\"}}"),
                      "spans[0].status.code: expected an integer");
    jt_expect_invalid(S, SPAN("{" IDS ",\"events\":[{\"time_unix_nano\":\"1\",\"timeUnixNano\":\"1\"}]}"),
                      "spans[0].events[0]: \"timeUnixNano\" is given twice");
    jt_expect_malformed(S, SPAN("{" IDS ",\"parent_span_id\":\"zz\"}"),
                        "a span id that is not 16 hex digits");
    jt_expect_invalid(S, SPAN("{" IDS ",\"events\":{}}"), "spans[0].events: expected an array");
    jt_expect_invalid(S, SPAN("{" IDS ",\"events\":[{\"timeUnixNano\":\"x\"}]}"),
                      "spans[0].events[0].timeUnixNano: expected an integer or a decimal string");
    jt_expect_invalid(
        S, SPAN("{" IDS ",\"events\":[{\"attributes\":[{\"key\":\"a\",\"value\":5}]}]}"),
        "spans[0].events[0].attributes[0].value: expected an object (AnyValue), got an integer");
    jt_expect_invalid(S, SPAN("{" IDS ",\"links\":[{\"flags\":-1}]}"),
                      "spans[0].links[0].flags: expected a non-negative");
    jt_expect_invalid(S, SPAN("{" IDS ",\"droppedEventsCount\":\"many\"}"), "spans[0].droppedEventsCount:");
}

static void test_envelope_and_ids(void **state)
{
    (void)state;
    jt_t t;
    /* the span's own ids win over attributes of that name */
    jt_decode(
        &t, LO_SIGNAL_SPANS,
        SPAN("{" IDS ",\"attributes\":[{\"key\":\"trace_id\",\"value\":{\"stringValue\":"
             "\"ffffffffffffffffffffffffffffffff\"}},{\"key\":\"session_id\",\"value\":{\"stringValue\":"
             "\"3f1c2b7a-9d4e-4c8b-a1f0-5e6d7c8b9a01\"}}],\"parentSpanId\":\"0000000000000000\"}"));
    assert_int_equal(t.rc, LO_OK);
    assert_int_equal(t.b.spans[0].env.trace_id[0], 1);
    assert_true(t.b.spans[0].env.has_session);
    assert_false(t.b.spans[0].has_parent); /* all zeros: no parent */
    assert_str(t.b.spans[0].env.service, "unknown_service");
    jt_free(&t);
}

static void test_sdk_corpus(void **state)
{
    (void)state;
    const char *dir = "fuzz/corpus/fuzz_json_traces";
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
        jt_decode_opts(&t, LO_SIGNAL_SPANS, p, n, &o);
        if (t.rc != LO_OK)
            fprintf(stderr, "%s: %s\n", path, t.b.error);
        assert_int_equal(t.rc, LO_OK);
        assert_true(t.b.n > 0);
        for (size_t i = 0; sdk && i < t.b.n; i++) {
            lo_span_rec_t *s = &t.b.spans[i];
            assert_true(s->env.has_trace_id && s->env.has_span_id);
            assert_true(s->start_ns > 0 && s->end_ns >= s->start_ns);
            assert_true(s->name.len > 0);
            assert_false(lo_str_eq(s->env.service, "unknown_service"));
            assert_clean(s->attributes);
            assert_clean(s->events);
            assert_clean(s->links);
            assert_true(s->events.len >= 2 && s->events.p[0] == '[');
        }
        jt_free(&t);
        free(p);
        files++;
    }
    closedir(d);
    assert_true(files >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_span),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_envelope_and_ids),
        cmocka_unit_test(test_sdk_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
