/* scopes.c — the names of token scopes (auth.h), apart from the token
 * checks so that modules naming a scope need not link them. */
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

static const struct {
    const char *name;
    unsigned bit;
} scope_names[] = {
    { "ingest", LO_SCOPE_INGEST },
    { "observe:read", LO_SCOPE_OBSERVE_READ },
    { "alert:manage", LO_SCOPE_ALERT_MANAGE },
    { "admin", LO_SCOPE_ADMIN },
};

int lo_scopes_format(unsigned bits, char *out, size_t outlen)
{
    size_t n = 0;
    if (outlen == 0)
        return LO_INVALID;
    out[0] = '\0';
    for (size_t i = 0; i < LO_ARRAY_LEN(scope_names); i++) {
        if (!(bits & scope_names[i].bit))
            continue;
        int w = snprintf(out + n, outlen - n, "%s%s", n ? "," : "", scope_names[i].name);
        if (w < 0 || (size_t)w >= outlen - n)
            return LO_INVALID;
        n += (size_t)w;
    }
    return LO_OK;
}

int lo_scopes_parse(const char *list, unsigned *out)
{
    unsigned bits = 0;
    if (list == NULL || strnlen(list, 1025) > 1024)
        return LO_INVALID;
    const char *s = list;
    for (;;) {
        while (*s == ' ')
            s++;
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        while (n > 0 && s[n - 1] == ' ')
            n--;
        unsigned bit = 0;
        for (size_t i = 0; i < LO_ARRAY_LEN(scope_names); i++)
            if (strlen(scope_names[i].name) == n && memcmp(scope_names[i].name, s, n) == 0)
                bit = scope_names[i].bit;
        if (bit == 0)
            return LO_INVALID; /* unknown or empty name */
        bits |= bit;
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    *out = bits;
    return LO_OK;
}

/* Scopes the database may hold that this version does not know are ignored:
 * a newer lookout may have added them. */
unsigned lo_scopes_from_csv(const char *s)
{
    unsigned bits = 0;
    while (*s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        for (size_t i = 0; i < LO_ARRAY_LEN(scope_names); i++)
            if (strlen(scope_names[i].name) == n && memcmp(scope_names[i].name, s, n) == 0)
                bits |= scope_names[i].bit;
        s += n + (comma ? 1 : 0);
    }
    return bits;
}
