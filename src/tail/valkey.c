/*
 * valkey.c — the tail across nodes: a publisher thread that PUBLISHes the
 * committed entries some node wants (pipelined), and a subscriber thread
 * that holds one subscription per wanted channel for this process's
 * clients (docs/tail.md).
 *
 * Which channels some node wants is asked once a second (PUBSUB CHANNELS
 * logs:* and PUBSUB NUMPAT, one round trip for every project) and cached;
 * until the first answer everything counts as wanted.  When Valkey is
 * unreachable both threads reconnect with backoff (0.1 s doubling to 5 s);
 * entries that could not be published are counted and announced to every
 * tail as a gap, and this process's tails are told "reconnecting", then
 * "resumed".  Ingest never waits for any of it.
 */
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "tail/tail_internal.h"

#define BACKOFF_MIN_NS (100LL * 1000000)
#define BACKOFF_MAX_NS (5LL * 1000000000)
#define REFRESH_NS     (1000LL * 1000000)
#define MAX_PIPELINE   1024

struct lo_tail_valkey {
    char host[256], user[128], pass[256];
    int port;
    const lo_config_t *cfg;
    lo_tail_hub_t *hub;
    lo_tail_stats_t *st;
    pthread_t pub, sub;
    bool started;
    atomic_bool stop;
    int wake; /* the subscriber's: wanted channels changed */

    pthread_mutex_t mu; /* the queue and the interest */
    pthread_cond_t cv;
    lo_tail_item_t *head, *tail;
    size_t bytes;
    uint64_t missed; /* not published, not yet announced */
    bool known, any_pattern;
    lo_buf_t wanted; /* channels with a subscriber somewhere, NUL-separated */
};

/* redis://[[user]:password@]host[:port][/db] */
static int parse_url(lo_tail_valkey_t *v, const char *url)
{
    const char *p = url + strlen("redis://");
    const char *at = strrchr(p, '@');
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL || (size_t)(colon - p) >= sizeof(v->user) ||
            (size_t)(at - colon - 1) >= sizeof(v->pass))
            return LO_INVALID;
        memcpy(v->user, p, (size_t)(colon - p));
        memcpy(v->pass, colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    size_t hl;
    const char *rest;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (close == NULL)
            return LO_INVALID;
        hl = (size_t)(close - p - 1);
        if (hl == 0 || hl >= sizeof(v->host))
            return LO_INVALID;
        memcpy(v->host, p + 1, hl);
        rest = close + 1;
    } else {
        hl = strcspn(p, ":/");
        if (hl == 0 || hl >= sizeof(v->host))
            return LO_INVALID;
        memcpy(v->host, p, hl);
        rest = p + hl;
    }
    v->port = 6379;
    if (*rest == ':') {
        char *end;
        long port = strtol(rest + 1, &end, 10);
        if (end == rest + 1 || port < 1 || port > 65535 || (*end != '\0' && *end != '/'))
            return LO_INVALID;
        v->port = (int)port;
        rest = end;
    }
    return *rest == '\0' || *rest == '/' ? LO_OK : LO_INVALID;
}

