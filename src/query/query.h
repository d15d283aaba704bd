/*
 * query.h — the query API over the hot tier (docs/query-api.md): /api/observe/...
 */
#ifndef LO_QUERY_H
#define LO_QUERY_H

#include "http/api.h"

/* Adds the query API's routes (GET /api/observe/..., scope observe:read,
 * on the query threads) to t.  LO_OK or LO_ERROR (table full). */
int lo_query_routes(lo_api_routes_t *t) LO_MUST_USE;

/* The query routes called in process, without the HTTP layer (tests,
 * benchmarks): LO_OK with resp filled (403/405 included), or LO_DECLINED
 * when the path is none of the query API's. */
int lo_query_handle(lo_api_req_t *req, lo_api_resp_t *resp) LO_MUST_USE;

#endif
