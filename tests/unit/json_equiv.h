/*
 * json_equiv.h — shared by test_json_equiv_*.c: the same OTLP request as
 * protobuf (packed by protobuf-c) and as OTLP/JSON (written here from the
 * protobuf-c tree by reflection over its descriptors) must decode to the
 * same records, field by field and byte for byte.
 *
 * The JSON spelling varies at random the way real encoders vary: 64-bit
 * integers as strings or numbers, default values present or left out, empty
 * repeated fields present or not.  Include after pb_oracle.h.
 */
#ifndef LO_TEST_JSON_EQUIV_H
#define LO_TEST_JSON_EQUIV_H

#include <inttypes.h>
#include <math.h>

/* ---- protobuf-c tree -> OTLP/JSON ---- */

static void eq_msg_json(lo_buf_t *o, const ProtobufCMessage *m);

static void eq_camel(const char *name, char *out, size_t cap)
{
    size_t k = 0;
    bool up = false;
    for (const char *p = name; *p && k + 1 < cap; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        out[k++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        up = false;
    }
    out[k] = '\0';
}

static void eq_double(lo_buf_t *o, double d)
{
    if (isnan(d))
        lo_buf_puts(o, "\"NaN\"");
    else if (isinf(d))
        lo_buf_puts(o, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else if (coin(10))
        lo_buf_printf(o, "\"%.17g\"", d); /* the protobuf JSON mapping allows numbers in strings */
    else
        lo_buf_printf(o, "%.17g", d);
}

static size_t eq_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    default: return 4;
    }
}

/* True when the value at p is the type's default (proto3: not on the wire). */
static bool eq_is_default(const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)p == NULL;
    default: {
        static const uint8_t zero[8];
        return memcmp(p, zero, eq_elem_size(fd->type)) == 0;
    }
    }
}

static void eq_value(lo_buf_t *o, const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: lo_buf_printf(o, "%" PRId32, *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: lo_buf_printf(o, "%" PRIu32, *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        lo_buf_printf(o, coin(50) ? "\"%" PRId64 "\"" : "%" PRId64, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t v = *(const uint64_t *)p;
        lo_buf_printf(o, v > INT64_MAX || coin(50) ? "\"%" PRIu64 "\"" : "%" PRIu64, v);
        break;
    }
    case PROTOBUF_C_TYPE_DOUBLE: eq_double(o, *(const double *)p); break;
    case PROTOBUF_C_TYPE_FLOAT: eq_double(o, *(const float *)p); break;
    case PROTOBUF_C_TYPE_BOOL: lo_buf_puts(o, *(const protobuf_c_boolean *)p ? "true" : "false"); break;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        lo_buf_putc(o, '"');
        lo_json_escape_into(o, s ? s : "", s ? strlen(s) : 0); /* invalid UTF-8 repaired, as JSON must be */
        lo_buf_putc(o, '"');
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        lo_jw_t w;
        lo_jw_init(&w, o);
        size_t nl = strlen(fd->name);
        if (nl > 3 && strcmp(fd->name + nl - 3, "_id") == 0) {
            if (coin(30)) { /* hex is case-insensitive */
                static const char HEX[] = "0123456789ABCDEF";
                lo_buf_putc(o, '"');
                for (size_t i = 0; i < b->len; i++) {
                    lo_buf_putc(o, HEX[b->data[i] >> 4]);
                    lo_buf_putc(o, HEX[b->data[i] & 15]);
                }
                lo_buf_putc(o, '"');
            } else {
                lo_jw_hex(&w, b->data, b->len);
            }
        } else {
            lo_jw_base64(&w, b->data, b->len);
        }
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        eq_msg_json(o, sub);
        break;
    }
    }
}

static void eq_msg_json(lo_buf_t *o, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    bool first = true;
    lo_buf_putc(o, '{');
    if (coin(5)) { /* unknown keys are ignored */
        lo_buf_puts(o, "\"futureField\":{\"x\":[1,\"y\",null]}");
        first = false;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        const void *p = base + fd->offset;
        char key[64];
        eq_camel(fd->name, key, sizeof(key));
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + fd->quantifier_offset);
            if (n == 0 && coin(70))
                continue;
            lo_buf_printf(o, "%s\"%s\":[", first ? "" : ",", key);
            const char *arr = *(char *const *)p;
            for (size_t k = 0; k < n; k++) {
                if (k > 0)
                    lo_buf_putc(o, ',');
                eq_value(o, fd, arr + k * eq_elem_size(fd->type));
            }
            lo_buf_putc(o, ']');
            first = false;
            continue;
        }
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
                continue;
        } else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_MESSAGE &&
                   fd->type != PROTOBUF_C_TYPE_STRING) {
            if (!*(const protobuf_c_boolean *)(base + fd->quantifier_offset))
                continue;
        } else if (eq_is_default(fd, p)) {
            /* not on the wire in protobuf; in JSON absent, or the default spelled out */
            if (fd->type == PROTOBUF_C_TYPE_MESSAGE || coin(70))
                continue;
        }
        lo_buf_printf(o, "%s\"%s\":", first ? "" : ",", key);
        eq_value(o, fd, p);
        first = false;
    }
    lo_buf_putc(o, '}');
}

