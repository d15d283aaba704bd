/*
 * token.h — managing API tokens and projects in PostgreSQL: what
 * `lookout token` and `lookout project` do, usable from tests too.
 *
 * Every function takes an open connection, binds every value as a
 * parameter, and on failure writes a message for a human into err.  When
 * the tables do not exist yet the message says to run `lookout migrate`.
 */
#ifndef LO_TOKEN_H
#define LO_TOKEN_H

#include <libpq-fe.h>

#include "auth/auth.h"
#include "core/lo.h"

#define LO_TOKEN_LEN      46  /* "lo_" + 43 base64url characters */
#define LO_NAME_MAX_CHARS 200 /* token and project names: 1..200 characters */

/* Makes a new random token (256 bits from the OpenSSL CSPRNG) and its
 * SHA-256.  out receives LO_TOKEN_LEN characters + NUL. */
int lo_token_generate(char out[LO_TOKEN_LEN + 1], uint8_t sha256[32]) LO_MUST_USE;

/* LO_OK when name is 1..200 characters of valid UTF-8 without control
 * characters; else LO_INVALID with the reason in err. */
int lo_name_check(const char *name, const char *what, char *err, size_t errlen) LO_MUST_USE;

/* Creates a token with these scopes (LO_SCOPE_* bits, at least one), bound to
 * the given projects (0..LO_TOKEN_MAX_PROJECTS; none: every project).  The
 * projects must exist.  token_out gets the token (shown once, never stored),
 * *id_out its id.  LO_INVALID: bad input (err says which); LO_NOT_FOUND: a
 * project does not exist; LO_UNAVAIL / LO_ERROR: database failure. */
int lo_token_create(PGconn *c, const char *name, unsigned scopes, const uint8_t (*projects)[16],
                    size_t n_projects, char token_out[LO_TOKEN_LEN + 1], int64_t *id_out, char *err,
                    size_t errlen) LO_MUST_USE;

/* One row of lo_token_list; the strings live until lo_token_list_free. */
typedef struct {
    int64_t id;
    const char *name;
    const char *scopes;     /* "ingest,observe:read" */
    const char *projects;   /* comma-separated UUIDs; "" when not bound */
    const char *created_at; /* "2026-11-28T07:31:31Z" (UTC) */
    const char *revoked_at; /* NULL while the token is active */
} lo_token_info_t;

typedef struct {
    lo_token_info_t *items;
    size_t n;
    PGresult *res; /* owns the strings */
} lo_token_list_t;

/* Every token, oldest first (never the hashes). */
int lo_token_list(PGconn *c, lo_token_list_t *out, char *err, size_t errlen) LO_MUST_USE;
void lo_token_list_free(lo_token_list_t *l);

/* Revokes token id.  LO_OK (*already says whether it had been revoked
 * before), LO_NOT_FOUND: no such token. */
int lo_token_revoke(PGconn *c, int64_t id, bool *already, char *err, size_t errlen) LO_MUST_USE;

/* Creates a project with a random (version 4) UUID.  LO_INVALID: bad name;
 * LO_EXISTS: a project of that name exists. */
int lo_project_create(PGconn *c, const char *name, bool is_public, uint8_t id_out[16], char *err,
                      size_t errlen) LO_MUST_USE;

#endif
