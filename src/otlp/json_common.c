/*
 * json_common.c — the OTLP/JSON decoder's building blocks: the path kept for
 * error messages, typed getters that name the path on failure, AnyValue and
 * attribute rendering, Resource and InstrumentationScope.
 */
#include "otlp/json_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- path ---- */

void lo_jd_push(lo_jd_t *c, const char *name, long idx)
{
    if (c->nfr < LO_JD_MAX_FRAMES) {
        c->fr[c->nfr].name = name;
        c->fr[c->nfr].idx = idx;
    }
    c->nfr++;
}

void lo_jd_pop(lo_jd_t *c)
{
    if (c->nfr > 0)
        c->nfr--;
}

static void path_format(const lo_jd_t *c, const char *key, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    int n = c->nfr < LO_JD_MAX_FRAMES ? c->nfr : LO_JD_MAX_FRAMES;
    for (int i = 0; i <= n && pos + 1 < cap; i++) {
        const char *name = i < n ? c->fr[i].name : key;
        long idx = i < n ? c->fr[i].idx : -1;
        int w = 0;
        if (name != NULL)
            w = snprintf(out + pos, cap - pos, "%s%s", pos > 0 ? "." : "", name);
        if (w > 0)
            pos += (size_t)w < cap - pos ? (size_t)w : cap - pos - 1;
        if (idx >= 0 && pos + 1 < cap) {
            w = snprintf(out + pos, cap - pos, "[%ld]", idx);
            if (w > 0)
                pos += (size_t)w < cap - pos ? (size_t)w : cap - pos - 1;
        }
        if (i == n - 1 && c->nfr > LO_JD_MAX_FRAMES && pos + 1 < cap) {
            w = snprintf(out + pos, cap - pos, "...");
            if (w > 0)
                pos += (size_t)w < cap - pos ? (size_t)w : cap - pos - 1;
        }
    }
}

int lo_jd_fail(lo_jd_t *c, const char *key, const char *fmt, ...)
{
    char path[160], msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    path_format(c, key, path, sizeof(path));
    if (path[0] == '\0')
        return lo_otlp_fail(c->b, "%s", msg);
    return lo_otlp_fail(c->b, "%s: %s", path, msg);
}

/* ---- object members ---- */

/* Turns "time_unix_nano" into "timeUnixNano"; false if it is not snake_case
 * or does not fit. */
