#include "http/parse.h"

#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims optional whitespace around [p, p+n). */
static lo_str_t trim(const char *p, size_t n)
{
    while (n > 0 && is_ows(*p)) {
        p++;
        n--;
    }
    while (n > 0 && is_ows(p[n - 1]))
        n--;
    return lo_str(p, n);
}

static bool eq_nocase(lo_str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

lo_content_type_t lo_http_content_type(const char *v)
{
    if (v == NULL)
        return LO_CT_NONE;
    const char *semi = strchr(v, ';');
    size_t n = semi != NULL ? (size_t)(semi - v) : strlen(v);
    lo_str_t mt = trim(v, n);
    if (eq_nocase(mt, "application/x-protobuf"))
        return LO_CT_PROTOBUF;
    if (eq_nocase(mt, "application/json"))
        return LO_CT_JSON;
    return LO_CT_UNSUPPORTED;
}

lo_content_encoding_t lo_http_content_encoding(const char *v)
{
    if (v == NULL)
        return LO_CE_IDENTITY;
    lo_str_t ce = trim(v, strlen(v));
    if (ce.len == 0 || eq_nocase(ce, "identity"))
        return LO_CE_IDENTITY;
    if (eq_nocase(ce, "gzip") || eq_nocase(ce, "x-gzip"))
        return LO_CE_GZIP;
    return LO_CE_UNSUPPORTED;
}

bool lo_http_content_length(const char *v, uint64_t *out)
{
    if (v == NULL)
        return false;
    lo_str_t s = trim(v, strlen(v));
    if (s.len == 0 || s.len > 19)
        return false;
    uint64_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (!isdigit((unsigned char)s.p[i]))
            return false;
        n = n * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (n > (uint64_t)INT64_MAX)
        return false;
    *out = n;
    return true;
}

bool lo_http_transfer_encoding_chunked(const char *v)
{
    if (v == NULL)
        return false;
    lo_str_t s = trim(v, strlen(v));
    return s.len == 7 && strncasecmp(s.p, "chunked", 7) == 0;
}

int lo_http_addr_parse(const char *s, lo_http_addr_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL || s[0] == '\0') {
        snprintf(err, errlen, "empty address (want host:port)");
        return LO_INVALID;
    }
    char host[256];
    const char *port;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host)) {
            snprintf(err, errlen, "\"%s\": want [ipv6]:port", s);
            return LO_INVALID;
        }
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof(host) || memchr(s, ':', (size_t)(colon - s))) {
            snprintf(err, errlen, "\"%s\": want host:port", s);
            return LO_INVALID;
        }
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    }
    uint64_t pn;
    if (strspn(port, "0123456789") != strlen(port) || !lo_http_content_length(port, &pn) || pn > 65535) {
        snprintf(err, errlen, "\"%s\": port must be a number 0-65535", s);
        return LO_INVALID;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (host[0] == '\0')
        hints.ai_family = AF_INET; /* ":port" = every IPv4 interface */
    int g = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
    if (g != 0 || res == NULL) {
        snprintf(err, errlen, "\"%s\": cannot resolve host: %s", s, gai_strerror(g));
        if (res != NULL)
            freeaddrinfo(res);
        return LO_INVALID;
    }
    /* Prefer IPv4 when a name resolves to both (localhost). */
    const struct addrinfo *pick = res;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    }
    if (pick->ai_addrlen > sizeof(out->sa)) {
        freeaddrinfo(res);
        snprintf(err, errlen, "\"%s\": address too long", s);
        return LO_INVALID;
    }
    memcpy(&out->sa, pick->ai_addr, pick->ai_addrlen);
    out->len = pick->ai_addrlen;
    out->ipv6 = pick->ai_family == AF_INET6;
    freeaddrinfo(res);
    return LO_OK;
}
