/*
 * ratelimit.h — per-project ingest rate limits (docs/auth.md, "Rate limits").
 *
 * One token bucket per project: it refills at rate records per second up to
 * burst records.  A request takes as many tokens as it carries records; when
 * the bucket cannot pay, the request is refused (429) and takes nothing.  A
 * request larger than the whole burst passes when the bucket is full and
 * leaves it in debt, so big batches are slowed, never refused forever.
 *
 * Memory is bounded: at most max_projects buckets.  A project that finds no
 * room reuses the bucket of an idle project (a full bucket carries no state);
 * if every bucket is busy it shares one overflow bucket.  Records without a
 * project share one bucket of their own.  Thread-safe.
 */
#ifndef LO_RATELIMIT_H
#define LO_RATELIMIT_H

#include "core/config.h"
#include "core/lo.h"

typedef struct lo_ratelimit lo_ratelimit_t;

/* A clock in nanoseconds (monotonic); tests inject their own. */
typedef int64_t (*lo_clock_fn)(void *ctx);

#define LO_RATELIMIT_DEFAULT_PROJECTS 4096

/* From rate_limit_records and rate_limit_burst (0: one second of rate);
 * rate 0 means unlimited (take always answers LO_OK). */
lo_ratelimit_t *lo_ratelimit_create(const lo_config_t *cfg);
/* The same with explicit numbers and clock (NULL: lo_mono_ns). */
lo_ratelimit_t *lo_ratelimit_create_ex(int64_t rate, int64_t burst, size_t max_projects, lo_clock_fn clock,
                                       void *clock_ctx);
void lo_ratelimit_destroy(lo_ratelimit_t *rl);

/* Takes n records for project (16 bytes; NULL: records without a project).
 * LO_OK: admitted.  LO_BUSY: over the limit, nothing taken (answer 429). */
int lo_ratelimit_take(lo_ratelimit_t *rl, const uint8_t *project_or_null, int64_t n) LO_MUST_USE;

/* Seconds until n records for project would be admitted (at least 1): a
 * Retry-After value for the 429. */
int64_t lo_ratelimit_retry_after(lo_ratelimit_t *rl, const uint8_t *project_or_null, int64_t n);

#endif
