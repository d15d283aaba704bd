/*
 * tcpproxy.h — a loopback TCP proxy for tests: PostgreSQL "goes away"
 * (every connection cut, new ones refused) and "comes back" on demand,
 * without stopping the shared test cluster.
 */
#ifndef LO_TCPPROXY_H
#define LO_TCPPROXY_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROXY_MAX 64

typedef struct {
    int port, target_port;
    int lfd;
    int pair[PROXY_MAX][2]; /* client, server; -1 when free */
    atomic_int want_up;     /* 1 up, 0 down */
    atomic_bool quit;
    pthread_t th;
} tcp_proxy_t;

static inline int proxy_listen(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int proxy_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline void proxy_close_pair(tcp_proxy_t *p, int i)
{
    if (p->pair[i][0] >= 0) {
        close(p->pair[i][0]);
        close(p->pair[i][1]);
        p->pair[i][0] = p->pair[i][1] = -1;
    }
}

static inline void *proxy_main(void *arg)
{
    tcp_proxy_t *p = arg;
    char buf[65536];
    while (!atomic_load(&p->quit)) {
        bool up = atomic_load(&p->want_up);
        if (!up && p->lfd >= 0) {
            close(p->lfd);
            p->lfd = -1;
            for (int i = 0; i < PROXY_MAX; i++)
                proxy_close_pair(p, i);
        } else if (up && p->lfd < 0) {
            p->lfd = proxy_listen(p->port);
        }
        struct pollfd fds[1 + 2 * PROXY_MAX];
        int map[1 + 2 * PROXY_MAX];
        int n = 0;
        if (p->lfd >= 0) {
            fds[n] = (struct pollfd){ .fd = p->lfd, .events = POLLIN };
            map[n++] = -1;
        }
        for (int i = 0; i < PROXY_MAX; i++) {
            for (int k = 0; k < 2 && p->pair[i][0] >= 0; k++) {
                fds[n] = (struct pollfd){ .fd = p->pair[i][k], .events = POLLIN };
                map[n++] = i * 2 + k;
            }
        }
        if (poll(fds, (nfds_t)n, 20) <= 0)
            continue;
        for (int j = 0; j < n; j++) {
            if (fds[j].revents == 0)
                continue;
            if (map[j] < 0) {
                int c = accept(p->lfd, NULL, NULL);
                if (c < 0)
                    continue;
                int s = proxy_dial(p->target_port);
                int slot = -1;
                for (int i = 0; i < PROXY_MAX && slot < 0; i++)
                    if (p->pair[i][0] < 0)
                        slot = i;
                if (s < 0 || slot < 0) {
                    close(c);
                    if (s >= 0)
                        close(s);
                    continue;
                }
                p->pair[slot][0] = c;
                p->pair[slot][1] = s;
                continue;
            }
            int i = map[j] / 2, k = map[j] % 2;
            if (p->pair[i][0] < 0)
                continue;
            ssize_t got = read(p->pair[i][k], buf, sizeof(buf));
            if (got <= 0) {
                proxy_close_pair(p, i);
                continue;
            }
            for (ssize_t off = 0; off < got;) {
                ssize_t put = write(p->pair[i][1 - k], buf + off, (size_t)(got - off));
                if (put <= 0)
                    break;
                off += put;
            }
        }
    }
    if (p->lfd >= 0)
        close(p->lfd);
    for (int i = 0; i < PROXY_MAX; i++)
        proxy_close_pair(p, i);
    return NULL;
}

/* Starts a proxy on a free loopback port to target_port. */
static inline void proxy_start(tcp_proxy_t *p, int target_port)
{
    memset(p, 0, sizeof(*p));
    for (int i = 0; i < PROXY_MAX; i++)
        p->pair[i][0] = p->pair[i][1] = -1;
    p->target_port = target_port;
    p->lfd = proxy_listen(0);
    assert_true(p->lfd >= 0);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    getsockname(p->lfd, (struct sockaddr *)&a, &len);
    p->port = ntohs(a.sin_port);
    atomic_store(&p->want_up, 1);
    pthread_create(&p->th, NULL, proxy_main, p);
}

static inline void proxy_set_up(tcp_proxy_t *p, bool up)
{
    atomic_store(&p->want_up, up ? 1 : 0);
    usleep(100 * 1000); /* the proxy thread acts within a poll round */
}

static inline void proxy_stop(tcp_proxy_t *p)
{
    atomic_store(&p->quit, true);
    pthread_join(p->th, NULL);
}

#endif