static bool camelize(const char *k, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    bool up = false, any = false;
    for (size_t i = 0; i < n; i++) {
        char ch = k[i];
        if (ch == '_') {
            if (i == 0)
                return false;
            up = true;
            any = true;
            continue;
        }
        if (o + 1 >= cap)
            return false;
        if (up && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        up = false;
        out[o++] = ch;
    }
    out[o] = '\0';
    return any;
}

json_t *lo_jd_string_value(json_t *anyvalue)
{
    json_t *sv = json_object_get(anyvalue, "stringValue");
    return sv != NULL ? sv : json_object_get(anyvalue, "string_value");
}

int lo_jd_fields(lo_jd_t *c, json_t *obj, const char *const *keys, size_t n, json_t **out)
{
    const char *k;
    size_t klen;
    json_t *v;
    uint64_t seen = 0; /* keys given in either spelling (n <= 64) */
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    /* walk the members present (usually few) rather than look every known
     * key up: an AnyValue has one member and seven possible keys */
    json_object_keylen_foreach(obj, k, klen, v)
    {
        size_t i = 0;
        for (; i < n; i++) {
            if (keys[i] != NULL && keys[i][0] == k[0] && strlen(keys[i]) == klen &&
                memcmp(keys[i], k, klen) == 0)
                break;
        }
        /* snake_case spellings (the protobuf field names) are read as the
         * lowerCamelCase keys, as the OpenTelemetry Collector reads them */
        char camel[64];
        if (i == n && memchr(k, '_', klen) != NULL && camelize(k, klen, camel, sizeof(camel))) {
            for (i = 0; i < n; i++)
                if (keys[i] != NULL && strcmp(camel, keys[i]) == 0)
                    break;
        }
        if (i == n)
            continue; /* unknown keys are ignored */
        if (i < 64 && (seen & ((uint64_t)1 << i)))
            return lo_jd_fail(c, NULL, "\"%s\" is given twice (in lowerCamelCase and in snake_case)",
                              keys[i]);
        if (i < 64)
            seen |= (uint64_t)1 << i;
        out[i] = json_is_null(v) ? NULL : v;
    }
    return LO_OK;
}

/* ---- typed values ---- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

int lo_jd_obj(lo_jd_t *c, const char *key, json_t *v)
{
    if (v == NULL || json_is_object(v))
        return LO_OK;
    return lo_jd_fail(c, key, "expected an object, got %s", type_name(v));
}

int lo_jd_arr(lo_jd_t *c, const char *key, json_t *v)
{
    if (v == NULL || json_is_array(v))
        return LO_OK;
    return lo_jd_fail(c, key, "expected an array, got %s", type_name(v));
}

int lo_jd_str_view(lo_jd_t *c, const char *key, json_t *v, lo_str_t *out)
{
    if (v == NULL)
        return LO_OK;
    if (!json_is_string(v))
        return lo_jd_fail(c, key, "expected a string, got %s", type_name(v));
    out->p = json_string_value(v);
    out->len = json_string_length(v);
    return LO_OK;
}

/* Copies s into the arena; jansson strings are valid UTF-8 but may hold NUL
 * (\u0000), which PostgreSQL refuses: it becomes U+FFFD. */
static int copy_str(lo_jd_t *c, lo_str_t s, lo_str_t *out)
{
    size_t nul = 0;
    for (const char *q = s.p; (q = memchr(q, '\0', (size_t)(s.p + s.len - q))) != NULL; q++)
        nul++;
    size_t len = s.len + 2 * nul;
    char *d = lo_arena_alloc(c->b->arena, len + 1);
    if (d == NULL)
        return LO_ERROR;
    if (nul == 0) {
        memcpy(d, s.p, s.len);
    } else {
        size_t o = 0;
        for (size_t i = 0; i < s.len; i++) {
            if (s.p[i] == '\0') {
                memcpy(d + o, "\xEF\xBF\xBD", 3);
                o += 3;
            } else {
                d[o++] = s.p[i];
            }
        }
    }
    d[len] = '\0';
    out->p = d;
    out->len = len;
    return LO_OK;
}

int lo_jd_str(lo_jd_t *c, const char *key, json_t *v, lo_str_t *out)
{
    lo_str_t s = LO_STR_NULL;
    if (v == NULL)
        return LO_OK;
    int rc = lo_jd_str_view(c, key, v, &s);
    if (rc != LO_OK)
        return rc;
    return copy_str(c, s, out);
}

/* Parses a decimal string: optional '-' when neg_ok, then 1-20 digits. */
static bool parse_dec(const char *p, size_t n, bool neg_ok, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = false;
    if (n > 0 && p[0] == '-' && neg_ok) {
        *neg = true;
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t m = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (m > (UINT64_MAX - d) / 10)
            return false; /* overflow: reported as out of range by the caller */
        m = m * 10 + d;
    }
    *mag = m;
    return true;
}

/* A string in exponent notation whose value is an integer ("1e3",
 * "1.5E3", "-2e+2", "1700000000000000000e0"), as the protobuf JSON mapping
 * accepts for integer fields; computed exactly, never through a double.
 * false when it is not one (fractional, malformed, or past 64 bits). */
static bool parse_exp(const char *p, size_t n, bool *neg, uint64_t *mag)
{
    size_t i = 0, nd = 0;
    char digs[40];
    long frac = 0, e = 0;
    bool ng = false, point = false, eneg = false;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        ng = p[i++] == '-';
    for (; i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'); i++) {
        if (p[i] == '.') {
            if (point)
                return false;
            point = true;
            continue;
        }
        if (nd == sizeof digs)
            return false;
        digs[nd++] = p[i];
        frac += point;
    }
    if (nd == 0 || i >= n || (p[i] != 'e' && p[i] != 'E'))
        return false;
    i++;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        eneg = p[i++] == '-';
    if (i >= n)
        return false;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || e > 1000)
            return false;
        e = e * 10 + (p[i] - '0');
    }
    long shift = (eneg ? -e : e) - frac;
    for (; shift < 0; shift++) { /* only trailing zeros may be shifted out */
        if (nd == 0 || digs[nd - 1] != '0')
            return false;
        nd--;
    }
    uint64_t m = 0;
    for (size_t k = 0; k < nd; k++) {
        unsigned d = (unsigned)(digs[k] - '0');
        if (m > (UINT64_MAX - d) / 10)
            return false;
        m = m * 10 + d;
    }
    for (; shift > 0; shift--) {
        if (m != 0 && m > UINT64_MAX / 10)
            return false;
        m *= 10;
    }
    *neg = ng && m != 0;
    *mag = m;
    return true;
}

