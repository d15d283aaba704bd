/* The Parquet reader: the footer through a read-at callback, then column
 * chunks read whole and decoded page by page into one slot per row.  Every
 * size read from the file is checked against the bytes it claims to
 * describe and against lo_pq_limits_t before it is used. */
#include "cold/pq_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cold/thrift.h"

int lo_pq_say(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- opening ---- */

typedef struct {
    const uint8_t *p;
    size_t n;
} mem_src_t;

static int mem_read_at(void *ud, uint64_t off, void *dst, size_t n)
{
    const mem_src_t *m = ud;
    if (off > m->n || n > m->n - off)
        return LO_INVALID;
    memcpy(dst, m->p + off, n);
    return LO_OK;
}

static void limits_fill(lo_pq_limits_t *l, const lo_pq_limits_t *given)
{
    if (given)
        *l = *given;
    else
        memset(l, 0, sizeof *l);
    if (l->max_footer_bytes == 0)
        l->max_footer_bytes = 64u << 20;
    if (l->max_chunk_bytes == 0)
        l->max_chunk_bytes = 512u << 20;
    if (l->max_page_bytes == 0)
        l->max_page_bytes = 256u << 20;
    if (l->max_rows == 0)
        l->max_rows = 8u << 20;
}

/* Whether [off, off + len) lies between the leading magic and the footer. */
static bool in_body(const lo_pq_file_t *f, int64_t off, int64_t len)
{
    uint64_t body_end = f->size - f->footer_len - 8;
    return off >= 4 && len >= 0 && (uint64_t)off <= body_end && (uint64_t)len <= body_end - (uint64_t)off;
}

int lo_pq_open(uint64_t size, lo_pq_read_at_fn read_at, void *ud, const lo_pq_limits_t *limits,
               lo_pq_file_t **out, char *err, size_t errlen)
{
    *out = NULL;
    uint8_t tail[8], head[4];
    if (size < 12)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: %llu bytes is too short for a file",
                         (unsigned long long)size);
    if (read_at(ud, size - 8, tail, 8) != LO_OK || read_at(ud, 0, head, 4) != LO_OK)
        return lo_pq_say(err, errlen, LO_ERROR, "parquet: reading the file failed");
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: encrypted files are not supported");
    if (memcmp(tail + 4, LO_PQ_MAGIC, 4) != 0 || memcmp(head, LO_PQ_MAGIC, 4) != 0)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: not a Parquet file (no PAR1 magic)");
    lo_pq_file_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return lo_pq_say(err, errlen, LO_ERROR, "parquet: out of memory");
    limits_fill(&f->limits, limits);
    f->size = size;
    f->read_at = read_at;
    f->ud = ud;
    uint32_t flen = lo_le32(tail);
    if (flen > size - 12 || flen > f->limits.max_footer_bytes) {
        lo_pq_close(f);
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: a footer of %u bytes does not fit",
                         (unsigned)flen);
    }
    f->footer_len = flen;
    f->footer = malloc(flen ? flen : 1);
    if (f->footer == NULL || read_at(ud, size - 8 - flen, f->footer, flen) != LO_OK) {
        int rc = f->footer ? LO_ERROR : LO_ERROR;
        lo_pq_close(f);
        return lo_pq_say(err, errlen, rc, "parquet: reading the footer failed");
    }
    const char *why = NULL;
    int rc = lo_pq_parse_footer(f, f->footer, flen, &why);
    if (rc != LO_OK) {
        lo_pq_close(f);
        if (rc == LO_ERROR)
            return lo_pq_say(err, errlen, rc, "parquet: out of memory");
        return lo_pq_say(err, errlen, rc, "%s", why ? why : "parquet: the footer is corrupt");
    }
    *out = f;
    return LO_OK;
}

int lo_pq_open_buffer(const void *p, size_t n, const lo_pq_limits_t *limits, lo_pq_file_t **out, char *err,
                      size_t errlen)
{
    mem_src_t *m = malloc(sizeof *m);
    if (m == NULL)
        return lo_pq_say(err, errlen, LO_ERROR, "parquet: out of memory");
    m->p = p;
    m->n = n;
    int rc = lo_pq_open(n, mem_read_at, m, limits, out, err, errlen);
    if (rc != LO_OK)
        free(m);
    else
        (*out)->owned_ud = m;
    return rc;
}

void lo_pq_close(lo_pq_file_t *f)
{
    if (f == NULL)
        return;
    lo_pq_scratch_free(f->scratch);
    for (size_t i = 0; i < f->n_row_groups; i++)
        free(f->row_groups[i].columns);
    free(f->row_groups);
    free(f->fields);
    free(f->footer);
    free(f->owned_ud);
    free(f);
}

/* Reads [off, off + len) of the file's body into a new buffer. */
int lo_pq_read_range(lo_pq_file_t *f, int64_t off, int64_t len, size_t limit, uint8_t **out, char *err,
                     size_t errlen)
{
    *out = NULL;
    if (!in_body(f, off, len))
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: a range (%lld, %lld bytes) outside the file",
                         (long long)off, (long long)len);
    if ((uint64_t)len > limit)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: a range of %lld bytes is past the limit",
                         (long long)len);
    *out = malloc(len ? (size_t)len : 1);
    if (*out == NULL)
        return lo_pq_say(err, errlen, LO_ERROR, "parquet: out of memory");
    if (f->read_at(f->ud, (uint64_t)off, *out, (size_t)len) != LO_OK) {
        free(*out);
        *out = NULL;
        return lo_pq_say(err, errlen, LO_ERROR, "parquet: reading the file failed");
    }
    return LO_OK;
}

