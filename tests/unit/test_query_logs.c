/*
 * test_query_logs.c — GET /api/observe/logs, /traces and /traces/{id}
 * against a real PostgreSQL: contents, ordering, paging, filters, the
 * authorization matrix and bad parameters.
 */
#include "query_harness.h"

#include "query/query_internal.h"

#define PA "aaaaaaaa-0000-4000-8000-000000000001"
#define PB "bbbbbbbb-0000-4000-8000-000000000002"
#define PP "cccccccc-0000-4000-8000-000000000003" /* public */
#define PX "dddddddd-0000-4000-8000-000000000004" /* does not exist */
#define S1 "5e551000-0000-4000-8000-000000000001"
#define T1 "0af7651916cd43dd8448eb211c80319c"
#define T2 "0af7651916cd43dd8448eb211c80319d"
#define T3 "0af7651916cd43dd8448eb211c80319e"
#define T4 "0af7651916cd43dd8448eb211c80319f"

static int64_t base;
static char from_s[32], to_s[32];
static lo_principal_t who_all, who_a, who_b, who_ab, who_none, who_admin;

static void ins_log(int i, const char *project, const char *service, const char *level, const char *msg,
                    const char *session, const char *trace)
{
    char sql[1024], proj[64] = "NULL", sess[64] = "NULL", tr[80] = "NULL";
    if (project)
        snprintf(proj, sizeof proj, "'%s'", project);
    if (session)
        snprintf(sess, sizeof sess, "'%s'", session);
    if (trace)
        snprintf(tr, sizeof tr, "decode('%s','hex')", trace);
    snprintf(sql, sizeof sql,
             "INSERT INTO log_entries (time, observed_time, id, project_id, session_id, trace_id, span_id, "
             "service, "
             "level, severity_number, severity_text, message, attributes, resource) VALUES ("
             "'epoch'::timestamptz + %lld * interval '1 microsecond', NULL, gen_random_uuid(), %s, %s, %s, "
             "decode('00f067aa0ba902b7','hex'), '%s', '%s', 9, 'INFO', '%s', '{\"i\": %d}', "
             "'{\"service.name\": \"%s\"}')",
             (long long)(base + (int64_t)i * 1000000), proj, sess, tr, service, level, msg, i, service);
    tq_exec(sql);
}

static void ins_span(const char *trace, const char *span, const char *parent, const char *project,
                     int64_t off_us, int64_t dur_us, const char *name, int kind, int status,
                     const char *events)
{
    char sql[1400], proj[64] = "NULL", par[64] = "NULL";
    if (project)
        snprintf(proj, sizeof proj, "'%s'", project);
    if (parent)
        snprintf(par, sizeof par, "decode('%s','hex')", parent);
    int64_t st = base + off_us;
    snprintf(
        sql, sizeof sql,
        "INSERT INTO spans (start_time, end_time, duration_ns, trace_id, span_id, parent_span_id, "
        "project_id, "
        "session_id, service, name, kind, status_code, status_message, attributes, events, links) VALUES ("
        "'epoch'::timestamptz + %lld * interval '1 microsecond', "
        "'epoch'::timestamptz + %lld * interval '1 microsecond', %lld, decode('%s','hex'), "
        "decode('%s','hex'), "
        "%s, %s, NULL, 'api', '%s', %d, %d, %s, '{\"http.route\": \"/\"}', %s, '[]')",
        (long long)st, (long long)(st + dur_us), (long long)dur_us * 1000, trace, span, par, proj, name, kind,
        status, status == 2 ? "'boom'" : "NULL", events ? events : "NULL");
    tq_exec(sql);
}

static void ins_trace(const char *trace, const char *project, int64_t off_us, const char *root, int status,
                      int spans, int errors, const char *service)
{
    char sql[1024], proj[64] = "NULL";
    if (project)
        snprintf(proj, sizeof proj, "'%s'", project);
    snprintf(sql, sizeof sql,
             "INSERT INTO traces (trace_id, project_id, session_id, service, root_span_name, start_time, "
             "end_time, "
             "status_code, span_count, error_count) VALUES (decode('%s','hex'), %s, %s, '%s', '%s', "
             "'epoch'::timestamptz + %lld * interval '1 microsecond', "
             "'epoch'::timestamptz + %lld * interval '1 microsecond', %d, %d, %d)",
             trace, proj, strcmp(trace, T1) == 0 ? "'" S1 "'" : "NULL", service, root,
             (long long)(base + off_us), (long long)(base + off_us + 100000), status, spans, errors);
    tq_exec(sql);
}