/* Reads an integer-valued JSON value (integer, integral real, or decimal
 * string when str_ok) as sign + magnitude. */
static int int_value(lo_jd_t *c, const char *key, json_t *v, bool neg_ok, bool str_ok, bool *neg,
                     uint64_t *mag)
{
    const char *want = str_ok ? "expected an integer or a decimal string" : "expected an integer";
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        *neg = x < 0;
        *mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d != floor(d))
            return lo_jd_fail(c, key, "%s, got a fractional number", want);
        if (fabs(d) >= 18446744073709551616.0)
            return lo_jd_fail(c, key, "integer out of range");
        *neg = d < 0;
        *mag = (uint64_t)fabs(d);
    } else if (json_is_string(v) && str_ok) {
        const char *p = json_string_value(v);
        size_t n = json_string_length(v);
        if (!parse_dec(p, n, true, neg, mag) && !parse_exp(p, n, neg, mag)) {
            /* tell overflow apart from garbage */
            bool digits = n > 0;
            for (size_t i = (n > 0 && p[0] == '-') ? 1 : 0; i < n; i++)
                digits = digits && p[i] >= '0' && p[i] <= '9';
            if (digits && n > 1)
                return lo_jd_fail(c, key, "integer out of range");
            return lo_jd_fail(c, key, "%s, got a non-numeric string", want);
        }
    } else {
        return lo_jd_fail(c, key, "%s, got %s", want, type_name(v));
    }
    if (*neg && *mag != 0 && !neg_ok)
        return lo_jd_fail(c, key, "expected a non-negative integer");
    if (*mag == 0)
        *neg = false;
    return LO_OK;
}

int lo_jd_u64(lo_jd_t *c, const char *key, json_t *v, uint64_t *out)
{
    bool neg;
    uint64_t m;
    if (v == NULL)
        return LO_OK;
    int rc = int_value(c, key, v, false, true, &neg, &m);
    if (rc == LO_OK)
        *out = m;
    return rc;
}

static int signed_range(lo_jd_t *c, const char *key, json_t *v, bool str_ok, int64_t lo, int64_t hi,
                        int64_t *out)
{
    bool neg;
    uint64_t m;
    int rc = int_value(c, key, v, true, str_ok, &neg, &m);
    if (rc != LO_OK)
        return rc;
    if (neg) {
        if (m > (uint64_t)0 - (uint64_t)lo)
            return lo_jd_fail(c, key, "integer out of range");
        *out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)hi)
            return lo_jd_fail(c, key, "integer out of range");
        *out = (int64_t)m;
    }
    return LO_OK;
}

int lo_jd_i64(lo_jd_t *c, const char *key, json_t *v, int64_t *out)
{
    if (v == NULL)
        return LO_OK;
    return signed_range(c, key, v, true, INT64_MIN, INT64_MAX, out);
}

int lo_jd_u32(lo_jd_t *c, const char *key, json_t *v, uint32_t *out)
{
    uint64_t x = 0;
    if (v == NULL)
        return LO_OK;
    int rc = lo_jd_u64(c, key, v, &x);
    if (rc != LO_OK)
        return rc;
    if (x > UINT32_MAX)
        return lo_jd_fail(c, key, "integer out of range");
    *out = (uint32_t)x;
    return LO_OK;
}

int lo_jd_i32(lo_jd_t *c, const char *key, json_t *v, int32_t *out)
{
    int64_t x = 0;
    if (v == NULL)
        return LO_OK;
    int rc = signed_range(c, key, v, true, INT32_MIN, INT32_MAX, &x);
    if (rc == LO_OK)
        *out = (int32_t)x;
    return rc;
}

int lo_jd_enum(lo_jd_t *c, const char *key, json_t *v, int32_t *out)
{
    int64_t x = 0;
    if (v == NULL)
        return LO_OK;
    if (json_is_string(v))
        return lo_jd_fail(c, key, "expected an integer (OTLP/JSON enums are integers), got a string");
    int rc = signed_range(c, key, v, false, INT32_MIN, INT32_MAX, &x);
    if (rc == LO_OK)
        *out = (int32_t)x;
    return rc;
}

