/*
 * series.c — the series id of every metric sample.  A series is its
 * project, service, name, labels, type and identifying resource
 * attributes (docs/query-api.md, "Series"; docs/auth.md, "Isolation
 * between projects"); the database decides which row that is, through a
 * unique index on the SHA-256 of those stored values, and hands out the
 * id.  So no label value, however crafted, can make one project's series
 * another's.
 *
 * Each metrics writer caches the ids it has learned, keyed by the exact
 * identity bytes (compared in full, never by hash alone); a batch asks the
 * database only about the series the cache does not know — one INSERT of
 * the missing ones and one SELECT that reads their ids back and checks the
 * stored identity — and the cache learns them after the commit.
 */
#include "ingest/writer.h"

#include <jansson.h>
#include <stdlib.h>
#include <sys/random.h>

#define CACHE_SLOTS     (1u << 18)  /* per metrics writer; emptied when 3/4 full */
#define CACHE_KEY_BYTES (64u << 20) /* identity bytes kept; emptied past this */
#define MAX_PROBES      64          /* a longer chain is treated as a miss */
#define SLOT_EMPTY      0

static int64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return (int64_t)v;
}

/* The resource attributes that tell two producers of one series apart
 * (sorted: the object is built in this order). */
static const char *const RESOURCE_ID_KEYS[] = { "container.id",        "host.id",
                                                "host.name",           "k8s.pod.uid",
                                                "service.instance.id", "service.namespace" };

/* The identifying attributes of r's resource as a JSON object, "{}" when
 * it has none: parsed once per resource (samples of one resource share its
 * text), kept in w->rid. */
static lo_str_t resource_id(lo_writer_t *w, const lo_sample_rec_t *r)
{
    if (r->resource.len == 0)
        return LO_STR_LIT("{}");
    if (w->rid_src == r->resource.p && w->rid_src_len == r->resource.len && w->rid.err == LO_OK)
        return lo_str(w->rid.p, w->rid.len);
    w->rid_src = r->resource.p;
    w->rid_src_len = r->resource.len;
    lo_buf_reset(&w->rid);
    json_t *res = json_loadb(r->resource.p, r->resource.len, 0, NULL);
    lo_buf_putc(&w->rid, '{');
    bool first = true;
    for (size_t i = 0; i < LO_ARRAY_LEN(RESOURCE_ID_KEYS); i++) {
        json_t *v = json_object_get(res, RESOURCE_ID_KEYS[i]);
        if (v == NULL || json_is_null(v) || json_is_object(v) || json_is_array(v))
            continue;
        char *vs = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        if (vs == NULL) {
            w->rid.err = LO_ERROR;
            break;
        }
        lo_buf_printf(&w->rid, "%s\"%s\":%s", first ? "" : ",", RESOURCE_ID_KEYS[i], vs);
        free(vs);
        first = false;
    }
    lo_buf_putc(&w->rid, '}');
    json_decref(res);
    return lo_str(w->rid.p != NULL ? w->rid.p : "{}", w->rid.p != NULL ? w->rid.len : 2);
}

/* The identity of r as bytes: project, service, name (length-prefixed),
 * type, resource id (length-prefixed), labels. */
static int identity(lo_buf_t *b, lo_str_t rid, const lo_sample_rec_t *r)
{
    const lo_envelope_t *e = &r->env;
    uint32_t sl = (uint32_t)e->service.len, nl = (uint32_t)r->name.len;
    lo_buf_reset(b);
    lo_buf_putc(b, e->has_project ? 'p' : '-');
    if (e->has_project)
        lo_buf_append(b, e->project_id, 16);
    lo_buf_append(b, &sl, sizeof(sl));
    lo_buf_append(b, e->service.p, sl);
    lo_buf_append(b, &nl, sizeof(nl));
    lo_buf_append(b, r->name.p, nl);
    uint32_t tl = (uint32_t)r->type, rl = (uint32_t)rid.len;
    lo_buf_append(b, &tl, sizeof(tl));
    lo_buf_append(b, &rl, sizeof(rl));
    lo_buf_append(b, rid.p, rl);
    lo_buf_append(b, r->labels.p, r->labels.len);
    return b->err;
}

