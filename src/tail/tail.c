/*
 * tail.c — the live tail as a module (tail.h): the post-commit consumer
 * that turns committed log records into tail messages, the WebSocket
 * endpoint GET /api/observe/logs/tail, the task that closes the tails of
 * revoked tokens, and the tail's /metrics.
 */
#include "tail/tail.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "http/metrics.h"
#include "query/log_entry.h"
#include "query/query.h"
#include "tail/tail_internal.h"

#define TOKENS_JITTER_MS   (5LL * 1000) /* on top of tail_token_check_seconds */
#define MAX_TOKENS_CHECKED 4096
#define WS_GUID            "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct lo_tail {
    const lo_config_t *cfg;
    lo_tail_stats_t st;
    lo_tail_hub_t *hub;
    lo_tail_valkey_t *valkey; /* NULL: in process only */
    lo_api_route_t route;
};

/* ---- the post-commit consumer (a writer's thread: bounded work, no waits) ---- */

static void on_commit(void *arg, lo_signal_t signal, const lo_ingest_req_t *list, size_t records)
{
    (void)records;
    lo_tail_t *t = arg;
    if (signal != LO_SIGNAL_LOGS)
        return;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    for (const lo_ingest_req_t *r = list; r != NULL; r = r->next) {
        const lo_log_rec_t *recs = r->batch.logs;
        for (size_t i = 0; i < r->batch.n; i++) {
            const lo_log_rec_t *rec = &recs[i];
            char project[37] = "", channel[LO_TAIL_CHANNEL_MAX];
            if (rec->env.has_project)
                lo_uuid_format(rec->env.project_id, project);
            lo_tail_channel(project, channel);
            bool wanted = lo_tail_hub_wants(t->hub, channel) ||
                          (t->valkey != NULL && lo_tail_valkey_wants(t->valkey, channel));
            if (!wanted)
                continue;
            lo_log_view_t v;
            lo_log_view_ids_t ids;
            lo_log_view_from_rec(&v, rec, &ids);
            lo_buf_reset(&b);
            lo_jw_t w;
            lo_jw_init(&w, &b);
            lo_log_entry_write(&w, &v);
            if (lo_jw_status(&w) != LO_OK)
                continue;
            lo_tail_meta_t meta = { .project = v.text[LO_LV_PROJECT_ID],
                                    .level = v.text[LO_LV_LEVEL],
                                    .service = v.text[LO_LV_SERVICE],
                                    .session = v.text[LO_LV_SESSION_ID],
                                    .message_folded = v.text[LO_LV_MESSAGE] };
            lo_tail_item_t *it = lo_tail_item_log(b.p, b.len, &meta);
            if (it == NULL) {
                atomic_fetch_add(&t->st.dropped_queue, 1);
                continue;
            }
            if (t->valkey != NULL)
                (void)lo_tail_valkey_publish(t->valkey, it);
            else
                (void)lo_tail_hub_post(t->hub, it);
        }
    }
    lo_buf_free(&b);
}

/* ---- GET /api/observe/logs/tail ---- */

typedef struct {
    lo_api_req_t *req;
    bool dup;
    char bad[80];
} params_t;

static const char *get_param(void *ud, const char *name)
{
    params_t *p = ud;
    bool dup = false;
    const char *v = lo_api_param(p->req, name, &dup);
    p->dup |= dup;
    return v;
}

static void check_name(void *ud, const char *k, const char *v)
{
    params_t *p = ud;
    char err[160];
    if (p->bad[0] == '\0' && (v == NULL || lo_tail_param_known(k, err, sizeof(err)) != LO_OK))
        snprintf(p->bad, sizeof(p->bad), "%.64s", k);
}

/* true when the comma-separated header value holds token (case-insensitive) */
static bool header_has(const char *v, const char *token)
{
    size_t n = strlen(token);
    while (v != NULL && *v != '\0') {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        size_t k = strcspn(v, ", \t");
        if (k == n && strncasecmp(v, token, n) == 0)
            return true;
        v += k;
    }
    return false;
}