/* A connection, authenticated; NULL when Valkey cannot be reached. */
static redisContext *dial(lo_tail_valkey_t *v)
{
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout(v->host, v->port, tv);
    if (c == NULL || c->err) {
        redisFree(c);
        return NULL;
    }
    struct timeval io = { 5, 0 };
    (void)redisSetTimeout(c, io);
    (void)redisEnableKeepAlive(c);
    if (v->pass[0] != '\0') {
        redisReply *r = v->user[0] != '\0' ? redisCommand(c, "AUTH %s %s", v->user, v->pass)
                                           : redisCommand(c, "AUTH %s", v->pass);
        bool ok = r != NULL && r->type != REDIS_REPLY_ERROR;
        if (r != NULL && !ok)
            lo_log_warn("valkey refused the password of valkey_url", "reply=%s", "error");
        freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* ---- the interest of every node ---- */

bool lo_tail_valkey_wants(lo_tail_valkey_t *v, const char *channel)
{
    pthread_mutex_lock(&v->mu);
    bool w = !v->known || v->any_pattern;
    for (size_t o = 0; !w && o < v->wanted.len;) {
        const char *n = v->wanted.p + o;
        w = strcmp(n, channel) == 0;
        o += strlen(n) + 1;
    }
    pthread_mutex_unlock(&v->mu);
    return w;
}

static bool refresh(lo_tail_valkey_t *v, redisContext *c)
{
    redisReply *ch = redisCommand(c, "PUBSUB CHANNELS %s", LO_TAIL_PATTERN);
    redisReply *np = ch != NULL ? redisCommand(c, "PUBSUB NUMPAT") : NULL;
    bool ok = ch != NULL && np != NULL && ch->type == REDIS_REPLY_ARRAY && np->type == REDIS_REPLY_INTEGER;
    if (ok) {
        pthread_mutex_lock(&v->mu);
        lo_buf_reset(&v->wanted);
        for (size_t i = 0; i < ch->elements; i++)
            if (ch->element[i]->type == REDIS_REPLY_STRING)
                lo_buf_append(&v->wanted, ch->element[i]->str, ch->element[i]->len + 1);
        v->any_pattern = np->integer > 0;
        v->known = true;
        pthread_mutex_unlock(&v->mu);
    }
    freeReplyObject(ch);
    freeReplyObject(np);
    return ok;
}

/* ---- the publisher ---- */

bool lo_tail_valkey_publish(lo_tail_valkey_t *v, lo_tail_item_t *it)
{
    pthread_mutex_lock(&v->mu);
    bool ok = v->bytes + it->size <= (size_t)v->cfg->tail_queue_bytes && !atomic_load(&v->stop);
    if (ok) {
        if (v->tail != NULL)
            v->tail->next = it;
        else
            v->head = it;
        v->tail = it;
        v->bytes += it->size;
        pthread_cond_signal(&v->cv);
    } else {
        v->missed++;
    }
    pthread_mutex_unlock(&v->mu);
    if (!ok) {
        atomic_fetch_add(&v->st->dropped_queue, 1);
        free(it);
    }
    return ok;
}

static void free_items(lo_tail_item_t *it)
{
    while (it != NULL) {
        lo_tail_item_t *n = it->next;
        free(it);
        it = n;
    }
}

/* PUBLISHes the items (at most MAX_PIPELINE, in one round trip) and a gap
 * notice first when entries were lost.  false when the connection failed
 * (the items not acknowledged are counted as missed). */
static bool publish(lo_tail_valkey_t *v, redisContext *c, lo_tail_item_t *items, size_t n, uint64_t missed)
{
    size_t sent = 0;
    if (missed > 0) {
        char m[64];
        snprintf(m, sizeof(m), "%llu", (unsigned long long)missed);
        redisAppendCommand(c, "PUBLISH %s %s", LO_TAIL_GAP_CHANNEL, m);
        sent++;
    }
    for (lo_tail_item_t *it = items; it != NULL; it = it->next, sent++)
        redisAppendCommand(c, "PUBLISH %s %b", it->channel, it->data + ITEM_ENTRY_OFF,
                           it->msg_len - ITEM_ENTRY_OFF - 1);
    size_t acked = 0;
    for (; acked < sent; acked++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || r == NULL || r->type == REDIS_REPLY_ERROR) {
            freeReplyObject(r);
            break;
        }
        freeReplyObject(r);
    }
    size_t entries = n, done = acked > (missed > 0) ? acked - (missed > 0) : 0;
    atomic_fetch_add(&v->st->published, (long long)done);
    if (acked == sent)
        return true;
    pthread_mutex_lock(&v->mu);
    v->missed += entries - done + (missed > 0 && acked == 0 ? missed : 0);
    pthread_mutex_unlock(&v->mu);
    atomic_fetch_add(&v->st->publish_errors, 1);
    return false;
}

static void *pub_run(void *arg)
{
    lo_tail_valkey_t *v = arg;
    redisContext *c = NULL;
    int64_t backoff = BACKOFF_MIN_NS, next_dial = 0, next_refresh = 0;
    bool warned = false;
    while (!atomic_load(&v->stop)) {
        pthread_mutex_lock(&v->mu);
        if (v->head == NULL && !atomic_load(&v->stop)) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 200 * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&v->cv, &v->mu, &until);
        }
        /* at most MAX_PIPELINE at a time */
        lo_tail_item_t *items = v->head, *last = NULL;
        size_t n = 0;
        for (lo_tail_item_t *it = v->head; it != NULL && n < MAX_PIPELINE; it = it->next, n++) {
            last = it;
            v->bytes -= it->size;
        }
        if (last != NULL) {
            v->head = last->next;
            if (v->head == NULL)
                v->tail = NULL;
            last->next = NULL;
        }
        uint64_t missed = c != NULL ? v->missed : 0;
        if (c != NULL)
            v->missed = 0;
        pthread_mutex_unlock(&v->mu);

        int64_t now = lo_mono_ns();
        if (c == NULL && now >= next_dial) {
            c = dial(v);
            if (c == NULL) {
                if (!warned)
                    lo_log_warn(
                        "valkey unreachable: the tail reaches this node's clients only until it returns",
                        "host=%s port=%d", v->host, v->port);
                warned = true;
                next_dial = now + backoff;
                backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
            } else {
                if (warned)
                    lo_log_info("valkey reachable again", "host=%s port=%d", v->host, v->port);
                warned = false;
                backoff = BACKOFF_MIN_NS;
                next_refresh = 0;
            }
        }
        if (c == NULL) {
            pthread_mutex_lock(&v->mu);
            v->missed += n + missed;
            pthread_mutex_unlock(&v->mu);
            atomic_fetch_add(&v->st->dropped_queue, (long long)n);
            free_items(items);
            continue;
        }
        bool ok = n == 0 && missed == 0 ? true : publish(v, c, items, n, missed);
        free_items(items);
        if (ok && now >= next_refresh) {
            ok = refresh(v, c);
            next_refresh = now + REFRESH_NS;
        }
        if (!ok) {
            redisFree(c);
            c = NULL;
            next_dial = now;
        }
    }
    redisFree(c);
    return NULL;
}

