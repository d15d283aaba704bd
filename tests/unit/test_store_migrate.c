/* Migrations, partitions and readiness against a real PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "pg_harness.h"
#include "store/store.h"

static char conninfo[1024];

static void test_embedded_sorted(void **state)
{
    (void)state;
    assert_true(lo_migrations_count >= 1);
    assert_int_equal(lo_migrations[0].version, 1);
    for (size_t i = 1; i < lo_migrations_count; i++)
        assert_true(lo_migrations[i].version > lo_migrations[i - 1].version);
    assert_int_equal(lo_store_latest_version(), lo_migrations[lo_migrations_count - 1].version);
    assert_non_null(strstr(lo_migrations[0].sql, "CREATE TABLE log_entries"));
}

static void test_migrate_idempotent(void **state)
{
    (void)state;
    char err[256];
    pgt_fresh_db("lo_t_migrate", conninfo, sizeof(conninfo));
    PGconn *c = lo_store_connect(conninfo, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(lo_store_schema_current(c), LO_BEHIND);
    assert_int_equal(lo_store_migrate(c, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_store_schema_current(c), LO_OK);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM schema_migrations"), (long long)lo_migrations_count);
    assert_int_equal(pgt_int(c, "SELECT max(version) FROM schema_migrations"), lo_store_latest_version());
    /* every table ingest needs (docs/architecture.md, "Data model") */
    const char *tables[] = { "projects",    "api_tokens",    "agent_sessions", "traces",           "spans",
                             "log_entries", "metric_series", "metric_samples", "schema_migrations" };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "SELECT to_regclass('%s') IS NOT NULL", tables[i]);
        char v[8];
        assert_string_equal(pgt_value(c, sql, v, sizeof(v)), "t");
    }
    /* again: nothing to do, nothing changes */
    assert_int_equal(lo_store_migrate(c, err, sizeof(err)), LO_OK);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM schema_migrations"), (long long)lo_migrations_count);
    /* the advisory lock was released */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), 0);
    PQfinish(c);
    pgt_drop_db("lo_t_migrate");
}

/* Data written before the tenant identities (version 3) survives the
 * upgrade: old series keep their ids and gain their identity, and trace
 * summaries that mixed projects are rebuilt per trace and project. */
static void test_migrate_tenant_identity(void **state)
{
    (void)state;
    char err[256];
    pgt_fresh_db("lo_t_migrate_ident", conninfo, sizeof(conninfo));
    PGconn *c = lo_store_connect(conninfo, err, sizeof(err));
    assert_non_null(c);
    pgt_exec(c, "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())");
    for (size_t i = 0; i < lo_migrations_count && lo_migrations[i].version <= 3; i++) {
        pgt_exec(c, lo_migrations[i].sql);
        char sql[128];
        snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations VALUES (%d, '%s')",
                 lo_migrations[i].version, lo_migrations[i].name);
        pgt_exec(c, sql);
    }
    pgt_exec(c, "SELECT lo_ensure_partitions(1, 1)");
    pgt_exec(c, "INSERT INTO metric_series (series_id, project_id, service, name, type, labels) VALUES "
                "(-77, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 's', 'm', 1, '{\"a\":\"1\"}')");
    /* one trace, spans of two projects, summarised as one row by the old writer */
    pgt_exec(c, "INSERT INTO spans (start_time, end_time, duration_ns, trace_id, span_id, parent_span_id, "
                "project_id, "
                "service, name, kind, status_code) VALUES "
                "(now() - interval '2 s', now(), 2000000000, '\\x01010101010101010101010101010101', "
                "'\\x0101010101010101', "
                "NULL, 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'shop', 'checkout', 2, 1), "
                "(now() - interval '1 s', now(), 1000000000, '\\x01010101010101010101010101010101', "
                "'\\x0202020202020202', "
                "'\\x0101010101010101', 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'shop', 'db', 3, 0), "
                "(now() - interval '1 s', now(), 500000000, '\\x01010101010101010101010101010101', "
                "'\\x0303030303030303', "
                "NULL, 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 'bank', 'authorize', 2, 2)");
    pgt_exec(c, "INSERT INTO traces (trace_id, project_id, service, root_span_name, start_time, end_time, "
                "status_code, span_count, error_count) VALUES ('\\x01010101010101010101010101010101', "
                "'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 'bank', 'authorize', now() - interval '2 s', now(), "
                "2, 3, 1)");
    assert_int_equal(lo_store_migrate(c, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_store_schema_current(c), LO_OK);
    char v[256];
    assert_string_equal(pgt_value(c,
                                  "SELECT series_id || ' ' || (identity = lo_series_identity(project_id, "
                                  "service, name, labels, type, resource_id)) FROM metric_series",
                                  v, sizeof(v)),
                        "-77 true");
    pgt_value(c,
              "SELECT string_agg(root_span_name || '|' || service || '|' || status_code || '|' || span_count "
              "|| '|' || "
              "error_count || '|' || left(project_id::text, 2), ',' ORDER BY project_id) FROM traces",
              v, sizeof(v));
    assert_string_equal(v, "checkout|shop|1|2|0|aa,authorize|bank|2|1|1|bb");
    PQfinish(c);
    pgt_drop_db("lo_t_migrate_ident");
}

