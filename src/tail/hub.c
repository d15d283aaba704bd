/*
 * hub.c — the tail clients and the one thread that serves them.
 *
 * The thread owns every client: their WebSocket state (wslay), their
 * sockets (epoll, non-blocking) and their send queues.  Other threads
 * reach it only through locked hand-offs: the inbox of items (bounded in
 * bytes: past it items are dropped and every client is told with a gap),
 * the list of new sockets, and the list of tokens to close.  A client's
 * queue is bounded by tail_client_buffer_bytes: an entry that does not fit
 * is counted in the client's gap, sent as {"type":"gap"} when there is
 * room again; a client behind for LAG_CLOSE_NS is closed (1008).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "core/log.h"
#include "tail/tail_internal.h"

#define PING_EVERY_NS  (20LL * 1000000000)
#define PONG_WAIT_NS   (45LL * 1000000000) /* no frame at all for this long: closed */
#define LAG_CLOSE_NS   (10LL * 1000000000)
#define CLOSE_WAIT_NS  (2LL * 1000000000) /* for the close frame to go out */
#define TICKET_WAIT_NS (30LL * 1000000000)
#define MAX_CLIENT_MSG 4096 /* what a client may send us in one message */
#define MAX_CHANNELS   4096

typedef struct client {
    struct client *next;
    int fd;
    void *urh;
    wslay_event_context_ptr ws;
    lo_tail_filter_t f;
    int64_t token_id;
    uint64_t gap;         /* entries not delivered since the last gap message */
    int64_t behind_since; /* 0: keeping up */
    int64_t last_seen;    /* last frame from the client */
    int64_t next_ping;
    int64_t close_by; /* closing: drop by then */
    uint32_t events;  /* registered with epoll */
    bool dead, dirty;
    char *extra; /* bytes read past the request by the HTTP layer */
    size_t extra_len, extra_off;
    lo_buf_t out; /* data frames not yet sent, from out_off */
    size_t out_off;
    bool ws_pending; /* wslay may be inside a control frame: it goes first */
} client_t;

typedef struct ticket {
    struct ticket *next;
    uint64_t id;
    int64_t token_id, created;
    lo_tail_filter_t f;
} ticket_t;

typedef struct {
    char name[LO_TAIL_CHANNEL_MAX];
    int refs;
} chan_t;

struct lo_tail_hub {
    const lo_config_t *cfg;
    lo_tail_stats_t *st;
    int ep, wake;
    pthread_t thread;
    bool started;
    atomic_bool stop, quiescing;

    pthread_mutex_t mu; /* everything below */
    lo_tail_item_t *in_head, *in_tail;
    size_t in_bytes;
    uint64_t missed; /* items dropped at the inbox, not yet told */
    ticket_t *tickets;
    uint64_t next_ticket;
    size_t reserved;   /* tickets + clients */
    client_t *adopted; /* new sockets, for the thread */
    int64_t *revoked;
    size_t n_revoked;
    client_t *clients; /* the thread's; read under mu for token counts */
    chan_t *chans;
    size_t n_chans;
    int pattern_refs;
    void (*on_change)(void *arg);
    void *on_change_arg;
    void (*release)(void *urh, int fd); /* gives a socket back */
};

void lo_tail_hub_set_release(lo_tail_hub_t *h, void (*release)(void *urh, int fd))
{
    h->release = release;
}

/* Until told otherwise (lo_tail_hub_set_release), a socket is closed. */
static void release_close(void *urh, int fd)
{
    (void)urh;
    close(fd);
}

/* ---- channels ---- */

static void chan_ref(lo_tail_hub_t *h, const char *name, int d)
{
    for (size_t i = 0; i < h->n_chans; i++) {
        if (strcmp(h->chans[i].name, name) == 0) {
            h->chans[i].refs += d;
            if (h->chans[i].refs <= 0)
                h->chans[i] = h->chans[--h->n_chans];
            return;
        }
    }
    if (d <= 0 || h->n_chans == MAX_CHANNELS)
        return;
    snprintf(h->chans[h->n_chans].name, LO_TAIL_CHANNEL_MAX, "%s", name);
    h->chans[h->n_chans++].refs = d;
}

