/* items.c — the messages a tail client receives (tail_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "tail/tail_internal.h"

void lo_tail_channel(const char *project, char out[LO_TAIL_CHANNEL_MAX])
{
    snprintf(out, LO_TAIL_CHANNEL_MAX, "logs:%s", project != NULL && project[0] != '\0' ? project : "_");
}

static lo_tail_item_t *item_new(item_kind_t kind, size_t size)
{
    lo_tail_item_t *it = calloc(1, sizeof(*it) + size);
    if (it != NULL) {
        it->kind = kind;
        it->size = sizeof(*it) + size;
    }
    return it;
}

/* Copies s to *w and points d at the copy (folded when fold). */
static void put(char **w, lo_str_t s, lo_str_t *d, bool fold)
{
    if (s.p == NULL) {
        *d = (lo_str_t){ NULL, 0 };
        return;
    }
    if (fold)
        lo_tail_fold(*w, s.p, s.len);
    else
        memcpy(*w, s.p, s.len);
    *d = (lo_str_t){ *w, s.len };
    *w += s.len;
}

lo_tail_item_t *lo_tail_item_log(const char *entry, size_t len, const lo_tail_meta_t *raw)
{
    static const char head[] = "{\"type\":\"log\",\"entry\":";
    size_t metas =
        raw->project.len + raw->level.len + raw->service.len + raw->session.len + raw->message_folded.len;
    lo_tail_item_t *it = item_new(ITEM_LOG, ITEM_ENTRY_OFF + len + 1 + metas);
    if (it == NULL)
        return NULL;
    char *w = it->data;
    memcpy(w, head, ITEM_ENTRY_OFF);
    memcpy(w + ITEM_ENTRY_OFF, entry, len);
    w[ITEM_ENTRY_OFF + len] = '}';
    it->msg_len = ITEM_ENTRY_OFF + len + 1;
    w += it->msg_len;
    put(&w, raw->project, &it->meta.project, false);
    put(&w, raw->level, &it->meta.level, false);
    put(&w, raw->service, &it->meta.service, false);
    put(&w, raw->session, &it->meta.session, false);
    put(&w, raw->message_folded, &it->meta.message_folded, true);
    char project[37] = "";
    if (raw->project.p != NULL && raw->project.len == 36)
        memcpy(project, raw->project.p, 36);
    lo_tail_channel(project, it->channel);
    return it;
}

/* ---- reading a published entry back ----
 *
 * Every entry a node receives from Valkey is checked to be one JSON object
 * and its five filter fields are read, without building a tree: jansson's
 * tree for each entry cost a third of the server's CPU with 50 tails open
 * (docs/BENCHMARKS.md, "Live tail").  The scan is a validating recursive
 * descent (depth at most MAX_DEPTH) that allocates nothing. */

#define MAX_DEPTH 64

typedef struct {
    const char *p, *end;
} scan_t;

static void skip_ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool hex4(const char *p)
{
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

/* A string at s->p: its raw contents [*b, *e) between the quotes. */
static bool scan_string(scan_t *s, const char **b, const char **e)
{
    if (s->p >= s->end || *s->p != '"')
        return false;
    const char *p = ++s->p;
    while (p < s->end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (p + 1 >= s->end)
                return false;
            char x = p[1];
            if (x == 'u') {
                if (s->end - p < 6 || !hex4(p + 2))
                    return false;
                p += 6;
                continue;
            }
            if (strchr("\"\\/bfnrt", x) == NULL || x == '\0')
                return false;
            p += 2;
            continue;
        }
        p++;
    }
    if (p >= s->end || !lo_utf8_valid(s->p, (size_t)(p - s->p)))
        return false;
    *b = s->p;
    *e = p;
    s->p = p + 1;
    return true;
}

static bool scan_value(scan_t *s, int depth);

static bool scan_number(scan_t *s)
{
    const char *p = s->p;
    if (p < s->end && *p == '-')
        p++;
    const char *d = p;
    while (p < s->end && *p >= '0' && *p <= '9')
        p++;
    if (p == d || (*d == '0' && p - d > 1))
        return false;
    if (p < s->end && *p == '.') {
        d = ++p;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return false;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        d = p;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
        if (p == d)
            return false;
    }
    s->p = p;
    return true;
}

static bool scan_word(scan_t *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* Members or elements up to the closing bracket; obj: "key": value. */
static bool scan_container(scan_t *s, int depth, bool obj)
{
    if (depth > MAX_DEPTH)
        return false;
    s->p++; /* { or [ */
    skip_ws(s);
    char close = obj ? '}' : ']';
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    for (;;) {
        const char *b, *e;
        skip_ws(s);
        if (obj) {
            if (!scan_string(s, &b, &e))
                return false;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return false;
        }
        if (!scan_value(s, depth + 1))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == close) {
            s->p++;
            return true;
        }
        if (*s->p++ != ',')
            return false;
    }
}

