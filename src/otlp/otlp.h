/*
 * otlp.h — what an OTLP request decodes to, whichever its encoding.
 *
 * The protobuf walker (pb_*.c) and the OTLP/JSON decoder (json_*.c) both fill
 * a lo_otlp_batch_t with flat records: one per log record, span, or metric
 * data point.  Strings are views into the request body when they can be
 * (protobuf string fields that are valid UTF-8) and otherwise live in the
 * batch's arena (JSON renderings of attributes, repaired strings).  The batch
 * is valid while the body and the arena live; nothing in it is freed alone.
 *
 * Invariants a decoder guarantees for every record it emits:
 *  - every lo_str_t is valid UTF-8 without NUL (safe for text and jsonb);
 *  - JSON fields (attributes, resource, events, links, labels, buckets,
 *    message-from-body) are complete JSON texts; empty len means "none";
 *  - sensitive attribute values are already replaced by "[REDACTED]", and
 *    secrets in URLs and free text scrubbed (redact.h);
 *  - the correlation envelope (env) is resolved from the record, scope and
 *    resource per docs/ingest-storage.md, except what only agent_sessions can tell;
 *  - time_ns is never 0 (falls back to observed time, then receive time).
 */
#ifndef LO_OTLP_H
#define LO_OTLP_H

#include "core/arena.h"
#include "core/ids.h"
#include "core/buf.h"
#include "core/lo.h"
#include "otlp/redact.h"

/* The correlation envelope every stored record carries (docs/ingest-storage.md). */
typedef struct {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t session_id[16]; /* UUID bytes */
    uint8_t project_id[16];
    uint8_t user_id[16];
    bool has_trace_id, has_span_id, has_session, has_project, has_user;
    lo_str_t service;      /* resource service.name, else "unknown_service" */
    const char *malformed; /* why admission must refuse the record (a static text), or NULL */
} lo_envelope_t;

typedef struct {
    lo_envelope_t env;
    uint8_t id[16];      /* the row's id (UUIDv7): all zero until the writer mints it,
                          * before its first COPY of the record, and kept through retries */
    int64_t time_ns;     /* resolved: time, else observed, else receive */
    int64_t observed_ns; /* 0 when absent */
    int32_t severity_number;
    lo_str_t severity_text;
    lo_str_t level;      /* trace|debug|info|warn|error|fatal|<severity_text lower>|unspecified */
    lo_str_t message;    /* body string, or the body as JSON; "" when absent */
    int32_t body_kind;   /* the body's AnyValue kind (its protobuf field): 0 none, 1 string,
                          * 2 bool, 3 int, 4 double, 5 array, 6 kvlist, 7 bytes */
    lo_str_t attributes; /* JSON object */
    lo_str_t resource;   /* JSON object of resource attributes (shared by the resource's records) */
    lo_str_t scope_name, scope_version;
    lo_str_t event_name;
    uint32_t flags;
    uint32_t dropped_attributes_count;
} lo_log_rec_t;

typedef struct {
    lo_envelope_t env; /* env.trace_id/span_id are the span's own */
    uint8_t parent_span_id[8];
    bool has_parent;
    lo_str_t name;
    lo_str_t trace_state;
    int32_t kind; /* 0..5 as OTLP */
    int64_t start_ns, end_ns;
    lo_str_t attributes; /* JSON object */
    lo_str_t events;     /* JSON array of {"time_unix_nano","name","attributes","dropped_attributes_count"} */
    lo_str_t links;      /* JSON array of {"trace_id","span_id","trace_state","attributes","flags"} */
    int32_t status_code; /* 0 unset, 1 ok, 2 error */
    lo_str_t status_message;
    uint32_t flags;
    uint32_t dropped_attributes_count, dropped_events_count, dropped_links_count;
    lo_str_t resource;
    lo_str_t scope_name, scope_version;
} lo_span_rec_t;

typedef enum {
    LO_METRIC_GAUGE = 1,
    LO_METRIC_SUM = 2,
    LO_METRIC_HISTOGRAM = 3,
    LO_METRIC_EXP_HISTOGRAM = 4,
    LO_METRIC_SUMMARY = 5
} lo_metric_type_t;

/* One data point.  Series identity = name + labels + service + project. */
typedef struct {
    lo_envelope_t env;
    lo_str_t name, description, unit;
    lo_metric_type_t type;
    int32_t temporality; /* 0 unspecified, 1 delta, 2 cumulative */
    bool monotonic;
    lo_str_t labels;      /* JSON object of data point attributes */
    uint64_t labels_hash; /* order-independent hash of the label pairs (lo_labels_hash_*) */
    lo_str_t resource;    /* series metadata, not identity */
    lo_str_t scope_name, scope_version;
    int64_t start_ns, time_ns;
    /* gauge and sum */
    double value;
    bool has_value;
    /* histogram, exponential histogram, summary */
    uint64_t count;
    double sum, min, max;
    bool has_sum, has_min, has_max;
    /* histogram: {"bounds":[..],"counts":[..]}
     * exponential: {"scale":s,"zero_count":z,"zero_threshold":t,
     *               "positive":{"offset":o,"counts":[..]},"negative":{...}}
     * summary: {"quantiles":[[q,v],..]}
     * empty for gauge and sum */
    lo_str_t buckets;
    /* exemplars: [{"time_unix_nano":"…","value":v,"trace_id":"…","span_id":"…",
     * "attributes":{..}},..] (value, trace_id and span_id when given; ids of
     * their proper length and not all zero only); empty when none */
    lo_str_t exemplars;
    uint32_t flags;
} lo_sample_rec_t;

