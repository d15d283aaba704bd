/*
 * query_harness.h — what the tests of src/query share: a private database
 * (created from LO_TEST_DATABASE_URL, migrated with every sql/migrations file,
 * dropped at exit), requests built by hand, principals, and a stand-in for
 * the HTTP layer's parameter and error functions (api.h), so that handlers
 * run exactly as the API listener calls them, without a socket.
 *
 * Include it from one test program only (it defines functions).
 */
#ifndef QUERY_HARNESS_H
#define QUERY_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glob.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "core/json_write.h"
#include "query/query.h"

/* ---- the HTTP layer's side of api.h, for tests ---- */

typedef struct {
    int n;
    const char *k[48];
    const char *v[48];
} tq_params_t;

const char *lo_api_param(const lo_api_req_t *r, const char *name, bool *dup)
{
    const tq_params_t *p = r->http;
    const char *found = NULL;
    if (dup)
        *dup = false;
    for (int i = 0; p && i < p->n; i++) {
        if (strcmp(p->k[i], name) != 0)
            continue;
        if (found && dup)
            *dup = true;
        if (!found)
            found = p->v[i];
    }
    return found;
}

void lo_api_params_each(const lo_api_req_t *r, void (*fn)(void *ud, const char *k, const char *v), void *ud)
{
    const tq_params_t *p = r->http;
    for (int i = 0; p && i < p->n; i++)
        fn(ud, p->k[i], p->v[i]);
}

int lo_api_error(lo_api_resp_t *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lo_buf_reset(&resp->body);
    lo_jw_t w;
    lo_jw_init(&w, &resp->body);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "error", 5);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "code", 4), lo_jw_cstr(&w, code);
    lo_jw_key(&w, "message", 7), lo_jw_cstr(&w, msg);
    lo_jw_obj_end(&w);
    lo_jw_obj_end(&w);
    resp->status = status;
    return LO_OK;
}

/* ---- database ---- */

static PGconn *tq_db;
static PGconn *tq_admin;
static char tq_dbname[64];

static void tq_exec(const char *sql)
{
    PGresult *r = PQexec(tq_db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "SQL failed: %s\n%.300s\n", PQerrorMessage(tq_db), sql);
        PQclear(r);
        exit(1);
    }
    PQclear(r);
}

static char *tq_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

static void tq_db_drop(void)
{
    if (tq_db)
        PQfinish(tq_db);
    tq_db = NULL;
    if (tq_admin) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", tq_dbname);
        PQclear(PQexec(tq_admin, sql));
        PQfinish(tq_admin);
    }
    tq_admin = NULL;
}

/* Creates and migrates a private database; exits (failing the test) when
 * LO_TEST_DATABASE_URL is unset or unusable. */
static void tq_db_create(const char *name)
{
    const char *url = getenv("LO_TEST_DATABASE_URL");
    if (!url || !*url) {
        fprintf(stderr, "LO_TEST_DATABASE_URL is not set (run through make unit / scripts/with-pg.sh)\n");
        exit(1);
    }
    tq_admin = PQconnectdb(url);
    if (PQstatus(tq_admin) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s\n", PQerrorMessage(tq_admin));
        exit(1);
    }
    snprintf(tq_dbname, sizeof tq_dbname, "lo_tq_%s_%d", name, (int)getpid());
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", tq_dbname);
    PGresult *r = PQexec(tq_admin, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "create database: %s\n", PQerrorMessage(tq_admin));
        exit(1);
    }
    PQclear(r);
    atexit(tq_db_drop);
    const char *keys[] = { "dbname", "dbname", NULL };
    const char *vals[] = { url, tq_dbname, NULL };
    tq_db = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(tq_db) != CONNECTION_OK) {
        fprintf(stderr, "cannot connect: %s\n", PQerrorMessage(tq_db));
        exit(1);
    }
    PQclear(PQexec(tq_db, "SET client_min_messages = warning"));
    glob_t g;
    if (glob("sql/migrations/[0-9][0-9][0-9]_*.sql", 0, NULL, &g) != 0) {
        fprintf(stderr, "no migrations found (run from the repository root)\n");
        exit(1);
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *s = tq_read_file(g.gl_pathv[i]);
        if (!s) {
            fprintf(stderr, "cannot read %s\n", g.gl_pathv[i]);
            exit(1);
        }
        tq_exec(s);
        free(s);
    }
    globfree(&g);
    tq_exec("SELECT lo_ensure_partitions(3, 1)");
}

