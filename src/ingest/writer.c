/* writer.c — writes one batch of requests in one transaction (writer.h). */
#include "ingest/writer.h"

#include <stdio.h>
#include <stdlib.h>

#include "store/columns.h"
#include "store/store.h"

#define COPY_CHUNK (1u << 20) /* bytes handed to libpq at a time */

void lo_writer_init(lo_writer_t *w)
{
    lo_copy_ctx_init(&w->ctx);
    lo_buf_init(&w->copy, 0);
    lo_buf_init(&w->new_keys, 0);
    lo_buf_init(&w->idkey, 0);
    lo_buf_init(&w->svc_lit, 0);
    lo_buf_init(&w->rid, 0);
    lo_buf_init(&w->series.keys, 0);
    for (size_t i = 0; i < LO_ARRAY_LEN(w->arr); i++)
        lo_pgarr_init(&w->arr[i]);
}

void lo_writer_free(lo_writer_t *w)
{
    if (w == NULL)
        return;
    if (w->conn != NULL)
        PQfinish(w->conn);
    w->conn = NULL;
    lo_buf_free(&w->copy);
    for (size_t i = 0; i < LO_ARRAY_LEN(w->arr); i++)
        lo_pgarr_free(&w->arr[i]);
    lo_sessions_free(w);
    free(w->traces);
    free(w->sorted_traces);
    free(w->series_ids);
    free(w->series_ref);
    free(w->new_series);
    free(w->new_tab);
    lo_buf_free(&w->new_keys);
    lo_buf_free(&w->idkey);
    lo_buf_free(&w->svc_lit);
    lo_buf_free(&w->rid);
    lo_series_cache_free(&w->series);
}

/* Describes a failure in w->err.  Data errors name only the SQLSTATE and
 * schema objects: their messages may quote telemetry. */
static int fail(lo_writer_t *w, const char *what, const PGresult *r)
{
    int cls = lo_store_error_class(w->conn, r);
    if (cls == LO_UNAVAIL) {
        char msg[200];
        lo_store_errmsg(w->conn, r, msg, sizeof(msg));
        snprintf(w->err, sizeof(w->err), "%s: %s", what, msg);
    } else {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *tab = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
        const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
        const char *con = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
        snprintf(w->err, sizeof(w->err), "%s: sqlstate %s%s%s%s%s%s%s", what, st ? st : "?",
                 tab ? " table " : "", tab ? tab : "", col ? " column " : "", col ? col : "",
                 con ? " constraint " : "", con ? con : "");
    }
    return cls;
}