static int setup(void **state)
{
    (void)state;
    tq_db_create("logs");
    base = tq_base_us(30);
    lo_q_fmt_time(base - 60000000, from_s);
    lo_q_fmt_time(base + 3540000000LL, to_s); /* one hour in all: short q allowed */
    tq_exec("INSERT INTO projects (id, name, public) VALUES ('" PA "', 'a', false), ('" PB "', 'b', false), "
            "('" PP "', 'p', true)");
    ins_log(0, PA, "api", "info", "hello world 0", S1, T1);
    ins_log(1, PA, "api", "error", "HELLO failure 1", S1, NULL);
    ins_log(2, PA, "web", "info", "100% done_ok", NULL, NULL);
    ins_log(3, PA, "web", "debug", "plain 3", NULL, NULL);
    ins_log(4, PA, "api", "warn", "hello again 4", NULL, T1);
    ins_log(5, PB, "api", "info", "secret b hello", NULL, NULL);
    ins_log(6, PB, "api", "error", "secret b 6", NULL, NULL);
    ins_log(7, PB, "web", "info", "secret b 7", NULL, NULL);
    ins_log(8, PP, "api", "info", "public hello 8", NULL, NULL);
    ins_log(9, PP, "web", "info", "public 9", NULL, NULL);
    ins_log(10, NULL, "api", "info", "nobody hello 10", NULL, NULL);

    ins_span(T1, "0000000000000001", NULL, PA, 0, 100000, "GET /", 2, 0, NULL);
    ins_span(T1, "0000000000000002", "0000000000000001", PA, 10000, 30000, "db", 3, 2,
             "'[{\"name\": \"retry\", \"time_unix_nano\": \"1\"}]'");
    ins_span(T1, "0000000000000003", "0000000000000002", PA, 15000, 5000, "query", 1, 0, NULL);
    ins_span(T1, "0000000000000004", "0000000000000001", PA, 50000, 20000, "render", 1, 1, NULL);
    ins_span(T1, "0000000000000004", "0000000000000001", PA, 50000, 20000, "render", 1, 1, NULL); /* retry */
    ins_span(T1, "0000000000000005", "ffffffffffffffff", PA, 5000, 1000, "late", 1, 0, NULL);
    ins_span(T2, "0000000000000011", NULL, PB, 1000000, 1000, "secret", 2, 1, NULL);
    ins_span(T3, "0000000000000021", NULL, PP, 2000000, 1000, "public", 2, 0, NULL);
    ins_span(T4, "0000000000000031", "0000000000000032", NULL, 3000000, 1000, "x", 1, 0, NULL);
    ins_span(T4, "0000000000000032", "0000000000000031", NULL, 3000100, 1000, "y", 1, 0, NULL);
    ins_trace(T1, PA, 0, "GET /", 2, 5, 1, "api");
    ins_trace(T2, PB, 1000000, "secret", 1, 1, 0, "api");
    ins_trace(T3, PP, 2000000, "public", 0, 1, 0, "web");
    ins_trace(T4, NULL, 3000000, "x", 0, 2, 0, "api");

    who_all = tq_principal(LO_SCOPE_OBSERVE_READ, NULL, NULL);
    who_a = tq_principal(LO_SCOPE_OBSERVE_READ, PA, NULL);
    who_b = tq_principal(LO_SCOPE_OBSERVE_READ, PB, NULL);
    who_ab = tq_principal(LO_SCOPE_OBSERVE_READ | LO_SCOPE_INGEST, PA, PB);
    who_none = tq_principal(LO_SCOPE_INGEST, NULL, NULL);
    who_admin = tq_principal(LO_SCOPE_ADMIN, PA, NULL);
    return 0;
}

/* The "i" attribute of every returned log, in order, as a string "10,9,...". */
static void log_ids(tq_resp_t *r, char *out, size_t cap)
{
    tq_expect_ok(r);
    json_t *logs = json_object_get(r->json, "logs");
    assert_true(json_is_array(logs));
    size_t i, o = 0;
    json_t *e;
    out[0] = '\0';
    json_array_foreach(logs, i, e)
    {
        json_t *a = json_object_get(e, "attributes");
        o += (size_t)snprintf(out + o, cap - o, "%s%lld", i ? "," : "",
                              (long long)json_integer_value(json_object_get(a, "i")));
    }
}

