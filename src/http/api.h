/*
 * api.h — what an API-listener handler sees and answers.
 *
 * The HTTP layer (src/http) authenticates the caller (401 before any
 * handler runs), takes a database connection from the pool (503 if none),
 * and calls the handlers of each module (lo_query_handle, ...).  Handlers
 * check scopes and project visibility themselves, write a JSON body and a
 * status, and never splice input into SQL.
 */
#ifndef LO_API_H
#define LO_API_H

#include <libpq-fe.h>

#include "auth/auth.h"
#include "core/buf.h"

typedef struct lo_api_req lo_api_req_t;

struct lo_api_req {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* URL path without the query string, already %-decoded */
    const lo_principal_t *who; /* authenticated caller */
    PGconn *db;                /* a pooled connection for this request */
    bool db_broken;            /* set by a handler after a connection-level error */
    const char *body;          /* request body (POST/PATCH), NUL-terminated; NULL if none */
    size_t body_len;
    void *http;                /* private to src/http */
};

typedef struct {
    int status;                /* HTTP status */
    lo_buf_t body;             /* JSON text */
} lo_api_resp_t;

/* The value of query parameter name (decoded), or NULL when absent.
 * Sets *dup when the parameter was given more than once. */
const char *lo_api_param(const lo_api_req_t *r, const char *name, bool *dup);
/* Visits every query parameter (for rejecting unknown ones).  v is NULL
 * when the key or value contains a NUL byte (%00): reject the request. */
void lo_api_params_each(const lo_api_req_t *r, void (*fn)(void *ud, const char *k, const char *v), void *ud);

/* Writes {"error":{"code":code,"message":...}} with status; returns LO_OK. */
int lo_api_error(lo_api_resp_t *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
