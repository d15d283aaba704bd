/*
 * json_internal.h — shared by the OTLP/JSON decoder files (json_*.c), not a
 * public interface.
 *
 * The decoder parses the body with jansson, walks the tree with a fixed list
 * of lowerCamelCase keys per OTLP message, and fills the batch exactly as the
 * protobuf walker would.  Every error names the path of the offending value
 * ("resourceLogs[0].scopeLogs[0].logRecords[2].timeUnixNano: ...").  The
 * json_t tree is freed before lo_otlp_json_decode returns, so every string a
 * record keeps is copied into the batch arena first.
 */
#ifndef LO_OTLP_JSON_INTERNAL_H
#define LO_OTLP_JSON_INTERNAL_H

#include <jansson.h>

#include "core/json_write.h"
#include "otlp/otlp.h"

#define LO_JD_MAX_FRAMES 512

typedef struct {
    const char *name; /* key, or NULL for a bare index */
    long idx;         /* -1: no index */
} lo_jd_frame_t;

/* One decode: the batch, the limits, the current path, scratch buffers. */
typedef struct {
    lo_otlp_batch_t *b;
    const lo_decode_opts_t *o;
    lo_jd_frame_t fr[LO_JD_MAX_FRAMES];
    int nfr;          /* frames in use; may exceed LO_JD_MAX_FRAMES (not stored) */
    lo_buf_t tmp;     /* JSON renderings before they are copied into the arena */
    lo_buf_t tmp2;    /* a second one, for renderings nested in another (events) */
    lo_buf_t scratch; /* output that is dropped (redacted values, checked only) */
    lo_jw_t w_scratch;
    lo_buf_t scrub;     /* a string being scrubbed (redact.h) */
    const char *bad_id; /* lo_jd_id met a malformed id in the record being read */
} lo_jd_t;

/* A resource or scope, decoded once and shared by its records. */
typedef struct {
    lo_str_t json;          /* resource: JSON object of its attributes */
    lo_str_t name, version; /* scope */
    lo_env_cand_t cand;     /* envelope candidates of its attributes */
} lo_jd_owner_t;

