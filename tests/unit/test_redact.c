/*
 * test_redact.c — the redaction rules (src/otlp/redact.c, docs/auth.md
 * "Redaction"): keys by segment, URLs and connection strings, free text,
 * and both decoders applying them alike.
 */
#include "pb_oracle.h"
#include "json_equiv.h"

#include "core/config.h"

/* The rules as lookout serve has them by default. */
static lo_redact_t *defaults(void)
{
    lo_config_t cfg;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    lo_redact_t *r = lo_redact_from_config(&cfg);
    assert_non_null(r);
    lo_config_free(&cfg);
    return r;
}

static bool key_is(const lo_redact_t *r, const char *k)
{
    return lo_redact_match(r, k, strlen(k));
}

static void test_key_segments(void **state)
{
    (void)state;
    lo_redact_t *r = defaults();
    static const char *const secret[] = {
        "db.password",
        "user.password",
        "client_secret",
        "clientSecret",
        "access_token",
        "refresh_token",
        "aws_secret_access_key",
        "private_key",
        "privateKey",
        "PRIVATE_KEY",
        "x-auth-token",
        "proxy-authorization",
        "rpc.grpc.request.metadata.authorization",
        "http.request.header.authorization",
        "HTTP.REQUEST.HEADER.X-API-KEY",
        "http.response.header.set-cookie",
        "Authorization",
        "apiKey",
        "API_KEY",
        "X_API_KEY",
        "xApiKey",
        "apikey",
        "SECRET_KEY",
        "user[password]",
        "auth.jwt",
        "aws.credentials",
        "gpg.passphrase",
        "passwd",
        "session_token",
        "oauth2Token",
        "Cookie",
        /* padded with spaces and zero-width characters, anywhere */
        " password ",
        "password\t",
        "\xE2\x80\x8Bpassword",
        "pass\xE2\x80\x8Cword",
        "password\xEF\xBB\xBF",
        "api\xE2\x81\xA0_key",
        "to\xC2\xADken",
        "\xE2\x80\x8D"
        "Authorization\xE2\x80\x8B",
        "http.request.header.\xE2\x80\x8B"
        "cookie",
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(secret); i++)
        if (!key_is(r, secret[i]))
            fail_msg("\"%s\" should be redacted", secret[i]);
    static const char *const innocent[] = {
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "tokenizer",
        "tokens",
        "http.response.status_code",
        "session.id",
        "secretary.name",
        "secretary",
        "llm.token_count.prompt",
        "gen_ai.token.type",
        "secret.name",
        "k8s.secret.name",
        "token_expires_at",
        "password_length",
        "api_key_id",
        "passwords",
        "cookies",
        "http.request.header.",
        "",
        "user",
        "service.name",
        "keyboard",
        "passwordless",
        "http.method",
        "db.system.name",
        "url.full",
        "ключ",
        "\xff\xfe",
        "pass word",
        "a\"b",
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(innocent); i++)
        if (key_is(r, innocent[i]))
            fail_msg("\"%s\" should not be redacted", innocent[i]);
    lo_redact_destroy(r);
    lo_redact_destroy(NULL);
    assert_false(lo_redact_match(NULL, "password", 8));
}

/* Entries are runs of segments, whatever separators the list and the key use. */
static void test_key_entries(void **state)
{
    (void)state;
    lo_redact_t *r = lo_redact_create(" X-Api-Key , ,Cookie");
    assert_non_null(r);
    assert_true(key_is(r, "x_api_key"));
    assert_true(key_is(r, "xApiKey"));
    assert_true(key_is(r, "X.API.KEY"));
    assert_true(key_is(r, "my-x-api-key-header"));
    assert_false(key_is(r, "api_key")); /* a part of an entry is not the entry */
    assert_false(key_is(r, "xapikey")); /* one segment is not three */
    assert_true(key_is(r, "http.response.header.COOKIE"));
    assert_false(key_is(r, "cookie.count"));
    lo_redact_destroy(r);

    /* the first three characters of an entry may span segments */
    r = lo_redact_create("a.b,id");
    assert_true(key_is(r, "x.a-b"));
    assert_true(key_is(r, "aB"));
    assert_false(key_is(r, "ab"));
    assert_true(key_is(r, "user.id"));
    assert_true(key_is(r, "ID"));
    assert_false(key_is(r, "idle"));
    lo_redact_destroy(r);

    /* long keys and long entries */
    static const char longk[] = "a-very-long-header-name-that-someone-deny-listed-for-good-reasons-x";
    char list[128];
    snprintf(list, sizeof(list), "token,%s", longk);
    r = lo_redact_create(list);
    assert_non_null(r);
    assert_true(lo_redact_match(r, longk, strlen(longk)));
    assert_false(lo_redact_match(r, longk, strlen(longk) - 1));
    assert_true(key_is(r, "Token"));
    char big[2000];
    memset(big, 'a', sizeof(big));
    memcpy(big + 1000, ".token.", 7);
    assert_true(lo_redact_match(r, big, sizeof(big)));
    big[1001] = 'x';
    assert_false(lo_redact_match(r, big, sizeof(big)));
    lo_redact_destroy(r);

    /* an empty list redacts nothing */
    r = lo_redact_create("");
    assert_false(key_is(r, "password"));
    lo_redact_destroy(r);
}

