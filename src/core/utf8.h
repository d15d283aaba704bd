/*
 * utf8.h — UTF-8 validation.  Telemetry strings are untrusted: PostgreSQL
 * text and jsonb reject invalid UTF-8 and NUL, so every string is checked and
 * repaired (U+FFFD) before it reaches a row.
 */
#ifndef LO_UTF8_H
#define LO_UTF8_H

#include "core/lo.h"

/* Length of the longest valid UTF-8 prefix of p (NUL counts as invalid). */
size_t lo_utf8_valid_prefix(const char *p, size_t n);
/* True when all n bytes are valid UTF-8 without NUL. */
static inline bool lo_utf8_valid(const char *p, size_t n)
{
    return lo_utf8_valid_prefix(p, n) == n;
}
/* Length of the invalid sequence at p (>= 1), to be replaced by one U+FFFD. */
size_t lo_utf8_invalid_len(const char *p, size_t n);

#endif
