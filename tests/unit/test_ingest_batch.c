/* Group commit batch sizing: batches follow the writer's commit rate
 * (about 250 ms of work, at least 2,000 records, at most batch_max_records).
 * Includes ingest.c to reach its statics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/ingest/ingest.c"

static void test_cap_unknown_rate_is_max(void **state)
{
    (void)state;
    lo_writer_t w = { 0 };
    assert_int_equal(batch_cap(&w, 20000), 20000);
}

static void test_cap_follows_rate(void **state)
{
    (void)state;
    lo_writer_t w = { 0 };
    note_rate(&w, 5000, 1000000000LL);            /* 5k records/s: slow database */
    assert_int_equal(batch_cap(&w, 20000), 2000); /* floor */
    note_rate(&w, 20000, 100000000LL);            /* 200k/s */
    /* 0.7 * 5k + 0.3 * 200k = 63.5k/s -> 250 ms = 15,875 */
    assert_int_equal(batch_cap(&w, 20000), 15875);
    note_rate(&w, 20000, 50000000LL);              /* 400k/s */
    assert_int_equal(batch_cap(&w, 20000), 20000); /* ceiling */
    assert_int_equal(batch_cap(&w, 100), 100);     /* a smaller configured max wins over the floor */
    note_rate(&w, 10, 0);                          /* no time measured: ignored */
    assert_true(w.rate > 100000);
}

static void test_take_batch_respects_cap(void **state)
{
    (void)state;
    lo_ingest_queue_t q;
    memset(&q, 0, sizeof(q));
    lo_ingest_req_t r[4];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 4; i++) {
        r[i].batch.n = 1500;
        r[i].next = i < 3 ? &r[i + 1] : NULL;
    }
    q.head = &r[0];
    q.tail = &r[3];
    size_t n;
    lo_ingest_req_t *l = take_batch(&q, 2000, &n);
    assert_ptr_equal(l, &r[0]);
    assert_int_equal(n, 1500); /* a second request would pass the cap */
    assert_null(l->next);
    l = take_batch(&q, 100, &n);
    assert_int_equal(n, 1500); /* at least one request, whatever the cap */
    l = take_batch(&q, 5000, &n);
    assert_int_equal(n, 3000);
    assert_null(q.head);
    assert_null(q.tail);
}

/* Admission in time: what is queued ahead must be committable within
 * queue_max_wait at the writers' measured rate; an empty queue admits. */
static void test_admission_by_rate(void **state)
{
    (void)state;
    lo_ingest_t *in = calloc(1, sizeof(*in));
    assert_non_null(in);
    in->started = true;
    in->set.queue_max_bytes = (size_t)1 << 30;
    in->set.queue_max_wait_ns = 1000000000LL;
    lo_ingest_queue_t *q = &in->q[LO_SIGNAL_LOGS];
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->signal = LO_SIGNAL_LOGS;
    q->rate = 1000; /* records/s */
    lo_ingest_req_t r[4];
    memset(r, 0, sizeof(r));
    size_t n[4] = { 1500, 600, 500, 300 };
    for (int i = 0; i < 4; i++) {
        r[i].batch.signal = LO_SIGNAL_LOGS;
        r[i].batch.n = n[i];
        r[i].bytes = 100;
    }
    assert_int_equal(lo_ingest_submit(in, &r[0]), LO_OK); /* empty queue: admitted whatever its size */
    size_t got;
    assert_non_null(take_batch(q, 20000, &got)); /* a writer takes it */
    assert_int_equal(q->records, 0);
    assert_int_equal(lo_ingest_submit(in, &r[1]), LO_OK);   /* 600 queued */
    assert_int_equal(lo_ingest_submit(in, &r[2]), LO_BUSY); /* 1,100 > 1 s at 1,000/s */
    assert_int_equal(lo_ingest_submit(in, &r[3]), LO_OK);   /* 900 */
    assert_int_equal(q->records, 900);
    assert_non_null(take_all(q));
    assert_int_equal(q->records, 0);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_unknown_rate_is_max),
        cmocka_unit_test(test_cap_follows_rate),
        cmocka_unit_test(test_take_batch_respects_cap),
        cmocka_unit_test(test_admission_by_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