static void *migrate_thread(void *arg)
{
    char err[256];
    PGconn *c = lo_store_connect(conninfo, err, sizeof(err));
    intptr_t rc = c == NULL ? LO_UNAVAIL : lo_store_migrate(c, err, sizeof(err));
    if (rc == LO_OK)
        rc = lo_store_ensure_partitions(c, 3, 2, err, sizeof(err));
    if (rc != LO_OK)
        fprintf(stderr, "migrate_thread: %s\n", err);
    if (c != NULL)
        PQfinish(c);
    (void)arg;
    return (void *)rc;
}

static void test_migrate_concurrent(void **state)
{
    (void)state;
    pgt_fresh_db("lo_t_migrate_conc", conninfo, sizeof(conninfo));
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&t[i], NULL, migrate_thread, NULL), 0);
    for (int i = 0; i < 6; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_int_equal((intptr_t)rc, LO_OK);
    }
    PGconn *c = pgt_connect(conninfo);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM schema_migrations"), (long long)lo_migrations_count);
    /* 3 back + today + 2 ahead = 6 daily partitions per telemetry table */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'log_entries'::regclass"),
                     6);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'spans'::regclass"), 6);
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'metric_samples'::regclass"), 6);
    /* a row of today finds its partition */
    pgt_exec(c, "INSERT INTO log_entries (time, id, service, level, severity_number, message) "
                "VALUES (now(), gen_random_uuid(), 's', 'info', 9, 'm')");
    PQfinish(c);
    pgt_drop_db("lo_t_migrate_conc");
}

static void test_partitions_extend(void **state)
{
    (void)state;
    char err[256];
    pgt_fresh_db("lo_t_partitions", conninfo, sizeof(conninfo));
    PGconn *c = lo_store_connect(conninfo, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(lo_store_migrate(c, err, sizeof(err)), LO_OK);
    assert_int_equal(lo_store_ensure_partitions(c, 0, 1, err, sizeof(err)), LO_OK);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'spans'::regclass"), 2);
    assert_int_equal(lo_store_ensure_partitions(c, 1, 3, err, sizeof(err)), LO_OK);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'spans'::regclass"), 5);
    assert_int_equal(lo_store_ensure_partitions(c, 1, 3, err, sizeof(err)), LO_OK);
    assert_int_equal(PQtransactionStatus(c), PQTRANS_IDLE);
    PQfinish(c);
    pgt_drop_db("lo_t_partitions");
}

static int class_of(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int cls = lo_store_error_class(c, r);
    PQclear(r);
    return cls;
}

static void test_error_class(void **state)
{
    (void)state;
    char err[256];
    PGconn *c = lo_store_connect(pgt_base_url(), err, sizeof(err));
    assert_non_null(c);
    /* the data's fault: rejected for good */
    assert_int_equal(class_of(c, "SELECT 'x'::int"), LO_ERROR);
    assert_int_equal(class_of(c, "SELECT 1/0"), LO_ERROR);
    /* schema missing (mid-upgrade), read-only standby, deadlock: retryable */
    assert_int_equal(class_of(c, "SELECT * FROM no_such_table_here"), LO_UNAVAIL);
    assert_int_equal(class_of(c, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '25006'; END $$"), LO_UNAVAIL);
    assert_int_equal(class_of(c, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01'; END $$"), LO_UNAVAIL);
    /* the connection gone */
    PGconn *k = pgt_connect(pgt_base_url());
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", PQbackendPID(c));
    pgt_exec(k, sql);
    PQfinish(k);
    assert_int_equal(class_of(c, "SELECT 1"), LO_UNAVAIL);
    lo_store_errmsg(c, NULL, err, sizeof(err));
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
    assert_null(strchr(err, '"'));
    PQfinish(c);
}

static void test_unreachable(void **state)
{
    (void)state;
    char err[256] = "";
    PGconn *c = lo_store_connect(pgt_closed_conninfo(), err, sizeof(err));
    assert_null(c);
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
    assert_int_equal(lo_store_schema_current(NULL), LO_UNAVAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_sorted),
        cmocka_unit_test(test_migrate_idempotent),
        cmocka_unit_test(test_migrate_tenant_identity),
        cmocka_unit_test(test_migrate_concurrent),
        cmocka_unit_test(test_partitions_extend),
        cmocka_unit_test(test_error_class),
        cmocka_unit_test(test_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
