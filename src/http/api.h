/*
 * api.h — the API listener's routes, and what a handler sees and answers.
 *
 * Modules register routes {method, path pattern, scope, needs database,
 * kind} in a route table that `serve` builds and hands to the HTTP layer;
 * the HTTP layer never names a module.  For each request under /api/ it
 * authenticates the caller (401), finds the route (404, or 405 with Allow),
 * checks the route's scope (403) — all before reading a body — then runs
 * the handler: a route that needs the database on a query thread with a
 * pooled connection (503 if none), others on the listener's thread.
 * Handlers check project visibility themselves, write a JSON body, a status
 * and any headers, and never splice input into SQL (docs/architecture.md).
 */
#ifndef LO_API_H
#define LO_API_H

#include <libpq-fe.h>

#include "auth/auth.h"
#include "core/buf.h"

typedef struct lo_api_req lo_api_req_t;

#define LO_API_MAX_PARAMS  4    /* {name} segments in one pattern */
#define LO_API_PATH_MAX    1024 /* longer paths match no route */
#define LO_API_MAX_HEADERS 4    /* response headers a handler may add */

struct lo_api_req {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* URL path without the query string, already %-decoded */
    const lo_principal_t *who; /* authenticated caller */
    PGconn *db;                /* a pooled connection for this request */
    bool db_broken;            /* set by a handler after a connection-level error */
    const char *body;          /* request body (POST/PATCH), NUL-terminated; NULL if none */
    size_t body_len;
    void *arg;  /* the route's arg */
    void *http; /* private to src/http */
    /* the {name} segments of the route's pattern, in order (lo_api_path_param) */
    const char *param_names[LO_API_MAX_PARAMS];
    const char *param_values[LO_API_MAX_PARAMS];
    size_t n_params;
    char param_buf[LO_API_PATH_MAX + LO_API_MAX_PARAMS];
};

/* An upgraded connection (kind LO_ROUTE_UPGRADE, status 101): the handler's
 * function gets the socket (non-blocking) and bytes already read past the
 * request, owns them until it calls lo_api_upgrade_close(urh), and runs on
 * a thread of libmicrohttpd's: it must hand the socket to a thread of its
 * own at once. */
typedef void (*lo_api_upgrade_fn)(void *arg, int sock, const char *extra, size_t extra_len, void *urh);
/* Ends an upgraded connection (closes the socket). */
void lo_api_upgrade_close(void *urh);

typedef struct {
    int status;    /* HTTP status */
    lo_buf_t body; /* JSON text */
    struct {
        char name[32], value[224];
    } headers[LO_API_MAX_HEADERS]; /* Location, Retry-After, ... (lo_api_header) */
    size_t n_headers;
    lo_api_upgrade_fn upgrade; /* set with status 101 by an upgrade route */
    void *upgrade_arg;
} lo_api_resp_t;

/* Adds a response header (truncated to the buffers above; ignored past
 * LO_API_MAX_HEADERS).  Values must not contain CR or LF. */
void lo_api_header(lo_api_resp_t *resp, const char *name, const char *value);

typedef enum { LO_ROUTE_JSON = 0, LO_ROUTE_UPGRADE = 1 } lo_route_kind_t;
typedef int (*lo_api_handler_fn)(lo_api_req_t *req, lo_api_resp_t *resp);

/* One route.  pattern: an absolute path whose segments are literal or
 * "{name}" (one non-empty segment, captured).  scope: LO_SCOPE_* bits the
 * caller must hold (0: any authenticated caller). */
typedef struct {
    const char *method;
    const char *pattern;
    unsigned scope;
    bool needs_db;
    lo_route_kind_t kind;
    lo_api_handler_fn handler;
    void *arg; /* the module's, handed to the handler as req->arg */
} lo_api_route_t;

#define LO_API_MAX_ROUTES 64

typedef struct {
    const lo_api_route_t *r[LO_API_MAX_ROUTES];
    size_t n;
} lo_api_routes_t;

void lo_api_routes_init(lo_api_routes_t *t);
/* Adds n routes (kept by pointer: they must outlive t).  LO_ERROR when the
 * table is full, a pattern is malformed, or a method and pattern repeat. */
int lo_api_routes_add(lo_api_routes_t *t, const lo_api_route_t *routes, size_t n) LO_MUST_USE;
/* Finds the route of method and path.  LO_OK: *route set and the path's
 * {name} values filled into req.  LO_DECLINED: no pattern matches the path
 * (404).  LO_INVALID: patterns match but none for this method (405); allow
 * receives the methods that would ("GET, POST"). */
int lo_api_routes_match(const lo_api_routes_t *t, const char *method, const char *path, lo_api_req_t *req,
                        const lo_api_route_t **route, char *allow, size_t allow_len) LO_MUST_USE;
/* True when who may use route (its scope). */
bool lo_api_route_allows(const lo_api_route_t *route, const lo_principal_t *who);
/* Match, scope check and handler call in one, for callers in process
 * (tests, benchmarks): LO_OK with resp filled (404/405/403 included),
 * or the handler's own result. */
int lo_api_routes_call(const lo_api_routes_t *t, lo_api_req_t *req, lo_api_resp_t *resp) LO_MUST_USE;
/* The value of path segment {name}, or NULL. */
const char *lo_api_path_param(const lo_api_req_t *req, const char *name);

/* The value of query parameter name (decoded), or NULL when absent.
 * Sets *dup when the parameter was given more than once. */
const char *lo_api_param(const lo_api_req_t *r, const char *name, bool *dup);
/* The value of request header name (case-insensitive), or NULL. */
const char *lo_api_req_header(const lo_api_req_t *r, const char *name);
/* Visits every query parameter (for rejecting unknown ones).  v is NULL
 * when the key or value contains a NUL byte (%00): reject the request. */
void lo_api_params_each(const lo_api_req_t *r, void (*fn)(void *ud, const char *k, const char *v), void *ud);

/* Writes {"error":{"code":code,"message":...}} with status; returns LO_OK. */
int lo_api_error(lo_api_resp_t *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
