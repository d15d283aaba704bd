/* The settings table (core/config.h): enum choices, per-entry checks,
 * cross-field checks, and sensitive values never printed nor quoted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

static int load(char *err, size_t errlen, const char *a1, const char *a2)
{
    char *argv[] = { (char *)a1, (char *)a2, NULL };
    int argc = a2 != NULL ? 2 : 1, argi = 0;
    lo_config_t c;
    int rc = lo_config_load(&c, argc, argv, &argi, err, errlen);
    lo_config_free(&c);
    return rc;
}

static void test_enum_and_checks(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(load(err, sizeof(err), "--log-level=verbose", NULL), LO_INVALID);
    assert_non_null(strstr(err, "not one of debug info warn error"));
    assert_int_equal(load(err, sizeof(err), "--log-level=warn", NULL), LO_OK);
    static const char *const bad[] = { "--otlp-addr=localhost", "--otlp-addr=1.2.3.4:", "--otlp-addr=h:99999",
                                       "--otlp-addr=h:4a", "--api-addr=[::1:80" };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++)
        if (load(err, sizeof(err), bad[i], NULL) != LO_INVALID || strstr(err, "host:port") == NULL)
            fail_msg("%s accepted (%s)", bad[i], err);
    static const char *const good[] = { "--otlp-addr=127.0.0.1:4318", "--otlp-addr=[::1]:4318",
                                        "--otlp-addr=:0", "--api-addr=example.org:8080" };
    for (size_t i = 0; i < LO_ARRAY_LEN(good); i++)
        if (load(err, sizeof(err), good[i], NULL) != LO_OK)
            fail_msg("%s refused: %s", good[i], err);
}

static void test_together(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(load(err, sizeof(err), "--rate-limit-burst=10", NULL), LO_INVALID);
    assert_non_null(strstr(err, "rate_limit_records"));
    assert_int_equal(load(err, sizeof(err), "--rate-limit-burst=10", "--rate-limit-records=5"), LO_OK);
    assert_int_equal(load(err, sizeof(err), "--otlp-addr=127.0.0.1:9000", "--api-addr=127.0.0.1:9000"),
                     LO_INVALID);
    assert_non_null(strstr(err, "same address"));
    /* two ephemeral ports are two addresses */
    assert_int_equal(load(err, sizeof(err), "--otlp-addr=127.0.0.1:0", "--api-addr=127.0.0.1:0"), LO_OK);
}

static void test_sensitive(void **state)
{
    (void)state;
    assert_true(lo_config_sensitive("database_url"));
    assert_false(lo_config_sensitive("otlp_addr"));
    assert_false(lo_config_sensitive("nope"));
    char err[256];
    assert_int_equal(load(err, sizeof(err), "--database-url=", NULL), LO_INVALID);
    lo_config_t c;
    int argi = 0;
    char *argv[] = { "--database-url=postgresql://u:hunter2@db/lookout", NULL };
    assert_int_equal(lo_config_load(&c, 1, argv, &argi, err, sizeof(err)), LO_OK);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    lo_config_print_effective(&c, f);
    fclose(f);
    assert_null(strstr(out, "hunter2"));
    assert_non_null(strstr(out, "database_url=[set, not shown]\n"));
    assert_non_null(strstr(out, "otlp_addr=127.0.0.1:4318\n"));
    free(out);
    lo_config_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enum_and_checks),
        cmocka_unit_test(test_together),
        cmocka_unit_test(test_sensitive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
