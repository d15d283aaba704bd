/*
 * auth.c — token checks with a bounded cache in front of api_tokens.
 *
 * The cache is keyed by the token's SHA-256 (never the token itself) and is
 * set-associative with a fixed number of slots, so a flood of random tokens
 * can churn it but never grow it.  Negative answers live in their own table,
 * so such a flood cannot evict the positive answers real clients rely on.
 * Look-ups of tokens the cache does not know are bounded in rate
 * (token_lookups_per_second) and in number at once (http_threads, half
 * the threads of the two listeners; concurrent checks of one token share
 * one look-up): a
 * flood of random well-formed tokens gets 429 without touching the
 * database, and the listener's threads stay free for real clients.
 */
#include "auth/auth.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/ids.h"
#include "core/log.h"

#define POS_SETS     128 /* x WAYS = 1024 remembered valid tokens */
#define NEG_SETS     512 /* x WAYS = 4096 remembered unknown tokens */
#define WAYS         8
#define HEADER_MAX   512          /* longer Authorization values are refused unread */
#define POOL_WAIT_MS 1000         /* longest a check waits for a pooled connection */
#define DOWN_NS      1000000000LL /* after a failed look-up, misses answer LO_UNAVAIL at once this long */

typedef struct {
    uint8_t key[32];
    int64_t expires; /* monotonic ns; 0: empty */
    lo_principal_t who;
} pos_entry_t;

typedef struct {
    uint8_t key[32];
    int64_t expires;
} neg_entry_t;

struct lo_auth {
    lo_pg_pool_t *pool;
    EVP_MD *sha256; /* fetched once: the implicit fetch costs ~40% more per call */
    int64_t ttl_ns;
    pthread_mutex_t mu;
    _Atomic int64_t down_until;        /* monotonic ns: the database just failed */
    double lookup_rate, lookup_tokens; /* token bucket of look-ups (under mu) */
    int64_t lookup_last_ns;
    int lookups, lookups_max; /* in progress (under mu), and its bound */
    uint8_t (*inflight)[32];  /* the keys being looked up (lookups of them) */
    pthread_cond_t landed;    /* a look-up ended */
    pos_entry_t *pos;         /* POS_SETS * WAYS */
    neg_entry_t *neg;         /* NEG_SETS * WAYS */
};

lo_auth_t *lo_auth_create(const lo_config_t *cfg, lo_pg_pool_t *pool)
{
    lo_auth_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->pool = pool;
    a->ttl_ns = cfg->token_cache_seconds * 1000000000LL;
    a->lookup_rate = (double)cfg->token_lookups_per_second;
    a->lookup_tokens = a->lookup_rate;
    a->lookup_last_ns = lo_mono_ns();
    a->lookups_max = (int)cfg->http_threads;
    a->inflight = calloc((size_t)a->lookups_max, 32);
    pthread_cond_init(&a->landed, NULL);
    a->pos = calloc(POS_SETS * WAYS, sizeof(*a->pos));
    a->neg = calloc(NEG_SETS * WAYS, sizeof(*a->neg));
    a->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (a->pos == NULL || a->neg == NULL || a->sha256 == NULL || a->inflight == NULL ||
        pthread_mutex_init(&a->mu, NULL) != 0) {
        pthread_cond_destroy(&a->landed);
        free(a->inflight);
        EVP_MD_free(a->sha256);
        free(a->pos);
        free(a->neg);
        free(a);
        return NULL;
    }
    return a;
}

void lo_auth_destroy(lo_auth_t *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->landed);
    free(a->inflight);
    EVP_MD_free(a->sha256);
    free(a->pos);
    free(a->neg);
    free(a);
}

/* The digest is uniformly distributed: its first bytes are a fine index. */
static size_t set_of(const uint8_t key[32], size_t nsets)
{
    uint32_t h;
    memcpy(&h, key, sizeof(h));
    return (h % nsets) * WAYS;
}

/* Extracts the token from "Bearer <token>" and checks its shape, so that
 * garbage never reaches the hash, the cache or the database. */