/* Sec-WebSocket-Accept for key (RFC 6455 §4.2.2). */
static bool ws_accept(const char *key, char out[64])
{
    char in[128];
    int n = snprintf(in, sizeof(in), "%s%s", key, WS_GUID);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (n < 0 || (size_t)n >= sizeof(in) || EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL) != 1)
        return false;
    return EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen) > 0;
}

/* The subprotocol to answer with: the first offered that is not a bearer
 * token, else the bearer offer itself (browsers need one echoed). */
static bool pick_protocol(const char *offers, char *out, size_t outlen)
{
    const char *bearer = NULL;
    size_t bearer_n = 0;
    for (const char *p = offers; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t k = strcspn(p, ", \t");
        if (k > 0 && k < outlen) {
            if (strncmp(p, "bearer.", 7) != 0) {
                snprintf(out, outlen, "%.*s", (int)k, p);
                return true;
            }
            if (bearer == NULL)
                bearer = p, bearer_n = k;
        }
        p += k;
    }
    if (bearer == NULL)
        return false;
    snprintf(out, outlen, "%.*s", (int)bearer_n, bearer);
    return true;
}

static void upgraded(void *arg, int sock, const char *extra, size_t extra_len, void *urh);

static lo_tail_t *the_tail; /* the upgrade callback's way back (one tail per process) */

static int h_tail(lo_api_req_t *req, lo_api_resp_t *resp)
{
    lo_tail_t *t = req->arg;
    params_t p = { .req = req };
    lo_tail_filter_t f;
    char project[37], err[200];

    lo_api_params_each(req, check_name, &p);
    if (p.bad[0] != '\0')
        return lo_api_error(
            resp, 400, "invalid_parameter",
            "unknown or malformed parameter \"%s\" (the tail takes project_id, level, service, q, "
            "session_id)",
            p.bad);
    if (lo_tail_filter_parse(&f, get_param, &p, project, err, sizeof(err)) != LO_OK)
        return lo_api_error(resp, 400, "invalid_parameter", "%s", err);
    if (p.dup)
        return lo_api_error(resp, 400, "invalid_parameter", "a parameter is given more than once");

    const char *up = lo_api_req_header(req, "Upgrade");
    const char *key = lo_api_req_header(req, "Sec-WebSocket-Key");
    const char *version = lo_api_req_header(req, "Sec-WebSocket-Version");
    if (up == NULL || strcasecmp(up, "websocket") != 0) {
        lo_api_header(resp, "Upgrade", "websocket");
        return lo_api_error(
            resp, 426, "upgrade_required",
            "the tail is a WebSocket: connect with Upgrade: websocket (for example websocat)");
    }
    if (!header_has(lo_api_req_header(req, "Connection"), "upgrade") || key == NULL || strlen(key) != 24 ||
        version == NULL || strcmp(version, "13") != 0)
        return lo_api_error(
            resp, 400, "bad_handshake",
            "a WebSocket handshake needs Connection: Upgrade, Sec-WebSocket-Key (24 characters) "
            "and Sec-WebSocket-Version: 13");
    if (t->cfg->tail_max_clients == 0)
        return lo_api_error(resp, 404, "not_found", "the live tail is off (tail_max_clients = 0)");

    lo_q_vis_t vis = { 0 };
    if (lo_q_visibility(req, resp, project[0] != '\0' ? project : NULL, &vis) != LO_OK) {
        lo_q_vis_free(&vis);
        return LO_OK; /* answered: 404, 503 or 500 */
    }
    f.all = vis.all;
    int rc = vis.all ? LO_OK : lo_tail_filter_projects(&f, vis.arr.p);
    lo_q_vis_free(&vis);
    if (rc != LO_OK)
        return lo_api_error(resp, 400, "too_many_projects",
                            "this token may read more than %d projects: name one with project_id",
                            LO_TAIL_MAX_PROJECTS);

    uint64_t ticket = 0;
    rc = lo_tail_hub_reserve(t->hub, req->who->token_id, &f, &ticket);
    if (rc == LO_BUSY || rc == LO_DENIED) {
        lo_api_header(resp, "Retry-After", "10");
        return lo_api_error(resp, 429, "too_many_tails",
                            rc == LO_BUSY
                                ? "this server has as many live tails open as it allows; retry later"
                                : "this token has as many live tails open as it may (%lld)",
                            (long long)t->cfg->tail_max_per_token);
    }
    if (rc != LO_OK)
        return lo_api_error(resp, 503, "unavailable", "the server is shutting down");

    char accept[64], proto[128];
    if (!ws_accept(key, accept))
        return lo_api_error(resp, 500, "internal", "cannot compute the handshake");
    lo_api_header(resp, "Upgrade", "websocket");
    lo_api_header(resp, "Sec-WebSocket-Accept", accept);
    if (pick_protocol(lo_api_req_header(req, "Sec-WebSocket-Protocol"), proto, sizeof(proto)))
        lo_api_header(resp, "Sec-WebSocket-Protocol", proto);
    resp->status = 101;
    resp->upgrade = upgraded;
    resp->upgrade_arg = (void *)(uintptr_t)ticket;
    return LO_OK;
}

