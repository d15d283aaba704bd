/* The reader's side of the footer: FileMetaData (parquet.thrift) parsed
 * from the Thrift compact bytes into lo_pq_file_t, keeping what a flat
 * schema needs and skipping the rest.  Every count is bounded by the
 * footer's bytes before anything is allocated. */
#include <stdio.h>
#include <stdlib.h>

#include "cold/pq_read.h"
#include "cold/thrift.h"

#define FIELD_LOOP(r, last, id, type, rc) \
    while (((rc) = lo_thrift_r_field((r), &(last), &(id), &(type))) == LO_OK)

static int end_struct(lo_thrift_r_t *r, int rc)
{
    if (rc != LO_ABSENT)
        return LO_INVALID;
    lo_thrift_r_leave(r);
    return LO_OK;
}

static int parse_stats(lo_thrift_r_t *r, int type, lo_pq_stats_t *s)
{
    int16_t last = 0, id;
    int t, rc;
    const uint8_t *p;
    size_t n;
    lo_str_t old_min = LO_STR_NULL, old_max = LO_STR_NULL, min = LO_STR_NULL, max = LO_STR_NULL;
    bool has_old_min = false, has_old_max = false, has_min = false, has_max = false;
    s->min_exact = s->max_exact = true;
    if (lo_thrift_r_enter(r, type) != LO_OK)
        return LO_INVALID;
    FIELD_LOOP(r, last, id, t, rc)
    {
        switch (id) {
        case 1:
        case 2:
        case 5:
        case 6:
            if (lo_thrift_r_binary(r, t, &p, &n) != LO_OK)
                return LO_INVALID;
            if (id == 1)
                old_max = lo_str((const char *)p, n), has_old_max = true;
            else if (id == 2)
                old_min = lo_str((const char *)p, n), has_old_min = true;
            else if (id == 5)
                max = lo_str((const char *)p, n), has_max = true;
            else
                min = lo_str((const char *)p, n), has_min = true;
            break;
        case 3:
            if (lo_thrift_r_i64(r, t, &s->null_count) != LO_OK)
                return LO_INVALID;
            s->has_null_count = true;
            break;
        case 7:
            if (lo_thrift_r_bool(r, t, &s->max_exact, false) != LO_OK)
                return LO_INVALID;
            break;
        case 8:
            if (lo_thrift_r_bool(r, t, &s->min_exact, false) != LO_OK)
                return LO_INVALID;
            break;
        default:
            if (lo_thrift_r_skip(r, t) != LO_OK)
                return LO_INVALID;
        }
    }
    if (has_min && has_max) {
        s->min = min, s->max = max, s->has_min_max = true;
    } else if (has_old_min && has_old_max) {
        s->min = old_min, s->max = old_max, s->has_min_max = true, s->legacy = true;
    }
    return end_struct(r, rc);
}

static int parse_column_meta(lo_thrift_r_t *r, int type, lo_pq_chunk_t *c)
{
    int16_t last = 0, id;
    int t, rc, et;
    int32_t v32;
    size_t n;
    if (lo_thrift_r_enter(r, type) != LO_OK)
        return LO_INVALID;
    FIELD_LOOP(r, last, id, t, rc)
    {
        switch (id) {
        case 1:
            if (lo_thrift_r_i32(r, t, &v32) != LO_OK)
                return LO_INVALID;
            c->type = (lo_pq_type_t)v32;
            break;
        case 2:
            if (lo_thrift_r_list(r, t, &et, &n) != LO_OK)
                return LO_INVALID;
            for (size_t i = 0; i < n; i++) {
                if (lo_thrift_r_i32(r, et, &v32) != LO_OK)
                    return LO_INVALID;
                if (v32 >= 0 && v32 < 32)
                    c->encodings |= 1u << v32;
            }
            break;
        case 4:
            if (lo_thrift_r_i32(r, t, &v32) != LO_OK)
                return LO_INVALID;
            c->codec = (lo_pq_codec_t)v32;
            break;
        case 5:
            if (lo_thrift_r_i64(r, t, &c->num_values) != LO_OK)
                return LO_INVALID;
            break;
        case 6:
            if (lo_thrift_r_i64(r, t, &c->total_uncompressed_size) != LO_OK)
                return LO_INVALID;
            break;
        case 7:
            if (lo_thrift_r_i64(r, t, &c->total_compressed_size) != LO_OK)
                return LO_INVALID;
            break;
        case 9:
            if (lo_thrift_r_i64(r, t, &c->data_page_offset) != LO_OK)
                return LO_INVALID;
            break;
        case 11:
            if (lo_thrift_r_i64(r, t, &c->dictionary_page_offset) != LO_OK)
                return LO_INVALID;
            break;
        case 12:
            if (parse_stats(r, t, &c->stats) != LO_OK)
                return LO_INVALID;
            break;
        case 14:
            if (lo_thrift_r_i64(r, t, &c->bloom_filter_offset) != LO_OK)
                return LO_INVALID;
            break;
        case 15:
            if (lo_thrift_r_i32(r, t, &c->bloom_filter_length) != LO_OK)
                return LO_INVALID;
            break;
        default:
            if (lo_thrift_r_skip(r, t) != LO_OK)
                return LO_INVALID;
        }
    }
    return end_struct(r, rc);
}

