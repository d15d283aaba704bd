/*
 * log_entry.h — one log entry as the API shows it, whether it comes from a
 * stored row (GET /api/observe/logs) or from a record just committed (the
 * live tail, src/tail): both are turned into one view and printed by one
 * function, so a tail client receives exactly the object a search returns
 * for the same entry (docs/query-api.md, docs/tail.md).
 */
#ifndef LO_QUERY_LOG_ENTRY_H
#define LO_QUERY_LOG_ENTRY_H

#include <libpq-fe.h>

#include "core/json_write.h"
#include "otlp/otlp.h"

/* The text columns of an entry, in the order it prints them. */
enum {
    LO_LV_ID,
    LO_LV_PROJECT_ID,
    LO_LV_SESSION_ID,
    LO_LV_USER_ID,
    LO_LV_TRACE_ID,
    LO_LV_SPAN_ID,
    LO_LV_SERVICE,
    LO_LV_LEVEL,
    LO_LV_SEVERITY_TEXT,
    LO_LV_MESSAGE,
    LO_LV_SCOPE_NAME,
    LO_LV_SCOPE_VERSION,
    LO_LV_EVENT_NAME,
    LO_LV_NTEXT
};

/* A log entry's values as stored; a lo_str_t with p NULL is SQL NULL. */
typedef struct {
    int64_t time_us;
    int64_t observed_us;
    bool has_observed;
    lo_str_t text[LO_LV_NTEXT];
    int64_t severity_number, flags, dropped_attributes_count;
    int64_t body_kind;             /* lo_log_rec_t.body_kind; 0 for NULL */
    lo_str_t attributes, resource; /* JSON text */
} lo_log_view_t;

/* Scratch for the ids lo_log_view_from_rec formats (three UUIDs, two hex ids). */
typedef struct {
    char id[37], project[37], session[37], user[37], trace[33], span[17];
} lo_log_view_ids_t;

/* Row `row` of a result whose columns are lo_columns_select(logs). */
void lo_log_view_from_row(lo_log_view_t *v, const PGresult *r, int row);
/* A committed record (its id minted), as the COPY encoder stored it
 * (src/ingest/copy_logs.c): empty optional texts are NULL, numbers
 * saturate where their columns are narrower.  v points into rec and ids. */
void lo_log_view_from_rec(lo_log_view_t *v, const lo_log_rec_t *rec, lo_log_view_ids_t *ids);
/* The entry as one JSON object. */
void lo_log_entry_write(lo_jw_t *w, const lo_log_view_t *v);

/* The fields of an entry, in the order it prints them, and a choice of
 * them: bit k is lo_log_entry_fields[k] (NULL-terminated). */
extern const char *const lo_log_entry_fields[];
typedef uint32_t lo_log_fields_t;
#define LO_LOG_FIELDS_ALL ((lo_log_fields_t)0xffffffffu)
/* "time,level,message" (only these, plus id) or "-resource,-attributes"
 * (all but these) into *out.  LO_OK or LO_INVALID (unknown or empty
 * name, or both forms mixed). */
int lo_log_fields_parse(const char *list, lo_log_fields_t *out) LO_MUST_USE;
/* The entry with the chosen fields only. */
void lo_log_entry_write_fields(lo_jw_t *w, const lo_log_view_t *v, lo_log_fields_t fields);

#endif
