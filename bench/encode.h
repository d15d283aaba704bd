/*
 * encode.h — encodes a generated request (gen.h) as an OTLP/protobuf
 * Export{Logs,Trace,Metrics}ServiceRequest, field numbers as in
 * opentelemetry-proto v1.  The position of every 16-byte trace id of a log
 * record or span is marked in w (pbw_mark) so that the load generator can
 * rewrite trace ids per request.
 */
#ifndef BG_ENCODE_H
#define BG_ENCODE_H

#include "gen.h"
#include "pbw.h"

void bg_encode_request(pbw_t *w, const bg_req_t *r);

#endif
