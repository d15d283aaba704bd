/*
 * pb_common.c — the OTLP common messages (AnyValue, KeyValue, Resource,
 * InstrumentationScope) as the protobuf walkers of every signal see them,
 * plus the decoder's error reporting and strings.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/utf8.h"
#include "otlp/pb_internal.h"

/* ---- errors ---- */

int lo_pbd_fail(lo_pbd_t *d, const char *fmt, ...)
{
    char where[160];
    size_t off = 0;
    where[0] = '\0';
    int n = d->plen < LO_PBD_MAX_PATH ? d->plen : LO_PBD_MAX_PATH;
    for (int i = 0; i < n && off < sizeof(where); i++) {
        int k;
        if (d->path[i].idx >= 0)
            k = snprintf(where + off, sizeof(where) - off, "%s%s[%lld]", i ? "." : "", d->path[i].name,
                         (long long)d->path[i].idx);
        else
            k = snprintf(where + off, sizeof(where) - off, "%s%s", i ? "." : "", d->path[i].name);
        if (k < 0)
            break;
        off += (size_t)k;
    }
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (where[0] == '\0')
        return lo_otlp_fail(d->b, "%s", what);
    return lo_otlp_fail(d->b, "%s: %s", where, what);
}

const char *lo_pb_strerror(int rc)
{
    switch (rc) {
    case LO_PB_E_TRUNC: return "truncated";
    case LO_PB_E_VARINT: return "malformed varint";
    case LO_PB_E_WIRETYPE: return "unsupported wire type (group or reserved)";
    case LO_PB_E_FIELDNUM: return "invalid field number";
    default: return "malformed protobuf";
    }
}

int lo_pbd_wire_fail(lo_pbd_t *d, int rc, const lo_pb_field_t *f)
{
    if (rc == LO_PB_E_TRUNC && f->num != 0)
        return lo_pbd_fail(d, "truncated field %u", f->num);
    if (rc == LO_PB_E_VARINT && f->num != 0)
        return lo_pbd_fail(d, "malformed varint in field %u", f->num);
    if (rc == LO_PB_E_WIRETYPE)
        return lo_pbd_fail(d, "field %u: unsupported wire type (group or reserved)", f->num);
    return lo_pbd_fail(d, "%s", lo_pb_strerror(rc));
}

int lo_pbd_wt_fail(lo_pbd_t *d, const lo_pb_field_t *f)
{
    return lo_pbd_fail(d, "field %u has wrong wire type %u", f->num, f->wt);
}

int lo_pbd_push_fail(lo_pbd_t *d)
{
    if (d->b->max_records != 0 && d->b->n >= d->b->max_records)
        lo_otlp_fail(d->b, "more than %zu records in one request", d->b->max_records);
    else
        lo_otlp_fail(d->b, "out of memory");
    return LO_ERROR;
}

int lo_pbd_buf_fail(lo_pbd_t *d)
{
    lo_otlp_fail(d->b, "out of memory rendering JSON");
    return LO_ERROR;
}

/* ---- strings ---- */

int lo_pbd_string(lo_pbd_t *d, const uint8_t *p, size_t n, lo_str_t *out)
{
    const char *s = (const char *)p;
    size_t v = lo_utf8_valid_prefix(s, n);
    if (v == n) {
        *out = lo_str(s, n);
        return LO_OK;
    }
    /* repair: every invalid sequence (and NUL) becomes U+FFFD; at most 3x */
    if (n > SIZE_MAX / 4)
        return LO_ERROR;
    char *o = lo_arena_alloc(d->a, n * 3 + 1);
    if (o == NULL) {
        lo_otlp_fail(d->b, "request too large for the decode arena");
        return LO_ERROR;
    }
    size_t len = 0, i = 0;
    while (i < n) {
        size_t ok = lo_utf8_valid_prefix(s + i, n - i);
        memcpy(o + len, s + i, ok);
        len += ok;
        i += ok;
        if (i < n) {
            memcpy(o + len, "\xEF\xBF\xBD", 3);
            len += 3;
            i += s[i] == '\0' ? 1 : lo_utf8_invalid_len(s + i, n - i);
        }
    }
    o[len] = '\0';
    *out = lo_str(o, len);
    return LO_OK;
}

bool lo_pbd_id(const lo_pb_field_t *f, uint8_t *out, size_t n)
{
    if (f->n != n)
        return false;
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= f->p[i];
    if (!any)
        return false;
    memcpy(out, f->p, n);
    return true;
}