/* Takes (d = 1) or drops (d = -1) the channels of filter f. */
static void filter_refs(lo_tail_hub_t *h, const lo_tail_filter_t *f, int d)
{
    pthread_mutex_lock(&h->mu);
    if (f->all) {
        h->pattern_refs += d;
    } else {
        for (size_t i = 0; i < f->n_projects; i++) {
            char ch[LO_TAIL_CHANNEL_MAX];
            lo_tail_channel(f->projects[i], ch);
            chan_ref(h, ch, d);
        }
    }
    void (*fn)(void *) = h->on_change;
    void *arg = h->on_change_arg;
    pthread_mutex_unlock(&h->mu);
    if (fn != NULL)
        fn(arg);
}

bool lo_tail_hub_wants(lo_tail_hub_t *h, const char *channel)
{
    pthread_mutex_lock(&h->mu);
    bool w = h->pattern_refs > 0;
    for (size_t i = 0; i < h->n_chans && !w; i++)
        w = strcmp(h->chans[i].name, channel) == 0;
    pthread_mutex_unlock(&h->mu);
    return w;
}

size_t lo_tail_hub_channels(lo_tail_hub_t *h, lo_buf_t *out, bool *pattern)
{
    pthread_mutex_lock(&h->mu);
    *pattern = h->pattern_refs > 0;
    size_t n = h->n_chans;
    for (size_t i = 0; i < n; i++)
        lo_buf_append(out, h->chans[i].name, strlen(h->chans[i].name) + 1);
    pthread_mutex_unlock(&h->mu);
    return n;
}

void lo_tail_hub_on_change(lo_tail_hub_t *h, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&h->mu);
    h->on_change = fn;
    h->on_change_arg = arg;
    pthread_mutex_unlock(&h->mu);
}

/* ---- hand-offs from other threads ---- */

static void wake(lo_tail_hub_t *h)
{
    uint64_t one = 1;
    ssize_t r = write(h->wake, &one, sizeof(one));
    (void)r; /* a full counter still wakes the thread */
}

bool lo_tail_hub_post(lo_tail_hub_t *h, lo_tail_item_t *it)
{
    size_t cap = (size_t)h->cfg->tail_queue_bytes;
    pthread_mutex_lock(&h->mu);
    bool ok = h->in_bytes + it->size <= cap || it->kind != ITEM_LOG;
    if (ok) {
        if (h->in_tail != NULL)
            h->in_tail->next = it;
        else
            h->in_head = it;
        h->in_tail = it;
        h->in_bytes += it->size;
    } else {
        h->missed++;
    }
    pthread_mutex_unlock(&h->mu);
    if (!ok) {
        atomic_fetch_add(&h->st->dropped_queue, 1);
        free(it);
    }
    wake(h);
    return ok;
}

static size_t token_open(lo_tail_hub_t *h, int64_t token_id)
{
    size_t n = 0;
    for (ticket_t *t = h->tickets; t != NULL; t = t->next)
        n += t->token_id == token_id;
    for (client_t *c = h->clients; c != NULL; c = c->next)
        n += c->token_id == token_id && !c->dead;
    for (client_t *c = h->adopted; c != NULL; c = c->next)
        n += c->token_id == token_id;
    return n;
}

int lo_tail_hub_reserve(lo_tail_hub_t *h, int64_t token_id, const lo_tail_filter_t *f, uint64_t *id)
{
    if (atomic_load(&h->quiescing))
        return LO_UNAVAIL;
    ticket_t *t = malloc(sizeof(*t));
    if (t == NULL)
        return LO_ERROR;
    int rc = LO_OK;
    pthread_mutex_lock(&h->mu);
    if (h->reserved >= (size_t)h->cfg->tail_max_clients)
        rc = LO_BUSY;
    else if (token_open(h, token_id) >= (size_t)h->cfg->tail_max_per_token)
        rc = LO_DENIED;
    if (rc == LO_OK) {
        t->id = ++h->next_ticket;
        t->token_id = token_id;
        t->created = lo_mono_ns();
        t->f = *f;
        t->next = h->tickets;
        h->tickets = t;
        h->reserved++;
        *id = t->id;
    }
    pthread_mutex_unlock(&h->mu);
    if (rc != LO_OK)
        free(t);
    return rc;
}