static bool scan_value(scan_t *s, int depth)
{
    const char *b, *e;
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{': return scan_container(s, depth, true);
    case '[': return scan_container(s, depth, false);
    case '"': return scan_string(s, &b, &e);
    case 't': return scan_word(s, "true");
    case 'f': return scan_word(s, "false");
    case 'n': return scan_word(s, "null");
    default: return scan_number(s);
    }
}

static unsigned hexval(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Decodes a validated raw string [b, e) into *w (at most e - b bytes). */
static lo_str_t unescape(const char *b, const char *e, char **w)
{
    char *o = *w, *start = *w;
    for (const char *p = b; p < e;) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        char x = p[1];
        if (x != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            *o++ = to[strchr(from, x) - from];
            p += 2;
            continue;
        }
        unsigned cp = hexval(p + 2);
        p += 6;
        if (cp >= 0xD800 && cp < 0xDC00 && e - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            unsigned lo = hexval(p + 2);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
        }
        if (cp >= 0xD800 && cp < 0xE000)
            cp = 0xFFFD; /* a lone surrogate */
        if (cp < 0x80) {
            *o++ = (char)cp;
        } else if (cp < 0x800) {
            *o++ = (char)(0xC0 | cp >> 6);
            *o++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) { /* 3 bytes from 6 escaped */
            *o++ = (char)(0xE0 | cp >> 12);
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *o++ = (char)(0x80 | (cp & 0x3F));
        } else { /* 4 bytes from 12 escaped */
            *o++ = (char)(0xF0 | cp >> 18);
            *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *o++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    *w = o;
    return (lo_str_t){ start, (size_t)(o - start) };
}

lo_tail_item_t *lo_tail_item_parse(const char *entry, size_t len)
{
    static const char *const KEYS[] = { "project_id", "level", "service", "session_id", "message" };
    lo_str_t got[5] = { { NULL, 0 } };
    const char *raw[5][2] = { { NULL } };
    scan_t s = { entry, entry + len };
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return NULL;
    /* the top level by hand, to see its members; nested values by scan_value */
    s.p++;
    skip_ws(&s);
    bool ok = true, empty = s.p < s.end && *s.p == '}';
    if (empty)
        s.p++;
    while (ok && !empty) {
        const char *kb, *ke, *vb = NULL, *ve = NULL;
        skip_ws(&s);
        ok = scan_string(&s, &kb, &ke);
        skip_ws(&s);
        ok = ok && s.p < s.end && *s.p++ == ':';
        skip_ws(&s);
        if (ok && s.p < s.end && *s.p == '"')
            ok = scan_string(&s, &vb, &ve);
        else
            ok = ok && scan_value(&s, 1);
        for (int k = 0; ok && k < 5; k++) {
            if ((size_t)(ke - kb) == strlen(KEYS[k]) && memcmp(kb, KEYS[k], (size_t)(ke - kb)) == 0) {
                raw[k][0] = vb; /* NULL when not a string: absent */
                raw[k][1] = ve;
            }
        }
        skip_ws(&s);
        if (!ok || s.p >= s.end)
            return NULL;
        if (*s.p == '}') {
            s.p++;
            break;
        }
        ok = *s.p++ == ',';
    }
    skip_ws(&s);
    if (!ok || s.p != s.end)
        return NULL;
    char *scratch = malloc(len + 1), *w = scratch;
    if (scratch == NULL)
        return NULL;
    for (int k = 0; k < 5; k++)
        if (raw[k][0] != NULL)
            got[k] = unescape(raw[k][0], raw[k][1], &w);
    lo_tail_meta_t m = {
        .project = got[0], .level = got[1], .service = got[2], .session = got[3], .message_folded = got[4]
    };
    lo_tail_item_t *it = NULL;
    if (m.project.p == NULL || m.project.len == 36)
        it = lo_tail_item_log(entry, len, &m);
    free(scratch);
    return it;
}

lo_tail_item_t *lo_tail_item_gap(uint64_t missed)
{
    lo_tail_item_t *it = item_new(ITEM_GAP, 64);
    if (it != NULL) {
        it->missed = missed;
        it->msg_len =
            (size_t)snprintf(it->data, 64, "{\"type\":\"gap\",\"missed\":%llu}", (unsigned long long)missed);
    }
    return it;
}

lo_tail_item_t *lo_tail_item_status(const char *status)
{
    lo_tail_item_t *it = item_new(ITEM_STATUS, 64);
    if (it != NULL)
        it->msg_len = (size_t)snprintf(it->data, 64, "{\"type\":\"status\",\"status\":\"%s\"}", status);
    return it;
}
