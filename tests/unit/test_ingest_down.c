/* PostgreSQL away: requests are answered LO_UNAVAIL (503), submit refuses
 * while it is away, and the writers recover by themselves when it returns.
 * A loopback proxy (tcpproxy.h) plays the database going away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest_harness.h"
#include "tcpproxy.h"

static char conninfo[1024];

static treq_t *one_log(const char *msg)
{
    treq_t *t = treq_new(LO_SIGNAL_LOGS);
    lo_log_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    r->env.service = S("svc");
    r->time_ns = lo_now_ns();
    r->level = S("info");
    r->message = lo_str(msg, strlen(msg));
    return t;
}

/* Submits until the outcome is want (for LO_UNAVAIL: until submit itself
 * refuses) or the time is up; returns the last submit code, the request's
 * result in *result. */
static int submit_until(lo_ingest_t *in, const char *msg, int want, int timeout_ms, int *result)
{
    int64_t until = lo_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        treq_t *t = one_log(msg);
        int rc = lo_ingest_submit(in, &t->req);
        int res = rc == LO_OK ? treq_wait(t, 15000) : rc;
        treq_free(t);
        bool done = want == LO_UNAVAIL ? rc == LO_UNAVAIL : res == want;
        if (done || lo_mono_ns() > until) {
            if (result != NULL)
                *result = res;
            return rc;
        }
        usleep(50 * 1000);
    }
}

static void test_never_reachable(void **state)
{
    (void)state;
    lo_ingest_t *in = it_start(pgt_closed_conninfo(), 1, NULL, false);
    int res;
    assert_int_equal(submit_until(in, "x", LO_UNAVAIL, 5000, &res), LO_UNAVAIL);
    assert_int_equal(res, LO_UNAVAIL);
    assert_false(lo_ingest_ready(in));
    /* stop does not hang on an unreachable database */
    int64_t t0 = lo_mono_ns();
    lo_ingest_destroy(in);
    assert_true(lo_mono_ns() - t0 < 5000LL * 1000000);
}

static void test_down_and_back(void **state)
{
    (void)state;
    char direct[1024];
    it_fresh_schema("lo_t_down", direct, sizeof(direct));
    tcp_proxy_t px;
    proxy_start(&px, pgt_port(pgt_base_url()));
    pgt_conninfo_port(pgt_base_url(), "lo_t_down", px.port, conninfo, sizeof(conninfo));
    lo_ingest_t *in = it_start(conninfo, 2, NULL, true);

    int res;
    assert_int_equal(submit_until(in, "before", LO_OK, 5000, &res), LO_OK);
    assert_int_equal(res, LO_OK);

    /* away: a request queued gets 503 (or, if an idle writer noticed
     * first, submit refuses it), then submit refuses at once */
    proxy_set_up(&px, false);
    treq_t *t = one_log("during");
    int rc = lo_ingest_submit(in, &t->req);
    if (rc == LO_OK)
        assert_int_equal(treq_wait(t, 15000), LO_UNAVAIL);
    else
        assert_int_equal(rc, LO_UNAVAIL);
    treq_free(t);
    assert_int_equal(submit_until(in, "during", LO_UNAVAIL, 5000, &res), LO_UNAVAIL);
    assert_false(lo_ingest_ready(in));

    /* back: recovery without help, within a few reconnect rounds */
    proxy_set_up(&px, true);
    int64_t t0 = lo_mono_ns();
    assert_int_equal(submit_until(in, "after", LO_OK, 10000, &res), LO_OK);
    assert_int_equal(res, LO_OK);
    assert_true(lo_mono_ns() - t0 < 5000LL * 1000000);
    for (int i = 0; i < 300 && !lo_ingest_ready(in); i++)
        usleep(10000);
    assert_true(lo_ingest_ready(in));

    /* away while idle: readiness drops within a few idle rounds, with no
     * request to notice it; and comes back likewise */
    proxy_set_up(&px, false);
    for (int i = 0; i < 400 && lo_ingest_ready(in); i++)
        usleep(10000);
    assert_false(lo_ingest_ready(in));
    proxy_set_up(&px, true);
    for (int i = 0; i < 400 && !lo_ingest_ready(in); i++)
        usleep(10000);
    assert_true(lo_ingest_ready(in));

    /* a short blip: whether the writers noticed it while idle (503s until
     * they reconnect) or only at the next write (reconnect, retry once),
     * requests succeed again within a reconnect round or two */
    proxy_set_up(&px, false);
    proxy_set_up(&px, true);
    assert_int_equal(submit_until(in, "after-blip", LO_OK, 5000, &res), LO_OK);
    assert_int_equal(res, LO_OK);

    PGconn *c = pgt_connect(direct);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries WHERE message = 'before'"), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries WHERE message = 'during'"), 0);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries WHERE message = 'after'"), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries WHERE message = 'after-blip'"), 1);
    /* only answered requests were stored: nothing of a 503 */
    PQfinish(c);
    lo_ingest_destroy(in);
    proxy_stop(&px);
    pgt_drop_db("lo_t_down");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_never_reachable),
        cmocka_unit_test(test_down_and_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
