/*
 * pb_oracle.h — shared by the test_pb_*.c programs: random OTLP requests
 * built with protobuf-c (from tests/proto/otlp.proto), and the records the
 * walker must produce for them, computed independently from the protobuf-c
 * tree.  Everything allocated here comes from one pool freed per case.
 */
#ifndef LO_TEST_PB_ORACLE_H
#define LO_TEST_PB_ORACLE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/json_write.h"
#include "core/utf8.h"
#include "otlp.pb-c.h"
#include "otlp/otlp.h"

/* not every test program uses every helper */
#pragma GCC diagnostic ignored "-Wunused-function"

/* ---- random numbers (deterministic per seed) ---- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static uint32_t rndn(uint32_t n)
{
    return n == 0 ? 0 : (uint32_t)(rnd() % n);
}

static bool coin(int percent)
{
    return rndn(100) < (uint32_t)percent;
}

/* ---- an allocation pool, freed whole ---- */

static void **g_pool;
static size_t g_pool_n, g_pool_cap;

static void *palloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    assert_non_null(p);
    if (g_pool_n == g_pool_cap) {
        g_pool_cap = g_pool_cap ? g_pool_cap * 2 : 256;
        g_pool = realloc(g_pool, g_pool_cap * sizeof(void *));
        assert_non_null(g_pool);
    }
    g_pool[g_pool_n++] = p;
    return p;
}

static void pool_free(void)
{
    for (size_t i = 0; i < g_pool_n; i++)
        free(g_pool[i]);
    g_pool_n = 0;
}

#define PNEW(T, INIT)              \
    ({                             \
        T *_m = palloc(sizeof(T)); \
        T _i = INIT;               \
        *_m = _i;                  \
        _m;                        \
    })

#define PARR(T, n) ((T *)palloc(sizeof(T) * ((n) ? (n) : 1)))

/* ---- random strings ---- */

static const char *const g_frag[] = {
    "a",      "hello", " ",    "\"q\"", "back\\slash", "tab\t",        "nl\n",     "\x01\x1f",         "é",
    "日本語", "😀",     "\xff", "\x80",  "\xc3",        "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "}{][",
    "<>&'",   "0",
};

/* Pieces of the secrets redaction looks for (redact.h), drawn too while
 * g_frag_secrets is set (the other tests' random streams stay as they were). */
static const char *const g_sfrag[] = {
    " password=", "token: ", "Bearer ", "abc1", "x://u:p@h/", "?sig=",        "&code=",    "\"secret\":\"",
    "=",          ":",       "api_key", "\\\"", "'",          "\xE2\x80\x8B", "Bearer%20", "://",
};
static bool g_frag_secrets;

static char *rnd_str(void)
{
    size_t n = rndn(6);
    char buf[256];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *f = g_frag_secrets && coin(50) ? g_sfrag[rndn(LO_ARRAY_LEN(g_sfrag))]
                                                   : g_frag[rndn(LO_ARRAY_LEN(g_frag))];
        size_t fl = strlen(f);
        if (len + fl >= sizeof(buf))
            break;
        memcpy(buf + len, f, fl);
        len += fl;
    }
    char *s = palloc(len + 1);
    memcpy(s, buf, len);
    return s;
}

static char *pstrdup(const char *s)
{
    size_t n = strlen(s);
    char *d = palloc(n + 1);
    memcpy(d, s, n);
    return d;
}

static char *rnd_uuid(void)
{
    char *s = palloc(37);
    uint8_t u[16];
    for (int i = 0; i < 16; i++)
        u[i] = (uint8_t)rnd();
    lo_uuid_format(u, s);
    if (coin(20))
        s[0] = 'A'; /* upper case is still a UUID */
    return s;
}

static const char *const g_keys[] = {
    "http.method",
    "service.name",
    "session_id",
    "session.id",
    "project_id",
    "project.id",
    "user_id",
    "user.id",
    "enduser.id",
    "trace_id",
    "span_id",
    "password",
    "Authorization",
    "http.request.header.cookie",
    "k",
    "ключ",
    "\xff\xfe",
    "",
    "a\"b",
    "nested",
};

static char *rnd_key(void)
{
    return pstrdup(g_keys[rndn(LO_ARRAY_LEN(g_keys))]);
}

