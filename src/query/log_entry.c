/* log_entry.c — one log entry as the API prints it (log_entry.h). */
#include "query/log_entry.h"

#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "query/query_internal.h"
#include "store/columns.h"

/* The column of log_entries behind each text of the view. */
static const lo_log_col_t TEXT_COLS[LO_LV_NTEXT] = {
    [LO_LV_ID] = LO_LOG_ID,
    [LO_LV_PROJECT_ID] = LO_LOG_PROJECT_ID,
    [LO_LV_SESSION_ID] = LO_LOG_SESSION_ID,
    [LO_LV_USER_ID] = LO_LOG_USER_ID,
    [LO_LV_TRACE_ID] = LO_LOG_TRACE_ID,
    [LO_LV_SPAN_ID] = LO_LOG_SPAN_ID,
    [LO_LV_SERVICE] = LO_LOG_SERVICE,
    [LO_LV_LEVEL] = LO_LOG_LEVEL,
    [LO_LV_SEVERITY_TEXT] = LO_LOG_SEVERITY_TEXT,
    [LO_LV_MESSAGE] = LO_LOG_MESSAGE,
    [LO_LV_SCOPE_NAME] = LO_LOG_SCOPE_NAME,
    [LO_LV_SCOPE_VERSION] = LO_LOG_SCOPE_VERSION,
    [LO_LV_EVENT_NAME] = LO_LOG_EVENT_NAME,
};

static lo_str_t cell(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return (lo_str_t){ NULL, 0 };
    return (lo_str_t){ PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col) };
}

void lo_log_view_from_row(lo_log_view_t *v, const PGresult *r, int row)
{
    v->time_us = lo_q_i64(r, row, LO_LOG_TIME);
    v->has_observed = !PQgetisnull(r, row, LO_LOG_OBSERVED_TIME);
    v->observed_us = v->has_observed ? lo_q_i64(r, row, LO_LOG_OBSERVED_TIME) : 0;
    for (int k = 0; k < LO_LV_NTEXT; k++)
        v->text[k] = cell(r, row, (int)TEXT_COLS[k]);
    v->severity_number = lo_q_i64(r, row, LO_LOG_SEVERITY_NUMBER);
    v->flags = lo_q_i64(r, row, LO_LOG_FLAGS);
    v->dropped_attributes_count = lo_q_i64(r, row, LO_LOG_DROPPED_ATTRIBUTES_COUNT);
    v->body_kind = PQgetisnull(r, row, LO_LOG_BODY_KIND) ? 0 : lo_q_i64(r, row, LO_LOG_BODY_KIND);
    v->attributes = cell(r, row, LO_LOG_ATTRIBUTES);
    v->resource = cell(r, row, LO_LOG_RESOURCE);
}

/* floor(ns / 1000), as the COPY encoder rounds */
static int64_t to_us(int64_t ns)
{
    return ns / 1000 - (ns % 1000 < 0);
}

static lo_str_t or_null(lo_str_t s)
{
    return s.len == 0 ? (lo_str_t){ NULL, 0 } : s;
}

static lo_str_t uuid_text(bool has, const uint8_t u[16], char out[37])
{
    if (!has)
        return (lo_str_t){ NULL, 0 };
    lo_uuid_format(u, out);
    return (lo_str_t){ out, 36 };
}