/* The bytes [off, off + len) of a column chunk: a view when the file is in
 * memory (*owned NULL), else read into *owned. */
static int chunk_bytes(lo_pq_file_t *f, int64_t off, int64_t len, const uint8_t **out, uint8_t **owned,
                       char *err, size_t errlen)
{
    *owned = NULL;
    *out = NULL;
    if (f->read_at == mem_read_at) {
        if (!in_body(f, off, len))
            return lo_pq_say(err, errlen, LO_INVALID, "parquet: a range (%lld, %lld bytes) outside the file",
                             (long long)off, (long long)len);
        *out = ((const mem_src_t *)f->ud)->p + off;
        return LO_OK;
    }
    int rc = lo_pq_read_range(f, off, len, f->limits.max_chunk_bytes, owned, err, errlen);
    *out = *owned;
    return rc;
}

/* ---- values ---- */

/* Buffers that outlive one column's read (lo_pq_file_t.scratch): one
 * page's decoded values and levels, and the decompressed page of a column
 * of fixed-size values (byte values point into their pages, which they
 * keep). */
struct lo_pq_scratch {
    uint32_t *idx, *levels;
    int64_t *i64s;
    lo_str_t *strs;
    size_t cap; /* values idx, levels, i64s and strs hold */
    uint8_t *fixed;
    size_t fixed_cap; /* bytes */
    uint8_t *page;
    size_t page_cap;
};

lo_pq_scratch_t *lo_pq_take_scratch(lo_pq_file_t *f)
{
    lo_pq_scratch_t *sc = f->scratch;
    f->scratch = NULL;
    return sc;
}

void lo_pq_give_scratch(lo_pq_file_t *f, lo_pq_scratch_t *sc)
{
    lo_pq_scratch_free(f->scratch);
    f->scratch = sc;
}

void lo_pq_scratch_free(lo_pq_scratch_t *sc)
{
    if (sc == NULL)
        return;
    free(sc->idx);
    free(sc->levels);
    free(sc->i64s);
    free(sc->strs);
    free(sc->fixed);
    free(sc->page);
    free(sc);
}

/* The state of reading one column chunk. */
typedef struct {
    const lo_pq_file_t *f;
    const lo_pq_chunk_t *chunk;
    lo_pq_type_t type;
    size_t es;    /* bytes per value in the output (fixed-size types) */
    size_t width; /* bytes per PLAIN value; 0 for BYTE_ARRAY */
    bool bytes;   /* values are byte strings (BYTE_ARRAY, FIXED, INT96) */
    lo_pq_values_t *out;
    size_t rows;   /* rows of the pages read end here (row group row numbers) */
    size_t lo, hi; /* the rows wanted: out holds rows [lo, hi) */
    void **owned;  /* byte values: the buffers they point into (handed to out) */
    size_t n_owned, owned_cap, owned_bytes;
    /* the dictionary */
    bool has_dict;
    uint8_t *dict_buf;
    size_t dict_n;
    uint8_t *dict_fixed;
    lo_str_t *dict_str;
    /* one page's decoded values (views of the file's scratch) */
    struct lo_pq_scratch *sc;
    uint8_t *fixed;
    lo_str_t *strs;
    uint32_t *idx;
    int64_t *i64s;
    lo_buf_t rebuilt; /* DELTA_BYTE_ARRAY values */
    const char *why;
} rd_t;

static int bad(rd_t *r, const char *why)
{
    if (r->why == NULL)
        r->why = why;
    return LO_INVALID;
}

/* Keeps buffer p (n bytes) for the byte values that point into it; frees
 * it when it cannot. */
static int keep(rd_t *r, void *p, size_t n)
{
    if (n > r->f->limits.max_chunk_bytes - r->owned_bytes) {
        free(p);
        return bad(r, "parquet: the column's values are past the limit");
    }
    if (r->n_owned == r->owned_cap) {
        size_t cap = r->owned_cap ? 2 * r->owned_cap : 8;
        void **o = realloc(r->owned, cap * sizeof *o);
        if (o == NULL) {
            free(p);
            return LO_ERROR;
        }
        r->owned = o;
        r->owned_cap = cap;
    }
    r->owned[r->n_owned++] = p;
    r->owned_bytes += n;
    return LO_OK;
}

/* PLAIN values: k of them from [p, p + len) into fixed (k * es) or strs. */
static int plain_decode(rd_t *r, const uint8_t *p, size_t len, size_t k, uint8_t *fixed, lo_str_t *strs)
{
    if (r->type == LO_PQ_BOOLEAN) {
        if ((k + 7) / 8 > len)
            return bad(r, "parquet: PLAIN booleans truncated");
        for (size_t i = 0; i < k; i++)
            fixed[i] = (p[i / 8] >> (i % 8)) & 1;
        return LO_OK;
    }
    if (r->type == LO_PQ_BYTE_ARRAY) {
        const uint8_t *end = p + len;
        for (size_t i = 0; i < k; i++) {
            if (end - p < 4)
                return bad(r, "parquet: PLAIN byte array truncated");
            uint32_t n = lo_le32(p);
            p += 4;
            if (n > (size_t)(end - p))
                return bad(r, "parquet: PLAIN byte array longer than its page");
            strs[i] = lo_str((const char *)p, n);
            p += n;
        }
        return LO_OK;
    }
    if (k > len / r->width)
        return bad(r, "parquet: PLAIN values truncated");
    if (r->bytes) {
        for (size_t i = 0; i < k; i++)
            strs[i] = lo_str((const char *)p + i * r->width, r->width);
        return LO_OK;
    }
    for (size_t i = 0; i < k; i++) {
        const uint8_t *q = p + i * r->width;
        if (r->width == 4) {
            uint32_t u = lo_le32(q);
            memcpy(fixed + i * 4, &u, 4);
        } else {
            uint64_t u = lo_le64(q);
            memcpy(fixed + i * 8, &u, 8);
        }
    }
    return LO_OK;
}

