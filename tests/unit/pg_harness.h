/*
 * pg_harness.h — helpers for unit tests that need PostgreSQL.  The server is
 * LO_TEST_DATABASE_URL (scripts/with-pg.sh sets it); each test works in a
 * database of its own, created fresh, so tests stay independent.
 * Include after <cmocka.h>.
 */
#ifndef LO_PG_HARNESS_H
#define LO_PG_HARNESS_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *pgt_base_url(void)
{
    const char *u = getenv("LO_TEST_DATABASE_URL");
    if (u == NULL || *u == '\0')
        fail_msg("LO_TEST_DATABASE_URL is not set (run the tests with scripts/with-pg.sh)");
    return u;
}

/* A conninfo string equal to base but for database dbname (and, when port
 * is not 0, that port). */
static inline void pgt_conninfo_port(const char *base, const char *dbname, int port, char *out, size_t outlen)
{
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(base, &err);
    if (opts == NULL)
        fail_msg("bad LO_TEST_DATABASE_URL: %s", err ? err : "?");
    size_t n = 0;
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? dbname : o->val;
        if (port != 0 && strcmp(o->keyword, "port") == 0)
            v = portbuf;
        if (v == NULL || *v == '\0')
            continue;
        n += (size_t)snprintf(out + n, outlen - n, "%s='", o->keyword);
        for (const char *p = v; *p && n + 3 < outlen; p++) {
            if (*p == '\'' || *p == '\\')
                out[n++] = '\\';
            out[n++] = *p;
        }
        n += (size_t)snprintf(out + n, outlen - n, "' ");
        assert_true(n < outlen);
    }
    PQconninfoFree(opts);
}

static inline void pgt_conninfo_for(const char *base, const char *dbname, char *out, size_t outlen)
{
    pgt_conninfo_port(base, dbname, 0, out, outlen);
}

/* The port of base. */
static inline int pgt_port(const char *base)
{
    char *err = NULL;
    int port = 5432;
    PQconninfoOption *opts = PQconninfoParse(base, &err);
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
        if (strcmp(o->keyword, "port") == 0 && o->val != NULL && *o->val)
            port = atoi(o->val);
    PQconninfoFree(opts);
    return port;
}

static inline void pgt_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static inline PGconn *pgt_connect(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, pgt_quiet, NULL);
    return c;
}

/* Runs sql (no parameters) and fails the test on error. */
static inline void pgt_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* The single value of a one-row, one-column query, as text ("" for NULL);
 * copies into out. */
static inline const char *pgt_value(PGconn *c, const char *sql, char *out, size_t outlen)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s (%d rows)", sql, PQresultErrorMessage(r), PQntuples(r));
    snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

static inline long long pgt_int(PGconn *c, const char *sql)
{
    char v[64];
    return atoll(pgt_value(c, sql, v, sizeof(v)));
}

/* Drops and creates database dbname; writes its conninfo into out. */
static inline void pgt_fresh_db(const char *dbname, char *out, size_t outlen)
{
    char admin[1024], sql[256];
    pgt_conninfo_for(pgt_base_url(), "postgres", admin, sizeof(admin));
    PGconn *c = pgt_connect(admin);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", dbname);
    pgt_exec(c, sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", dbname);
    pgt_exec(c, sql);
    PQfinish(c);
    pgt_conninfo_for(pgt_base_url(), dbname, out, outlen);
}

static inline void pgt_drop_db(const char *dbname)
{
    char admin[1024], sql[256];
    pgt_conninfo_for(pgt_base_url(), "postgres", admin, sizeof(admin));
    PGconn *c = pgt_connect(admin);
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", dbname);
    pgt_exec(c, sql);
    PQfinish(c);
}

/* A conninfo that points at a port where nothing listens. */
static inline const char *pgt_closed_conninfo(void)
{
    return "host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2";
}

#endif
