/*
 * sessions.c — project and user of records that carry only a session id
 * (docs/ingest-storage.md), from agent_sessions through a bounded in-memory cache.
 *
 * Per batch: the distinct session ids go into a small table; those the
 * batch itself or the cache can answer cost nothing, the rest are asked in
 * ONE query (session_id = ANY($1)).  Records carrying session, project and
 * user teach their mapping: one upsert per batch, skipped when the cache
 * already knows it, and the cache learns after the commit.
 */
#include "ingest/writer.h"

#include <stdlib.h>

#define MISSING_TTL_NS (5LL * 1000000000) /* an unknown session is asked again after 5 s */

enum { SESS_UNKNOWN = 0, SESS_KNOWN = 1, SESS_MISSING = 2 };

/* ---- the shared cache: set-associative, 4 ways, oldest-expiring evicted ---- */

#define WAYS 4

typedef struct {
    uint8_t session[16], project[16], user[16];
    int64_t expires_ns; /* 0: empty */
    uint8_t state;
} cache_entry_t;

struct lo_session_cache {
    pthread_mutex_t mu;
    cache_entry_t *e;
    size_t sets; /* power of two */
    int64_t ttl_ns;
};

lo_session_cache_t *lo_session_cache_create(size_t entries, int64_t ttl_ns)
{
    lo_session_cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    size_t sets = 1;
    while (sets * WAYS < entries)
        sets *= 2;
    c->sets = sets;
    c->ttl_ns = ttl_ns;
    c->e = calloc(sets * WAYS, sizeof(cache_entry_t));
    if (c->e == NULL) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void lo_session_cache_destroy(lo_session_cache_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->e);
    free(c);
}

static cache_entry_t *cache_set(lo_session_cache_t *c, const uint8_t sid[16])
{
    return &c->e[(lo_hash64(sid, 16, 0) & (c->sets - 1)) * WAYS];
}

/* Locked by the caller.  The live entry of sid, or NULL. */
static cache_entry_t *cache_find(lo_session_cache_t *c, const uint8_t sid[16], int64_t now)
{
    cache_entry_t *set = cache_set(c, sid);
    for (int i = 0; i < WAYS; i++)
        if (set[i].expires_ns > now && memcmp(set[i].session, sid, 16) == 0)
            return &set[i];
    return NULL;
}

/* Locked by the caller. */
static void cache_put(lo_session_cache_t *c, const uint8_t sid[16], const uint8_t *project,
                      const uint8_t *user, uint8_t state, int64_t expires)
{
    cache_entry_t *set = cache_set(c, sid), *victim = &set[0];
    for (int i = 0; i < WAYS; i++) {
        if (memcmp(set[i].session, sid, 16) == 0 || set[i].expires_ns == 0) {
            victim = &set[i];
            break;
        }
        if (set[i].expires_ns < victim->expires_ns)
            victim = &set[i];
    }
    memcpy(victim->session, sid, 16);
    if (state == SESS_KNOWN) {
        memcpy(victim->project, project, 16);
        memcpy(victim->user, user, 16);
    }
    victim->state = state;
    victim->expires_ns = expires;
}

/* ---- the batch table ---- */

typedef struct {
    uint8_t session[16], project[16], user[16];
    uint8_t state;
    bool learn; /* taught by a record, not yet in the cache as such */
    bool fresh; /* just read from agent_sessions */
    bool used;
} slot_t;

struct lo_sess_batch {
    slot_t *slots;
    size_t cap;    /* power of two */
    slot_t **list; /* the used slots, in insertion order */
    size_t n, learn;
};

static slot_t *slot_get(lo_sess_batch_t *t, const uint8_t sid[16])
{
    size_t i = lo_hash64(sid, 16, 1) & (t->cap - 1);
    while (t->slots[i].used) {
        if (memcmp(t->slots[i].session, sid, 16) == 0)
            return &t->slots[i];
        i = (i + 1) & (t->cap - 1);
    }
    slot_t *s = &t->slots[i];
    memset(s, 0, sizeof(*s));
    memcpy(s->session, sid, 16);
    s->used = true;
    t->list[t->n++] = s;
    return s;
}

static int batch_prepare(lo_writer_t *w, size_t n)
{
    lo_sess_batch_t *t = w->sessb;
    if (t == NULL) {
        t = w->sessb = calloc(1, sizeof(*t));
        if (t == NULL)
            return LO_ERROR;
    }
    /* forget the previous batch: only the slots it used */
    for (size_t i = 0; i < t->n; i++)
        t->list[i]->used = false;
    t->n = t->learn = 0;
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    if (cap > t->cap) {
        slot_t *s = calloc(cap, sizeof(slot_t));
        slot_t **l = malloc(cap * sizeof(slot_t *));
        if (s == NULL || l == NULL) {
            free(s);
            free(l);
            return LO_ERROR;
        }
        free(t->slots);
        free(t->list);
        t->slots = s;
        t->list = l;
        t->cap = cap;
    }
    return LO_OK;
}

