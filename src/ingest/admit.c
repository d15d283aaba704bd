/* admit.c — admission of decoded records (admit.h). */
#include "ingest/admit.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/stats.h"
#include "ingest/ingest.h"

#define RL_SLOTS 64 /* projects of one request charged at once */

/* The time a record is partitioned by. */
static size_t rec_time_offset(lo_signal_t s)
{
    switch (s) {
    case LO_SIGNAL_LOGS: return offsetof(lo_log_rec_t, time_ns);
    case LO_SIGNAL_SPANS: return offsetof(lo_span_rec_t, start_ns);
    default: return offsetof(lo_sample_rec_t, time_ns);
    }
}

/* The number of elements of the flat JSON array of numbers that follows
 * key in the buckets text b ("{\"bounds\":[1,2.5],\"counts\":[2,3,2]}"),
 * or -1 when it is not there. */
static long array_len(lo_str_t b, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 1 < b.len; i++) {
        if (memcmp(b.p + i, key, kl) != 0 || b.p[i + kl] != '[')
            continue;
        long n = 0;
        bool any = false;
        for (size_t j = i + kl + 1; j < b.len; j++) {
            if (b.p[j] == ']')
                return any ? n + 1 : 0;
            if (b.p[j] == ',')
                n++;
            else if (b.p[j] != ' ')
                any = true;
        }
        return -1;
    }
    return -1;
}

/* The data model's own rules (docs/ingest-storage.md, "Records refused one
 * by one"): a span needs an end no earlier than its start; a metric point
 * needs a name; a point flagged "no recorded value" has none.  Returns the
 * reason a record is refused, or NULL to keep it. */
static const char *malformed(lo_signal_t s, char *rec)
{
    const lo_envelope_t *env = (const lo_envelope_t *)rec;
    if (env->malformed != NULL)
        return env->malformed; /* the decoder's verdict: a malformed id */
    if (s == LO_SIGNAL_SPANS) {
        const lo_span_rec_t *sp = (const lo_span_rec_t *)rec;
        if (sp->end_ns == 0)
            return "span without an end time";
        if (sp->end_ns < sp->start_ns)
            return "span ending before it starts";
    } else if (s == LO_SIGNAL_METRICS) {
        lo_sample_rec_t *m = (lo_sample_rec_t *)rec;
        if (m->name.len == 0)
            return "metric without a name";
        if (m->type == LO_METRIC_HISTOGRAM && m->buckets.len > 0) {
            long nb = array_len(m->buckets, "\"bounds\":"), nc = array_len(m->buckets, "\"counts\":");
            if (nb < 0 || nc < 0 || (nc != 0 && nc != nb + 1))
                return "histogram whose bucket counts do not match its bounds (counts must be one more than "
                       "bounds)";
        }
        if (m->flags & 1u) /* DATA_POINT_FLAGS_NO_RECORDED_VALUE */
            m->has_value = false;
    }
    return NULL;
}

/* Stamps the token's project on records without one; drops records that
 * claim another project, lie outside the window that has partitions, or
 * break the data model's rules. */