static ProtobufCBinaryData rnd_bytes(size_t max)
{
    ProtobufCBinaryData b;
    b.len = rndn((uint32_t)max + 1);
    b.data = palloc(b.len);
    for (size_t i = 0; i < b.len; i++)
        b.data[i] = (uint8_t)rnd();
    return b;
}

/* Seeds for the fuzz corpus carry well-formed ids only (the OTLP/JSON
 * equivalence tests turn them into JSON, where a bad id is an error). */
static bool g_valid_ids;

/* An id: usually the right length, sometimes zero, absent or wrong. */
static ProtobufCBinaryData rnd_id(size_t n)
{
    ProtobufCBinaryData b = { 0, NULL };
    uint32_t k = g_valid_ids ? 9 : rndn(10);
    if (k == 0)
        return b;
    b.len = k == 1 ? n - 1 : k == 2 ? n + 1 : n;
    b.data = palloc(b.len);
    if (k != 3)
        for (size_t i = 0; i < b.len; i++)
            b.data[i] = (uint8_t)rnd();
    return b;
}

/* An id the walker accepts: well-formed, absent or all-zero ("none"). */
static ProtobufCBinaryData rnd_id_ok(size_t n)
{
    ProtobufCBinaryData b = rnd_id(n);
    if (b.len != n)
        b.len = 0;
    return b;
}

/* A well-formed, non-zero id (a span's own ids must be). */
static ProtobufCBinaryData rnd_id_valid(size_t n)
{
    ProtobufCBinaryData b = { n, palloc(n) };
    for (size_t i = 0; i < n; i++)
        b.data[i] = (uint8_t)rnd();
    b.data[0] |= 1;
    return b;
}

static uint64_t rnd_time(void)
{
    uint32_t k = rndn(6);
    if (k == 0)
        return 0;
    if (k == 1)
        return rnd();
    return 1700000000000000000ULL + rnd() % 100000000000000ULL;
}

static double rnd_double(void)
{
    static const double special[] = { 0.0, -0.0, 1.5, -2.25, 1e300, 1e-300, 123456789.0, 0.1 };
    uint32_t k = rndn(10);
    if (k < 5)
        return special[rndn(LO_ARRAY_LEN(special))];
    if (k == 5)
        return (double)(int64_t)rnd();
    uint64_t bits = rnd();
    double d;
    memcpy(&d, &bits, sizeof(d)); /* may be NaN or infinite */
    return d;
}

/* ---- random AnyValue / KeyValue ---- */

static LookoutTest__KeyValue *rnd_kv(int depth);

static LookoutTest__AnyValue *rnd_any(int depth)
{
    LookoutTest__AnyValue *v = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
    uint32_t k = rndn(depth > 2 ? 5 : 8);
    switch (k) {
    case 0:
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = rnd_str();
        break;
    case 1:
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_BOOL_VALUE;
        v->bool_value = coin(50);
        break;
    case 2: {
        static const int64_t ints[] = {
            0, 1, -1, 9007199254740992LL, 9007199254740993LL, -9007199254740993LL, INT64_MAX, INT64_MIN
        };
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_INT_VALUE;
        v->int_value = coin(50) ? ints[rndn(LO_ARRAY_LEN(ints))] : (int64_t)(rnd() >> rndn(64));
        break;
    }
    case 3:
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_DOUBLE_VALUE;
        v->double_value = rnd_double();
        break;
    case 4:
        if (coin(50)) {
            v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_BYTES_VALUE;
            v->bytes_value = rnd_bytes(20);
        } /* else: no field set */
        break;
    case 5:
    case 6: {
        LookoutTest__ArrayValue *a = PNEW(LookoutTest__ArrayValue, LOOKOUT_TEST__ARRAY_VALUE__INIT);
        a->n_values = rndn(4);
        a->values = PARR(LookoutTest__AnyValue *, a->n_values);
        for (size_t i = 0; i < a->n_values; i++)
            a->values[i] = rnd_any(depth + 1);
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_ARRAY_VALUE;
        v->array_value = a;
        break;
    }
    default: {
        LookoutTest__KeyValueList *l = PNEW(LookoutTest__KeyValueList, LOOKOUT_TEST__KEY_VALUE_LIST__INIT);
        l->n_values = rndn(4);
        l->values = PARR(LookoutTest__KeyValue *, l->n_values);
        for (size_t i = 0; i < l->n_values; i++)
            l->values[i] = rnd_kv(depth + 1);
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_KVLIST_VALUE;
        v->kvlist_value = l;
        break;
    }
    }
    return v;
}

