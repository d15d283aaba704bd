/*
 * Token checks, token and project management against a real PostgreSQL.
 * Includes auth.c to look into the cache (its size bound) from outside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "auth/auth.c"
#include "auth/token.h"
#include "otlp/otlp.h"
#include "pg_harness.h"
#include "store/store.h"

static char conninfo[1024];
static PGconn *db;
static lo_pg_pool_t *pool;

static int setup(void **state)
{
    (void)state;
    char err[256];
    pgt_fresh_db("lo_t_auth", conninfo, sizeof(conninfo));
    db = lo_store_connect(conninfo, err, sizeof(err));
    assert_non_null(db);
    assert_int_equal(lo_store_migrate(db, err, sizeof(err)), LO_OK);
    pool = lo_pg_pool_create(conninfo, 2);
    assert_non_null(pool);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lo_pg_pool_destroy(pool);
    PQfinish(db);
    pgt_drop_db("lo_t_auth");
    return 0;
}

static lo_auth_t *auth_with_ttl(lo_pg_pool_t *p, int64_t seconds)
{
    lo_config_t cfg;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    cfg.token_cache_seconds = seconds;
    cfg.token_lookups_per_second = 1000000; /* the bounds have a test of their own */
    cfg.http_threads = 8;
    lo_auth_t *a = lo_auth_create(&cfg, p);
    lo_config_free(&cfg);
    assert_non_null(a);
    return a;
}

static void bearer(const char *token, char *out, size_t n)
{
    snprintf(out, n, "Bearer %s", token);
}

static int64_t make_token(const char *name, unsigned scopes, const uint8_t (*projects)[16], size_t np,
                          char token[LO_TOKEN_LEN + 1])
{
    char err[256];
    int64_t id = 0;
    int rc = lo_token_create(db, name, scopes, projects, np, token, &id, err, sizeof(err));
    if (rc != LO_OK)
        fail_msg("token create: %s", err);
    return id;
}

static void test_generate_shape(void **state)
{
    (void)state;
    char a[LO_TOKEN_LEN + 1], b[LO_TOKEN_LEN + 1];
    uint8_t ha[32], hb[32];
    assert_int_equal(lo_token_generate(a, ha), LO_OK);
    assert_int_equal(lo_token_generate(b, hb), LO_OK);
    assert_int_equal(strlen(a), LO_TOKEN_LEN);
    assert_memory_equal(a, "lo_", 3);
    for (size_t i = 3; i < LO_TOKEN_LEN; i++)
        assert_true(isalnum((unsigned char)a[i]) || a[i] == '-' || a[i] == '_');
    assert_string_not_equal(a, b);
    assert_memory_not_equal(ha, hb, 32);
    uint8_t again[32];
    assert_int_equal(sha256(EVP_sha256(), a, LO_TOKEN_LEN, again), LO_OK);
    assert_memory_equal(again, ha, 32);
}