int lo_jd_f64(lo_jd_t *c, const char *key, json_t *v, double *out)
{
    if (v == NULL)
        return LO_OK;
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return LO_OK;
    }
    if (json_is_string(v)) {
        /* the protobuf JSON mapping spells non-finite doubles as strings and
         * allows numbers in strings */
        const char *p = json_string_value(v);
        size_t n = json_string_length(v);
        if (lo_str_eq(lo_str(p, n), "NaN")) {
            *out = NAN;
            return LO_OK;
        }
        if (lo_str_eq(lo_str(p, n), "Infinity")) {
            *out = INFINITY;
            return LO_OK;
        }
        if (lo_str_eq(lo_str(p, n), "-Infinity")) {
            *out = -INFINITY;
            return LO_OK;
        }
        bool ok = n > 0 && n < 64;
        for (size_t i = 0; ok && i < n; i++)
            ok = (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '+' || p[i] == '.' || p[i] == 'e' ||
                 p[i] == 'E';
        if (ok) {
            char tmp[64];
            char *end;
            memcpy(tmp, p, n);
            tmp[n] = '\0';
            double d = strtod(tmp, &end);
            if (end == tmp + n && isfinite(d)) {
                *out = d;
                return LO_OK;
            }
        }
        return lo_jd_fail(c, key, "expected a number, got a non-numeric string");
    }
    return lo_jd_fail(c, key, "expected a number, got %s", type_name(v));
}

int lo_jd_bool(lo_jd_t *c, const char *key, json_t *v, bool *out)
{
    if (v == NULL)
        return LO_OK;
    if (!json_is_boolean(v))
        return lo_jd_fail(c, key, "expected a boolean, got %s", type_name(v));
    *out = json_is_true(v);
    return LO_OK;
}

int lo_jd_hex_or(lo_jd_t *c, const char *key, json_t *v, uint8_t **out, size_t *n, const char *malformed)
{
    lo_str_t s = LO_STR_NULL;
    if (v == NULL)
        return LO_OK;
    int rc = lo_jd_str_view(c, key, v, &s);
    if (rc != LO_OK)
        return rc;
    uint8_t *d = lo_arena_alloc(c->b->arena, s.len / 2 + 1);
    if (d == NULL)
        return LO_ERROR;
    if (s.len % 2 != 0 || !lo_hex_parse(s, d, s.len / 2)) {
        if (malformed == NULL)
            return lo_jd_fail(c, key, "expected a hex string");
        c->bad_id = c->bad_id != NULL ? c->bad_id : malformed;
        return LO_OK;
    }
    *out = d;
    *n = s.len / 2;
    return LO_OK;
}

int lo_jd_hex(lo_jd_t *c, const char *key, json_t *v, uint8_t **out, size_t *n)
{
    return lo_jd_hex_or(c, key, v, out, n, NULL);
}

int lo_jd_id(lo_jd_t *c, const char *key, json_t *v, uint8_t *out, size_t want, bool strict, bool *has)
{
    lo_str_t s = LO_STR_NULL;
    uint8_t tmp[16];
    *has = false;
    if (v == NULL)
        return LO_OK;
    int rc = lo_jd_str_view(c, key, v, &s);
    if (rc != LO_OK)
        return rc;
    if (s.len == 0)
        return LO_OK;
    /* a malformed id spoils its record, not the request: the record is
     * refused at admission, in partial_success (docs/ingest-storage.md) */
    const char *bad =
        want == 16 ? "a trace id that is not 32 hex digits" : "a span id that is not 16 hex digits";
    if (s.len % 2 != 0 || s.len > 2 * sizeof(tmp) || !lo_hex_parse(s, tmp, s.len / 2)) {
        bool hex = true;
        for (size_t i = 0; i < s.len; i++)
            hex = hex && lo_hex_value(s.p[i]) >= 0;
        if (!hex) {
            c->bad_id = c->bad_id != NULL ? c->bad_id : bad;
            return LO_OK;
        }
    }
    if (s.len != 2 * want) {
        if (strict)
            c->bad_id = c->bad_id != NULL ? c->bad_id : bad;
        return LO_OK;
    }
    /* an all-zero id is the OTLP spelling of "no id" */
    uint8_t any = 0;
    for (size_t i = 0; i < want; i++)
        any |= tmp[i];
    if (any == 0)
        return LO_OK;
    memcpy(out, tmp, want);
    *has = true;
    return LO_OK;
}

/* Base64, standard or URL-safe alphabet, padding optional (the protobuf JSON
 * mapping accepts both). */