static LookoutTest__KeyValue *rnd_kv(int depth)
{
    LookoutTest__KeyValue *kv = PNEW(LookoutTest__KeyValue, LOOKOUT_TEST__KEY_VALUE__INIT);
    kv->key = rnd_key();
    if (coin(5))
        return kv; /* no value */
    if (depth == 0 && strchr(kv->key, '_') != NULL && coin(60)) {
        /* envelope keys: mostly well-formed UUIDs / ids */
        LookoutTest__AnyValue *v = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
        if (strcmp(kv->key, "trace_id") == 0 || strcmp(kv->key, "span_id") == 0) {
            size_t n = strcmp(kv->key, "trace_id") == 0 ? 32 : 16;
            char *s = palloc(n + 1);
            for (size_t i = 0; i < n; i++)
                s[i] = "0123456789abcdef"[rndn(16)];
            v->string_value = s;
        } else {
            v->string_value = coin(80) ? rnd_uuid() : rnd_str();
        }
        kv->value = v;
        return kv;
    }
    if (depth == 0 && strcmp(kv->key, "service.name") == 0) {
        LookoutTest__AnyValue *v = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
        v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = rnd_str();
        kv->value = v;
        return kv;
    }
    kv->value = rnd_any(depth + 1);
    return kv;
}

static LookoutTest__KeyValue **rnd_attrs(size_t *n, size_t max)
{
    *n = rndn((uint32_t)max + 1);
    LookoutTest__KeyValue **a = PARR(LookoutTest__KeyValue *, *n);
    for (size_t i = 0; i < *n; i++)
        a[i] = rnd_kv(0);
    return a;
}

static LookoutTest__Resource *rnd_resource(void)
{
    if (coin(10))
        return NULL;
    LookoutTest__Resource *r = PNEW(LookoutTest__Resource, LOOKOUT_TEST__RESOURCE__INIT);
    r->attributes = rnd_attrs(&r->n_attributes, 6);
    r->dropped_attributes_count = coin(20) ? rndn(5) : 0;
    return r;
}

static LookoutTest__InstrumentationScope *rnd_scope(void)
{
    if (coin(15))
        return NULL;
    LookoutTest__InstrumentationScope *s =
        PNEW(LookoutTest__InstrumentationScope, LOOKOUT_TEST__INSTRUMENTATION_SCOPE__INIT);
    if (coin(80))
        s->name = rnd_str();
    if (coin(60))
        s->version = rnd_str();
    s->attributes = rnd_attrs(&s->n_attributes, 2);
    return s;
}

/* ---- expected renderings ---- */

static const lo_redact_t *g_redact;

/* Expected text for a string field: invalid sequences become U+FFFD. */
static lo_str_t exp_text(const char *p, size_t n, lo_buf_t *keep)
{
    lo_buf_reset(keep);
    size_t i = 0;
    while (i < n) {
        size_t ok = lo_utf8_valid_prefix(p + i, n - i);
        lo_buf_append(keep, p + i, ok);
        i += ok;
        if (i < n) {
            lo_buf_append(keep, "\xEF\xBF\xBD", 3);
            i += p[i] == 0 ? 1 : lo_utf8_invalid_len(p + i, n - i);
        }
    }
    return lo_str(keep->p ? keep->p : "", keep->len);
}

static void exp_kv(lo_jw_t *w, const LookoutTest__KeyValue *kv, lo_env_cand_t *cand);

