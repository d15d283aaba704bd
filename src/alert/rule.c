/*
 * rule.c — alert rules checked field by field (rule.h, docs/alerts.md).
 *
 * The parser reads the input object and builds the stored form as it
 * goes, so what is stored is exactly what was checked: unknown fields are
 * refused, defaults are written out, labels are kept in canonical order.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/rule.h"
#include "core/ids.h"
#include "query/exec.h"

const char *const lo_alert_cond_names[] = { "gt", "ge", "lt", "le", "eq", "ne", "absent", NULL };
const char *const lo_alert_target_names[] = { "webhook", "alertmanager", NULL };

static const char *const TOP_FIELDS[] = { "name",      "project_id", "enabled",     "severity", "query",
                                          "condition", "threshold",  "for_seconds", "targets",  NULL };
static const char *const METRIC_FIELDS[] = { "type",           "name",     "labels", "agg",
                                             "window_seconds", "group_by", NULL };
static const char *const LOG_FIELDS[] = { "type", "filter", "window_seconds", "group_by", NULL };
static const char *const FILTER_FIELDS[] = { "level", "service", "q", "session_id", NULL };
static const char *const TARGET_FIELDS[] = { "type", "url", "secret", NULL };

#define MAX_LABEL_PAIRS  32
#define MAX_LABELS_BYTES 4096

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return LO_INVALID;
}

static int index_of(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* Refuses a field of o that is not in allowed. */
static int known_fields(json_t *o, const char *const *allowed, const char *where, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (index_of(allowed, k) < 0)
            return fail(err, errlen, "%s%.64s is not a field of an alert rule%s", where, k,
                        *where ? "" : " (see docs/alerts.md)");
    }
    return LO_OK;
}

static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* An optional string of minc..maxc characters without control characters;
 * NULL when absent or null.  *bad on error. */
static const char *opt_str(json_t *o, const char *key, const char *name, size_t minc, size_t maxc, bool *bad,
                           char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t n = s ? chars(s) : 0;
    bool ctl = false;
    for (const char *p = s; p && *p; p++)
        ctl |= (unsigned char)*p < 0x20 || *p == 0x7f;
    if (!s || strlen(s) != json_string_length(v) || n < minc || n > maxc || ctl) {
        fail(err, errlen, "%s must be a string of %zu to %zu characters without control characters", name,
             minc, maxc);
        *bad = true;
        return NULL;
    }
    return s;
}

static bool is_int_in(json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!json_is_integer(v))
        return false;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return false;
    *out = (int64_t)x;
    return true;
}

/* http or https, a host, no spaces or control characters. */
static bool good_url(const char *u)
{
    size_t n = strlen(u);
    const char *rest;
    if (n > LO_ALERT_MAX_URL)
        return false;
    if (strncmp(u, "http://", 7) == 0)
        rest = u + 7;
    else if (strncmp(u, "https://", 8) == 0)
        rest = u + 8;
    else
        return false;
    if (*rest == '\0' || *rest == '/' || *rest == ':' || *rest == '?' || *rest == '#')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\' || *p == '"' || *p == '<' || *p == '>')
            return false;
    return true;
}

static int parse_labels(json_t *v, json_t *out, lo_alert_rule_t *r, char *err, size_t errlen)
{
    if (!v || json_is_null(v))
        return LO_OK;
    if (!json_is_object(v) || json_object_size(v) > MAX_LABEL_PAIRS)
        return fail(err, errlen,
                    "query.labels must be an object of at most %d exact matches, such as "
                    "{\"http.route\":\"/checkout\"}",
                    MAX_LABEL_PAIRS);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!json_is_string(x) && !json_is_number(x) && !json_is_boolean(x))
            return fail(err, errlen, "query.labels.%.64s must be a string, number or boolean", k);
        if (strlen(k) == 0 || strlen(k) > 256)
            return fail(err, errlen, "query.labels keys must be 1 to 256 bytes");
    }
    r->labels = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    if (!r->labels || strlen(r->labels) > MAX_LABELS_BYTES)
        return fail(err, errlen, "query.labels must be at most %d bytes", MAX_LABELS_BYTES);
    json_object_set(out, "labels", v);
    return LO_OK;
}