static int parse_chunk(lo_thrift_r_t *r, int type, lo_pq_chunk_t *c, const char **why)
{
    int16_t last = 0, id;
    int t, rc;
    bool has_meta = false;
    c->dictionary_page_offset = c->bloom_filter_offset = c->column_index_offset = c->offset_index_offset = -1;
    c->bloom_filter_length = c->column_index_length = c->offset_index_length = -1;
    c->data_page_offset = -1;
    if (lo_thrift_r_enter(r, type) != LO_OK)
        return LO_INVALID;
    FIELD_LOOP(r, last, id, t, rc)
    {
        switch (id) {
        case 1: *why = "parquet: column chunks in other files are not supported"; return LO_INVALID;
        case 3:
            if (parse_column_meta(r, t, c) != LO_OK)
                return LO_INVALID;
            has_meta = true;
            break;
        case 4:
            if (lo_thrift_r_i64(r, t, &c->offset_index_offset) != LO_OK)
                return LO_INVALID;
            break;
        case 5:
            if (lo_thrift_r_i32(r, t, &c->offset_index_length) != LO_OK)
                return LO_INVALID;
            break;
        case 6:
            if (lo_thrift_r_i64(r, t, &c->column_index_offset) != LO_OK)
                return LO_INVALID;
            break;
        case 7:
            if (lo_thrift_r_i32(r, t, &c->column_index_length) != LO_OK)
                return LO_INVALID;
            break;
        case 8:
        case 9: *why = "parquet: encrypted columns are not supported"; return LO_INVALID;
        default:
            if (lo_thrift_r_skip(r, t) != LO_OK)
                return LO_INVALID;
        }
    }
    if (!has_meta) {
        *why = "parquet: a column chunk has no metadata";
        return LO_INVALID;
    }
    return end_struct(r, rc);
}

static int parse_row_group(lo_thrift_r_t *r, int type, lo_pq_file_t *f, lo_pq_row_group_t *g,
                           const char **why)
{
    int16_t last = 0, id;
    int t, rc, et;
    size_t n;
    bool has_cols = false;
    if (lo_thrift_r_enter(r, type) != LO_OK)
        return LO_INVALID;
    FIELD_LOOP(r, last, id, t, rc)
    {
        switch (id) {
        case 1:
            if (has_cols || lo_thrift_r_list(r, t, &et, &n) != LO_OK)
                return LO_INVALID;
            if (n != f->n_fields) {
                *why = "parquet: a row group has another number of columns than the schema";
                return LO_INVALID;
            }
            g->columns = calloc(n ? n : 1, sizeof *g->columns);
            if (g->columns == NULL)
                return LO_ERROR;
            for (size_t i = 0; i < n; i++) {
                int prc = parse_chunk(r, et, &g->columns[i], why);
                if (prc != LO_OK)
                    return prc;
            }
            has_cols = true;
            break;
        case 2:
            if (lo_thrift_r_i64(r, t, &g->total_byte_size) != LO_OK)
                return LO_INVALID;
            break;
        case 3:
            if (lo_thrift_r_i64(r, t, &g->num_rows) != LO_OK)
                return LO_INVALID;
            break;
        default:
            if (lo_thrift_r_skip(r, t) != LO_OK)
                return LO_INVALID;
        }
    }
    if (!has_cols || g->num_rows < 0) {
        *why = "parquet: a row group without columns or rows";
        return LO_INVALID;
    }
    return end_struct(r, rc);
}