static void exp_any(lo_jw_t *w, const LookoutTest__AnyValue *v)
{
    if (v == NULL) {
        lo_jw_null(w);
        return;
    }
    switch (v->value_case) {
    case LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE:
        lo_jw_str(w, v->string_value, strlen(v->string_value));
        break;
    case LOOKOUT_TEST__ANY_VALUE__VALUE_BOOL_VALUE: lo_jw_bool(w, v->bool_value); break;
    case LOOKOUT_TEST__ANY_VALUE__VALUE_INT_VALUE: lo_jw_i64(w, v->int_value); break;
    case LOOKOUT_TEST__ANY_VALUE__VALUE_DOUBLE_VALUE: lo_jw_f64(w, v->double_value); break;
    case LOOKOUT_TEST__ANY_VALUE__VALUE_BYTES_VALUE:
        lo_jw_base64(w, v->bytes_value.data, v->bytes_value.len);
        break;
    case LOOKOUT_TEST__ANY_VALUE__VALUE_ARRAY_VALUE:
        lo_jw_arr_begin(w);
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++)
            exp_any(w, v->array_value->values[i]);
        lo_jw_arr_end(w);
        break;
    case LOOKOUT_TEST__ANY_VALUE__VALUE_KVLIST_VALUE:
        lo_jw_obj_begin(w);
        for (size_t i = 0; v->kvlist_value && i < v->kvlist_value->n_values; i++)
            exp_kv(w, v->kvlist_value->values[i], NULL);
        lo_jw_obj_end(w);
        break;
    default: lo_jw_null(w);
    }
}

static void exp_kv(lo_jw_t *w, const LookoutTest__KeyValue *kv, lo_env_cand_t *cand)
{
    lo_jw_key(w, kv->key, strlen(kv->key));
    if (lo_redact_match(g_redact, kv->key, strlen(kv->key))) {
        lo_jw_cstr(w, "[REDACTED]");
        return;
    }
    exp_any(w, kv->value);
    if (cand != NULL && kv->value != NULL &&
        kv->value->value_case == LOOKOUT_TEST__ANY_VALUE__VALUE_STRING_VALUE)
        lo_env_cand_note(cand, lo_str(kv->key, strlen(kv->key)),
                         lo_str(kv->value->string_value, strlen(kv->value->string_value)));
}

/* Expected attributes object; also the labels hash. */
static void exp_attrs(lo_buf_t *out, LookoutTest__KeyValue *const *kv, size_t n, lo_env_cand_t *cand,
                      uint64_t *hash)
{
    lo_jw_t w;
    lo_buf_reset(out);
    lo_jw_init(&w, out);
    lo_jw_obj_begin(&w);
    for (size_t i = 0; i < n; i++) {
        /* a pair on its own, for the hash */
        if (hash != NULL) {
            lo_buf_t pb;
            lo_jw_t pw;
            lo_buf_init(&pb, 0);
            lo_jw_init(&pw, &pb);
            lo_jw_obj_begin(&pw);
            exp_kv(&pw, kv[i], NULL);
            *hash = lo_labels_hash_add(*hash, pb.p + 1, pb.len - 1);
            lo_buf_free(&pb);
        }
        exp_kv(&w, kv[i], cand);
    }
    lo_jw_obj_end(&w);
    assert_int_equal(lo_jw_status(&w), LO_OK);
}

static void assert_str_eq(lo_str_t got, const char *p, size_t n, const char *what)
{
    if (got.len != n || (n > 0 && memcmp(got.p, p, n) != 0)) {
        print_error("%s: got '%.*s' (%zu), want '%.*s' (%zu)\n", what, (int)got.len, got.p ? got.p : "",
                    got.len, (int)n, p, n);
        fail();
    }
    assert_true(lo_utf8_valid(got.p ? got.p : "", got.len));
}

static void assert_str_buf(lo_str_t got, const lo_buf_t *b, const char *what)
{
    assert_str_eq(got, b->p ? b->p : "", b->len, what);
}

/* Expected string field (repaired). */
static void assert_text(lo_str_t got, const char *s, const char *what)
{
    lo_buf_t k;
    lo_buf_init(&k, 0);
    lo_str_t e = exp_text(s ? s : "", s ? strlen(s) : 0, &k);
    assert_str_eq(got, e.p, e.len, what);
    lo_buf_free(&k);
}

static void res_cand(const LookoutTest__Resource *r, lo_env_cand_t *c, lo_buf_t *json, lo_buf_t *svc)
{
    memset(c, 0, sizeof(*c));
    exp_attrs(json, r ? r->attributes : NULL, r ? r->n_attributes : 0, c, NULL);
    if (c->service_name.p != NULL)
        c->service_name = exp_text(c->service_name.p, c->service_name.len, svc);
}

