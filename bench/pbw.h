/*
 * pbw.h — a tiny protobuf writer for the benchmark's pre-encoded requests.
 *
 * Nested messages are written in place: pbw_begin() writes the tag and
 * remembers where the message starts; pbw_end() measures it and inserts the
 * minimal length varint in front (one memmove; encoding happens once, before
 * the run).  Marked positions (pbw_mark) move with the bytes, so the caller
 * can find fields again in the finished body (the load generator rewrites
 * trace ids per request through them).
 */
#ifndef BG_PBW_H
#define BG_PBW_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PBW_MAX_DEPTH 16

typedef struct {
    uint8_t *p;
    size_t len, cap;
    size_t stack[PBW_MAX_DEPTH];
    int depth;
    size_t *mark; /* positions the caller wants to find again */
    size_t nmark, mark_cap;
} pbw_t;

static inline void pbw_need(pbw_t *w, size_t n)
{
    if (w->len + n <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + n)
        cap *= 2;
    uint8_t *p = realloc(w->p, cap);
    if (!p) {
        fprintf(stderr, "pbw: out of memory\n");
        exit(1);
    }
    w->p = p;
    w->cap = cap;
}

static inline size_t pbw_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline void pbw_raw_varint(pbw_t *w, uint64_t v)
{
    pbw_need(w, 10);
    while (v >= 0x80) {
        w->p[w->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    w->p[w->len++] = (uint8_t)v;
}

static inline void pbw_tag(pbw_t *w, int field, int wt)
{
    pbw_raw_varint(w, ((uint64_t)field << 3) | (uint64_t)wt);
}

/* varint field; zero is omitted as proto3 encoders do */
static inline void pbw_uint(pbw_t *w, int field, uint64_t v)
{
    if (!v)
        return;
    pbw_tag(w, field, 0);
    pbw_raw_varint(w, v);
}

static inline void pbw_fixed64(pbw_t *w, int field, uint64_t v)
{
    pbw_tag(w, field, 1);
    pbw_need(w, 8);
    for (int i = 0; i < 8; i++)
        w->p[w->len++] = (uint8_t)(v >> (8 * i));
}

static inline void pbw_double(pbw_t *w, int field, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    pbw_fixed64(w, field, v);
}

static inline void pbw_bytes(pbw_t *w, int field, const void *p, size_t n)
{
    pbw_tag(w, field, 2);
    pbw_raw_varint(w, n);
    pbw_need(w, n);
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

static inline void pbw_str(pbw_t *w, int field, const char *s)
{
    if (s && *s)
        pbw_bytes(w, field, s, strlen(s));
}

/* Remembers the current position (the next byte written). */
static inline void pbw_mark(pbw_t *w)
{
    if (w->nmark == w->mark_cap) {
        w->mark_cap = w->mark_cap ? w->mark_cap * 2 : 256;
        w->mark = realloc(w->mark, w->mark_cap * sizeof *w->mark);
        if (!w->mark) {
            fprintf(stderr, "pbw: out of memory\n");
            exit(1);
        }
    }
    w->mark[w->nmark++] = w->len;
}

static inline void pbw_begin(pbw_t *w, int field)
{
    if (w->depth == PBW_MAX_DEPTH) {
        fprintf(stderr, "pbw: nested too deep\n");
        exit(1);
    }
    pbw_tag(w, field, 2);
    w->stack[w->depth++] = w->len;
}

static inline void pbw_end(pbw_t *w)
{
    size_t start = w->stack[--w->depth];
    size_t n = w->len - start;
    size_t k = pbw_varint_len(n);
    pbw_need(w, k);
    memmove(w->p + start + k, w->p + start, n);
    size_t save = w->len;
    w->len = start;
    pbw_raw_varint(w, n);
    w->len = save + k;
    /* marks inside the message moved by k: they are a suffix of the list */
    for (size_t i = w->nmark; i > 0 && w->mark[i - 1] >= start; i--)
        w->mark[i - 1] += k;
}

static inline void pbw_free(pbw_t *w)
{
    free(w->p);
    free(w->mark);
    memset(w, 0, sizeof *w);
}

#endif