void lo_tail_hub_adopt(lo_tail_hub_t *h, uint64_t id, int sock, const char *extra, size_t extra_len,
                       void *urh)
{
    client_t *c = calloc(1, sizeof(*c));
    char *x = extra_len > 0 ? malloc(extra_len) : NULL;
    ticket_t *t = NULL;
    pthread_mutex_lock(&h->mu);
    for (ticket_t **p = &h->tickets; *p != NULL; p = &(*p)->next) {
        if ((*p)->id == id) {
            t = *p;
            *p = t->next;
            break;
        }
    }
    if (t != NULL && c != NULL && (extra_len == 0 || x != NULL) && !atomic_load(&h->quiescing)) {
        c->fd = sock;
        c->urh = urh;
        c->f = t->f;
        c->token_id = t->token_id;
        if (x != NULL)
            memcpy(x, extra, extra_len);
        c->extra = x;
        c->extra_len = extra_len;
        c->next = h->adopted;
        h->adopted = c;
        c = NULL;
        x = NULL;
    } else if (t != NULL) {
        h->reserved--;
    }
    pthread_mutex_unlock(&h->mu);
    free(t);
    if (c != NULL) { /* not adopted: reclaimed, quiescing or out of memory */
        free(c);
        free(x);
        h->release(urh, sock);
        return;
    }
    wake(h);
}

size_t lo_tail_hub_tokens(lo_tail_hub_t *h, int64_t *ids, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    for (client_t *c = h->clients; c != NULL; c = c->next) {
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = ids[i] == c->token_id;
        if (!seen && n < max)
            ids[n++] = c->token_id;
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

void lo_tail_hub_revoke(lo_tail_hub_t *h, const int64_t *ids, size_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&h->mu);
    int64_t *r = realloc(h->revoked, (h->n_revoked + n) * sizeof(*r));
    if (r != NULL) {
        memcpy(r + h->n_revoked, ids, n * sizeof(*r));
        h->revoked = r;
        h->n_revoked += n;
    }
    pthread_mutex_unlock(&h->mu);
    wake(h);
}

/* ---- one client's WebSocket (on the thread) ---- */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    client_t *c = ud;
    if (c->extra_off < c->extra_len) {
        size_t n = c->extra_len - c->extra_off < len ? c->extra_len - c->extra_off : len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t r = recv(c->fd, buf, len, 0);
    if (r > 0)
        return r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else if (r < 0 && errno == EINTR)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* closed or failed */
    return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    client_t *c = ud;
    ssize_t r = send(c->fd, data, len, MSG_NOSIGNAL);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx, (void)ud;
    memset(buf, 0, len); /* a server never masks */
    return 0;
}

static void ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    (void)ctx, (void)arg;
    client_t *c = ud;
    c->last_seen = lo_mono_ns(); /* pongs, pings (answered by wslay) and anything else */
}

static const struct wslay_event_callbacks WS_CALLBACKS = { ws_recv, ws_send, ws_genmask, NULL,
                                                           NULL,    NULL,    ws_msg };

/* Data frames are framed here, into the client's own buffer, and sent many
 * per send(); wslay parses what the client sends and handles the control
 * frames (ping, pong, close).  The two never interleave inside a frame:
 * wslay sends only when the buffer is empty, the buffer only when wslay
 * has nothing half sent. */
static void queue_text(client_t *c, const char *p, size_t n)
{
    uint8_t h[10];
    size_t hl;
    h[0] = 0x81; /* FIN, text */
    if (n < 126) {
        h[1] = (uint8_t)n;
        hl = 2;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (uint8_t)(n >> 8);
        h[3] = (uint8_t)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    if (lo_buf_append(&c->out, h, hl) == LO_OK && lo_buf_append(&c->out, p, n) == LO_OK)
        c->dirty = true;
}

/* Bytes waiting for this client. */
static size_t queued(const client_t *c)
{
    return c->out.len - c->out_off + wslay_event_get_queued_msg_length(c->ws);
}

/* Sends the data frames buffered; false when the socket failed. */
static bool send_out(client_t *c)
{
    while (c->out_off < c->out.len) {
        ssize_t r = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r > 0) {
            c->out_off += (size_t)r;
            continue;
        }
        return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
    lo_buf_reset(&c->out);
    c->out_off = 0;
    if (c->out.cap > (1u << 20)) /* give back what a burst grew */
        lo_buf_free(&c->out);
    return true;
}

static void close_client(client_t *c, uint16_t code, const char *reason)
{
    if (c->close_by != 0 || c->dead)
        return;
    c->close_by = lo_mono_ns() + CLOSE_WAIT_NS;
    (void)wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, strlen(reason));
    c->dirty = true;
}