static int parse_group_by(json_t *v, json_t *out, lo_alert_rule_t *r, char *err, size_t errlen)
{
    if (!v || json_is_null(v))
        return LO_OK;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > LO_ALERT_MAX_GROUP_KEYS)
        return fail(err, errlen, "query.group_by must be a list of 1 to %d %s, such as [\"%s\"]",
                    LO_ALERT_MAX_GROUP_KEYS, r->is_log ? "fields" : "label keys",
                    r->is_log ? "service" : "http.route");
    lo_buf_putc(&r->group_by, '{');
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        const char *k = json_string_value(x);
        if (!k || strlen(k) == 0 || strlen(k) > 256 || strlen(k) != json_string_length(x))
            return fail(err, errlen, "query.group_by[%zu] must be a string of 1 to 256 bytes", i);
        if (r->is_log && strcmp(k, "service") != 0)
            return fail(err, errlen, "query.group_by of a log rule can only be [\"service\"]");
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->group_keys[j], k) == 0)
                return fail(err, errlen, "query.group_by names %.64s twice", k);
        r->group_keys[r->n_group_keys++] = k;
        lo_q_array_item(&r->group_by, k, strlen(k), i == 0);
    }
    lo_buf_putc(&r->group_by, '}');
    lo_buf_putc(&r->group_by, '\0');
    r->group_by.len--;
    json_object_set(out, "group_by", v);
    return r->group_by.err ? fail(err, errlen, "out of memory") : LO_OK;
}

static int parse_filter(json_t *f, json_t *out, lo_alert_rule_t *r, char *err, size_t errlen)
{
    bool bad = false;
    if (!f || json_is_null(f))
        return LO_OK;
    if (!json_is_object(f))
        return fail(err, errlen, "query.filter must be an object of level, service, q and session_id");
    if (known_fields(f, FILTER_FIELDS, "query.filter.", err, errlen) != LO_OK)
        return LO_INVALID;
    json_t *fo = json_object();
    json_object_set_new(out, "filter", fo);
    r->level_text = opt_str(f, "level", "query.filter.level", 1, 300, &bad, err, errlen);
    r->service = opt_str(f, "service", "query.filter.service", 1, 256, &bad, err, errlen);
    r->q = opt_str(f, "q", "query.filter.q", 1, 1024, &bad, err, errlen);
    const char *session = opt_str(f, "session_id", "query.filter.session_id", 1, 64, &bad, err, errlen);
    if (bad)
        return LO_INVALID;
    if (r->level_text) {
        if (lo_q_parse_levels(r->level_text, r->levels, sizeof r->levels) != LO_OK)
            return fail(
                err, errlen,
                "query.filter.level must be a level name (trace, debug, info, warn, error, fatal) or a "
                "comma-separated list of up to 8");
        r->has_levels = true;
        json_object_set_new(fo, "level", json_string(r->level_text));
    }
    if (r->service)
        json_object_set_new(fo, "service", json_string(r->service));
    if (r->q)
        json_object_set_new(fo, "q", json_string(r->q));
    if (session) {
        uint8_t b[16];
        if (!lo_uuid_parse((lo_str_t){ session, strlen(session) }, b))
            return fail(err, errlen, "query.filter.session_id must be a UUID");
        lo_uuid_format(b, r->session);
        r->has_session = true;
        json_object_set_new(fo, "session_id", json_string(r->session));
    }
    /* the stored form's strings, not the input's */
    r->level_text = r->level_text ? json_string_value(json_object_get(fo, "level")) : NULL;
    r->service = r->service ? json_string_value(json_object_get(fo, "service")) : NULL;
    r->q = r->q ? json_string_value(json_object_get(fo, "q")) : NULL;
    return LO_OK;
}