/* ---- path ---- */
void lo_jd_push(lo_jd_t *c, const char *name, long idx);
void lo_jd_pop(lo_jd_t *c);
/* Records "<path>[.key]: <message>" as the 400 reason; returns LO_INVALID. */
int lo_jd_fail(lo_jd_t *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Looks up the members of obj by their OTLP/JSON names: out[i] is the value
 * under keys[i] (a NULL key is skipped), NULL when absent or JSON null.  A snake_case spelling of a
 * known key is LO_INVALID; other unknown keys are ignored.  obj must be an
 * object (check with lo_jd_obj first). */
/* An AnyValue's stringValue member (or string_value), or NULL. */
json_t *lo_jd_string_value(json_t *anyvalue);
int lo_jd_fields(lo_jd_t *c, json_t *obj, const char *const *keys, size_t n, json_t **out) LO_MUST_USE;

/* ---- typed values: v may be NULL (absent: the output is left alone) ---- */
int lo_jd_obj(lo_jd_t *c, const char *key, json_t *v) LO_MUST_USE; /* object or absent */
int lo_jd_arr(lo_jd_t *c, const char *key, json_t *v) LO_MUST_USE; /* array or absent */
/* A string copied into the arena, NUL replaced by U+FFFD. */
int lo_jd_str(lo_jd_t *c, const char *key, json_t *v, lo_str_t *out) LO_MUST_USE;
/* A string as a view into the tree (valid until the decode ends). */
int lo_jd_str_view(lo_jd_t *c, const char *key, json_t *v, lo_str_t *out) LO_MUST_USE;
int lo_jd_u64(lo_jd_t *c, const char *key, json_t *v, uint64_t *out) LO_MUST_USE;
int lo_jd_i64(lo_jd_t *c, const char *key, json_t *v, int64_t *out) LO_MUST_USE;
int lo_jd_u32(lo_jd_t *c, const char *key, json_t *v, uint32_t *out) LO_MUST_USE;
/* A 32-bit signed integer (sint32 fields: number or decimal string). */
int lo_jd_i32(lo_jd_t *c, const char *key, json_t *v, int32_t *out) LO_MUST_USE;
/* An enum: a JSON integer in int32 range (no strings). */
int lo_jd_enum(lo_jd_t *c, const char *key, json_t *v, int32_t *out) LO_MUST_USE;
int lo_jd_f64(lo_jd_t *c, const char *key, json_t *v, double *out) LO_MUST_USE;
int lo_jd_bool(lo_jd_t *c, const char *key, json_t *v, bool *out) LO_MUST_USE;
/* Hex string (case-insensitive) decoded into the arena; "" gives *n = 0. */
int lo_jd_hex(lo_jd_t *c, const char *key, json_t *v, uint8_t **out, size_t *n) LO_MUST_USE;
/* As lo_jd_hex, but a string that is not hex marks the record malformed
 * (c->bad_id = malformed, the first reason kept) and leaves *out NULL
 * rather than failing the request; malformed NULL: as lo_jd_hex. */
int lo_jd_hex_or(lo_jd_t *c, const char *key, json_t *v, uint8_t **out, size_t *n,
                 const char *malformed) LO_MUST_USE;
/* Hex id of exactly want bytes into out.  *has = false when absent or "".
 * A different length is LO_INVALID when strict, else ignored (*has false).
 * All zeros is "no id" (*has false), as in the protobuf walker. */
int lo_jd_id(lo_jd_t *c, const char *key, json_t *v, uint8_t *out, size_t want, bool strict,
             bool *has) LO_MUST_USE;

/* Copies JSON text from a scratch buffer into the arena. */
int lo_jd_keep(lo_jd_t *c, const lo_buf_t *buf, size_t from, lo_str_t *out) LO_MUST_USE;

/* ---- OTLP common messages ---- */

/* Renders one AnyValue (v: object, or NULL = empty value) at nesting depth
 * depth (1 for an attribute's value). */
int lo_jd_anyvalue(lo_jd_t *c, lo_jw_t *w, json_t *v, int depth) LO_MUST_USE;
/* The same, its strings scrubbed by mode (TEXT or URL: redact.h), and the
 * values of the key-value lists within by the stronger of mode and their
 * own key's. */
int lo_jd_anyvalue_mode(lo_jd_t *c, lo_jw_t *w, json_t *v, int depth, lo_redact_mode_t mode) LO_MUST_USE;
/* Scrubs a string already copied into the arena (redact.h) when mode finds
 * secrets in it.  LO_OK or LO_ERROR. */
int lo_jd_scrub(lo_jd_t *c, lo_redact_mode_t mode, lo_str_t *s) LO_MUST_USE;
/* Renders []KeyValue (arr may be NULL) as one JSON object into w.  When cand
 * is set, top-level string values are noted as envelope candidates (views
 * into the tree).  When pair_hash is set, it accumulates lo_labels_hash_add
 * over each "key":value text and *npairs counts them. */
int lo_jd_attrs(lo_jd_t *c, lo_jw_t *w, json_t *arr, const char *key, lo_env_cand_t *cand,
                uint64_t *pair_hash, size_t *npairs) LO_MUST_USE;
/* Renders attributes into c->tmp and copies the JSON object into the arena. */
int lo_jd_attrs_keep(lo_jd_t *c, json_t *arr, const char *key, lo_env_cand_t *cand,
                     lo_str_t *out) LO_MUST_USE;
/* Decodes a Resource (v may be NULL) under key "resource". */
int lo_jd_resource(lo_jd_t *c, json_t *v, lo_jd_owner_t *res) LO_MUST_USE;
/* Decodes an InstrumentationScope (v may be NULL) under key "scope". */
int lo_jd_scope(lo_jd_t *c, json_t *v, lo_jd_owner_t *scope) LO_MUST_USE;
/* Resolves env from the record's candidates, the scope's and the resource's. */
void lo_jd_envelope(lo_envelope_t *env, const lo_env_cand_t *rec, const lo_jd_owner_t *scope,
                    const lo_jd_owner_t *res);

/* Appends a zeroed record to the batch, charged to the decode's memory
 * budget; NULL when over it (LO_TOO_LARGE) or out of memory. */
void *lo_jd_push_record(lo_jd_t *c) LO_MUST_USE;

/* ---- per signal (json_logs.c, json_traces.c, json_metrics.c) ---- */

/* The nesting every OTLP/JSON request shares, named per signal:
 * {resources: [{resource, scopes: [{scope, records: [...]}]}]}; the
 * signal decodes one element of records (a log record, a span, a metric). */
typedef struct {
    const char *resources; /* "resourceLogs" */
    const char *scopes;    /* "scopeLogs" */
    const char *records;   /* "logRecords" */
    int (*record)(lo_jd_t *c, json_t *v, const lo_jd_owner_t *res, const lo_jd_owner_t *scope);
} lo_jd_signal_t;

extern const lo_jd_signal_t lo_jd_logs, lo_jd_traces, lo_jd_metrics;

/* Walks root (an object) through resources and scopes, calling sig->record
 * for every record with its resource and scope. */
int lo_jd_walk(lo_jd_t *c, json_t *root, const lo_jd_signal_t *sig) LO_MUST_USE;

#endif