static bool b64_decode(const char *p, size_t n, uint8_t *out, size_t *outlen)
{
    while (n > 0 && p[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return false;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        int v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '+' || ch == '-')
            v = 62;
        else if (ch == '/' || ch == '_')
            v = 63;
        else
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *outlen = o;
    return true;
}

int lo_jd_keep(lo_jd_t *c, const lo_buf_t *buf, size_t from, lo_str_t *out)
{
    if (buf->err != LO_OK)
        return buf->err == LO_TOO_LARGE ? LO_ERROR : buf->err;
    char *d = lo_arena_strndup(c->b->arena, buf->p + from, buf->len - from);
    if (d == NULL)
        return LO_ERROR;
    out->p = d;
    out->len = buf->len - from;
    return LO_OK;
}

int lo_jd_scrub(lo_jd_t *c, lo_redact_mode_t mode, lo_str_t *s)
{
    return lo_redact_str(c->o->redact, mode, &c->scrub, c->b->arena, s);
}

/* ---- AnyValue, KeyValue ---- */

enum { AV_STRING, AV_BOOL, AV_INT, AV_DOUBLE, AV_ARRAY, AV_KVLIST, AV_BYTES, AV_N };
static const char *const av_keys[AV_N] = { "stringValue", "boolValue",   "intValue",  "doubleValue",
                                           "arrayValue",  "kvlistValue", "bytesValue" };

/* The depth bound: 32 when the caller gives none, at most 200 so that the
 * JSON writer (LO_JW_MAX_DEPTH) and the C stack stay far from their limits
 * (the protobuf walker applies the same). */
static int max_depth(const lo_jd_t *c)
{
    int d = c->o->max_depth > 0 ? c->o->max_depth : 32;
    return d > 200 ? 200 : d;
}

static int jw_check(lo_jd_t *c, const lo_jw_t *w)
{
    int rc = lo_jw_status(w);
    if (rc == LO_INVALID)
        return lo_jd_fail(c, NULL, "nested too deep");
    if (rc != LO_OK)
        return LO_ERROR;
    return LO_OK;
}

static int render_kvs(lo_jd_t *c, lo_jw_t *w, json_t *arr, const char *arr_key, int depth,
                      lo_env_cand_t *cand, uint64_t *pair_hash, size_t *npairs, lo_redact_mode_t inherit);

/* A string value, scrubbed first when mode says so (redact.h). */
static int str_value(lo_jd_t *c, lo_jw_t *w, lo_str_t s, lo_redact_mode_t mode)
{
    if (mode != LO_REDACT_KEEP) {
        lo_buf_reset(&c->scrub);
        if (lo_redact_scrub(c->o->redact, mode, s.p, s.len, &c->scrub) > 0) {
            if (c->scrub.err != LO_OK)
                return LO_ERROR;
            lo_jw_str(w, c->scrub.p, c->scrub.len);
            return LO_OK;
        }
    }
    lo_jw_str(w, s.p, s.len);
    return LO_OK;
}

/* The "values" array of an ArrayValue or KeyValueList. */
static int container_values(lo_jd_t *c, json_t *v, json_t **values)
{
    static const char *const keys[] = { "values" };
    int rc = lo_jd_fields(c, v, keys, 1, values);
    if (rc == LO_OK)
        rc = lo_jd_arr(c, "values", *values);
    return rc;
}

int lo_jd_anyvalue(lo_jd_t *c, lo_jw_t *w, json_t *v, int depth)
{
    return lo_jd_anyvalue_mode(c, w, v, depth, LO_REDACT_KEEP);
}

int lo_jd_anyvalue_mode(lo_jd_t *c, lo_jw_t *w, json_t *v, int depth, lo_redact_mode_t mode)
{
    json_t *f[AV_N];
    int rc, which = -1;
    if (v == NULL) {
        lo_jw_null(w);
        return LO_OK;
    }
    /* depth counts every value present, scalars too, as the protobuf walker
     * counts it: an attribute's value is 1, its array elements 2, ... */
    if (depth > max_depth(c))
        return lo_jd_fail(c, NULL, "AnyValue nested deeper than %d levels", max_depth(c));
    if (!json_is_object(v))
        return lo_jd_fail(c, NULL, "expected an object (AnyValue), got %s", type_name(v));
    rc = lo_jd_fields(c, v, av_keys, AV_N, f);
    if (rc != LO_OK)
        return rc;
    for (int i = 0; i < AV_N; i++) {
        if (f[i] == NULL)
            continue;
        if (which >= 0)
            return lo_jd_fail(c, NULL, "an AnyValue holds one value, got both %s and %s", av_keys[which],
                              av_keys[i]);
        which = i;
    }
    switch (which) {
    case -1: lo_jw_null(w); return LO_OK;
    case AV_STRING: {
        lo_str_t s;
        rc = lo_jd_str_view(c, av_keys[which], f[which], &s);
        if (rc == LO_OK)
            rc = str_value(c, w, s, mode);
        return rc;
    }
    case AV_BOOL: {
        bool x = false;
        rc = lo_jd_bool(c, av_keys[which], f[which], &x);
        if (rc == LO_OK)
            lo_jw_bool(w, x);
        return rc;
    }
    case AV_INT: {
        int64_t x = 0;
        rc = lo_jd_i64(c, av_keys[which], f[which], &x);
        if (rc == LO_OK)
            lo_jw_i64(w, x);
        return rc;
    }
    case AV_DOUBLE: {
        double x = 0;
        rc = lo_jd_f64(c, av_keys[which], f[which], &x);
        if (rc == LO_OK)
            lo_jw_f64(w, x);
        return rc;
    }
    case AV_BYTES: {
        lo_str_t s;
        size_t n = 0;
        rc = lo_jd_str_view(c, av_keys[which], f[which], &s);
        if (rc != LO_OK)
            return rc;
        uint8_t *d = lo_arena_alloc(c->b->arena, s.len / 4 * 3 + 3);
        if (d == NULL)
            return LO_ERROR;
        if (!b64_decode(s.p, s.len, d, &n))
            return lo_jd_fail(c, av_keys[which], "expected a base64 string");
        lo_jw_base64(w, d, n);
        return LO_OK;
    }
    default: break;
    }
    /* arrayValue or kvlistValue: one level of nesting more */
    json_t *values = NULL;
    lo_jd_push(c, av_keys[which], -1);
    rc = lo_jd_obj(c, NULL, f[which]);
    if (rc == LO_OK)
        rc = container_values(c, f[which], &values);
    if (rc == LO_OK && which == AV_ARRAY) {
        lo_jw_arr_begin(w);
        size_t n = values != NULL ? json_array_size(values) : 0;
        for (size_t i = 0; i < n && rc == LO_OK; i++) {
            lo_jd_push(c, "values", (long)i);
            rc = lo_jd_anyvalue_mode(c, w, json_array_get(values, i), depth + 1, mode);
            lo_jd_pop(c);
        }
        lo_jw_arr_end(w);
    } else if (rc == LO_OK) {
        rc = render_kvs(c, w, values, "values", depth + 1, NULL, NULL, NULL, mode);
    }
    if (rc == LO_OK)
        rc = jw_check(c, w);
    lo_jd_pop(c);
    return rc;
}

static int render_kvs(lo_jd_t *c, lo_jw_t *w, json_t *arr, const char *arr_key, int depth,
                      lo_env_cand_t *cand, uint64_t *pair_hash, size_t *npairs, lo_redact_mode_t inherit)
{
    static const char *const kv_keys[] = { "key", "value" };
    int rc = LO_OK;
    size_t n = arr != NULL ? json_array_size(arr) : 0;
    lo_jw_obj_begin(w);
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        json_t *kv = json_array_get(arr, i), *f[2];
        lo_str_t key = LO_STR_LIT("");
        lo_jd_push(c, arr_key, (long)i);
        rc = lo_jd_obj(c, NULL, kv);
        if (rc == LO_OK)
            rc = lo_jd_fields(c, kv, kv_keys, 2, f);
        if (rc == LO_OK)
            rc = lo_jd_str_view(c, "key", f[0], &key);
        if (rc == LO_OK) {
            size_t off = w->b->len;
            lo_jw_key(w, key.p, key.len);
            lo_redact_mode_t mode = lo_redact_key(c->o->redact, key.p, key.len);
            if (mode == LO_REDACT_VALUE) {
                lo_jw_cstr(w, LO_REDACTED);
                /* the value is still checked, in a writer whose output is dropped */
                if (w != &c->w_scratch) {
                    lo_buf_reset(&c->scratch);
                    lo_jw_init(&c->w_scratch, &c->scratch);
                }
                lo_jd_push(c, "value", -1);
                rc = lo_jd_anyvalue(c, &c->w_scratch, f[1], depth);
                lo_jd_pop(c);
            } else {
                lo_jd_push(c, "value", -1);
                rc = lo_jd_anyvalue_mode(c, w, f[1], depth, mode > inherit ? mode : inherit);
                lo_jd_pop(c);
                /* values under keys that are scrubbed are not envelope candidates */
                if (rc == LO_OK && cand != NULL && f[1] != NULL && mode == LO_REDACT_KEEP) {
                    json_t *sv = lo_jd_string_value(f[1]);
                    if (sv != NULL && json_is_string(sv))
                        lo_env_cand_note(cand, key, lo_str(json_string_value(sv), json_string_length(sv)));
                }
            }
            if (rc == LO_OK && pair_hash != NULL && w->b->err == LO_OK) {
                const char *pair = w->b->p + off;
                size_t plen = w->b->len - off;
                if (plen > 0 && pair[0] == ',') {
                    pair++;
                    plen--;
                }
                *pair_hash = lo_labels_hash_add(*pair_hash, pair, plen);
                (*npairs)++;
            }
        }
        lo_jd_pop(c);
    }
    lo_jw_obj_end(w);
    if (rc == LO_OK)
        rc = jw_check(c, w);
    return rc;
}

