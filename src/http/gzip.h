/*
 * gzip.h — bounded gzip decompression for request bodies, and compression
 * of API answers for clients that accept it.
 *
 * A request body that says Content-Encoding: gzip is inflated into a buffer
 * that never grows past max_out bytes: a decompression bomb (a small body
 * that inflates to gigabytes) fails with LO_TOO_LARGE after at most max_out
 * bytes were allocated, never more.  Concatenated gzip members (RFC 1952
 * allows them) are inflated one after the other.
 */
#ifndef LO_HTTP_GZIP_H
#define LO_HTTP_GZIP_H

#include "core/lo.h"

/* Inflates the gzip stream in[0..n) into a new malloc'd buffer *out of
 * *out_len bytes (NUL-terminated for the JSON decoder's convenience; the
 * NUL is not counted).  Returns LO_OK, LO_INVALID (not gzip, corrupt,
 * truncated, or trailing garbage), LO_TOO_LARGE (would exceed max_out) or
 * LO_ERROR (out of memory).  On failure *out is NULL. */
int lo_gunzip(const uint8_t *in, size_t n, size_t max_out, uint8_t **out, size_t *out_len) LO_MUST_USE;

/* Compresses in[0..n) as one gzip member at zlib level (1 fastest .. 9)
 * into a new malloc'd buffer.  LO_OK, LO_TOO_LARGE (over 1 GiB) or
 * LO_ERROR. */
int lo_gzip(const uint8_t *in, size_t n, int level, uint8_t **out, size_t *out_len) LO_MUST_USE;
/* Whether an Accept-Encoding value (may be NULL) accepts gzip: "gzip" or
 * "*" without q=0. */
bool lo_accepts_gzip(const char *accept_encoding);

#endif