static void test_key_modes(void **state)
{
    (void)state;
    lo_redact_t *r = defaults();
    assert_int_equal(lo_redact_key(r, "url.full", 8), LO_REDACT_URL);
    assert_int_equal(lo_redact_key(r, "URL.Full", 8), LO_REDACT_URL);
    assert_int_equal(lo_redact_key(r, "db.connection_string", 20), LO_REDACT_URL);
    assert_int_equal(lo_redact_key(r, "exception.message", 17), LO_REDACT_TEXT);
    assert_int_equal(lo_redact_key(r, "url.full.x", 10), LO_REDACT_KEEP);
    assert_int_equal(lo_redact_key(r, "db.password", 11), LO_REDACT_VALUE);
    assert_int_equal(lo_redact_text_mode(r), LO_REDACT_TEXT);
    assert_int_equal(lo_redact_key(NULL, "url.full", 8), LO_REDACT_KEEP);
    assert_int_equal(lo_redact_text_mode(NULL), LO_REDACT_KEEP);
    lo_redact_destroy(r);

    /* redact_patterns=0: no free text, URLs still */
    lo_redact_conf_t c = { .keys = "token", .url_keys = "u", .text_keys = "t", .patterns = false };
    r = lo_redact_new(&c);
    assert_int_equal(lo_redact_key(r, "u", 1), LO_REDACT_URL);
    assert_int_equal(lo_redact_key(r, "t", 1), LO_REDACT_KEEP);
    assert_int_equal(lo_redact_text_mode(r), LO_REDACT_KEEP);
    /* the deny-list wins over the lists */
    c = (lo_redact_conf_t){ .keys = "token", .url_keys = "token", .text_keys = "t", .patterns = true };
    lo_redact_destroy(r);
    r = lo_redact_new(&c);
    assert_int_equal(lo_redact_key(r, "token", 5), LO_REDACT_VALUE);
    assert_int_equal(lo_redact_key(r, "T", 1), LO_REDACT_TEXT);
    lo_redact_destroy(r);
}

/* Scrubs s; NULL when nothing was replaced.  Also checks the invariants:
 * bounded growth, and scrubbing the result again changes nothing. */
static char *scrub(const lo_redact_t *r, lo_redact_mode_t mode, const char *s)
{
    static char keep[4][1024];
    static int next;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    size_t n = strlen(s), count = lo_redact_scrub(r, mode, s, n, &b);
    if (count == 0) {
        assert_int_equal(b.len, 0);
        lo_buf_free(&b);
        return NULL;
    }
    assert_int_equal(b.err, LO_OK);
    assert_true(count <= n / 2);
    assert_true(b.len <= n + 9 * count);
    lo_buf_t again;
    lo_buf_init(&again, 0);
    if (lo_redact_scrub(r, mode, b.p, b.len, &again) > 0 &&
        (again.len != b.len || memcmp(again.p, b.p, b.len) != 0))
        fail_msg("not idempotent: \"%s\" -> \"%.*s\" -> \"%.*s\"", s, (int)b.len, b.p, (int)again.len,
                 again.p);
    lo_buf_free(&again);
    char *out = keep[next++ % 4];
    assert_true(b.len < sizeof(keep[0]));
    memcpy(out, b.p, b.len);
    out[b.len] = '\0';
    lo_buf_free(&b);
    return out;
}