/* ---- the subscriber ---- */

static void wake_sub(void *arg)
{
    lo_tail_valkey_t *v = arg;
    uint64_t one = 1;
    ssize_t r = write(v->wake, &one, sizeof(one));
    (void)r;
}

static bool has(const lo_buf_t *set, const char *name)
{
    for (size_t o = 0; o < set->len;) {
        const char *n = set->p + o;
        if (strcmp(n, name) == 0)
            return true;
        o += strlen(n) + 1;
    }
    return false;
}

/* Brings the subscription to what the hub wants; false when the
 * connection failed. */
static bool resubscribe(lo_tail_valkey_t *v, redisContext *c, lo_buf_t *have, bool *have_pattern)
{
    lo_buf_t want;
    lo_buf_init(&want, 0);
    bool pattern = false;
    lo_tail_hub_channels(v->hub, &want, &pattern);
    size_t cmds = 0;
    for (size_t o = 0; o < want.len; o += strlen(want.p + o) + 1)
        if (!has(have, want.p + o))
            cmds += redisAppendCommand(c, "SUBSCRIBE %s", want.p + o) == REDIS_OK;
    for (size_t o = 0; o < have->len; o += strlen(have->p + o) + 1)
        if (!has(&want, have->p + o))
            cmds += redisAppendCommand(c, "UNSUBSCRIBE %s", have->p + o) == REDIS_OK;
    if (pattern != *have_pattern)
        cmds +=
            redisAppendCommand(c, pattern ? "PSUBSCRIBE %s" : "PUNSUBSCRIBE %s", LO_TAIL_PATTERN) == REDIS_OK;
    int done = cmds == 0;
    while (!done)
        if (redisBufferWrite(c, &done) != REDIS_OK) {
            lo_buf_free(&want);
            return false;
        }
    lo_buf_free(have);
    *have = want;
    *have_pattern = pattern;
    return true;
}

/* One pushed message: an entry, or a gap notice. */
static void on_push(lo_tail_valkey_t *v, redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    size_t ci = strcmp(kind, "message") == 0 ? 1 : strcmp(kind, "pmessage") == 0 ? 2 : 0;
    if (ci == 0 || r->elements < ci + 2)
        return;
    redisReply *ch = r->element[ci], *pl = r->element[ci + 1];
    if (ch->type != REDIS_REPLY_STRING || pl->type != REDIS_REPLY_STRING)
        return;
    lo_tail_item_t *it;
    if (strcmp(ch->str, LO_TAIL_GAP_CHANNEL) == 0)
        it = lo_tail_item_gap(strtoull(pl->str, NULL, 10));
    else
        it = lo_tail_item_parse(pl->str, pl->len);
    if (it != NULL)
        (void)lo_tail_hub_post(v->hub, it);
}

