/*
 * series.c — metric series without a round trip per sample.  A series id
 * is a hash computed here (name, labels, service, project: SPEC §2), so a
 * sample is written with its series id directly.  Each writer remembers the
 * ids it knows exist; a batch upserts only the series it has not seen, in
 * one statement, and the cache learns them after the commit.
 */
#include "ingest/writer.h"

#include <stdlib.h>

#define CACHE_SLOTS (1u << 18) /* 2 MiB per metrics writer; emptied when 3/4 full */

int64_t lo_series_id(const lo_sample_rec_t *r)
{
    const lo_envelope_t *e = &r->env;
    uint64_t h = lo_hash64(r->name.p, r->name.len, 0x6c6f6f6b6f75745fULL);
    h = lo_hash64(&r->labels_hash, sizeof(r->labels_hash), h);
    h = lo_hash64(e->service.p, e->service.len, h);
    h = lo_hash64(e->project_id, e->has_project ? 16 : 0, h ^ (uint64_t)e->has_project);
    return (int64_t)h;
}

void lo_series_cache_free(lo_series_cache_t *c)
{
    free(c->slots);
    memset(c, 0, sizeof(*c));
}

static bool cache_has(const lo_series_cache_t *c, uint64_t id)
{
    if (id == 0)
        return c->has_zero;
    if (c->slots == NULL)
        return false;
    size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL >> 40) & (c->cap - 1);
    while (c->slots[i] != 0) {
        if (c->slots[i] == id)
            return true;
        i = (i + 1) & (c->cap - 1);
    }
    return false;
}

static void cache_add(lo_series_cache_t *c, uint64_t id)
{
    if (id == 0) {
        c->has_zero = true;
        return;
    }
    if (c->slots == NULL) {
        c->slots = calloc(CACHE_SLOTS, sizeof(uint64_t));
        if (c->slots == NULL)
            return; /* no cache: every batch upserts its series, still correct */
        c->cap = CACHE_SLOTS;
    }
    if (c->count >= c->cap / 4 * 3) {
        /* bounded: forget everything; the next batches re-learn (DO NOTHING) */
        memset(c->slots, 0, c->cap * sizeof(uint64_t));
        c->count = 0;
        c->has_zero = false;
    }
    size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL >> 40) & (c->cap - 1);
    while (c->slots[i] != 0) {
        if (c->slots[i] == id)
            return;
        i = (i + 1) & (c->cap - 1);
    }
    c->slots[i] = id;
    c->count++;
}

int lo_series_prepare(lo_writer_t *w, lo_ingest_req_t *list, size_t records)
{
    w->new_series_n = 0;
    if (records > w->series_ids_cap) {
        int64_t *ids = malloc(records * sizeof(int64_t));
        lo_new_series_t *ns = malloc(records * sizeof(lo_new_series_t));
        if (ids == NULL || ns == NULL) {
            free(ids);
            free(ns);
            snprintf(w->err, sizeof(w->err), "series: out of memory");
            return LO_ERROR;
        }
        free(w->series_ids);
        free(w->new_series);
        w->series_ids = ids;
        w->new_series = ns;
        w->series_ids_cap = w->new_series_cap = records;
    }
    size_t k = 0;
    int64_t last = 0;
    bool have_last = false;
    for (lo_ingest_req_t *q = list; q != NULL; q = q->next) {
        for (size_t i = 0; i < q->batch.n; i++) {
            const lo_sample_rec_t *r = &q->batch.samples[i];
            int64_t id = lo_series_id(r);
            w->series_ids[k++] = id;
            /* consecutive points of one series are common: skip repeats */
            if ((have_last && id == last) || cache_has(&w->series, (uint64_t)id))
                continue;
            w->new_series[w->new_series_n].id = id;
            w->new_series[w->new_series_n].rec = r;
            w->new_series_n++;
            last = id;
            have_last = true;
        }
    }
    return LO_OK;
}