int lo_jd_attrs(lo_jd_t *c, lo_jw_t *w, json_t *arr, const char *key, lo_env_cand_t *cand,
                uint64_t *pair_hash, size_t *npairs)
{
    int rc = lo_jd_arr(c, key, arr);
    if (rc != LO_OK)
        return rc;
    return render_kvs(c, w, arr, key, 1, cand, pair_hash, npairs, LO_REDACT_KEEP);
}

int lo_jd_attrs_keep(lo_jd_t *c, json_t *arr, const char *key, lo_env_cand_t *cand, lo_str_t *out)
{
    lo_jw_t w;
    lo_buf_reset(&c->tmp);
    lo_jw_init(&w, &c->tmp);
    int rc = lo_jd_attrs(c, &w, arr, key, cand, NULL, NULL);
    if (rc != LO_OK)
        return rc;
    return lo_jd_keep(c, &c->tmp, 0, out);
}

/* ---- Resource, InstrumentationScope ---- */

int lo_jd_resource(lo_jd_t *c, json_t *v, lo_jd_owner_t *res)
{
    enum { R_ATTRS, R_DROPPED, R_N };
    static const char *const keys[R_N] = { "attributes", "droppedAttributesCount" };
    json_t *f[R_N] = { NULL, NULL };
    uint32_t dropped = 0;
    int rc;
    memset(res, 0, sizeof(*res));
    lo_jd_push(c, "resource", -1);
    rc = lo_jd_obj(c, NULL, v);
    if (rc == LO_OK && v != NULL)
        rc = lo_jd_fields(c, v, keys, R_N, f);
    if (rc == LO_OK)
        rc = lo_jd_attrs_keep(c, f[R_ATTRS], keys[R_ATTRS], &res->cand, &res->json);
    if (rc == LO_OK)
        rc = lo_jd_u32(c, keys[R_DROPPED], f[R_DROPPED], &dropped);
    /* service.name outlives the tree: records keep it as env.service */
    if (rc == LO_OK && res->cand.service_name.p != NULL)
        rc = copy_str(c, res->cand.service_name, &res->cand.service_name);
    lo_jd_pop(c);
    return rc;
}

