/* Helpers shared by the OTLP/JSON decoder tests (test_json_*.c). */
#ifndef LO_JSON_HARNESS_H
#define LO_JSON_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/utf8.h"
#include "otlp/otlp.h"

#define RECEIVE_NS 1700000000000000000LL

/* One decode with its arena and batch. */
typedef struct {
    lo_arena_t *arena;
    lo_otlp_batch_t b;
    int rc;
} jt_t;

static inline void jt_decode_opts(jt_t *t, lo_signal_t s, const char *p, size_t n, const lo_decode_opts_t *o)
{
    t->arena = lo_arena_create(64 * 1024, 256u << 20);
    assert_non_null(t->arena);
    lo_otlp_batch_init(&t->b, s, t->arena);
    t->rc = lo_otlp_json_decode(s, p, n, o, &t->b);
}

static inline void jt_decode(jt_t *t, lo_signal_t s, const char *json)
{
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = RECEIVE_NS, .redact = NULL };
    jt_decode_opts(t, s, json, strlen(json), &o);
}

static inline void jt_free(jt_t *t)
{
    lo_otlp_batch_free(&t->b);
    lo_arena_destroy(t->arena);
    memset(t, 0, sizeof(*t));
}

/* Decodes json and expects LO_INVALID with an error message containing want. */
static inline void jt_expect_invalid(lo_signal_t s, const char *json, const char *want)
{
    jt_t t;
    jt_decode(&t, s, json);
    if (t.rc != LO_INVALID || strstr(t.b.error, want) == NULL) {
        fprintf(stderr, "input: %s\nrc=%d error=\"%s\"\nwanted LO_INVALID with \"%s\"\n", json, t.rc,
                t.b.error, want);
        fail();
    }
    jt_free(&t);
}

/* Decodes json and expects its one record refused at admission: decoded,
 * and flagged malformed with a reason containing want (the rest of a
 * request is kept). */
static inline void jt_expect_malformed(lo_signal_t s, const char *json, const char *want)
{
    jt_t t;
    jt_decode(&t, s, json);
    const lo_envelope_t *env = t.rc == LO_OK && t.b.n == 1 ? (const lo_envelope_t *)t.b.recs : NULL;
    if (env == NULL || env->malformed == NULL || strstr(env->malformed, want) == NULL) {
        fprintf(stderr, "input: %s\nrc=%d n=%zu malformed=\"%s\"\nwanted one record refused for \"%s\"\n",
                json, t.rc, t.b.n, env != NULL && env->malformed != NULL ? env->malformed : "", want);
        fail();
    }
    jt_free(&t);
}

static inline bool jt_streq(lo_str_t s, const char *want)
{
    bool ok = s.len == strlen(want) && (s.len == 0 || memcmp(s.p, want, s.len) == 0);
    if (!ok)
        fprintf(stderr, "got  \"%.*s\"\nwant \"%s\"\n", (int)s.len, s.p ? s.p : "", want);
    return ok;
}
#define assert_str(s, want) assert_true(jt_streq((s), (want)))

/* Every lo_str_t a decoder emits must be valid UTF-8 without NUL. */
static inline void assert_clean(lo_str_t s)
{
    if (s.len > 0)
        assert_true(lo_utf8_valid(s.p, s.len));
}

/* Reads a whole file (NULL if missing); *n gets its length. */
static inline char *jt_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *p = malloc(cap);
    size_t r;
    while (p != NULL && (r = fread(p + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            char *q = realloc(p, cap * 2);
            if (q == NULL) {
                free(p);
                p = NULL;
                break;
            }
            p = q;
            cap *= 2;
        }
    }
    fclose(f);
    *n = len;
    return p;
}

#endif