int lo_pbd_scrub(lo_pbd_t *d, lo_redact_mode_t mode, lo_str_t *s)
{
    if (lo_redact_str(d->red, mode, &d->scrub, d->a, s) != LO_OK) {
        lo_otlp_fail(d->b, "request too large for the decode arena");
        return LO_ERROR;
    }
    return LO_OK;
}

/* ---- AnyValue and KeyValue ---- */

static int keyvalue_at(lo_pbd_t *d, lo_buf_t *b, bool *first, const uint8_t *p, size_t n, int depth,
                       lo_env_cand_t *cand, uint64_t *hash, lo_redact_mode_t inherit);

/* A string value as JSON, scrubbed first (mode is not KEEP). */
static int str_scrubbed(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n, lo_redact_mode_t mode)
{
    lo_buf_reset(&d->scrub);
    if (lo_redact_scrub(d->red, mode, (const char *)p, n, &d->scrub) > 0) {
        if (d->scrub.err != LO_OK)
            return lo_pbd_buf_fail(d);
        lo_pbd_json_str(b, (const uint8_t *)d->scrub.p, d->scrub.len);
        return LO_OK;
    }
    lo_pbd_json_str(b, p, n);
    return LO_OK;
}

static inline int str_value(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n, lo_redact_mode_t mode)
{
    if (mode != LO_REDACT_KEEP)
        return str_scrubbed(d, b, p, n, mode);
    lo_pbd_json_str(b, p, n);
    return LO_OK;
}

/* the wire type each AnyValue field (1..7) must have */
static const uint8_t want[8] = { 0,         LO_PB_LEN, LO_PB_VARINT, LO_PB_VARINT,
                                 LO_PB_I64, LO_PB_LEN, LO_PB_LEN,    LO_PB_LEN };

int lo_pbd_anyvalue(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n, int depth, lo_str_t *sv)
{
    return lo_pbd_anyvalue_mode(d, b, p, n, depth, sv, LO_REDACT_KEEP);
}

int lo_pbd_anyvalue_mode(lo_pbd_t *d, lo_buf_t *b, const uint8_t *p, size_t n, int depth, lo_str_t *sv,
                         lo_redact_mode_t mode)
{
    if (sv != NULL)
        *sv = LO_STR_NULL;
    if (depth > d->max_depth)
        return lo_pbd_fail(d, "value nested deeper than %d levels", d->max_depth);
    /* fast path: a string value alone, as every encoder writes it */
    if (n >= 2 && p[0] == 0x0a && p[1] < 0x80 && (size_t)p[1] + 2 == n) {
        if (sv != NULL)
            *sv = lo_str((const char *)p + 2, n - 2);
        return str_value(d, b, p + 2, n - 2, mode);
    }
    lo_pb_reader_t r;
    lo_pb_field_t f, last;
    bool have = false;
    int rc;
    lo_pb_init(&r, p, n);
    memset(&last, 0, sizeof(last));
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num >= 1 && f.num <= 7) {
            if (f.wt != want[f.num])
                return lo_pbd_wt_fail(d, &f);
            last = f; /* oneof: the last one set wins */
            have = true;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    if (!have) {
        LO_PBD_LIT(b, "null");
        return LO_OK;
    }
    switch (last.num) {
    case 1:
        if (sv != NULL)
            *sv = lo_str((const char *)last.p, last.n);
        return str_value(d, b, last.p, last.n, mode);
    case 2:
        if (last.v != 0)
            LO_PBD_LIT(b, "true");
        else
            LO_PBD_LIT(b, "false");
        break;
    case 3: lo_pbd_json_i64(b, (int64_t)last.v); break;
    case 4: {
        double x;
        memcpy(&x, &last.v, sizeof(x));
        lo_pbd_json_f64(b, x);
        break;
    }
    case 5: { /* ArrayValue: 1 values */
        bool first = true;
        lo_pbd_c(b, '[');
        lo_pb_init(&r, last.p, last.n);
        while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
            if (f.num != 1)
                continue;
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (!first)
                lo_pbd_c(b, ',');
            first = false;
            rc = lo_pbd_anyvalue_mode(d, b, f.p, f.n, depth + 1, NULL, mode);
            if (rc != LO_OK)
                return rc;
        }
        if (rc != LO_PB_END)
            return lo_pbd_wire_fail(d, rc, &f);
        lo_pbd_c(b, ']');
        break;
    }
    case 6: { /* KeyValueList: 1 values */
        bool first = true;
        lo_pbd_c(b, '{');
        lo_pb_init(&r, last.p, last.n);
        while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
            if (f.num != 1)
                continue;
            LO_PBD_WANT(d, f, LO_PB_LEN);
            rc = keyvalue_at(d, b, &first, f.p, f.n, depth + 1, NULL, NULL, mode);
            if (rc != LO_OK)
                return rc;
        }
        if (rc != LO_PB_END)
            return lo_pbd_wire_fail(d, rc, &f);
        lo_pbd_c(b, '}');
        break;
    }
    case 7: lo_pbd_json_base64(b, last.p, last.n); break;
    }
    return LO_OK;
}