static void test_scopes(void **state)
{
    (void)state;
    unsigned s = 0;
    char buf[64];
    assert_int_equal(lo_scopes_parse("ingest,observe:read", &s), LO_OK);
    assert_int_equal(s, LO_SCOPE_INGEST | LO_SCOPE_OBSERVE_READ);
    assert_int_equal(lo_scopes_parse(" admin , alert:manage ", &s), LO_OK);
    assert_int_equal(s, LO_SCOPE_ADMIN | LO_SCOPE_ALERT_MANAGE);
    assert_int_equal(lo_scopes_parse("ingest,", &s), LO_INVALID);
    assert_int_equal(lo_scopes_parse("", &s), LO_INVALID);
    assert_int_equal(lo_scopes_parse("Ingest", &s), LO_INVALID);
    assert_int_equal(lo_scopes_parse("observe", &s), LO_INVALID);
    assert_int_equal(lo_scopes_parse(NULL, &s), LO_INVALID);
    assert_int_equal(lo_scopes_format(LO_SCOPE_OBSERVE_READ | LO_SCOPE_INGEST, buf, sizeof(buf)), LO_OK);
    assert_string_equal(buf, "ingest,observe:read");
    assert_int_equal(lo_scopes_format(15, buf, 10), LO_INVALID);

    lo_principal_t p = { .scopes = LO_SCOPE_INGEST };
    assert_true(lo_principal_has_scope(&p, LO_SCOPE_INGEST));
    assert_false(lo_principal_has_scope(&p, LO_SCOPE_OBSERVE_READ));
    assert_false(lo_principal_has_scope(&p, LO_SCOPE_INGEST | LO_SCOPE_OBSERVE_READ));
    p.scopes = LO_SCOPE_ADMIN;
    assert_true(lo_principal_has_scope(&p, LO_SCOPE_ALERT_MANAGE));
    assert_true(lo_principal_has_scope(&p, LO_SCOPE_INGEST | LO_SCOPE_OBSERVE_READ));

    uint8_t a[16] = { 1 }, b[16] = { 2 };
    assert_true(lo_principal_allows_project(&p, a)); /* unbound */
    p.n_projects = 1;
    memcpy(p.projects[0], a, 16);
    assert_true(lo_principal_allows_project(&p, a));
    assert_false(lo_principal_allows_project(&p, b));
    assert_false(lo_principal_allows_project(&p, NULL));
}

static void test_create_list_revoke(void **state)
{
    (void)state;
    char err[256], tok[LO_TOKEN_LEN + 1];
    uint8_t proj[2][16];
    assert_int_equal(lo_project_create(db, "list-a", false, proj[0], err, sizeof(err)), LO_OK);
    assert_int_equal(proj[0][6] >> 4, 4);      /* version 4 */
    assert_int_equal(proj[0][8] & 0xc0, 0x80); /* RFC 4122 variant */
    assert_int_equal(lo_project_create(db, "list-b", true, proj[1], err, sizeof(err)), LO_OK);
    assert_int_equal(lo_project_create(db, "list-b", true, proj[1], err, sizeof(err)), LO_EXISTS);
    assert_non_null(strstr(err, "already exists"));
    assert_int_equal(pgt_int(db, "SELECT count(*) FROM projects WHERE name = 'list-b' AND public"), 1);

    int64_t id =
        make_token("list", LO_SCOPE_INGEST | LO_SCOPE_ALERT_MANAGE, (const uint8_t(*)[16])proj, 2, tok);
    assert_true(id > 0);
    /* only the hash is stored */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM api_tokens WHERE id = %lld AND token_sha256 = sha256('%s'::bytea)",
             (long long)id, tok);
    assert_int_equal(pgt_int(db, sql), 1);

    lo_token_list_t l;
    assert_int_equal(lo_token_list(db, &l, err, sizeof(err)), LO_OK);
    const lo_token_info_t *t = NULL;
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].id == id)
            t = &l.items[i];
    assert_non_null(t);
    assert_string_equal(t->name, "list");
    assert_string_equal(t->scopes, "ingest,alert:manage");
    char u0[37], u1[37], both[80];
    lo_uuid_format(proj[0], u0);
    lo_uuid_format(proj[1], u1);
    snprintf(both, sizeof(both), "%s,%s", u0, u1);
    assert_string_equal(t->projects, both);
    assert_null(t->revoked_at);
    assert_int_equal(strlen(t->created_at), 20);
    lo_token_list_free(&l);
    lo_token_list_free(NULL);

    bool already = true;
    assert_int_equal(lo_token_revoke(db, id, &already, err, sizeof(err)), LO_OK);
    assert_false(already);
    assert_int_equal(lo_token_revoke(db, id, &already, err, sizeof(err)), LO_OK);
    assert_true(already);
    assert_int_equal(lo_token_revoke(db, 999999, &already, err, sizeof(err)), LO_NOT_FOUND);
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_tokens WHERE id = %lld AND revoked_at IS NOT NULL",
             (long long)id);
    assert_int_equal(pgt_int(db, sql), 1);
}