static int parse_logical(lo_thrift_r_t *r, int type, lo_pq_field_t *fd)
{
    int16_t last = 0, id;
    int t, rc;
    if (lo_thrift_r_enter(r, type) != LO_OK)
        return LO_INVALID;
    FIELD_LOOP(r, last, id, t, rc)
    {
        if (id == 8 && t == LO_THRIFT_STRUCT) { /* TimestampType */
            int16_t l2 = 0, id2;
            int t2, rc2;
            fd->logical = LO_PQ_LOGICAL_OTHER;
            if (lo_thrift_r_enter(r, t) != LO_OK)
                return LO_INVALID;
            while ((rc2 = lo_thrift_r_field(r, &l2, &id2, &t2)) == LO_OK) {
                if (id2 == 1) {
                    if (lo_thrift_r_bool(r, t2, &fd->utc, false) != LO_OK)
                        return LO_INVALID;
                } else if (id2 == 2 && t2 == LO_THRIFT_STRUCT) {
                    int16_t l3 = 0, id3;
                    int t3, rc3;
                    if (lo_thrift_r_enter(r, t2) != LO_OK)
                        return LO_INVALID;
                    while ((rc3 = lo_thrift_r_field(r, &l3, &id3, &t3)) == LO_OK) {
                        fd->logical = id3 == 1   ? LO_PQ_LOGICAL_TIMESTAMP_MILLIS
                                      : id3 == 2 ? LO_PQ_LOGICAL_TIMESTAMP_MICROS
                                      : id3 == 3 ? LO_PQ_LOGICAL_TIMESTAMP_NANOS
                                                 : LO_PQ_LOGICAL_OTHER;
                        if (lo_thrift_r_skip(r, t3) != LO_OK)
                            return LO_INVALID;
                    }
                    if (end_struct(r, rc3) != LO_OK)
                        return LO_INVALID;
                } else if (lo_thrift_r_skip(r, t2) != LO_OK) {
                    return LO_INVALID;
                }
            }
            if (end_struct(r, rc2) != LO_OK)
                return LO_INVALID;
            continue;
        }
        fd->logical = id == 1    ? LO_PQ_LOGICAL_STRING
                      : id == 12 ? LO_PQ_LOGICAL_JSON
                      : id == 14 ? LO_PQ_LOGICAL_UUID
                                 : LO_PQ_LOGICAL_OTHER;
        if (lo_thrift_r_skip(r, t) != LO_OK)
            return LO_INVALID;
    }
    return end_struct(r, rc);
}

/* One SchemaElement; *children is its num_children (0 for a leaf). */
static int parse_element(lo_thrift_r_t *r, int type, lo_pq_field_t *fd, int32_t *children,
                         int32_t *repetition)
{
    int16_t last = 0, id;
    int t, rc;
    int32_t v;
    const uint8_t *p;
    size_t n;
    bool has_type = false, has_name = false;
    *children = 0;
    *repetition = 0;
    fd->converted_type = -1;
    if (lo_thrift_r_enter(r, type) != LO_OK)
        return LO_INVALID;
    FIELD_LOOP(r, last, id, t, rc)
    {
        switch (id) {
        case 1:
            if (lo_thrift_r_i32(r, t, &v) != LO_OK)
                return LO_INVALID;
            fd->type = (lo_pq_type_t)v;
            has_type = true;
            break;
        case 2:
            if (lo_thrift_r_i32(r, t, &fd->type_length) != LO_OK)
                return LO_INVALID;
            break;
        case 3:
            if (lo_thrift_r_i32(r, t, repetition) != LO_OK)
                return LO_INVALID;
            break;
        case 4:
            if (lo_thrift_r_binary(r, t, &p, &n) != LO_OK)
                return LO_INVALID;
            fd->name = lo_str((const char *)p, n);
            has_name = true;
            break;
        case 5:
            if (lo_thrift_r_i32(r, t, children) != LO_OK)
                return LO_INVALID;
            break;
        case 6:
            if (lo_thrift_r_i32(r, t, &fd->converted_type) != LO_OK)
                return LO_INVALID;
            break;
        case 10:
            if (parse_logical(r, t, fd) != LO_OK)
                return LO_INVALID;
            break;
        default:
            if (lo_thrift_r_skip(r, t) != LO_OK)
                return LO_INVALID;
        }
    }
    if (!has_name || (*children == 0 && !has_type))
        return LO_INVALID;
    return end_struct(r, rc);
}

