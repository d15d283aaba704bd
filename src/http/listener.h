/*
 * listener.h — private to src/http: the state the two listeners share and
 * the response helpers.  server.c owns the daemons, otlp_handler.c the
 * OTLP listener's requests, api_handler.c the API listener's.
 */
#ifndef LO_HTTP_LISTENER_H
#define LO_HTTP_LISTENER_H

#include <microhttpd.h>
#include <stdatomic.h>

#include "http/http.h"
#include "http/metrics.h"
#include "http/parse.h"
#include "ingest/admit.h"

struct lo_http {
    lo_http_deps_t d;
    const lo_config_t *cfg;
    lo_http_addr_t otlp_addr, api_addr;
    struct MHD_Daemon *otlp, *api;
    int otlp_port, api_port;
    atomic_bool stopping;        /* quiesced: new requests get 503 */
    atomic_long active;          /* OTLP requests begun and not yet completed */
    atomic_long waiting;         /* of those, handed to a writer and not yet answered by it */
    int64_t held_max;            /* bound on lo_http_held_bytes: past it, 429 before reading */
    struct lo_api_exec *exec;    /* the query threads of the API listener (api_exec.h) */
    struct lo_http_guard *guard; /* head deadlines of both listeners (guard.h) */
    lo_admit_t admit;            /* what ingest accepts of decoded records */
};

/* What lo_api_req_t.http points to on the API listener (api.c reads the
 * query parameters through it). */
typedef struct {
    struct MHD_Connection *conn;
} lo_api_http_t;

/* An extra response header (NULL-terminated arrays). */
typedef struct {
    const char *name, *value;
} lo_http_hdr_t;

/* Queues a response with body (copied) and counts it; sets Content-Type
 * unless ctype is NULL; adds the extra headers. */
enum MHD_Result lo_http_reply(struct MHD_Connection *c, lo_listener_t l, unsigned status, const char *ctype,
                              const void *body, size_t len, const lo_http_hdr_t *extra);

/* The same for a body built in b (a lo_buf_t's malloc'd bytes): they are
 * handed to libmicrohttpd without a copy and b is left empty. */
enum MHD_Result lo_http_reply_buf(struct MHD_Connection *c, lo_listener_t l, unsigned status,
                                  const char *ctype, lo_buf_t *b, const lo_http_hdr_t *extra);

/* CORS (docs/http.md, "Browsers"): the allowed origins (the setting,
 * kept by pointer), and the request's Origin when it is one of them
 * (else NULL). */
void lo_http_cors_set(const char *origins);
const char *lo_http_cors_origin(struct MHD_Connection *c);

/* MHD callbacks of each listener. */
enum MHD_Result lo_http_otlp_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                    const char *version, const char *upload, size_t *upload_size,
                                    void **con_cls);
void lo_http_otlp_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                            enum MHD_RequestTerminationCode toe);
enum MHD_Result lo_http_api_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version, const char *upload, size_t *upload_size,
                                   void **con_cls);
void lo_http_api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe);

#endif