/* The redaction the random comparisons run with: a deny-list, URL and
 * free-text keys among the generators' keys, free-text patterns on; and
 * random strings holding what those rules look for (g_frag_secrets). */
static lo_redact_t *eq_redactor(void)
{
    lo_redact_conf_t c = { .keys = "password,authorization,cookie,token",
                           .url_keys = "http.method,k",
                           .text_keys = "nested,ключ",
                           .patterns = true };
    lo_redact_t *r = lo_redact_new(&c);
    assert_non_null(r);
    g_frag_secrets = true;
    return r;
}

/* ---- comparing records ---- */

static int g_eq_bad;
static size_t g_eq_records;  /* compared so far: a test that compares nothing proves nothing */
static size_t g_eq_scrubbed; /* strings with a secret scrubbed out of free text or a URL, so far */

static void eq_note_scrub(lo_str_t s)
{
    static const char lit[] = "[REDACTED]";
    const char *p = s.p, *e = s.p + s.len;
    /* "[REDACTED]" not as a whole value: scrubbed from within a string */
    while (p != NULL && (p = memmem(p, (size_t)(e - p), lit, sizeof(lit) - 1)) != NULL) {
        if (p == s.p || p[-1] != '"' || p + sizeof(lit) - 1 >= e || p[sizeof(lit) - 1] != '"') {
            g_eq_scrubbed++;
            return;
        }
        p += sizeof(lit) - 1;
    }
}

static void eq_str(lo_str_t a, lo_str_t b, const char *what, size_t i)
{
    if (a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0))
        return;
    fprintf(stderr, "record %zu %s differs:\n  pb   \"%.*s\"\n  json \"%.*s\"\n", i, what, (int)a.len,
            a.p ? a.p : "", (int)b.len, b.p ? b.p : "");
    g_eq_bad++;
}

static void eq_int(int64_t a, int64_t b, const char *what, size_t i)
{
    if (a == b)
        return;
    fprintf(stderr, "record %zu %s differs: pb %" PRId64 " json %" PRId64 "\n", i, what, a, b);
    g_eq_bad++;
}

static void eq_dbl(double a, double b, const char *what, size_t i)
{
    if (a == b || (isnan(a) && isnan(b)))
        return;
    fprintf(stderr, "record %zu %s differs: pb %.17g json %.17g\n", i, what, a, b);
    g_eq_bad++;
}

static void eq_bytes(const void *a, const void *b, size_t n, bool has, const char *what, size_t i)
{
    if (!has || memcmp(a, b, n) == 0)
        return;
    fprintf(stderr, "record %zu %s differs\n", i, what);
    g_eq_bad++;
}

static void eq_env(const lo_envelope_t *a, const lo_envelope_t *b, size_t i)
{
    eq_int(a->has_trace_id, b->has_trace_id, "env.has_trace_id", i);
    eq_int(a->has_span_id, b->has_span_id, "env.has_span_id", i);
    eq_int(a->has_session, b->has_session, "env.has_session", i);
    eq_int(a->has_project, b->has_project, "env.has_project", i);
    eq_int(a->has_user, b->has_user, "env.has_user", i);
    eq_bytes(a->trace_id, b->trace_id, 16, a->has_trace_id && b->has_trace_id, "env.trace_id", i);
    eq_bytes(a->span_id, b->span_id, 8, a->has_span_id && b->has_span_id, "env.span_id", i);
    eq_bytes(a->session_id, b->session_id, 16, a->has_session && b->has_session, "env.session_id", i);
    eq_bytes(a->project_id, b->project_id, 16, a->has_project && b->has_project, "env.project_id", i);
    eq_bytes(a->user_id, b->user_id, 16, a->has_user && b->has_user, "env.user_id", i);
    eq_str(a->service, b->service, "env.service", i);
}