static void enforce(const lo_admit_t *a, const lo_principal_t *who, lo_otlp_batch_t *b, int64_t now)
{
    size_t rsz = lo_otlp_rec_size(b->signal), toff = rec_time_offset(b->signal);
    int64_t oldest, newest;
    lo_retention_window(a->retention, now, &oldest, &newest);
    int64_t bad_project = 0, bad_time = 0, bad_model = 0;
    const char *model_reason = NULL;
    char *base = b->recs;
    size_t keep = 0;
    for (size_t i = 0; i < b->n; i++) {
        char *rec = base + i * rsz;
        lo_envelope_t *env = (lo_envelope_t *)rec;
        if (who->n_projects > 0) {
            if (!env->has_project) {
                memcpy(env->project_id, who->projects[0], 16);
                env->has_project = true;
            } else if (!lo_principal_allows_project(who, env->project_id)) {
                bad_project++;
                continue;
            }
        }
        int64_t t;
        memcpy(&t, rec + toff, sizeof(t));
        if (t < oldest || t > newest) {
            bad_time++;
            continue;
        }
        const char *why = malformed(b->signal, rec);
        if (why != NULL) {
            model_reason = model_reason != NULL ? model_reason : why;
            bad_model++;
            continue;
        }
        if (keep != i)
            memcpy(base + keep * rsz, rec, rsz);
        keep++;
    }
    b->n = keep;
    if (bad_project + bad_time + bad_model == 0)
        return;
    b->rejected += bad_project + bad_time + bad_model;
    lo_stat_add(&lo_stats.records_rejected[b->signal], bad_project + bad_time + bad_model);
    size_t off = strlen(b->reject_reason);
    size_t room = sizeof(b->reject_reason);
    if (bad_project > 0 && off < room)
        off += (size_t)snprintf(b->reject_reason + off, room - off,
                                "%s%" PRId64 " record(s) name a project this token may not write",
                                off > 0 ? "; " : "", bad_project);
    if (bad_time > 0 && off < room)
        off += (size_t)snprintf(
            b->reject_reason + off, room - off,
            "%s%" PRId64 " record(s) outside the accepted time range (now-%" PRId64 "h .. now+24h)",
            off > 0 ? "; " : "", bad_time, (int64_t)(a->retention->max_age_ns / 3600000000000LL));
    if (bad_model > 0 && off < room)
        snprintf(b->reject_reason + off, room - off, "%s%" PRId64 " record(s) malformed (first: %s)",
                 off > 0 ? "; " : "", bad_model, model_reason);
}

typedef struct {
    uint8_t project[16];
    bool has;
    bool used;
    int64_t n;
} rl_slot_t;

static int rl_flush(lo_ratelimit_t *rl, rl_slot_t *slots, int64_t *retry)
{
    int rc = LO_OK;
    for (size_t i = 0; i < RL_SLOTS; i++) {
        if (!slots[i].used)
            continue;
        const uint8_t *p = slots[i].has ? slots[i].project : NULL;
        if (rc == LO_OK && lo_ratelimit_take(rl, p, slots[i].n) != LO_OK) {
            *retry = lo_ratelimit_retry_after(rl, p, slots[i].n);
            rc = LO_BUSY;
        }
        slots[i].used = false;
    }
    return rc;
}

/* Charges every project its record count.  LO_BUSY: some project is over
 * its limit (*retry seconds). */
static int rate_limit(lo_ratelimit_t *rl, lo_otlp_batch_t *b, int64_t *retry)
{
    if (rl == NULL || b->n == 0)
        return LO_OK;
    rl_slot_t slots[RL_SLOTS];
    memset(slots, 0, sizeof(slots));
    size_t rsz = lo_otlp_rec_size(b->signal), used = 0;
    const char *base = b->recs;
    for (size_t i = 0; i < b->n; i++) {
        const lo_envelope_t *env = (const lo_envelope_t *)(base + i * rsz);
        uint32_t hv = 0;
        if (env->has_project)
            memcpy(&hv, env->project_id + 12, 4);
        size_t k = hv % RL_SLOTS;
        for (;;) {
            rl_slot_t *s = &slots[k];
            if (!s->used) {
                if (used == RL_SLOTS - 1) {
                    /* table full: charge what is counted, start over */
                    if (rl_flush(rl, slots, retry) != LO_OK)
                        return LO_BUSY;
                    used = 0;
                    k = hv % RL_SLOTS;
                    continue;
                }
                s->used = true;
                s->has = env->has_project;
                memcpy(s->project, env->project_id, 16);
                s->n = 0;
                used++;
            }
            if (s->has == env->has_project && (!s->has || memcmp(s->project, env->project_id, 16) == 0)) {
                s->n++;
                break;
            }
            k = (k + 1) % RL_SLOTS;
        }
    }
    return rl_flush(rl, slots, retry);
}

int lo_admit(const lo_admit_t *a, const lo_principal_t *who, lo_otlp_batch_t *b, int64_t now,
             int64_t *retry_s)
{
    enforce(a, who, b, now);
    return rate_limit(a->ratelimit, b, retry_s);
}
