/*
 * pb_internal.h — state shared by the protobuf decoders of the three signals
 * (pb_logs.c, pb_traces.c, pb_metrics.c) and what they have in common
 * (pb_common.c): AnyValue and KeyValue lists rendered as JSON, Resource and
 * InstrumentationScope, strings checked for UTF-8, and error messages that
 * say where in the request the problem is.
 *
 * JSON renderings (identical to the OTLP/JSON decoder's, see otlp.h):
 *   attributes/labels/resource: one JSON object, "{}" when there are none;
 *   an AnyValue with no field set is null; bytes are base64;
 *   events/links: a JSON array, "[]" when there are none.
 */
#ifndef LO_OTLP_PB_INTERNAL_H
#define LO_OTLP_PB_INTERNAL_H

#include "otlp/otlp.h"
#include "otlp/pb.h"

#define LO_PBD_MAX_PATH 8

typedef struct {
    const char *name;
    int64_t idx; /* < 0: no index */
} lo_pbd_seg_t;

typedef struct {
    lo_otlp_batch_t *b;
    const lo_decode_opts_t *o;
    lo_arena_t *a;
    int max_depth;
    int64_t receive_ns;
    lo_buf_t attrs, aux1, aux2, tmp; /* scratch JSON, reused across records */
    int tmp_busy;                    /* tmp in use (checking a redacted value) */
    lo_buf_t scrub;                  /* a string being scrubbed (redact.h) */
    const lo_redact_t *red;          /* o->redact, or NULL */
    lo_pbd_seg_t path[LO_PBD_MAX_PATH];
    int plen;
} lo_pbd_t;

/* Per resource / scope, what records share. */
typedef struct {
    lo_str_t json; /* resource attributes as a JSON object (in the arena) */
    lo_env_cand_t cand;
} lo_pbd_res_t;

typedef struct {
    lo_str_t name, version;
    lo_env_cand_t cand;
    lo_envelope_t base; /* the envelope from scope and resource alone */
} lo_pbd_scope_t;

/* Resolves a record's envelope: its own candidates first, then what the
 * scope and resource gave (same result as lo_envelope_build with all three,
 * without parsing the shared UUIDs again for every record). */
void lo_pbd_envelope(lo_envelope_t *env, const lo_env_cand_t *rec, const lo_pbd_scope_t *scope);

static inline void lo_pbd_push(lo_pbd_t *d, const char *name, int64_t idx)
{
    if (d->plen < LO_PBD_MAX_PATH) {
        d->path[d->plen].name = name;
        d->path[d->plen].idx = idx;
    }
    d->plen++;
}

static inline void lo_pbd_pop(lo_pbd_t *d)
{
    d->plen--;
}

/* Records "<path>: <message>" as the batch error; returns LO_INVALID. */
int lo_pbd_fail(lo_pbd_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A lo_pb_next error, with the field number when known. */
int lo_pbd_wire_fail(lo_pbd_t *d, int rc, const lo_pb_field_t *f);
/* A known field with the wrong wire type. */
int lo_pbd_wt_fail(lo_pbd_t *d, const lo_pb_field_t *f);
/* lo_otlp_batch_push failed (memory or max_records): LO_ERROR. */
int lo_pbd_push_fail(lo_pbd_t *d);
/* A scratch buffer failure (memory, size limit): LO_ERROR. */
int lo_pbd_buf_fail(lo_pbd_t *d);

/* A string field as a lo_str_t: a view when valid UTF-8, else a repaired
 * copy in the arena.  LO_OK or LO_ERROR. */
int lo_pbd_string(lo_pbd_t *d, const uint8_t *p, size_t n, lo_str_t *out) LO_MUST_USE;

/* Scrubs a decoded string (redact.h) into the arena when mode finds
 * secrets in it.  LO_OK or LO_ERROR. */
int lo_pbd_scrub(lo_pbd_t *d, lo_redact_mode_t mode, lo_str_t *s) LO_MUST_USE;

/* ---- JSON, written straight into a buffer (pb_json.c); the text is
 * exactly what core/json_write.c writes for the same values ---- */

void lo_pbd_json_str(lo_buf_t *b, const uint8_t *p, size_t n);
void lo_pbd_json_i64(lo_buf_t *b, int64_t v);
void lo_pbd_json_u64(lo_buf_t *b, uint64_t v);
void lo_pbd_json_f64(lo_buf_t *b, double v);
void lo_pbd_json_base64(lo_buf_t *b, const uint8_t *p, size_t n);
void lo_pbd_json_hex(lo_buf_t *b, const uint8_t *p, size_t n);

static inline void lo_pbd_c(lo_buf_t *b, char c)
{
    if (b->len + 1 < b->cap)
        b->p[b->len++] = c;
    else
        lo_buf_append(b, &c, 1);
}

/* lo_buf_append without the call when there is room (short JSON pieces). */
static inline void lo_pbd_put(lo_buf_t *b, const void *p, size_t n)
{
    if (b->len + n < b->cap) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
    } else {
        lo_buf_append(b, p, n);
    }
}