static void eq_log(const lo_log_rec_t *a, const lo_log_rec_t *b, size_t i)
{
    eq_env(&a->env, &b->env, i);
    eq_int(a->time_ns, b->time_ns, "time_ns", i);
    eq_int(a->observed_ns, b->observed_ns, "observed_ns", i);
    eq_int(a->severity_number, b->severity_number, "severity_number", i);
    eq_str(a->severity_text, b->severity_text, "severity_text", i);
    eq_str(a->level, b->level, "level", i);
    eq_str(a->message, b->message, "message", i);
    eq_int(a->body_kind, b->body_kind, "body_kind", i);
    eq_str(a->attributes, b->attributes, "attributes", i);
    eq_str(a->resource, b->resource, "resource", i);
    eq_str(a->scope_name, b->scope_name, "scope_name", i);
    eq_str(a->scope_version, b->scope_version, "scope_version", i);
    eq_str(a->event_name, b->event_name, "event_name", i);
    eq_int(a->flags, b->flags, "flags", i);
    eq_int(a->dropped_attributes_count, b->dropped_attributes_count, "dropped_attributes_count", i);
}

static void eq_span(const lo_span_rec_t *a, const lo_span_rec_t *b, size_t i)
{
    eq_env(&a->env, &b->env, i);
    eq_int(a->has_parent, b->has_parent, "has_parent", i);
    eq_bytes(a->parent_span_id, b->parent_span_id, 8, a->has_parent && b->has_parent, "parent_span_id", i);
    eq_str(a->name, b->name, "name", i);
    eq_str(a->trace_state, b->trace_state, "trace_state", i);
    eq_int(a->kind, b->kind, "kind", i);
    eq_int(a->start_ns, b->start_ns, "start_ns", i);
    eq_int(a->end_ns, b->end_ns, "end_ns", i);
    eq_str(a->attributes, b->attributes, "attributes", i);
    eq_str(a->events, b->events, "events", i);
    eq_str(a->links, b->links, "links", i);
    eq_int(a->status_code, b->status_code, "status_code", i);
    eq_str(a->status_message, b->status_message, "status_message", i);
    eq_int(a->flags, b->flags, "flags", i);
    eq_int(a->dropped_attributes_count, b->dropped_attributes_count, "dropped_attributes_count", i);
    eq_int(a->dropped_events_count, b->dropped_events_count, "dropped_events_count", i);
    eq_int(a->dropped_links_count, b->dropped_links_count, "dropped_links_count", i);
    eq_str(a->resource, b->resource, "resource", i);
    eq_str(a->scope_name, b->scope_name, "scope_name", i);
    eq_str(a->scope_version, b->scope_version, "scope_version", i);
}

static void eq_sample(const lo_sample_rec_t *a, const lo_sample_rec_t *b, size_t i)
{
    eq_env(&a->env, &b->env, i);
    eq_str(a->name, b->name, "name", i);
    eq_str(a->description, b->description, "description", i);
    eq_str(a->unit, b->unit, "unit", i);
    eq_int(a->type, b->type, "type", i);
    eq_int(a->temporality, b->temporality, "temporality", i);
    eq_int(a->monotonic, b->monotonic, "monotonic", i);
    eq_str(a->labels, b->labels, "labels", i);
    eq_int((int64_t)a->labels_hash, (int64_t)b->labels_hash, "labels_hash", i);
    eq_str(a->resource, b->resource, "resource", i);
    eq_str(a->scope_name, b->scope_name, "scope_name", i);
    eq_str(a->scope_version, b->scope_version, "scope_version", i);
    eq_int(a->start_ns, b->start_ns, "start_ns", i);
    eq_int(a->time_ns, b->time_ns, "time_ns", i);
    eq_int(a->has_value, b->has_value, "has_value", i);
    if (a->has_value && b->has_value)
        eq_dbl(a->value, b->value, "value", i);
    eq_int((int64_t)a->count, (int64_t)b->count, "count", i);
    eq_int(a->has_sum, b->has_sum, "has_sum", i);
    eq_int(a->has_min, b->has_min, "has_min", i);
    eq_int(a->has_max, b->has_max, "has_max", i);
    if (a->has_sum && b->has_sum)
        eq_dbl(a->sum, b->sum, "sum", i);
    if (a->has_min && b->has_min)
        eq_dbl(a->min, b->min, "min", i);
    if (a->has_max && b->has_max)
        eq_dbl(a->max, b->max, "max", i);
    eq_str(a->buckets, b->buckets, "buckets", i);
    eq_str(a->exemplars, b->exemplars, "exemplars", i);
    eq_int(a->flags, b->flags, "flags", i);
}

/* Decodes msg both ways with the same options and compares every record.
 * Returns the protobuf decoder's result (the JSON one must match it). */
