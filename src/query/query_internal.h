/*
 * query_internal.h — shared by the files of src/query: parameter parsing and
 * validation (params.c), project visibility and SQL execution (query.c),
 * and the endpoint handlers (logs.c, traces.c, metric_query.c, timeline.c).
 *
 * Every helper that rejects input writes the 400/404 answer itself (through
 * lo_api_error) and returns LO_INVALID / LO_NOT_FOUND, so a handler only has
 * to return when a helper fails.  Messages name the parameter and say what a
 * good value looks like.
 */
#ifndef LO_QUERY_INTERNAL_H
#define LO_QUERY_INTERNAL_H

#include <libpq-fe.h>

#include "cold/coldread.h"
#include "core/buf.h"
#include "core/json_write.h"
#include "http/api.h"
#include "query/exec.h"
#include "query/query.h"

#define LO_Q_MAX_RANGE_US         (31LL * 86400 * 1000000) /* from..to at most 31 days */
#define LO_Q_DEFAULT_RANGE_US     (3600LL * 1000000)       /* from defaults to to - 1 h */
#define LO_Q_MAX_POINTS           11000                    /* per metric series */
#define LO_Q_MAX_PARAM_LEN        8192                     /* any single value */
#define LO_Q_MAX_PARAMS           32
#define LO_Q_STATEMENT_TIMEOUT_MS "30000" /* a query running longer answers 503 */

/* ---- params.c: pure parsing (no request) ---- */

/* RFC 3339 ("2026-11-28T07:38:54.123456Z", offsets allowed) or Unix
 * milliseconds ("1795846734123") to Unix microseconds.  LO_OK or LO_INVALID. */
int lo_q_parse_time(const char *s, int64_t *us) LO_MUST_USE;
/* Canonical lower-case UUID into out (37 bytes); LO_OK or LO_INVALID. */
int lo_q_parse_uuid(const char *s, char out[37]) LO_MUST_USE;
/* Lower-case hex of exactly nbytes bytes, not all zero; LO_OK or LO_INVALID. */
int lo_q_parse_hex_id(const char *s, size_t nbytes, char *out) LO_MUST_USE;
/* Copies s into out as a LIKE pattern body with \ % _ escaped (out must
 * hold 2 * strlen(s) + 1 bytes). */
void lo_q_like_escape(const char *s, char *out);

/* ---- params.c: request parameters (write the 400 themselves) ---- */

/* Rejects unknown names (allowed is NULL-terminated; an entry ending in
 * '*' allows every name with that prefix), repeated names,
 * values that are not valid UTF-8, too long, or too many parameters. */
int lo_q_check_params(const lo_api_req_t *req, lo_api_resp_t *resp, const char *const *allowed) LO_MUST_USE;
/* Optional UUID: *present false when absent. */
int lo_q_uuid(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, char out[37],
              bool *present) LO_MUST_USE;
/* Optional integer in [min, max], *out = def when absent. */
int lo_q_int(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, int64_t min, int64_t max,
             int64_t def, int64_t *out) LO_MUST_USE;
/* Optional string of minlen..maxlen characters (code points); NULL when absent. */
int lo_q_str(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, size_t minlen, size_t maxlen,
             const char **out) LO_MUST_USE;
/* Optional value out of a NULL-terminated list, any case; *idx = -1 when
 * absent. */
int lo_q_enum(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, const char *const *values,
              int *idx) LO_MUST_USE;
/* A comma-separated list of label keys ("http.route,http.method": each
 * 1..256 bytes, at most LO_Q_MAX_GROUP_KEYS, spaces around commas
 * ignored) as an array literal into out.  LO_OK or LO_INVALID. */
#define LO_Q_MAX_GROUP_KEYS 16
int lo_q_label_keys(const char *list, lo_buf_t *out) LO_MUST_USE;

/* from/to with defaults (to = now, from = to - 1 h), from < to, <= 31 days. */
int lo_q_range(const lo_api_req_t *req, lo_api_resp_t *resp, int64_t *from_us, int64_t *to_us) LO_MUST_USE;

/* ---- query.c: visibility and SQL ---- */

/* Visibility (lo_q_visibility): query.h. */

/* Runs one statement with text parameters (values may be NULL for SQL NULL).
 * NULL on failure, with a 503 (connection lost: req->db_broken set) or 500
 * answer written. */
PGresult *lo_q_exec(lo_api_req_t *req, lo_api_resp_t *resp, const char *sql, int n,
                    const char *const *values);

/* Runs one statement in single-row mode, so no answer is held whole in
 * memory: row(ud, r) sees each result row as row 0 of r, in order.  A row
 * function returning false ends the delivery (what PostgreSQL still sends
 * is read and discarded; the statement's LIMIT bounds it).  LO_OK, or
 * LO_ERROR with the answer written as lo_q_exec writes it (rows already
 * rendered into resp are discarded). */
int lo_q_stream(lo_api_req_t *req, lo_api_resp_t *resp, const char *sql, int n, const char *const *values,
                lo_q_row_fn row, void *ud) LO_MUST_USE;

