/*
 * metrics.h — GET /metrics: the Prometheus text exposition (format 0.0.4) of
 * lo_stats (core/stats.h) and of the HTTP listeners' response counters.
 */
#ifndef LO_HTTP_METRICS_H
#define LO_HTTP_METRICS_H

#include <stdatomic.h>

#include "core/buf.h"

typedef enum { LO_LISTENER_OTLP = 0, LO_LISTENER_API = 1, LO_LISTENER_COUNT = 2 } lo_listener_t;

/* Bytes of request bodies (as sent and inflated) the OTLP listener holds
 * right now; bounded by the listener (http.h), shown as a gauge. */
extern atomic_llong lo_http_held_bytes;

/* Counts one response by listener and status code (any thread, lock-free). */
void lo_http_count_response(lo_listener_t l, unsigned status);

/* A module's own metrics: fn appends Prometheus text to out.  Renderers
 * are registered before the listeners start and cleared after they stop
 * (at most 8); lo_metrics_render calls them after the built-in ones. */
typedef void (*lo_metrics_fn)(void *arg, lo_buf_t *out);
int lo_metrics_add_renderer(lo_metrics_fn fn, void *arg) LO_MUST_USE;
void lo_metrics_clear_renderers(void);

/* Appends the exposition to out.  LO_OK or the buffer's failure. */
int lo_metrics_render(lo_buf_t *out) LO_MUST_USE;

#endif