/* Sends what is queued; marks the client dead when its socket failed or
 * the closing handshake is done. */
static void flush(lo_tail_hub_t *h, client_t *c)
{
    if (c->dead)
        return;
    if (c->ws_pending) {
        if (wslay_event_send(c->ws) != 0)
            c->dead = true;
        c->ws_pending = wslay_event_want_write(c->ws);
    }
    if (!c->dead && !c->ws_pending && !send_out(c))
        c->dead = true;
    if (!c->dead && c->out_off == c->out.len && wslay_event_want_write(c->ws)) {
        if (wslay_event_send(c->ws) != 0)
            c->dead = true;
        c->ws_pending = wslay_event_want_write(c->ws);
    }
    c->dirty = false;
    bool out_empty = c->out_off == c->out.len;
    if (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws) && out_empty)
        c->dead = true;
    if (c->close_by != 0 && wslay_event_get_close_sent(c->ws) && !wslay_event_want_write(c->ws))
        c->dead = true;
    if (c->behind_since != 0 && c->gap == 0 && queued(c) < (size_t)h->cfg->tail_client_buffer_bytes / 2)
        c->behind_since = 0;
    uint32_t want = EPOLLIN | (wslay_event_want_write(c->ws) || !out_empty ? EPOLLOUT : 0u);
    if (!c->dead && want != c->events) {
        struct epoll_event ev = { .events = want, .data.ptr = c };
        if (epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
            c->events = want;
    }
}

/* The client's pending gap message, when there is room for it. */
static void tell_gap(lo_tail_hub_t *h, client_t *c)
{
    if (c->gap == 0 || c->close_by != 0)
        return;
    if (queued(c) + 64 > (size_t)h->cfg->tail_client_buffer_bytes)
        return;
    char m[64];
    int n = snprintf(m, sizeof(m), "{\"type\":\"gap\",\"missed\":%llu}", (unsigned long long)c->gap);
    queue_text(c, m, (size_t)n);
    c->gap = 0;
}

static void deliver(lo_tail_hub_t *h, client_t *c, const lo_tail_item_t *it, int64_t now)
{
    if (c->dead || c->close_by != 0)
        return;
    if (it->kind == ITEM_GAP) {
        c->gap += it->missed;
        tell_gap(h, c);
        return;
    }
    if (it->kind == ITEM_LOG && !lo_tail_filter_match(&c->f, &it->meta))
        return;
    if (it->kind == ITEM_LOG && queued(c) + it->msg_len > (size_t)h->cfg->tail_client_buffer_bytes) {
        c->gap++;
        if (c->behind_since == 0)
            c->behind_since = now;
        atomic_fetch_add(&h->st->dropped_client, 1);
        return;
    }
    tell_gap(h, c);
    queue_text(c, it->data, it->msg_len);
    if (it->kind == ITEM_LOG)
        atomic_fetch_add(&h->st->sent, 1);
}

static void client_free(lo_tail_hub_t *h, client_t *c)
{
    epoll_ctl(h->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ws != NULL)
        wslay_event_context_free(c->ws);
    h->release(c->urh, c->fd); /* closes the socket */
    filter_refs(h, &c->f, -1);
    lo_buf_free(&c->out);
    free(c->extra);
    free(c);
    atomic_fetch_sub(&h->st->open, 1);
}

