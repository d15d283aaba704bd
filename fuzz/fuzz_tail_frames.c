/*
 * fuzz_tail_frames.c — libFuzzer target: what a tail client may send the
 * server.  The input is handed to the tail's hub as the bytes read past the
 * WebSocket handshake, on a real socket pair, as the HTTP layer hands over
 * an upgraded connection: the hub's thread parses the frames (wslay and
 * our callbacks), answers what it must and closes what it must not
 * accept.  Each run ends when the client side is closed and the hub has
 * given the socket back.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tail/tail_internal.h"

static lo_config_t cfg;
static lo_tail_stats_t st;
static lo_tail_hub_t *hub;

static void release_fd(void *urh, int fd)
{
    (void)urh;
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (hub == NULL) {
        if (lo_config_defaults(&cfg) != LO_OK)
            abort();
        hub = lo_tail_hub_create(&cfg, &st);
        if (hub == NULL)
            abort();
        lo_tail_hub_set_release(hub, release_fd);
        if (lo_tail_hub_start(hub) != LO_OK)
            abort();
    }
    if (size > 65536)
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    lo_tail_filter_t f;
    memset(&f, 0, sizeof(f));
    f.all = true;
    uint64_t ticket;
    if (lo_tail_hub_reserve(hub, 1, &f, &ticket) != LO_OK)
        abort();
    lo_tail_hub_adopt(hub, ticket, sv[0], (const char *)data, size, NULL);
    /* an entry goes out to it while it may be closing */
    lo_tail_meta_t m = { { NULL, 0 }, { "info", 4 }, { "s", 1 }, { NULL, 0 }, { "m", 1 } };
    lo_tail_item_t *it = lo_tail_item_log("{}", 2, &m);
    if (it != NULL)
        (void)lo_tail_hub_post(hub, it);
    close(sv[1]);
    for (int i = 0; i < 2000 && (atomic_load(&st.open) != 0 || atomic_load(&st.opened) == 0); i++)
        usleep(500);
    if (atomic_load(&st.open) != 0)
        abort(); /* the hub kept a socket whose peer is gone */
    atomic_store(&st.opened, 0);
    return 0;
}