#define SCRUBS(r, mode, in, want)                                                                          \
    do {                                                                                                   \
        char *got_ = scrub((r), (mode), (in));                                                             \
        if (got_ == NULL || strcmp(got_, (want)) != 0)                                                     \
            fail_msg("scrub(\"%s\"): got \"%s\", want \"%s\"", (in), got_ ? got_ : "(unchanged)", (want)); \
    } while (0)

#define KEEPS(r, mode, in)                                                        \
    do {                                                                          \
        char *got_ = scrub((r), (mode), (in));                                    \
        if (got_ != NULL)                                                         \
            fail_msg("scrub(\"%s\"): got \"%s\", want it unchanged", (in), got_); \
    } while (0)

static void test_scrub_text(void **state)
{
    (void)state;
    lo_redact_t *r = defaults();
    const lo_redact_mode_t T = LO_REDACT_TEXT;
    SCRUBS(r, T, "Authorization: Bearer abc.def-ghi", "Authorization: Bearer [REDACTED]");
    SCRUBS(r, T, "sent bearer eyJhbGciOi.J9.x_y== with it", "sent bearer [REDACTED] with it");
    SCRUBS(r, T, "BEARER\tabc1", "BEARER\t[REDACTED]");
    SCRUBS(r, T, "Bearer%20lo_abc", "Bearer%20[REDACTED]");
    SCRUBS(r, T, "login failed password=hunter2 user=bob", "login failed password=[REDACTED] user=bob");
    SCRUBS(r, T, "token: abc123, next", "token: [REDACTED], next");
    SCRUBS(r, T, "db_password = 's3 cr3t' ok", "db_password = '[REDACTED]' ok");
    SCRUBS(r, T, "{\"client_secret\":\"xyz\",\"a\":1}", "{\"client_secret\":\"[REDACTED]\",\"a\":1}");
    SCRUBS(r, T, "{\"client_secret\": \"x\\\"yz\"}", "{\"client_secret\": \"[REDACTED]\"}");
    SCRUBS(r, T, "{\\\"password\\\":\\\"x y\\\"}", "{\\\"password\\\":\\\"[REDACTED]\\\"}");
    SCRUBS(r, T, "api_key=k1&x=2;apiKey:k2", "api_key=[REDACTED]&x=2;apiKey:[REDACTED]");
    SCRUBS(r, T, "SECRET_KEY=abc;DEBUG=1", "SECRET_KEY=[REDACTED];DEBUG=1");
    SCRUBS(r, T, "headers: {'Authorization': 'Basic dXNlcjpwYXNz', 'X-Api-Key': 'k'}",
           "headers: {'Authorization': 'Basic [REDACTED]', 'X-Api-Key': '[REDACTED]'}");
    SCRUBS(r, T, "user[password]=p&go=1", "user[password]=[REDACTED]&go=1");
    SCRUBS(r, T, "export OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20lo_abc",
           "export OTEL_EXPORTER_OTLP_HEADERS=Authorization=[REDACTED]");
    SCRUBS(r, T, "connect postgres://admin:hunter2@db:5432/app failed",
           "connect postgres://[REDACTED]@db:5432/app failed");
    SCRUBS(r, T, "password=\"unterminated", "password=\"[REDACTED]");
    KEEPS(r, T, "password=");
    KEEPS(r, T, "token_count=5 tokens: 7 input_tokens=3");
    KEEPS(r, T, "status code=500 at 10:30:00, ratio 3:4, a=b, c: d");
    KEEPS(r, T, "see https://example.com/a?b=c and mailto:x@y, user@host");
    KEEPS(r, T, "the bearer of bad news; Bearer  ; bearer; bearer instrument");
    SCRUBS(r, T, "bearer abcdefghijklmnopqrstuvwxyz", "bearer [REDACTED]");
    KEEPS(r, T, "password: ");
    KEEPS(r, T, "");
    /* a secret's value is gone whatever surrounds it */
    static const char *const around[] = { "", "x", " ", "=", ":", "\"", "'", "a=b ", "Bearer", "x://", "é" };
    for (size_t i = 0; i < LO_ARRAY_LEN(around); i++) {
        char in[128];
        snprintf(in, sizeof(in), "%s password=S3CRETVALUE %s", around[i], around[i]);
        char *got = scrub(r, T, in);
        if (got == NULL || strstr(got, "S3CRETVALUE") != NULL)
            fail_msg("\"%s\" -> \"%s\"", in, got ? got : "(unchanged)");
    }
    lo_redact_destroy(r);
}