static uint64_t key_hash(const lo_series_cache_t *c, const lo_buf_t *k)
{
    uint64_t h = lo_hash64(k->p, k->len, c->seed);
    return h == SLOT_EMPTY ? 1 : h;
}

void lo_series_cache_free(lo_series_cache_t *c)
{
    free(c->slots);
    lo_buf_free(&c->keys);
    memset(c, 0, sizeof(*c));
}

static void cache_clear(lo_series_cache_t *c)
{
    if (c->slots != NULL)
        memset(c->slots, 0, c->cap * sizeof(*c->slots));
    c->count = 0;
    lo_buf_reset(&c->keys);
}

/* The cached id of the identity in k (hash h), or false. */
static bool cache_get(const lo_series_cache_t *c, const lo_buf_t *k, uint64_t h, int64_t *id)
{
    if (c->slots == NULL)
        return false;
    size_t i = (size_t)h & (c->cap - 1);
    for (int probe = 0; probe < MAX_PROBES && c->slots[i].hash != SLOT_EMPTY; probe++) {
        const lo_series_slot_t *s = &c->slots[i];
        if (s->hash == h && s->len == k->len && memcmp(c->keys.p + s->off, k->p, k->len) == 0) {
            *id = s->id;
            return true;
        }
        i = (i + 1) & (c->cap - 1);
    }
    return false;
}

static void cache_put(lo_series_cache_t *c, const char *key, size_t len, uint64_t h, int64_t id)
{
    if (c->slots == NULL) {
        c->slots = calloc(CACHE_SLOTS, sizeof(*c->slots));
        if (c->slots == NULL)
            return; /* no cache: every batch asks the database, still correct */
        c->cap = CACHE_SLOTS;
    }
    /* bounded: forget everything; the next batches learn again */
    if (c->count >= c->cap / 4 * 3 || c->keys.len + len > CACHE_KEY_BYTES)
        cache_clear(c);
    size_t i = (size_t)h & (c->cap - 1);
    for (int probe = 0; c->slots[i].hash != SLOT_EMPTY; probe++) {
        if (probe >= MAX_PROBES)
            return; /* a flooded chain: leave it uncached */
        i = (i + 1) & (c->cap - 1);
    }
    size_t off = c->keys.len;
    if (lo_buf_append(&c->keys, key, len) != LO_OK) {
        cache_clear(c);
        return;
    }
    c->slots[i] = (lo_series_slot_t){ .hash = h, .id = id, .off = (uint32_t)off, .len = (uint32_t)len };
    c->count++;
}

/* Grows the per-batch arrays to hold records samples. */
static int batch_reserve(lo_writer_t *w, size_t records)
{
    if (records <= w->series_ids_cap)
        return LO_OK;
    int64_t *ids = malloc(records * sizeof(int64_t));
    uint32_t *ref = malloc(records * sizeof(uint32_t));
    lo_new_series_t *ns = malloc(records * sizeof(lo_new_series_t));
    size_t tcap = 16;
    while (tcap < 2 * records)
        tcap *= 2;
    uint32_t *tab = malloc(tcap * sizeof(uint32_t));
    if (ids == NULL || ref == NULL || ns == NULL || tab == NULL) {
        free(ids), free(ref), free(ns), free(tab);
        return LO_ERROR;
    }
    free(w->series_ids), free(w->series_ref), free(w->new_series), free(w->new_tab);
    w->series_ids = ids;
    w->series_ref = ref;
    w->new_series = ns;
    w->new_tab = tab;
    w->new_tab_cap = tcap;
    w->series_ids_cap = w->new_series_cap = records;
    return LO_OK;
}

/* The index of the batch's new series with the identity in k, added if absent. */
static int new_series_ref(lo_writer_t *w, const lo_buf_t *k, uint64_t h, const lo_sample_rec_t *r,
                          uint32_t *ref)
{
    size_t mask = w->new_tab_cap - 1, i = (size_t)(h >> 7) & mask;
    while (w->new_tab[i] != 0) {
        const lo_new_series_t *s = &w->new_series[w->new_tab[i] - 1];
        if (s->hash == h && s->len == k->len && memcmp(w->new_keys.p + s->off, k->p, k->len) == 0) {
            *ref = w->new_tab[i] - 1;
            return LO_OK;
        }
        i = (i + 1) & mask;
    }
    size_t off = w->new_keys.len;
    if (lo_buf_append(&w->new_keys, k->p, k->len) != LO_OK)
        return LO_ERROR;
    lo_new_series_t *s = &w->new_series[w->new_series_n];
    *s = (lo_new_series_t){ .rec = r, .hash = h, .off = off, .len = k->len, .id = 0, .found = false };
    w->new_tab[i] = (uint32_t)++w->new_series_n;
    *ref = (uint32_t)(w->new_series_n - 1);
    return LO_OK;
}

