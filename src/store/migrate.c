/*
 * migrate.c — schema migrations, partition upkeep, readiness, and the
 * connection helpers shared by the store's users.
 */
#include "store/locks.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"

/* Advisory lock keys (any constants unique to lookout in this database). */
#define LOCK_MIGRATE    LO_LOCK_MIGRATE
#define LOCK_PARTITIONS LO_LOCK_PARTITIONS

int lo_store_latest_version(void)
{
    int v = 0;
    for (size_t i = 0; i < lo_migrations_count; i++)
        if (lo_migrations[i].version > v)
            v = lo_migrations[i].version;
    return v;
}

/* NOTICEs ("relation already exists, skipping") are not worth a log line. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *lo_store_connect(const char *conninfo, char *err, size_t errlen)
{
    /* Earlier keywords are overridden by what conninfo itself sets.  The
     * keepalives and tcp_user_timeout notice a vanished server in ~20 s
     * instead of the kernel's hours. */
    const char *keys[] = { "connect_timeout",
                           "application_name",
                           "keepalives",
                           "keepalives_idle",
                           "keepalives_interval",
                           "keepalives_count",
                           "tcp_user_timeout",
                           "dbname",
                           NULL };
    const char *vals[] = { "5", "lookout", "1", "10", "5", "2", "20000", conninfo, NULL };
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        lo_store_errmsg(c, NULL, err, errlen);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, ignore_notice, NULL);
    return c;
}

bool lo_store_conn_alive(PGconn *c)
{
    if (c == NULL || PQstatus(c) != CONNECTION_OK)
        return false;
    /* the first read takes what the server sent before closing (a FATAL
     * message), the second meets the end of the stream */
    for (int i = 0; i < 2; i++) {
        if (PQconsumeInput(c) == 0)
            return false;
        (void)PQisBusy(c); /* parses what arrived */
        PGnotify *n;
        while ((n = PQnotifies(c)) != NULL)
            PQfreemem(n);
    }
    return PQstatus(c) == CONNECTION_OK;
}

PGresult *lo_store_exec(PGconn *c, const char *sql, int n, const char *const *vals, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    size_t l = strlen(err);
    while (l > 0 && (err[l - 1] == '\n' || err[l - 1] == ' '))
        err[--l] = '\0';
    PQclear(r);
    return NULL;
}

void lo_store_errmsg(PGconn *c, const PGresult *res, char *err, size_t errlen)
{
    const char *m = res != NULL ? PQresultErrorMessage(res) : NULL;
    if (m == NULL || *m == '\0')
        m = c != NULL ? PQerrorMessage(c) : "no connection";
    /* one line: the first line of the message, trailing newline dropped */
    size_t n = strcspn(m, "\n");
    if (n >= errlen)
        n = errlen - 1;
    /* logfmt values are quoted by callers; keep quotes out */
    for (size_t i = 0; i < n; i++)
        err[i] = m[i] == '"' ? '\'' : m[i];
    err[n] = '\0';
}

int lo_store_error_class(PGconn *c, const PGresult *res)
{
    if (c == NULL || PQstatus(c) != CONNECTION_OK)
        return LO_UNAVAIL;
    const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (st == NULL)
        return LO_UNAVAIL; /* no SQLSTATE: the failure came from libpq */
    /* 08 connection exception, 53 insufficient resources, 57P admin
     * shutdown / crash / cannot connect now, 58 system error, 40 rollback
     * (serialization, deadlock), 25006 read-only (a standby after a
     * failover), 42P01/42703/42883 a table, column or function missing (the
     * schema is older than this binary, mid-upgrade): retryable, not the
     * data's fault. */
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "53", 2) == 0 || strncmp(st, "57P", 3) == 0 ||
        strncmp(st, "58", 2) == 0 || strncmp(st, "40", 2) == 0 || strcmp(st, "25006") == 0 ||
        strcmp(st, "42P01") == 0 || strcmp(st, "42703") == 0 || strcmp(st, "42883") == 0)
        return LO_UNAVAIL;
    return LO_ERROR;
}

/* Runs one command without parameters; LO_OK or the error class. */
static int exec_cmd(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = LO_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        lo_store_errmsg(c, r, err, errlen);
        rc = lo_store_error_class(c, r);
    }
    PQclear(r);
    return rc;
}

static int exec_lock(PGconn *c, const char *fn, long long key, char *err, size_t errlen)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT %s(%lld)", fn, key);
    return exec_cmd(c, sql, err, errlen);
}