static int keyvalue_at(lo_pbd_t *d, lo_buf_t *b, bool *first, const uint8_t *p, size_t n, int depth,
                       lo_env_cand_t *cand, uint64_t *hash, lo_redact_mode_t inherit)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    const uint8_t *kp = (const uint8_t *)"", *vp = NULL;
    size_t kn = 0, vn = 0;
    int rc;
    /* fast path: exactly {1: key, 2: value} with one-byte lengths */
    if (n >= 4 && p[0] == 0x0a && p[1] < 0x80 && (size_t)p[1] + 4 <= n && p[p[1] + 2] == 0x12 &&
        p[p[1] + 3] < 0x80 && (size_t)p[1] + 4 + p[p[1] + 3] == n) {
        kp = p + 2;
        kn = p[1];
        vp = p + kn + 4;
        vn = p[kn + 3];
    } else {
        lo_pb_init(&r, p, n);
        while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
            if (f.num == 1) {
                LO_PBD_WANT(d, f, LO_PB_LEN);
                kp = f.p;
                kn = f.n;
            } else if (f.num == 2) {
                LO_PBD_WANT(d, f, LO_PB_LEN);
                vp = f.p;
                vn = f.n;
            }
        }
        if (rc != LO_PB_END)
            return lo_pbd_wire_fail(d, rc, &f);
    }

    if (!*first)
        lo_pbd_c(b, ',');
    *first = false;
    size_t start = b->len;
    lo_pbd_json_str(b, kp, kn);
    lo_pbd_c(b, ':');
    lo_redact_mode_t mode = d->red != NULL ? lo_redact_key(d->red, (const char *)kp, kn) : LO_REDACT_KEEP;
    if (mode == LO_REDACT_VALUE) {
        LO_PBD_LIT(b, "\"" LO_REDACTED "\"");
        if (vp != NULL) {
            /* the value is still checked, into a buffer that is dropped */
            bool outer = d->tmp_busy == 0;
            if (outer)
                lo_buf_reset(&d->tmp);
            d->tmp_busy++;
            rc = lo_pbd_anyvalue(d, &d->tmp, vp, vn, depth, NULL);
            d->tmp_busy--;
            if (rc != LO_OK)
                return rc;
        }
    } else if (vp == NULL) {
        LO_PBD_LIT(b, "null");
    } else {
        /* values under keys that are scrubbed are not envelope candidates */
        lo_str_t sv;
        bool note = cand != NULL && mode == LO_REDACT_KEEP;
        rc = lo_pbd_anyvalue_mode(d, b, vp, vn, depth, note ? &sv : NULL, mode > inherit ? mode : inherit);
        if (rc != LO_OK)
            return rc;
        if (note && sv.p != NULL)
            lo_env_cand_note(cand, lo_str((const char *)kp, kn), sv);
    }
    if (hash != NULL && b->err == LO_OK)
        *hash = lo_labels_hash_add(*hash, b->p + start, b->len - start);
    return LO_OK;
}

int lo_pbd_keyvalue(lo_pbd_t *d, lo_buf_t *b, bool *first, const uint8_t *p, size_t n, lo_env_cand_t *cand,
                    uint64_t *hash)
{
    return keyvalue_at(d, b, first, p, n, 1, cand, hash, LO_REDACT_KEEP);
}

int lo_pbd_finish(lo_pbd_t *d, lo_buf_t *b, lo_str_t *out)
{
    if (b->err != LO_OK)
        return lo_pbd_buf_fail(d);
    size_t len = b->len;
    if (len == 2 && b->p[0] == '{') {
        *out = LO_STR_LIT("{}");
        return LO_OK;
    }
    if (len == 2 && b->p[0] == '[') {
        *out = LO_STR_LIT("[]");
        return LO_OK;
    }
    char *c = lo_arena_alloc(d->a, len);
    if (c == NULL) {
        lo_otlp_fail(d->b, "request too large for the decode arena");
        return LO_ERROR;
    }
    memcpy(c, b->p, len);
    *out = lo_str(c, len);
    return LO_OK;
}