int lo_jd_scope(lo_jd_t *c, json_t *v, lo_jd_owner_t *scope)
{
    enum { S_NAME, S_VERSION, S_ATTRS, S_DROPPED, S_N };
    static const char *const keys[S_N] = { "name", "version", "attributes", "droppedAttributesCount" };
    json_t *f[S_N] = { NULL, NULL, NULL, NULL };
    uint32_t dropped = 0;
    int rc;
    memset(scope, 0, sizeof(*scope));
    scope->name = scope->version = LO_STR_LIT("");
    lo_jd_push(c, "scope", -1);
    rc = lo_jd_obj(c, NULL, v);
    if (rc == LO_OK && v != NULL)
        rc = lo_jd_fields(c, v, keys, S_N, f);
    if (rc == LO_OK)
        rc = lo_jd_str(c, keys[S_NAME], f[S_NAME], &scope->name);
    if (rc == LO_OK)
        rc = lo_jd_str(c, keys[S_VERSION], f[S_VERSION], &scope->version);
    if (rc == LO_OK) {
        /* scope attributes are not stored, only searched for the envelope */
        lo_jw_t w;
        lo_buf_reset(&c->tmp);
        lo_jw_init(&w, &c->tmp);
        rc = lo_jd_attrs(c, &w, f[S_ATTRS], keys[S_ATTRS], &scope->cand, NULL, NULL);
    }
    if (rc == LO_OK)
        rc = lo_jd_u32(c, keys[S_DROPPED], f[S_DROPPED], &dropped);
    lo_jd_pop(c);
    return rc;
}