#define EXPECT_LOGS(want, who, ...)                                                                       \
    do {                                                                                                  \
        tq_resp_t r_ = tq_get(who, "/api/observe/logs", "from", from_s, "to", to_s, ##__VA_ARGS__, NULL); \
        char got_[256];                                                                                   \
        log_ids(&r_, got_, sizeof got_);                                                                  \
        assert_string_equal(got_, want);                                                                  \
        tq_resp_free(&r_);                                                                                \
    } while (0)

static void test_logs_order_and_fields(void **state)
{
    (void)state;
    EXPECT_LOGS("10,9,8,7,6,5,4,3,2,1,0", &who_all);
    tq_resp_t r =
        tq_get(&who_all, "/api/observe/logs", "from", from_s, "to", to_s, "limit", "1", "offset", "10", NULL);
    tq_expect_ok(&r);
    json_t *e = json_array_get(json_object_get(r.json, "logs"), 0);
    char want_time[32];
    lo_q_fmt_time(base, want_time);
    assert_string_equal(json_string_value(json_object_get(e, "time")), want_time);
    assert_int_equal(json_integer_value(json_object_get(e, "time_unix_ms")), base / 1000);
    assert_true(strlen(want_time) == 27 && want_time[19] == '.' && want_time[26] == 'Z');
    assert_string_equal(json_string_value(json_object_get(e, "trace_id")), T1);
    assert_string_equal(json_string_value(json_object_get(e, "span_id")), "00f067aa0ba902b7");
    assert_string_equal(json_string_value(json_object_get(e, "project_id")), PA);
    assert_string_equal(json_string_value(json_object_get(e, "session_id")), S1);
    assert_true(json_is_null(json_object_get(e, "user_id")));
    assert_string_equal(json_string_value(json_object_get(e, "message")), "hello world 0");
    assert_string_equal(json_string_value(json_object_get(e, "level")), "info");
    assert_int_equal(json_integer_value(json_object_get(e, "severity_number")), 9);
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "resource"), "service.name")),
                        "api");
    assert_false(json_is_true(json_object_get(r.json, "has_more")));
    tq_resp_free(&r);
}

static void test_logs_filters(void **state)
{
    (void)state;
    EXPECT_LOGS("10,8,5,4,1,0", &who_all, "q", "hello");
    EXPECT_LOGS("10,8,5,4,1,0", &who_all, "q", "HeLLo");
    EXPECT_LOGS("2", &who_all, "q", "100%");
    EXPECT_LOGS("2", &who_all, "q", "%");
    EXPECT_LOGS("2", &who_all, "q", "_");
    EXPECT_LOGS("", &who_all, "q", "hello%world");
    EXPECT_LOGS("6,1", &who_all, "level", "error");
    EXPECT_LOGS("6,4,1", &who_all, "level", "error,WARN");
    EXPECT_LOGS("9,7,3,2", &who_all, "service", "web");
    EXPECT_LOGS("1,0", &who_all, "session_id", S1);
    EXPECT_LOGS("4,0", &who_all, "trace_id", T1);
    EXPECT_LOGS("4,0", &who_all, "trace_id", "0AF7651916CD43DD8448EB211C80319C");
    EXPECT_LOGS("1", &who_all, "service", "api", "level", "error", "project_id", PA);
    EXPECT_LOGS("", &who_all, "service", "'; DROP TABLE log_entries; --");
    EXPECT_LOGS("", &who_all, "q", "' OR '1'='1");
    EXPECT_LOGS("10,9,8,7,6,5,4,3,2,1,0", &who_all); /* the table is still there */
    /* time window: only i = 2..4 (to is exclusive) */
    char f[32], t[32];
    lo_q_fmt_time(base + 2000000, f);
    lo_q_fmt_time(base + 5000000, t);
    tq_resp_t r = tq_get(&who_all, "/api/observe/logs", "from", f, "to", t, NULL);
    char got[64];
    log_ids(&r, got, sizeof got);
    assert_string_equal(got, "4,3,2");
    tq_resp_free(&r);
    /* the same window in Unix milliseconds */
    char fm[24], tm[24];
    snprintf(fm, sizeof fm, "%lld", (long long)(base + 2000000) / 1000);
    snprintf(tm, sizeof tm, "%lld", (long long)(base + 5000000) / 1000);
    r = tq_get(&who_all, "/api/observe/logs", "from", fm, "to", tm, NULL);
    log_ids(&r, got, sizeof got);
    assert_string_equal(got, "4,3,2");
    tq_resp_free(&r);
}

