/* routes.c — the API route table (api.h): registration and matching. */
#include <stdio.h>
#include <string.h>

#include "http/api.h"

void lo_api_routes_init(lo_api_routes_t *t)
{
    memset(t, 0, sizeof(*t));
}

/* A well-formed pattern: "/" then segments, each literal or "{name}",
 * none empty, at most LO_API_MAX_PARAMS captures. */
static bool pattern_ok(const char *p)
{
    if (p == NULL || p[0] != '/' || strlen(p) >= LO_API_PATH_MAX)
        return false;
    int captures = 0;
    for (const char *s = p + 1;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0)
            return false;
        bool open = s[0] == '{', close = s[n - 1] == '}';
        if (open != close || (open && n < 3) || memchr(s + 1, '{', n - 1) || memchr(s, '}', n - 1))
            return false;
        captures += open;
        if (e == NULL)
            break;
        s = e + 1;
    }
    return captures <= LO_API_MAX_PARAMS;
}

int lo_api_routes_add(lo_api_routes_t *t, const lo_api_route_t *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const lo_api_route_t *r = &routes[i];
        if (t->n >= LO_API_MAX_ROUTES || r->method == NULL || r->handler == NULL || !pattern_ok(r->pattern))
            return LO_ERROR;
        for (size_t k = 0; k < t->n; k++)
            if (strcmp(t->r[k]->method, r->method) == 0 && strcmp(t->r[k]->pattern, r->pattern) == 0)
                return LO_ERROR;
        t->r[t->n++] = r;
    }
    return LO_OK;
}

/* Matches path against pattern; captures go to req (when not NULL). */
static bool match_one(const char *pattern, const char *path, lo_api_req_t *req)
{
    size_t used = 0, np = 0;
    const char *p = pattern + 1, *s = path + 1;
    if (path[0] != '/')
        return false;
    for (;;) {
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t pn = pe ? (size_t)(pe - p) : strlen(p), sn = se ? (size_t)(se - s) : strlen(s);
        if ((pe == NULL) != (se == NULL) || sn == 0)
            return false;
        if (p[0] == '{') {
            if (req != NULL) {
                if (used + sn + 1 > sizeof(req->param_buf) || np >= LO_API_MAX_PARAMS)
                    return false;
                memcpy(req->param_buf + used, s, sn);
                req->param_buf[used + sn] = '\0';
                req->param_values[np] = req->param_buf + used;
                req->param_names[np] = NULL; /* named below, from the pattern */
                used += sn + 1;
            }
            np++;
        } else if (pn != sn || memcmp(p, s, sn) != 0) {
            return false;
        }
        if (pe == NULL)
            break;
        p = pe + 1;
        s = se + 1;
    }
    if (req != NULL)
        req->n_params = np;
    return true;
}

int lo_api_routes_match(const lo_api_routes_t *t, const char *method, const char *path, lo_api_req_t *req,
                        const lo_api_route_t **route, char *allow, size_t allow_len)
{
    *route = NULL;
    if (allow_len > 0)
        allow[0] = '\0';
    if (path == NULL || method == NULL || strlen(path) >= LO_API_PATH_MAX)
        return LO_DECLINED;
    size_t alen = 0;
    bool path_known = false;
    for (size_t i = 0; i < t->n; i++) {
        const lo_api_route_t *r = t->r[i];
        if (!match_one(r->pattern, path, NULL))
            continue;
        path_known = true;
        if (strcmp(r->method, method) == 0) {
            (void)match_one(r->pattern, path, req);
            /* the names, in the pattern's order */
            size_t k = 0;
            for (const char *b = strchr(r->pattern, '{'); b != NULL && k < req->n_params;
                 b = strchr(b + 1, '{'))
                req->param_names[k++] = b;
            *route = r;
            return LO_OK;
        }
        int w = snprintf(allow + alen, alen < allow_len ? allow_len - alen : 0, "%s%s", alen ? ", " : "",
                         r->method);
        if (w > 0 && alen + (size_t)w < allow_len)
            alen += (size_t)w;
    }
    return path_known ? LO_INVALID : LO_DECLINED;
}

bool lo_api_route_allows(const lo_api_route_t *route, const lo_principal_t *who)
{
    return route->scope == 0 || (who != NULL && lo_principal_has_scope(who, route->scope));
}

const char *lo_api_path_param(const lo_api_req_t *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_params; i++) {
        const char *b = req->param_names[i]; /* "{name}..." inside the pattern */
        if (b != NULL && strncmp(b + 1, name, n) == 0 && b[1 + n] == '}')
            return req->param_values[i];
    }
    return NULL;
}

int lo_api_routes_call(const lo_api_routes_t *t, lo_api_req_t *req, lo_api_resp_t *resp)
{
    const lo_api_route_t *r;
    char allow[64];
    int rc = lo_api_routes_match(t, req->method, req->path, req, &r, allow, sizeof(allow));
    if (rc == LO_DECLINED)
        return lo_api_error(resp, 404, "not_found", "no such endpoint");
    if (rc != LO_OK) {
        lo_api_header(resp, "Allow", allow);
        return lo_api_error(resp, 405, "method_not_allowed", "%s accepts %s only", req->path, allow);
    }
    if (!lo_api_route_allows(r, req->who)) {
        char scopes[64] = "";
        if (lo_scopes_format(r->scope, scopes, sizeof(scopes)) != LO_OK)
            snprintf(scopes, sizeof(scopes), "required");
        return lo_api_error(resp, 403, "forbidden", "this token lacks the %s scope", scopes);
    }
    req->arg = r->arg;
    return r->handler(req, resp);
}

void lo_api_header(lo_api_resp_t *resp, const char *name, const char *value)
{
    if (resp->n_headers >= LO_API_MAX_HEADERS || strpbrk(value, "\r\n") != NULL)
        return;
    snprintf(resp->headers[resp->n_headers].name, sizeof(resp->headers[0].name), "%s", name);
    snprintf(resp->headers[resp->n_headers].value, sizeof(resp->headers[0].value), "%s", value);
    resp->n_headers++;
}
