/* The live tail's pure parts and its WebSocket handling: filter parsing
 * and matching (tail/filter.h), and the hub serving a client over a plain
 * socket pair — frames in and out, pings, oversized and unmasked client
 * frames, the close handshake, and a client buffer that overflows into a
 * gap message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/lo.h"
#include "tail/tail_internal.h"

/* ---- filters ---- */

typedef struct {
    const char *k[8], *v[8];
} kv_t;

static const char *kv_get(void *ud, const char *name)
{
    kv_t *kv = ud;
    for (int i = 0; i < 8 && kv->k[i] != NULL; i++)
        if (strcmp(kv->k[i], name) == 0)
            return kv->v[i];
    return NULL;
}

static lo_str_t S_(const char *s)
{
    return (lo_str_t){ s, s ? strlen(s) : 0 };
}

static void test_filter_parse(void **state)
{
    (void)state;
    lo_tail_filter_t f;
    char project[37], err[200];
    kv_t ok = { { "project_id", "level", "service", "q", "session_id" },
                { "2B1C8E34-0D1A-4F4B-9C1E-2A3B4C5D6E7F", "Error,WARN", "api", "Time Out",
                  "11111111-2222-4333-8444-555555555555" } };
    assert_int_equal(lo_tail_filter_parse(&f, kv_get, &ok, project, err, sizeof(err)), LO_OK);
    assert_string_equal(project, "2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f");
    assert_int_equal(f.n_levels, 2);
    assert_string_equal(f.levels[0], "error");
    assert_string_equal(f.levels[1], "warn");
    assert_string_equal(f.service, "api");
    assert_string_equal(f.q, "time out");
    assert_string_equal(f.session, "11111111-2222-4333-8444-555555555555");

    const kv_t bad[] = {
        { { "project_id" }, { "nope" } },
        { { "session_id" }, { "" } },
        { { "level" }, { "a,,b" } },
        { { "level" }, { "a b" } },
        { { "level" }, { "1,2,3,4,5,6,7,8,9" } },
        { { "q" }, { "" } },
        { { "service" }, { "\x01" } },
        { { "q" }, { "\xff\xfe" } },
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        assert_int_equal(lo_tail_filter_parse(&f, kv_get, (void *)&bad[i], project, err, sizeof(err)),
                         LO_INVALID);
        assert_true(strstr(err, bad[i].k[0]) != NULL); /* the message names the parameter */
    }
    char q[LO_TAIL_Q_MAX + 2];
    memset(q, 'a', sizeof(q) - 1);
    q[sizeof(q) - 1] = '\0';
    kv_t longq = { { "q" }, { q } };
    assert_int_equal(lo_tail_filter_parse(&f, kv_get, &longq, project, err, sizeof(err)), LO_INVALID);
    q[LO_TAIL_Q_MAX] = '\0';
    assert_int_equal(lo_tail_filter_parse(&f, kv_get, &longq, project, err, sizeof(err)), LO_OK);

    assert_int_equal(lo_tail_param_known("access_token", err, sizeof(err)), LO_OK);
    assert_int_equal(lo_tail_param_known("limit", err, sizeof(err)), LO_INVALID);
}

static void test_filter_projects(void **state)
{
    (void)state;
    lo_tail_filter_t f;
    memset(&f, 0, sizeof(f));
    assert_int_equal(lo_tail_filter_projects(&f, "{}"), LO_OK);
    assert_int_equal(f.n_projects, 0);
    assert_int_equal(lo_tail_filter_projects(
                         &f, "{2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f,11111111-2222-4333-8444-555555555555}"),
                     LO_OK);
    assert_int_equal(f.n_projects, 2);
    assert_string_equal(f.projects[1], "11111111-2222-4333-8444-555555555555");
    memset(&f, 0, sizeof(f));
    assert_int_equal(lo_tail_filter_projects(&f, "{x}"), LO_INVALID);
    assert_int_equal(lo_tail_filter_projects(&f, "2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f"), LO_INVALID);
    assert_int_equal(lo_tail_filter_projects(&f, "{2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f,}"), LO_INVALID);
    f.n_projects = LO_TAIL_MAX_PROJECTS;
    assert_int_equal(lo_tail_filter_projects(&f, "{2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f}"), LO_TOO_LARGE);
}

