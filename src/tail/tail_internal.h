/*
 * tail_internal.h — shared by the files of src/tail: the items that travel
 * from the writers (or Valkey) to the clients, the hub that serves the
 * clients (hub.c), and the Valkey publisher and subscriber (valkey.c).
 */
#ifndef LO_TAIL_INTERNAL_H
#define LO_TAIL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "core/buf.h"
#include "core/config.h"
#include "tail/filter.h"

#define LO_TAIL_CHANNEL_MAX 48 /* "logs:" + UUID, or "logs:_" */
#define LO_TAIL_PATTERN     "logs:*"
#define LO_TAIL_GAP_CHANNEL "lookout:tail:gap"

typedef enum { ITEM_LOG, ITEM_GAP, ITEM_STATUS } item_kind_t;

/* One message on its way to the clients.  data holds the message a client
 * receives ({"type":"log","entry":{...}}), the entry being bytes
 * [ENTRY_OFF, msg_len - 1) of it, then the strings meta points to. */
typedef struct lo_tail_item {
    struct lo_tail_item *next;
    item_kind_t kind;
    uint64_t missed;                   /* ITEM_GAP */
    char channel[LO_TAIL_CHANNEL_MAX]; /* ITEM_LOG */
    lo_tail_meta_t meta;               /* ITEM_LOG */
    size_t msg_len, size;
    char data[];
} lo_tail_item_t;

#define ITEM_ENTRY_OFF (sizeof("{\"type\":\"log\",\"entry\":") - 1)

/* The channel of a project ("" or NULL: none). */
void lo_tail_channel(const char *project, char out[LO_TAIL_CHANNEL_MAX]);
/* An ITEM_LOG for an entry (JSON text) with its filter fields (message not
 * yet folded; p NULL: absent).  NULL: out of memory. */
lo_tail_item_t *lo_tail_item_log(const char *entry, size_t len, const lo_tail_meta_t *raw);
/* An ITEM_LOG from an entry as published (JSON text), its fields read back
 * from it.  NULL: not an entry, or out of memory. */
lo_tail_item_t *lo_tail_item_parse(const char *entry, size_t len);
/* ITEM_GAP / ITEM_STATUS ("reconnecting", "resumed"). */
lo_tail_item_t *lo_tail_item_gap(uint64_t missed);
lo_tail_item_t *lo_tail_item_status(const char *status);

/* ---- the hub (hub.c): the clients and their thread ---- */

typedef struct lo_tail_hub lo_tail_hub_t;

/* Counters for /metrics. */
typedef struct {
    atomic_llong open, opened, sent, dropped_client, dropped_queue, closed_lag, closed_pong, closed_revoked,
        published, publish_errors;
} lo_tail_stats_t;

lo_tail_hub_t *lo_tail_hub_create(const lo_config_t *cfg, lo_tail_stats_t *stats);
int lo_tail_hub_start(lo_tail_hub_t *h) LO_MUST_USE;
/* Closes every client (1001) and, after at most 2 s, stops the thread
 * (every socket is given back). */
void lo_tail_hub_quiesce(lo_tail_hub_t *h);
void lo_tail_hub_stop(lo_tail_hub_t *h);
void lo_tail_hub_destroy(lo_tail_hub_t *h);

/* How sockets are given back: the module sets lo_api_upgrade_close(urh)
 * (the HTTP listener's); by default fd is closed (tests, fuzzers). */
void lo_tail_hub_set_release(lo_tail_hub_t *h, void (*release)(void *urh, int fd));
/* Reserves a place for a new tail of token_id with filter f (copied):
 * LO_OK with *ticket set, LO_BUSY past the process limit, LO_DENIED past
 * the token's, LO_UNAVAIL when quiescing. */
int lo_tail_hub_reserve(lo_tail_hub_t *h, int64_t token_id, const lo_tail_filter_t *f,
                        uint64_t *ticket) LO_MUST_USE;
/* The upgraded socket of ticket (lo_api_upgrade_fn's arguments). */
void lo_tail_hub_adopt(lo_tail_hub_t *h, uint64_t ticket, int sock, const char *extra, size_t extra_len,
                       void *urh);
/* Hands an item to the clients (takes it).  false when the hub's queue is
 * full: the item is freed and counted as missed (the clients get a gap). */
bool lo_tail_hub_post(lo_tail_hub_t *h, lo_tail_item_t *it);
/* Whether some client of this process wants entries of channel. */
bool lo_tail_hub_wants(lo_tail_hub_t *h, const char *channel);
/* The channels (and whether the pattern) the clients want, for the
 * subscriber: fills out with NUL-separated names, returns their number. */
size_t lo_tail_hub_channels(lo_tail_hub_t *h, lo_buf_t *out, bool *pattern);
/* Called when the wanted channels change (the subscriber's wake-up). */
void lo_tail_hub_on_change(lo_tail_hub_t *h, void (*fn)(void *arg), void *arg);
/* The distinct token ids of open tails (at most max). */
size_t lo_tail_hub_tokens(lo_tail_hub_t *h, int64_t *ids, size_t max);
/* Closes the tails of these tokens (1008, token revoked). */
void lo_tail_hub_revoke(lo_tail_hub_t *h, const int64_t *ids, size_t n);

/* ---- Valkey (valkey.c) ---- */

typedef struct lo_tail_valkey lo_tail_valkey_t;

/* NULL with err set when url is malformed or memory is short. */
lo_tail_valkey_t *lo_tail_valkey_create(const char *url, const lo_config_t *cfg, lo_tail_hub_t *hub,
                                        lo_tail_stats_t *stats, char *err, size_t errlen);
int lo_tail_valkey_start(lo_tail_valkey_t *v) LO_MUST_USE;
void lo_tail_valkey_stop(lo_tail_valkey_t *v);
void lo_tail_valkey_destroy(lo_tail_valkey_t *v);
/* Queues an item for PUBLISH (takes it); false when the queue is full
 * (freed, counted). */
bool lo_tail_valkey_publish(lo_tail_valkey_t *v, lo_tail_item_t *it);
/* Whether some node has a subscriber for channel (cached, refreshed each
 * second; true until the first answer). */
bool lo_tail_valkey_wants(lo_tail_valkey_t *v, const char *channel);

#endif