static void scope_cand(const LookoutTest__InstrumentationScope *s, lo_env_cand_t *c)
{
    lo_buf_t tmp;
    lo_buf_init(&tmp, 0);
    memset(c, 0, sizeof(*c));
    exp_attrs(&tmp, s ? s->attributes : NULL, s ? s->n_attributes : 0, c, NULL);
    lo_buf_free(&tmp);
}

static bool id_ok(ProtobufCBinaryData b, size_t n)
{
    if (b.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (b.data[i])
            return true;
    return false;
}

static void assert_env(const lo_envelope_t *got, const lo_envelope_t *want)
{
    assert_int_equal(got->has_trace_id, want->has_trace_id);
    if (want->has_trace_id)
        assert_memory_equal(got->trace_id, want->trace_id, 16);
    assert_int_equal(got->has_span_id, want->has_span_id);
    if (want->has_span_id)
        assert_memory_equal(got->span_id, want->span_id, 8);
    assert_int_equal(got->has_session, want->has_session);
    if (want->has_session)
        assert_memory_equal(got->session_id, want->session_id, 16);
    assert_int_equal(got->has_project, want->has_project);
    if (want->has_project)
        assert_memory_equal(got->project_id, want->project_id, 16);
    assert_int_equal(got->has_user, want->has_user);
    if (want->has_user)
        assert_memory_equal(got->user_id, want->user_id, 16);
    assert_str_eq(got->service, want->service.p, want->service.len, "service");
}

/* ---- decoding helpers ---- */

#define TEST_RECEIVE_NS 1600000000000000000LL

typedef struct {
    lo_arena_t *arena;
    lo_otlp_batch_t b;
    lo_decode_opts_t o;
    uint8_t *copy; /* exact-size copy of the input, so that overreads are caught under ASan */
} dec_t;

static int dec_run(dec_t *d, lo_signal_t s, const uint8_t *p, size_t n)
{
    d->arena = lo_arena_create(64 * 1024, 256 << 20);
    assert_non_null(d->arena);
    lo_otlp_batch_init(&d->b, s, d->arena);
    d->o.max_depth = 32;
    d->o.receive_ns = TEST_RECEIVE_NS;
    d->o.redact = g_redact;
    d->copy = malloc(n ? n : 1);
    assert_non_null(d->copy);
    if (n)
        memcpy(d->copy, p, n);
    return lo_otlp_pb_decode(s, d->copy, n, &d->o, &d->b);
}

static void dec_free(dec_t *d)
{
    lo_otlp_batch_free(&d->b);
    lo_arena_destroy(d->arena);
    free(d->copy);
    memset(d, 0, sizeof(*d));
}

/* ---- a tiny protobuf writer, for hand-made (and malformed) bodies ---- */

typedef struct {
    uint8_t p[4096];
    size_t n;
} wbuf_t;

static void w_varint(wbuf_t *w, uint64_t v)
{
    while (v >= 0x80) {
        w->p[w->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->p[w->n++] = (uint8_t)v;
}

static void w_tag(wbuf_t *w, uint32_t num, uint32_t wt)
{
    w_varint(w, (uint64_t)num << 3 | wt);
}

static void w_bytes(wbuf_t *w, uint32_t num, const void *p, size_t n)
{
    w_tag(w, num, 2);
    w_varint(w, n);
    memcpy(w->p + w->n, p, n);
    w->n += n;
}

static void w_sub(wbuf_t *w, uint32_t num, const wbuf_t *sub)
{
    w_bytes(w, num, sub->p, sub->n);
}

static void w_fixed64(wbuf_t *w, uint32_t num, uint64_t v)
{
    w_tag(w, num, 1);
    for (int i = 0; i < 8; i++)
        w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void w_fixed32(wbuf_t *w, uint32_t num, uint32_t v)
{
    w_tag(w, num, 5);
    for (int i = 0; i < 4; i++)
        w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

/* Packs a protobuf-c message into a malloc'd buffer. */
static uint8_t *pack_msg(const ProtobufCMessage *m, size_t *n)
{
    *n = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*n ? *n : 1);
    assert_non_null(p);
    assert_int_equal(protobuf_c_message_pack(m, p), *n);
    return p;
}

#endif
