/* guard.c — head deadlines, request-line checks and framing checks (guard.h). */
#include "http/guard.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/stats.h"
#include "http/parse.h"

#define REAP_PERIOD_MS 250

atomic_llong lo_http_heads_timed_out;

/* One open connection.  Linked in the guard's list from libmicrohttpd's
 * STARTED notification to its CLOSED one, which comes before the socket
 * is closed: under the lock, fd is always the connection's own. */
typedef struct conn {
    struct conn *prev, *next;
    lo_http_guard_t *g;
    int fd;
    int64_t deadline_ns; /* the head must be complete by then; 0: it is */
    bool shut;
    bool upgraded; /* no longer HTTP: never a deadline again */
} conn_t;

struct lo_http_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    conn_t head; /* sentinel of a circular list */
    int64_t head_timeout_ns, idle_ns;
    bool stopping;
    pthread_t reaper;
};

/* Marks from lo_http_guard_uri, passed on as the first *con_cls. */
static char mark_nul, mark_params;

static void reap(lo_http_guard_t *g, int64_t now)
{
    for (conn_t *k = g->head.next; k != &g->head; k = k->next) {
        if (k->deadline_ns != 0 && now > k->deadline_ns && !k->shut) {
            /* libmicrohttpd sees the socket end and closes the connection */
            shutdown(k->fd, SHUT_RDWR);
            k->shut = true;
            lo_stat_add(&lo_http_heads_timed_out, 1);
        }
    }
}

static void *reaper(void *arg)
{
    lo_http_guard_t *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += REAP_PERIOD_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
        if (!g->stopping)
            reap(g, lo_mono_ns());
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

lo_http_guard_t *lo_http_guard_create(int64_t head_timeout_ns, int64_t idle_ns)
{
    lo_http_guard_t *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->head.next = g->head.prev = &g->head;
    g->head_timeout_ns = head_timeout_ns;
    g->idle_ns = idle_ns;
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->reaper, NULL, reaper, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        return NULL;
    }
    return g;
}

void lo_http_guard_destroy(lo_http_guard_t *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = true;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->reaper, NULL);
    /* the daemons are stopped: every connection was closed and unlinked */
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void lo_http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    lo_http_guard_t *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_t *k = calloc(1, sizeof(*k));
        if (k == NULL || i == NULL) {
            free(k); /* unguarded: the inactivity timeout still applies */
            *socket_context = NULL;
            return;
        }
        k->g = g;
        k->fd = i->connect_fd;
        k->deadline_ns = lo_mono_ns() + g->head_timeout_ns;
        pthread_mutex_lock(&g->mu);
        k->next = g->head.next;
        k->prev = &g->head;
        g->head.next->prev = k;
        g->head.next = k;
        pthread_mutex_unlock(&g->mu);
        *socket_context = k;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_t *k = *socket_context;
        *socket_context = NULL;
        if (k == NULL)
            return;
        pthread_mutex_lock(&g->mu);
        k->prev->next = k->next;
        k->next->prev = k->prev;
        pthread_mutex_unlock(&g->mu);
        free(k);
    }
}

static conn_t *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i != NULL ? i->socket_context : NULL;
}

static void set_deadline(conn_t *k, int64_t deadline_ns)
{
    if (k == NULL)
        return;
    pthread_mutex_lock(&k->g->mu);
    k->deadline_ns = k->upgraded ? 0 : deadline_ns;
    pthread_mutex_unlock(&k->g->mu);
}

void lo_http_guard_upgraded(struct MHD_Connection *c)
{
    conn_t *k = conn_of(c);
    if (k == NULL)
        return;
    pthread_mutex_lock(&k->g->mu);
    k->upgraded = true;
    k->deadline_ns = 0;
    pthread_mutex_unlock(&k->g->mu);
}

void lo_http_guard_request_done(struct MHD_Connection *c)
{
    conn_t *k = conn_of(c);
    if (k != NULL)
        set_deadline(k, lo_mono_ns() + k->g->idle_ns + k->g->head_timeout_ns);
}

/* An answer written straight to the socket, which is then shut down: for
 * request lines libmicrohttpd itself cannot answer (it runs out of its
 * per-connection memory parsing them and would hold the connection until
 * its inactivity timeout).  Nothing else has been written on it yet. */
static void refuse_raw(struct MHD_Connection *c, const char *answer)
{
    const union MHD_ConnectionInfo *i = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (i == NULL)
        return;
    (void)send(i->connect_fd, answer, strlen(answer), MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(i->connect_fd, SHUT_RDWR);
}

void *lo_http_guard_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    LO_UNUSED(cls);
    if (uri == NULL)
        return NULL;
    /* libmicrohttpd splits the request line in place: the URI's end is the
     * NUL written over the space before "HTTP/".  Anything else there
     * means the URI itself held a NUL byte. */
    size_t n = strlen(uri);
    if (strncmp(uri + n + 1, "HTTP/", 5) != 0)
        return &mark_nul;
    const char *q = strchr(uri, '?');
    size_t params = 0;
    for (; q != NULL && *q != '\0'; q++)
        params += *q == '&' || *q == '?';
    if (params > LO_HTTP_MAX_QUERY_PARAMS) {
        static const char body[] =
            "{\"error\":{\"code\":\"too_many_parameters\",\"message\":\"more than 256 query "
            "parameters\"}}";
        char answer[256];
        snprintf(answer, sizeof(answer),
                 "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 sizeof(body) - 1, body);
        refuse_raw(c, answer);
        return &mark_params;
    }
    return NULL;
}

bool lo_http_guard_first(const void *con_cls)
{
    return con_cls == NULL || con_cls == &mark_nul || con_cls == &mark_params;
}

typedef struct {
    int content_length, transfer_encoding, host;
    bool te_ok;
} heads_t;

static enum MHD_Result count_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    LO_UNUSED(kind);
    heads_t *h = cls;
    if (key == NULL)
        return MHD_YES;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        h->content_length++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        h->transfer_encoding++;
        h->te_ok = lo_http_transfer_encoding_chunked(value);
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        h->host++;
    }
    return MHD_YES;
}

int lo_http_guard_head(struct MHD_Connection *c, const char *version, void *con_cls, unsigned *status,
                       const char **message)
{
    set_deadline(conn_of(c), 0);
    *status = MHD_HTTP_BAD_REQUEST;
    if (con_cls == &mark_nul) {
        *message = "the request target contains a NUL byte";
        return LO_INVALID;
    }
    if (con_cls == &mark_params) {
        *status = MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
        *message = "more than 256 query parameters";
        return LO_INVALID;
    }
    heads_t h = { 0 };
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_cb, &h);
    if (h.content_length > 1) {
        *message = "more than one Content-Length header";
        return LO_INVALID;
    }
    if (h.transfer_encoding > 0 && h.content_length > 0) {
        *message = "Content-Length together with Transfer-Encoding";
        return LO_INVALID;
    }
    if (h.transfer_encoding > 1 || (h.transfer_encoding == 1 && !h.te_ok)) {
        *message = "Transfer-Encoding must be chunked alone";
        return LO_INVALID;
    }
    if (version != NULL && strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && h.host != 1) {
        *message = h.host == 0 ? "HTTP/1.1 request without a Host header" : "more than one Host header";
        return LO_INVALID;
    }
    return LO_OK;
}
