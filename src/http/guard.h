/*
 * guard.h — private to src/http: what both listeners do about clients that
 * would starve or confuse them, before a request reaches its handler
 * (docs/http.md, "Hostile clients").
 *
 *   - a request head must be complete within http_head_timeout_seconds of
 *     the connection's start (or of the end of its previous request, with
 *     the keep-alive idle time added): a reaper thread shuts down the
 *     sockets of heads that drip in slower;
 *   - a request line with a NUL byte, or more than LO_HTTP_MAX_QUERY_PARAMS
 *     query parameters, is refused (400 / 431) at once;
 *   - framing that two parsers could read differently — two Content-Length
 *     headers, Content-Length with Transfer-Encoding, a Transfer-Encoding
 *     other than chunked — and HTTP/1.1 without Host get 400 and the
 *     connection is closed.
 * The per-address connection limit is libmicrohttpd's own option.
 */
#ifndef LO_HTTP_GUARD_H
#define LO_HTTP_GUARD_H

#include <microhttpd.h>
#include <stdatomic.h>

#include "core/lo.h"

#define LO_HTTP_MAX_QUERY_PARAMS 256

typedef struct lo_http_guard lo_http_guard_t;

/* Starts the reaper.  NULL when out of memory or the thread fails. */
lo_http_guard_t *lo_http_guard_create(int64_t head_timeout_ns, int64_t idle_ns);
/* Stops the reaper and frees g (after the daemons are stopped).  Accepts NULL. */
void lo_http_guard_destroy(lo_http_guard_t *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard). */
void lo_http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
/* MHD_OPTION_URI_LOG_CALLBACK callback (cls: the guard).  Its result is
 * the request's first *con_cls: NULL, or a marker that the access handler
 * passes to lo_http_guard_head. */
void *lo_http_guard_uri(void *cls, const char *uri, struct MHD_Connection *c);

/* true for the first call of a request's access handler: *con_cls is
 * still NULL or one of lo_http_guard_uri's marks. */
bool lo_http_guard_first(const void *con_cls);

/* The first call of the access handler: the head is complete.  LO_OK, or
 * LO_INVALID with *status and *message set: answer it, with
 * "Connection: close", before reading any body. */
int lo_http_guard_head(struct MHD_Connection *c, const char *version, void *con_cls, unsigned *status,
                       const char **message) LO_MUST_USE;
/* A request ended (MHD's completed callback): the next head's deadline
 * starts now. */
void lo_http_guard_request_done(struct MHD_Connection *c);

/* The connection was upgraded (WebSocket, ...): no more request heads on
 * it, so no more deadlines; it is closed by its new owner. */
void lo_http_guard_upgraded(struct MHD_Connection *c);

/* Connections shut down because their head was late (for /metrics). */
extern atomic_llong lo_http_heads_timed_out;

#endif
