#include "core/arena.h"

#include <assert.h>
#include <stdlib.h>

typedef struct lo_arena_chunk {
    struct lo_arena_chunk *next;
    size_t size;
    size_t off;
    /* data follows, 8-aligned */
} lo_arena_chunk_t;

struct lo_arena {
    lo_arena_chunk_t *head;
    size_t chunk_size;
    size_t limit;
    size_t used;
};

#define CHUNK_HDR ((sizeof(lo_arena_chunk_t) + 7) & ~(size_t)7)

lo_arena_t *lo_arena_create(size_t chunk_size, size_t limit)
{
    lo_arena_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->chunk_size = chunk_size < 256 ? 256 : chunk_size;
    a->limit = limit;
    return a;
}

void lo_arena_destroy(lo_arena_t *a)
{
    if (a == NULL)
        return;
    lo_arena_chunk_t *c = a->head;
    while (c != NULL) {
        lo_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    free(a);
}

void lo_arena_reset(lo_arena_t *a)
{
    if (a == NULL || a->head == NULL)
        return;
    /* keep the last (oldest, first-allocated) chunk */
    lo_arena_chunk_t *c = a->head;
    while (c->next != NULL) {
        lo_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    c->off = 0;
    a->head = c;
    a->used = 0;
}

void *lo_arena_alloc(lo_arena_t *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + 7) & ~(size_t)7;
    if (a->limit != 0 && (n > a->limit || a->used > a->limit - n))
        return NULL;
    lo_arena_chunk_t *c = a->head;
    if (c == NULL || c->size - c->off < n) {
        size_t size = n > a->chunk_size ? n : a->chunk_size;
        lo_arena_chunk_t *nc = malloc(CHUNK_HDR + size);
        if (nc == NULL)
            return NULL;
        nc->size = size;
        nc->off = 0;
        if (c != NULL && n > a->chunk_size) {
            /* a big one-off: put it behind the head so the head keeps its room */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = (char *)c + CHUNK_HDR + c->off;
    assert(c->size - c->off >= n && ((uintptr_t)p & 7) == 0);
    c->off += n;
    a->used += n;
    return p;
}

char *lo_arena_strndup(lo_arena_t *a, const char *p, size_t n)
{
    char *d = lo_arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

size_t lo_arena_used(const lo_arena_t *a)
{
    return a->used;
}