static bool parse_header(const char *h, const char **tok)
{
    if (h == NULL)
        return false;
    size_t n = strnlen(h, HEADER_MAX + 1);
    if (n > HEADER_MAX || n < 7 || strncasecmp(h, "bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return false;
    const char *p = h + 7, *end = h + n;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if ((size_t)(end - p) != 46 || memcmp(p, "lo_", 3) != 0)
        return false;
    for (const char *q = p + 3; q < end; q++)
        if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_')
            return false;
    *tok = p;
    return true;
}

static int sha256(const EVP_MD *md, const char *p, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, md, NULL) != 1 || len != 32)
        return LO_ERROR;
    return LO_OK;
}

/* 1: positive hit (*out filled), 0: negative hit, -1: miss.  Lock held. */
static int cache_find(lo_auth_t *a, const uint8_t key[32], int64_t now, lo_principal_t *out, bool *was_valid)
{
    pos_entry_t *ps = a->pos + set_of(key, POS_SETS);
    *was_valid = false;
    for (int i = 0; i < WAYS; i++) {
        if (ps[i].expires != 0 && memcmp(ps[i].key, key, 32) == 0) {
            if (ps[i].expires > now) {
                *out = ps[i].who;
                return 1;
            }
            *was_valid = true; /* expired: to be checked again */
        }
    }
    neg_entry_t *ns = a->neg + set_of(key, NEG_SETS);
    for (int i = 0; i < WAYS; i++)
        if (ns[i].expires > now && memcmp(ns[i].key, key, 32) == 0)
            return 0;
    return -1;
}

/* Stores an answer.  In a full set the entry expiring first makes room;
 * empty and expired slots expire first of all. */
static void cache_put(lo_auth_t *a, const uint8_t key[32], int64_t now, const lo_principal_t *who)
{
    if (a->ttl_ns <= 0)
        return;
    pthread_mutex_lock(&a->mu);
    if (who != NULL) {
        pos_entry_t *s = a->pos + set_of(key, POS_SETS), *v = s;
        for (int i = 0; i < WAYS; i++) {
            if (memcmp(s[i].key, key, 32) == 0) {
                v = &s[i];
                break;
            }
            if (s[i].expires < v->expires)
                v = &s[i];
        }
        memcpy(v->key, key, 32);
        v->expires = now + a->ttl_ns;
        v->who = *who;
    } else {
        neg_entry_t *s = a->neg + set_of(key, NEG_SETS), *v = s;
        for (int i = 0; i < WAYS; i++) {
            if (memcmp(s[i].key, key, 32) == 0) {
                v = &s[i];
                break;
            }
            if (s[i].expires < v->expires)
                v = &s[i];
        }
        memcpy(v->key, key, 32);
        v->expires = now + a->ttl_ns;
    }
    pthread_mutex_unlock(&a->mu);
}

static int projects_from_csv(const char *s, lo_principal_t *p)
{
    p->n_projects = 0;
    while (*s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        if (p->n_projects >= LO_TOKEN_MAX_PROJECTS ||
            !lo_uuid_parse((lo_str_t){ s, n }, p->projects[p->n_projects]))
            return LO_ERROR;
        p->n_projects++;
        s += n + (comma ? 1 : 0);
    }
    return LO_OK;
}

/* Asks the database.  LO_OK (found, active), LO_DENIED (unknown or
 * revoked), LO_UNAVAIL (no answer). */
static int lookup(lo_auth_t *a, const uint8_t key[32], lo_principal_t *out)
{
    if (a->pool == NULL)
        return LO_UNAVAIL;
    PGconn *c = lo_pg_pool_get(a->pool, POOL_WAIT_MS);
    if (c == NULL)
        return LO_UNAVAIL;
    const char *values[1] = { (const char *)key };
    int lengths[1] = { 32 }, formats[1] = { 1 };
    const Oid types[1] = { 17 /* bytea */ };
    PGresult *r = PQexecParams(c,
                               "SELECT id, array_to_string(scopes, ','), array_to_string(project_ids, ',') "
                               "FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL",
                               1, types, values, lengths, formats, 0);
    int rc;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        lo_log_error("token lookup failed", "sqlstate=%s", state ? state : "none");
        rc = LO_UNAVAIL;
    } else if (PQntuples(r) == 0) {
        rc = LO_DENIED;
    } else {
        memset(out, 0, sizeof(*out));
        out->token_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        out->scopes = lo_scopes_from_csv(PQgetvalue(r, 0, 1));
        rc = LO_OK;
        if (projects_from_csv(PQgetvalue(r, 0, 2), out) != LO_OK) {
            /* token create refuses more than LO_TOKEN_MAX_PROJECTS; fail closed */
            lo_log_error("token has too many or malformed projects", "token_id=%" PRId64, out->token_id);
            rc = LO_DENIED;
        }
    }
    PQclear(r);
    lo_pg_pool_put(a->pool, c, PQstatus(c) != CONNECTION_OK);
    return rc;
}