static int eq_check(lo_signal_t s, const ProtobufCMessage *msg, const lo_decode_opts_t *o)
{
    size_t pn = protobuf_c_message_get_packed_size(msg);
    uint8_t *pb = malloc(pn + 1);
    assert_non_null(pb);
    protobuf_c_message_pack(msg, pb);
    lo_buf_t js;
    lo_buf_init(&js, 0);
    eq_msg_json(&js, msg);
    assert_int_equal(js.err, LO_OK);

    lo_arena_t *a1 = lo_arena_create(64 * 1024, 0), *a2 = lo_arena_create(64 * 1024, 0);
    lo_otlp_batch_t b1, b2;
    lo_otlp_batch_init(&b1, s, a1);
    lo_otlp_batch_init(&b2, s, a2);
    int r1 = lo_otlp_pb_decode(s, pb, pn, o, &b1);
    int r2 = lo_otlp_json_decode(s, js.p, js.len, o, &b2);
    int bad_before = g_eq_bad;
    if (r1 != r2) {
        fprintf(stderr, "results differ: pb %d (%s) json %d (%s)\n", r1, b1.error, r2, b2.error);
        g_eq_bad++;
    } else if (r1 == LO_OK) {
        eq_int((int64_t)b1.n, (int64_t)b2.n, "record count", 0);
        g_eq_records += b1.n;
        for (size_t i = 0; i < b1.n && i < b2.n; i++) {
            if (s == LO_SIGNAL_LOGS) {
                eq_log(&b1.logs[i], &b2.logs[i], i);
                eq_note_scrub(b1.logs[i].message);
                eq_note_scrub(b1.logs[i].attributes);
            } else if (s == LO_SIGNAL_SPANS) {
                eq_span(&b1.spans[i], &b2.spans[i], i);
                eq_note_scrub(b1.spans[i].status_message);
                eq_note_scrub(b1.spans[i].attributes);
                eq_note_scrub(b1.spans[i].events);
            } else {
                eq_sample(&b1.samples[i], &b2.samples[i], i);
                eq_note_scrub(b1.samples[i].labels);
            }
        }
    }
    if (g_eq_bad != bad_before)
        fprintf(stderr, "JSON: %.*s\n", (int)(js.len > 4000 ? 4000 : js.len), js.p);
    lo_otlp_batch_free(&b1);
    lo_otlp_batch_free(&b2);
    lo_arena_destroy(a1);
    lo_arena_destroy(a2);
    lo_buf_free(&js);
    free(pb);
    return r1;
}

/* Nested AnyValue chains around the depth bound: both decoders must agree
 * on where it lies. */
static void eq_depth_bound(lo_signal_t s, ProtobufCMessage *(*wrap)(LookoutTest__KeyValue *kv))
{
    for (int levels = 0; levels < 8; levels++) {
        for (int kind = 0; kind < 2; kind++) {
            LookoutTest__AnyValue *v = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
            v->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_INT_VALUE;
            v->int_value = 1;
            for (int i = 0; i < levels; i++) {
                LookoutTest__AnyValue *outer = PNEW(LookoutTest__AnyValue, LOOKOUT_TEST__ANY_VALUE__INIT);
                if (kind == 0) {
                    LookoutTest__ArrayValue *a =
                        PNEW(LookoutTest__ArrayValue, LOOKOUT_TEST__ARRAY_VALUE__INIT);
                    a->n_values = 1;
                    a->values = PARR(LookoutTest__AnyValue *, 1);
                    a->values[0] = v;
                    outer->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_ARRAY_VALUE;
                    outer->array_value = a;
                } else {
                    LookoutTest__KeyValueList *l =
                        PNEW(LookoutTest__KeyValueList, LOOKOUT_TEST__KEY_VALUE_LIST__INIT);
                    LookoutTest__KeyValue *kv = PNEW(LookoutTest__KeyValue, LOOKOUT_TEST__KEY_VALUE__INIT);
                    kv->key = pstrdup("k");
                    kv->value = v;
                    l->n_values = 1;
                    l->values = PARR(LookoutTest__KeyValue *, 1);
                    l->values[0] = kv;
                    outer->value_case = LOOKOUT_TEST__ANY_VALUE__VALUE_KVLIST_VALUE;
                    outer->kvlist_value = l;
                }
                v = outer;
            }
            LookoutTest__KeyValue *kv = PNEW(LookoutTest__KeyValue, LOOKOUT_TEST__KEY_VALUE__INIT);
            kv->key = pstrdup("deep");
            kv->value = v;
            lo_decode_opts_t o = { .max_depth = 4, .receive_ns = 1600000000000000000LL };
            int rc = eq_check(s, wrap(kv), &o);
            assert_int_equal(rc, levels < 4 ? LO_OK : LO_INVALID);
        }
    }
    assert_int_equal(g_eq_bad, 0);
}

#endif
