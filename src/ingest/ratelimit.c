/*
 * ratelimit.c — token buckets in integer arithmetic.
 *
 * A bucket holds "nano-records": one record is 1e9 units and the bucket
 * gains `rate` units per nanosecond, so refill is exact (no drift from
 * rounding) and, with rate and burst at most 1e9, nothing overflows int64:
 * the bucket holds at most 1e18 units and a debt of at most 4e18.
 */
#include "ingest/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/rand.h>

#define NS       1000000000LL
#define MAX_RATE 1000000000LL /* records/s and burst; keeps units within int64 */
#define MAX_TAKE 4000000000LL /* one request is charged at most this many records */
#define WAYS     8

typedef struct {
    int64_t tokens; /* nano-records; negative: debt */
    int64_t last;   /* clock at the last refill */
} bucket_t;

typedef struct {
    uint8_t key[16];
    bool used;
    bucket_t b;
} slot_t;

struct lo_ratelimit {
    int64_t rate; /* records per second; 0: unlimited */
    int64_t cap;  /* burst in nano-records */
    lo_clock_fn clock;
    void *clock_ctx;
    uint64_t seed[2]; /* keyed hashing: clients choose project ids */
    pthread_mutex_t mu;
    size_t nsets;
    slot_t *slots;     /* nsets * WAYS */
    bucket_t none;     /* records without a project */
    bucket_t overflow; /* projects that found no room */
};

static int64_t mono_clock(void *ctx)
{
    (void)ctx;
    return lo_mono_ns();
}

lo_ratelimit_t *lo_ratelimit_create(const lo_config_t *cfg)
{
    return lo_ratelimit_create_ex(cfg->rate_limit_records, cfg->rate_limit_burst,
                                  LO_RATELIMIT_DEFAULT_PROJECTS, NULL, NULL);
}

lo_ratelimit_t *lo_ratelimit_create_ex(int64_t rate, int64_t burst, size_t max_projects, lo_clock_fn clock,
                                       void *clock_ctx)
{
    if (rate < 0 || burst < 0 || rate > MAX_RATE || burst > MAX_RATE)
        return NULL;
    lo_ratelimit_t *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->rate = rate;
    rl->cap = (burst > 0 ? burst : rate) * NS;
    rl->clock = clock ? clock : mono_clock;
    rl->clock_ctx = clock_ctx;
    if (rate == 0)
        return rl; /* unlimited: no table, no lock */
    rl->nsets = 1;
    while (rl->nsets * WAYS < max_projects && rl->nsets < (1u << 20))
        rl->nsets <<= 1;
    rl->slots = calloc(rl->nsets * WAYS, sizeof(*rl->slots));
    if (rl->slots == NULL || RAND_bytes((unsigned char *)rl->seed, sizeof(rl->seed)) != 1 ||
        pthread_mutex_init(&rl->mu, NULL) != 0) {
        free(rl->slots);
        free(rl);
        return NULL;
    }
    int64_t now = rl->clock(rl->clock_ctx);
    rl->none = (bucket_t){ rl->cap, now };
    rl->overflow = (bucket_t){ rl->cap, now };
    return rl;
}

void lo_ratelimit_destroy(lo_ratelimit_t *rl)
{
    if (rl == NULL)
        return;
    if (rl->rate != 0)
        pthread_mutex_destroy(&rl->mu);
    free(rl->slots);
    free(rl);
}

static void refill(const lo_ratelimit_t *rl, bucket_t *b, int64_t now)
{
    if (now <= b->last)
        return; /* an injected clock may stand still; never refill backwards */
    int64_t need = rl->cap - b->tokens, dt = now - b->last;
    if (need <= 0 || dt > need / rl->rate)
        b->tokens = rl->cap;
    else
        b->tokens += dt * rl->rate; /* dt * rate <= need: no overflow */
    b->last = now;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The bucket of project, claiming (or reusing an idle) slot; lock held. */
static bucket_t *bucket_of(lo_ratelimit_t *rl, const uint8_t *project, int64_t now)
{
    if (project == NULL)
        return &rl->none;
    uint64_t a, b;
    memcpy(&a, project, 8);
    memcpy(&b, project + 8, 8);
    uint64_t h = mix(mix(a ^ rl->seed[0]) ^ b ^ rl->seed[1]);
    slot_t *set = rl->slots + (h & (rl->nsets - 1)) * WAYS, *room = NULL;
    for (int i = 0; i < WAYS; i++) {
        slot_t *s = &set[i];
        if (s->used && memcmp(s->key, project, 16) == 0)
            return &s->b;
        if (!s->used) {
            if (room == NULL || room->used)
                room = s;
        } else if (room == NULL) {
            refill(rl, &s->b, now);
            if (s->b.tokens == rl->cap)
                room = s; /* idle: forgetting it loses nothing */
        }
    }
    if (room == NULL)
        return &rl->overflow;
    memcpy(room->key, project, 16);
    room->used = true;
    room->b = (bucket_t){ rl->cap, now };
    return &room->b;
}

static int64_t charge(const lo_ratelimit_t *rl, int64_t n)
{
    if (n > MAX_TAKE)
        n = MAX_TAKE;
    int64_t want = n * NS;
    /* a request beyond the burst needs a full bucket, then leaves a debt */
    return want > rl->cap ? rl->cap : want;
}

int lo_ratelimit_take(lo_ratelimit_t *rl, const uint8_t *project_or_null, int64_t n)
{
    if (rl->rate == 0 || n <= 0)
        return LO_OK;
    int64_t now = rl->clock(rl->clock_ctx);
    int rc = LO_BUSY;
    pthread_mutex_lock(&rl->mu);
    bucket_t *b = bucket_of(rl, project_or_null, now);
    refill(rl, b, now);
    if (b->tokens >= charge(rl, n)) {
        b->tokens -= (n > MAX_TAKE ? MAX_TAKE : n) * NS;
        rc = LO_OK;
    }
    pthread_mutex_unlock(&rl->mu);
    return rc;
}

int64_t lo_ratelimit_retry_after(lo_ratelimit_t *rl, const uint8_t *project_or_null, int64_t n)
{
    if (rl->rate == 0 || n <= 0)
        return 1;
    int64_t now = rl->clock(rl->clock_ctx);
    pthread_mutex_lock(&rl->mu);
    bucket_t *b = bucket_of(rl, project_or_null, now);
    refill(rl, b, now);
    int64_t deficit = charge(rl, n) - b->tokens;
    pthread_mutex_unlock(&rl->mu);
    if (deficit <= 0)
        return 1;
    int64_t ns = deficit / rl->rate + (deficit % rl->rate != 0);
    int64_t s = ns / NS + (ns % NS != 0);
    return s < 1 ? 1 : s;
}