static int dict_page(rd_t *r, uint8_t *body, size_t len, int32_t n, int enc)
{
    if (r->has_dict)
        return bad(r, "parquet: a second dictionary page");
    if (enc != LO_PQ_ENC_PLAIN && enc != LO_PQ_ENC_PLAIN_DICTIONARY)
        return bad(r, "parquet: a dictionary page not PLAIN");
    size_t min_bytes = r->type == LO_PQ_BYTE_ARRAY ? 4 : r->type == LO_PQ_BOOLEAN ? 1 : r->width;
    if (n < 0 || (r->type == LO_PQ_BOOLEAN ? (size_t)n / 8 : (size_t)n) > len / min_bytes)
        return bad(r, "parquet: a dictionary larger than its page");
    r->has_dict = true;
    r->dict_buf = body;
    r->dict_n = (size_t)n;
    if (r->bytes)
        r->dict_str = calloc(r->dict_n ? r->dict_n : 1, sizeof *r->dict_str);
    else
        r->dict_fixed = calloc(r->dict_n ? r->dict_n : 1, r->es);
    if (r->dict_str == NULL && r->dict_fixed == NULL)
        return LO_ERROR;
    return plain_decode(r, body, len, r->dict_n, r->dict_fixed, r->dict_str);
}

static int delta_values(rd_t *r, const uint8_t *p, size_t len, size_t k, size_t *used)
{
    if (lo_pq_delta_decode(p, len, r->i64s, k, used) != LO_OK)
        return bad(r, "parquet: corrupt DELTA_BINARY_PACKED values");
    return LO_OK;
}

/* DELTA_LENGTH_BYTE_ARRAY: k lengths, then the bytes back to back. */
static int dlba_values(rd_t *r, const uint8_t *p, size_t len, size_t k, lo_str_t *strs, size_t *used)
{
    size_t hdr;
    if (delta_values(r, p, len, k, &hdr) != LO_OK)
        return LO_INVALID;
    size_t at = hdr;
    for (size_t i = 0; i < k; i++) {
        int64_t n = r->i64s[i];
        if (n < 0 || (uint64_t)n > len - at)
            return bad(r, "parquet: DELTA_LENGTH_BYTE_ARRAY lengths past the page");
        strs[i] = lo_str((const char *)p + at, (size_t)n);
        at += (size_t)n;
    }
    *used = at;
    return LO_OK;
}

/* DELTA_BYTE_ARRAY: prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY;
 * each value is the previous value's prefix and its suffix. */
static int dba_values(rd_t *r, const uint8_t *p, size_t len, size_t k, lo_str_t *strs)
{
    size_t used;
    if (delta_values(r, p, len, k, &used) != LO_OK)
        return LO_INVALID;
    int64_t *prefix = malloc((k ? k : 1) * sizeof *prefix);
    if (prefix == NULL)
        return LO_ERROR;
    memcpy(prefix, r->i64s, k * sizeof *prefix);
    size_t used2;
    int rc = dlba_values(r, p + used, len - used, k, strs, &used2);
    lo_buf_reset(&r->rebuilt);
    /* the values' total length first: one allocation, not one per doubling */
    size_t total = 0, prev_len = 0;
    for (size_t i = 0; rc == LO_OK && i < k; i++) {
        if (prefix[i] < 0 || (uint64_t)prefix[i] > prev_len) {
            rc = bad(r, "parquet: DELTA_BYTE_ARRAY prefix longer than the value before");
            break;
        }
        prev_len = (size_t)prefix[i] + strs[i].len;
        total += prev_len;
        if (total > r->rebuilt.limit)
            rc = bad(r, "parquet: DELTA_BYTE_ARRAY values past the limit");
    }
    if (rc == LO_OK && lo_buf_reserve(&r->rebuilt, total) != LO_OK)
        rc = r->rebuilt.err == LO_TOO_LARGE ? bad(r, "parquet: DELTA_BYTE_ARRAY values past the limit")
                                            : LO_ERROR;
    size_t *at = malloc((k ? k : 1) * sizeof *at);
    size_t prev_at = 0;
    prev_len = 0;
    for (size_t i = 0; rc == LO_OK && i < k; i++) {
        if (at == NULL) {
            rc = LO_ERROR;
            break;
        }
        if (prefix[i] < 0 || (uint64_t)prefix[i] > prev_len) {
            rc = bad(r, "parquet: DELTA_BYTE_ARRAY prefix longer than the value before");
            break;
        }
        at[i] = r->rebuilt.len;
        lo_buf_reserve(&r->rebuilt, (size_t)prefix[i] + strs[i].len);
        if (r->rebuilt.err != LO_OK) {
            rc = bad(r, "parquet: DELTA_BYTE_ARRAY values past the limit");
            break;
        }
        memmove(r->rebuilt.p + r->rebuilt.len, r->rebuilt.p + prev_at, (size_t)prefix[i]);
        r->rebuilt.len += (size_t)prefix[i];
        lo_buf_append(&r->rebuilt, strs[i].p, strs[i].len);
        prev_at = at[i];
        prev_len = (size_t)prefix[i] + strs[i].len;
        strs[i].len = prev_len;
    }
    if (rc == LO_OK && k > 0) {
        /* the values outlive the page: their buffer goes with them */
        size_t n = r->rebuilt.len;
        char *base = lo_buf_detach(&r->rebuilt, NULL);
        rc = base == NULL ? LO_ERROR : keep(r, base, n);
        for (size_t i = 0; rc == LO_OK && i < k; i++)
            strs[i].p = base + at[i];
    }
    free(at);
    free(prefix);
    return rc;
}