static void test_create_validation(void **state)
{
    (void)state;
    char err[256], tok[LO_TOKEN_LEN + 1], name[1000];
    int64_t id;
    uint8_t missing[1][16] = { { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x41, 0x11, 0x81 } };
    assert_int_equal(lo_token_create(db, "x", 0, NULL, 0, tok, &id, err, sizeof(err)), LO_INVALID);
    assert_int_equal(lo_token_create(db, "", LO_SCOPE_INGEST, NULL, 0, tok, &id, err, sizeof(err)),
                     LO_INVALID);
    assert_int_equal(lo_token_create(db, "a\nb", LO_SCOPE_INGEST, NULL, 0, tok, &id, err, sizeof(err)),
                     LO_INVALID);
    assert_int_equal(lo_token_create(db, "\xff", LO_SCOPE_INGEST, NULL, 0, tok, &id, err, sizeof(err)),
                     LO_INVALID);
    memset(name, 'a', 201);
    name[201] = '\0';
    assert_int_equal(lo_token_create(db, name, LO_SCOPE_INGEST, NULL, 0, tok, &id, err, sizeof(err)),
                     LO_INVALID);
    name[200] = '\0';
    assert_int_equal(lo_token_create(db, name, LO_SCOPE_INGEST, NULL, 0, tok, &id, err, sizeof(err)), LO_OK);
    /* 200 characters of two bytes each are still 200 characters */
    for (int i = 0; i < 200; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[400] = '\0';
    assert_int_equal(lo_token_create(db, name, LO_SCOPE_INGEST, NULL, 0, tok, &id, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_token_create(db, "p", LO_SCOPE_INGEST, (const uint8_t(*)[16])missing, 1, tok, &id,
                                     err, sizeof(err)),
                     LO_NOT_FOUND);
    assert_non_null(strstr(err, "does not exist"));
    assert_int_equal(lo_token_create(db, "p", LO_SCOPE_INGEST, NULL, LO_TOKEN_MAX_PROJECTS + 1, tok, &id, err,
                                     sizeof(err)),
                     LO_INVALID);
}

static void test_check_cache_and_revoke(void **state)
{
    (void)state;
    char err[256], tok[LO_TOKEN_LEN + 1], h[128];
    uint8_t proj[1][16];
    assert_int_equal(lo_project_create(db, "check", false, proj[0], err, sizeof(err)), LO_OK);
    int64_t id = make_token("check", LO_SCOPE_INGEST, (const uint8_t(*)[16])proj, 1, tok);
    lo_auth_t *a = auth_with_ttl(pool, 1);
    lo_principal_t p;
    bearer(tok, h, sizeof(h));
    assert_int_equal(lo_auth_check(a, h, &p), LO_OK);
    assert_int_equal(p.token_id, id);
    assert_int_equal(p.scopes, LO_SCOPE_INGEST);
    assert_int_equal(p.n_projects, 1);
    assert_memory_equal(p.projects[0], proj[0], 16);
    assert_true(lo_principal_allows_project(&p, proj[0]));

    bool already;
    assert_int_equal(lo_token_revoke(db, id, &already, err, sizeof(err)), LO_OK);
    memset(&p, 0, sizeof(p));
    assert_int_equal(lo_auth_check(a, h, &p), LO_OK); /* still cached */
    assert_int_equal(p.token_id, id);
    usleep(1100 * 1000);
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED); /* expired, then refused */
    lo_auth_destroy(a);
    lo_auth_destroy(NULL);
}

static void test_negative_cache(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], h[128], sql[256];
    uint8_t sha[32];
    assert_int_equal(lo_token_generate(tok, sha), LO_OK);
    bearer(tok, h, sizeof(h));
    lo_auth_t *a = auth_with_ttl(pool, 1);
    lo_principal_t p;
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    /* the token appears in the database: the negative answer holds until expiry */
    snprintf(sql, sizeof(sql),
             "INSERT INTO api_tokens (name, token_sha256, scopes) VALUES ('late', sha256('%s'::bytea), "
             "'{observe:read}')",
             tok);
    pgt_exec(db, sql);
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    usleep(1100 * 1000);
    assert_int_equal(lo_auth_check(a, h, &p), LO_OK);
    assert_int_equal(p.scopes, LO_SCOPE_OBSERVE_READ);
    assert_int_equal(p.n_projects, 0);
    lo_auth_destroy(a);
}