static int exec_simple(lo_writer_t *w, const char *sql)
{
    PGresult *r = PQexec(w->conn, sql);
    int rc = LO_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = fail(w, sql, r);
    else if (strcmp(sql, "COMMIT") == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = fail(w, "commit rolled back", r);
    PQclear(r);
    return rc;
}

int lo_writer_exec(lo_writer_t *w, const char *what, const char *sql, int nparams, const uint32_t *types,
                   PGresult **out)
{
    const char *values[LO_ARRAY_LEN(w->arr)];
    int lengths[LO_ARRAY_LEN(w->arr)], formats[LO_ARRAY_LEN(w->arr)];
    Oid oids[LO_ARRAY_LEN(w->arr)];
    if (nparams > (int)LO_ARRAY_LEN(w->arr)) {
        snprintf(w->err, sizeof(w->err), "%s: too many parameters", what);
        return LO_ERROR;
    }
    for (int i = 0; i < nparams; i++) {
        if (lo_pgarr_finish(&w->arr[i]) != LO_OK) {
            snprintf(w->err, sizeof(w->err), "%s: out of memory", what);
            return LO_ERROR;
        }
        values[i] = w->arr[i].buf.p;
        lengths[i] = (int)w->arr[i].buf.len;
        formats[i] = 1;
        oids[i] = types[i];
    }
    PGresult *r = PQexecParams(w->conn, sql, nparams, oids, values, lengths, formats, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = fail(w, what, r);
        PQclear(r);
        return rc;
    }
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return LO_OK;
}

static int copy_flush(lo_writer_t *w)
{
    if (w->copy.len == 0)
        return LO_OK;
    if (PQputCopyData(w->conn, w->copy.p, (int)w->copy.len) != 1)
        return fail(w, "copy data", NULL);
    lo_buf_reset(&w->copy);
    return LO_OK;
}

/* Streams every record of the batch into table. */
static int copy_batch(lo_writer_t *w, const char *sql, lo_ingest_req_t *list)
{
    PGresult *r = PQexec(w->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        int rc = fail(w, "copy", r);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    lo_buf_reset(&w->copy);
    int rc = LO_OK;
    size_t k = 0;                           /* sample index across the batch (series ids) */
    int64_t now_ms = lo_now_ns() / 1000000; /* log ids: one clock reading a batch */
    for (lo_ingest_req_t *q = list; q != NULL && rc == LO_OK; q = q->next) {
        lo_otlp_batch_t *b = &q->batch;
        for (size_t i = 0; i < b->n && rc == LO_OK; i++) {
            switch (w->signal) {
            case LO_SIGNAL_LOGS:
                lo_log_mint_id(&w->ctx, &b->logs[i], now_ms);
                rc = lo_copy_log_row(&w->ctx, &w->copy, &b->logs[i]);
                break;
            case LO_SIGNAL_SPANS: rc = lo_copy_span_row(&w->ctx, &w->copy, &b->spans[i]); break;
            default: rc = lo_copy_sample_row(&w->ctx, &w->copy, &b->samples[i], w->series_ids[k++]);
            }
            if (rc != LO_OK) {
                snprintf(w->err, sizeof(w->err), "copy: out of memory");
                rc = LO_ERROR;
            } else if (w->copy.len >= COPY_CHUNK) {
                rc = copy_flush(w);
            }
        }
    }
    if (rc == LO_OK)
        rc = copy_flush(w);
    if (PQputCopyEnd(w->conn, rc == LO_OK ? NULL : "lookout: batch abandoned") != 1 && rc == LO_OK)
        rc = fail(w, "copy end", NULL);
    /* the COPY's own result, then NULL */
    while ((r = PQgetResult(w->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == LO_OK)
            rc = fail(w, "copy", r);
        PQclear(r);
    }
    if (rc == LO_OK && PQstatus(w->conn) != CONNECTION_OK)
        rc = fail(w, "copy", NULL);
    return rc;
}

/* "COPY <table> (<columns of store/columns.h>) FROM STDIN" */
static char copy_sql_text[LO_SIGNAL_COUNT][1100];
static pthread_once_t copy_sql_once = PTHREAD_ONCE_INIT;

static void build_copy_sql(void)
{
    for (int s = 0; s < LO_SIGNAL_COUNT; s++)
        snprintf(copy_sql_text[s], sizeof(copy_sql_text[s]), "COPY %s (%s) FROM STDIN",
                 lo_columns_table((lo_signal_t)s), lo_columns_list((lo_signal_t)s));
}

static const char *copy_sql(lo_signal_t s)
{
    pthread_once(&copy_sql_once, build_copy_sql);
    return copy_sql_text[s];
}

int lo_writer_write(lo_writer_t *w, lo_ingest_req_t *list, size_t records)
{
    w->err[0] = '\0';
    w->new_series_n = 0;
    if (records == 0)
        return LO_OK;
    if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK) {
        snprintf(w->err, sizeof(w->err), "not connected");
        return LO_UNAVAIL;
    }
    size_t learn = 0;
    int rc = lo_sessions_resolve(w, list, &learn);
    if (rc != LO_OK)
        return rc;
    if (w->signal == LO_SIGNAL_METRICS) {
        rc = lo_series_prepare(w, list, records);
        if (rc != LO_OK)
            return rc;
    }
    /* A lone COPY is its own transaction: two round trips saved. */
    bool txn = learn > 0 || w->signal == LO_SIGNAL_SPANS || w->new_series_n > 0;
    if (txn)
        rc = exec_simple(w, "BEGIN");
    if (rc == LO_OK && w->new_series_n > 0) {
        rc = lo_series_upsert(w);
        if (rc == LO_OK)
            lo_series_fill(w, records);
    }
    if (rc == LO_OK)
        rc = copy_batch(w, copy_sql(w->signal), list);
    if (rc == LO_OK && w->signal == LO_SIGNAL_SPANS)
        rc = lo_traces_upsert(w, list, records);
    if (rc == LO_OK && learn > 0)
        rc = lo_sessions_upsert(w);
    if (rc == LO_OK && txn)
        rc = exec_simple(w, "COMMIT");
    if (rc != LO_OK) {
        if (PQstatus(w->conn) == CONNECTION_OK && PQtransactionStatus(w->conn) != PQTRANS_IDLE) {
            PGresult *r = PQexec(w->conn, "ROLLBACK");
            PQclear(r);
        }
        return rc;
    }
    lo_sessions_commit(w);
    if (w->signal == LO_SIGNAL_METRICS)
        lo_series_commit(w);
    return LO_OK;
}