/* ---- the envelope ---- */

void lo_pbd_envelope(lo_envelope_t *env, const lo_env_cand_t *rec, const lo_pbd_scope_t *scope)
{
    const lo_envelope_t *base = &scope->base;
    if (rec->session.p != NULL || rec->project.p != NULL || rec->user.p != NULL ||
        (rec->trace_id.p != NULL && !env->has_trace_id) || (rec->span_id.p != NULL && !env->has_span_id))
        lo_envelope_build(env, rec, NULL, NULL);
    if (!env->has_session && base->has_session) {
        memcpy(env->session_id, base->session_id, 16);
        env->has_session = true;
    }
    if (!env->has_project && base->has_project) {
        memcpy(env->project_id, base->project_id, 16);
        env->has_project = true;
    }
    if (!env->has_user && base->has_user) {
        memcpy(env->user_id, base->user_id, 16);
        env->has_user = true;
    }
    if (!env->has_trace_id && base->has_trace_id) {
        memcpy(env->trace_id, base->trace_id, 16);
        env->has_trace_id = true;
    }
    if (!env->has_span_id && base->has_span_id) {
        memcpy(env->span_id, base->span_id, 8);
        env->has_span_id = true;
    }
    env->service = base->service;
}

/* ---- Resource and InstrumentationScope ---- */

int lo_pbd_resource(lo_pbd_t *d, const uint8_t *p, size_t n, lo_pbd_res_t *res)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    int rc;
    int64_t i = 0;
    bool first = true;
    memset(res, 0, sizeof(*res));
    lo_buf_reset(&d->attrs);
    lo_pbd_c(&d->attrs, '{');
    lo_pb_init(&r, p, n);
    lo_pbd_push(d, "resource", -1);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num == 1) {
            LO_PBD_WANT(d, f, LO_PB_LEN);
            lo_pbd_push(d, "attributes", i++);
            rc = lo_pbd_keyvalue(d, &d->attrs, &first, f.p, f.n, &res->cand, NULL);
            if (rc != LO_OK)
                return rc;
            lo_pbd_pop(d);
        } else if (f.num == 2) {
            LO_PBD_WANT(d, f, LO_PB_VARINT);
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    lo_pbd_pop(d);
    /* service.name is stored as text: make sure it is valid UTF-8 */
    if (res->cand.service_name.p != NULL) {
        rc = lo_pbd_string(d, (const uint8_t *)res->cand.service_name.p, res->cand.service_name.len,
                           &res->cand.service_name);
        if (rc != LO_OK)
            return rc;
    }
    lo_pbd_c(&d->attrs, '}');
    return lo_pbd_finish(d, &d->attrs, &res->json);
}

int lo_pbd_scope(lo_pbd_t *d, const uint8_t *p, size_t n, lo_pbd_scope_t *s)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    int rc;
    int64_t i = 0;
    memset(s, 0, sizeof(*s));
    s->name = s->version = LO_STR_LIT("");
    lo_pb_init(&r, p, n);
    lo_pbd_push(d, "scope", -1);
    bool first = true;
    lo_buf_reset(&d->attrs);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        switch (f.num) {
        case 1:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (lo_pbd_string(d, f.p, f.n, &s->name) != LO_OK)
                return LO_ERROR;
            break;
        case 2:
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (lo_pbd_string(d, f.p, f.n, &s->version) != LO_OK)
                return LO_ERROR;
            break;
        case 3:
            /* scope attributes are not stored; they are checked and give
             * envelope candidates */
            LO_PBD_WANT(d, f, LO_PB_LEN);
            lo_pbd_push(d, "attributes", i++);
            rc = lo_pbd_keyvalue(d, &d->attrs, &first, f.p, f.n, &s->cand, NULL);
            if (rc != LO_OK)
                return rc;
            lo_pbd_pop(d);
            break;
        case 4: LO_PBD_WANT(d, f, LO_PB_VARINT); break;
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    lo_pbd_pop(d);
    return LO_OK;
}

/* ---- log bodies ---- */

