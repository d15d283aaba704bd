/*
 * params.c — parsing and bounding every query parameter of the query API.
 * Nothing from the URL reaches SQL before it passed through here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/ids.h"
#include "core/utf8.h"
#include "query/query_internal.h"

#define US_PER_S    1000000LL
#define MAX_UNIX_US (253402300799LL * US_PER_S + 999999) /* 9999-12-31T23:59:59.999999Z */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

int lo_q_parse_time(const char *s, int64_t *us)
{
    size_t n = strlen(s);
    if (n == 0 || n > 40)
        return LO_INVALID;
    bool all_digits = true;
    for (size_t i = 0; i < n; i++)
        all_digits = all_digits && is_digit(s[i]);
    if (all_digits) {
        if (n > 15)
            return LO_INVALID;
        int64_t ms = strtoll(s, NULL, 10);
        if (ms * 1000 > MAX_UNIX_US)
            return LO_INVALID;
        *us = ms * 1000;
        return LO_OK;
    }
    /* YYYY-MM-DDTHH:MM:SS */
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return LO_INVALID;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
    int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return LO_INVALID;
    if (d > days_in_month(y, mo))
        return LO_INVALID;
    if (sec == 60) /* a leap second: the instant before the next minute */
        sec = 59;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        while (is_digit(*p)) {
            if (nd < 6)
                frac = frac * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0 || nd > 9)
            return LO_INVALID;
        for (; nd < 6; nd++)
            frac *= 10;
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = digits(p + 1, 2);
        if (oh < 0 || p[3] != ':')
            return LO_INVALID;
        int om = digits(p + 4, 2);
        if (oh > 23 || om < 0 || om > 59)
            return LO_INVALID;
        off_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return LO_INVALID;
    }
    if (*p != '\0')
        return LO_INVALID;
    int64_t t = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_s) * US_PER_S + frac;
    if (t < 0 || t > MAX_UNIX_US)
        return LO_INVALID;
    *us = t;
    return LO_OK;
}

void lo_q_fmt_time(int64_t us, char out[32])
{
    int64_t secs = us / US_PER_S, frac = us % US_PER_S;
    if (frac < 0) {
        frac += US_PER_S;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[96]; /* gcc cannot see that tm's fields are in range */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    memcpy(out, tmp, 31);
    out[31] = '\0';
}

int lo_q_parse_uuid(const char *s, char out[37])
{
    uint8_t u[16];
    if (!lo_uuid_parse((lo_str_t){ s, strlen(s) }, u))
        return LO_INVALID;
    lo_uuid_format(u, out);
    return LO_OK;
}

int lo_q_parse_hex_id(const char *s, size_t nbytes, char *out)
{
    uint8_t b[32];
    if (nbytes > sizeof(b) || !lo_hex_parse((lo_str_t){ s, strlen(s) }, b, nbytes))
        return LO_INVALID;
    *lo_hex_put(out, b, nbytes) = '\0';
    for (size_t i = 0; i < nbytes; i++)
        if (b[i] != 0)
            return LO_OK;
    return LO_INVALID; /* all-zero ids are invalid in OTLP */
}

void lo_q_like_escape(const char *s, char *out)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '%' || *s == '_')
            *out++ = '\\';
        *out++ = *s;
    }
    *out = '\0';
}

/* ---- request parameters ---- */

typedef struct {
    const char *const *allowed;
    uint64_t seen; /* bit i: allowed[i] was given */
    int count;
    char bad[96]; /* the first problem, for the message */
    int kind;     /* 0 ok, 1 unknown, 2 repeated, 3 utf8, 4 long, 5 too many */
} check_ctx_t;

/* Copies a parameter name into the message, made printable. */
static void name_copy(char *dst, size_t cap, const char *k)
{
    size_t i = 0;
    for (; k[i] && i + 1 < cap && i < 64; i++)
        dst[i] = (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '"' && k[i] != '\\') ? k[i] : '?';
    dst[i] = '\0';
}

static void check_one(void *ud, const char *k, const char *v)
{
    check_ctx_t *c = ud;
    c->count++;
    if (c->kind != 0)
        return;
    int known = -1;
    bool prefix = false;
    for (int i = 0; c->allowed[i] && i < 64; i++) {
        size_t al = strlen(c->allowed[i]);
        if (strcmp(c->allowed[i], k) == 0) {
            known = i;
        } else if (al > 1 && c->allowed[i][al - 1] == '*' && strncmp(c->allowed[i], k, al - 1) == 0 &&
                   k[al - 1] != '\0') {
            known = i; /* "attr.*": any name after the prefix (repeats are the handler's to check) */
            prefix = true;
        }
    }
    size_t kl = strlen(k), vl = v ? strlen(v) : 0;
    if (!v || !lo_utf8_valid(k, kl) || !lo_utf8_valid(v, vl)) {
        c->kind = 3;
    } else if (known < 0) {
        c->kind = 1;
    } else if (vl > LO_Q_MAX_PARAM_LEN) {
        c->kind = 4;
    } else if (!prefix && (c->seen & (1ull << known))) {
        c->kind = 2;
    } else {
        c->seen |= 1ull << known;
    }
    if (c->kind != 0)
        name_copy(c->bad, sizeof c->bad, k);
}