/* k values of a data page, in encoding enc, into r->fixed or r->strs. */
static int page_values(rd_t *r, int enc, const uint8_t *p, size_t len, size_t k)
{
    size_t used;
    switch (enc) {
    case LO_PQ_ENC_PLAIN: return plain_decode(r, p, len, k, r->fixed, r->strs);
    case LO_PQ_ENC_PLAIN_DICTIONARY:
    case LO_PQ_ENC_RLE_DICTIONARY: {
        if (!r->has_dict)
            return bad(r, "parquet: dictionary indexes without a dictionary");
        if (k == 0)
            return LO_OK;
        if (len < 1 || p[0] > 32)
            return bad(r, "parquet: bad dictionary index width");
        if (lo_pq_rle_decode(p + 1, len - 1, p[0], r->idx, k) != LO_OK)
            return bad(r, "parquet: corrupt dictionary indexes");
        for (size_t i = 0; i < k; i++) {
            if (r->idx[i] >= r->dict_n)
                return bad(r, "parquet: a dictionary index out of range");
            if (r->bytes)
                r->strs[i] = r->dict_str[r->idx[i]];
            else
                memcpy(r->fixed + i * r->es, r->dict_fixed + r->idx[i] * r->es, r->es);
        }
        return LO_OK;
    }
    case LO_PQ_ENC_RLE: {
        if (r->type != LO_PQ_BOOLEAN)
            return bad(r, "parquet: RLE values of a type other than BOOLEAN");
        if (len < 4 || lo_le32(p) > len - 4)
            return bad(r, "parquet: RLE booleans truncated");
        if (lo_pq_rle_decode(p + 4, lo_le32(p), 1, r->idx, k) != LO_OK)
            return bad(r, "parquet: corrupt RLE booleans");
        for (size_t i = 0; i < k; i++)
            r->fixed[i] = (uint8_t)r->idx[i];
        return LO_OK;
    }
    case LO_PQ_ENC_DELTA_BINARY_PACKED:
        if (r->type != LO_PQ_INT32 && r->type != LO_PQ_INT64)
            return bad(r, "parquet: DELTA_BINARY_PACKED for a type other than INT32/INT64");
        if (delta_values(r, p, len, k, &used) != LO_OK)
            return LO_INVALID;
        for (size_t i = 0; i < k; i++) {
            if (r->type == LO_PQ_INT32) {
                int32_t v = (int32_t)(uint32_t)r->i64s[i];
                memcpy(r->fixed + i * 4, &v, 4);
            } else {
                memcpy(r->fixed + i * 8, &r->i64s[i], 8);
            }
        }
        return LO_OK;
    case LO_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (r->type != LO_PQ_BYTE_ARRAY)
            return bad(r, "parquet: DELTA_LENGTH_BYTE_ARRAY for a type other than BYTE_ARRAY");
        return dlba_values(r, p, len, k, r->strs, &used);
    case LO_PQ_ENC_DELTA_BYTE_ARRAY:
        if (r->type != LO_PQ_BYTE_ARRAY && r->type != LO_PQ_FIXED)
            return bad(r, "parquet: DELTA_BYTE_ARRAY for a type other than byte arrays");
        if (dba_values(r, p, len, k, r->strs) != LO_OK)
            return LO_INVALID;
        for (size_t i = 0; r->type == LO_PQ_FIXED && i < k; i++)
            if (r->strs[i].len != r->width)
                return bad(r, "parquet: DELTA_BYTE_ARRAY value of another length than the column's");
        return LO_OK;
    case LO_PQ_ENC_BYTE_STREAM_SPLIT: {
        if (r->width == 0 || r->type == LO_PQ_BOOLEAN || r->type == LO_PQ_INT96)
            return bad(r, "parquet: BYTE_STREAM_SPLIT for a type without a fixed width");
        if (k > len / r->width)
            return bad(r, "parquet: BYTE_STREAM_SPLIT values truncated");
        /* gather each value's bytes from the width streams, into rebuilt */
        lo_buf_reset(&r->rebuilt);
        if (lo_buf_reserve(&r->rebuilt, k * r->width) != LO_OK)
            return LO_ERROR;
        uint8_t *dst = (uint8_t *)r->rebuilt.p;
        for (size_t i = 0; i < k; i++)
            for (size_t b = 0; b < r->width; b++)
                dst[i * r->width + b] = p[b * k + i];
        r->rebuilt.len = k * r->width;
        return plain_decode(r, dst, k * r->width, k, r->fixed, r->strs);
    }
    default: return bad(r, "parquet: an encoding this reader does not know");
    }
}