static void test_scrub_url(void **state)
{
    (void)state;
    lo_redact_t *r = defaults();
    const lo_redact_mode_t U = LO_REDACT_URL;
    SCRUBS(r, U, "https://user:pass@example.com/path?x=1", "https://[REDACTED]@example.com/path?x=1");
    SCRUBS(r, U, "https://user@example.com/", "https://[REDACTED]@example.com/");
    SCRUBS(r, U,
           "https://s3.amazonaws.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2013&"
           "X-Amz-Signature=abcdef&X-Amz-Security-Token=tok&x=1",
           "https://s3.amazonaws.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[REDACTED]&"
           "X-Amz-Signature=[REDACTED]&X-Amz-Security-Token=[REDACTED]&x=1");
    SCRUBS(r, U, "https://storage.googleapis.com/b/o?X-Goog-Signature=00ff&X-Goog-Date=1",
           "https://storage.googleapis.com/b/o?X-Goog-Signature=[REDACTED]&X-Goog-Date=1");
    SCRUBS(r, U, "https://a.blob.core.windows.net/c?sv=2020&sig=abc%3D&se=2021",
           "https://a.blob.core.windows.net/c?sv=2020&sig=[REDACTED]&se=2021");
    SCRUBS(r, U, "https://s3.amazonaws.com/b?AWSAccessKeyId=AKIA&Signature=x&Expires=1",
           "https://s3.amazonaws.com/b?AWSAccessKeyId=[REDACTED]&Signature=[REDACTED]&Expires=1");
    SCRUBS(r, U, "https://app/cb?code=4/0Ab&state=xyz", "https://app/cb?code=[REDACTED]&state=xyz");
    SCRUBS(r, U, "/search?q=shoes&apiKey=k&access_token=t#top",
           "/search?q=shoes&apiKey=[REDACTED]&access_token=[REDACTED]");
    SCRUBS(r, U, "Server=db;Database=app;User Id=sa;Password=p@ss;Encrypt=true",
           "Server=db;Database=app;User Id=sa;Password=[REDACTED];Encrypt=true");
    SCRUBS(r, U, "host=db port=5432 user=app password=secret dbname=x",
           "host=db port=5432 user=app password=[REDACTED] dbname=x");
    SCRUBS(r, U, "host=db password='a b\\' c' dbname=x", "host=db password='[REDACTED]' dbname=x");
    SCRUBS(r, U, "Driver={x};Uid=u;Pwd=p;", "Driver={x};Uid=u;Pwd=[REDACTED];");
    SCRUBS(r, U, "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=b64==;EndpointSuffix=core",
           "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=[REDACTED];EndpointSuffix=core");
    SCRUBS(r, U, "mongodb://u:p@h1,h2/db?authSource=admin", "mongodb://[REDACTED]@h1,h2/db?authSource=admin");
    /* a replacement that swallows the '/' ending an authority leaves no userinfo behind it */
    SCRUBS(r, U, "spuser://usep%q&code=4/0Ab&c@_code=de",
           "spuser://usep%q&code=[REDACTED]&c@_code=[REDACTED]");
    KEEPS(r, U, "https://app/cb?country_code=de&error_code=7&sigma=1");
    KEEPS(r, U, "https://[::1]:8080/a/b?c=d#e");
    KEEPS(r, U, "/api/orders?page=2");
    /* signature-like parameters are secrets in URLs only */
    KEEPS(r, LO_REDACT_TEXT, "https://app/cb?code=abc&sig=x");
    KEEPS(r, LO_REDACT_KEEP, "password=x");
    KEEPS(r, LO_REDACT_VALUE, "password=x");
    lo_redact_destroy(r);
}

static void test_scrub_str(void **state)
{
    (void)state;
    lo_redact_t *r = defaults();
    lo_arena_t *a = lo_arena_create(1024, 0);
    lo_buf_t scratch;
    lo_buf_init(&scratch, 0);
    const char *orig = "nothing to see";
    lo_str_t s = lo_str(orig, strlen(orig));
    assert_int_equal(lo_redact_str(r, LO_REDACT_TEXT, &scratch, a, &s), LO_OK);
    assert_ptr_equal(s.p, orig); /* untouched: still the view */
    orig = "token=abc";
    s = lo_str(orig, strlen(orig));
    assert_int_equal(lo_redact_str(r, LO_REDACT_TEXT, &scratch, a, &s), LO_OK);
    assert_true(lo_str_eq(s, "token=[REDACTED]"));
    s = lo_str(orig, strlen(orig));
    assert_int_equal(lo_redact_str(r, LO_REDACT_KEEP, &scratch, a, &s), LO_OK);
    assert_ptr_equal(s.p, orig);
    lo_buf_free(&scratch);
    lo_arena_destroy(a);
    lo_redact_destroy(r);
}

