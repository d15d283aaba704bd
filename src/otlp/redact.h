/*
 * redact.h — what of a telemetry record is never stored as sent (redact.c):
 * the values of sensitive attribute keys, and secrets inside free text and
 * URLs.  Both OTLP decoders (pb_*.c, json_*.c) ask these functions and
 * nothing else, so they redact alike.  The rules, with their defaults, are
 * in docs/auth.md ("Redaction").
 *
 * Keys.  A key is split into segments at every ASCII character that is not a
 * letter or digit and at camelCase boundaries (clientSecret: client, secret);
 * zero-width characters (U+200B..U+200D, U+2060, U+FEFF, U+00AD) are ignored
 * wherever they are.  A deny-list entry is itself a run of segments
 * (x-api-key: x, api, key) and matches a key holding the same run of
 * consecutive segments, case-insensitive, whatever separators the key uses
 * (X_API_KEY, xApiKey).  A match directly followed by a qualifier segment
 * (count, type, name, id, ...: token_count, secret.name) does not count.
 *
 * Free text and URLs are scrubbed, not replaced: only the secret part of a
 * string becomes "[REDACTED]" (lo_redact_scrub).
 */
#ifndef LO_OTLP_REDACT_H
#define LO_OTLP_REDACT_H

#include "core/arena.h"
#include "core/buf.h"
#include "core/lo.h"

typedef struct lo_redact lo_redact_t;
struct lo_config;

/* What happens to a value, weakest first: a value under a key inherits the
 * strongest of its own key's mode and its container's. */
typedef enum {
    LO_REDACT_KEEP = 0,  /* stored as sent */
    LO_REDACT_TEXT = 1,  /* free text: strings are scrubbed */
    LO_REDACT_URL = 2,   /* URL or connection string: scrubbed, signature-like parameters too */
    LO_REDACT_VALUE = 3, /* the whole value is stored as "[REDACTED]" */
} lo_redact_mode_t;

#define LO_REDACTED "[REDACTED]"

typedef struct {
    const char *keys;      /* comma-separated deny-list (redact_keys) */
    const char *url_keys;  /* keys whose string values are URLs or connection strings; NULL: none */
    const char *text_keys; /* keys whose string values are free text; NULL: none */
    bool patterns;         /* scrub free text: log bodies, span status messages, text_keys */
} lo_redact_conf_t;

/* NULL on OOM.  Entries are trimmed; empty ones are skipped. */
lo_redact_t *lo_redact_new(const lo_redact_conf_t *c);
/* A deny-list alone: no URL or free-text scrubbing. */
lo_redact_t *lo_redact_create(const char *keys);
/* From the settings redact_keys, redact_url_keys, redact_text_keys,
 * redact_patterns. */
lo_redact_t *lo_redact_from_config(const struct lo_config *c);
void lo_redact_destroy(lo_redact_t *r);

/* The mode of the value under key (raw bytes, any encoding).  KEEP for a
 * NULL r. */
lo_redact_mode_t lo_redact_key(const lo_redact_t *r, const char *key, size_t n);
/* True when the value under key must be stored as "[REDACTED]". */
bool lo_redact_match(const lo_redact_t *r, const char *key, size_t n);
/* The mode of log bodies and span status messages: TEXT when patterns are
 * on, else KEEP. */
lo_redact_mode_t lo_redact_text_mode(const lo_redact_t *r);

/* Scrubs s as free text (mode TEXT) or as a URL / connection string (mode
 * URL); KEEP and VALUE scrub nothing.  Returns the number of secrets
 * replaced; when it is 0, out is untouched, otherwise the scrubbed text is
 * appended to out (check out->err).  Each replacement consumes at least 2
 * bytes of s of its own and grows the text by at most 9, so count <= n / 2
 * and the text appended is at most n + 9 * count bytes.  Linear in n.
 * Replaced:
 *  - "Bearer <token>" (any case; a token of [A-Za-z0-9._~+/=-] with 16
 *    characters or more, or with something besides letters);
 *  - a sensitive word, optional spaces, '=' or ':', optional spaces and an
 *    opening quote, then the value: up to whitespace, '&', ';', ',' or a
 *    quote, or when quoted up to the closing quote or the end of the line.
 *    The word is the identifier before the separator (letters, digits and
 *    _ . - [ ], optionally quoted) and sensitive by the key rule; an authentication
 *    scheme (Bearer, Basic, ...) opening the value is kept;
 *  - the userinfo of "scheme://user:password@host".
 * In mode URL the word may also be a signature-like query parameter (sig,
 * signature, credential, AWSAccessKeyId, AccountKey, SharedAccessKey, code,
 * pwd). */
size_t lo_redact_scrub(const lo_redact_t *r, lo_redact_mode_t mode, const char *s, size_t n, lo_buf_t *out);

/* Scrubs *s (mode as above) and, when something was replaced, points *s at
 * the scrubbed copy in the arena; scratch is reset and used meanwhile.
 * LO_OK, or LO_ERROR on OOM. */
int lo_redact_str(const lo_redact_t *r, lo_redact_mode_t mode, lo_buf_t *scratch, lo_arena_t *a,
                  lo_str_t *s) LO_MUST_USE;

#endif
