/*
 * pq_read.h — what the reader's files share: the footer parser
 * (pq_meta.c) used by lo_pq_open (pq_read.c).  Not for use outside
 * src/cold.
 */
#ifndef LO_COLD_PQ_READ_H
#define LO_COLD_PQ_READ_H

#include "cold/pq_internal.h"

/* Parses FileMetaData from n bytes at p into f (fields, row groups,
 * created_by, column orders); views point into p.  LO_OK, LO_INVALID (with
 * *why set when there is more to say than "corrupt"), or LO_ERROR (out of
 * memory).  What it allocated is freed by lo_pq_close even on failure. */
LO_MUST_USE int lo_pq_parse_footer(lo_pq_file_t *f, const uint8_t *p, size_t n, const char **why);

/* Reads [off, off + len) of the file (between the leading magic and the
 * footer, at most limit bytes) into a new buffer.  LO_OK, LO_INVALID or
 * LO_ERROR, with err set. */
LO_MUST_USE int lo_pq_read_range(lo_pq_file_t *f, int64_t off, int64_t len, size_t limit, uint8_t **out,
                                 char *err, size_t errlen);

/* Formats a message into err (when given) and returns rc. */
int lo_pq_say(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