static int parse_schema(lo_thrift_r_t *r, int t, lo_pq_file_t *f, const char **why)
{
    int et;
    size_t n;
    lo_pq_field_t root;
    int32_t children, rep;
    if (lo_thrift_r_list(r, t, &et, &n) != LO_OK || n < 1)
        return LO_INVALID;
    memset(&root, 0, sizeof root);
    if (parse_element(r, et, &root, &children, &rep) != LO_OK)
        return LO_INVALID;
    if (children < 0 || (size_t)children != n - 1) {
        *why = "parquet: nested schemas are not supported";
        return LO_INVALID;
    }
    f->n_fields = n - 1;
    f->fields = calloc(n, sizeof *f->fields);
    if (f->fields == NULL)
        return LO_ERROR;
    for (size_t i = 0; i + 1 < n; i++) {
        lo_pq_field_t *fd = &f->fields[i];
        if (parse_element(r, et, fd, &children, &rep) != LO_OK)
            return LO_INVALID;
        if (children != 0 || rep == 2) {
            *why = "parquet: nested or repeated columns are not supported";
            return LO_INVALID;
        }
        fd->optional = rep == 1;
        bool known = fd->type == LO_PQ_BOOLEAN || fd->type == LO_PQ_INT32 || fd->type == LO_PQ_INT64 ||
                     fd->type == LO_PQ_INT96 || fd->type == LO_PQ_FLOAT || fd->type == LO_PQ_DOUBLE ||
                     fd->type == LO_PQ_BYTE_ARRAY || fd->type == LO_PQ_FIXED;
        if (!known || (fd->type == LO_PQ_FIXED && (fd->type_length < 1 || fd->type_length > (1 << 20)))) {
            *why = "parquet: a column of an unknown type or length";
            return LO_INVALID;
        }
        if (fd->type == LO_PQ_INT96)
            fd->type_length = 12;
    }
    return LO_OK;
}

int lo_pq_parse_footer(lo_pq_file_t *f, const uint8_t *p, size_t n, const char **why)
{
    lo_thrift_r_t r;
    int16_t last = 0, id;
    int t, rc, et, prc;
    size_t count;
    bool has_schema = false, has_rgs = false;
    lo_thrift_r_init(&r, p, n, 0);
    if (lo_thrift_r_enter(&r, LO_THRIFT_STRUCT) != LO_OK)
        return LO_INVALID;
    FIELD_LOOP(&r, last, id, t, rc)
    {
        switch (id) {
        case 2:
            if (has_schema)
                return LO_INVALID;
            if ((prc = parse_schema(&r, t, f, why)) != LO_OK)
                return prc;
            has_schema = true;
            break;
        case 3:
            if (lo_thrift_r_i64(&r, t, &f->num_rows) != LO_OK)
                return LO_INVALID;
            break;
        case 4:
            if (!has_schema || has_rgs || lo_thrift_r_list(&r, t, &et, &count) != LO_OK)
                return LO_INVALID;
            f->row_groups = calloc(count ? count : 1, sizeof *f->row_groups);
            if (f->row_groups == NULL)
                return LO_ERROR;
            for (size_t i = 0; i < count; i++) {
                f->n_row_groups = i + 1; /* what is allocated is freed on failure */
                if ((prc = parse_row_group(&r, et, f, &f->row_groups[i], why)) != LO_OK)
                    return prc;
            }
            has_rgs = true;
            break;
        case 6: {
            const uint8_t *s;
            size_t len;
            if (lo_thrift_r_binary(&r, t, &s, &len) != LO_OK)
                return LO_INVALID;
            f->created_by = lo_str((const char *)s, len);
            break;
        }
        case 7: {
            if (lo_thrift_r_list(&r, t, &et, &count) != LO_OK)
                return LO_INVALID;
            bool all = count == f->n_fields && has_schema;
            for (size_t i = 0; i < count; i++) {
                int16_t l2 = 0, id2;
                int t2, rc2;
                bool typed = false;
                if (lo_thrift_r_enter(&r, et) != LO_OK)
                    return LO_INVALID;
                while ((rc2 = lo_thrift_r_field(&r, &l2, &id2, &t2)) == LO_OK) {
                    typed |= id2 == 1;
                    if (lo_thrift_r_skip(&r, t2) != LO_OK)
                        return LO_INVALID;
                }
                if (end_struct(&r, rc2) != LO_OK)
                    return LO_INVALID;
                all &= typed;
            }
            f->type_defined_order = all;
            break;
        }
        case 8: *why = "parquet: encrypted files are not supported"; return LO_INVALID;
        default:
            if (lo_thrift_r_skip(&r, t) != LO_OK)
                return LO_INVALID;
        }
    }
    if (end_struct(&r, rc) != LO_OK)
        return LO_INVALID;
    if (!has_schema || !has_rgs) {
        *why = "parquet: the footer has no schema or no row groups";
        return LO_INVALID;
    }
    if (*why == NULL && r.err)
        *why = r.err;
    return LO_OK;
}
