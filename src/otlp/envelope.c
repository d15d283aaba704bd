/*
 * envelope.c — what both OTLP decoders share: the correlation envelope,
 * log levels, UUID/hex parsing, hashing and the record array (redaction is
 * in redact.c).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "otlp/otlp.h"

#include "core/ids.h"
#include "store/columns.h"

/* ---- batch ---- */

void lo_otlp_batch_init(lo_otlp_batch_t *b, lo_signal_t signal, lo_arena_t *arena)
{
    memset(b, 0, sizeof(*b));
    b->signal = signal;
    b->arena = arena;
}

void lo_otlp_batch_free(lo_otlp_batch_t *b)
{
    if (b == NULL)
        return;
    free(b->recs);
    b->recs = NULL;
    b->n = b->cap = 0;
}

size_t lo_otlp_rec_size(lo_signal_t s)
{
    switch (s) {
    case LO_SIGNAL_LOGS: return sizeof(lo_log_rec_t);
    case LO_SIGNAL_SPANS: return sizeof(lo_span_rec_t);
    default: return sizeof(lo_sample_rec_t);
    }
}

void *lo_otlp_batch_push(lo_otlp_batch_t *b)
{
    size_t sz = lo_otlp_rec_size(b->signal);
    if (b->max_records != 0 && b->n >= b->max_records)
        return NULL;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        if (b->max_records != 0 && cap > b->max_records)
            cap = b->max_records;
        if (cap > SIZE_MAX / sz)
            return NULL;
        void *p = realloc(b->recs, cap * sz);
        if (p == NULL)
            return NULL;
        b->recs = p;
        b->cap = cap;
    }
    void *r = (char *)b->recs + b->n * sz;
    memset(r, 0, sz);
    b->n++;
    return r;
}

int lo_otlp_fail(lo_otlp_batch_t *b, const char *fmt, ...)
{
    /* keep the first (innermost) reason */
    if (b->error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->error, sizeof(b->error), fmt, ap);
        va_end(ap);
    }
    return LO_INVALID;
}

/* ---- ids ---- */

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

bool lo_otlp_id_ok(const uint8_t *p, size_t n, size_t want)
{
    return p != NULL && n == want && !all_zero(p, n);
}

/* ---- envelope ---- */

static bool key_is(lo_str_t k, const char *lit)
{
    return lo_str_eq(k, lit);
}

void lo_env_cand_note(lo_env_cand_t *c, lo_str_t key, lo_str_t value)
{
    /* the first occurrence at a level wins over later ones of other spellings */
    if (key_is(key, "session_id") || key_is(key, "session.id")) {
        if (c->session.p == NULL)
            c->session = value;
    } else if (key_is(key, "project_id") || key_is(key, "project.id")) {
        if (c->project.p == NULL)
            c->project = value;
    } else if (key_is(key, "user_id") || key_is(key, "user.id") || key_is(key, "enduser.id")) {
        if (c->user.p == NULL)
            c->user = value;
    } else if (key_is(key, "trace_id")) {
        if (c->trace_id.p == NULL)
            c->trace_id = value;
    } else if (key_is(key, "span_id")) {
        if (c->span_id.p == NULL)
            c->span_id = value;
    } else if (key_is(key, "service.name")) {
        if (c->service_name.p == NULL)
            c->service_name = value;
    }
}

/* The first well-formed UUID of record, scope, resource. */
static bool pick_uuid(lo_str_t a, lo_str_t b, lo_str_t c, uint8_t out[16])
{
    const lo_str_t v[3] = { a, b, c };
    for (int i = 0; i < 3; i++)
        if (v[i].p != NULL && lo_uuid_parse(v[i], out))
            return true;
    return false;
}

static bool pick_hex(lo_str_t a, lo_str_t b, lo_str_t c, uint8_t *out, size_t n)
{
    const lo_str_t v[3] = { a, b, c };
    for (int i = 0; i < 3; i++)
        if (v[i].p != NULL && lo_hex_parse(v[i], out, n) && !all_zero(out, n))
            return true;
    return false;
}

void lo_envelope_build(lo_envelope_t *env, const lo_env_cand_t *rec, const lo_env_cand_t *scope,
                       const lo_env_cand_t *res)
{
    static const lo_env_cand_t none;
    if (rec == NULL)
        rec = &none;
    if (scope == NULL)
        scope = &none;
    if (res == NULL)
        res = &none;
    env->has_session = pick_uuid(rec->session, scope->session, res->session, env->session_id);
    env->has_project = pick_uuid(rec->project, scope->project, res->project, env->project_id);
    env->has_user = pick_uuid(rec->user, scope->user, res->user, env->user_id);
    if (!env->has_trace_id)
        env->has_trace_id = pick_hex(rec->trace_id, scope->trace_id, res->trace_id, env->trace_id, 16);
    if (!env->has_span_id)
        env->has_span_id = pick_hex(rec->span_id, scope->span_id, res->span_id, env->span_id, 8);
    if (res->service_name.p != NULL && res->service_name.len > 0)
        env->service = res->service_name;
    else
        env->service = LO_STR_LIT("unknown_service");
}

/* ---- log level ---- */

lo_str_t lo_log_level(int32_t sev, lo_str_t text, lo_arena_t *a)
{
    static const char *const names[] = { "trace", "debug", "info", "warn", "error", "fatal" };
    if (sev >= 1 && sev <= 24) {
        const char *n = names[(sev - 1) / 4];
        return lo_str(n, strlen(n));
    }
    if (text.len > 0 && text.len <= 64) {
        /* a usual spelling ("WARNING", "err") is stored as its level */
        const char *alias = lo_level_alias(text.p, text.len);
        if (alias != NULL)
            return lo_str(alias, strlen(alias));
        char *l = lo_arena_alloc(a, text.len);
        if (l != NULL) {
            for (size_t i = 0; i < text.len; i++)
                l[i] = (char)tolower((unsigned char)text.p[i]);
            return lo_str(l, text.len);
        }
    }
    return LO_STR_LIT("unspecified");
}

/* ---- hashing: 64-bit, seeded; not cryptographic ---- */

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t lo_hash64(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        h = (h ^ mix(rd64(p))) * 0x100000001B3ULL;
        h = (h << 27) | (h >> 37);
        p += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    h ^= mix(tail ^ ((uint64_t)n << 56));
    return mix(h);
}