int lo_auth_check(lo_auth_t *a, const char *authorization, lo_principal_t *out)
{
    const char *tok;
    if (!parse_header(authorization, &tok))
        return LO_DENIED;
    uint8_t key[32];
    if (sha256(a->sha256, tok, 46, key) != LO_OK)
        return LO_ERROR;
    int64_t now = lo_mono_ns();
    pthread_mutex_lock(&a->mu);
    bool was_valid;
    int hit = cache_find(a, key, now, out, &was_valid);
    pthread_mutex_unlock(&a->mu);
    if (hit >= 0)
        return hit == 1 ? LO_OK : LO_DENIED;
    /* while the database is failing, do not make every request wait for it */
    if (now < atomic_load_explicit(&a->down_until, memory_order_relaxed))
        return LO_UNAVAIL;
    pthread_mutex_lock(&a->mu);
    /* One look-up per token at a time: a burst of requests with a token
     * not yet cached waits for the first one's answer. */
    for (;;) {
        int i = 0;
        while (i < a->lookups && memcmp(a->inflight[i], key, 32) != 0)
            i++;
        if (i == a->lookups)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 2;
        if (pthread_cond_timedwait(&a->landed, &a->mu, &ts) != 0)
            break;
        int got = cache_find(a, key, lo_mono_ns(), out, &was_valid);
        if (got >= 0) {
            pthread_mutex_unlock(&a->mu);
            return got == 1 ? LO_OK : LO_DENIED;
        }
    }
    double t = a->lookup_tokens + (double)(now - a->lookup_last_ns) * 1e-9 * a->lookup_rate;
    a->lookup_tokens = t > a->lookup_rate ? a->lookup_rate : t;
    a->lookup_last_ns = now;
    /* A token valid until its entry expired is checked again even when
     * the budget is spent (only real tokens reach the positive cache, so
     * a flood of random ones cannot use this way in). */
    bool go = (a->lookup_tokens >= 1.0 || was_valid) && a->lookups < a->lookups_max;
    if (go) {
        a->lookup_tokens -= a->lookup_tokens >= 1.0 ? 1.0 : 0.0;
        memcpy(a->inflight[a->lookups++], key, 32);
    }
    pthread_mutex_unlock(&a->mu);
    if (!go)
        return LO_BUSY;
    int rc = lookup(a, key, out);
    if (rc == LO_OK)
        cache_put(a, key, now, out);
    else if (rc == LO_DENIED)
        cache_put(a, key, now, NULL);
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->lookups; i++) {
        if (memcmp(a->inflight[i], key, 32) == 0) {
            memcpy(a->inflight[i], a->inflight[a->lookups - 1], 32);
            break;
        }
    }
    a->lookups--;
    pthread_cond_broadcast(&a->landed);
    pthread_mutex_unlock(&a->mu);
    if (rc == LO_UNAVAIL)
        atomic_store_explicit(&a->down_until, lo_mono_ns() + DOWN_NS, memory_order_relaxed);
    return rc;
}

bool lo_principal_has_scope(const lo_principal_t *p, unsigned scope)
{
    if (p->scopes & LO_SCOPE_ADMIN)
        return true;
    return scope != 0 && (p->scopes & scope) == scope;
}

bool lo_principal_allows_project(const lo_principal_t *p, const uint8_t project[16])
{
    if (p->n_projects == 0)
        return true;
    if (project == NULL)
        return false;
    for (size_t i = 0; i < p->n_projects && i < LO_TOKEN_MAX_PROJECTS; i++)
        if (memcmp(p->projects[i], project, 16) == 0)
            return true;
    return false;
}