static size_t live_entries(lo_auth_t *a, bool positive)
{
    size_t n = 0, total = positive ? POS_SETS * WAYS : NEG_SETS * WAYS;
    int64_t now = lo_mono_ns();
    for (size_t i = 0; i < total; i++)
        n += positive ? a->pos[i].expires > now : a->neg[i].expires > now;
    return n;
}

/* A flood of random well-formed tokens neither grows the cache nor evicts
 * the answers for real tokens. */
static void test_negative_bound(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], h[128], err[256];
    int64_t id = make_token("flood", LO_SCOPE_INGEST, NULL, 0, tok);
    lo_auth_t *a = auth_with_ttl(pool, 60);
    lo_principal_t p;
    char good[128];
    bearer(tok, good, sizeof(good));
    assert_int_equal(lo_auth_check(a, good, &p), LO_OK);
    bool already;
    assert_int_equal(lo_token_revoke(db, id, &already, err, sizeof(err)), LO_OK);
    size_t flood = NEG_SETS * WAYS + 1000;
    for (size_t i = 0; i < flood; i++) {
        uint8_t sha[32];
        assert_int_equal(lo_token_generate(tok, sha), LO_OK);
        bearer(tok, h, sizeof(h));
        assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    }
    assert_true(live_entries(a, false) <= NEG_SETS * WAYS);
    assert_true(live_entries(a, false) > NEG_SETS * WAYS / 2);
    assert_int_equal(live_entries(a, true), 1);
    assert_int_equal(lo_auth_check(a, good, &p), LO_OK); /* still the cached answer */
    lo_auth_destroy(a);
}

static void test_malformed_headers(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], h[700];
    uint8_t sha[32];
    assert_int_equal(lo_token_generate(tok, sha), LO_OK);
    /* no pool: a header that reached the database would answer LO_UNAVAIL */
    lo_auth_t *a = auth_with_ttl(NULL, 10);
    lo_principal_t p;
    const char *bad[] = { "",
                          "Bearer",
                          "Bearer ",
                          "Basic dXNlcjpwYXNz",
                          "Bearerlo_x",
                          "lo_abc",
                          "Bearer lo_short",
                          "Bearer  ",
                          "Token lo_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
    assert_int_equal(lo_auth_check(a, NULL, &p), LO_DENIED);
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++)
        assert_int_equal(lo_auth_check(a, bad[i], &p), LO_DENIED);
    snprintf(h, sizeof(h), "Bearer %sx", tok);
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    snprintf(h, sizeof(h), "Bearer %.45s", tok);
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    snprintf(h, sizeof(h), "Bearer %s", tok);
    h[20] = '+';
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    snprintf(h, sizeof(h), "Bearer %s", tok);
    h[7] = 'L';
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    memset(h, ' ', sizeof(h) - 1);
    h[sizeof(h) - 1] = '\0';
    memcpy(h, "Bearer ", 7);
    memcpy(h + 300, tok, LO_TOKEN_LEN); /* too long as a whole */
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    /* well-formed ones do go on to the (missing) database */
    snprintf(h, sizeof(h), "bEaReR \t %s \t", tok);
    assert_int_equal(lo_auth_check(a, h, &p), LO_UNAVAIL);
    snprintf(h, sizeof(h), "Bearer %s", tok);
    assert_int_equal(lo_auth_check(a, h, &p), LO_UNAVAIL);
    lo_auth_destroy(a);
}