/* New sockets: WebSocket state, epoll, channels. */
static void take_adopted(lo_tail_hub_t *h, client_t *list, int64_t now)
{
    while (list != NULL) {
        client_t *c = list;
        list = c->next;
        c->last_seen = now;
        c->next_ping = now + PING_EVERY_NS;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (wslay_event_context_server_init(&c->ws, &WS_CALLBACKS, c) != 0 ||
            epoll_ctl(h->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
            if (c->ws != NULL)
                wslay_event_context_free(c->ws);
            h->release(c->urh, c->fd);
            free(c->extra);
            free(c);
            pthread_mutex_lock(&h->mu);
            h->reserved--;
            pthread_mutex_unlock(&h->mu);
            continue;
        }
        c->events = EPOLLIN;
        wslay_event_config_set_max_recv_msg_length(c->ws, MAX_CLIENT_MSG);
        filter_refs(h, &c->f, 1);
        atomic_fetch_add(&h->st->open, 1);
        atomic_fetch_add(&h->st->opened, 1);
        pthread_mutex_lock(&h->mu);
        c->next = h->clients;
        h->clients = c;
        pthread_mutex_unlock(&h->mu);
        if (c->extra_len > 0 && wslay_event_recv(c->ws) != 0)
            c->dead = true;
        c->dirty = true; /* answers to what came with the handshake */
    }
}

/* Once a second: pings, silent and lagging clients, stale tickets. */
static void tick(lo_tail_hub_t *h, int64_t now)
{
    for (client_t *c = h->clients; c != NULL; c = c->next) {
        if (c->dead)
            continue;
        if (c->close_by != 0) {
            if (now > c->close_by)
                c->dead = true;
            continue;
        }
        if (c->behind_since != 0 && now - c->behind_since > LAG_CLOSE_NS) {
            atomic_fetch_add(&h->st->closed_lag, 1);
            close_client(c, 1008, "client too slow: it stayed behind for 10 s");
            c->close_by = now + CLOSE_WAIT_NS / 4; /* it reads nothing: do not wait long */
        } else if (now - c->last_seen > PONG_WAIT_NS) {
            atomic_fetch_add(&h->st->closed_pong, 1);
            close_client(c, 1008, "no answer to pings");
        } else if (now >= c->next_ping) {
            struct wslay_event_msg m = { WSLAY_PING, (const uint8_t *)"", 0 };
            if (wslay_event_queue_msg(c->ws, &m) == 0)
                c->dirty = true;
            c->next_ping = now + PING_EVERY_NS;
        }
    }
    pthread_mutex_lock(&h->mu);
    for (ticket_t **p = &h->tickets; *p != NULL;) {
        ticket_t *t = *p;
        if (now - t->created > TICKET_WAIT_NS) { /* upgrade never completed */
            *p = t->next;
            h->reserved--;
            free(t);
        } else {
            p = &t->next;
        }
    }
    pthread_mutex_unlock(&h->mu);
}

/* Removes dead clients from the list and frees them. */
static void reap(lo_tail_hub_t *h)
{
    client_t *dead = NULL;
    pthread_mutex_lock(&h->mu);
    for (client_t **p = &h->clients; *p != NULL;) {
        client_t *c = *p;
        if (c->dead) {
            *p = c->next;
            c->next = dead;
            dead = c;
            h->reserved--;
        } else {
            p = &c->next;
        }
    }
    pthread_mutex_unlock(&h->mu);
    while (dead != NULL) {
        client_t *c = dead;
        dead = c->next;
        client_free(h, c);
    }
}

static void *run(void *arg)
{
    lo_tail_hub_t *h = arg;
    struct epoll_event evs[64];
    int64_t next_tick = lo_mono_ns() + 1000000000;
    bool closing_all = false;
    while (!atomic_load(&h->stop)) {
        int n = epoll_wait(h->ep, evs, 64, 250);
        int64_t now = lo_mono_ns();
        for (int i = 0; i < n; i++) {
            client_t *c = evs[i].data.ptr;
            if (c == NULL) {
                uint64_t v;
                ssize_t r = read(h->wake, &v, sizeof(v));
                (void)r;
                continue;
            }
            if (c->dead)
                continue;
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && wslay_event_recv(c->ws) != 0)
                c->dead = true;
            c->dirty = true;
        }
        /* hand-offs */
        pthread_mutex_lock(&h->mu);
        lo_tail_item_t *items = h->in_head;
        h->in_head = h->in_tail = NULL;
        h->in_bytes = 0;
        uint64_t missed = h->missed;
        h->missed = 0;
        client_t *adopted = h->adopted;
        h->adopted = NULL;
        int64_t *revoked = h->revoked;
        size_t n_revoked = h->n_revoked;
        h->revoked = NULL;
        h->n_revoked = 0;
        pthread_mutex_unlock(&h->mu);
        take_adopted(h, adopted, now);
        for (client_t *c = h->clients; c != NULL; c = c->next) {
            for (size_t i = 0; i < n_revoked; i++) {
                if (c->token_id == revoked[i]) {
                    atomic_fetch_add(&h->st->closed_revoked, 1);
                    close_client(c, 1008, "token revoked");
                }
            }
        }
        free(revoked);
        if (missed > 0) {
            lo_tail_item_t gap = { .kind = ITEM_GAP, .missed = missed };
            for (client_t *c = h->clients; c != NULL; c = c->next)
                deliver(h, c, &gap, now);
        }
        while (items != NULL) {
            lo_tail_item_t *it = items;
            items = it->next;
            for (client_t *c = h->clients; c != NULL; c = c->next)
                deliver(h, c, it, now);
            free(it);
        }
        if (atomic_load(&h->quiescing) && !closing_all) {
            closing_all = true;
            for (client_t *c = h->clients; c != NULL; c = c->next)
                close_client(c, 1001, "server shutting down");
        }
        if (now >= next_tick) {
            tick(h, now);
            next_tick = now + 1000000000;
        }
        for (client_t *c = h->clients; c != NULL; c = c->next) {
            if (c->dirty || c->gap > 0) {
                tell_gap(h, c);
                flush(h, c);
            }
        }
        reap(h);
    }
    /* stopping: whatever is left goes */
    for (client_t *c = h->clients; c != NULL; c = c->next)
        c->dead = true;
    reap(h);
    return NULL;
}

