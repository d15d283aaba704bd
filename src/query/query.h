/*
 * query.h — the query API over the hot tier (docs/query-api.md): /api/observe/...
 */
#ifndef LO_QUERY_H
#define LO_QUERY_H

#include "core/buf.h"
#include "http/api.h"

/* Which projects a request may read.  all: no filter at all (an unbound
 * token that named no project; it also sees records without a project).
 * Otherwise arr is a PostgreSQL array literal of UUIDs for "= ANY($n::uuid[])":
 * the named project, or the token's projects plus the public ones. */
typedef struct {
    bool all;
    lo_buf_t arr;
} lo_q_vis_t;

/* Fills vis for an optional project_id (canonical UUID text) with
 * req->db.  A project the caller may not read answers 404 (never 403)
 * through resp, as do database failures (503/500); LO_OK or that code.
 * vis must be freed with lo_q_vis_free. */
int lo_q_visibility(lo_api_req_t *req, lo_api_resp_t *resp, const char *project_id,
                    lo_q_vis_t *vis) LO_MUST_USE;
void lo_q_vis_free(lo_q_vis_t *vis);

/* The cold tier the queries read besides the hot tables (NULL: none).
 * Set before the listener starts; the reader must outlive the queries. */
typedef struct lo_cold_reader lo_cold_reader_t;
void lo_query_set_cold(lo_cold_reader_t *r);

/* Adds the query API's routes (GET /api/observe/..., scope observe:read,
 * on the query threads) to t.  LO_OK or LO_ERROR (table full). */
int lo_query_routes(lo_api_routes_t *t) LO_MUST_USE;

/* The query routes called in process, without the HTTP layer (tests,
 * benchmarks): LO_OK with resp filled (403/405 included), or LO_DECLINED
 * when the path is none of the query API's. */
int lo_query_handle(lo_api_req_t *req, lo_api_resp_t *resp) LO_MUST_USE;

#endif
