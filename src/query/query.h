/*
 * query.h — the query API over the hot tier (SPEC §5): /api/observe/...
 */
#ifndef LO_QUERY_H
#define LO_QUERY_H

#include "http/api.h"

/* Answers a request under /api/observe/.  LO_OK with resp filled, or
 * LO_DECLINED when the path is not one of the query API's (the caller
 * answers 404). */
int lo_query_handle(lo_api_req_t *req, lo_api_resp_t *resp) LO_MUST_USE;

#endif