int lo_series_prepare(lo_writer_t *w, lo_ingest_req_t *list, size_t records)
{
    w->new_series_n = 0;
    if (batch_reserve(w, records) != LO_OK || records > UINT32_MAX - 1) {
        snprintf(w->err, sizeof(w->err), "series: out of memory");
        return LO_ERROR;
    }
    if (w->series.seed == 0 &&
        getrandom(&w->series.seed, sizeof(w->series.seed), 0) != sizeof(w->series.seed))
        w->series.seed = (uint64_t)lo_mono_ns() | 1;
    memset(w->new_tab, 0, w->new_tab_cap * sizeof(uint32_t));
    lo_buf_reset(&w->new_keys);
    w->rid_src = NULL; /* a resource of an earlier batch may have had this address */
    size_t k = 0;
    for (lo_ingest_req_t *q = list; q != NULL; q = q->next) {
        for (size_t i = 0; i < q->batch.n; i++, k++) {
            const lo_sample_rec_t *r = &q->batch.samples[i];
            lo_str_t rid = resource_id(w, r);
            if (w->rid.err != LO_OK || identity(&w->idkey, rid, r) != LO_OK) {
                snprintf(w->err, sizeof(w->err), "series: out of memory");
                return LO_ERROR;
            }
            uint64_t h = key_hash(&w->series, &w->idkey);
            w->series_ref[k] = UINT32_MAX;
            if (cache_get(&w->series, &w->idkey, h, &w->series_ids[k]))
                continue;
            if (new_series_ref(w, &w->idkey, h, r, &w->series_ref[k]) != LO_OK) {
                snprintf(w->err, sizeof(w->err), "series: out of memory");
                return LO_ERROR;
            }
        }
    }
    return LO_OK;
}

/* Parameters $1..$6 of both statements: the identity columns. */
static void identity_params(lo_writer_t *w, size_t i)
{
    const lo_sample_rec_t *r = w->new_series[i].rec;
    const lo_envelope_t *e = &r->env;
    lo_pgarr_add(&w->arr[0], e->has_project ? e->project_id : NULL, 16);
    lo_pgarr_add(&w->arr[1], e->service.p != NULL ? e->service.p : "", e->service.len);
    lo_pgarr_add(&w->arr[2], r->name.p != NULL ? r->name.p : "", r->name.len);
    if (r->labels.len)
        lo_pgarr_add_jsonb(&w->arr[3], r->labels.p, r->labels.len);
    else
        lo_pgarr_add_jsonb(&w->arr[3], "{}", 2);
    lo_pgarr_add_i16(&w->arr[4], (int16_t)r->type);
    lo_str_t rid = resource_id(w, r);
    lo_pgarr_add_jsonb(&w->arr[5], rid.p, rid.len);
}

/* The identity columns as one row source, with the position of each row. */
#define IDENTITY_ROWS "unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::int2[], $6::jsonb[]"

