/* The per-project token buckets, on an injected clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "ingest/ratelimit.h"

#define MS  1000000LL
#define SEC 1000000000LL

static int64_t fake_now;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

static lo_ratelimit_t *mk(int64_t rate, int64_t burst, size_t max_projects)
{
    fake_now = 1000 * SEC;
    lo_ratelimit_t *rl = lo_ratelimit_create_ex(rate, burst, max_projects, fake_clock, NULL);
    assert_non_null(rl);
    return rl;
}

static void test_refill_math(void **state)
{
    (void)state;
    lo_ratelimit_t *rl = mk(10, 0, 16); /* burst = one second of rate */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 10), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 99 * MS; /* 0.99 records */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 1 * MS; /* exactly 1 */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 350 * MS;                                      /* 3.5 */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 4), LO_BUSY); /* refused: takes nothing */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 3), LO_OK);
    fake_now += 50 * MS; /* 0.5 + 0.5 */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 3600 * SEC; /* refills to the burst, no further */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 10), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 0), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, NULL, -5), LO_OK);
    lo_ratelimit_destroy(rl);
    lo_ratelimit_destroy(NULL);
}

static void test_burst_and_debt(void **state)
{
    (void)state;
    lo_ratelimit_t *rl = mk(100, 5, 16);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 5), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 10 * MS;
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_OK);
    fake_now += SEC; /* full: 5 */
    /* a request larger than the burst passes on a full bucket and leaves a debt */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 105), LO_OK); /* -100 */
    fake_now += SEC;                                           /* 0 */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    assert_int_equal(lo_ratelimit_retry_after(rl, NULL, 1), 1);
    assert_int_equal(lo_ratelimit_retry_after(rl, NULL, 500), 1); /* needs the burst: 5 records, 50 ms */
    fake_now += 10 * MS;
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_OK);
    lo_ratelimit_destroy(rl);

    rl = mk(2, 10, 16);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 10), LO_OK);
    assert_int_equal(lo_ratelimit_retry_after(rl, NULL, 1), 1);
    assert_int_equal(lo_ratelimit_retry_after(rl, NULL, 3), 2); /* 1.5 s */
    assert_int_equal(lo_ratelimit_retry_after(rl, NULL, 10), 5);
    assert_int_equal(lo_ratelimit_retry_after(rl, NULL, 1000), 5);
    lo_ratelimit_destroy(rl);
}

static void test_extremes(void **state)
{
    (void)state;
    lo_ratelimit_t *rl = mk(1000000000, 1000000000, 16);
    assert_int_equal(lo_ratelimit_take(rl, NULL, INT64_MAX), LO_OK); /* charged 4e9: debt 3e9 */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 3 * SEC;
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 1;
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_OK);
    fake_now = INT64_MAX / 2; /* a huge gap refills without overflow */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1000000000), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now -= SEC; /* a clock going back does not refill (or un-refill) */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    lo_ratelimit_destroy(rl);

    rl = mk(1, 1, 16); /* slowest */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_OK);
    fake_now += SEC - 1;
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    fake_now += 1;
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_OK);
    lo_ratelimit_destroy(rl);

    assert_null(lo_ratelimit_create_ex(-1, 0, 16, fake_clock, NULL));
    assert_null(lo_ratelimit_create_ex(2000000000, 0, 16, fake_clock, NULL));
}

static void test_unlimited(void **state)
{
    (void)state;
    lo_config_t cfg;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    assert_int_equal(cfg.rate_limit_records, 0);
    lo_ratelimit_t *rl = lo_ratelimit_create(&cfg);
    assert_non_null(rl);
    uint8_t p[16] = { 7 };
    for (int i = 0; i < 1000; i++)
        assert_int_equal(lo_ratelimit_take(rl, p, 1000000), LO_OK);
    lo_ratelimit_destroy(rl);
    cfg.rate_limit_records = 50;
    rl = lo_ratelimit_create(&cfg);
    assert_int_equal(lo_ratelimit_take(rl, p, 50), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, p, 1), LO_BUSY);
    lo_ratelimit_destroy(rl);
    lo_config_free(&cfg);
}

static void test_projects_separate(void **state)
{
    (void)state;
    lo_ratelimit_t *rl = mk(10, 10, 64);
    uint8_t a[16] = { 1 }, b[16] = { 2 };
    assert_int_equal(lo_ratelimit_take(rl, a, 10), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, a, 1), LO_BUSY);
    assert_int_equal(lo_ratelimit_take(rl, b, 10), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, b, 1), LO_BUSY);
    assert_int_equal(lo_ratelimit_take(rl, NULL, 10), LO_OK); /* no project: a bucket of its own */
    assert_int_equal(lo_ratelimit_take(rl, NULL, 1), LO_BUSY);
    lo_ratelimit_destroy(rl);
}

/* With room for 8 projects, the 9th shares the overflow bucket while the
 * others are busy, and takes over an idle one once it has refilled. */
static void test_bounded_table(void **state)
{
    (void)state;
    lo_ratelimit_t *rl = mk(10, 10, 8);
    uint8_t p[20][16];
    memset(p, 0, sizeof(p));
    for (int i = 0; i < 20; i++)
        p[i][0] = (uint8_t)(i + 1);
    for (int i = 0; i < 8; i++)
        assert_int_equal(lo_ratelimit_take(rl, p[i], 10), LO_OK);
    assert_int_equal(lo_ratelimit_take(rl, p[8], 6), LO_OK);   /* overflow bucket */
    assert_int_equal(lo_ratelimit_take(rl, p[9], 6), LO_BUSY); /* shares it */
    assert_int_equal(lo_ratelimit_take(rl, p[9], 4), LO_OK);
    for (int i = 10; i < 20; i++)
        assert_int_equal(lo_ratelimit_take(rl, p[i], 1), LO_BUSY);
    fake_now += SEC; /* everyone idle and full again */
    for (int i = 10; i < 18; i++)
        assert_int_equal(lo_ratelimit_take(rl, p[i], 10), LO_OK); /* each took over an idle slot */
    assert_int_equal(lo_ratelimit_take(rl, p[0], 10), LO_OK);     /* overflow again (full after 1 s) */
    assert_int_equal(lo_ratelimit_take(rl, p[1], 1), LO_BUSY);
    lo_ratelimit_destroy(rl);
}

typedef struct {
    lo_ratelimit_t *rl;
    const uint8_t *project;
    long admitted;
} worker_t;

static void *worker(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < 20000; i++)
        if (lo_ratelimit_take(w->rl, w->project, 1) == LO_OK)
            w->admitted++;
    return NULL;
}

static void test_threads_exact(void **state)
{
    (void)state;
    lo_ratelimit_t *rl = mk(1000, 5000, 64);
    uint8_t proj[16] = { 9 };
    worker_t w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){ rl, proj, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    long total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += w[i].admitted;
    }
    assert_int_equal(total, 5000); /* the clock stood still: exactly the burst */
    lo_ratelimit_destroy(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refill_math),       cmocka_unit_test(test_burst_and_debt),
        cmocka_unit_test(test_extremes),          cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_projects_separate), cmocka_unit_test(test_bounded_table),
        cmocka_unit_test(test_threads_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