void lo_jd_envelope(lo_envelope_t *env, const lo_env_cand_t *rec, const lo_jd_owner_t *scope,
                    const lo_jd_owner_t *res)
{
    lo_envelope_build(env, rec, &scope->cand, &res->cand);
}

/* ---- the nesting every signal shares ---- */

/* Calls fn for every element of the array under key of v (absent: none). */
static int each(lo_jd_t *c, json_t *arr, const char *key,
                int (*fn)(lo_jd_t *c, json_t *v, const lo_jd_signal_t *sig, const lo_jd_owner_t *res),
                const lo_jd_signal_t *sig, const lo_jd_owner_t *res)
{
    int rc = lo_jd_arr(c, key, arr);
    size_t n = rc == LO_OK && arr != NULL ? json_array_size(arr) : 0;
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        lo_jd_push(c, key, (long)i);
        rc = fn(c, json_array_get(arr, i), sig, res);
        lo_jd_pop(c);
    }
    return rc;
}

/* Reads one level {<owner>, <list>, schemaUrl}: v must be an object
 * (absent: LO_ABSENT, nothing to walk). */
static int level(lo_jd_t *c, json_t *v, const char *owner, const char *list, json_t **owner_v,
                 json_t **list_v)
{
    const char *const keys[3] = { owner, list, "schemaUrl" };
    json_t *f[3];
    lo_str_t schema;
    int rc = lo_jd_obj(c, NULL, v);
    if (rc != LO_OK)
        return rc;
    if (v == NULL)
        return LO_ABSENT;
    rc = lo_jd_fields(c, v, keys, 3, f);
    if (rc == LO_OK)
        rc = lo_jd_str_view(c, keys[2], f[2], &schema);
    *owner_v = f[0];
    *list_v = f[1];
    return rc;
}

/* {scope, <records>, schemaUrl} */
static int walk_scope(lo_jd_t *c, json_t *v, const lo_jd_signal_t *sig, const lo_jd_owner_t *res)
{
    json_t *sv = NULL, *recs = NULL;
    lo_jd_owner_t scope;
    int rc = level(c, v, "scope", sig->records, &sv, &recs);
    if (rc == LO_OK)
        rc = lo_jd_scope(c, sv, &scope);
    if (rc == LO_OK)
        rc = lo_jd_arr(c, sig->records, recs);
    if (rc != LO_OK)
        return rc == LO_ABSENT ? LO_OK : rc;
    size_t n = recs != NULL ? json_array_size(recs) : 0;
    for (size_t i = 0; i < n && rc == LO_OK; i++) {
        lo_jd_push(c, sig->records, (long)i);
        rc = sig->record(c, json_array_get(recs, i), res, &scope);
        lo_jd_pop(c);
    }
    return rc;
}

/* {resource, <scopes>, schemaUrl} */
static int walk_resource(lo_jd_t *c, json_t *v, const lo_jd_signal_t *sig, const lo_jd_owner_t *unused)
{
    (void)unused;
    json_t *rv = NULL, *scopes = NULL;
    lo_jd_owner_t res;
    int rc = level(c, v, "resource", sig->scopes, &rv, &scopes);
    if (rc == LO_OK)
        rc = lo_jd_resource(c, rv, &res);
    if (rc != LO_OK)
        return rc == LO_ABSENT ? LO_OK : rc;
    return each(c, scopes, sig->scopes, walk_scope, sig, &res);
}

int lo_jd_walk(lo_jd_t *c, json_t *root, const lo_jd_signal_t *sig)
{
    const char *const keys[1] = { sig->resources };
    json_t *f[1];
    int rc = lo_jd_fields(c, root, keys, 1, f);
    if (rc != LO_OK)
        return rc;
    return each(c, f[0], keys[0], walk_resource, sig, NULL);
}
