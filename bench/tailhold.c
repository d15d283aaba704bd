/*
 * tailhold.c — many live tail clients in one small process, for the tail
 * benchmark (bench/tail_bench.sh): opens N WebSocket tails on the API
 * listener, then reads every frame they receive and counts the messages,
 * with as little CPU as a client can spend (frames are skipped, not
 * parsed), so that what the benchmark measures is the server.
 *
 *   tailhold HOST PORT TOKEN N [QUERY...]
 *
 * Tail i uses QUERY[i % count] ("level=error", "" for none).  Prints
 * "READY" once all are open; on stdin's end (or after 600 s) prints
 * "RESULT tails=N messages=M" and exits.  A tail closed by the server is
 * counted in closed=.
 */
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int fd;
    unsigned char hdr[14];
    size_t hlen; /* header bytes held */
    size_t skip; /* payload bytes still to skip */
    int closed;
} conn_t;

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Sends the handshake and reads the head; 0 when upgraded. */
static int open_tail(conn_t *c, const char *host, const char *port, const char *token, const char *query)
{
    c->fd = dial(host, port);
    if (c->fd < 0)
        return -1;
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET /api/observe/logs/tail%s%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n",
                     query[0] ? "?" : "", query, host, token);
    if (n <= 0 || (size_t)n >= sizeof(req) || send(c->fd, req, (size_t)n, 0) != n)
        return -1;
    char head[4096];
    size_t len = 0;
    /* byte by byte: nothing past the head may be consumed here */
    while (len + 1 < sizeof(head)) {
        if (recv(c->fd, head + len, 1, 0) != 1)
            return -1;
        len++;
        if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[len] = '\0';
    return strncmp(head, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
}

/* Counts the frames in p[0..n); returns the text/binary messages ended. */
static long feed(conn_t *c, const unsigned char *p, size_t n)
{
    long msgs = 0;
    while (n > 0) {
        if (c->skip > 0) {
            size_t k = c->skip < n ? c->skip : n;
            c->skip -= k, p += k, n -= k;
            continue;
        }
        c->hdr[c->hlen++] = *p++, n--;
        if (c->hlen < 2)
            continue;
        size_t len7 = c->hdr[1] & 0x7f, need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        if (c->hlen < need)
            continue;
        size_t len = len7;
        if (len7 == 126)
            len = (size_t)c->hdr[2] << 8 | c->hdr[3];
        else if (len7 == 127)
            for (int i = 0; i < 8; i++)
                len = len << 8 | c->hdr[2 + i];
        int op = c->hdr[0] & 0x0f;
        if ((op == 1 || op == 2 || op == 0) && (c->hdr[0] & 0x80))
            msgs++;
        if (op == 8)
            c->closed = 1;
        c->skip = len;
        c->hlen = 0;
    }
    return msgs;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: tailhold HOST PORT TOKEN N [QUERY...]\n");
        return 2;
    }
    int n = atoi(argv[4]), nq = argc - 5;
    conn_t *cs = calloc((size_t)n, sizeof(conn_t));
    int ep = epoll_create1(0);
    for (int i = 0; i < n; i++) {
        const char *q = nq > 0 ? argv[5 + i % nq] : "";
        if (open_tail(&cs[i], argv[1], argv[2], argv[3], q) != 0) {
            fprintf(stderr, "tailhold: tail %d (%s) did not open\n", i, q);
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &cs[i] };
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    printf("READY\n");
    fflush(stdout);
    long msgs = 0;
    static unsigned char buf[1 << 16];
    struct epoll_event evs[64];
    for (int stop = 0, waited = 0; !stop && waited < 600000;) {
        struct pollfd in = { .fd = 0, .events = POLLIN };
        if (poll(&in, 1, 0) > 0) {
            ssize_t r = read(0, buf, sizeof(buf));
            if (r <= 0)
                break;
        }
        int k = epoll_wait(ep, evs, 64, 100);
        if (k == 0)
            waited += 100;
        for (int i = 0; i < k; i++) {
            conn_t *c = evs[i].data.ptr;
            ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
            if (r <= 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                c->closed = 1;
                continue;
            }
            msgs += feed(c, buf, (size_t)r);
        }
    }
    int closed = 0;
    for (int i = 0; i < n; i++)
        closed += cs[i].closed;
    printf("RESULT tails=%d messages=%ld closed=%d\n", n, msgs, closed);
    return 0;
}