static void test_filter_match(void **state)
{
    (void)state;
    const char *P = "2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f";
    lo_tail_filter_t f;
    memset(&f, 0, sizeof(f));
    strcpy(f.projects[0], P);
    f.n_projects = 1;
    lo_tail_meta_t m = { S_(P), S_("error"), S_("api"), S_(NULL), S_("request timed out after 30 s") };
    assert_true(lo_tail_filter_match(&f, &m));
    lo_tail_meta_t none = m;
    none.project = S_(NULL);
    assert_false(lo_tail_filter_match(&f, &none)); /* no project: only for `all` */
    f.all = true;
    assert_true(lo_tail_filter_match(&f, &none));

    strcpy(f.levels[0], "warn");
    f.n_levels = 1;
    assert_false(lo_tail_filter_match(&f, &m));
    strcpy(f.levels[1], "error");
    f.n_levels = 2;
    assert_true(lo_tail_filter_match(&f, &m));

    f.has_service = true;
    strcpy(f.service, "ap");
    assert_false(lo_tail_filter_match(&f, &m)); /* exact, not a prefix */
    strcpy(f.service, "api");
    assert_true(lo_tail_filter_match(&f, &m));

    f.has_q = true;
    strcpy(f.q, "timed out");
    f.q_len = strlen(f.q);
    assert_true(lo_tail_filter_match(&f, &m));
    strcpy(f.q, "timed  out");
    f.q_len = strlen(f.q);
    assert_false(lo_tail_filter_match(&f, &m));
    f.has_q = false;

    f.has_session = true;
    strcpy(f.session, "11111111-2222-4333-8444-555555555555");
    assert_false(lo_tail_filter_match(&f, &m));
    m.session = S_("11111111-2222-4333-8444-555555555555");
    assert_true(lo_tail_filter_match(&f, &m));

    char folded[16];
    lo_tail_fold(folded, "AbC-Ü", 6);
    assert_memory_equal(folded, "abc-\xc3\x9c", 6); /* ASCII letters only */
}

/* An entry read back from Valkey: validated as one JSON object, its five
 * filter fields decoded (escapes included), nothing else parsed. */
static void test_item_parse(void **state)
{
    (void)state;
    const char *e =
        "{\"id\":\"x\",\"project_id\":\"2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f\",\"session_id\":null,"
        "\"service\":\"a\\\"b\",\"level\":\"warn\",\"message\":\"T\\u00e9 \\ud83d\\ude00\\n\","
        "\"attributes\":{\"k\":[1,-2.5e3,{\"n\":null}],\"message\":\"nested: not the one\"}}";
    lo_tail_item_t *it = lo_tail_item_parse(e, strlen(e));
    assert_non_null(it);
    assert_memory_equal(it->meta.project.p, "2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f", 36);
    assert_string_equal(it->channel, "logs:2b1c8e34-0d1a-4f4b-9c1e-2a3b4c5d6e7f");
    assert_null(it->meta.session.p);
    assert_int_equal(it->meta.service.len, 3);
    assert_memory_equal(it->meta.service.p, "a\"b", 3);
    assert_int_equal(it->meta.message_folded.len, strlen("t\xc3\xa9 \xf0\x9f\x98\x80\n"));
    assert_memory_equal(it->meta.message_folded.p, "t\xc3\xa9 \xf0\x9f\x98\x80\n",
                        it->meta.message_folded.len);
    assert_memory_equal(it->data + ITEM_ENTRY_OFF, e, strlen(e)); /* forwarded as it came */
    free(it);
    const char *bad[] = { "",
                          "[]",
                          "{",
                          "{\"a\":}",
                          "{\"a\":1,}",
                          "{\"a\":01}",
                          "{\"a\":\"\\x\"}",
                          "{\"a\":tru}",
                          "{\"a\":1} x",
                          "{\"a\":\"\x01\"}",
                          "{\"a\":\"\xff\"}",
                          "{\"project_id\":\"short\"}" };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++)
        if (lo_tail_item_parse(bad[i], strlen(bad[i])) != NULL)
            fail_msg("accepted %s", bad[i]);
    lo_buf_t d;
    lo_buf_init(&d, 0);
    lo_buf_puts(&d, "{\"a\":");
    for (int i = 0; i < 100; i++)
        lo_buf_putc(&d, '[');
    for (int i = 0; i < 100; i++)
        lo_buf_putc(&d, ']');
    lo_buf_putc(&d, '}');
    assert_null(lo_tail_item_parse(d.p, d.len)); /* nested deeper than the scanner goes */
    lo_buf_free(&d);
}