/* Places the decoded values of the page whose first row is row (nv rows;
 * defs, when the column is optional, says which are null) at their places
 * in out: only rows in [lo, hi) are kept. */
static int scatter(rd_t *r, size_t row, size_t nv, const uint32_t *defs)
{
    size_t a = row > r->lo ? row : r->lo, b = row + nv < r->hi ? row + nv : r->hi;
    if (a >= b)
        return LO_OK;
    size_t j = a - row; /* the value of row a, without nulls before it */
    if (defs) {
        j = 0;
        for (size_t i = 0; i < a - row; i++)
            j += defs[i] != 0;
    }
    for (size_t at = a - r->lo, i = a - row; i < b - row; i++, at++) {
        if (defs && defs[i] == 0) {
            r->out->nulls[at] = 1;
            r->out->n_nulls++;
            continue;
        }
        if (!defs && !r->bytes) { /* the rest in one copy */
            memcpy((uint8_t *)r->out->v.any + at * r->es, r->fixed + j * r->es, (b - row - i) * r->es);
            break;
        }
        if (r->bytes)
            r->out->v.s[at] = r->strs[j];
        else
            memcpy((uint8_t *)r->out->v.any + at * r->es, r->fixed + j * r->es, r->es);
        j++;
    }
    return LO_OK;
}

/* ---- pages ---- */

typedef struct {
    int32_t type, usize, csize;
    int32_t nv, enc, def_enc;
    int32_t nulls, def_len, rep_len;
    bool compressed;
    bool has_data, has_dict, has_v2;
} page_hdr_t;

static int parse_sub(lo_thrift_r_t *t, int type, page_hdr_t *h, int which)
{
    int16_t last = 0, id;
    int ft, rc;
    int32_t v;
    if (lo_thrift_r_enter(t, type) != LO_OK)
        return LO_INVALID;
    while ((rc = lo_thrift_r_field(t, &last, &id, &ft)) == LO_OK) {
        bool b;
        if (which == 8 && id == 7) {
            if (lo_thrift_r_bool(t, ft, &b, false) != LO_OK)
                return LO_INVALID;
            h->compressed = b;
            continue;
        }
        bool want = (which == 5 && id >= 1 && id <= 3) || (which == 7 && id <= 2) || (which == 8 && id <= 6);
        if (!want) {
            if (lo_thrift_r_skip(t, ft) != LO_OK)
                return LO_INVALID;
            continue;
        }
        if (lo_thrift_r_i32(t, ft, &v) != LO_OK)
            return LO_INVALID;
        if (which == 5)
            *(id == 1 ? &h->nv : id == 2 ? &h->enc : &h->def_enc) = v;
        else if (which == 7)
            *(id == 1 ? &h->nv : &h->enc) = v;
        else if (id == 1 || id == 2 || id == 4 || id == 5 || id == 6)
            *(id == 1   ? &h->nv
              : id == 2 ? &h->nulls
              : id == 4 ? &h->enc
              : id == 5 ? &h->def_len
                        : &h->rep_len) = v;
    }
    if (rc != LO_ABSENT)
        return LO_INVALID;
    lo_thrift_r_leave(t);
    return LO_OK;
}

static int parse_page_header(const uint8_t *p, size_t len, page_hdr_t *h, size_t *hlen)
{
    lo_thrift_r_t t;
    int16_t last = 0, id;
    int ft, rc;
    memset(h, 0, sizeof *h);
    h->type = h->usize = h->csize = -1;
    h->compressed = true;
    h->def_enc = LO_PQ_ENC_RLE;
    lo_thrift_r_init(&t, p, len, 8);
    if (lo_thrift_r_enter(&t, LO_THRIFT_STRUCT) != LO_OK)
        return LO_INVALID;
    while ((rc = lo_thrift_r_field(&t, &last, &id, &ft)) == LO_OK) {
        int r2 = LO_OK;
        switch (id) {
        case 1: r2 = lo_thrift_r_i32(&t, ft, &h->type); break;
        case 2: r2 = lo_thrift_r_i32(&t, ft, &h->usize); break;
        case 3: r2 = lo_thrift_r_i32(&t, ft, &h->csize); break;
        case 5:
            r2 = parse_sub(&t, ft, h, 5);
            h->has_data = true;
            break;
        case 7:
            r2 = parse_sub(&t, ft, h, 7);
            h->has_dict = true;
            break;
        case 8:
            r2 = parse_sub(&t, ft, h, 8);
            h->has_v2 = true;
            break;
        default: r2 = lo_thrift_r_skip(&t, ft);
        }
        if (r2 != LO_OK)
            return LO_INVALID;
    }
    if (rc != LO_ABSENT || h->usize < 0 || h->csize < 0 || h->type < 0)
        return LO_INVALID;
    *hlen = lo_thrift_r_pos(&t, p);
    return LO_OK;
}