/* ---- life ---- */

lo_tail_hub_t *lo_tail_hub_create(const lo_config_t *cfg, lo_tail_stats_t *stats)
{
    lo_tail_hub_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->cfg = cfg;
    h->st = stats;
    h->release = release_close;
    h->ep = h->wake = -1;
    pthread_mutex_init(&h->mu, NULL);
    h->chans = calloc(MAX_CHANNELS, sizeof(chan_t));
    h->ep = epoll_create1(EPOLL_CLOEXEC);
    h->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    if (h->chans == NULL || h->ep < 0 || h->wake < 0 || epoll_ctl(h->ep, EPOLL_CTL_ADD, h->wake, &ev) != 0) {
        lo_tail_hub_destroy(h);
        return NULL;
    }
    return h;
}

int lo_tail_hub_start(lo_tail_hub_t *h)
{
    if (pthread_create(&h->thread, NULL, run, h) != 0)
        return LO_ERROR;
    h->started = true;
    return LO_OK;
}

void lo_tail_hub_quiesce(lo_tail_hub_t *h)
{
    atomic_store(&h->quiescing, true);
    wake(h);
    /* let the close frames go out */
    for (int i = 0; i < 40; i++) {
        pthread_mutex_lock(&h->mu);
        bool empty = h->clients == NULL && h->adopted == NULL;
        pthread_mutex_unlock(&h->mu);
        if (empty || !h->started)
            break;
        usleep(50000);
    }
    /* the sockets belong to the HTTP listener, which stops next: none
     * may outlive it */
    lo_tail_hub_stop(h);
}

void lo_tail_hub_stop(lo_tail_hub_t *h)
{
    if (!h->started)
        return;
    atomic_store(&h->stop, true);
    wake(h);
    pthread_join(h->thread, NULL);
    h->started = false;
}

void lo_tail_hub_destroy(lo_tail_hub_t *h)
{
    if (h == NULL)
        return;
    lo_tail_hub_stop(h);
    for (lo_tail_item_t *it = h->in_head; it != NULL;) {
        lo_tail_item_t *n = it->next;
        free(it);
        it = n;
    }
    for (ticket_t *t = h->tickets; t != NULL;) {
        ticket_t *n = t->next;
        free(t);
        t = n;
    }
    for (client_t *c = h->adopted; c != NULL;) {
        client_t *n = c->next;
        h->release(c->urh, c->fd);
        free(c->extra);
        free(c);
        c = n;
    }
    free(h->revoked);
    free(h->chans);
    if (h->ep >= 0)
        close(h->ep);
    if (h->wake >= 0)
        close(h->wake);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