/* ---- principals ---- */

static void tq_uuid_bytes(const char *s, uint8_t out[16])
{
    int o = 0;
    for (int i = 0; s[i] && o < 32; i++) {
        if (s[i] == '-')
            continue;
        int v = s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10;
        if (o % 2 == 0)
            out[o / 2] = (uint8_t)(v << 4);
        else
            out[o / 2] |= (uint8_t)v;
        o++;
    }
}

static lo_principal_t tq_principal(unsigned scopes, const char *project1, const char *project2)
{
    lo_principal_t p;
    memset(&p, 0, sizeof p);
    p.token_id = 1;
    p.scopes = scopes;
    if (project1)
        tq_uuid_bytes(project1, p.projects[p.n_projects++]);
    if (project2)
        tq_uuid_bytes(project2, p.projects[p.n_projects++]);
    return p;
}

/* ---- requests ---- */

typedef struct {
    int rc;
    int status;
    json_t *json; /* parsed body (NULL when not JSON) */
    char *text;
} tq_resp_t;

static void tq_resp_free(tq_resp_t *r)
{
    json_decref(r->json);
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* GET path with parameters given as name, value pairs ending with NULL. */
static tq_resp_t tq_get(const lo_principal_t *who, const char *path, ...)
{
    tq_params_t params = { 0 };
    va_list ap;
    va_start(ap, path);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        params.k[params.n] = k;
        params.v[params.n] = va_arg(ap, const char *);
        params.n++;
    }
    va_end(ap);
    lo_api_req_t req = { .method = "GET", .path = path, .who = who, .db = tq_db, .http = &params };
    lo_api_resp_t resp = { .status = 0 };
    lo_buf_init(&resp.body, 32 << 20);
    tq_resp_t out = { 0 };
    out.rc = lo_query_handle(&req, &resp);
    out.status = resp.status;
    size_t n = 0;
    out.text = lo_buf_detach(&resp.body, &n);
    if (out.text) {
        json_error_t e;
        out.json = json_loadb(out.text, n, 0, &e);
        if (!out.json)
            fprintf(stderr, "response is not JSON: %s\n%.500s\n", e.text, out.text);
    }
    lo_buf_free(&resp.body);
    return out;
}

/* Asserts a 4xx answer with the error shape; returns its message. */
static const char *tq_expect_error(tq_resp_t *r, int status)
{
    if (r->status != status)
        fprintf(stderr, "expected %d, got %d: %s\n", status, r->status, r->text ? r->text : "");
    assert_int_equal(r->rc, LO_OK);
    assert_int_equal(r->status, status);
    assert_non_null(r->json);
    json_t *e = json_object_get(r->json, "error");
    assert_non_null(e);
    assert_true(json_is_string(json_object_get(e, "code")));
    const char *m = json_string_value(json_object_get(e, "message"));
    assert_non_null(m);
    assert_true(strlen(m) > 10);
    return m;
}

static void tq_expect_ok(tq_resp_t *r)
{
    if (r->status != 200)
        fprintf(stderr, "expected 200, got %d: %s\n", r->status, r->text ? r->text : "");
    assert_int_equal(r->rc, LO_OK);
    assert_int_equal(r->status, 200);
    assert_non_null(r->json);
}

/* Unix microseconds of "now", truncated to the minute, minus minutes. */
static int64_t tq_base_us(int minutes_ago)
{
    int64_t now = lo_now_ns() / 1000;
    return (now / 60000000 - minutes_ago) * 60000000;
}

#endif