static void test_unreachable(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], h[128];
    uint8_t sha[32];
    assert_int_equal(lo_token_generate(tok, sha), LO_OK);
    bearer(tok, h, sizeof(h));
    lo_pg_pool_t *dead = lo_pg_pool_create(pgt_closed_conninfo(), 1);
    lo_auth_t *a = auth_with_ttl(dead, 10);
    lo_principal_t p;
    assert_int_equal(lo_auth_check(a, h, &p), LO_UNAVAIL);
    /* for a second, misses answer at once without trying the database */
    int64_t t0 = lo_mono_ns();
    for (int i = 0; i < 100; i++)
        assert_int_equal(lo_auth_check(a, h, &p), LO_UNAVAIL);
    assert_true(lo_mono_ns() - t0 < 50 * 1000000LL);
    usleep(1100 * 1000);
    assert_int_equal(lo_auth_check(a, h, &p), LO_UNAVAIL); /* tried again: still down, not cached */
    lo_auth_destroy(a);
    lo_pg_pool_destroy(dead);

    /* the database coming back is noticed within a second */
    assert_int_equal(lo_token_generate(tok, sha), LO_OK);
    bearer(tok, h, sizeof(h));
    a = auth_with_ttl(pool, 10);
    atomic_store(&a->down_until, lo_mono_ns() + DOWN_NS);
    assert_int_equal(lo_auth_check(a, h, &p), LO_UNAVAIL);
    usleep(1100 * 1000);
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    lo_auth_destroy(a);
}

typedef struct {
    lo_auth_t *a;
    const char *good, *bad;
    int ok;
} race_t;

static void *race(void *arg)
{
    race_t *r = arg;
    lo_principal_t p;
    for (int i = 0; i < 300; i++) {
        if (lo_auth_check(r->a, r->good, &p) == LO_OK && p.scopes == LO_SCOPE_INGEST)
            r->ok++;
        if (lo_auth_check(r->a, r->bad, &p) != LO_DENIED)
            r->ok = -100000;
    }
    return NULL;
}

/* Look-ups of unknown tokens are bounded: past token_lookups_per_second
 * a check answers LO_BUSY without the database; cached tokens still pass. */
static void test_lookup_bound(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], good[128], h[128];
    make_token("bound", LO_SCOPE_INGEST, NULL, 0, tok);
    bearer(tok, good, sizeof(good));
    lo_config_t cfg;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    cfg.token_lookups_per_second = 5;
    lo_auth_t *a = lo_auth_create(&cfg, pool);
    lo_config_free(&cfg);
    assert_non_null(a);
    lo_principal_t p;
    assert_int_equal(lo_auth_check(a, good, &p), LO_OK); /* one look-up: now cached */
    int declined = 0, busy = 0;
    for (int i = 0; i < 50; i++) {
        uint8_t sha[32];
        assert_int_equal(lo_token_generate(tok, sha), LO_OK);
        bearer(tok, h, sizeof(h));
        int rc = lo_auth_check(a, h, &p);
        declined += rc == LO_DENIED;
        busy += rc == LO_BUSY;
    }
    assert_true(declined >= 3 && declined <= 6); /* the bucket's 4 left, plus what refilled */
    assert_int_equal(declined + busy, 50);
    assert_int_equal(lo_auth_check(a, good, &p), LO_OK);
    uint8_t sha[32];
    assert_int_equal(lo_token_generate(tok, sha), LO_OK);
    bearer(tok, h, sizeof(h));
    assert_int_equal(lo_auth_check(a, h, &p), LO_BUSY);
    usleep(1100 * 1000); /* the bucket refills: the same token now reaches the database */
    assert_int_equal(lo_auth_check(a, h, &p), LO_DENIED);
    lo_auth_destroy(a);
}

typedef struct {
    lo_auth_t *a;
    const char *h;
    int rc;
} burst_t;