/* ---- the hub over a socket pair ---- */

static lo_config_t cfg;
static lo_tail_stats_t st;

static void release_fd(void *urh, int fd)
{
    (void)urh;
    close(fd);
}

/* A masked client frame. */
static size_t cframe(uint8_t *out, int op, bool fin, const void *p, size_t n)
{
    static const uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
    size_t o = 0;
    out[o++] = (uint8_t)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        out[o++] = (uint8_t)(0x80 | n);
    } else {
        out[o++] = 0x80 | 126;
        out[o++] = (uint8_t)(n >> 8);
        out[o++] = (uint8_t)n;
    }
    memcpy(out + o, mask, 4);
    o += 4;
    for (size_t i = 0; i < n; i++)
        out[o + i] = ((const uint8_t *)p)[i] ^ mask[i % 4];
    return o + n;
}

/* Reads one server frame (unmasked) within ms; its opcode, or -1. */
static int sframe(int fd, uint8_t *payload, size_t cap, size_t *n, int ms)
{
    uint8_t h[10];
    size_t got = 0, need = 2;
    struct pollfd pf = { fd, POLLIN, 0 };
    while (got < need) {
        if (poll(&pf, 1, ms) <= 0)
            return -1;
        ssize_t r = recv(fd, h + got, need - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        if (got == 2 && (h[1] & 0x7f) == 126)
            need = 4;
    }
    assert_int_equal(h[1] & 0x80, 0); /* a server never masks */
    size_t len = (h[1] & 0x7f) == 126 ? ((size_t)h[2] << 8 | h[3]) : (h[1] & 0x7f);
    assert_true(len <= cap);
    for (size_t o = 0; o < len;) {
        if (poll(&pf, 1, ms) <= 0)
            return -1;
        ssize_t r = recv(fd, payload + o, len - o, 0);
        if (r <= 0)
            return -1;
        o += (size_t)r;
    }
    *n = len;
    return h[0] & 0x0f;
}

static lo_tail_hub_t *hub;

/* A client of the hub on a socket pair: the test's end. */
static int connect_client(const lo_tail_filter_t *f, const void *extra, size_t extra_len)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    uint64_t ticket;
    assert_int_equal(lo_tail_hub_reserve(hub, 7, f, &ticket), LO_OK);
    lo_tail_hub_adopt(hub, ticket, sv[0], extra, extra_len, NULL);
    for (int i = 0; i < 200 && atomic_load(&st.open) == 0; i++)
        usleep(5000);
    return sv[1];
}

static void wait_closed(void)
{
    for (int i = 0; i < 400 && atomic_load(&st.open) != 0; i++)
        usleep(5000);
    assert_int_equal(atomic_load(&st.open), 0);
}

static int hub_setup(void **state)
{
    (void)state;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    cfg.tail_client_buffer_bytes = 16 * 1024;
    hub = lo_tail_hub_create(&cfg, &st);
    assert_non_null(hub);
    lo_tail_hub_set_release(hub, release_fd);
    assert_int_equal(lo_tail_hub_start(hub), LO_OK);
    return 0;
}

static int hub_teardown(void **state)
{
    (void)state;
    lo_tail_hub_destroy(hub);
    lo_config_free(&cfg);
    return 0;
}

static lo_tail_item_t *entry(const char *msg)
{
    char json[256];
    snprintf(json, sizeof(json), "{\"message\":\"%s\"}", msg);
    lo_tail_meta_t m = { S_(NULL), S_("info"), S_("svc"), S_(NULL), S_(msg) };
    return lo_tail_item_log(json, strlen(json), &m);
}

