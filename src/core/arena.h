/*
 * arena.h — a region allocator: many small allocations, freed together.
 * One arena per request; it is reset or destroyed whole when the request
 * ends.  An arena has a byte limit so that input-sized allocations fail the
 * request (NULL) instead of exhausting the process.
 */
#ifndef LO_ARENA_H
#define LO_ARENA_H

#include "core/lo.h"

typedef struct lo_arena lo_arena_t;

/* Creates an arena whose chunks are at least chunk_size bytes and whose
 * total allocation may not exceed limit bytes (0 = no limit).  NULL on OOM. */
lo_arena_t *lo_arena_create(size_t chunk_size, size_t limit);
/* Frees every chunk.  Accepts NULL. */
void lo_arena_destroy(lo_arena_t *a);
/* Forgets all allocations, keeping the first chunk for reuse. */
void lo_arena_reset(lo_arena_t *a);
/* Returns n bytes aligned to 8, or NULL when out of memory or over the limit. */
void *lo_arena_alloc(lo_arena_t *a, size_t n) LO_MUST_USE;
/* Copies n bytes into the arena; the copy is NUL-terminated. */
char *lo_arena_strndup(lo_arena_t *a, const char *p, size_t n) LO_MUST_USE;
/* Bytes handed out since creation or the last reset (including chunk slack). */
size_t lo_arena_used(const lo_arena_t *a);

#endif
