/*
 * loadgen.c — lookout's ingest load generator.
 *
 * Pre-encodes a set of OTLP protobuf request bodies (bench/gen.c describes
 * the data), then posts them over N keep-alive HTTP/1.1 connections, one
 * thread each, without think time, for a duration or a request count.  Only
 * records of 200 answers are counted (minus partial_success rejections).
 * Before each request the first 8 bytes of every trace id are rewritten
 * with (connection, sequence), so that traces are new as in real traffic
 * rather than the same few updated over and over.
 *
 *   loadgen --signal logs|spans|metrics [--url http://127.0.0.1:4318]
 *           [--token T] [--connections 8] [--duration 20] [--requests 0]
 *           [--batch 1000] [--bodies 16] [--gzip] [--backoff-ms 0]
 *           [--timeout 30] [--dump FILE] [--dry]
 *
 * The last line of output is machine-readable (RESULT key=value ...).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "encode.h"
#include "gen.h"
#include "pbw.h"

typedef struct {
    uint8_t *body;
    size_t len;
    char head[768];
    size_t head_len;
    size_t *trace_at; /* offsets of trace ids to rewrite (none when gzipped) */
    size_t ntrace;
    int records;
} body_t;

typedef struct {
    const char *host, *port, *path, *token;
    bg_signal_t signal;
    int connections, batch, bodies, backoff_ms;
    double timeout; /* seconds a request may take, as an SDK's export timeout */
    double duration;
    long max_requests;
    bool gzip, dry;
    const char *dump;
    uint64_t seed;
} opts_t;

typedef struct {
    int id;
    pthread_t th;
    /* results */
    long n200, n429, n503, nother, nerr, ntimeout;
    long records_ok, rejected;
    uint64_t bytes_ok;
    uint32_t *lat_us; /* of 200 answers */
    size_t nlat, lat_cap;
} conn_t;

static opts_t opt;
static body_t *bodies;
static atomic_long requests_started;
static int64_t deadline_ns;

static int gzip_body(body_t *b)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, b->len) + 32;
    uint8_t *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = b->body;
    z.avail_in = (uInt)b->len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return -1;
    }
    free(b->body);
    b->body = out;
    b->len = n;
    free(b->trace_at);
    b->trace_at = NULL;
    b->ntrace = 0;
    return 0;
}

static int build_bodies(void)
{
    bodies = calloc((size_t)opt.bodies, sizeof *bodies);
    if (!bodies)
        return -1;
    int64_t now = bg_now_ns();
    size_t raw_total = 0;
    for (int i = 0; i < opt.bodies; i++) {
        bg_req_t r;
        if (bg_req_build(&r, opt.signal, opt.batch, opt.seed, i, now) != 0)
            return -1;
        pbw_t w = { 0 };
        bg_encode_request(&w, &r);
        body_t *b = &bodies[i];
        b->body = w.p;
        b->len = w.len;
        b->trace_at = w.mark;
        b->ntrace = w.nmark;
        b->records = r.nrecords;
        raw_total += w.len;
        bg_req_free(&r);
        if (opt.gzip && gzip_body(b) != 0)
            return -1;
        int n = snprintf(b->head, sizeof b->head,
                         "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/x-protobuf\r\n"
                         "%s%s%s%sContent-Length: %zu\r\n\r\n",
                         opt.path, opt.host, opt.port, opt.token ? "Authorization: Bearer " : "",
                         opt.token ? opt.token : "", opt.token ? "\r\n" : "",
                         opt.gzip ? "Content-Encoding: gzip\r\n" : "", b->len);
        if (n <= 0 || (size_t)n >= sizeof b->head)
            return -1;
        b->head_len = (size_t)n;
    }
    size_t sent_total = 0;
    for (int i = 0; i < opt.bodies; i++)
        sent_total += bodies[i].len;
    fprintf(stderr, "loadgen: %d %s bodies of %d records: %.1f KiB each (%.0f bytes/record)%s\n", opt.bodies,
            bg_signal_name(opt.signal), opt.batch, (double)sent_total / opt.bodies / 1024.0,
            (double)raw_total / ((double)opt.bodies * opt.batch), opt.gzip ? " gzipped" : "");
    return 0;
}