void lo_sessions_free(lo_writer_t *w)
{
    if (w->sessb == NULL)
        return;
    free(w->sessb->slots);
    free(w->sessb->list);
    free(w->sessb);
    w->sessb = NULL;
}

static bool complete(const lo_envelope_t *e)
{
    return e->has_project && e->has_user;
}

/* Asks agent_sessions about every slot still unknown: one query. */
static int query_unknown(lo_writer_t *w, lo_sess_batch_t *t, int64_t now)
{
    lo_session_cache_t *c = lo_ingest_sessions(w->in);
    lo_pgarr_begin(&w->arr[0], LO_OID_UUID);
    for (size_t i = 0; i < t->n; i++)
        if (t->list[i]->state == SESS_UNKNOWN)
            lo_pgarr_add(&w->arr[0], t->list[i]->session, 16);
    static const uint32_t types[] = { LO_OID_UUID_ARRAY };
    PGresult *r = NULL;
    int rc = lo_writer_exec(w, "agent_sessions lookup",
                            "SELECT session_id, project_id, user_id FROM agent_sessions "
                            "WHERE session_id = ANY($1::uuid[])",
                            1, types, &r);
    if (rc != LO_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetlength(r, i, 0) != 16 || PQgetlength(r, i, 1) != 16 || PQgetlength(r, i, 2) != 16)
            continue;
        slot_t *s = slot_get(t, (const uint8_t *)PQgetvalue(r, i, 0));
        if (s->state != SESS_UNKNOWN)
            continue;
        memcpy(s->project, PQgetvalue(r, i, 1), 16);
        memcpy(s->user, PQgetvalue(r, i, 2), 16);
        s->state = SESS_KNOWN;
        s->fresh = true;
    }
    PQclear(r);
    const lo_ingest_settings_t *st = lo_ingest_settings(w->in);
    int64_t miss_ttl = st->session_cache_ns < MISSING_TTL_NS ? st->session_cache_ns : MISSING_TTL_NS;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < t->n; i++) {
        slot_t *s = t->list[i];
        if (s->fresh)
            cache_put(c, s->session, s->project, s->user, SESS_KNOWN, now + st->session_cache_ns);
        else if (s->state == SESS_UNKNOWN) {
            s->state = SESS_MISSING;
            cache_put(c, s->session, NULL, NULL, SESS_MISSING, now + miss_ttl);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return LO_OK;
}

int lo_sessions_resolve(lo_writer_t *w, lo_ingest_req_t *list, size_t *learn)
{
    *learn = 0;
    if (w->sessb != NULL)
        w->sessb->learn = 0;
    size_t size = lo_otlp_rec_size(w->signal), n = 0;
    for (lo_ingest_req_t *q = list; q != NULL; q = q->next)
        for (size_t i = 0; i < q->batch.n; i++)
            n += lo_ingest_env(&q->batch, i, size)->has_session;
    if (n == 0)
        return LO_OK;
    if (batch_prepare(w, n) != LO_OK) {
        snprintf(w->err, sizeof(w->err), "sessions: out of memory");
        return LO_ERROR;
    }
    lo_sess_batch_t *t = w->sessb;

    /* what the batch teaches, and which sessions it asks about */
    bool needs = false;
    for (lo_ingest_req_t *q = list; q != NULL; q = q->next) {
        for (size_t i = 0; i < q->batch.n; i++) {
            const lo_envelope_t *e = lo_ingest_env(&q->batch, i, size);
            if (!e->has_session)
                continue;
            slot_t *s = slot_get(t, e->session_id);
            if (complete(e)) {
                if (s->state != SESS_KNOWN) {
                    memcpy(s->project, e->project_id, 16);
                    memcpy(s->user, e->user_id, 16);
                    s->state = SESS_KNOWN;
                    s->learn = true;
                }
            } else {
                needs = true;
            }
        }
    }

    /* the cache answers what it can and spares known lessons */
    lo_session_cache_t *c = lo_ingest_sessions(w->in);
    int64_t now = lo_mono_ns();
    size_t unknown = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < t->n; i++) {
        slot_t *s = t->list[i];
        cache_entry_t *ce = cache_find(c, s->session, now);
        if (s->learn) {
            if (ce != NULL && ce->state == SESS_KNOWN && memcmp(ce->project, s->project, 16) == 0 &&
                memcmp(ce->user, s->user, 16) == 0)
                s->learn = false;
            else
                t->learn++;
        } else if (ce != NULL) {
            s->state = ce->state;
            if (ce->state == SESS_KNOWN) {
                memcpy(s->project, ce->project, 16);
                memcpy(s->user, ce->user, 16);
            }
        } else {
            unknown++;
        }
    }
    pthread_mutex_unlock(&c->mu);

    if (needs && unknown > 0) {
        int rc = query_unknown(w, t, now);
        if (rc != LO_OK)
            return rc;
    }

    /* A session belongs to the project that first claimed it.  A record
     * takes the mapping's user only within that project; a record without
     * a project (only an unbound token sends one) takes nothing unless the
     * operator says so: otherwise whoever claims a session id first would
     * receive every project-less record naming it (docs/auth.md). */
    bool lend = lo_ingest_settings(w->in)->session_lend_project;
    if (needs) {
        for (lo_ingest_req_t *q = list; q != NULL; q = q->next) {
            for (size_t i = 0; i < q->batch.n; i++) {
                lo_envelope_t *e = lo_ingest_env(&q->batch, i, size);
                if (!e->has_session || complete(e))
                    continue;
                slot_t *s = slot_get(t, e->session_id);
                if (s->state != SESS_KNOWN)
                    continue;
                if (e->has_project ? memcmp(e->project_id, s->project, 16) != 0 : !lend)
                    continue;
                if (!e->has_project) {
                    memcpy(e->project_id, s->project, 16);
                    e->has_project = true;
                }
                if (!e->has_user) {
                    memcpy(e->user_id, s->user, 16);
                    e->has_user = true;
                }
            }
        }
    }
    *learn = t->learn;
    return LO_OK;
}

