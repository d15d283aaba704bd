/*
 * tail.h — the live tail (docs/tail.md): committed log entries streamed
 * over WebSocket (GET /api/observe/logs/tail), fanned out across nodes
 * through Valkey pub/sub when valkey_url is set, in process otherwise.
 *
 * Nothing here is on the request path of ingest: a post-commit consumer
 * renders each entry some tail wants into a bounded queue and drops (and
 * counts) what does not fit; clients are served by one thread of their
 * own with a bounded buffer each.
 */
#ifndef LO_TAIL_H
#define LO_TAIL_H

#include "core/config.h"
#include "http/api.h"
#include "ingest/ingest.h"
#include "sched/sched.h"

typedef struct lo_tail lo_tail_t;

/* NULL: out of memory, or valkey_url malformed (a message in err). */
lo_tail_t *lo_tail_create(const lo_config_t *cfg, char *err, size_t errlen);
/* Registers what the tail contributes: its route, its post-commit
 * consumer, the token re-check task and its /metrics.  LO_OK or LO_ERROR. */
int lo_tail_register(lo_tail_t *t, lo_api_routes_t *routes, lo_ingest_t *in, lo_sched_t *sched) LO_MUST_USE;
/* Starts the client thread and, with Valkey, the publisher and subscriber. */
int lo_tail_start(lo_tail_t *t) LO_MUST_USE;
/* Closes every tail (1001, going away) and refuses new ones. */
void lo_tail_quiesce(lo_tail_t *t);
/* Stops the threads.  Idempotent. */
void lo_tail_stop(lo_tail_t *t);
void lo_tail_destroy(lo_tail_t *t);

#endif