/* Scratch for k values of one page (grown, never shrunk). */
static int grow_scratch(rd_t *r, size_t k)
{
    struct lo_pq_scratch *sc = r->sc;
    size_t n = k ? k : 1, fb = n * (r->es ? r->es : 1);
    if (n > sc->cap) {
        uint32_t *idx = realloc(sc->idx, n * sizeof *idx);
        if (idx)
            sc->idx = idx;
        uint32_t *levels = realloc(sc->levels, n * sizeof *levels);
        if (levels)
            sc->levels = levels;
        int64_t *i64s = realloc(sc->i64s, n * sizeof *i64s);
        if (i64s)
            sc->i64s = i64s;
        lo_str_t *strs = realloc(sc->strs, n * sizeof *strs);
        if (strs)
            sc->strs = strs;
        if (!idx || !levels || !i64s || !strs)
            return LO_ERROR;
        sc->cap = n;
    }
    if (fb > sc->fixed_cap) {
        uint8_t *fixed = realloc(sc->fixed, fb);
        if (!fixed)
            return LO_ERROR;
        sc->fixed = fixed;
        sc->fixed_cap = fb;
    }
    r->idx = sc->idx;
    r->i64s = sc->i64s;
    r->strs = sc->strs;
    r->fixed = sc->fixed;
    return LO_OK;
}

/* A buffer for a decompressed page of n bytes: the scratch page when the
 * values are copied out of it (fixed-size values), else a new one the
 * values keep.  Free with page_done. */
static uint8_t *page_buf(rd_t *r, size_t n, bool kept)
{
    n = n ? n : 1;
    if (kept)
        return malloc(n);
    struct lo_pq_scratch *sc = r->sc;
    if (n > sc->page_cap) {
        uint8_t *p = realloc(sc->page, n);
        if (!p)
            return NULL;
        sc->page = p;
        sc->page_cap = n;
    }
    return sc->page;
}

static void page_done(rd_t *r, uint8_t *p)
{
    if (p != r->sc->page)
        free(p);
}

/* One data page (v1 or v2), its body already decompressed where needed. */
static int data_page(rd_t *r, const page_hdr_t *h, const uint8_t *levels, size_t levels_len,
                     const uint8_t *vals, size_t vals_len, size_t row)
{
    size_t nv = (size_t)h->nv;
    const uint32_t *defs = NULL;
    if (grow_scratch(r, nv) != LO_OK)
        return LO_ERROR;
    if (r->out->nulls) {
        if (levels == NULL) { /* v1: a 4-byte length, then the hybrid */
            if (h->def_enc != LO_PQ_ENC_RLE)
                return bad(r, "parquet: definition levels not RLE");
            if (vals_len < 4 || lo_le32(vals) > vals_len - 4)
                return bad(r, "parquet: definition levels truncated");
            levels_len = lo_le32(vals);
            levels = vals + 4;
            vals += 4 + levels_len;
            vals_len -= 4 + levels_len;
        }
        if (lo_pq_rle_decode(levels, levels_len, 1, r->idx, nv) != LO_OK)
            return bad(r, "parquet: corrupt definition levels");
        /* the values are decoded into idx's neighbours: keep the levels apart */
        defs = r->idx;
    }
    size_t k = nv;
    if (defs) {
        k = 0;
        for (size_t i = 0; i < nv; i++)
            k += defs[i] != 0;
    }
    if (defs) {
        memcpy(r->sc->levels, defs, nv * sizeof *defs);
        defs = r->sc->levels;
    }
    int rc = page_values(r, h->enc, vals, vals_len, k);
    if (rc == LO_OK)
        rc = scatter(r, row, nv, defs);
    return rc;
}

/* Reads the pages in buf (len bytes), the first of which starts at row:
 * until r->rows, or, with dict_only, the dictionary page that is all buf
 * holds. */
