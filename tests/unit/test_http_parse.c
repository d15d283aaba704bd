/* Header parsing of the listeners: Content-Type, Content-Encoding,
 * Content-Length and listener addresses; and the /metrics exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/stats.h"
#include "http/metrics.h"
#include "http/parse.h"

static void test_content_type(void **state)
{
    (void)state;
    assert_int_equal(lo_http_content_type(NULL), LO_CT_NONE);
    assert_int_equal(lo_http_content_type("application/x-protobuf"), LO_CT_PROTOBUF);
    assert_int_equal(lo_http_content_type("Application/X-Protobuf"), LO_CT_PROTOBUF);
    assert_int_equal(lo_http_content_type("application/json"), LO_CT_JSON);
    assert_int_equal(lo_http_content_type("application/json; charset=utf-8"), LO_CT_JSON);
    assert_int_equal(lo_http_content_type("application/json;charset=UTF-8"), LO_CT_JSON);
    assert_int_equal(lo_http_content_type("  application/json  ; charset=utf-8"), LO_CT_JSON);
    assert_int_equal(lo_http_content_type("application/x-protobuf;proto=otlp"), LO_CT_PROTOBUF);
    assert_int_equal(lo_http_content_type(""), LO_CT_UNSUPPORTED);
    assert_int_equal(lo_http_content_type("text/plain"), LO_CT_UNSUPPORTED);
    assert_int_equal(lo_http_content_type("application/protobuf"), LO_CT_UNSUPPORTED);
    assert_int_equal(lo_http_content_type("application/jsonx"), LO_CT_UNSUPPORTED);
    assert_int_equal(lo_http_content_type("application/json-seq"), LO_CT_UNSUPPORTED);
    assert_int_equal(lo_http_content_type("application/x-protobuf-json"), LO_CT_UNSUPPORTED);
    assert_int_equal(lo_http_content_type("application"), LO_CT_UNSUPPORTED);
    assert_int_equal(lo_http_content_type(";charset=utf-8"), LO_CT_UNSUPPORTED);
}

static void test_content_encoding(void **state)
{
    (void)state;
    assert_int_equal(lo_http_content_encoding(NULL), LO_CE_IDENTITY);
    assert_int_equal(lo_http_content_encoding(""), LO_CE_IDENTITY);
    assert_int_equal(lo_http_content_encoding("identity"), LO_CE_IDENTITY);
    assert_int_equal(lo_http_content_encoding("Identity "), LO_CE_IDENTITY);
    assert_int_equal(lo_http_content_encoding("gzip"), LO_CE_GZIP);
    assert_int_equal(lo_http_content_encoding("GZIP"), LO_CE_GZIP);
    assert_int_equal(lo_http_content_encoding(" gzip\t"), LO_CE_GZIP);
    assert_int_equal(lo_http_content_encoding("x-gzip"), LO_CE_GZIP);
    assert_int_equal(lo_http_content_encoding("br"), LO_CE_UNSUPPORTED);
    assert_int_equal(lo_http_content_encoding("deflate"), LO_CE_UNSUPPORTED);
    assert_int_equal(lo_http_content_encoding("zstd"), LO_CE_UNSUPPORTED);
    assert_int_equal(lo_http_content_encoding("gzip, br"), LO_CE_UNSUPPORTED);
    assert_int_equal(lo_http_content_encoding("gzipx"), LO_CE_UNSUPPORTED);
}

static void test_content_length(void **state)
{
    (void)state;
    uint64_t n = 7;
    assert_true(lo_http_transfer_encoding_chunked("chunked"));
    assert_true(lo_http_transfer_encoding_chunked(" Chunked "));
    assert_false(lo_http_transfer_encoding_chunked(NULL));
    assert_false(lo_http_transfer_encoding_chunked("identity"));
    assert_false(lo_http_transfer_encoding_chunked("gzip, chunked"));
    assert_false(lo_http_transfer_encoding_chunked("chunked, chunked"));
    assert_false(lo_http_transfer_encoding_chunked("chunke"));
    assert_false(lo_http_content_length(NULL, &n));
    assert_true(lo_http_content_length("0", &n));
    assert_int_equal(n, 0);
    assert_true(lo_http_content_length(" 16777216 ", &n));
    assert_int_equal(n, 16777216);
    assert_true(lo_http_content_length("9223372036854775807", &n));
    assert_false(lo_http_content_length("9223372036854775808", &n));
    assert_false(lo_http_content_length("99999999999999999999", &n));
    assert_false(lo_http_content_length("", &n));
    assert_false(lo_http_content_length("-1", &n));
    assert_false(lo_http_content_length("12a", &n));
    assert_false(lo_http_content_length("1 2", &n));
    assert_false(lo_http_content_length("0x10", &n));
}

static void test_addr(void **state)
{
    (void)state;
    lo_http_addr_t a;
    char err[200];
    assert_int_equal(lo_http_addr_parse("127.0.0.1:4318", &a, err, sizeof(err)), LO_OK);
    assert_false(a.ipv6);
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a.sa;
    assert_int_equal(in->sin_family, AF_INET);
    assert_int_equal(ntohs(in->sin_port), 4318);
    assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001);

    assert_int_equal(lo_http_addr_parse("0.0.0.0:0", &a, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_http_addr_parse(":8080", &a, err, sizeof(err)), LO_OK);
    in = (const struct sockaddr_in *)&a.sa;
    assert_int_equal(in->sin_family, AF_INET);
    assert_int_equal(in->sin_addr.s_addr, htonl(INADDR_ANY));
    assert_int_equal(ntohs(in->sin_port), 8080);

    assert_int_equal(lo_http_addr_parse("[::1]:4318", &a, err, sizeof(err)), LO_OK);
    assert_true(a.ipv6);
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a.sa;
    assert_int_equal(ntohs(in6->sin6_port), 4318);

    assert_int_equal(lo_http_addr_parse("localhost:4318", &a, err, sizeof(err)), LO_OK);

    const char *bad[] = {
        "",         "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http",
        "::1:4318", "[::1]4318", "[::1",       "1.2.3.4:80 ",     "1.2.3.4: 80"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(lo_http_addr_parse(bad[i], &a, err, sizeof(err)), LO_INVALID);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(lo_http_addr_parse(NULL, &a, err, sizeof(err)), LO_INVALID);
}

static void test_metrics_render(void **state)
{
    (void)state;
    lo_stat_add(&lo_stats.records_ingested[LO_SIGNAL_LOGS], 42);
    lo_stat_add(&lo_stats.requests_busy[LO_SIGNAL_SPANS], 3);
    lo_stats_observe_commit(LO_SIGNAL_METRICS, 2000000);     /* 2 ms */
    lo_stats_observe_commit(LO_SIGNAL_METRICS, 20000000000); /* 20 s: +Inf only */
    lo_http_count_response(LO_LISTENER_OTLP, 429);
    lo_http_count_response(LO_LISTENER_API, 418);
    lo_buf_t b;
    lo_buf_init(&b, 1 << 20);
    assert_int_equal(lo_metrics_render(&b), LO_OK);
    const char *want[] = {
        "# TYPE lookout_records_ingested_total counter\n",
        "lookout_records_ingested_total{signal=\"logs\"} 42\n",
        "lookout_ingest_requests_throttled_total{signal=\"spans\"} 3\n",
        "lookout_commit_latency_seconds_bucket{signal=\"metrics\",le=\"0.001\"} 0\n",
        "lookout_commit_latency_seconds_bucket{signal=\"metrics\",le=\"0.0025\"} 1\n",
        "lookout_commit_latency_seconds_bucket{signal=\"metrics\",le=\"10\"} 1\n",
        "lookout_commit_latency_seconds_bucket{signal=\"metrics\",le=\"+Inf\"} 2\n",
        "lookout_commit_latency_seconds_count{signal=\"metrics\"} 2\n",
        "lookout_commit_latency_seconds_sum{signal=\"metrics\"} 20.002000\n",
        "lookout_http_responses_total{listener=\"otlp\",code=\"429\"} 1\n",
        "lookout_http_responses_total{listener=\"api\",code=\"other\"} 1\n",
        "lookout_buffer_bytes{signal=\"logs\"} 0\n",
        "lookout_batch_records_count{signal=\"logs\"} 0\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(b.p, want[i]) == NULL)
            fail_msg("missing: %s", want[i]);
    }
    /* every line is a comment or "name{labels} value" */
    for (char *line = b.p; *line != '\0';) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(line[0] == '#' ||
                    (strncmp(line, "lookout_", 8) == 0 && memchr(line, ' ', (size_t)(nl - line))));
        line = nl + 1;
    }
    lo_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type),   cmocka_unit_test(test_content_encoding),
        cmocka_unit_test(test_content_length), cmocka_unit_test(test_addr),
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
