/*
 * json_write.h — writes JSON text into a lo_buf_t, tracking commas and depth.
 * Every string written is made valid UTF-8 (invalid bytes become U+FFFD) and
 * NUL becomes U+FFFD too, because PostgreSQL's text and jsonb refuse both.
 * Integers beyond +-2^53 are written as strings so that JSON readers keep
 * them exact; NaN and infinities are written as strings.
 */
#ifndef LO_JSON_WRITE_H
#define LO_JSON_WRITE_H

#include "core/buf.h"

#define LO_JW_MAX_DEPTH 256

typedef struct {
    lo_buf_t *b;
    int depth;
    int err;                        /* first failure; sticky */
    uint8_t first[LO_JW_MAX_DEPTH]; /* 1 while the container has no member yet */
    uint8_t after_key;              /* the next value follows a key */
} lo_jw_t;

void lo_jw_init(lo_jw_t *w, lo_buf_t *b);
void lo_jw_obj_begin(lo_jw_t *w);
void lo_jw_obj_end(lo_jw_t *w);
void lo_jw_arr_begin(lo_jw_t *w);
void lo_jw_arr_end(lo_jw_t *w);
void lo_jw_key(lo_jw_t *w, const char *p, size_t n);
void lo_jw_str(lo_jw_t *w, const char *p, size_t n);
void lo_jw_cstr(lo_jw_t *w, const char *s);
void lo_jw_i64(lo_jw_t *w, int64_t v);
void lo_jw_u64(lo_jw_t *w, uint64_t v);
void lo_jw_f64(lo_jw_t *w, double v);
void lo_jw_bool(lo_jw_t *w, bool v);
void lo_jw_null(lo_jw_t *w);
/* Writes bytes as a base64 string. */
void lo_jw_base64(lo_jw_t *w, const uint8_t *p, size_t n);
/* Writes bytes as a lower-case hex string. */
void lo_jw_hex(lo_jw_t *w, const uint8_t *p, size_t n);
/* Writes already-valid JSON text as one value. */
void lo_jw_raw(lo_jw_t *w, const char *p, size_t n);
/* LO_OK, or the first failure (LO_ERROR, LO_TOO_LARGE, LO_INVALID on depth). */
int lo_jw_status(const lo_jw_t *w);

/* Appends p as the body of a JSON string (no quotes), escaped and made valid
 * UTF-8.  Shared with the COPY encoders, which need the same repair. */
int lo_json_escape_into(lo_buf_t *b, const char *p, size_t n);

#endif
