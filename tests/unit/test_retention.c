/* The retention rules (store/retention.h): the acceptance window, the
 * partition range that covers it, hot windows, and which partitions may be
 * dropped without upkeep re-creating them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "store/retention.h"

#define H (3600LL * 1000000000LL)
#define D (24 * H)

static lo_retention_t make(const char *max_age, const char *ahead)
{
    lo_config_t cfg;
    char err[256];
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    if (max_age)
        assert_int_equal(lo_config_set(&cfg, "ingest_max_age_hours", max_age, err, sizeof(err)), LO_OK);
    if (ahead)
        assert_int_equal(lo_config_set(&cfg, "partition_days_ahead", ahead, err, sizeof(err)), LO_OK);
    lo_retention_t r;
    assert_int_equal(lo_retention_init(&r, &cfg, err, sizeof(err)), LO_OK);
    lo_config_free(&cfg);
    return r;
}

static void test_defaults(void **state)
{
    (void)state;
    lo_retention_t r = make(NULL, NULL);
    int64_t now = 1780000000LL * 1000000000LL + 12345;
    int64_t oldest, newest;
    lo_retention_window(&r, now, &oldest, &newest);
    assert_true(oldest == now - 168 * H);
    assert_true(newest == now + 24 * H);
    assert_int_equal(r.partitions.days_back, 8);
    assert_int_equal(r.partitions.days_ahead, 2);
    assert_true(lo_retention_hot_start(&r, LO_SIGNAL_LOGS, now) == now - 48 * H);
    assert_true(lo_retention_hot_start(&r, LO_SIGNAL_SPANS, now) == now - 48 * H);
    assert_true(lo_retention_hot_start(&r, LO_SIGNAL_METRICS, now) == now - 1 * H);
}

/* Every accepted time has a partition day in the kept range, and nothing
 * droppable is a day an accepted record could land in, for many "now"s and
 * windows. */
static void test_partitions_cover_the_window(void **state)
{
    (void)state;
    static const char *const ages[] = { "1", "23", "24", "25", "47", "48", "168", "8760" };
    for (size_t a = 0; a < LO_ARRAY_LEN(ages); a++) {
        lo_retention_t r = make(ages[a], "1");
        for (int64_t now = 1780000000LL * 1000000000LL; now < 1780000000LL * 1000000000LL + 2 * D;
             now += 7 * H + 13) {
            int64_t oldest, newest;
            lo_retention_window(&r, now, &oldest, &newest);
            int64_t today = now / D;
            int64_t first = today - r.partitions.days_back, last = today + r.partitions.days_ahead;
            assert_true(oldest / D >= first);
            assert_true(newest / D <= last);
            int64_t drop = lo_retention_droppable_before(&r, now);
            assert_true(drop % D == 0);
            assert_true(drop <= oldest);    /* no accepted record below it */
            assert_true(drop / D <= first); /* upkeep does not re-create what is dropped */
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_partitions_cover_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