/* Limits and settings a decoder obeys. */
typedef struct {
    int max_depth;             /* AnyValue nesting; deeper is LO_INVALID */
    int64_t receive_ns;        /* fallback timestamp */
    const lo_redact_t *redact; /* may be NULL: redact nothing */
} lo_decode_opts_t;

typedef struct {
    lo_signal_t signal;
    lo_arena_t *arena; /* owned by the caller */
    union {
        lo_log_rec_t *logs;
        lo_span_rec_t *spans;
        lo_sample_rec_t *samples;
        void *recs;
    };
    size_t n, cap;      /* records (malloc'd array, grown by lo_otlp_batch_push) */
    size_t max_records; /* 0: no bound; else push fails past it (a body of empty
                         * records must not make the array outgrow memory) */
    int64_t rejected;   /* records dropped by later checks (project binding, age) */
    char reject_reason[160];
    char error[256]; /* why decoding failed (LO_INVALID), for the 400 body */
} lo_otlp_batch_t;

void lo_otlp_batch_init(lo_otlp_batch_t *b, lo_signal_t signal, lo_arena_t *arena);
/* Frees the record array (not the arena). Accepts a zeroed batch. */
void lo_otlp_batch_free(lo_otlp_batch_t *b);
/* Appends one zeroed record and returns it; NULL on OOM or past max_records. */
void *lo_otlp_batch_push(lo_otlp_batch_t *b) LO_MUST_USE;

/* sizeof the record type of signal s (the stride of lo_otlp_batch_t.recs). */
size_t lo_otlp_rec_size(lo_signal_t s);
/* Records a 400 reason (printf) and returns LO_INVALID. */
int lo_otlp_fail(lo_otlp_batch_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Decoders.  Return LO_OK, LO_INVALID (b->error says why; the batch must be
 * discarded: nothing of a malformed request is stored) or LO_ERROR (OOM /
 * arena limit).  The JSON decoder also returns LO_TOO_LARGE (413) when the
 * parsed tree and records would exceed its memory budget (json_decode.c). */
int lo_otlp_pb_decode(lo_signal_t s, const uint8_t *p, size_t n, const lo_decode_opts_t *o,
                      lo_otlp_batch_t *b) LO_MUST_USE;
int lo_otlp_json_decode(lo_signal_t s, const char *p, size_t n, const lo_decode_opts_t *o,
                        lo_otlp_batch_t *b) LO_MUST_USE;

/* Response bodies in the request's encoding.  Export*ServiceResponse with
 * partial_success when rejected > 0 (else an empty message: zero bytes in
 * protobuf, {} in JSON); google.rpc.Status {code, message} for errors
 * (codes: 3 INVALID_ARGUMENT, 7 PERMISSION_DENIED, 8 RESOURCE_EXHAUSTED,
 * 14 UNAVAILABLE, 16 UNAUTHENTICATED). */
int lo_otlp_pb_response(lo_signal_t s, int64_t rejected, const char *message, lo_buf_t *out) LO_MUST_USE;
int lo_otlp_pb_status(int32_t code, const char *message, lo_buf_t *out) LO_MUST_USE;
int lo_otlp_json_response(lo_signal_t s, int64_t rejected, const char *message, lo_buf_t *out) LO_MUST_USE;
int lo_otlp_json_status(int32_t code, const char *message, lo_buf_t *out) LO_MUST_USE;

/* ---- helpers shared by both decoders (envelope.c) ---- */

/* Envelope candidates seen at one level (record, scope or resource):
 * the raw string values of the keys docs/ingest-storage.md names. */
typedef struct {
    lo_str_t session, project, user, trace_id, span_id, service_name;
} lo_env_cand_t;

/* Notes key/value if key is one of the envelope keys.  Call for every
 * string-valued attribute at the top level of record, scope and resource. */
void lo_env_cand_note(lo_env_cand_t *c, lo_str_t key, lo_str_t value);
/* Builds env from candidates (record, then scope, then resource; the first
 * well-formed value wins).  trace_id/span_id already set on env by the
 * record's own fields are kept.  service from res->service_name. */
void lo_envelope_build(lo_envelope_t *env, const lo_env_cand_t *rec, const lo_env_cand_t *scope,
                       const lo_env_cand_t *res);

/* Whether n bytes at p (p may be NULL) are an id of length want that is not
 * all zero (an exemplar's trace and span ids: otlp.h). */
bool lo_otlp_id_ok(const uint8_t *p, size_t n, size_t want);

/* Log level from severity (docs/ingest-storage.md); severity_text lowered into the arena. */
lo_str_t lo_log_level(int32_t severity_number, lo_str_t severity_text, lo_arena_t *a);

/* Order-independent label hashing: hash each pair's JSON text
 * ("key":value) and combine; then finish with the count. */
uint64_t lo_hash64(const void *p, size_t n, uint64_t seed);
static inline uint64_t lo_labels_hash_add(uint64_t acc, const char *pair, size_t n)
{
    return acc + lo_hash64(pair, n, 0x9E3779B97F4A7C15ULL);
}
/* The finish: labels_hash = lo_labels_hash_finish(acc, number of pairs).
 * Zero pairs give lo_labels_hash_finish(0, 0). */
static inline uint64_t lo_labels_hash_finish(uint64_t acc, size_t npairs)
{
    uint64_t n = npairs;
    return lo_hash64(&n, sizeof(n), acc);
}

#endif
