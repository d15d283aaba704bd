#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void lo_buf_init(lo_buf_t *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void lo_buf_free(lo_buf_t *b)
{
    if (b == NULL)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void lo_buf_reset(lo_buf_t *b)
{
    b->len = 0;
    b->err = LO_OK;
}

int lo_buf_reserve(lo_buf_t *b, size_t n)
{
    if (b->err != LO_OK)
        return b->err;
    /* +1 keeps room for a terminating NUL */
    if (n > SIZE_MAX / 4 - b->len) {
        b->err = LO_TOO_LARGE;
        return b->err;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return LO_OK;
    if (b->limit != 0 && need > b->limit + 1) {
        b->err = LO_TOO_LARGE;
        return b->err;
    }
    size_t cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need)
        cap *= 2;
    if (b->limit != 0 && cap > b->limit + 1)
        cap = b->limit + 1;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->err = LO_ERROR;
        return b->err;
    }
    b->p = p;
    b->cap = cap;
    return LO_OK;
}

int lo_buf_append(lo_buf_t *b, const void *p, size_t n)
{
    int rc = lo_buf_reserve(b, n);
    if (rc != LO_OK)
        return rc;
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return LO_OK;
}

int lo_buf_putc(lo_buf_t *b, char c)
{
    if (b->err == LO_OK && b->len + 1 < b->cap) {
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
        return LO_OK;
    }
    return lo_buf_append(b, &c, 1);
}

int lo_buf_puts(lo_buf_t *b, const char *s)
{
    return lo_buf_append(b, s, strlen(s));
}

int lo_buf_printf(lo_buf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = LO_ERROR;
        return b->err;
    }
    if ((size_t)n < sizeof(small))
        return lo_buf_append(b, small, (size_t)n);
    int rc = lo_buf_reserve(b, (size_t)n);
    if (rc != LO_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LO_OK;
}

char *lo_buf_detach(lo_buf_t *b, size_t *len)
{
    if (b->p == NULL && lo_buf_reserve(b, 0) != LO_OK)
        return NULL;
    char *p = b->p;
    if (len != NULL)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
