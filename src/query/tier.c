/*
 * tier.c — one query over both tiers (docs/cold-store.md, "Queries").
 *
 * With a cold tier configured, a query that reads a rotated signal runs in
 * a REPEATABLE READ transaction: the catalog, the cold rows it loads
 * (src/cold/coldread.c) and the hot rows are read in one snapshot, so a
 * rotation committing meanwhile neither hides rows nor shows them twice.
 * The query's SQL then names lo_q_tier_from(signal) — the hot table, or
 * the hot table UNION ALL the loaded cold rows — and its own filters,
 * order and paging apply to both alike.  A caller already inside a
 * transaction (none today: the alert evaluator queries outside its own)
 * keeps its snapshot; the temporary table is emptied before each load.
 */
#include <stdio.h>
#include <string.h>

#include "cold/layout.h"
#include "query/query_internal.h"

static lo_cold_reader_t *cold_reader;

void lo_query_set_cold(lo_cold_reader_t *r)
{
    cold_reader = r;
}

void lo_q_tier_init(lo_q_tier_t *t)
{
    memset(t, 0, sizeof *t);
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        snprintf(t->from[s], sizeof t->from[s], "%s", lo_cold_layout((lo_signal_t)s)->table);
        snprintf(t->rel[s], sizeof t->rel[s], "%s", lo_cold_layout((lo_signal_t)s)->table);
    }
}

static bool tier_exec(lo_api_req_t *req, lo_api_resp_t *resp, const char *sql)
{
    PGresult *r = lo_q_exec(req, resp, sql, 0, NULL);
    PQclear(r);
    return r != NULL;
}

int lo_q_tier_begin(lo_api_req_t *req, lo_api_resp_t *resp, lo_q_tier_t *t)
{
    if (cold_reader == NULL || t->began || t->outer)
        return LO_OK;
    /* a caller's transaction (none today: the alert evaluator queries
     * outside its own) is used as it is */
    t->outer = PQtransactionStatus(req->db) != PQTRANS_IDLE;
    if (t->outer)
        return LO_OK;
    if (!tier_exec(req, resp, "BEGIN ISOLATION LEVEL REPEATABLE READ"))
        return LO_ERROR;
    t->began = true;
    return LO_OK;
}

bool lo_q_tier_active(const lo_q_tier_t *t)
{
    return t->began || t->outer;
}

int lo_q_tier_any(lo_api_req_t *req, lo_api_resp_t *resp, lo_q_tier_t *t, lo_signal_t s,
                  const lo_cold_filter_t *f, bool *any)
{
    char err[256];
    *any = false;
    if (cold_reader == NULL)
        return LO_OK;
    if (lo_q_tier_begin(req, resp, t) != LO_OK)
        return LO_ERROR;
    int rc = lo_cold_any(req->db, s, f, any, err, sizeof err);
    if (rc != LO_OK) {
        req->db_broken = rc == LO_UNAVAIL;
        lo_api_error(resp, rc == LO_UNAVAIL ? 503 : 500, rc == LO_UNAVAIL ? "unavailable" : "internal",
                     rc == LO_UNAVAIL ? "the database is unavailable; retry later"
                                      : "reading the cold tier failed");
        return LO_ERROR;
    }
    return LO_OK;
}

int lo_q_tier_load(lo_api_req_t *req, lo_api_resp_t *resp, lo_q_tier_t *t, lo_signal_t s,
                   const lo_cold_filter_t *f)
{
    if (cold_reader == NULL)
        return LO_OK;
    if (lo_q_tier_begin(req, resp, t) != LO_OK)
        return LO_ERROR;
    char err[256];
    const char *temp = lo_cold_temp_table(s);
    if (t->outer || (t->loaded & (1u << s))) {
        /* rows of an earlier load in this transaction */
        char sql[256];
        snprintf(
            sql, sizeof sql,
            "DO $$BEGIN IF to_regclass('pg_temp.%s') IS NOT NULL THEN DELETE FROM pg_temp.%s; END IF; END$$",
            temp, temp);
        if (!tier_exec(req, resp, sql))
            return LO_ERROR;
    }
    t->loaded |= 1u << s;
    int rc = lo_cold_load(cold_reader, req->db, s, f, &t->report, err, sizeof err);
    if (rc == LO_ABSENT)
        return LO_OK; /* no cold object may match: the hot table alone */
    if (rc == LO_TOO_LARGE) {
        lo_api_error(resp, 400, "too_much_data", "%s", err);
        return LO_INVALID;
    }
    if (rc == LO_INVALID) {
        lo_api_error(resp, 400, "invalid_parameter", "%s", err);
        return LO_INVALID;
    }
    if (rc != LO_OK) {
        if (rc == LO_UNAVAIL) {
            req->db_broken = true;
            lo_api_error(resp, 503, "unavailable", "the database is unavailable; retry later");
        } else {
            lo_api_error(resp, 500, "internal", "reading the cold tier failed");
        }
        return LO_ERROR;
    }
    const char *table = lo_cold_layout(s)->table;
    snprintf(t->rel[s], sizeof t->rel[s], "(SELECT * FROM %s UNION ALL SELECT * FROM pg_temp.%s)", table,
             temp);
    snprintf(t->from[s], sizeof t->from[s], "(SELECT * FROM %s UNION ALL SELECT * FROM pg_temp.%s) %s", table,
             temp, table);
    return LO_OK;
}

void lo_q_tier_end(lo_api_req_t *req, lo_q_tier_t *t)
{
    if (t->began && !req->db_broken) {
        /* COMMIT ends a failed transaction too (as a rollback); commit
         * empties the temporary tables */
        PGresult *r = PQexec(req->db, "COMMIT");
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQstatus(req->db) != CONNECTION_OK)
            req->db_broken = true;
        PQclear(r);
    }
    t->began = false;
}

const char *lo_q_tier_from(const lo_q_tier_t *t, lo_signal_t s)
{
    return t->from[s];
}

const char *lo_q_tier_rel(const lo_q_tier_t *t, lo_signal_t s)
{
    return t->rel[s];
}

void lo_q_tier_report(lo_jw_t *w, const lo_cold_report_t *rep)
{
    if (rep->n_failed == 0)
        return;
    lo_jw_key(w, "cold_errors", 11);
    lo_jw_arr_begin(w);
    for (int64_t i = 0; i < rep->n_failed && i < LO_COLD_MAX_FAILED; i++) {
        lo_jw_obj_begin(w);
        lo_jw_key(w, "object", 6), lo_jw_cstr(w, rep->failed[i].key);
        lo_jw_key(w, "error", 5), lo_jw_cstr(w, rep->failed[i].error);
        lo_jw_obj_end(w);
    }
    lo_jw_arr_end(w);
    lo_jw_key(w, "cold_errors_total", 17), lo_jw_i64(w, rep->n_failed);
}

void lo_q_tier_merge(lo_cold_report_t *dst, const lo_cold_report_t *src)
{
    if (dst == NULL)
        return;
    for (int64_t i = 0; i < src->n_failed && i < LO_COLD_MAX_FAILED; i++)
        if (dst->n_failed < LO_COLD_MAX_FAILED)
            dst->failed[dst->n_failed++] = src->failed[i];
        else
            dst->n_failed++;
    dst->n_failed += src->n_failed > LO_COLD_MAX_FAILED ? src->n_failed - LO_COLD_MAX_FAILED : 0;
    dst->files += src->files;
    dst->row_groups += src->row_groups;
    dst->rows += src->rows;
}