static int parse_query(json_t *q, json_t *out, lo_alert_rule_t *r, char *err, size_t errlen)
{
    bool bad = false;
    if (!json_is_object(q))
        return fail(err, errlen,
                    "query is required: {\"type\":\"metric\",\"name\",\"agg\",\"window_seconds\"} or "
                    "{\"type\":\"log\",\"filter\",\"window_seconds\"}");
    const char *type = json_string_value(json_object_get(q, "type"));
    if (!type || (strcmp(type, "metric") != 0 && strcmp(type, "log") != 0))
        return fail(err, errlen, "query.type must be metric or log");
    r->is_log = strcmp(type, "log") == 0;
    if (known_fields(q, r->is_log ? LOG_FIELDS : METRIC_FIELDS, "query.", err, errlen) != LO_OK)
        return LO_INVALID;
    json_t *qo = json_object();
    json_object_set_new(out, "query", qo);
    json_object_set_new(qo, "type", json_string(type));
    if (!is_int_in(json_object_get(q, "window_seconds"), LO_ALERT_MIN_WINDOW_S, LO_ALERT_MAX_WINDOW_S,
                   &r->window_s))
        return fail(err, errlen, "query.window_seconds must be an integer from %d to %d",
                    LO_ALERT_MIN_WINDOW_S, LO_ALERT_MAX_WINDOW_S);
    json_object_set_new(qo, "window_seconds", json_integer(r->window_s));
    if (r->is_log) {
        if (parse_filter(json_object_get(q, "filter"), qo, r, err, errlen) != LO_OK)
            return LO_INVALID;
    } else {
        r->metric = opt_str(q, "name", "query.name", 1, 256, &bad, err, errlen);
        if (bad)
            return LO_INVALID;
        if (!r->metric)
            return fail(err, errlen,
                        "query.name is required: the metric's name, such as http.server.duration");
        json_object_set_new(qo, "name", json_string(r->metric));
        r->metric = json_string_value(json_object_get(qo, "name"));
        if (parse_labels(json_object_get(q, "labels"), qo, r, err, errlen) != LO_OK)
            return LO_INVALID;
        json_t *agg = json_object_get(q, "agg");
        const char *a = agg && !json_is_null(agg) ? json_string_value(agg) : "avg";
        lo_metric_spec_t parsed = { 0 };
        if (a == NULL || strlen(a) > 16 || lo_metric_agg_parse(a, &parsed) != LO_OK ||
            strcmp(parsed.agg_name, "buckets") == 0)
            return fail(
                err, errlen,
                "query.agg must be avg, sum, min, max, count, rate, increase, or a percentile pNN (p50, "
                "p99.9)");
        r->agg = parsed.agg;
        r->quantile = parsed.q;
        memcpy(r->agg_name, parsed.agg_name, sizeof r->agg_name);
        json_object_set_new(qo, "agg", json_string(r->agg_name));
    }
    return parse_group_by(json_object_get(q, "group_by"), qo, r, err, errlen);
}

static int parse_targets(json_t *v, json_t *out, lo_alert_rule_t *r, char *err, size_t errlen)
{
    json_t *arr = json_array();
    json_object_set_new(out, "targets", arr);
    if (!v || json_is_null(v))
        return LO_OK;
    if (!json_is_array(v) || json_array_size(v) > LO_ALERT_MAX_TARGETS)
        return fail(err, errlen, "targets must be a list of at most %d notification targets",
                    LO_ALERT_MAX_TARGETS);
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t)
    {
        char where[32];
        bool bad = false;
        snprintf(where, sizeof where, "targets[%zu].", i);
        if (!json_is_object(t))
            return fail(err, errlen, "targets[%zu] must be an object {\"type\",\"url\"}", i);
        if (known_fields(t, TARGET_FIELDS, where, err, errlen) != LO_OK)
            return LO_INVALID;
        const char *type = json_string_value(json_object_get(t, "type"));
        int kind = type ? index_of(lo_alert_target_names, type) : -1;
        if (kind < 0)
            return fail(err, errlen, "targets[%zu].type must be webhook or alertmanager", i);
        const char *url = json_string_value(json_object_get(t, "url"));
        if (!url || strlen(url) != json_string_length(json_object_get(t, "url")) || !good_url(url))
            return fail(err, errlen,
                        "targets[%zu].url must be an http:// or https:// URL of at most %d characters", i,
                        LO_ALERT_MAX_URL);
        char name[40];
        snprintf(name, sizeof name, "targets[%zu].secret", i);
        const char *secret = opt_str(t, "secret", name, 1, 256, &bad, err, errlen);
        if (bad)
            return LO_INVALID;
        if (secret && kind != LO_TARGET_WEBHOOK)
            return fail(err, errlen, "targets[%zu].secret applies to webhook targets only", i);
        json_t *to = json_object();
        json_array_append_new(arr, to);
        json_object_set_new(to, "type", json_string(lo_alert_target_names[kind]));
        json_object_set_new(to, "url", json_string(url));
        if (secret)
            json_object_set_new(to, "secret", json_string(secret));
        r->targets[i] =
            (lo_alert_target_t){ (lo_alert_target_kind_t)kind, json_string_value(json_object_get(to, "url")),
                                 secret ? json_string_value(json_object_get(to, "secret")) : NULL };
        r->n_targets = i + 1;
    }
    return LO_OK;
}

