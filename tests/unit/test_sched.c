/* The scheduler (sched/sched.h): registration rules, run-now, orderly
 * stop, and the election lock across two processes on one database —
 * with a control run without the lock that shows the test can fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_harness.h"
#include "sched/sched.h"
#include "store/locks.h"

static char conninfo[1024];
static atomic_int counter;

static int count_run(PGconn *db, void *arg, char *err, size_t errlen)
{
    (void)db, (void)arg, (void)err, (void)errlen;
    atomic_fetch_add(&counter, 1);
    return LO_OK;
}

static void test_add_and_run_now(void **state)
{
    (void)state;
    pgt_fresh_db("lo_t_sched", conninfo, sizeof(conninfo));
    lo_sched_t *s = lo_sched_create(conninfo);
    assert_non_null(s);
    lo_task_t t = { .name = "count", .period_ms = 1000, .run = count_run };
    assert_int_equal(lo_sched_add(s, &t), LO_OK);
    assert_int_equal(lo_sched_add(s, &t), LO_ERROR); /* the name repeats */
    lo_task_t bad = t;
    bad.name = "Bad-Name";
    assert_int_equal(lo_sched_add(s, &bad), LO_ERROR);
    bad.name = "zero";
    bad.period_ms = 0;
    assert_int_equal(lo_sched_add(s, &bad), LO_ERROR);
    char err[256];
    atomic_store(&counter, 0);
    assert_int_equal(lo_sched_run_now(s, "count", err, sizeof(err)), LO_OK);
    assert_int_equal(atomic_load(&counter), 1);
    assert_int_equal(lo_sched_run_now(s, "nope", err, sizeof(err)), LO_NOT_FOUND);
    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_sched_render_metrics(s, &b);
    assert_non_null(strstr(b.p, "lookout_task_runs_total{task=\"count\",result=\"ok\"} 1\n"));
    lo_buf_free(&b);
    lo_sched_destroy(s);
}

static void test_periodic_and_stop(void **state)
{
    (void)state;
    lo_sched_t *s = lo_sched_create(conninfo);
    lo_task_t t = { .name = "count", .period_ms = 20, .jitter_ms = 5, .run = count_run };
    assert_int_equal(lo_sched_add(s, &t), LO_OK);
    atomic_store(&counter, 0);
    assert_int_equal(lo_sched_start(s), LO_OK);
    for (int i = 0; i < 200 && atomic_load(&counter) < 5; i++)
        usleep(10000);
    assert_true(atomic_load(&counter) >= 5);
    int64_t t0 = lo_mono_ns();
    lo_sched_stop(s);
    assert_true(lo_mono_ns() - t0 < 1000000000LL); /* a waiting task stops at once */
    int after = atomic_load(&counter);
    usleep(100000);
    assert_int_equal(atomic_load(&counter), after);
    lo_sched_destroy(s);
}

/* A task waiting out a long period runs at once when woken, once per
 * wake, and only the task named. */
static void test_wake(void **state)
{
    (void)state;
    lo_sched_t *s = lo_sched_create(conninfo);
    lo_task_t t = { .name = "count", .period_ms = 3600 * 1000, .run = count_run };
    lo_task_t other = { .name = "other", .period_ms = 3600 * 1000, .run = count_run };
    assert_int_equal(lo_sched_add(s, &t), LO_OK);
    assert_int_equal(lo_sched_add(s, &other), LO_OK);
    atomic_store(&counter, 0);
    assert_int_equal(lo_sched_start(s), LO_OK);
    for (int i = 0; i < 500 && atomic_load(&counter) < 2; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&counter), 2); /* each ran once at start */
    usleep(100000);
    lo_sched_wake(s, "count");
    for (int i = 0; i < 500 && atomic_load(&counter) < 3; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&counter), 3);
    usleep(200000);
    assert_int_equal(atomic_load(&counter), 3); /* "other" was not woken */
    lo_sched_wake(s, "nope");
    lo_sched_wake(NULL, "count");
    lo_sched_stop(s);
    lo_sched_destroy(s);
}

/* Records [start, end) of each run, 50 ms long, with the process id. */
static int timed_run(PGconn *db, void *arg, char *err, size_t errlen)
{
    (void)arg;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO sched_runs (who, t0, t1) SELECT %d, a, clock_timestamp() "
             "FROM (SELECT clock_timestamp() AS a, pg_sleep(0.05)) x",
             (int)getpid());
    PGresult *r = PQexec(db, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? LO_OK : LO_ERROR;
    if (rc != LO_OK)
        snprintf(err, errlen, "%s", PQerrorMessage(db));
    PQclear(r);
    return rc;
}

/* Two processes run the task for a second; returns the overlapping runs. */
static long long two_nodes(int64_t lock_key, long long *runs, long long *skipped)
{
    PGconn *c = pgt_connect(conninfo);
    pgt_exec(
        c,
        "DROP TABLE IF EXISTS sched_runs; CREATE TABLE sched_runs (who int, t0 timestamptz, t1 timestamptz)");
    lo_task_t t = {
        .name = "timed", .period_ms = 10, .jitter_ms = 10, .lock_key = lock_key, .run = timed_run
    };
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    lo_sched_t *s = lo_sched_create(conninfo);
    if (s == NULL || lo_sched_add(s, &t) != LO_OK || lo_sched_start(s) != LO_OK)
        _exit(1);
    usleep(1000 * 1000);
    lo_sched_stop(s);
    if (child == 0)
        _exit(0);
    int st = 0;
    waitpid(child, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    lo_buf_t b;
    lo_buf_init(&b, 0);
    lo_sched_render_metrics(s, &b);
    const char *k = strstr(b.p, "result=\"skipped\"} ");
    *skipped = k != NULL ? atoll(k + 18) : -1;
    lo_buf_free(&b);
    lo_sched_destroy(s);
    *runs = pgt_int(c, "SELECT count(*) FROM sched_runs");
    long long overlaps = pgt_int(c, "SELECT count(*) FROM sched_runs a JOIN sched_runs b ON a.ctid < b.ctid "
                                    "AND a.t0 < b.t1 AND b.t0 < a.t1");
    PQfinish(c);
    return overlaps;
}

static void test_election_across_processes(void **state)
{
    (void)state;
    long long runs, skipped;
    /* control: without the lock both processes run at once */
    assert_true(two_nodes(0, &runs, &skipped) > 0);
    assert_int_equal(skipped, 0);
    /* with the lock: never two runs at once, and the loser skips */
    assert_int_equal(two_nodes(LO_LOCK_TASK_TEST, &runs, &skipped), 0);
    assert_true(runs >= 5);
    PGconn *c = pgt_connect(conninfo);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
    PQfinish(c);
    pgt_drop_db("lo_t_sched");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_run_now),
        cmocka_unit_test(test_periodic_and_stop),
        cmocka_unit_test(test_wake),
        cmocka_unit_test(test_election_across_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