static void *sub_run(void *arg)
{
    lo_tail_valkey_t *v = arg;
    redisContext *c = NULL;
    lo_buf_t have;
    lo_buf_init(&have, 0);
    bool have_pattern = false, down = false;
    int64_t backoff = BACKOFF_MIN_NS, next_dial = 0;
    while (!atomic_load(&v->stop)) {
        int64_t now = lo_mono_ns();
        if (c == NULL && now >= next_dial) {
            c = dial(v);
            if (c == NULL) {
                next_dial = now + backoff;
                backoff = backoff * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : backoff * 2;
                if (!down) {
                    lo_tail_item_t *st = lo_tail_item_status("reconnecting");
                    if (st != NULL)
                        (void)lo_tail_hub_post(v->hub, st);
                    down = true;
                }
            } else {
                backoff = BACKOFF_MIN_NS;
                lo_buf_reset(&have);
                have_pattern = false;
                bool ok = redisAppendCommand(c, "SUBSCRIBE %s", LO_TAIL_GAP_CHANNEL) == REDIS_OK &&
                          resubscribe(v, c, &have, &have_pattern);
                if (!ok) {
                    redisFree(c);
                    c = NULL;
                } else if (down) {
                    lo_tail_item_t *st = lo_tail_item_status("resumed");
                    if (st != NULL)
                        (void)lo_tail_hub_post(v->hub, st);
                    down = false;
                }
            }
        }
        struct pollfd pf[2] = { { .fd = v->wake, .events = POLLIN },
                                { .fd = c ? c->fd : -1, .events = POLLIN } };
        int n = poll(pf, 2, c != NULL ? 500 : 100);
        if (n > 0 && (pf[0].revents & POLLIN)) {
            uint64_t x;
            ssize_t rr = read(v->wake, &x, sizeof(x));
            (void)rr;
        }
        bool failed = false;
        if (c != NULL && n > 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            if (redisBufferRead(c) != REDIS_OK) {
                failed = true;
            } else {
                void *r = NULL;
                while (redisGetReplyFromReader(c, &r) == REDIS_OK && r != NULL) {
                    on_push(v, r);
                    freeReplyObject(r);
                    r = NULL;
                }
                failed = c->err != 0;
            }
        }
        if (c != NULL && !failed)
            failed = !resubscribe(v, c, &have, &have_pattern);
        if (failed) {
            redisFree(c);
            c = NULL;
            next_dial = lo_mono_ns();
            lo_tail_item_t *st = lo_tail_item_status("reconnecting");
            if (st != NULL)
                (void)lo_tail_hub_post(v->hub, st);
            down = true;
        }
    }
    redisFree(c);
    lo_buf_free(&have);
    return NULL;
}

/* ---- life ---- */

lo_tail_valkey_t *lo_tail_valkey_create(const char *url, const lo_config_t *cfg, lo_tail_hub_t *hub,
                                        lo_tail_stats_t *stats, char *err, size_t errlen)
{
    lo_tail_valkey_t *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (parse_url(v, url) != LO_OK) {
        snprintf(err, errlen, "valkey_url must be redis://[[user]:password@]host[:port][/db]");
        free(v);
        return NULL;
    }
    v->cfg = cfg;
    v->hub = hub;
    v->st = stats;
    pthread_mutex_init(&v->mu, NULL);
    pthread_cond_init(&v->cv, NULL);
    lo_buf_init(&v->wanted, 0);
    v->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (v->wake < 0) {
        snprintf(err, errlen, "cannot create an eventfd");
        lo_tail_valkey_destroy(v);
        return NULL;
    }
    lo_tail_hub_on_change(hub, wake_sub, v);
    return v;
}

int lo_tail_valkey_start(lo_tail_valkey_t *v)
{
    if (pthread_create(&v->pub, NULL, pub_run, v) != 0)
        return LO_ERROR;
    if (pthread_create(&v->sub, NULL, sub_run, v) != 0) {
        atomic_store(&v->stop, true);
        pthread_join(v->pub, NULL);
        return LO_ERROR;
    }
    v->started = true;
    return LO_OK;
}

void lo_tail_valkey_stop(lo_tail_valkey_t *v)
{
    if (v == NULL || !v->started)
        return;
    atomic_store(&v->stop, true);
    pthread_mutex_lock(&v->mu);
    pthread_cond_broadcast(&v->cv);
    pthread_mutex_unlock(&v->mu);
    wake_sub(v);
    pthread_join(v->pub, NULL);
    pthread_join(v->sub, NULL);
    v->started = false;
}

void lo_tail_valkey_destroy(lo_tail_valkey_t *v)
{
    if (v == NULL)
        return;
    lo_tail_valkey_stop(v);
    if (v->hub != NULL)
        lo_tail_hub_on_change(v->hub, NULL, NULL);
    free_items(v->head);
    lo_buf_free(&v->wanted);
    if (v->wake >= 0)
        close(v->wake);
    pthread_cond_destroy(&v->cv);
    pthread_mutex_destroy(&v->mu);
    memset(v->pass, 0, sizeof(v->pass));
    free(v);
}