/* severity: 1-32 of [a-z0-9_-], default "warning". */
static int parse_severity(json_t *v, json_t *out, lo_alert_rule_t *r, char *err, size_t errlen)
{
    const char *s = "warning";
    if (v && !json_is_null(v)) {
        s = json_string_value(v);
        size_t n = s ? strlen(s) : 0;
        bool ok = n >= 1 && n <= 32 && n == json_string_length(v);
        for (size_t i = 0; ok && i < n; i++)
            ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-';
        if (!ok)
            return fail(err, errlen,
                        "severity must be 1 to 32 characters of a-z, 0-9, _ and -, such as critical");
    }
    json_object_set_new(out, "severity", json_string(s));
    r->severity = json_string_value(json_object_get(out, "severity"));
    return LO_OK;
}

static int parse_top(json_t *in, json_t *out, lo_alert_rule_t *r, char *err, size_t errlen)
{
    bool bad = false;
    if (!json_is_object(in))
        return fail(err, errlen, "an alert rule must be a JSON object");
    if (known_fields(in, TOP_FIELDS, "", err, errlen) != LO_OK)
        return LO_INVALID;
    r->name = opt_str(in, "name", "name", 1, LO_ALERT_MAX_NAME, &bad, err, errlen);
    if (bad)
        return LO_INVALID;
    if (!r->name)
        return fail(err, errlen, "name is required: 1 to %d characters", LO_ALERT_MAX_NAME);
    json_object_set_new(out, "name", json_string(r->name));
    r->name = json_string_value(json_object_get(out, "name"));

    json_t *p = json_object_get(in, "project_id");
    if (p && !json_is_null(p)) {
        uint8_t b[16];
        const char *s = json_string_value(p);
        if (!s || !lo_uuid_parse((lo_str_t){ s, strlen(s) }, b))
            return fail(err, errlen, "project_id must be a UUID or null");
        lo_uuid_format(b, r->project_id);
        r->has_project = true;
        json_object_set_new(out, "project_id", json_string(r->project_id));
    } else {
        json_object_set_new(out, "project_id", json_null());
    }
    json_t *en = json_object_get(in, "enabled");
    if (en && !json_is_boolean(en))
        return fail(err, errlen, "enabled must be true or false");
    r->enabled = en ? json_is_true(en) : true;
    json_object_set_new(out, "enabled", json_boolean(r->enabled));
    if (parse_severity(json_object_get(in, "severity"), out, r, err, errlen) != LO_OK ||
        parse_query(json_object_get(in, "query"), out, r, err, errlen) != LO_OK)
        return LO_INVALID;

    const char *c = json_string_value(json_object_get(in, "condition"));
    int ci = c ? index_of(lo_alert_cond_names, c) : -1;
    if (ci < 0)
        return fail(err, errlen, "condition is required: gt, ge, lt, le, eq, ne or absent");
    r->cond = (lo_alert_cond_t)ci;
    json_object_set_new(out, "condition", json_string(lo_alert_cond_names[ci]));
    json_t *th = json_object_get(in, "threshold");
    if (r->cond == LO_ALERT_ABSENT) {
        if (th && !json_is_null(th))
            return fail(err, errlen, "threshold does not apply to condition absent");
        if (r->n_group_keys > 0)
            return fail(err, errlen,
                        "query.group_by cannot be used with condition absent (absence is of the whole "
                        "query)");
        json_object_set_new(out, "threshold", json_null());
    } else {
        if (!json_is_number(th) || !isfinite(json_number_value(th)))
            return fail(err, errlen, "threshold is required: a finite number");
        r->threshold = json_number_value(th);
        json_object_set_new(out, "threshold", json_real(r->threshold));
    }
    json_t *fs = json_object_get(in, "for_seconds");
    r->for_s = 0;
    if (fs && !json_is_null(fs) && !is_int_in(fs, 0, LO_ALERT_MAX_FOR_S, &r->for_s))
        return fail(err, errlen, "for_seconds must be an integer from 0 to %d", LO_ALERT_MAX_FOR_S);
    json_object_set_new(out, "for_seconds", json_integer(r->for_s));
    return parse_targets(json_object_get(in, "targets"), out, r, err, errlen);
}