/* Average bytes of message + attributes JSON per log line, as the server
 * would store them (reported so the record size can be checked). */
static void report_log_size(void)
{
    if (opt.signal != BG_LOGS)
        return;
    bg_req_t r;
    if (bg_req_build(&r, BG_LOGS, opt.batch, opt.seed, 0, bg_now_ns()) != 0)
        return;
    size_t total = 0, n = 0;
    for (int ri = 0; ri < r.nres; ri++)
        for (int i = 0; i < r.res[ri].nlogs; i++) {
            const bg_log_t *l = &r.res[ri].logs[i];
            total += strlen(l->body) + 2; /* {} */
            for (int a = 0; a < l->nattr; a++) {
                total += strlen(l->attr[a].key) + 4; /* "":, */
                if (l->attr[a].t == BG_STR)
                    total += strlen(l->attr[a].s) + 2;
                else
                    total += (size_t)snprintf(NULL, 0, "%lld", (long long)l->attr[a].i);
            }
            n++;
        }
    fprintf(stderr, "loadgen: log lines average %.0f bytes of message + attributes JSON\n",
            n ? (double)total / (double)n : 0.0);
    bg_req_free(&r);
}

/* ---- HTTP ---- */

static int dial(void)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    if (getaddrinfo(opt.host, opt.port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = { (time_t)opt.timeout,
                              (suseconds_t)((opt.timeout - (double)(time_t)opt.timeout) * 1e6) };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return fd;
}

static int send_all(int fd, const char *h, size_t hn, const uint8_t *b, size_t bn)
{
    struct iovec iov[2] = { { (void *)h, hn }, { (void *)b, bn } };
    int i = 0;
    while (i < 2) {
        ssize_t n = writev(fd, iov + i, 2 - i);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t left = (size_t)n;
        while (i < 2 && left >= iov[i].iov_len) {
            left -= iov[i].iov_len;
            i++;
        }
        if (i < 2) {
            iov[i].iov_base = (char *)iov[i].iov_base + left;
            iov[i].iov_len -= left;
        }
    }
    return 0;
}

/* Reads one response.  Returns the status, -1 on a broken connection.
 * *rejected gets partial_success's count; *close_after when the server
 * will close. */
static int read_response(int fd, char *buf, size_t cap, long *rejected, bool *close_after)
{
    size_t have = 0;
    char *eoh = NULL;
    *rejected = 0;
    *close_after = false;
    while (!eoh) {
        if (have == cap - 1)
            return -1;
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = 0;
        eoh = strstr(buf, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    size_t head = (size_t)(eoh + 4 - buf);
    long clen = 0;
    bool chunked = false;
    for (char *line = strstr(buf, "\r\n") + 2; line < eoh; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtol(line + 15, NULL, 10);
        else if (strncasecmp(line, "Connection:", 11) == 0 && strncasecmp(line + 11, " close", 6) == 0)
            *close_after = true;
        else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
                 strstr(line, "chunked") < strstr(line, "\r\n"))
            chunked = true;
    }
    if (chunked) {
        /* not expected from lookout: read until the terminating chunk */
        while (!strstr(buf + head, "0\r\n\r\n")) {
            if (have == cap - 1)
                return -1;
            ssize_t n = read(fd, buf + have, cap - 1 - have);
            if (n <= 0)
                return -1;
            have += (size_t)n;
            buf[have] = 0;
        }
        return status;
    }
    if (clen < 0 || head + (size_t)clen >= cap)
        return -1;
    while (have < head + (size_t)clen) {
        ssize_t n = read(fd, buf + have, head + (size_t)clen - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
    /* Export*ServiceResponse { 1: partial_success { 1: rejected (varint) } } */
    if (status == 200 && clen > 2 && (uint8_t)buf[head] == 0x0a) {
        const uint8_t *p = (const uint8_t *)buf + head + 2, *e = (const uint8_t *)buf + head + clen;
        if (p < e && *p == 0x08) {
            uint64_t v = 0;
            int sh = 0;
            for (p++; p < e && sh < 64; p++, sh += 7) {
                v |= (uint64_t)(*p & 0x7f) << sh;
                if (!(*p & 0x80))
                    break;
            }
            *rejected = (long)v;
        }
    }
    return status;
}

static void lat_add(conn_t *c, int64_t ns)
{
    if (c->nlat == c->lat_cap) {
        c->lat_cap = c->lat_cap ? c->lat_cap * 2 : 4096;
        uint32_t *p = realloc(c->lat_us, c->lat_cap * sizeof *p);
        if (!p)
            return;
        c->lat_us = p;
    }
    int64_t us = ns / 1000;
    c->lat_us[c->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void *conn_main(void *arg)
{
    conn_t *c = arg;
    size_t maxlen = 0;
    for (int i = 0; i < opt.bodies; i++)
        if (bodies[i].len > maxlen)
            maxlen = bodies[i].len;
    uint8_t *work = malloc(maxlen);
    size_t rcap = 64 * 1024;
    char *rbuf = malloc(rcap);
    if (!work || !rbuf) {
        free(work);
        free(rbuf);
        c->nerr++;
        return NULL;
    }
    int fd = -1;
    uint64_t seq = 0;
    int bi = c->id % opt.bodies;
    for (;;) {
        if (bg_mono_ns() >= deadline_ns)
            break;
        if (opt.max_requests > 0 && atomic_fetch_add(&requests_started, 1) >= opt.max_requests)
            break;
        if (fd < 0) {
            fd = dial();
            if (fd < 0) {
                c->nerr++;
                sleep_ms(50);
                continue;
            }
        }
        const body_t *b = &bodies[bi];
        bi = (bi + 1) % opt.bodies;
        const uint8_t *send_body = b->body;
        if (b->ntrace) {
            memcpy(work, b->body, b->len);
            uint64_t tag = ((uint64_t)(c->id + 1) << 40) | seq++;
            for (size_t i = 0; i < b->ntrace; i++)
                for (int k = 0; k < 8; k++)
                    work[b->trace_at[i] + (size_t)k] = (uint8_t)(tag >> (56 - 8 * k));
            send_body = work;
        }
        int64_t t0 = bg_mono_ns();
        long rejected = 0;
        bool close_after = false;
        int status = -1;
        /* a server may answer (429, 413) and close before reading the whole
         * body: read whatever answer came even when the send failed */
        errno = 0;
        (void)send_all(fd, b->head, b->head_len, send_body, b->len);
        status = read_response(fd, rbuf, rcap, &rejected, &close_after);
        int64_t t1 = bg_mono_ns();
        if (status < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                c->ntimeout++;
            else
                c->nerr++;
            close(fd);
            fd = -1;
            continue;
        }
        if (status == 200) {
            c->n200++;
            c->records_ok += b->records - rejected;
            c->rejected += rejected;
            c->bytes_ok += b->len;
            lat_add(c, t1 - t0);
        } else if (status == 429) {
            c->n429++;
        } else if (status == 503) {
            c->n503++;
        } else {
            if (c->nother++ == 0)
                fprintf(stderr, "loadgen: connection %d got HTTP %d\n", c->id, status);
        }
        if (close_after) {
            close(fd);
            fd = -1;
        }
        if ((status == 429 || status == 503) && opt.backoff_ms > 0)
            sleep_ms(opt.backoff_ms);
    }
    if (fd >= 0)
        close(fd);
    free(work);
    free(rbuf);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- main ---- */

static void usage(void)
{
    fprintf(stderr, "usage: loadgen --signal logs|spans|metrics [--url http://127.0.0.1:4318] [--token T]\n"
                    "               [--connections 8] [--duration 20] [--requests 0] [--batch 1000]\n"
                    "               [--bodies 16] [--gzip] [--backoff-ms 0] [--timeout 30] [--seed 1]\n"
                    "               [--dump FILE] [--dry]\n"
                    "The token may also come from LO_BENCH_TOKEN.\n");
}

static int parse_url(const char *url)
{
    static char host[256], port[16];
    const char *p = url;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
    size_t hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, p, hl);
    host[hl] = 0;
    if (colon) {
        size_t pl = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
        if (pl == 0 || pl >= sizeof port)
            return -1;
        memcpy(port, colon + 1, pl);
        port[pl] = 0;
    } else {
        strcpy(port, "80");
    }
    opt.host = host;
    opt.port = port;
    return 0;
}

int main(int argc, char **argv)
{
    opt = (opts_t){ .signal = BG_LOGS,
                    .connections = 8,
                    .batch = 1000,
                    .bodies = 16,
                    .duration = 20,
                    .timeout = 30,
                    .seed = 1,
                    .token = getenv("LO_BENCH_TOKEN") };
    const char *url = "http://127.0.0.1:4318";
    static const struct option lo[] = {
        { "signal", 1, 0, 's' },   { "url", 1, 0, 'u' },
        { "token", 1, 0, 't' },    { "connections", 1, 0, 'c' },
        { "duration", 1, 0, 'd' }, { "requests", 1, 0, 'n' },
        { "batch", 1, 0, 'b' },    { "bodies", 1, 0, 'B' },
        { "gzip", 0, 0, 'z' },     { "backoff-ms", 1, 0, 'k' },
        { "seed", 1, 0, 'S' },     { "dump", 1, 0, 'D' },
        { "dry", 0, 0, 'y' },      { "timeout", 1, 0, 'T' },
        { "help", 0, 0, 'h' },     { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 's': {
            int s = bg_signal_parse(optarg);
            if (s < 0) {
                usage();
                return 2;
            }
            opt.signal = (bg_signal_t)s;
            break;
        }
        case 'u': url = optarg; break;
        case 't': opt.token = optarg; break;
        case 'c': opt.connections = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'n': opt.max_requests = atol(optarg); break;
        case 'b': opt.batch = atoi(optarg); break;
        case 'B': opt.bodies = atoi(optarg); break;
        case 'z': opt.gzip = true; break;
        case 'k': opt.backoff_ms = atoi(optarg); break;
        case 'S': opt.seed = strtoull(optarg, NULL, 10); break;
        case 'D': opt.dump = optarg; break;
        case 'y': opt.dry = true; break;
        case 'T': opt.timeout = atof(optarg); break;
        default: usage(); return ch == 'h' ? 0 : 2;
        }
    }
    if (opt.connections < 1 || opt.connections > 4096 || opt.batch < 1 || opt.batch > 100000 ||
        opt.bodies < 1 || opt.bodies > 1024 || opt.duration <= 0 || opt.timeout < 0.001 ||
        parse_url(url) != 0) {
        usage();
        return 2;
    }
    opt.path = opt.signal == BG_LOGS ? "/v1/logs" : opt.signal == BG_SPANS ? "/v1/traces" : "/v1/metrics";
    if (build_bodies() != 0) {
        fprintf(stderr, "loadgen: cannot build request bodies\n");
        return 1;
    }
    report_log_size();
    if (opt.dump) {
        FILE *f = fopen(opt.dump, "wb");
        if (!f || fwrite(bodies[0].body, 1, bodies[0].len, f) != bodies[0].len || fclose(f) != 0) {
            fprintf(stderr, "loadgen: cannot write %s\n", opt.dump);
            return 1;
        }
    }
    if (opt.dry)
        return 0;

    signal(SIGPIPE, SIG_IGN);
    conn_t *conns = calloc((size_t)opt.connections, sizeof *conns);
    if (!conns)
        return 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int64_t t0 = bg_mono_ns();
    deadline_ns = t0 + (int64_t)(opt.duration * 1e9);
    for (int i = 0; i < opt.connections; i++) {
        conns[i].id = i;
        if (pthread_create(&conns[i].th, &attr, conn_main, &conns[i]) != 0) {
            fprintf(stderr, "loadgen: cannot start thread %d\n", i);
            return 1;
        }
    }
    conn_t tot = { 0 };
    size_t nlat = 0;
    for (int i = 0; i < opt.connections; i++) {
        pthread_join(conns[i].th, NULL);
        tot.n200 += conns[i].n200;
        tot.n429 += conns[i].n429;
        tot.n503 += conns[i].n503;
        tot.nother += conns[i].nother;
        tot.nerr += conns[i].nerr;
        tot.ntimeout += conns[i].ntimeout;
        tot.records_ok += conns[i].records_ok;
        tot.rejected += conns[i].rejected;
        tot.bytes_ok += conns[i].bytes_ok;
        nlat += conns[i].nlat;
    }
    double secs = (double)(bg_mono_ns() - t0) / 1e9;
    uint32_t *lat = malloc((nlat + 1) * sizeof *lat);
    size_t k = 0;
    for (int i = 0; i < opt.connections && lat; i++) {
        memcpy(lat + k, conns[i].lat_us, conns[i].nlat * sizeof *lat);
        k += conns[i].nlat;
        free(conns[i].lat_us);
    }
    double p50 = 0, p99 = 0;
    if (lat && nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_u32);
        p50 = lat[(nlat - 1) * 50 / 100] / 1000.0;
        p99 = lat[(nlat - 1) * 99 / 100] / 1000.0;
    }
    free(lat);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                 ru.ru_stime.tv_usec / 1e6;
    /* records offered: every answered request, whatever the answer */
    double offered = (double)(tot.n200 + tot.n429 + tot.n503 + tot.nother) * opt.batch / secs;
    double rps = (double)tot.records_ok / secs, mbps = (double)tot.bytes_ok / secs / 1e6;
    printf("%s: %ld records acknowledged in %.1f s = %.0f records/s, %.1f MB/s of request bodies\n",
           bg_signal_name(opt.signal), tot.records_ok, secs, rps, mbps);
    printf("  %d connections, %d records/request; latency of 200s p50 %.1f ms, p99 %.1f ms\n",
           opt.connections, opt.batch, p50, p99);
    printf("  answers: 200=%ld 429=%ld 503=%ld other=%ld; timeouts (> %g s)=%ld; connection errors=%ld; "
           "rejected records=%ld\n",
           tot.n200, tot.n429, tot.n503, tot.nother, opt.timeout, tot.ntimeout, tot.nerr, tot.rejected);
    printf("  offered %.0f records/s (answered requests of any status)\n", offered);
    printf("  load generator CPU: %.2f s (%.2f cores)\n", cpu, cpu / secs);
    printf("RESULT signal=%s seconds=%.2f records=%ld records_per_s=%.0f mb_per_s=%.2f p50_ms=%.2f "
           "p99_ms=%.2f s200=%ld s429=%ld s503=%ld other=%ld errors=%ld rejected=%ld client_cpu_s=%.2f "
           "offered_per_s=%.0f timeouts=%ld\n",
           bg_signal_name(opt.signal), secs, tot.records_ok, rps, mbps, p50, p99, tot.n200, tot.n429,
           tot.n503, tot.nother, tot.nerr, tot.rejected, cpu, offered, tot.ntimeout);
    for (int i = 0; i < opt.bodies; i++) {
        free(bodies[i].body);
        free(bodies[i].trace_at);
    }
    free(bodies);
    free(conns);
    return tot.n200 > 0 ? 0 : 1;
}
