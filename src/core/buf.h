/*
 * buf.h — a growable byte buffer with a hard limit.  Used to build response
 * bodies, COPY streams and JSON text.  Appends fail (LO_ERROR / LO_TOO_LARGE)
 * rather than grow past the limit; once failed, the buffer stays failed so a
 * writer may check once at the end.
 */
#ifndef LO_BUF_H
#define LO_BUF_H

#include "core/lo.h"

typedef struct {
    char *p;
    size_t len;
    size_t cap;
    size_t limit; /* 0 = no limit */
    int err;      /* LO_OK, or the first failure */
} lo_buf_t;

/* Initializes an empty buffer (no allocation). */
void lo_buf_init(lo_buf_t *b, size_t limit);
/* Frees the bytes.  Accepts NULL. */
void lo_buf_free(lo_buf_t *b);
/* Empties the buffer, keeping its capacity, and clears a failure. */
void lo_buf_reset(lo_buf_t *b);
/* Makes room for n more bytes.  LO_OK, LO_ERROR (OOM) or LO_TOO_LARGE. */
int lo_buf_reserve(lo_buf_t *b, size_t n);
int lo_buf_append(lo_buf_t *b, const void *p, size_t n);
int lo_buf_putc(lo_buf_t *b, char c);
int lo_buf_puts(lo_buf_t *b, const char *s);
int lo_buf_printf(lo_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the bytes (NUL-terminated); the buffer is left empty. */
char *lo_buf_detach(lo_buf_t *b, size_t *len);

#endif