/* Versions recorded in schema_migrations: a bitmap indexed by version. */
static int applied_versions(PGconn *c, bool *seen, int max_version, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, "SELECT version FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        lo_store_errmsg(c, r, err, errlen);
        int rc = lo_store_error_class(c, r);
        PQclear(r);
        return rc;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        int v = atoi(PQgetvalue(r, i, 0));
        if (v >= 0 && v <= max_version)
            seen[v] = true;
    }
    PQclear(r);
    return LO_OK;
}

static int apply_one(PGconn *c, const lo_migration_t *m, char *err, size_t errlen)
{
    int rc = exec_cmd(c, "BEGIN", err, errlen);
    if (rc != LO_OK)
        return rc;
    rc = exec_cmd(c, m->sql, err, errlen);
    if (rc == LO_OK) {
        char v[16];
        snprintf(v, sizeof(v), "%d", m->version);
        const char *params[] = { v, m->name };
        PGresult *r = PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
                                   NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            lo_store_errmsg(c, r, err, errlen);
            rc = lo_store_error_class(c, r);
        }
        PQclear(r);
    }
    if (rc == LO_OK)
        rc = exec_cmd(c, "COMMIT", err, errlen);
    if (rc != LO_OK) {
        char ignored[8];
        (void)exec_cmd(c, "ROLLBACK", ignored, sizeof(ignored));
        size_t n = strlen(err);
        if (n + 1 < errlen) {
            char tail[256];
            snprintf(tail, sizeof(tail), " (migration %s)", m->name);
            snprintf(err + n, errlen - n, "%s", tail);
        }
    }
    return rc;
}

int lo_store_migrate(PGconn *c, char *err, size_t errlen)
{
    int max_version = lo_store_latest_version();
    bool *seen = calloc((size_t)max_version + 1, sizeof(bool));
    if (seen == NULL) {
        snprintf(err, errlen, "out of memory");
        return LO_ERROR;
    }
    bool locked = false;
    int rc = exec_lock(c, "pg_advisory_lock", LOCK_MIGRATE, err, errlen);
    if (rc != LO_OK)
        goto cleanup;
    locked = true;
    rc = exec_cmd(c,
                  "CREATE TABLE IF NOT EXISTS schema_migrations ("
                  " version integer PRIMARY KEY,"
                  " name text NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT now())",
                  err, errlen);
    if (rc != LO_OK)
        goto cleanup;
    rc = applied_versions(c, seen, max_version, err, errlen);
    if (rc != LO_OK)
        goto cleanup;
    /* lo_migrations is sorted by version (the generator sorts file names) */
    for (size_t i = 0; i < lo_migrations_count; i++) {
        const lo_migration_t *m = &lo_migrations[i];
        if (seen[m->version])
            continue;
        int64_t t0 = lo_mono_ns();
        rc = apply_one(c, m, err, errlen);
        if (rc != LO_OK)
            goto cleanup;
        lo_log_info("migration applied", "version=%d name=%s ms=%lld", m->version, m->name,
                    (long long)((lo_mono_ns() - t0) / 1000000));
    }
cleanup:
    if (locked) {
        char ignored[8];
        (void)exec_lock(c, "pg_advisory_unlock", LOCK_MIGRATE, ignored, sizeof(ignored));
    }
    free(seen);
    return rc;
}

int lo_store_ensure_partitions(PGconn *c, int days_back, int days_ahead, char *err, size_t errlen)
{
    /* The transaction-level lock serializes concurrent callers: two
     * CREATE TABLE ... PARTITION OF for one name would otherwise race. */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "BEGIN; SELECT pg_advisory_xact_lock(%lld); SELECT lo_ensure_partitions(%d, %d); COMMIT",
             LOCK_PARTITIONS, days_back, days_ahead);
    int rc = exec_cmd(c, sql, err, errlen);
    if (rc != LO_OK && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE) {
        char ignored[8];
        (void)exec_cmd(c, "ROLLBACK", ignored, sizeof(ignored));
    }
    return rc;
}

int lo_store_schema_current(PGconn *c)
{
    if (c == NULL || PQstatus(c) != CONNECTION_OK)
        return LO_UNAVAIL;
    PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int rc;
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        rc = atoi(PQgetvalue(r, 0, 0)) >= lo_store_latest_version() ? LO_OK : LO_BEHIND;
    else if (st != NULL && strcmp(st, "42P01") == 0)
        rc = LO_BEHIND; /* no schema_migrations table: never migrated */
    else if (lo_store_error_class(c, r) == LO_UNAVAIL)
        rc = LO_UNAVAIL;
    else
        rc = LO_BEHIND;
    PQclear(r);
    return rc;
}

int lo_store_partitions_task(PGconn *db, void *arg, char *err, size_t errlen)
{
    const lo_partition_range_t *r = arg;
    return lo_store_ensure_partitions(db, r->days_back, r->days_ahead, err, errlen);
}