/* ---- through the decoders ---- */

static LookoutTest__KeyValue *kv_s(const char *k, const char *v)
{
    LookoutTest__KeyValue *kv = PNEW(LookoutTest__KeyValue, LOOKOUT_TEST__KEY_VALUE__INIT);
    LookoutTest__AnyValue *a = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
    a->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
    a->string_value = pstrdup(v);
    kv->key = pstrdup(k);
    kv->value = a;
    return kv;
}

static LookoutTest__AnyValue *any_kvlist(size_t n, LookoutTest__KeyValue **kvs)
{
    LookoutTest__AnyValue *a = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
    LookoutTest__KeyValueList *l = PNEW(LookoutTest__KeyValueList, LOOKOUT_TEST__KEY_VALUE_LIST__INIT);
    l->n_values = n;
    l->values = PARR(LookoutTest__KeyValue *, n);
    memcpy(l->values, kvs, n * sizeof(*kvs));
    a->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_KVLIST_VALUE;
    a->kvlist_value = l;
    return a;
}

static LookoutTest__AnyValue *any_str_array(const char *a0, const char *a1)
{
    LookoutTest__AnyValue *a = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
    LookoutTest__ArrayValue *arr = PNEW(LookoutTest__ArrayValue, LOOKOUT_TEST__ARRAY_VALUE__INIT);
    arr->n_values = 2;
    arr->values = PARR(LookoutTest__AnyValue *, 2);
    for (int i = 0; i < 2; i++) {
        arr->values[i] = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
        arr->values[i]->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
        arr->values[i]->string_value = pstrdup(i == 0 ? a0 : a1);
    }
    a->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_ARRAY_VALUE;
    a->array_value = arr;
    return a;
}

static ProtobufCMessage *logs_request(void)
{
    LookoutTest__LogRecord *r1 = PNEW(LookoutTest__LogRecord, LOOKOUT_TEST__LOG_RECORD__INIT);
    r1->body = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
    r1->body->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
    r1->body->string_value = pstrdup("login failed for bob password=hunter2 via Bearer abc.def");
    r1->n_attributes = 7;
    r1->attributes = PARR(LookoutTest__KeyValue *, 7);
    r1->attributes[0] = kv_s("url.full", "https://bob:pw@shop.example/cb?code=c0de&page=2");
    r1->attributes[1] = kv_s("exception.message", "auth failed: token=t0k");
    r1->attributes[2] = kv_s("db.password", "hunter2");
    r1->attributes[3] = kv_s("note", "password=stays, not free text");
    r1->attributes[4] = kv_s("session.id", "11111111-1111-1111-1111-111111111111");
    r1->attributes[5] = kv_s("http.request.header.referer", "");
    r1->attributes[5]->value = any_str_array("https://a/?access_token=x1", "https://u:p@b/");
    LookoutTest__KeyValue *inner[2] = { kv_s("url.full", "https://u:p@c/"), kv_s("msg", "token=in") };
    r1->attributes[6] = kv_s("http", "");
    r1->attributes[6]->value = any_kvlist(2, inner);

    LookoutTest__LogRecord *r2 = PNEW(LookoutTest__LogRecord, LOOKOUT_TEST__LOG_RECORD__INIT);
    LookoutTest__KeyValue *body[3] = { kv_s("msg", "retry with api_key=k2"), kv_s("user.password", "p2"),
                                       kv_s("list", "") };
    body[2]->value = any_str_array("Bearer zzz9", "plain");
    r2->body = any_kvlist(3, body);

    LookoutTest__ScopeLogs *sl = PNEW(LookoutTest__ScopeLogs, LOOKOUT_TEST__SCOPE_LOGS__INIT);
    sl->n_log_records = 2;
    sl->log_records = PARR(LookoutTest__LogRecord *, 2);
    sl->log_records[0] = r1;
    sl->log_records[1] = r2;
    LookoutTest__ResourceLogs *rl = PNEW(LookoutTest__ResourceLogs, LOOKOUT_TEST__RESOURCE_LOGS__INIT);
    rl->n_scope_logs = 1;
    rl->scope_logs = PARR(LookoutTest__ScopeLogs *, 1);
    rl->scope_logs[0] = sl;
    LookoutTest__ExportLogsServiceRequest *q =
        PNEW(LookoutTest__ExportLogsServiceRequest, LOOKOUT_TEST__EXPORT_LOGS_SERVICE_REQUEST__INIT);
    q->n_resource_logs = 1;
    q->resource_logs = PARR(LookoutTest__ResourceLogs *, 1);
    q->resource_logs[0] = rl;
    return &q->base;
}