static void test_logs_paging(void **state)
{
    (void)state;
    tq_resp_t r = tq_get(&who_all, "/api/observe/logs", "from", from_s, "to", to_s, "limit", "3", NULL);
    char got[64];
    log_ids(&r, got, sizeof got);
    assert_string_equal(got, "10,9,8");
    assert_true(json_is_true(json_object_get(r.json, "has_more")));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "from", from_s, "to", to_s, "limit", "3", "offset", "3", NULL);
    log_ids(&r, got, sizeof got);
    assert_string_equal(got, "7,6,5");
    assert_true(json_is_true(json_object_get(r.json, "has_more")));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "from", from_s, "to", to_s, "limit", "3", "offset", "8", NULL);
    log_ids(&r, got, sizeof got);
    assert_string_equal(got, "2,1,0");
    assert_false(json_is_true(json_object_get(r.json, "has_more")));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "from", from_s, "to", to_s, "offset", "100000", NULL);
    log_ids(&r, got, sizeof got);
    assert_string_equal(got, "");
    tq_resp_free(&r);
}

static void test_logs_authorization(void **state)
{
    (void)state;
    /* bound tokens never see other projects' or project-less records */
    EXPECT_LOGS("9,8,4,3,2,1,0", &who_a);
    EXPECT_LOGS("9,8,7,6,5", &who_b);
    EXPECT_LOGS("9,8,7,6,5,4,3,2,1,0", &who_ab);
    EXPECT_LOGS("9,8,4,3,2,1,0", &who_admin);
    EXPECT_LOGS("8,4,1,0", &who_a, "q", "hello");
    EXPECT_LOGS("4,3,2,1,0", &who_a, "project_id", PA);
    EXPECT_LOGS("9,8", &who_a, "project_id", PP);
    EXPECT_LOGS("7,6,5", &who_all, "project_id", PB);
    EXPECT_LOGS("", &who_all, "project_id", PX);
    EXPECT_LOGS("", &who_a, "session_id", S1, "project_id", PP);
    EXPECT_LOGS("", &who_b, "session_id", S1);
    /* another project: 404, the same answer as a project that does not exist */
    const char *ids[] = { PB, PX };
    for (int i = 0; i < 2; i++) {
        tq_resp_t r = tq_get(&who_a, "/api/observe/logs", "project_id", ids[i], NULL);
        tq_expect_error(&r, 404);
        assert_null(strstr(r.text, "secret"));
        tq_resp_free(&r);
    }
    /* no observe:read: 403 */
    tq_resp_t r = tq_get(&who_none, "/api/observe/logs", NULL);
    tq_expect_error(&r, 403);
    tq_resp_free(&r);
    r = tq_get(&who_none, "/api/observe/traces/" T1, NULL);
    tq_expect_error(&r, 403);
    tq_resp_free(&r);
}