int lo_alert_rule_from_json(json_t *v, lo_alert_rule_t *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    lo_buf_init(&r->group_by, 0);
    r->root = json_object();
    if (!r->root)
        return fail(err, errlen, "out of memory");
    if (parse_top(v, r->root, r, err, errlen) != LO_OK) {
        lo_alert_rule_free(r);
        return LO_INVALID;
    }
    if (r->group_by.len == 0) {
        lo_buf_putc(&r->group_by, '\0');
        r->group_by.len = 0;
    }
    return LO_OK;
}

int lo_alert_rule_parse(const char *text, size_t len, lo_alert_rule_t *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    if (len > LO_ALERT_MAX_RULE_BYTES)
        return fail(err, errlen, "the rule is %zu bytes; at most %d are accepted", len,
                    LO_ALERT_MAX_RULE_BYTES);
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        return fail(err, errlen, "the body is not JSON: %.120s (line %d, column %d)", je.text, je.line,
                    je.column);
    int rc = lo_alert_rule_from_json(v, r, err, errlen);
    json_decref(v);
    return rc;
}

int lo_alert_rule_patch(const lo_alert_rule_t *base, const char *patch, size_t len, lo_alert_rule_t *out,
                        char *changed, size_t changed_len, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (changed_len)
        changed[0] = '\0';
    if (len > LO_ALERT_MAX_RULE_BYTES)
        return fail(err, errlen, "the patch is %zu bytes; at most %d are accepted", len,
                    LO_ALERT_MAX_RULE_BYTES);
    json_error_t je;
    json_t *p = json_loadb(patch, len, JSON_REJECT_DUPLICATES, &je);
    if (!p)
        return fail(err, errlen, "the body is not JSON: %.120s (line %d, column %d)", je.text, je.line,
                    je.column);
    int rc = LO_INVALID;
    json_t *merged = NULL;
    if (!json_is_object(p) || json_object_size(p) == 0) {
        fail(err, errlen, "a patch must be a JSON object of the fields to change");
        goto done;
    }
    if (known_fields(p, TOP_FIELDS, "", err, errlen) != LO_OK)
        goto done;
    merged = json_deep_copy(base->root);
    if (!merged) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    /* an unchanged secret is not shown by GET, so a target sent back
     * without one keeps the secret of the same URL */
    json_t *pt = json_object_get(p, "targets"), *bt = json_object_get(base->root, "targets"), *t;
    size_t i, j;
    json_array_foreach(pt, i, t)
    {
        json_t *bx;
        if (!json_is_object(t) || json_object_get(t, "secret"))
            continue;
        json_t *keep = json_object_get(t, "secret_set");
        json_array_foreach(bt, j, bx)
        {
            if (json_is_true(keep) && json_equal(json_object_get(bx, "url"), json_object_get(t, "url")) &&
                json_object_get(bx, "secret"))
                json_object_set(t, "secret", json_object_get(bx, "secret"));
        }
        json_object_del(t, "secret_set");
    }
    json_object_update(merged, p);
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(p, k, v)
    {
        int w = snprintf(changed + n, changed_len > n ? changed_len - n : 0, "%s%s", n ? "," : "", k);
        if (w > 0 && (size_t)w < changed_len - n)
            n += (size_t)w;
    }
    rc = lo_alert_rule_from_json(merged, out, err, errlen);
done:
    json_decref(merged);
    json_decref(p);
    return rc;
}

void lo_alert_rule_free(lo_alert_rule_t *r)
{
    json_decref(r->root);
    free(r->labels);
    lo_buf_free(&r->group_by);
    memset(r, 0, sizeof(*r));
}

void lo_alert_rule_hide_secrets(json_t *rule)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rule, "targets"), i, t)
    {
        if (json_object_get(t, "secret")) {
            json_object_del(t, "secret");
            json_object_set_new(t, "secret_set", json_true());
        }
    }
}

char *lo_alert_rule_dump(const lo_alert_rule_t *r, bool secrets)
{
    if (secrets)
        return json_dumps(r->root, JSON_COMPACT);
    json_t *c = json_deep_copy(r->root);
    if (!c)
        return NULL;
    lo_alert_rule_hide_secrets(c);
    char *s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

bool lo_alert_cond_holds(lo_alert_cond_t c, double v, double t)
{
    switch (c) {
    case LO_ALERT_GT: return v > t;
    case LO_ALERT_GE: return v >= t;
    case LO_ALERT_LT: return v < t;
    case LO_ALERT_LE: return v <= t;
    case LO_ALERT_EQ: return v == t;
    case LO_ALERT_NE: return v != t;
    default: return false;
    }
}
