/*
 * objstore.c — the object store's front: URL dispatch, options, key checks,
 * and the bounded XML scanner the S3 backend reads answers with.
 */
#include "cold/objstore_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int lo_os_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void lo_objstore_options_default(lo_objstore_options_t *o)
{
    o->multipart_threshold = 64u << 20;
    o->part_size = 16u << 20;
    o->list_page = 1000;
    o->attempts = 4;
    o->backoff_ms = 200;
    o->timeout_ms = 300000;
    o->connect_timeout_ms = 10000;
    o->max_response = 16u << 20;
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '=' || c == '-';
}

bool lo_objstore_key_valid(const char *key)
{
    if (!key)
        return false;
    size_t n = strnlen(key, LO_OBJSTORE_KEY_MAX + 1);
    if (n == 0 || n > LO_OBJSTORE_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!key_char(key[i]))
            return false;
        bool seg_start = i == 0 || key[i - 1] == '/';
        if (seg_start && (key[i] == '/' || key[i] == '.'))
            return false;
    }
    return key[n - 1] != '/' && strstr(key, "..") == NULL;
}

bool lo_os_prefix_valid(const char *prefix)
{
    if (!prefix)
        return false;
    size_t n = strnlen(prefix, LO_OBJSTORE_KEY_MAX + 1);
    if (n > LO_OBJSTORE_KEY_MAX || (n > 0 && prefix[0] == '/') || strstr(prefix, "..") != NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!key_char(prefix[i]))
            return false;
    return true;
}

lo_objstore_t *lo_objstore_open(const char *url, char *err, size_t errlen)
{
    if (!url) {
        lo_os_fail(err, errlen, LO_INVALID, "object store: no URL");
        return NULL;
    }
    lo_objstore_t *s = calloc(1, sizeof(*s));
    if (!s) {
        lo_os_fail(err, errlen, LO_ERROR, "object store: out of memory");
        return NULL;
    }
    lo_objstore_options_default(&s->opt);
    int rc;
    if (strncmp(url, "file://", 7) == 0) {
        s->kind = LO_OS_FILE;
        rc = lo_os_file_open(s, url + 7, err, errlen);
    } else if (strncmp(url, "s3://", 5) == 0) {
        s->kind = LO_OS_S3;
        rc = lo_os_s3_open(s, url + 5, err, errlen);
    } else {
        rc = lo_os_fail(err, errlen, LO_INVALID, "object store: URL must start with file:// or s3://");
    }
    if (rc != LO_OK) {
        lo_objstore_close(s);
        return NULL;
    }
    return s;
}

void lo_objstore_close(lo_objstore_t *s)
{
    if (!s)
        return;
    free(s->root);
    free(s->endpoint);
    free(s->bucket);
    free(s->prefix);
    free(s->region);
    free(s->sigv4);
    free(s->key_id);
    if (s->secret) {
        /* not left behind in freed memory */
        volatile char *p = s->secret;
        while (*p)
            *p++ = 0;
        free(s->secret);
    }
    free(s->token);
    free(s);
}

int lo_objstore_set_options(lo_objstore_t *s, const lo_objstore_options_t *o, char *err, size_t errlen)
{
    if (o->part_size < 1024 || o->part_size > (5ull << 30))
        return lo_os_fail(err, errlen, LO_INVALID, "object store: part_size must be 1 KiB..5 GiB");
    if (o->multipart_threshold < o->part_size)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: multipart_threshold must be >= part_size");
    if (o->list_page < 1 || o->list_page > 1000)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: list_page must be 1..1000");
    if (o->attempts < 1 || o->attempts > 10)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: attempts must be 1..10");
    if (o->backoff_ms < 0 || o->backoff_ms > 60000)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: backoff_ms must be 0..60000");
    if (o->timeout_ms < 100 || o->connect_timeout_ms < 100 || o->connect_timeout_ms > o->timeout_ms)
        return lo_os_fail(err, errlen, LO_INVALID,
                          "object store: timeouts must be >= 100 ms, connecting no longer than the whole");
    if (o->max_response < 4096)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: max_response must be >= 4096");
    s->opt = *o;
    return LO_OK;
}

const char *lo_objstore_kind(const lo_objstore_t *s)
{
    return s->kind == LO_OS_FILE ? "file" : "s3";
}

#define CHECK_KEY(key)                                                            \
    do {                                                                          \
        if (!lo_objstore_key_valid(key))                                          \
            return lo_os_fail(err, errlen, LO_INVALID,                            \
                              "%s: invalid key (1..1024 of [A-Za-z0-9._/=-], no " \
                              "'..', no empty or dot segment)",                   \
                              __func__ + sizeof("lo_objstore_") - 1);             \
    } while (0)

int lo_objstore_put(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err, size_t errlen)
{
    CHECK_KEY(key);
    if (!data && len > 0)
        return lo_os_fail(err, errlen, LO_INVALID, "put %s: no data", key);
    return s->kind == LO_OS_FILE ? lo_os_file_put(s, key, data, len, err, errlen)
                                 : lo_os_s3_put(s, key, data, len, err, errlen);
}

int lo_objstore_get(lo_objstore_t *s, const char *key, lo_buf_t *out, char *err, size_t errlen)
{
    CHECK_KEY(key);
    return s->kind == LO_OS_FILE ? lo_os_file_get_range(s, key, 0, 0, true, out, err, errlen)
                                 : lo_os_s3_get_range(s, key, 0, 0, true, out, err, errlen);
}