int lo_series_upsert(lo_writer_t *w)
{
    size_t n = w->new_series_n;
    if (n == 0)
        return LO_OK;
    static const uint32_t oids[] = { LO_OID_UUID, LO_OID_TEXT,  LO_OID_TEXT, LO_OID_JSONB,
                                     LO_OID_INT2, LO_OID_JSONB, LO_OID_INT2, LO_OID_BOOL,
                                     LO_OID_TEXT, LO_OID_TEXT,  LO_OID_JSONB };
    static const uint32_t types[] = { LO_OID_UUID_ARRAY,  LO_OID_TEXT_ARRAY, LO_OID_TEXT_ARRAY,
                                      LO_OID_JSONB_ARRAY, LO_OID_INT2_ARRAY, LO_OID_JSONB_ARRAY,
                                      LO_OID_INT2_ARRAY,  LO_OID_BOOL_ARRAY, LO_OID_TEXT_ARRAY,
                                      LO_OID_TEXT_ARRAY,  LO_OID_JSONB_ARRAY };
    _Static_assert(LO_ARRAY_LEN(oids) <= LO_ARRAY_LEN(((lo_writer_t *)0)->arr), "parameter arrays");
    w->rid_src = NULL;
    for (size_t i = 0; i < LO_ARRAY_LEN(oids); i++)
        lo_pgarr_begin(&w->arr[i], oids[i]);
    for (size_t i = 0; i < n; i++) {
        const lo_sample_rec_t *r = w->new_series[i].rec;
        identity_params(w, i);
        lo_pgarr_add_i16(&w->arr[6], (int16_t)r->temporality);
        lo_pgarr_add_bool(&w->arr[7], r->monotonic);
        lo_pgarr_add(&w->arr[8], r->unit.len ? r->unit.p : NULL, r->unit.len);
        lo_pgarr_add(&w->arr[9], r->description.len ? r->description.p : NULL, r->description.len);
        lo_pgarr_add_jsonb(&w->arr[10], r->resource.p, r->resource.len);
    }
    if (w->rid.err != LO_OK) {
        snprintf(w->err, sizeof(w->err), "series: out of memory");
        return LO_ERROR;
    }
    /* Inserted in identity order: concurrent writers take the unique
     * index's locks in one order and cannot deadlock. */
    int rc = lo_writer_exec(
        w, "metric_series insert",
        "INSERT INTO metric_series (project_id, service, name, labels, type, resource_id, temporality, "
        "monotonic, unit, description, resource) "
        "SELECT * FROM " IDENTITY_ROWS ", $7::int2[], $8::bool[], $9::text[], $10::text[], "
        "$11::jsonb[]) AS u(project_id, service, name, labels, type, resource_id, temporality, monotonic, "
        "unit, "
        "description, resource) "
        "ORDER BY lo_series_identity(u.project_id, u.service, u.name, u.labels, u.type, u.resource_id) "
        "ON CONFLICT (identity) DO NOTHING",
        (int)LO_ARRAY_LEN(types), types, NULL);
    if (rc != LO_OK)
        return rc;

    /* A new statement sees every row the INSERT met (committed by others,
     * or its own); each must be exactly this series, not a digest's twin. */
    PGresult *r = NULL;
    rc = lo_writer_exec(
        w, "metric_series ids",
        "SELECT u.ord, s.series_id FROM " IDENTITY_ROWS ") WITH ORDINALITY "
        "AS u(project_id, service, name, labels, type, resource_id, ord) "
        "JOIN metric_series s ON s.identity = lo_series_identity(u.project_id, u.service, u.name, "
        "u.labels, u.type, u.resource_id) AND s.project_id IS NOT DISTINCT FROM u.project_id "
        "AND s.service = u.service AND s.name = u.name AND s.labels = u.labels AND s.type = u.type "
        "AND s.resource_id = u.resource_id",
        6, types, &r);
    if (rc != LO_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetlength(r, i, 0) != 8 || PQgetlength(r, i, 1) != 8)
            continue;
        int64_t ord = be64(PQgetvalue(r, i, 0)), id = be64(PQgetvalue(r, i, 1));
        if (ord >= 1 && (size_t)ord <= n) {
            w->new_series[ord - 1].id = id;
            w->new_series[ord - 1].found = true;
        }
    }
    PQclear(r);
    for (size_t i = 0; i < n; i++) {
        if (!w->new_series[i].found) {
            snprintf(w->err, sizeof(w->err), "metric_series: a series has no row matching its identity");
            return LO_ERROR;
        }
    }
    return LO_OK;
}

void lo_series_fill(lo_writer_t *w, size_t records)
{
    for (size_t k = 0; k < records; k++)
        if (w->series_ref[k] != UINT32_MAX)
            w->series_ids[k] = w->new_series[w->series_ref[k]].id;
}

void lo_series_commit(lo_writer_t *w)
{
    for (size_t i = 0; i < w->new_series_n; i++) {
        const lo_new_series_t *s = &w->new_series[i];
        cache_put(&w->series, w->new_keys.p + s->off, s->len, s->hash, s->id);
    }
    w->new_series_n = 0;
}
