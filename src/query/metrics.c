#include "query/query_int.h"
int lo_q_metrics(lo_api_req_t *req, lo_api_resp_t *resp) { (void)req; lo_api_error(resp, 501, "not_implemented", "soon"); return LO_OK; }
int lo_q_metric_names(lo_api_req_t *req, lo_api_resp_t *resp) { (void)req; lo_api_error(resp, 501, "not_implemented", "soon"); return LO_OK; }
