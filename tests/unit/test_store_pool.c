/* The connection pool against a real PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "core/lo.h"
#include "pg_harness.h"
#include "store/pool.h"

static void test_get_put_reuse(void **state)
{
    (void)state;
    lo_pg_pool_t *p = lo_pg_pool_create(pgt_base_url(), 2);
    assert_non_null(p);
    PGconn *a = lo_pg_pool_get(p, 1000);
    assert_non_null(a);
    int pid = PQbackendPID(a);
    lo_pg_pool_put(p, a, false);
    PGconn *b = lo_pg_pool_get(p, 1000);
    assert_non_null(b);
    assert_int_equal(PQbackendPID(b), pid); /* the open connection is reused */
    lo_pg_pool_put(p, b, false);
    lo_pg_pool_destroy(p);
    lo_pg_pool_destroy(NULL);
}

static void test_bounded_wait(void **state)
{
    (void)state;
    lo_pg_pool_t *p = lo_pg_pool_create(pgt_base_url(), 2);
    PGconn *a = lo_pg_pool_get(p, 1000);
    PGconn *b = lo_pg_pool_get(p, 1000);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    int64_t t0 = lo_mono_ns();
    assert_null(lo_pg_pool_get(p, 100)); /* all out: times out */
    int64_t waited = lo_mono_ns() - t0;
    assert_true(waited >= 90 * 1000000LL && waited < 2000 * 1000000LL);
    assert_null(lo_pg_pool_get(p, 0));
    lo_pg_pool_put(p, a, false);
    PGconn *c = lo_pg_pool_get(p, 0);
    assert_ptr_equal(c, a);
    lo_pg_pool_put(p, b, false);
    lo_pg_pool_put(p, c, false);
    lo_pg_pool_destroy(p);
}

static void test_broken_and_dirty_replaced(void **state)
{
    (void)state;
    lo_pg_pool_t *p = lo_pg_pool_create(pgt_base_url(), 1);
    PGconn *a = lo_pg_pool_get(p, 1000);
    int pid = PQbackendPID(a);
    lo_pg_pool_put(p, a, true);
    PGconn *b = lo_pg_pool_get(p, 1000);
    assert_non_null(b);
    assert_int_not_equal(PQbackendPID(b), pid);
    /* left inside a transaction: not handed out again */
    pid = PQbackendPID(b);
    PQclear(PQexec(b, "BEGIN"));
    lo_pg_pool_put(p, b, false);
    PGconn *c = lo_pg_pool_get(p, 1000);
    assert_non_null(c);
    assert_int_not_equal(PQbackendPID(c), pid);
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    /* killed by the server while idle in the pool: noticed and replaced
     * by the next get */
    pid = PQbackendPID(c);
    lo_pg_pool_put(p, c, false);
    PGconn *k = pgt_connect(pgt_base_url());
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 5000)", pid);
    pgt_exec(k, sql);
    PQfinish(k);
    usleep(50 * 1000);
    PGconn *d = lo_pg_pool_get(p, 1000);
    assert_non_null(d);
    assert_int_not_equal(PQbackendPID(d), pid);
    PGresult *r = PQexec(d, "SELECT 1");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    lo_pg_pool_put(p, d, false);
    lo_pg_pool_destroy(p);
}

static void test_unreachable(void **state)
{
    (void)state;
    lo_pg_pool_t *p = lo_pg_pool_create(pgt_closed_conninfo(), 2);
    assert_null(lo_pg_pool_get(p, 100));
    assert_null(lo_pg_pool_get(p, 100)); /* the slot was given back */
    assert_null(lo_pg_pool_get(p, 100));
    lo_pg_pool_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put_reuse),
        cmocka_unit_test(test_bounded_wait),
        cmocka_unit_test(test_broken_and_dirty_replaced),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