static void *burst_one(void *arg)
{
    burst_t *b = arg;
    lo_principal_t p;
    b->rc = lo_auth_check(b->a, b->h, &p);
    return NULL;
}

/* A burst of requests with one token not yet cached shares one look-up:
 * none is refused for the concurrency bound. */
static void test_lookup_single_flight(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], good[128];
    make_token("burst", LO_SCOPE_INGEST, NULL, 0, tok);
    bearer(tok, good, sizeof(good));
    lo_config_t cfg;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    cfg.http_threads = 1; /* one look-up at a time */
    lo_auth_t *a = lo_auth_create(&cfg, pool);
    lo_config_free(&cfg);
    burst_t b[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (burst_t){ a, good, -100 };
        assert_int_equal(pthread_create(&th[i], NULL, burst_one, &b[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(b[i].rc, LO_OK);
    }
    lo_auth_destroy(a);
}

static void test_threads(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], good[128], bad[128];
    make_token("threads", LO_SCOPE_INGEST, NULL, 0, tok);
    bearer(tok, good, sizeof(good));
    uint8_t sha[32];
    assert_int_equal(lo_token_generate(tok, sha), LO_OK);
    bearer(tok, bad, sizeof(bad));
    lo_auth_t *a = auth_with_ttl(pool, 0); /* no cache: every check queries */
    lo_auth_t *b = auth_with_ttl(pool, 10);
    race_t r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (race_t){ i % 2 ? a : b, good, bad, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].ok, 300);
    }
    lo_auth_destroy(a);
    lo_auth_destroy(b);
}

/* The cached path is what every ingest request pays. */
static void test_hit_cost(void **state)
{
    (void)state;
    char tok[LO_TOKEN_LEN + 1], h[128];
    make_token("cost", LO_SCOPE_INGEST, NULL, 0, tok);
    bearer(tok, h, sizeof(h));
    lo_auth_t *a = auth_with_ttl(pool, 60);
    lo_principal_t p;
    assert_int_equal(lo_auth_check(a, h, &p), LO_OK);
    int n = 100000;
    int64_t t0 = lo_mono_ns();
    for (int i = 0; i < n; i++)
        assert_int_equal(lo_auth_check(a, h, &p), LO_OK);
    int64_t per = (lo_mono_ns() - t0) / n;
    print_message("cached token check: %lld ns\n", (long long)per);
    assert_true(per < 20000);
    lo_auth_destroy(a);
}

static void test_missing_schema(void **state)
{
    (void)state;
    char ci[1024], err[256], tok[LO_TOKEN_LEN + 1];
    pgt_fresh_db("lo_t_auth_empty", ci, sizeof(ci));
    PGconn *c = pgt_connect(ci);
    lo_token_list_t l;
    assert_int_not_equal(lo_token_list(c, &l, err, sizeof(err)), LO_OK);
    assert_non_null(strstr(err, "lookout migrate"));
    int64_t id;
    assert_int_not_equal(lo_token_create(c, "x", LO_SCOPE_INGEST, NULL, 0, tok, &id, err, sizeof(err)),
                         LO_OK);
    assert_non_null(strstr(err, "lookout migrate"));
    uint8_t u[16];
    assert_int_not_equal(lo_project_create(c, "x", false, u, err, sizeof(err)), LO_OK);
    assert_non_null(strstr(err, "lookout migrate"));
    PQfinish(c);
    pgt_drop_db("lo_t_auth_empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_shape),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_create_list_revoke),
        cmocka_unit_test(test_create_validation),
        cmocka_unit_test(test_check_cache_and_revoke),
        cmocka_unit_test(test_negative_cache),
        cmocka_unit_test(test_negative_bound),
        cmocka_unit_test(test_malformed_headers),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_lookup_bound),
        cmocka_unit_test(test_lookup_single_flight),
        cmocka_unit_test(test_hit_cost),
        cmocka_unit_test(test_missing_schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
