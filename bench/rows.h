/*
 * rows.h — renders a generated request (gen.h) as the COPY text (text
 * format, tab-separated) of the rows lookout would store from it: the same
 * values in the same columns (ids, envelope, level, message, attributes and
 * resource as JSON objects, events/links/buckets as JSON).  Used by the raw
 * COPY baseline and checked against the schema by a unit test.
 */
#ifndef BG_ROWS_H
#define BG_ROWS_H

#include "gen.h"

typedef struct {
    char *text;
    size_t len;
    size_t *trace_at; /* offsets of the 32 hex digits of each trace id */
    size_t ntrace;
    int rows;
} bg_chunk_t;

/* Renders every record of r into c (heap memory: bg_chunk_free).  0 or -1. */
int bg_rows_render(const bg_req_t *r, bg_chunk_t *c);
void bg_chunk_free(bg_chunk_t *c);
/* "COPY <table> (<columns>) FROM STDIN" for the signal's table. */
const char *bg_rows_copy_sql(bg_signal_t s);

#endif