static void upgraded(void *arg, int sock, const char *extra, size_t extra_len, void *urh)
{
    lo_tail_hub_adopt(the_tail->hub, (uint64_t)(uintptr_t)arg, sock, extra, extra_len, urh);
}

/* ---- tails of revoked tokens ---- */

static int tokens_task(PGconn *db, void *arg, char *err, size_t errlen)
{
    lo_tail_t *t = arg;
    int64_t ids[MAX_TOKENS_CHECKED];
    size_t n = lo_tail_hub_tokens(t->hub, ids, MAX_TOKENS_CHECKED);
    if (n == 0)
        return LO_OK;
    lo_buf_t a;
    lo_buf_init(&a, 0);
    lo_buf_putc(&a, '{');
    for (size_t i = 0; i < n; i++)
        lo_buf_printf(&a, "%s%lld", i ? "," : "", (long long)ids[i]);
    lo_buf_putc(&a, '}');
    const char *vals[1] = { a.p };
    PGresult *r =
        PQexecParams(db, "SELECT id FROM api_tokens WHERE id = ANY($1::int8[]) AND revoked_at IS NULL", 1,
                     NULL, vals, NULL, NULL, 0);
    int rc = LO_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "checking the tokens of open tails failed");
        rc = PQstatus(db) == CONNECTION_OK ? LO_ERROR : LO_UNAVAIL;
    } else {
        int64_t gone[MAX_TOKENS_CHECKED];
        size_t ng = 0;
        for (size_t i = 0; i < n; i++) {
            bool valid = false;
            for (int k = 0; k < PQntuples(r) && !valid; k++)
                valid = strtoll(PQgetvalue(r, k, 0), NULL, 10) == ids[i];
            if (!valid)
                gone[ng++] = ids[i];
        }
        lo_tail_hub_revoke(t->hub, gone, ng);
    }
    PQclear(r);
    lo_buf_free(&a);
    return rc;
}

/* ---- /metrics ---- */

static void render_metrics(void *arg, lo_buf_t *out)
{
    lo_tail_t *t = arg;
    lo_tail_stats_t *s = &t->st;
    lo_buf_printf(
        out,
        "# HELP lookout_tail_open Live tails open.\n# TYPE lookout_tail_open gauge\n"
        "lookout_tail_open %lld\n"
        "# HELP lookout_tail_opened_total Live tails opened.\n# TYPE lookout_tail_opened_total counter\n"
        "lookout_tail_opened_total %lld\n"
        "# HELP lookout_tail_messages_sent_total Log entries queued to tail clients.\n"
        "# TYPE lookout_tail_messages_sent_total counter\nlookout_tail_messages_sent_total %lld\n"
        "# HELP lookout_tail_dropped_total Log entries not delivered to tails: where=client (a client's "
        "buffer was full) or queue (the hand-off from the writers, or Valkey, was full or down).\n"
        "# TYPE lookout_tail_dropped_total counter\n"
        "lookout_tail_dropped_total{where=\"client\"} %lld\n"
        "lookout_tail_dropped_total{where=\"queue\"} %lld\n"
        "# HELP lookout_tail_closed_total Tails closed by the server, by reason.\n"
        "# TYPE lookout_tail_closed_total counter\n"
        "lookout_tail_closed_total{reason=\"lag\"} %lld\n"
        "lookout_tail_closed_total{reason=\"no_pong\"} %lld\n"
        "lookout_tail_closed_total{reason=\"revoked\"} %lld\n"
        "# HELP lookout_tail_published_total Log entries published to Valkey.\n"
        "# TYPE lookout_tail_published_total counter\nlookout_tail_published_total %lld\n"
        "# HELP lookout_tail_publish_errors_total Valkey publish round trips that failed.\n"
        "# TYPE lookout_tail_publish_errors_total counter\nlookout_tail_publish_errors_total %lld\n",
        (long long)atomic_load(&s->open), (long long)atomic_load(&s->opened),
        (long long)atomic_load(&s->sent), (long long)atomic_load(&s->dropped_client),
        (long long)atomic_load(&s->dropped_queue), (long long)atomic_load(&s->closed_lag),
        (long long)atomic_load(&s->closed_pong), (long long)atomic_load(&s->closed_revoked),
        (long long)atomic_load(&s->published), (long long)atomic_load(&s->publish_errors));
}

