/*
 * ids.h — the one parser and printer of each id format lookout reads or
 * writes: hex byte strings (trace and span ids) and UUIDs in 8-4-4-4-12
 * form (projects, sessions, users, log rows, tokens).  Parsers accept either
 * case and print lower case, as PostgreSQL and OTLP/JSON do.
 */
#ifndef LO_CORE_IDS_H
#define LO_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lo.h"

/* "0123456789abcdef" */
extern const char lo_hex_digits[16];
/* the value of a hex digit, -1 for any other byte (a table: ids are parsed
 * for most records, on the ingest hot path) */
extern const int8_t lo_hex_values[256];

static inline int lo_hex_value(char c)
{
    return lo_hex_values[(unsigned char)c];
}

/* Parses exactly 2*n hex digits into n bytes; false on any other length or byte. */
bool lo_hex_parse(lo_str_t s, uint8_t *out, size_t n) LO_MUST_USE;
/* Writes 2*n lower-case hex digits (no NUL); returns the end. */
char *lo_hex_put(char *o, const uint8_t *p, size_t n);

/* Parses a UUID in canonical 8-4-4-4-12 form (case-insensitive). */
bool lo_uuid_parse(lo_str_t s, uint8_t out[16]) LO_MUST_USE;
/* Writes 36 characters + NUL. */
void lo_uuid_format(const uint8_t u[16], char out[37]);

#endif