int lo_pbd_body(lo_pbd_t *d, const uint8_t *p, size_t n, lo_str_t *out, int32_t *kind)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    uint32_t last = 0;
    const uint8_t *sp = NULL;
    size_t sn = 0;
    int rc;
    *out = LO_STR_LIT("");
    *kind = 0;
    /* a string body (the common case) is the message itself: no JSON */
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num >= 1 && f.num <= 7) {
            if (f.wt != want[f.num])
                return lo_pbd_wt_fail(d, &f);
            last = f.num;
            sp = f.p;
            sn = f.n;
        }
    }
    if (rc == LO_PB_END && last == 0)
        return LO_OK;
    *kind = (int32_t)last; /* (an error below fails the request) */
    lo_redact_mode_t mode = lo_redact_text_mode(d->red);
    if (rc == LO_PB_END && last == 1 && sp != NULL) {
        rc = lo_pbd_string(d, sp, sn, out);
        return rc == LO_OK ? lo_pbd_scrub(d, mode, out) : rc;
    }
    /* anything else (or an error, reported by the renderer) */
    lo_buf_reset(&d->aux1);
    rc = lo_pbd_anyvalue_mode(d, &d->aux1, p, n, 1, NULL, mode);
    if (rc != LO_OK)
        return rc;
    if (d->aux1.err != LO_OK)
        return lo_pbd_buf_fail(d);
    char *c = lo_arena_alloc(d->a, d->aux1.len);
    if (c == NULL) {
        lo_otlp_fail(d->b, "request too large for the decode arena");
        return LO_ERROR;
    }
    memcpy(c, d->aux1.p, d->aux1.len);
    *out = lo_str(c, d->aux1.len);
    return LO_OK;
}

/* ---- the request skeleton every signal shares ---- */

/* Both levels are {1 owner (resource or scope), 2 items, 3 schema_url}, all
 * length-delimited: checks the wire types and finds the owner (the last one
 * wins; absent = empty). */
static int level_owner(lo_pbd_t *d, const uint8_t *p, size_t n, const uint8_t **op, size_t *on)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    int rc;
    *op = (const uint8_t *)"";
    *on = 0;
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num >= 1 && f.num <= 3) {
            LO_PBD_WANT(d, f, LO_PB_LEN);
            if (f.num == 1) {
                *op = f.p;
                *on = f.n;
            }
        }
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    return LO_OK;
}

/* Scope{Logs,Spans,Metrics}: 1 scope, 2 items, 3 schema_url. */
static int scope_level(lo_pbd_t *d, const uint8_t *p, size_t n, const char *const names[3], lo_pbd_item_fn fn,
                       const lo_pbd_res_t *res)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    lo_pbd_scope_t scope;
    const uint8_t *sp;
    size_t sn;
    /* pass 1: the scope, wherever it is (last one wins) */
    int rc = level_owner(d, p, n, &sp, &sn);
    if (rc == LO_OK)
        rc = lo_pbd_scope(d, sp, sn, &scope);
    if (rc != LO_OK)
        return rc;
    lo_envelope_build(&scope.base, NULL, &scope.cand, &res->cand);
    /* pass 2: the items, in order */
    int64_t i = 0;
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 2)
            continue;
        lo_pbd_push(d, names[2], i++);
        rc = fn(d, f.p, f.n, res, &scope);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    return LO_OK;
}

/* Resource{Logs,Spans,Metrics}: 1 resource, 2 scopes, 3 schema_url. */
static int resource_level(lo_pbd_t *d, const uint8_t *p, size_t n, const char *const names[3],
                          lo_pbd_item_fn fn)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    lo_pbd_res_t res;
    const uint8_t *rp;
    size_t rn;
    int rc = level_owner(d, p, n, &rp, &rn);
    if (rc == LO_OK)
        rc = lo_pbd_resource(d, rp, rn, &res);
    if (rc != LO_OK)
        return rc;
    int64_t i = 0;
    lo_pb_init(&r, p, n);
    while (lo_pb_next(&r, &f) == LO_PB_FIELD) {
        if (f.num != 2)
            continue;
        lo_pbd_push(d, names[1], i++);
        rc = scope_level(d, f.p, f.n, names, fn, &res);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    return LO_OK;
}

int lo_pbd_request(lo_pbd_t *d, const uint8_t *p, size_t n, const char *const names[3], lo_pbd_item_fn fn)
{
    lo_pb_reader_t r;
    lo_pb_field_t f;
    int rc;
    int64_t i = 0;
    lo_pb_init(&r, p, n);
    while ((rc = lo_pb_next(&r, &f)) == LO_PB_FIELD) {
        if (f.num != 1)
            continue;
        LO_PBD_WANT(d, f, LO_PB_LEN);
        lo_pbd_push(d, names[0], i++);
        rc = resource_level(d, f.p, f.n, names, fn);
        if (rc != LO_OK)
            return rc;
        lo_pbd_pop(d);
    }
    if (rc != LO_PB_END)
        return lo_pbd_wire_fail(d, rc, &f);
    return LO_OK;
}