/* ---- life ---- */

/* Upgraded sockets belong to the HTTP listener: given back through it. */
static void release_upgraded(void *urh, int fd)
{
    (void)fd;
    lo_api_upgrade_close(urh);
}

lo_tail_t *lo_tail_create(const lo_config_t *cfg, char *err, size_t errlen)
{
    lo_tail_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->cfg = cfg;
    t->hub = lo_tail_hub_create(cfg, &t->st);
    if (t->hub == NULL) {
        snprintf(err, errlen, "cannot create the tail's hub");
        lo_tail_destroy(t);
        return NULL;
    }
    lo_tail_hub_set_release(t->hub, release_upgraded);
    if (cfg->valkey_url != NULL && cfg->valkey_url[0] != '\0') {
        t->valkey = lo_tail_valkey_create(cfg->valkey_url, cfg, t->hub, &t->st, err, errlen);
        if (t->valkey == NULL) {
            lo_tail_destroy(t);
            return NULL;
        }
    }
    t->route = (lo_api_route_t){ "GET", "/api/observe/logs/tail", LO_SCOPE_OBSERVE_READ,
                                 true,  LO_ROUTE_UPGRADE,         h_tail,
                                 t };
    the_tail = t;
    return t;
}

int lo_tail_register(lo_tail_t *t, lo_api_routes_t *routes, lo_ingest_t *in, lo_sched_t *sched)
{
    lo_task_t tokens = { .name = "tail_tokens",
                         .period_ms = t->cfg->tail_token_check_seconds * 1000,
                         .jitter_ms = TOKENS_JITTER_MS,
                         .lock_key = 0, /* every node checks its own tails */
                         .run = tokens_task,
                         .arg = t };
    if (lo_api_routes_add(routes, &t->route, 1) != LO_OK ||
        lo_ingest_add_consumer(in, LO_SIGNAL_LOGS, on_commit, t) != LO_OK ||
        lo_sched_add(sched, &tokens) != LO_OK || lo_metrics_add_renderer(render_metrics, t) != LO_OK)
        return LO_ERROR;
    return LO_OK;
}

int lo_tail_start(lo_tail_t *t)
{
    if (lo_tail_hub_start(t->hub) != LO_OK)
        return LO_ERROR;
    if (t->valkey != NULL && lo_tail_valkey_start(t->valkey) != LO_OK)
        return LO_ERROR;
    return LO_OK;
}

void lo_tail_quiesce(lo_tail_t *t)
{
    lo_tail_hub_quiesce(t->hub);
}

void lo_tail_stop(lo_tail_t *t)
{
    lo_tail_valkey_stop(t->valkey);
    lo_tail_hub_stop(t->hub);
}

void lo_tail_destroy(lo_tail_t *t)
{
    if (t == NULL)
        return;
    lo_tail_stop(t);
    lo_tail_valkey_destroy(t->valkey);
    lo_tail_hub_destroy(t->hub);
    if (the_tail == t)
        the_tail = NULL;
    free(t);
}
