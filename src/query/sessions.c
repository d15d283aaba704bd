#include "query/query_int.h"
int lo_q_timeline(lo_api_req_t *req, lo_api_resp_t *resp, const char *s) { (void)req; (void)s; lo_api_error(resp, 501, "not_implemented", "soon"); return LO_OK; }
