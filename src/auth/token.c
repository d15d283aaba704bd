/*
 * token.c — token and project rows: creation, listing, revocation.
 * SQL lives here, every value bound as a parameter.
 */
#include "auth/token.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/ids.h"
#include "core/utf8.h"
#include "store/store.h"

#define OID_BYTEA 17

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 32 bytes -> 43 characters, no padding. */
static void base64url_32(const uint8_t in[32], char out[44])
{
    size_t o = 0;
    for (size_t i = 0; i < 30; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    uint32_t v = (uint32_t)in[30] << 16 | (uint32_t)in[31] << 8;
    out[o++] = b64url[v >> 18 & 63];
    out[o++] = b64url[v >> 12 & 63];
    out[o++] = b64url[v >> 6 & 63];
    out[o] = '\0';
}

int lo_token_generate(char out[LO_TOKEN_LEN + 1], uint8_t sha256[32])
{
    uint8_t raw[32];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return LO_ERROR;
    memcpy(out, "lo_", 3);
    base64url_32(raw, out + 3);
    OPENSSL_cleanse(raw, sizeof(raw));
    unsigned int len = 0;
    if (EVP_Digest(out, LO_TOKEN_LEN, sha256, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        OPENSSL_cleanse(out, LO_TOKEN_LEN + 1);
        return LO_ERROR;
    }
    return LO_OK;
}

int lo_name_check(const char *name, const char *what, char *err, size_t errlen)
{
    size_t n = strnlen(name, 4 * LO_NAME_MAX_CHARS + 1);
    if (n == 0) {
        snprintf(err, errlen, "%s name must not be empty", what);
        return LO_INVALID;
    }
    if (!lo_utf8_valid(name, n) || name[n] != '\0') {
        snprintf(err, errlen, "%s name is not valid UTF-8 or longer than %d characters", what,
                 LO_NAME_MAX_CHARS);
        return LO_INVALID;
    }
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f) {
            snprintf(err, errlen, "%s name must not contain control characters", what);
            return LO_INVALID;
        }
        if ((ch & 0xc0) != 0x80)
            chars++;
    }
    if (chars > LO_NAME_MAX_CHARS) {
        snprintf(err, errlen, "%s name is longer than %d characters", what, LO_NAME_MAX_CHARS);
        return LO_INVALID;
    }
    return LO_OK;
}

/* Turns a failed result into a message; says "run lookout migrate" when
 * the schema is missing. */
static int db_fail(PGconn *c, PGresult *r, const char *what, char *err, size_t errlen)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state != NULL && (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0)) {
        snprintf(err, errlen, "%s: the database schema is missing or old; run `lookout migrate` first", what);
        return LO_ERROR;
    }
    char msg[400];
    lo_store_errmsg(c, r, msg, sizeof(msg));
    snprintf(err, errlen, "%s: %s", what, msg);
    return lo_store_error_class(c, r);
}

/* "{uuid,uuid}" from distinct projects; out needs 2 + 37 * n bytes. */
static size_t uuid_array_text(const uint8_t (*p)[16], size_t n, char *out)
{
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || memcmp(p[i], p[j], 16) == 0;
        if (dup)
            continue;
        if (o > 1)
            out[o++] = ',';
        lo_uuid_format(p[i], out + o);
        o += 36;
    }
    out[o++] = '}';
    out[o] = '\0';
    return o;
}