/* Fixed-size SQL assembly for optional filters: appends text, and numbered
 * parameters ($k) bound to values. */
typedef struct {
    char sql[4096];
    size_t len;
    int n;
    const char *vals[24];
    bool overflow;
} lo_q_sql_t;

void lo_q_sql_init(lo_q_sql_t *q, const char *head);
void lo_q_sql_add(lo_q_sql_t *q, const char *text);
/* Binds val and appends fmt with every "$?" replaced by its number. */
void lo_q_sql_bind(lo_q_sql_t *q, const char *fmt, const char *val);

/* Finishes a JSON answer: 200 when the writer succeeded, else a 500 (or a
 * 400 when the body outgrew its limit, telling the user to lower limit). */
int lo_q_finish(lo_api_resp_t *resp, lo_jw_t *w);

/* Writes a nullable text column as a JSON string or null. */
void lo_q_jw_text(lo_jw_t *w, const PGresult *r, int row, int col);
/* Writes a text[] column (PostgreSQL's text form) as a JSON array of
 * strings, or null. */
void lo_q_jw_text_array(lo_jw_t *w, const PGresult *r, int row, int col);
/* Writes a nullable jsonb column as raw JSON or null. */
void lo_q_jw_json(lo_jw_t *w, const PGresult *r, int row, int col);
/* Writes a column of Unix microseconds as RFC 3339 (or null). */
void lo_q_jw_time(lo_jw_t *w, const PGresult *r, int row, int col);
int64_t lo_q_i64(const PGresult *r, int row, int col);

/* ---- tier.c: one query over both tiers (docs/cold-store.md, "Queries") ---- */

typedef struct {
    bool began;                      /* this query's REPEATABLE READ transaction is open */
    bool outer;                      /* the caller's transaction was open: its snapshot is used */
    unsigned loaded;                 /* a bit per signal loaded in this transaction */
    char from[LO_SIGNAL_COUNT][160]; /* aliased as the table */
    char rel[LO_SIGNAL_COUNT][160];  /* without an alias */
    lo_cold_report_t report;
} lo_q_tier_t;

/* Every signal reads its hot table alone. */
void lo_q_tier_init(lo_q_tier_t *t);
/* With a cold tier configured, opens the query's transaction (its
 * snapshot) now, for hot reads that must precede the loads.  LO_OK, or an
 * error answered in resp. */
int lo_q_tier_begin(lo_api_req_t *req, lo_api_resp_t *resp, lo_q_tier_t *t) LO_MUST_USE;
/* Whether a cold tier is read (lo_q_tier_begin opened or found a transaction). */
bool lo_q_tier_active(const lo_q_tier_t *t);
/* Whether the cold tier may hold rows of s matching f (*any), in the
 * query's snapshot (opened when needed).  LO_OK or an answered error. */
int lo_q_tier_any(lo_api_req_t *req, lo_api_resp_t *resp, lo_q_tier_t *t, lo_signal_t s,
                  const lo_cold_filter_t *f, bool *any) LO_MUST_USE;
/* With a cold tier configured: opens the transaction (first call), loads
 * the cold rows of s that may match f, and makes lo_q_tier_from(t, s)
 * read both tiers.  Without one: LO_OK, nothing changes.  An error is
 * answered in resp; lo_q_tier_end must be called either way. */
int lo_q_tier_load(lo_api_req_t *req, lo_api_resp_t *resp, lo_q_tier_t *t, lo_signal_t s,
                   const lo_cold_filter_t *f) LO_MUST_USE;
/* Ends the transaction lo_q_tier_load opened (the cold rows are dropped). */
void lo_q_tier_end(lo_api_req_t *req, lo_q_tier_t *t);
/* The FROM item of signal s's table, aliased as the table. */
const char *lo_q_tier_from(const lo_q_tier_t *t, lo_signal_t s);
/* The same without the alias, for SQL that gives its own ("%s s"). */
const char *lo_q_tier_rel(const lo_q_tier_t *t, lo_signal_t s);
/* Adds "cold_errors" (the objects that could not be read) to an answer
 * being written, when there are any. */
void lo_q_tier_report(lo_jw_t *w, const lo_cold_report_t *rep);
/* Adds the failures of src to dst (NULL: dropped). */
void lo_q_tier_merge(lo_cold_report_t *dst, const lo_cold_report_t *src);

/* ---- handlers ---- */
int lo_q_logs(lo_api_req_t *req, lo_api_resp_t *resp);
int lo_q_traces(lo_api_req_t *req, lo_api_resp_t *resp);
int lo_q_trace(lo_api_req_t *req, lo_api_resp_t *resp, const char *trace_id);
int lo_q_metrics(lo_api_req_t *req, lo_api_resp_t *resp);
int lo_q_metric_names(lo_api_req_t *req, lo_api_resp_t *resp);
int lo_q_timeline(lo_api_req_t *req, lo_api_resp_t *resp, const char *session_id);

#endif
