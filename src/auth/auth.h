/*
 * auth.h — API tokens: who is calling, with which scopes, for which projects.
 *
 * A token is "lo_" + 43 base64url characters (256 random bits), shown once;
 * the database keeps its SHA-256 only.  Checks are cached in memory for
 * token_cache_seconds (positive and negative answers), so ingest does not
 * query per request; revocation takes effect within that time.
 */
#ifndef LO_AUTH_H
#define LO_AUTH_H

#include "core/config.h"
#include "core/lo.h"
#include "store/pool.h"

#define LO_SCOPE_INGEST       0x1u
#define LO_SCOPE_OBSERVE_READ 0x2u
#define LO_SCOPE_ALERT_MANAGE 0x4u
#define LO_SCOPE_ADMIN        0x8u

#define LO_TOKEN_MAX_PROJECTS 64

/* The authenticated caller. */
typedef struct {
    int64_t token_id;
    unsigned scopes;   /* LO_SCOPE_* bits; admin implies all */
    size_t n_projects; /* 0: not bound to projects */
    uint8_t projects[LO_TOKEN_MAX_PROJECTS][16];
} lo_principal_t;

typedef struct lo_auth lo_auth_t;

lo_auth_t *lo_auth_create(const lo_config_t *cfg, lo_pg_pool_t *pool);
void lo_auth_destroy(lo_auth_t *a);

/* Authenticates an Authorization header value ("Bearer <token>", may be NULL).
 * LO_OK: *out filled.  LO_DENIED: missing, malformed, unknown or revoked
 * (401).  LO_UNAVAIL: not cached and the database is unreachable (503).
 * LO_BUSY: not cached and too many look-ups right now (429, retryable). */
int lo_auth_check(lo_auth_t *a, const char *authorization, lo_principal_t *out) LO_MUST_USE;

/* True when the principal holds the scope (admin holds every scope). */
bool lo_principal_has_scope(const lo_principal_t *p, unsigned scope);
/* True when the principal is unbound or bound to this project. */
bool lo_principal_allows_project(const lo_principal_t *p, const uint8_t project[16]);

/* Parses "ingest,observe:read" into LO_SCOPE_* bits; LO_INVALID on an unknown name. */
int lo_scopes_parse(const char *list, unsigned *out) LO_MUST_USE;
/* Writes the scope names of bits as "ingest,observe:read" (canonical order);
 * LO_INVALID when out is too small (64 bytes always suffice). */
int lo_scopes_format(unsigned bits, char *out, size_t outlen) LO_MUST_USE;
/* The bits of a comma-separated list as PostgreSQL prints text[] contents;
 * names this version does not know are ignored (a newer lookout may have
 * added them). */
unsigned lo_scopes_from_csv(const char *s);

#endif
