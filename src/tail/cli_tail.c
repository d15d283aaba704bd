/*
 * cli_tail.c — lookout tail: a live tail from a shell (docs/tail.md).
 *
 * Opens GET /api/observe/logs/tail as a WebSocket client (wslay) and
 * prints one line per entry ("time level service message", coloured by
 * level on a terminal) or, with --json, each entry as it arrives.
 */
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "cli.h"
#include "core/buf.h"
#include "core/lo.h"

#define HEAD_MAX 16384

static const char USAGE[] =
    "usage: lookout tail [--url http://HOST:PORT] [--token TOKEN] [--project UUID] [--level L[,L]]\n"
    "                    [--service NAME] [--q TEXT] [--session UUID] [--json]\n"
    "Prints the logs committed from now on, as they arrive.  --url is the API listener\n"
    "(default $LOOKOUT_URL, else http://127.0.0.1:8080); the token (scope observe:read)\n"
    "comes from --token or $LOOKOUT_TOKEN.  --json prints each entry as the search API does.\n";

typedef struct {
    int fd;
    bool json, color, done;
    int status;
} tail_cli_t;

static void put_param(lo_buf_t *b, const char *name, const char *v)
{
    if (v == NULL)
        return;
    lo_buf_printf(b, "%c%s=", b->len > 0 ? '&' : '?', name);
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~')
            lo_buf_putc(b, (char)*p);
        else
            lo_buf_printf(b, "%%%02X", *p);
    }
}

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = ai; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
    (void)flags;
    tail_cli_t *t = ud;
    ssize_t r = recv(t->fd, buf, len, MSG_DONTWAIT);
    if (r > 0)
        return r;
    wslay_event_set_error(ctx, r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                                   ? WSLAY_ERR_WOULDBLOCK
                                   : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *ud)
{
    (void)flags;
    tail_cli_t *t = ud;
    ssize_t r = send(t->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r >= 0)
        return r;
    wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                                   ? WSLAY_ERR_WOULDBLOCK
                                   : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    (void)ctx, (void)ud;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static const char *level_color(const char *level)
{
    if (strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0)
        return "\033[31m";
    if (strcmp(level, "warn") == 0)
        return "\033[33m";
    if (strcmp(level, "debug") == 0 || strcmp(level, "trace") == 0)
        return "\033[2m";
    return "";
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s != NULL ? s : "-";
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    tail_cli_t *t = ud;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        t->status = arg->status_code == 1000 || arg->status_code == 1001 ? 0 : 1;
        if (arg->status_code != 1000)
            fprintf(stderr, "lookout tail: closed by the server (%u): %.*s\n", arg->status_code,
                    (int)(arg->msg_length > 2 ? arg->msg_length - 2 : 0), arg->msg + 2);
        t->done = true;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME)
        return;
    json_t *m = json_loadb((const char *)arg->msg, arg->msg_length, 0, NULL);
    const char *type = str(m, "type");
    json_t *e = json_object_get(m, "entry");
    if (strcmp(type, "log") == 0 && t->json) {
        char *s = json_dumps(e, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
        if (s != NULL)
            printf("%s\n", s);
        free(s);
    } else if (strcmp(type, "log") == 0) {
        const char *level = str(e, "level");
        printf("%s%s %-5s %s %s%s\n", t->color ? level_color(level) : "", str(e, "time"), level,
               str(e, "service"), str(e, "message"), t->color && level_color(level)[0] ? "\033[0m" : "");
    } else if (strcmp(type, "gap") == 0) {
        fprintf(stderr, "lookout tail: %lld entries missed (this client or the server fell behind)\n",
                (long long)json_integer_value(json_object_get(m, "missed")));
    } else if (strcmp(type, "status") == 0) {
        fprintf(stderr, "lookout tail: %s\n", str(m, "status"));
    }
    fflush(stdout);
    json_decref(m);
    (void)ctx;
}

/* Sends the handshake and reads the answer's head; 0 when upgraded. */
static int handshake(tail_cli_t *t, const char *host, const char *path, const char *token)
{
    unsigned char nonce[16], md[EVP_MAX_MD_SIZE];
    char key[32], want[64], in[128];
    unsigned int mdlen = 0;
    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
    int n = snprintf(in, sizeof(in), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
    EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)want, md, (int)mdlen);
    lo_buf_t req;
    lo_buf_init(&req, 0);
    lo_buf_printf(&req,
                  "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                  path, host, key, token);
    ssize_t w = req.err == LO_OK ? send(t->fd, req.p, req.len, MSG_NOSIGNAL) : -1;
    bool sent = w == (ssize_t)req.len;
    lo_buf_free(&req);
    if (!sent)
        return -1;
    char head[HEAD_MAX + 1];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL && len < HEAD_MAX) {
        ssize_t r = recv(t->fd, head + len, HEAD_MAX - len, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        head[len] = '\0';
        end = strstr(head, "\r\n\r\n");
    }
    if (end == NULL) {
        fprintf(stderr, "lookout tail: no answer from the server\n");
        return -1;
    }
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        const char *body = end + 4;
        json_t *j = json_loads(body, 0, NULL);
        const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        fprintf(stderr, "lookout tail: %.*s: %s\n", (int)strcspn(head, "\r"), head, msg != NULL ? msg : body);
        json_decref(j);
        return -1;
    }
    if (strcasestr(head, want) == NULL) {
        fprintf(stderr, "lookout tail: the server's handshake answer is wrong\n");
        return -1;
    }
    if ((size_t)(end + 4 - head) != len) {
        fprintf(stderr, "lookout tail: unexpected bytes after the handshake\n");
        return -1;
    }
    return 0;
}