static int cmp_slot(const void *a, const void *b)
{
    return memcmp((*(slot_t *const *)a)->session, (*(slot_t *const *)b)->session, 16);
}

int lo_sessions_upsert(lo_writer_t *w)
{
    lo_sess_batch_t *t = w->sessb;
    if (t == NULL || t->learn == 0)
        return LO_OK;
    /* sorted: concurrent writers lock rows in one order and cannot deadlock */
    qsort(t->list, t->n, sizeof(slot_t *), cmp_slot);
    lo_pgarr_begin(&w->arr[0], LO_OID_UUID);
    lo_pgarr_begin(&w->arr[1], LO_OID_UUID);
    lo_pgarr_begin(&w->arr[2], LO_OID_UUID);
    for (size_t i = 0; i < t->n; i++) {
        slot_t *s = t->list[i];
        if (!s->learn)
            continue;
        lo_pgarr_add(&w->arr[0], s->session, 16);
        lo_pgarr_add(&w->arr[1], s->project, 16);
        lo_pgarr_add(&w->arr[2], s->user, 16);
    }
    static const uint32_t types[] = { LO_OID_UUID_ARRAY, LO_OID_UUID_ARRAY, LO_OID_UUID_ARRAY };
    /* The first project to claim a session keeps it: a record of another
     * project (a token bound to B naming A's session) must not move the
     * session or change its user.  RETURNING gives what is stored, which
     * is what the cache learns. */
    PGresult *r = NULL;
    int rc = lo_writer_exec(w, "agent_sessions upsert",
                            "INSERT INTO agent_sessions AS a (session_id, project_id, user_id) "
                            "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) "
                            "ON CONFLICT (session_id) DO UPDATE SET "
                            "user_id = CASE WHEN a.project_id = excluded.project_id "
                            "THEN excluded.user_id ELSE a.user_id END, last_seen = now() "
                            "RETURNING session_id, project_id, user_id",
                            3, types, &r);
    if (rc != LO_OK)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetlength(r, i, 0) != 16 || PQgetlength(r, i, 1) != 16 || PQgetlength(r, i, 2) != 16)
            continue;
        slot_t *s = slot_get(t, (const uint8_t *)PQgetvalue(r, i, 0));
        memcpy(s->project, PQgetvalue(r, i, 1), 16);
        memcpy(s->user, PQgetvalue(r, i, 2), 16);
    }
    PQclear(r);
    return LO_OK;
}

void lo_sessions_commit(lo_writer_t *w)
{
    lo_sess_batch_t *t = w->sessb;
    if (t == NULL || t->learn == 0)
        return;
    lo_session_cache_t *c = lo_ingest_sessions(w->in);
    int64_t expires = lo_mono_ns() + lo_ingest_settings(w->in)->session_cache_ns;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < t->n; i++)
        if (t->list[i]->learn)
            cache_put(c, t->list[i]->session, t->list[i]->project, t->list[i]->user, SESS_KNOWN, expires);
    pthread_mutex_unlock(&c->mu);
    t->learn = 0;
}