static int read_pages(rd_t *r, const uint8_t *buf, size_t len, size_t row, bool dict_only)
{
    size_t pos = 0;
    const lo_pq_limits_t *lim = &r->f->limits;
    int codec = r->chunk->codec;
    while (dict_only ? pos < len : row < r->rows) {
        page_hdr_t h;
        size_t hlen;
        if (pos >= len)
            return bad(r, "parquet: the column chunk ends before its rows");
        if (parse_page_header(buf + pos, len - pos, &h, &hlen) != LO_OK)
            return bad(r, "parquet: corrupt page header");
        pos += hlen;
        if ((size_t)h.csize > len - pos)
            return bad(r, "parquet: a page longer than its column chunk");
        if ((size_t)h.usize > lim->max_page_bytes)
            return bad(r, "parquet: a page past the size limit");
        const uint8_t *body = buf + pos;
        pos += (size_t)h.csize;
        if (h.type == LO_PQ_PAGE_DICTIONARY || h.type == LO_PQ_PAGE_DATA) {
            if ((h.type == LO_PQ_PAGE_DICTIONARY && !h.has_dict) ||
                (h.type == LO_PQ_PAGE_DATA && !h.has_data) || (dict_only && h.type != LO_PQ_PAGE_DICTIONARY))
                return bad(r, "parquet: a page header without its page's details");
            bool dict = h.type == LO_PQ_PAGE_DICTIONARY;
            uint8_t *plain = page_buf(r, (size_t)h.usize, dict || r->bytes);
            if (plain == NULL)
                return LO_ERROR;
            if (lo_pq_decompress(codec, body, (size_t)h.csize, plain, (size_t)h.usize) != LO_OK) {
                page_done(r, plain);
                return bad(r, "parquet: a page does not decompress to its size");
            }
            int rc;
            if (dict) {
                rc = h.nv < 0 ? bad(r, "parquet: a negative dictionary size")
                              : dict_page(r, plain, (size_t)h.usize, h.nv, h.enc);
                if (r->dict_buf != plain)
                    free(plain);
            } else {
                rc = h.nv < 0 || (size_t)h.nv > r->rows - row
                         ? bad(r, "parquet: a page with more values than its row group's rows")
                         : data_page(r, &h, NULL, 0, plain, (size_t)h.usize, row);
                if (rc == LO_OK && r->bytes)
                    rc = keep(r, plain, (size_t)h.usize); /* the values point into it */
                else
                    page_done(r, plain);
                if (rc == LO_OK)
                    row += (size_t)h.nv;
            }
            if (rc != LO_OK)
                return rc;
        } else if (h.type == LO_PQ_PAGE_DATA_V2) {
            if (dict_only)
                return bad(r, "parquet: a data page where the dictionary was");
            if (!h.has_v2 || h.nv < 0 || (size_t)h.nv > r->rows - row)
                return bad(r, "parquet: a v2 page with more values than its row group's rows");
            if (h.def_len < 0 || h.rep_len < 0 || (size_t)h.def_len + (size_t)h.rep_len > (size_t)h.csize ||
                (size_t)h.def_len + (size_t)h.rep_len > (size_t)h.usize)
                return bad(r, "parquet: v2 page levels longer than the page");
            size_t lv = (size_t)h.def_len + (size_t)h.rep_len;
            size_t ulen = (size_t)h.usize - lv, clen = (size_t)h.csize - lv;
            uint8_t *plain = page_buf(r, ulen, r->bytes);
            if (plain == NULL)
                return LO_ERROR;
            int rc =
                lo_pq_decompress(h.compressed ? codec : LO_PQ_UNCOMPRESSED, body + lv, clen, plain, ulen);
            if (rc != LO_OK) {
                page_done(r, plain);
                return bad(r, "parquet: a page does not decompress to its size");
            }
            rc = data_page(r, &h, body + h.rep_len, (size_t)h.def_len, plain, ulen, row);
            if (rc == LO_OK && r->bytes)
                rc = keep(r, plain, ulen);
            else
                page_done(r, plain);
            if (rc != LO_OK)
                return rc;
            row += (size_t)h.nv;
        }
        /* other page types (index pages) are skipped */
    }
    return LO_OK;
}

static size_t value_size(lo_pq_type_t t)
{
    switch (t) {
    case LO_PQ_BOOLEAN: return 1;
    case LO_PQ_INT32:
    case LO_PQ_FLOAT: return 4;
    case LO_PQ_INT64:
    case LO_PQ_DOUBLE: return 8;
    default: return 0;
    }
}

/* Where the pages holding rows [from, to) of chunk c are, by its offset
 * index: *dict_len bytes of dictionary from *start, then the data pages
 * [*data, *data + *data_len), the first starting at row *first_row, the
 * last ending at *end_row.  LO_ABSENT when there is no offset index to
 * use (or it does not fit the chunk): read the whole chunk. */
static int locate_pages(lo_pq_file_t *f, size_t rg, size_t col, int64_t start, size_t from, size_t to,
                        int64_t *dict_len, int64_t *data, int64_t *data_len, size_t *first_row,
                        size_t *end_row, char *err, size_t errlen)
{
    const lo_pq_row_group_t *g = &f->row_groups[rg];
    const lo_pq_chunk_t *c = &g->columns[col];
    lo_pq_page_index_t pi;
    int rc = lo_pq_read_page_index(f, rg, col, &pi, err, errlen);
    if (rc != LO_OK)
        return rc == LO_INVALID ? LO_ABSENT : rc; /* a corrupt index only loses the shortcut */
    int64_t end = start + c->total_compressed_size;
    bool ok = pi.n_pages > 0 && pi.pages[0].first_row == 0 && pi.pages[0].offset >= start;
    size_t p0 = 0, p1 = 0;
    for (size_t i = 0; ok && i < pi.n_pages; i++) {
        const lo_pq_page_loc_t *pl = &pi.pages[i];
        int64_t next = i + 1 < pi.n_pages ? pi.pages[i + 1].first_row : g->num_rows;
        ok = pl->compressed_size > 0 && pl->offset <= end - pl->compressed_size && next > pl->first_row &&
             next <= g->num_rows &&
             (i + 1 == pi.n_pages || pi.pages[i + 1].offset >= pl->offset + pl->compressed_size);
        if ((size_t)pl->first_row <= from)
            p0 = i;
        if ((size_t)pl->first_row < to)
            p1 = i;
    }
    if (ok) {
        *dict_len = pi.pages[0].offset - start;
        *data = pi.pages[p0].offset;
        *data_len = pi.pages[p1].offset + pi.pages[p1].compressed_size - *data;
        *first_row = (size_t)pi.pages[p0].first_row;
        *end_row = p1 + 1 < pi.n_pages ? (size_t)pi.pages[p1 + 1].first_row : (size_t)g->num_rows;
    }
    lo_pq_page_index_free(&pi);
    return ok ? LO_OK : LO_ABSENT;
}