static void test_logs_bad_params(void **state)
{
    (void)state;
    char longq[1100];
    memset(longq, 'x', 1001);
    longq[1001] = '\0';
    const char *bad[][2] = {
        { "limit", "0" },
        { "limit", "1001" },
        { "limit", "abc" },
        { "limit", "-1" },
        { "limit", "" },
        { "offset", "-1" },
        { "offset", "100001" },
        { "offset", "1e3" },
        { "project_id", "xyz" },
        { "project_id", PA "0" },
        { "session_id", "5e551000-0000-4000-8000-00000000000g" },
        { "trace_id", "zz" },
        { "trace_id", "00000000000000000000000000000000" },
        { "trace_id", T1 "00" },
        { "q", "" },
        { "q", longq },
        { "level", "a b" },
        { "level", "" },
        { "level", "info,,error" },
        { "service", "" },
        { "from", "yesterday" },
        { "from", "2026-13-01T00:00:00Z" },
        { "from", "2026-02-30T00:00:00Z" },
        { "to", "2026-11-28T25:00:00Z" },
        { "to", "2026-11-28T10:00:00" },
        { "from", "1e12" },
        { "to", "99999999999999999" },
        { "bogus", "1" },
        { "Limit", "10" },
        { "q", "\xff\xfe" },
        { "service", "a\xc3" },
        { "\xff", "1" },
        { "q", NULL /* %00 inside: api.h */ },
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
        tq_resp_t r = tq_get(&who_all, "/api/observe/logs", bad[i][0], bad[i][1], NULL);
        if (r.status != 400)
            fprintf(stderr, "case %zu (%s=%.20s)\n", i, bad[i][0], bad[i][1]);
        tq_expect_error(&r, 400);
        tq_resp_free(&r);
    }
    /* from after to, range over 31 days, repeated parameter */
    tq_resp_t r = tq_get(&who_all, "/api/observe/logs", "from", to_s, "to", from_s, NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "from must be earlier"));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "from", "2026-01-01T00:00:00Z", "to", "2026-02-02T00:00:00Z",
               NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "31 days"));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "limit", "1", "limit", "2", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "more than once"));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "servce", "api", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "servce"));
    tq_resp_free(&r);
    /* a q the trigram index cannot serve scans at most 1 hour */
    r = tq_get(&who_all, "/api/observe/logs", "q", "ab", "from", "2026-01-01T00:00:00Z", "to",
               "2026-01-01T02:00:00Z", NULL);
    assert_non_null(strstr(tq_expect_error(&r, 400), "at most 1 hour"));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "q", "\xc3\xa9\xc3\xa9", "from", "2026-01-01T00:00:00Z", "to",
               "2026-01-01T02:00:00Z", NULL); /* two characters, four bytes */
    assert_non_null(strstr(tq_expect_error(&r, 400), "at most 1 hour"));
    tq_resp_free(&r);
    r = tq_get(&who_all, "/api/observe/logs", "q", "abc", "from", "2026-01-01T00:00:00Z", "to",
               "2026-01-01T02:00:00Z", NULL);
    assert_int_equal(r.status, 200);
    tq_resp_free(&r);
    /* exactly 31 days and 1000 characters are accepted */
    r = tq_get(&who_all, "/api/observe/logs", "from", "2026-01-01T00:00:00Z", "to",
               "2026-02-01T00:00:00+00:00", "q", longq + 1, NULL);
    tq_expect_ok(&r);
    tq_resp_free(&r);
    /* the wrong method, an unknown path */
    lo_api_req_t req = { .method = "POST", .path = "/api/observe/logs", .who = &who_all, .db = tq_db };
    lo_api_resp_t resp = { 0 };
    lo_buf_init(&resp.body, 1 << 20);
    assert_int_equal(lo_query_handle(&req, &resp), LO_OK);
    assert_int_equal(resp.status, 405);
    req.method = "GET";
    req.path = "/api/observe/nothing";
    assert_int_equal(lo_query_handle(&req, &resp), LO_DECLINED);
    req.path = "/api/observe/logs/tail";
    assert_int_equal(lo_query_handle(&req, &resp), LO_DECLINED);
    lo_buf_free(&resp.body);
}

static void test_time_parsing(void **state)
{
    (void)state;
    int64_t us;
    assert_int_equal(lo_q_parse_time("1970-01-01T00:00:00Z", &us), LO_OK);
    assert_int_equal(us, 0);
    assert_int_equal(lo_q_parse_time("2026-11-28T07:38:54.123456789Z", &us), LO_OK);
    assert_int_equal(us, 1795851534123456LL);
    assert_int_equal(lo_q_parse_time("2026-11-28T09:38:54.5+02:00", &us), LO_OK);
    assert_int_equal(us, 1795851534500000LL);
    assert_int_equal(lo_q_parse_time("2026-11-28t07:38:54z", &us), LO_OK);
    assert_int_equal(lo_q_parse_time("2024-02-29T00:00:00Z", &us), LO_OK);
    assert_int_equal(lo_q_parse_time("2023-02-29T00:00:00Z", &us), LO_INVALID);
    assert_int_equal(lo_q_parse_time("1795851534123", &us), LO_OK);
    assert_int_equal(us, 1795851534123000LL);
    assert_int_equal(lo_q_parse_time("2026-11-28T07:38:54.Z", &us), LO_INVALID);
    assert_int_equal(lo_q_parse_time("2026-11-28T07:38:54+0200", &us), LO_INVALID);
    assert_int_equal(lo_q_parse_time("2026-11-28T07:38:54Z ", &us), LO_INVALID);
    assert_int_equal(lo_q_parse_time("", &us), LO_INVALID);
    char t[32];
    lo_q_fmt_time(1795851534123456LL, t);
    assert_string_equal(t, "2026-11-28T07:38:54.123456Z");
    char u[37];
    assert_int_equal(lo_q_parse_uuid("AAAAAAAA-0000-4000-8000-00000000000F", u), LO_OK);
    assert_string_equal(u, "aaaaaaaa-0000-4000-8000-00000000000f");
    assert_int_equal(lo_q_parse_uuid("aaaaaaaa00000-4000-8000-00000000000f", u), LO_INVALID);
}