#define LO_PBD_LIT(b, s) lo_pbd_put((b), (s), sizeof(s) - 1)

/* Renders one AnyValue (view p/n) as a JSON value.  depth counts from 1 for
 * a value directly under an attribute or body.  When sv is not NULL and the
 * value is a string, *sv is set to its raw view (else sv->p == NULL). */
int lo_pbd_anyvalue(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n, int depth, lo_str_t *sv);
/* The same, its strings scrubbed by mode (TEXT or URL: redact.h), and the
 * values of the key-value lists within by the stronger of mode and their
 * own key's. */
int lo_pbd_anyvalue_mode(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n, int depth, lo_str_t *sv,
                         lo_redact_mode_t mode);

/* Renders one KeyValue as a member ("key":value) of a JSON object being
 * written to b; *first says whether a comma is needed, and is cleared.
 * cand (may be NULL) gets envelope candidates; hash (may be NULL)
 * accumulates the labels hash of the "key":value text. */
int lo_pbd_keyvalue(lo_pbd_t *d, lo_buf_t *b, bool *first, const uint8_t *p, size_t n, lo_env_cand_t *cand,
                    uint64_t *hash);

/* Copies the JSON text in b into the arena ("{}" and "[]" need no copy). */
int lo_pbd_finish(lo_pbd_t *d, lo_buf_t *b, lo_str_t *out) LO_MUST_USE;

/* A log body: the string itself when it is a string, "" when absent or
 * empty, else the value as JSON (in the arena); scrubbed as free text
 * (redact.h). */
int lo_pbd_body(lo_pbd_t *d, const uint8_t *p, size_t n, lo_str_t *out, int32_t *kind) LO_MUST_USE;

/* Decodes a Resource (view) into r; an absent resource is r zeroed with
 * json "{}". */
int lo_pbd_resource(lo_pbd_t *d, const uint8_t *p, size_t n, lo_pbd_res_t *r) LO_MUST_USE;
/* Decodes an InstrumentationScope (view). */
int lo_pbd_scope(lo_pbd_t *d, const uint8_t *p, size_t n, lo_pbd_scope_t *s) LO_MUST_USE;

/* Reads a 16- or 8-byte id; all-zero or another length is absent. */
bool lo_pbd_id(const lo_pb_field_t *f, uint8_t *out, size_t n);

/* Decodes one item (LogRecord, Span, Metric) of a scope into records. */
typedef int (*lo_pbd_item_fn)(lo_pbd_t *d, const uint8_t *p, size_t n, const lo_pbd_res_t *res,
                              const lo_pbd_scope_t *scope);

/* Walks Export*ServiceRequest -> Resource* -> Scope* -> items; names are the
 * three repeated fields' names for error messages.  A resource and a scope
 * are decoded once (a first pass finds them wherever they are in their
 * message) and shared by their items. */
int lo_pbd_request(lo_pbd_t *d, const uint8_t *p, size_t n, const char *const names[3], lo_pbd_item_fn fn);

/* Per-signal walkers over the whole request. */
int lo_pbd_logs(lo_pbd_t *d, const uint8_t *p, size_t n);
int lo_pbd_traces(lo_pbd_t *d, const uint8_t *p, size_t n);
int lo_pbd_metrics(lo_pbd_t *d, const uint8_t *p, size_t n);

/* Field-type checks used by the walkers. */
#define LO_PBD_WANT(d, f, want)               \
    do {                                      \
        if ((f).wt != (want))                 \
            return lo_pbd_wt_fail((d), &(f)); \
    } while (0)

#endif
