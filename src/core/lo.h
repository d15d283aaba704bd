/*
 * lo.h — the few definitions every lookout module shares: return codes,
 * string views, and small helpers.  Nothing here allocates.
 */
#ifndef LO_H
#define LO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

/* Result codes.  Functions return one of these (or a count >= 0 where
 * said); each code has one meaning, and the HTTP status it maps to where it
 * reaches a client. */
typedef enum {
    LO_OK = 0,
    LO_ERROR = -1,     /* internal failure (out of memory, I/O): 500 */
    LO_BUSY = -2,      /* try again later: 429 (queue full) */
    LO_UNAVAIL = -3,   /* storage unavailable: 503 */
    LO_INVALID = -4,   /* the input is malformed: 400 */
    LO_TOO_LARGE = -5, /* the input exceeds a configured size: 413 */
    LO_DECLINED = -6,  /* not handled here: the caller tries what comes next */
    LO_NOT_FOUND = -7, /* the thing named (project, token, task) does not exist: 404 */
    LO_DENIED = -8,    /* credentials missing, malformed, unknown, expired or revoked: 401 */
    LO_EXISTS = -9,    /* it exists already: 409 */
    LO_ABSENT = -10,   /* an optional part of the input is not there (not an error) */
    LO_BEHIND = -11,   /* the database schema is older than this binary */
} lo_rc_t;

#define LO_MUST_USE     __attribute__((warn_unused_result))
#define LO_UNUSED(x)    ((void)(x))
#define LO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A length + pointer view; not NUL-terminated, never owns its bytes. */
typedef struct {
    const char *p;
    size_t len;
} lo_str_t;

#define LO_STR_LIT(s) ((lo_str_t){ (s), sizeof(s) - 1 })
#define LO_STR_NULL   ((lo_str_t){ NULL, 0 })

static inline lo_str_t lo_str(const char *p, size_t len)
{
    lo_str_t s = { p, len };
    return s;
}

static inline bool lo_str_eq(lo_str_t a, const char *lit)
{
    size_t n = strlen(lit);
    return a.len == n && (n == 0 || memcmp(a.p, lit, n) == 0);
}

/* Signals carried by OTLP. */
typedef enum {
    LO_SIGNAL_LOGS = 0,
    LO_SIGNAL_SPANS = 1,
    LO_SIGNAL_METRICS = 2,
    LO_SIGNAL_COUNT = 3
} lo_signal_t;

/* "logs", "spans", "metrics" */
const char *lo_signal_name(lo_signal_t s);

/* Wall clock in Unix nanoseconds. */
int64_t lo_now_ns(void);
/* Monotonic clock in nanoseconds. */
int64_t lo_mono_ns(void);

/* Sets the allocator's thresholds for a long-running process that reads
 * the cold tier (called first thing by main). */
void lo_malloc_tune(void);

#endif