int lo_objstore_get_range(lo_objstore_t *s, const char *key, uint64_t offset, uint64_t len, lo_buf_t *out,
                          char *err, size_t errlen)
{
    CHECK_KEY(key);
    if (len == 0 || offset > UINT64_MAX - len)
        return lo_os_fail(err, errlen, LO_INVALID, "get_range %s: empty or overflowing range", key);
    return s->kind == LO_OS_FILE ? lo_os_file_get_range(s, key, offset, len, false, out, err, errlen)
                                 : lo_os_s3_get_range(s, key, offset, len, false, out, err, errlen);
}

int lo_objstore_read_exact(lo_objstore_t *s, const char *key, uint64_t offset, void *dst, size_t n,
                           lo_buf_t *scratch, char *err, size_t errlen)
{
    if (n == 0)
        return LO_OK;
    lo_buf_reset(scratch);
    int rc = lo_objstore_get_range(s, key, offset, n, scratch, err, errlen);
    if (rc != LO_OK)
        return rc;
    if (scratch->len != n)
        return lo_os_fail(err, errlen, LO_ERROR, "%s: short read at %llu", key, (unsigned long long)offset);
    memcpy(dst, scratch->p, n);
    return LO_OK;
}

int lo_objstore_head(lo_objstore_t *s, const char *key, uint64_t *size, char *err, size_t errlen)
{
    CHECK_KEY(key);
    return s->kind == LO_OS_FILE ? lo_os_file_head(s, key, size, err, errlen)
                                 : lo_os_s3_head(s, key, size, err, errlen);
}

int lo_objstore_list(lo_objstore_t *s, const char *prefix, lo_objstore_list_cb cb, void *ud, char *err,
                     size_t errlen)
{
    if (!prefix)
        prefix = "";
    if (!lo_os_prefix_valid(prefix))
        return lo_os_fail(err, errlen, LO_INVALID, "list: invalid prefix");
    return s->kind == LO_OS_FILE ? lo_os_file_list(s, prefix, cb, ud, err, errlen)
                                 : lo_os_s3_list(s, prefix, cb, ud, err, errlen);
}

int lo_objstore_delete(lo_objstore_t *s, const char *key, char *err, size_t errlen)
{
    CHECK_KEY(key);
    return s->kind == LO_OS_FILE ? lo_os_file_delete(s, key, err, errlen)
                                 : lo_os_s3_delete(s, key, err, errlen);
}

/* ---- XML ---- */

/* The first occurrence of needle in hay[from, len), or len. */
static size_t find(const char *hay, size_t len, size_t from, const char *needle, size_t nlen)
{
    if (nlen == 0 || len < nlen)
        return len;
    for (size_t i = from; i + nlen <= len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
            return i;
    return len;
}

int lo_os_xml_next(const char *xml, size_t len, size_t *pos, const char *tag, lo_str_t *content)
{
    size_t tlen = strlen(tag);
    if (!xml || tlen == 0 || tlen > 64)
        return LO_NOT_FOUND;
    size_t i = *pos;
    while (i < len) {
        size_t lt = find(xml, len, i, "<", 1);
        if (lt >= len)
            return LO_NOT_FOUND;
        i = lt + 1;
        if (len - i < tlen + 1 || memcmp(xml + i, tag, tlen) != 0)
            continue;
        char after = xml[i + tlen];
        if (after != '>' && after != ' ' && after != '/' && after != '\t' && after != '\r' && after != '\n')
            continue; /* a longer name that starts with tag */
        size_t gt = find(xml, len, i + tlen, ">", 1);
        if (gt >= len)
            return LO_NOT_FOUND;
        if (xml[gt - 1] == '/') { /* <tag/> */
            *content = lo_str(xml + gt, 0);
            *pos = gt + 1;
            return LO_OK;
        }
        char close[70];
        close[0] = '<';
        close[1] = '/';
        memcpy(close + 2, tag, tlen);
        close[2 + tlen] = '>';
        size_t end = find(xml, len, gt + 1, close, tlen + 3);
        if (end >= len)
            return LO_NOT_FOUND;
        *content = lo_str(xml + gt + 1, end - gt - 1);
        *pos = end + tlen + 3;
        return LO_OK;
    }
    return LO_NOT_FOUND;
}

int lo_os_xml_text(lo_str_t text, char *dst, size_t cap)
{
    if (cap == 0)
        return LO_INVALID;
    static const struct {
        const char *name;
        char c;
    } ents[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' } };
    size_t o = 0;
    for (size_t i = 0; i < text.len;) {
        char c = text.p[i];
        if (c == '&') {
            size_t rest = text.len - i - 1;
            const char *r = text.p + i + 1;
            bool done = false;
            for (size_t e = 0; e < LO_ARRAY_LEN(ents) && !done; e++) {
                size_t n = strlen(ents[e].name);
                if (rest >= n && memcmp(r, ents[e].name, n) == 0) {
                    c = ents[e].c;
                    i += 1 + n;
                    done = true;
                }
            }
            if (!done) {
                if (rest < 3 || r[0] != '#')
                    return LO_INVALID;
                bool hex = r[1] == 'x';
                unsigned v = 0;
                size_t j = hex ? 2 : 1, digits = 0;
                for (; j < rest && r[j] != ';' && digits < 4; j++, digits++) {
                    char d = r[j];
                    int x = d >= '0' && d <= '9'          ? d - '0'
                            : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                            : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                          : -1;
                    if (x < 0)
                        return LO_INVALID;
                    v = v * (hex ? 16 : 10) + (unsigned)x;
                }
                if (digits == 0 || j >= rest || r[j] != ';' || v == 0 || v >= 128)
                    return LO_INVALID;
                c = (char)v;
                i += 1 + j + 1;
            }
        } else {
            i++;
        }
        if (o + 1 >= cap)
            return LO_INVALID;
        dst[o++] = c;
    }
    dst[o] = 0;
    return LO_OK;
}