static ProtobufCMessage *traces_request(void)
{
    LookoutTest__Span *s = PNEW(LookoutTest__Span, LOOKOUT_TEST__SPAN__INIT);
    s->trace_id.len = 16;
    s->trace_id.data = palloc(16);
    memset(s->trace_id.data, 1, 16);
    s->span_id.len = 8;
    s->span_id.data = palloc(8);
    memset(s->span_id.data, 2, 8);
    s->name = pstrdup("GET /login");
    s->n_attributes = 1;
    s->attributes = PARR(LookoutTest__KeyValue *, 1);
    s->attributes[0] = kv_s("http.target", "/login?user=bob&password=hunter2");
    s->status = PNEW(LookoutTest__Status, LOOKOUT_TEST__STATUS__INIT);
    s->status->code = 2;
    s->status->message = pstrdup("upstream said: secret=s3; Authorization: Bearer xyz9");
    LookoutTest__Span__Event *e = PNEW(LookoutTest__Span__Event, LOOKOUT_TEST__SPAN__EVENT__INIT);
    e->name = pstrdup("exception");
    e->n_attributes = 2;
    e->attributes = PARR(LookoutTest__KeyValue *, 2);
    e->attributes[0] = kv_s("exception.message", "could not connect to mysql://root:toor@db/app");
    e->attributes[1] = kv_s("exception.stacktrace", "Error: password: p4ss\n    at f (a.js:1:2)");
    s->n_events = 1;
    s->events = PARR(LookoutTest__Span__Event *, 1);
    s->events[0] = e;
    LookoutTest__ScopeSpans *ss = PNEW(LookoutTest__ScopeSpans, LOOKOUT_TEST__SCOPE_SPANS__INIT);
    ss->n_spans = 1;
    ss->spans = PARR(LookoutTest__Span *, 1);
    ss->spans[0] = s;
    LookoutTest__ResourceSpans *rs = PNEW(LookoutTest__ResourceSpans, LOOKOUT_TEST__RESOURCE_SPANS__INIT);
    rs->n_scope_spans = 1;
    rs->scope_spans = PARR(LookoutTest__ScopeSpans *, 1);
    rs->scope_spans[0] = ss;
    LookoutTest__ExportTraceServiceRequest *q =
        PNEW(LookoutTest__ExportTraceServiceRequest, LOOKOUT_TEST__EXPORT_TRACE_SERVICE_REQUEST__INIT);
    q->n_resource_spans = 1;
    q->resource_spans = PARR(LookoutTest__ResourceSpans *, 1);
    q->resource_spans[0] = rs;
    return &q->base;
}

/* Decodes msg with the protobuf walker (the OTLP/JSON decoder is held to the
 * same records by eq_check). */
static void decode_pb(lo_signal_t sig, const ProtobufCMessage *msg, const lo_decode_opts_t *o, lo_arena_t *a,
                      lo_otlp_batch_t *b)
{
    assert_int_equal(eq_check(sig, msg, o), LO_OK);
    assert_int_equal(g_eq_bad, 0);
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *p = palloc(n + 1);
    protobuf_c_message_pack(msg, p);
    lo_otlp_batch_init(b, sig, a);
    assert_int_equal(lo_otlp_pb_decode(sig, p, n, o, b), LO_OK);
}