static void test_hub_frames(void **state)
{
    (void)state;
    lo_tail_filter_t f;
    memset(&f, 0, sizeof(f));
    f.all = true;
    /* a ping already in the bytes read past the handshake is answered */
    uint8_t fr[512], got[20000];
    size_t n = cframe(fr, 0x9, true, "hi", 2), len;
    int c = connect_client(&f, fr, n);
    assert_int_equal(sframe(c, got, sizeof(got), &len, 2000), 0xA);
    assert_memory_equal(got, "hi", 2);
    /* a ping on the socket, too */
    n = cframe(fr, 0x9, true, "again", 5);
    assert_int_equal(send(c, fr, n, 0), (ssize_t)n);
    assert_int_equal(sframe(c, got, sizeof(got), &len, 2000), 0xA);
    /* an entry arrives as one text message */
    assert_true(lo_tail_hub_post(hub, entry("first")));
    assert_int_equal(sframe(c, got, sizeof(got), &len, 2000), 0x1);
    assert_int_equal(len, strlen("{\"type\":\"log\",\"entry\":{\"message\":\"first\"}}"));
    assert_memory_equal(got, "{\"type\":\"log\",\"entry\":{\"message\":\"first\"}}", len);
    /* status messages go to every client */
    assert_true(lo_tail_hub_post(hub, lo_tail_item_status("reconnecting")));
    assert_int_equal(sframe(c, got, sizeof(got), &len, 2000), 0x1);
    assert_memory_equal(got, "{\"type\":\"status\",\"status\":\"reconnecting\"}", len);
    /* the close handshake */
    n = cframe(fr, 0x8, true, "\x03\xe8", 2);
    assert_int_equal(send(c, fr, n, 0), (ssize_t)n);
    assert_int_equal(sframe(c, got, sizeof(got), &len, 2000), 0x8);
    wait_closed();
    close(c);
}

static void test_hub_bad_frames(void **state)
{
    (void)state;
    lo_tail_filter_t f;
    memset(&f, 0, sizeof(f));
    f.all = true;
    uint8_t fr[8192], got[512];
    size_t len;
    /* a message longer than the tail accepts from a client: closed (1009) */
    int c = connect_client(&f, NULL, 0);
    static char big[5000];
    memset(big, 'x', sizeof(big));
    size_t n = cframe(fr, 0x1, true, big, sizeof(big));
    assert_int_equal(send(c, fr, n, 0), (ssize_t)n);
    assert_int_equal(sframe(c, got, sizeof(got), &len, 2000), 0x8);
    assert_true(len >= 2);
    assert_int_equal(got[0] << 8 | got[1], 1009);
    wait_closed();
    close(c);
    /* an unmasked client frame is a protocol error (1002) */
    c = connect_client(&f, NULL, 0);
    const uint8_t unmasked[] = { 0x81, 0x02, 'h', 'i' };
    assert_int_equal(send(c, unmasked, sizeof(unmasked), 0), (ssize_t)sizeof(unmasked));
    assert_int_equal(sframe(c, got, sizeof(got), &len, 2000), 0x8);
    assert_int_equal(got[0] << 8 | got[1], 1002);
    wait_closed();
    close(c);
    /* a client that just goes away is cleaned up */
    c = connect_client(&f, NULL, 0);
    close(c);
    wait_closed();
}

static void test_hub_gap(void **state)
{
    (void)state;
    lo_tail_filter_t f;
    memset(&f, 0, sizeof(f));
    f.all = true;
    int c = connect_client(&f, NULL, 0);
    /* far more than the client's 16 KiB buffer plus what the socket holds, unread */
    long long dropped0 = atomic_load(&st.dropped_client);
    char msg[200];
    memset(msg, 'y', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    for (int i = 0; i < 5000; i++)
        assert_true(lo_tail_hub_post(hub, entry(msg)));
    for (int i = 0; i < 400 && atomic_load(&st.dropped_client) == dropped0; i++)
        usleep(5000);
    assert_true(atomic_load(&st.dropped_client) > dropped0);
    /* reading again: the entries that fitted, then a gap message with the rest */
    uint8_t got[20000];
    size_t len;
    bool gap = false;
    long long logs = 0;
    for (int op; !gap && (op = sframe(c, got, sizeof(got), &len, 2000)) == 0x1;) {
        got[len] = '\0';
        if (strncmp((char *)got, "{\"type\":\"gap\",\"missed\":", 23) == 0)
            gap = atoll((char *)got + 23) > 0;
        else
            logs++;
    }
    assert_true(gap);
    assert_true(logs > 0);
    close(c);
    wait_closed();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_parse),
        cmocka_unit_test(test_filter_projects),
        cmocka_unit_test(test_filter_match),
        cmocka_unit_test(test_item_parse),
        cmocka_unit_test_setup_teardown(test_hub_frames, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(test_hub_bad_frames, hub_setup, hub_teardown),
        cmocka_unit_test_setup_teardown(test_hub_gap, hub_setup, hub_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
