#include "core/json_write.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "core/ids.h"
#include "core/utf8.h"

void lo_jw_init(lo_jw_t *w, lo_buf_t *b)
{
    w->b = b;
    w->depth = 0;
    w->err = LO_OK;
    w->first[0] = 1;
    w->after_key = 0;
}

static void fail(lo_jw_t *w, int rc)
{
    if (w->err == LO_OK)
        w->err = rc;
}

/* Writes the separator a new value or key needs. */
static void sep(lo_jw_t *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            lo_buf_putc(w->b, ',');
        w->first[w->depth] = 0;
    }
}

static void open(lo_jw_t *w, char c)
{
    sep(w);
    if (w->depth + 1 >= LO_JW_MAX_DEPTH) {
        fail(w, LO_INVALID);
        return;
    }
    lo_buf_putc(w->b, c);
    w->depth++;
    w->first[w->depth] = 1;
}

static void close_(lo_jw_t *w, char c)
{
    if (w->depth == 0) {
        fail(w, LO_ERROR);
        return;
    }
    w->depth--;
    lo_buf_putc(w->b, c);
}

void lo_jw_obj_begin(lo_jw_t *w)
{
    open(w, '{');
}
void lo_jw_obj_end(lo_jw_t *w)
{
    close_(w, '}');
}
void lo_jw_arr_begin(lo_jw_t *w)
{
    open(w, '[');
}
void lo_jw_arr_end(lo_jw_t *w)
{
    close_(w, ']');
}

int lo_json_escape_into(lo_buf_t *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        /* copy the longest run that needs no escaping */
        size_t run = i;
        while (run < n) {
            unsigned char c = (unsigned char)p[run];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
                break;
            run++;
        }
        if (run > i) {
            lo_buf_append(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x80) {
            /* look at one sequence (<= 4 bytes), not the rest of the
             * string: "éa" repeated must stay linear, not quadratic */
            size_t v = lo_utf8_valid_prefix(p + i, n - i < 4 ? n - i : 4);
            /* take only the non-ASCII valid sequence(s) up to the next ASCII */
            size_t take = 0;
            while (take < v && ((unsigned char)p[i + take]) >= 0x80)
                take++;
            if (take > 0) {
                lo_buf_append(b, p + i, take);
                i += take;
            } else {
                lo_buf_append(b, "\xEF\xBF\xBD", 3);
                i += lo_utf8_invalid_len(p + i, n - i);
            }
            continue;
        }
        switch (c) {
        case '"': lo_buf_append(b, "\\\"", 2); break;
        case '\\': lo_buf_append(b, "\\\\", 2); break;
        case '\n': lo_buf_append(b, "\\n", 2); break;
        case '\r': lo_buf_append(b, "\\r", 2); break;
        case '\t': lo_buf_append(b, "\\t", 2); break;
        case 0: lo_buf_append(b, "\xEF\xBF\xBD", 3); break;
        default: {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            lo_buf_append(b, e, 6);
        }
        }
        i++;
    }
    return b->err;
}

static void write_str(lo_jw_t *w, const char *p, size_t n)
{
    lo_buf_putc(w->b, '"');
    lo_json_escape_into(w->b, p, n);
    lo_buf_putc(w->b, '"');
}

void lo_jw_key(lo_jw_t *w, const char *p, size_t n)
{
    sep(w);
    write_str(w, p, n);
    lo_buf_putc(w->b, ':');
    w->after_key = 1;
}

void lo_jw_str(lo_jw_t *w, const char *p, size_t n)
{
    sep(w);
    write_str(w, p, n);
}

void lo_jw_cstr(lo_jw_t *w, const char *s)
{
    lo_jw_str(w, s, strlen(s));
}

#define LO_JSON_SAFE_INT 9007199254740992LL /* 2^53 */

void lo_jw_i64(lo_jw_t *w, int64_t v)
{
    sep(w);
    if (v > LO_JSON_SAFE_INT || v < -LO_JSON_SAFE_INT)
        lo_buf_printf(w->b, "\"%" PRId64 "\"", v);
    else
        lo_buf_printf(w->b, "%" PRId64, v);
}

void lo_jw_u64(lo_jw_t *w, uint64_t v)
{
    sep(w);
    if (v > (uint64_t)LO_JSON_SAFE_INT)
        lo_buf_printf(w->b, "\"%" PRIu64 "\"", v);
    else
        lo_buf_printf(w->b, "%" PRIu64, v);
}

void lo_jw_f64(lo_jw_t *w, double v)
{
    sep(w);
    if (isnan(v))
        lo_buf_puts(w->b, "\"NaN\"");
    else if (isinf(v))
        lo_buf_puts(w->b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else if (fabs(v) < 1e15 && v == (double)(int64_t)v) /* range first: the cast of a larger double is UB */
        lo_buf_printf(w->b, "%" PRId64, (int64_t)v);
    else
        lo_buf_printf(w->b, "%.17g", v);
}

void lo_jw_bool(lo_jw_t *w, bool v)
{
    sep(w);
    lo_buf_puts(w->b, v ? "true" : "false");
}

void lo_jw_null(lo_jw_t *w)
{
    sep(w);
    lo_buf_puts(w->b, "null");
}

void lo_jw_base64(lo_jw_t *w, const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sep(w);
    if (lo_buf_reserve(w->b, (n + 2) / 3 * 4 + 2) != LO_OK)
        return;
    char *o = w->b->p + w->b->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = '=';
    }
    *o++ = '"';
    w->b->len = (size_t)(o - w->b->p);
    w->b->p[w->b->len] = '\0';
}

void lo_jw_hex(lo_jw_t *w, const uint8_t *p, size_t n)
{
    sep(w);
    if (lo_buf_reserve(w->b, n * 2 + 2) != LO_OK)
        return;
    char *o = w->b->p + w->b->len;
    *o++ = '"';
    o = lo_hex_put(o, p, n);
    *o++ = '"';
    w->b->len = (size_t)(o - w->b->p);
    w->b->p[w->b->len] = '\0';
}

void lo_jw_raw(lo_jw_t *w, const char *p, size_t n)
{
    sep(w);
    lo_buf_append(w->b, p, n);
}

int lo_jw_status(const lo_jw_t *w)
{
    if (w->err != LO_OK)
        return w->err;
    return w->b->err;
}