/* Views are not NUL-terminated: searched with memmem. */
#define HAS(v, lit)                                                      \
    do {                                                                 \
        if (memmem((v).p, (v).len, (lit), strlen(lit)) == NULL)          \
            fail_msg("%s: no %s in %.*s", #v, lit, (int)(v).len, (v).p); \
    } while (0)
#define HASNT(v, lit)                                                 \
    do {                                                              \
        if (memmem((v).p, (v).len, (lit), strlen(lit)) != NULL)       \
            fail_msg("%s: %s in %.*s", #v, lit, (int)(v).len, (v).p); \
    } while (0)
#define IS(v, lit)                                                           \
    do {                                                                     \
        if (!lo_str_eq((v), (lit)))                                          \
            fail_msg("%s: got %.*s, want %s", #v, (int)(v).len, (v).p, lit); \
    } while (0)

static void test_decoders(void **state)
{
    (void)state;
    lo_redact_t *r = defaults();
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = 1600000000000000000LL, .redact = r };
    lo_arena_t *a = lo_arena_create(4096, 0);
    lo_otlp_batch_t b;

    decode_pb(LO_SIGNAL_LOGS, logs_request(), &o, a, &b);
    assert_int_equal(b.n, 2);
    lo_str_t m0 = b.logs[0].message, a0 = b.logs[0].attributes, m1 = b.logs[1].message;
    IS(m0, "login failed for bob password=[REDACTED] via Bearer [REDACTED]");
    HAS(a0, "\"url.full\":\"https://[REDACTED]@shop.example/cb?code=[REDACTED]&page=2\"");
    HAS(a0, "\"exception.message\":\"auth failed: token=[REDACTED]\"");
    HAS(a0, "\"db.password\":\"[REDACTED]\"");
    HAS(a0, "\"note\":\"password=stays, not free text\"");
    HAS(a0,
        "\"http.request.header.referer\":[\"https://a/?access_token=[REDACTED]\",\"https://[REDACTED]@b/\"]");
    HAS(a0, "\"http\":{\"url.full\":\"https://[REDACTED]@c/\",\"msg\":\"token=in\"}");
    assert_true(b.logs[0].env.has_session);
    HAS(m1, "\"msg\":\"retry with api_key=[REDACTED]\"");
    HAS(m1, "\"user.password\":\"[REDACTED]\"");
    HAS(m1, "\"list\":[\"Bearer [REDACTED]\",\"plain\"]");
    lo_otlp_batch_free(&b);

    decode_pb(LO_SIGNAL_SPANS, traces_request(), &o, a, &b);
    assert_int_equal(b.n, 1);
    IS(b.spans[0].status_message, "upstream said: secret=[REDACTED]; Authorization: Bearer [REDACTED]");
    HAS(b.spans[0].attributes, "\"http.target\":\"/login?user=bob&password=[REDACTED]\"");
    HAS(b.spans[0].events, "could not connect to mysql://[REDACTED]@db/app");
    HAS(b.spans[0].events, "Error: password: [REDACTED]\\n    at f (a.js:1:2)");
    lo_otlp_batch_free(&b);
    lo_redact_destroy(r);

    /* redact_patterns=0: free text is stored as sent; URLs and keys are not */
    lo_redact_conf_t c = { .keys = "password,token",
                           .url_keys = "url.full",
                           .text_keys = "exception.message" };
    r = lo_redact_new(&c);
    o.redact = r;
    decode_pb(LO_SIGNAL_LOGS, logs_request(), &o, a, &b);
    IS(b.logs[0].message, "login failed for bob password=hunter2 via Bearer abc.def");
    HAS(b.logs[0].attributes, "\"exception.message\":\"auth failed: token=t0k\"");
    HAS(b.logs[0].attributes, "https://[REDACTED]@shop.example/cb?code=[REDACTED]&page=2");
    HASNT(b.logs[0].attributes, "hunter2");
    lo_otlp_batch_free(&b);
    decode_pb(LO_SIGNAL_SPANS, traces_request(), &o, a, &b);
    HAS(b.spans[0].status_message, "secret=s3");
    lo_otlp_batch_free(&b);
    lo_redact_destroy(r);

    /* no redaction at all */
    o.redact = NULL;
    decode_pb(LO_SIGNAL_LOGS, logs_request(), &o, a, &b);
    HAS(b.logs[0].attributes, "hunter2");
    lo_otlp_batch_free(&b);
    lo_arena_destroy(a);
    pool_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_segments), cmocka_unit_test(test_key_entries),
        cmocka_unit_test(test_key_modes),    cmocka_unit_test(test_scrub_text),
        cmocka_unit_test(test_scrub_url),    cmocka_unit_test(test_scrub_str),
        cmocka_unit_test(test_decoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
