/*
 * api.c — the HTTP layer's side of api.h: query parameters and error
 * bodies for the API handlers.  Kept apart from api_handler.c so that tests
 * of a handler module may provide their own stand-ins for these three.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/json_write.h"
#include "http/api.h"
#include "http/listener.h"

typedef struct {
    const char *name;
    const char *value;
    int count;
} find_t;

static enum MHD_Result find_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    LO_UNUSED(kind);
    find_t *f = cls;
    if (key != NULL && strcmp(key, f->name) == 0) {
        if (f->count == 0)
            f->value = value != NULL ? value : "";
        f->count++;
    }
    return MHD_YES;
}

const char *lo_api_param(const lo_api_req_t *r, const char *name, bool *dup)
{
    if (dup != NULL)
        *dup = false;
    const lo_api_http_t *ah = r->http;
    if (ah == NULL || ah->conn == NULL)
        return NULL;
    find_t f = { name, NULL, 0 };
    MHD_get_connection_values(ah->conn, MHD_GET_ARGUMENT_KIND, find_cb, &f);
    if (dup != NULL)
        *dup = f.count > 1;
    return f.value;
}

const char *lo_api_req_header(const lo_api_req_t *r, const char *name)
{
    const lo_api_http_t *ah = r->http;
    if (ah == NULL || ah->conn == NULL)
        return NULL;
    return MHD_lookup_connection_value(ah->conn, MHD_HEADER_KIND, name);
}

typedef struct {
    void (*fn)(void *ud, const char *k, const char *v);
    void *ud;
} each_t;

/* A key or value that contains a NUL byte (%00) would reach the handler
 * truncated: it is passed with value NULL instead, so that handlers reject
 * it (api.h). */
static enum MHD_Result each_cb(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                               const char *value, size_t value_size)
{
    LO_UNUSED(kind);
    each_t *e = cls;
    if (key == NULL)
        return MHD_YES;
    bool nul = strlen(key) != key_size || (value != NULL && strlen(value) != value_size);
    e->fn(e->ud, key, nul ? NULL : value != NULL ? value : "");
    return MHD_YES;
}

void lo_api_params_each(const lo_api_req_t *r, void (*fn)(void *ud, const char *k, const char *v), void *ud)
{
    const lo_api_http_t *ah = r->http;
    if (ah == NULL || ah->conn == NULL)
        return;
    each_t e = { fn, ud };
    MHD_get_connection_values_n(ah->conn, MHD_GET_ARGUMENT_KIND, each_cb, &e);
}

int lo_api_error(lo_api_resp_t *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lo_buf_reset(&resp->body);
    lo_jw_t w;
    lo_jw_init(&w, &resp->body);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "error", 5);
    lo_jw_obj_begin(&w);
    lo_jw_key(&w, "code", 4);
    lo_jw_cstr(&w, code);
    lo_jw_key(&w, "message", 7);
    lo_jw_cstr(&w, msg);
    lo_jw_obj_end(&w);
    lo_jw_obj_end(&w);
    resp->status = status;
    return LO_OK;
}