int lo_cmd_tail(int argc, char **argv)
{
    const char *url = getenv("LOOKOUT_URL"), *token = getenv("LOOKOUT_TOKEN");
    const char *vals[6] = { NULL };
    static const char *const names[6] = { "project_id", "level", "service", "q", "session_id", NULL };
    static const char *const flags[6] = { "--project", "--level", "--service", "--q", "--session", NULL };
    tail_cli_t t = { .fd = -1, .color = isatty(STDOUT_FILENO) == 1 };
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0) {
            t.json = true;
            continue;
        }
        bool known = false;
        const char **slot = strcmp(argv[i], "--url") == 0     ? &url
                            : strcmp(argv[i], "--token") == 0 ? &token
                                                              : NULL;
        for (int k = 0; slot == NULL && flags[k] != NULL; k++)
            if (strcmp(argv[i], flags[k]) == 0)
                slot = &vals[k];
        known = slot != NULL;
        if (!known || i + 1 >= argc) {
            fprintf(stderr, "lookout tail: %s \"%s\"\n%s",
                    known ? "a value is missing after" : "unknown flag", argv[i], USAGE);
            return 2;
        }
        *slot = argv[++i];
    }
    if (token == NULL || token[0] == '\0') {
        fprintf(stderr, "lookout tail: no token: give --token or set LOOKOUT_TOKEN (scope observe:read)\n");
        return 2;
    }
    if (url == NULL)
        url = "http://127.0.0.1:8080";
    char host[256], port[8] = "80";
    const char *h = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
    size_t hl = h != NULL ? strcspn(h, ":/") : 0;
    if (h == NULL || hl == 0 || hl >= sizeof(host)) {
        fprintf(stderr, "lookout tail: --url must be http://HOST[:PORT] (the API listener)\n");
        return 2;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (h[hl] == ':')
        snprintf(port, sizeof(port), "%.*s", (int)strcspn(h + hl + 1, "/"), h + hl + 1);

    lo_buf_t q;
    lo_buf_init(&q, 0);
    for (int k = 0; names[k] != NULL; k++)
        put_param(&q, names[k], vals[k]);
    lo_buf_t path;
    lo_buf_init(&path, 0);
    lo_buf_printf(&path, "/api/observe/logs/tail%.*s", (int)q.len, q.p != NULL ? q.p : "");
    lo_buf_free(&q);

    t.fd = dial(host, port);
    if (t.fd < 0) {
        fprintf(stderr, "lookout tail: cannot connect to %s:%s\n", host, port);
        lo_buf_free(&path);
        return 1;
    }
    int rc = handshake(&t, host, path.p, token);
    lo_buf_free(&path);
    if (rc != 0) {
        close(t.fd);
        return 1;
    }
    wslay_event_context_ptr ws;
    struct wslay_event_callbacks cb = { ws_recv, ws_send, ws_genmask, NULL, NULL, NULL, on_msg };
    if (wslay_event_context_client_init(&ws, &cb, &t) != 0) {
        close(t.fd);
        return 1;
    }
    t.status = 1;
    while (!t.done && (wslay_event_want_read(ws) || wslay_event_want_write(ws))) {
        struct pollfd pf = { .fd = t.fd,
                             .events = (short)(POLLIN | (wslay_event_want_write(ws) ? POLLOUT : 0)) };
        if (poll(&pf, 1, -1) < 0)
            break;
        if ((pf.revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(ws) != 0)
            break;
        if (wslay_event_want_write(ws) && wslay_event_send(ws) != 0)
            break;
    }
    if (!t.done)
        fprintf(stderr, "lookout tail: the connection was lost\n");
    wslay_event_context_free(ws);
    close(t.fd);
    return t.status;
}