/* ---- traces ---- */

static void trace_ids(tq_resp_t *r, char *out, size_t cap)
{
    tq_expect_ok(r);
    json_t *a = json_object_get(r->json, "traces"), *e;
    size_t i, o = 0;
    out[0] = '\0';
    json_array_foreach(a, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "trace_id"));
        o += (size_t)snprintf(out + o, cap - o, "%s%c", i ? "," : "", id[31]);
    }
}

#define EXPECT_TRACES(want, who, ...)                                                                       \
    do {                                                                                                    \
        tq_resp_t r_ = tq_get(who, "/api/observe/traces", "from", from_s, "to", to_s, ##__VA_ARGS__, NULL); \
        char got_[128];                                                                                     \
        trace_ids(&r_, got_, sizeof got_);                                                                  \
        assert_string_equal(got_, want);                                                                    \
        tq_resp_free(&r_);                                                                                  \
    } while (0)

static void test_traces_list(void **state)
{
    (void)state;
    EXPECT_TRACES("f,e,d,c", &who_all);
    EXPECT_TRACES("e,c", &who_a);
    EXPECT_TRACES("e,d", &who_b);
    EXPECT_TRACES("c", &who_all, "status", "error");
    EXPECT_TRACES("d", &who_all, "status", "ok");
    EXPECT_TRACES("f,e", &who_all, "status", "unset");
    EXPECT_TRACES("e", &who_all, "service", "web");
    EXPECT_TRACES("c", &who_a, "session_id", S1);
    EXPECT_TRACES("", &who_b, "session_id", S1);
    EXPECT_TRACES("e", &who_b, "project_id", PP);
    tq_resp_t r = tq_get(&who_all, "/api/observe/traces", "from", from_s, "to", to_s, "limit", "2", NULL);
    char got[64];
    trace_ids(&r, got, sizeof got);
    assert_string_equal(got, "f,e");
    assert_true(json_is_true(json_object_get(r.json, "has_more")));
    tq_resp_free(&r);
    r = tq_get(&who_a, "/api/observe/traces", "from", from_s, "to", to_s, NULL);
    json_t *t = json_array_get(json_object_get(r.json, "traces"), 1);
    assert_string_equal(json_string_value(json_object_get(t, "trace_id")), T1);
    assert_string_equal(json_string_value(json_object_get(t, "root_span_name")), "GET /");
    assert_string_equal(json_string_value(json_object_get(t, "status")), "error");
    assert_int_equal(json_integer_value(json_object_get(t, "span_count")), 5);
    assert_int_equal(json_integer_value(json_object_get(t, "error_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(t, "duration_ns")), 100000000);
    assert_int_equal(json_integer_value(json_object_get(t, "start_unix_ms")), base / 1000);
    tq_resp_free(&r);

    r = tq_get(&who_a, "/api/observe/traces", "project_id", PB, NULL);
    tq_expect_error(&r, 404);
    tq_resp_free(&r);
    const char *bad[][2] = { { "status", "failed" }, { "limit", "0" },         { "service", "" },
                             { "trace_id", T1 },     { "session_id", "nope" }, { "to", "tomorrow" } };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
        r = tq_get(&who_all, "/api/observe/traces", bad[i][0], bad[i][1], NULL);
        tq_expect_error(&r, 400);
        tq_resp_free(&r);
    }
}

static json_t *child(json_t *span, size_t i)
{
    return json_array_get(json_object_get(span, "children"), i);
}

static const char *name_of(json_t *span)
{
    return json_string_value(json_object_get(span, "name"));
}

static void test_trace_tree(void **state)
{
    (void)state;
    tq_resp_t r = tq_get(&who_a, "/api/observe/traces/" T1, NULL);
    tq_expect_ok(&r);
    json_t *j = r.json;
    assert_string_equal(json_string_value(json_object_get(j, "trace_id")), T1);
    assert_int_equal(json_integer_value(json_object_get(j, "span_count")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "error_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "orphan_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "duration_ns")), 100000000);
    assert_string_equal(json_string_value(json_object_get(j, "root_span_name")), "GET /");
    json_t *spans = json_object_get(j, "spans");
    assert_int_equal(json_array_size(spans), 2);
    json_t *root = json_array_get(spans, 0), *orphan = json_array_get(spans, 1);
    assert_string_equal(name_of(root), "GET /");
    assert_false(json_is_true(json_object_get(root, "orphan")));
    assert_string_equal(json_string_value(json_object_get(root, "kind")), "server");
    assert_string_equal(name_of(orphan), "late");
    assert_true(json_is_true(json_object_get(orphan, "orphan")));
    assert_int_equal(json_integer_value(json_object_get(orphan, "depth")), 0);
    assert_int_equal(json_integer_value(json_object_get(orphan, "offset_ns")), 5000000);
    assert_int_equal(json_array_size(json_object_get(root, "children")), 2);
    json_t *db = child(root, 0), *render = child(root, 1);
    assert_string_equal(name_of(db), "db");
    assert_string_equal(name_of(render), "render");
    assert_string_equal(json_string_value(json_object_get(db, "status")), "error");
    assert_string_equal(json_string_value(json_object_get(db, "status_message")), "boom");
    assert_string_equal(json_string_value(json_object_get(db, "kind")), "client");
    assert_string_equal(json_string_value(json_object_get(db, "parent_span_id")), "0000000000000001");
    assert_int_equal(json_integer_value(json_object_get(db, "depth")), 1);
    assert_int_equal(json_integer_value(json_object_get(db, "offset_ns")), 10000000);
    assert_int_equal(json_integer_value(json_object_get(db, "duration_ns")), 30000000);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(db, "events"), 0), "name")),
        "retry");
    assert_string_equal(json_string_value(json_object_get(json_object_get(db, "attributes"), "http.route")),
                        "/");
    assert_string_equal(json_string_value(json_object_get(render, "status")), "ok");
    json_t *q = child(db, 0);
    assert_string_equal(name_of(q), "query");
    assert_int_equal(json_integer_value(json_object_get(q, "depth")), 2);
    assert_int_equal(json_array_size(json_object_get(q, "children")), 0);
    tq_resp_free(&r);

    /* a cycle does not hide spans */
    r = tq_get(&who_all, "/api/observe/traces/" T4, NULL);
    tq_expect_ok(&r);
    spans = json_object_get(r.json, "spans");
    assert_int_equal(json_array_size(spans), 1);
    assert_string_equal(name_of(json_array_get(spans, 0)), "x");
    assert_string_equal(name_of(child(json_array_get(spans, 0), 0)), "y");
    tq_resp_free(&r);

    /* visibility: another project's trace is "not found", like an unknown one */
    const char *cases[][2] = {
        { T2, "404" }, { T4, "404" }, { T3, "200" }, { "0af7651916cd43dd8448eb211c803100", "404" }
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/observe/traces/%s", cases[i][0]);
        r = tq_get(&who_a, path, NULL);
        assert_int_equal(r.status, atoi(cases[i][1]));
        assert_null(strstr(r.text, "secret"));
        tq_resp_free(&r);
    }
    r = tq_get(&who_b, "/api/observe/traces/" T2, NULL);
    tq_expect_ok(&r);
    tq_resp_free(&r);
    const char *badpaths[] = { "/api/observe/traces/xyz", "/api/observe/traces/" T1 "0",
                               "/api/observe/traces/00000000000000000000000000000000",
                               "/api/observe/traces/0af7651916cd43dd8448eb211c80319\xff" };
    for (size_t i = 0; i < LO_ARRAY_LEN(badpaths); i++) {
        r = tq_get(&who_all, badpaths[i], NULL);
        tq_expect_error(&r, 400);
        tq_resp_free(&r);
    }
    r = tq_get(&who_all, "/api/observe/traces/" T1, "limit", "1", NULL);
    tq_expect_error(&r, 400);
    tq_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parsing),       cmocka_unit_test(test_logs_order_and_fields),
        cmocka_unit_test(test_logs_filters),       cmocka_unit_test(test_logs_paging),
        cmocka_unit_test(test_logs_authorization), cmocka_unit_test(test_logs_bad_params),
        cmocka_unit_test(test_traces_list),        cmocka_unit_test(test_trace_tree),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