int lo_q_check_params(const lo_api_req_t *req, lo_api_resp_t *resp, const char *const *allowed)
{
    check_ctx_t c = { .allowed = allowed };
    lo_api_params_each(req, check_one, &c);
    if (c.count > LO_Q_MAX_PARAMS)
        c.kind = c.kind ? c.kind : 5;
    switch (c.kind) {
    case 0: return LO_OK;
    case 1: {
        char list[512] = "";
        size_t used = 0;
        for (const char *const *a = allowed; *a; a++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *a);
        lo_api_error(resp, 400, "invalid_parameter",
                     "unknown query parameter \"%s\"; this endpoint accepts: %s", c.bad, list);
        return LO_INVALID;
    }
    case 2:
        lo_api_error(resp, 400, "invalid_parameter",
                     "query parameter \"%s\" is given more than once; give it once", c.bad);
        return LO_INVALID;
    case 3:
        lo_api_error(resp, 400, "invalid_parameter",
                     "query parameter \"%s\" is not valid UTF-8 or contains a NUL byte; send UTF-8 text, "
                     "percent-encoded",
                     c.bad);
        return LO_INVALID;
    case 4:
        lo_api_error(resp, 400, "invalid_parameter", "query parameter \"%s\" is longer than %d bytes", c.bad,
                     LO_Q_MAX_PARAM_LEN);
        return LO_INVALID;
    default:
        lo_api_error(resp, 400, "invalid_parameter", "too many query parameters (at most %d)",
                     LO_Q_MAX_PARAMS);
        return LO_INVALID;
    }
}

int lo_q_uuid(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, char out[37], bool *present)
{
    const char *v = lo_api_param(req, name, NULL);
    *present = v != NULL;
    if (!v)
        return LO_OK;
    if (lo_q_parse_uuid(v, out) != LO_OK) {
        lo_api_error(resp, 400, "invalid_parameter",
                     "%s must be a UUID such as 123e4567-e89b-12d3-a456-426614174000", name);
        return LO_INVALID;
    }
    return LO_OK;
}

int lo_q_int(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, int64_t min, int64_t max,
             int64_t def, int64_t *out)
{
    const char *v = lo_api_param(req, name, NULL);
    if (!v) {
        *out = def;
        return LO_OK;
    }
    size_t n = strlen(v);
    bool ok = n > 0 && n <= 18;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_digit(v[i]);
    int64_t x = ok ? strtoll(v, NULL, 10) : 0;
    if (!ok || x < min || x > max) {
        lo_api_error(resp, 400, "invalid_parameter", "%s must be a whole number from %lld to %lld", name,
                     (long long)min, (long long)max);
        return LO_INVALID;
    }
    *out = x;
    return LO_OK;
}

static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

int lo_q_str(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, size_t minlen, size_t maxlen,
             const char **out)
{
    const char *v = lo_api_param(req, name, NULL);
    *out = NULL;
    if (!v)
        return LO_OK;
    size_t n = code_points(v);
    if (n < minlen || n > maxlen) {
        lo_api_error(resp, 400, "invalid_parameter", "%s must be %zu to %zu characters long (got %zu)", name,
                     minlen, maxlen, n);
        return LO_INVALID;
    }
    *out = v;
    return LO_OK;
}

int lo_q_enum(const lo_api_req_t *req, lo_api_resp_t *resp, const char *name, const char *const *values,
              int *idx)
{
    const char *v = lo_api_param(req, name, NULL);
    *idx = -1;
    if (!v)
        return LO_OK;
    for (int i = 0; values[i]; i++) {
        if (strcasecmp(values[i], v) == 0) { /* status=ERROR, agg=P99 */
            *idx = i;
            return LO_OK;
        }
    }
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; values[i]; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? "|" : "", values[i]);
    lo_api_error(resp, 400, "invalid_parameter", "%s must be one of %s", name, list);
    return LO_INVALID;
}

int lo_q_range(const lo_api_req_t *req, lo_api_resp_t *resp, int64_t *from_us, int64_t *to_us)
{
    static const char *const names[2] = { "from", "to" };
    int64_t t[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) {
        const char *v = lo_api_param(req, names[i], NULL);
        if (v && lo_q_parse_time(v, &t[i]) != LO_OK) {
            lo_api_error(
                resp, 400, "invalid_parameter",
                "%s must be an RFC 3339 time such as 2026-11-28T07:30:00Z (or with an offset, +02:00) "
                "or Unix milliseconds such as 1795851000000",
                names[i]);
            return LO_INVALID;
        }
        if (!v)
            t[i] = -1;
    }
    if (t[1] < 0)
        t[1] = lo_now_ns() / 1000;
    if (t[0] < 0)
        t[0] = t[1] - LO_Q_DEFAULT_RANGE_US;
    if (t[0] >= t[1]) {
        lo_api_error(resp, 400, "invalid_parameter", "from must be earlier than to");
        return LO_INVALID;
    }
    if (t[1] - t[0] > LO_Q_MAX_RANGE_US) {
        lo_api_error(resp, 400, "invalid_parameter", "the time range from..to may span at most 31 days");
        return LO_INVALID;
    }
    *from_us = t[0];
    *to_us = t[1];
    return LO_OK;
}

void lo_q_array_item(lo_buf_t *out, const char *s, size_t len, bool first)
{
    if (!first)
        lo_buf_putc(out, ',');
    lo_buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            lo_buf_putc(out, '\\');
        lo_buf_putc(out, s[i]);
    }
    lo_buf_putc(out, '"');
}

int lo_q_label_keys(const char *list, lo_buf_t *out)
{
    size_t n = 0;
    out->len = 0;
    lo_buf_putc(out, '{');
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        while (p < end && *p == ' ')
            p++;
        const char *e = end;
        while (e > p && e[-1] == ' ')
            e--;
        if (e == p || e - p > 256 || ++n > LO_Q_MAX_GROUP_KEYS)
            return LO_INVALID;
        lo_q_array_item(out, p, (size_t)(e - p), n == 1);
        if (!comma)
            break;
        p = comma + 1;
    }
    lo_buf_putc(out, '}');
    lo_buf_putc(out, '\0');
    out->len--;
    return out->err ? LO_INVALID : LO_OK;
}
