/*
 * admit.h — what ingest accepts of a decoded request, decided in one place
 * before the request is queued (docs/auth.md, "Admission").
 *
 * In order: the token's project is stamped on records that name none and
 * records naming a project the token may not write are dropped; records
 * outside the acceptance window (store/retention.h) are dropped; both are
 * counted in the batch's partial_success.  Then every project is charged
 * its record count against its rate limit.
 *
 * Rate limits apply here, before session enrichment (which happens in the
 * writer): a record is charged to the project it carries at admission.
 * With session_lend_project on, a record that only later takes a project
 * from its session is charged to the shared bucket of records without a
 * project — the limit is decided on the HTTP thread, so 429 is answered
 * before the request is queued.
 */
#ifndef LO_INGEST_ADMIT_H
#define LO_INGEST_ADMIT_H

#include "auth/auth.h"
#include "ingest/ratelimit.h"
#include "otlp/otlp.h"
#include "store/retention.h"

typedef struct {
    const lo_retention_t *retention;
    lo_ratelimit_t *ratelimit; /* NULL: no rate limit */
} lo_admit_t;

/* Applies the rules above to b at now (Unix ns).  LO_OK (b holds the
 * admitted records; b->rejected and b->reject_reason say what was
 * dropped), or LO_BUSY: a project is over its rate limit, *retry_s
 * seconds until it is not. */
int lo_admit(const lo_admit_t *a, const lo_principal_t *who, lo_otlp_batch_t *b, int64_t now,
             int64_t *retry_s) LO_MUST_USE;

#endif