static lo_str_t hex_text(bool has, const uint8_t *p, size_t n, char *out)
{
    if (!has)
        return (lo_str_t){ NULL, 0 };
    lo_hex_put(out, p, n);
    out[2 * n] = '\0';
    return (lo_str_t){ out, 2 * n };
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void lo_log_view_from_rec(lo_log_view_t *v, const lo_log_rec_t *rec, lo_log_view_ids_t *ids)
{
    const lo_envelope_t *e = &rec->env;
    v->time_us = to_us(rec->time_ns);
    v->has_observed = rec->observed_ns != 0;
    v->observed_us = v->has_observed ? to_us(rec->observed_ns) : 0;
    v->text[LO_LV_ID] = uuid_text(true, rec->id, ids->id);
    v->text[LO_LV_PROJECT_ID] = uuid_text(e->has_project, e->project_id, ids->project);
    v->text[LO_LV_SESSION_ID] = uuid_text(e->has_session, e->session_id, ids->session);
    v->text[LO_LV_USER_ID] = uuid_text(e->has_user, e->user_id, ids->user);
    v->text[LO_LV_TRACE_ID] = hex_text(e->has_trace_id, e->trace_id, 16, ids->trace);
    v->text[LO_LV_SPAN_ID] = hex_text(e->has_span_id, e->span_id, 8, ids->span);
    v->text[LO_LV_SERVICE] = e->service;
    v->text[LO_LV_LEVEL] = rec->level;
    v->text[LO_LV_SEVERITY_TEXT] = or_null(rec->severity_text);
    v->text[LO_LV_MESSAGE] = rec->message;
    v->text[LO_LV_SCOPE_NAME] = or_null(rec->scope_name);
    v->text[LO_LV_SCOPE_VERSION] = or_null(rec->scope_version);
    v->text[LO_LV_EVENT_NAME] = or_null(rec->event_name);
    v->severity_number = clamp(rec->severity_number, INT16_MIN, INT16_MAX);
    v->flags = (int32_t)rec->flags;
    v->dropped_attributes_count = clamp(rec->dropped_attributes_count, 0, INT32_MAX);
    v->body_kind = rec->body_kind;
    v->attributes = or_null(rec->attributes);
    v->resource = or_null(rec->resource);
}

static void text(lo_jw_t *w, lo_str_t s)
{
    if (s.p == NULL)
        lo_jw_null(w);
    else
        lo_jw_str(w, s.p, s.len);
}

static void raw(lo_jw_t *w, lo_str_t s)
{
    if (s.p == NULL)
        lo_jw_null(w);
    else
        lo_jw_raw(w, s.p, s.len);
}

static void time_value(lo_jw_t *w, int64_t us)
{
    char t[32];
    lo_q_fmt_time(us, t);
    lo_jw_cstr(w, t);
}

/* Positions in lo_log_entry_fields of the fields that are not text columns. */
enum {
    F_TIME,
    F_TIME_MS,
    F_OBSERVED,
    F_TEXT0,
    F_SEVERITY_NUMBER = F_TEXT0 + LO_LV_NTEXT,
    F_ATTRIBUTES,
    F_RESOURCE,
    F_FLAGS,
    F_DROPPED,
    F_BODY,
    F_COUNT
};
_Static_assert(F_COUNT <= 32, "a field is a bit of lo_log_fields_t");

const char *const lo_log_entry_fields[] = {
    "time",
    "time_unix_ms",
    "observed_time",
    "id",
    "project_id",
    "session_id",
    "user_id",
    "trace_id",
    "span_id",
    "service",
    "level",
    "severity_text",
    "message",
    "scope_name",
    "scope_version",
    "event_name",
    "severity_number",
    "attributes",
    "resource",
    "flags",
    "dropped_attributes_count",
    "body",
    NULL,
};

/* Names of the body kinds (lo_log_rec_t.body_kind). */
static const char *const BODY_TYPES[] = { NULL, "string", "bool", "int", "double", "array", "map", "bytes" };

int lo_log_fields_parse(const char *list, lo_log_fields_t *out)
{
    lo_log_fields_t chosen = 0;
    int form = 0; /* 1: only these; -1: all but these */
    for (const char *p = list;;) {
        size_t k = strcspn(p, ",");
        int f = p[0] == '-' ? -1 : 1;
        const char *name = f < 0 ? p + 1 : p;
        size_t n = f < 0 ? k - (k > 0) : k;
        int idx = -1;
        for (int i = 0; n > 0 && lo_log_entry_fields[i]; i++)
            if (strlen(lo_log_entry_fields[i]) == n && memcmp(lo_log_entry_fields[i], name, n) == 0)
                idx = i;
        if (idx < 0 || (form != 0 && form != f))
            return LO_INVALID;
        form = f;
        chosen |= (lo_log_fields_t)1 << idx;
        if (p[k] == '\0')
            break;
        p += k + 1;
    }
    lo_log_fields_t id = (lo_log_fields_t)1 << (F_TEXT0 + LO_LV_ID);
    *out = form > 0 ? chosen | id : (LO_LOG_FIELDS_ALL & ~chosen) | id;
    return LO_OK;
}

void lo_log_entry_write_fields(lo_jw_t *w, const lo_log_view_t *v, lo_log_fields_t fields)
{
#define ON(f) (fields & ((lo_log_fields_t)1 << (f)))
    size_t ncols;
    const lo_column_t *cols = lo_columns(LO_SIGNAL_LOGS, &ncols);
    lo_jw_obj_begin(w);
    if (ON(F_TIME))
        lo_jw_key(w, "time", 4), time_value(w, v->time_us);
    if (ON(F_TIME_MS))
        lo_jw_key(w, "time_unix_ms", 12), lo_jw_i64(w, v->time_us / 1000);
    if (ON(F_OBSERVED)) {
        lo_jw_key(w, "observed_time", 13);
        if (v->has_observed)
            time_value(w, v->observed_us);
        else
            lo_jw_null(w);
    }
    for (int k = 0; k < LO_LV_NTEXT; k++) {
        if (!ON(F_TEXT0 + k))
            continue;
        const char *name = cols[TEXT_COLS[k]].name;
        lo_jw_key(w, name, strlen(name));
        text(w, v->text[k]);
    }
    if (ON(F_SEVERITY_NUMBER))
        lo_jw_key(w, "severity_number", 15), lo_jw_i64(w, v->severity_number);
    if (ON(F_ATTRIBUTES))
        lo_jw_key(w, "attributes", 10), raw(w, v->attributes);
    if (ON(F_RESOURCE))
        lo_jw_key(w, "resource", 8), raw(w, v->resource);
    if (ON(F_FLAGS))
        lo_jw_key(w, "flags", 5), lo_jw_i64(w, v->flags);
    if (ON(F_DROPPED))
        lo_jw_key(w, "dropped_attributes_count", 24), lo_jw_i64(w, v->dropped_attributes_count);
    if (ON(F_BODY)) {
        /* a body that is not a string is its JSON in message (as stored) */
        bool known = v->body_kind > 0 && v->body_kind < (int64_t)LO_ARRAY_LEN(BODY_TYPES);
        const lo_str_t m = v->text[LO_LV_MESSAGE];
        lo_jw_key(w, "body_type", 9);
        if (known)
            lo_jw_cstr(w, BODY_TYPES[v->body_kind]);
        else
            lo_jw_null(w);
        lo_jw_key(w, "body", 4);
        if (known && v->body_kind > 1 && m.p != NULL && m.len > 0)
            lo_jw_raw(w, m.p, m.len);
        else
            lo_jw_null(w);
    }
    lo_jw_obj_end(w);
#undef ON
}

void lo_log_entry_write(lo_jw_t *w, const lo_log_view_t *v)
{
    lo_log_entry_write_fields(w, v, LO_LOG_FIELDS_ALL);
}