int lo_token_create(PGconn *c, const char *name, unsigned scopes, const uint8_t (*projects)[16],
                    size_t n_projects, char token_out[LO_TOKEN_LEN + 1], int64_t *id_out, char *err,
                    size_t errlen)
{
    int rc = lo_name_check(name, "token", err, errlen);
    if (rc != LO_OK)
        return rc;
    char scope_list[96];
    if (scopes == 0 || lo_scopes_format(scopes, scope_list + 1, sizeof(scope_list) - 2) != LO_OK) {
        snprintf(err, errlen, "a token needs at least one scope (ingest, observe:read, alert:manage, admin)");
        return LO_INVALID;
    }
    scope_list[0] = '{';
    strcat(scope_list, "}");
    if (n_projects > LO_TOKEN_MAX_PROJECTS) {
        snprintf(err, errlen, "a token may be bound to at most %d projects", LO_TOKEN_MAX_PROJECTS);
        return LO_INVALID;
    }
    char project_list[2 + 37 * LO_TOKEN_MAX_PROJECTS + 1];
    uuid_array_text(projects, n_projects, project_list);

    PGresult *r = NULL;
    const char *pv[4];
    int pl[4] = { 0, 0, 0, 0 }, pf[4] = { 0, 0, 0, 0 };
    Oid pt[4] = { 0, 0, 0, 0 };

    /* a typo in --project would make a useless token: refuse unknown projects */
    pv[0] = project_list;
    r = PQexecParams(c,
                     "SELECT u::text FROM unnest($1::uuid[]) AS u "
                     "WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = u) LIMIT 1",
                     1, NULL, pv, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = db_fail(c, r, "checking projects", err, errlen);
        goto cleanup;
    }
    if (PQntuples(r) > 0) {
        snprintf(err, errlen, "project %s does not exist (lookout project create makes one)",
                 PQgetvalue(r, 0, 0));
        rc = LO_NOT_FOUND;
        goto cleanup;
    }
    PQclear(r);
    r = NULL;

    uint8_t sha[32];
    if (lo_token_generate(token_out, sha) != LO_OK) {
        snprintf(err, errlen, "the random number generator failed");
        rc = LO_ERROR;
        goto cleanup;
    }
    pv[0] = name;
    pv[1] = (const char *)sha;
    pl[1] = 32;
    pf[1] = 1;
    pt[1] = OID_BYTEA;
    pv[2] = scope_list;
    pv[3] = project_list;
    r = PQexecParams(c,
                     "INSERT INTO api_tokens (name, token_sha256, scopes, project_ids) "
                     "VALUES ($1, $2, $3::text[], $4::uuid[]) RETURNING id",
                     4, pt, pv, pl, pf, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        OPENSSL_cleanse(token_out, LO_TOKEN_LEN + 1);
        rc = db_fail(c, r, "creating the token", err, errlen);
        goto cleanup;
    }
    *id_out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    rc = LO_OK;

cleanup:
    PQclear(r);
    return rc;
}

int lo_token_list(PGconn *c, lo_token_list_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    PGresult *r = PQexec(c, "SELECT id, name, array_to_string(scopes, ','), "
                            "array_to_string(project_ids, ','), "
                            "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                            "to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                            "FROM api_tokens ORDER BY id");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = db_fail(c, r, "listing tokens", err, errlen);
        PQclear(r);
        return rc;
    }
    size_t n = (size_t)PQntuples(r);
    out->items = calloc(n ? n : 1, sizeof(*out->items));
    if (out->items == NULL) {
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return LO_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        lo_token_info_t *t = &out->items[i];
        t->id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
        t->name = PQgetvalue(r, (int)i, 1);
        t->scopes = PQgetvalue(r, (int)i, 2);
        t->projects = PQgetvalue(r, (int)i, 3);
        t->created_at = PQgetvalue(r, (int)i, 4);
        t->revoked_at = PQgetisnull(r, (int)i, 5) ? NULL : PQgetvalue(r, (int)i, 5);
    }
    out->n = n;
    out->res = r;
    return LO_OK;
}

void lo_token_list_free(lo_token_list_t *l)
{
    if (l == NULL)
        return;
    free(l->items);
    PQclear(l->res);
    memset(l, 0, sizeof(*l));
}

int lo_token_revoke(PGconn *c, int64_t id, bool *already, char *err, size_t errlen)
{
    char idtext[24];
    snprintf(idtext, sizeof(idtext), "%" PRId64, id);
    const char *pv[1] = { idtext };
    /* now() is the transaction's start: a different value means revoked before */
    PGresult *r = PQexecParams(c,
                               "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) "
                               "WHERE id = $1::bigint RETURNING revoked_at <> now()",
                               1, NULL, pv, NULL, NULL, 0);
    int rc;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = db_fail(c, r, "revoking the token", err, errlen);
    } else if (PQntuples(r) == 0) {
        snprintf(err, errlen, "no token with id %" PRId64, id);
        rc = LO_NOT_FOUND;
    } else {
        *already = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        rc = LO_OK;
    }
    PQclear(r);
    return rc;
}

int lo_project_create(PGconn *c, const char *name, bool is_public, uint8_t id_out[16], char *err,
                      size_t errlen)
{
    int rc = lo_name_check(name, "project", err, errlen);
    if (rc != LO_OK)
        return rc;
    uint8_t id[16];
    if (RAND_bytes(id, sizeof(id)) != 1) {
        snprintf(err, errlen, "the random number generator failed");
        return LO_ERROR;
    }
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* version 4 */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    char idtext[37];
    lo_uuid_format(id, idtext);
    const char *pv[3] = { idtext, name, is_public ? "true" : "false" };
    PGresult *r =
        PQexecParams(c, "INSERT INTO projects (id, name, public) VALUES ($1::uuid, $2, $3::boolean)", 3, NULL,
                     pv, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        memcpy(id_out, id, 16);
        rc = LO_OK;
    } else {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state != NULL && strcmp(state, "23505") == 0) {
            snprintf(err, errlen, "a project named \"%s\" already exists", name);
            rc = LO_EXISTS;
        } else {
            rc = db_fail(c, r, "creating the project", err, errlen);
        }
    }
    PQclear(r);
    return rc;
}