static int cmp_new(const void *a, const void *b)
{
    int64_t x = ((const lo_new_series_t *)a)->id, y = ((const lo_new_series_t *)b)->id;
    return (x > y) - (x < y);
}

int lo_series_upsert(lo_writer_t *w)
{
    if (w->new_series_n == 0)
        return LO_OK;
    /* sorted and distinct: one row per series, locked in one order */
    qsort(w->new_series, w->new_series_n, sizeof(lo_new_series_t), cmp_new);
    size_t n = 0;
    for (size_t i = 0; i < w->new_series_n; i++)
        if (n == 0 || w->new_series[n - 1].id != w->new_series[i].id)
            w->new_series[n++] = w->new_series[i];
    w->new_series_n = n;

    static const uint32_t oids[] = {LO_OID_INT8, LO_OID_UUID,  LO_OID_TEXT, LO_OID_TEXT,
                                    LO_OID_INT2, LO_OID_INT2,  LO_OID_BOOL, LO_OID_TEXT,
                                    LO_OID_TEXT, LO_OID_JSONB, LO_OID_JSONB};
    static const uint32_t types[] = {LO_OID_INT8_ARRAY,  LO_OID_UUID_ARRAY, LO_OID_TEXT_ARRAY,
                                     LO_OID_TEXT_ARRAY,  LO_OID_INT2_ARRAY, LO_OID_INT2_ARRAY,
                                     LO_OID_BOOL_ARRAY,  LO_OID_TEXT_ARRAY, LO_OID_TEXT_ARRAY,
                                     LO_OID_JSONB_ARRAY, LO_OID_JSONB_ARRAY};
    for (size_t i = 0; i < LO_ARRAY_LEN(oids); i++)
        lo_pgarr_begin(&w->arr[i], oids[i]);
    for (size_t i = 0; i < n; i++) {
        const lo_sample_rec_t *r = w->new_series[i].rec;
        const lo_envelope_t *e = &r->env;
        lo_pgarr_add_i64(&w->arr[0], w->new_series[i].id);
        lo_pgarr_add(&w->arr[1], e->has_project ? e->project_id : NULL, 16);
        lo_pgarr_add(&w->arr[2], e->service.p != NULL ? e->service.p : "", e->service.len);
        lo_pgarr_add(&w->arr[3], r->name.p != NULL ? r->name.p : "", r->name.len);
        lo_pgarr_add_i16(&w->arr[4], (int16_t)r->type);
        lo_pgarr_add_i16(&w->arr[5], (int16_t)r->temporality);
        lo_pgarr_add_bool(&w->arr[6], r->monotonic);
        lo_pgarr_add(&w->arr[7], r->unit.len ? r->unit.p : NULL, r->unit.len);
        lo_pgarr_add(&w->arr[8], r->description.len ? r->description.p : NULL, r->description.len);
        if (r->labels.len)
            lo_pgarr_add_jsonb(&w->arr[9], r->labels.p, r->labels.len);
        else
            lo_pgarr_add_jsonb(&w->arr[9], "{}", 2);
        lo_pgarr_add_jsonb(&w->arr[10], r->resource.p, r->resource.len);
    }
    return lo_writer_exec(
        w, "metric_series upsert",
        "INSERT INTO metric_series (series_id, project_id, service, name, type, temporality, "
        "monotonic, unit, description, labels, resource) "
        "SELECT * FROM unnest($1::int8[], $2::uuid[], $3::text[], $4::text[], $5::int2[], "
        "$6::int2[], $7::bool[], $8::text[], $9::text[], $10::jsonb[], $11::jsonb[]) "
        "ON CONFLICT (series_id) DO NOTHING",
        (int)LO_ARRAY_LEN(types), types, NULL);
}

void lo_series_commit(lo_writer_t *w)
{
    for (size_t i = 0; i < w->new_series_n; i++)
        cache_add(&w->series, (uint64_t)w->new_series[i].id);
    w->new_series_n = 0;
}