int lo_pq_read_column(lo_pq_file_t *f, size_t rg, size_t col, lo_pq_values_t *out, char *err, size_t errlen)
{
    if (rg >= f->n_row_groups)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: no row group %zu or column %zu", rg, col);
    return lo_pq_read_rows(f, rg, col, 0, (size_t)f->row_groups[rg].num_rows, out, err, errlen);
}

int lo_pq_read_rows(lo_pq_file_t *f, size_t rg, size_t col, size_t from, size_t to, lo_pq_values_t *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (rg >= f->n_row_groups || col >= f->n_fields)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: no row group %zu or column %zu", rg, col);
    const lo_pq_row_group_t *g = &f->row_groups[rg];
    const lo_pq_chunk_t *c = &g->columns[col];
    const lo_pq_field_t *fd = &f->fields[col];
    if (c->type != fd->type)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: column %zu: the chunk's type is not the schema's",
                         col);
    if (g->num_rows < 0 || (uint64_t)g->num_rows > f->limits.max_rows)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: row group %zu: %lld rows is past the limit", rg,
                         (long long)g->num_rows);
    size_t rows = (size_t)g->num_rows;
    if (from > to || to > rows)
        return lo_pq_say(err, errlen, LO_INVALID, "parquet: rows %zu to %zu are not in row group %zu", from,
                         to, rg);
    int64_t start = c->data_page_offset;
    if (c->dictionary_page_offset >= 4 && c->dictionary_page_offset < start)
        start = c->dictionary_page_offset;
    /* the whole chunk, or its dictionary and the data pages that hold the rows */
    int64_t dict_len = 0, data = start, data_len = c->total_compressed_size;
    size_t first_row = 0, end_row = rows;
    if (from > 0 || to < rows) {
        int lrc = locate_pages(f, rg, col, start, from, to, &dict_len, &data, &data_len, &first_row, &end_row,
                               err, errlen);
        if (lrc != LO_OK && lrc != LO_ABSENT)
            return lrc;
    }
    const uint8_t *buf = NULL, *dict = NULL;
    uint8_t *owned_buf = NULL, *owned_dict = NULL;
    int rc = chunk_bytes(f, data, data_len, &buf, &owned_buf, err, errlen);
    if (rc == LO_OK && dict_len > 0)
        rc = chunk_bytes(f, start, dict_len, &dict, &owned_dict, err, errlen);
    if (rc != LO_OK) {
        free(owned_buf);
        return rc;
    }

    rd_t r;
    memset(&r, 0, sizeof r);
    r.f = f;
    r.chunk = c;
    r.type = fd->type;
    r.es = value_size(fd->type);
    r.width = fd->type == LO_PQ_FIXED || fd->type == LO_PQ_INT96 ? (size_t)fd->type_length : r.es;
    r.bytes = r.es == 0;
    r.rows = end_row;
    r.lo = from;
    r.hi = to;
    r.out = out;
    if (f->scratch == NULL && (f->scratch = calloc(1, sizeof *f->scratch)) == NULL) {
        free(owned_buf);
        free(owned_dict);
        return lo_pq_say(err, errlen, LO_ERROR, "parquet: out of memory");
    }
    r.sc = f->scratch;
    lo_buf_init(&r.rebuilt, f->limits.max_page_bytes);
    out->type = fd->type;
    out->n = to - from;
    size_t n = out->n ? out->n : 1;
    rc = LO_OK;
    if (fd->optional && (out->nulls = calloc(n, 1)) == NULL)
        rc = LO_ERROR;
    if (r.bytes) {
        if ((out->v.s = calloc(n, sizeof *out->v.s)) == NULL)
            rc = LO_ERROR;
    } else if ((out->v.any = calloc(n, r.es)) == NULL) {
        rc = LO_ERROR;
    }
    if (rc == LO_OK && c->codec != LO_PQ_UNCOMPRESSED && c->codec != LO_PQ_SNAPPY && c->codec != LO_PQ_GZIP &&
        c->codec != LO_PQ_ZSTD)
        rc = bad(&r, "parquet: a codec this reader does not know");
    if (rc == LO_OK && dict_len > 0)
        rc = read_pages(&r, dict, (size_t)dict_len, 0, true);
    if (rc == LO_OK)
        rc = read_pages(&r, buf, (size_t)data_len, first_row, false);
    /* byte values may point into the dictionary */
    if (r.bytes && r.dict_buf != NULL) {
        int krc = keep(&r, r.dict_buf, 0);
        r.dict_buf = NULL;
        if (rc == LO_OK)
            rc = krc;
    }
    out->owned = r.owned;
    out->n_owned = r.n_owned;
    free(owned_buf);
    free(owned_dict);
    free(r.dict_buf);
    free(r.dict_fixed);
    free(r.dict_str);
    lo_buf_free(&r.rebuilt);
    if (rc != LO_OK) {
        lo_pq_values_free(out);
        if (rc == LO_ERROR)
            return lo_pq_say(err, errlen, rc, "parquet: out of memory");
        return lo_pq_say(err, errlen, rc, "%s (row group %zu, column %zu)",
                         r.why ? r.why : "parquet: corrupt column", rg, col);
    }
    return LO_OK;
}

void lo_pq_values_free(lo_pq_values_t *v)
{
    if (v == NULL)
        return;
    free(v->nulls);
    free(v->v.any);
    for (size_t i = 0; i < v->n_owned; i++)
        free(v->owned[i]);
    free(v->owned);
    memset(v, 0, sizeof *v);
}
