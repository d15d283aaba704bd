/*
 * copy.h — PostgreSQL COPY text format, written straight into a lo_buf_t.
 *
 * A row is reserved once at its worst-case size (lo_copy_row_max), then its
 * fields are written through a raw cursor with no further checks: no
 * allocation and no bounds test per field.  Text is escaped (backslash, tab,
 * newline, carriage return); bytea is \\x + hex; NULL is \N; timestamps are
 * 'YYYY-MM-DD HH:MM:SS.ffffff+00' (UTC, microseconds, the resolution of
 * timestamptz).  Fields are separated by tabs, rows end with a newline.
 *
 * The row encoders (copy_logs.c, copy_spans.c, copy_metrics.c) write one
 * record in the column order of their LO_COPY_*_COLUMNS list.
 */
#ifndef LO_INGEST_COPY_H
#define LO_INGEST_COPY_H

#include "core/buf.h"
#include "otlp/otlp.h"

/* Per-writer state of the encoders: a random source for log ids and the
 * last formatted second (records of a batch mostly share seconds). */
typedef struct {
    uint64_t rng[2];
    int64_t id_ms;   /* milliseconds of the last id minted (lo_uuidv7_next) */
    uint16_t id_seq; /* its 12-bit sequence within that millisecond */
    int64_t last_sec;
    char last_date[20]; /* "YYYY-MM-DD HH:MM:SS" of last_sec */
} lo_copy_ctx_t;

/* Seeds the random source from the operating system. */
void lo_copy_ctx_init(lo_copy_ctx_t *c);

/* A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. */
void lo_uuidv7(lo_copy_ctx_t *c, int64_t unix_ms, uint8_t out[16]);
/* The next of this context's increasing UUIDv7s at now_ms (RFC 9562,
 * method 1: a 12-bit sequence within the millisecond, the millisecond
 * borrowed ahead when it runs out or the clock steps back): each id is
 * greater than the previous one as bytes and as text. */
void lo_uuidv7_next(lo_copy_ctx_t *c, int64_t now_ms, uint8_t out[16]);

/* Worst-case encoded sizes. */
#define LO_COPY_TS_MAX   32 /* 2026-11-28 07:41:49.554123+00 */
#define LO_COPY_UUID_MAX 36
#define LO_COPY_INT_MAX  21
#define LO_COPY_F64_MAX  32
static inline size_t lo_copy_text_max(size_t n)
{
    return 2 * n;
}
static inline size_t lo_copy_bytea_max(size_t n)
{
    return 3 + 2 * n;
}

/* Field writers: each writes at w and returns the end. */
char *lo_copy_text(char *w, const char *p, size_t n);
char *lo_copy_bytea(char *w, const uint8_t *p, size_t n);
char *lo_copy_uuid(char *w, const uint8_t u[16]);
char *lo_copy_ts(lo_copy_ctx_t *c, char *w, int64_t unix_ns);
char *lo_copy_i64(char *w, int64_t v);
char *lo_copy_u64(char *w, uint64_t v);
char *lo_copy_f64(char *w, double v);

/* Column-range adapters: OTLP's uint32 flags go into integer columns bit for
 * bit (values >= 2^31 read back negative), counts saturate, enums that do
 * not fit smallint saturate; anything else would fail the COPY. */
static inline char *lo_copy_u32_bits(char *w, uint32_t v)
{
    return lo_copy_i64(w, (int64_t)(int32_t)v);
}
static inline char *lo_copy_u32_sat(char *w, uint32_t v)
{
    return lo_copy_i64(w, v > INT32_MAX ? INT32_MAX : (int64_t)v);
}
static inline char *lo_copy_i16_sat(char *w, int64_t v)
{
    return lo_copy_i64(w, v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
}
/* end - start without overflow; negative (end before start) becomes 0 */
static inline int64_t lo_copy_duration(int64_t start_ns, int64_t end_ns)
{
    int64_t d;
    if (__builtin_sub_overflow(end_ns, start_ns, &d))
        return end_ns > start_ns ? INT64_MAX : 0;
    return d < 0 ? 0 : d;
}

static inline char *lo_copy_null(char *w)
{
    w[0] = '\\';
    w[1] = 'N';
    return w + 2;
}

/* Text, or \N when empty (optional text and JSON columns). */
static inline char *lo_copy_text_or_null(char *w, lo_str_t s)
{
    return s.len == 0 ? lo_copy_null(w) : lo_copy_text(w, s.p, s.len);
}

/* Row encoders.  LO_OK, or the buffer's error (LO_ERROR / LO_TOO_LARGE). */
/* Gives r its row id (an increasing UUIDv7 of the writer's clock:
 * lo_uuidv7_next) unless it has one: minted once,
 * before the first COPY, so a retried batch writes the same ids and a
 * post-commit consumer sees the id that was stored. */
void lo_log_mint_id(lo_copy_ctx_t *c, lo_log_rec_t *r, int64_t now_ms);
/* Appends r as one COPY text row; r->id must be minted. */
int lo_copy_log_row(lo_copy_ctx_t *c, lo_buf_t *b, const lo_log_rec_t *r) LO_MUST_USE;

int lo_copy_span_row(lo_copy_ctx_t *c, lo_buf_t *b, const lo_span_rec_t *r) LO_MUST_USE;

int lo_copy_sample_row(lo_copy_ctx_t *c, lo_buf_t *b, const lo_sample_rec_t *r,
                       int64_t series_id) LO_MUST_USE;

/* The envelope's optional ids: uuid or \N, bytea or \N. */
static inline char *lo_copy_opt_uuid(char *w, bool has, const uint8_t u[16])
{
    return has ? lo_copy_uuid(w, u) : lo_copy_null(w);
}
static inline char *lo_copy_opt_bytea(char *w, bool has, const uint8_t *p, size_t n)
{
    return has ? lo_copy_bytea(w, p, n) : lo_copy_null(w);
}

#endif
