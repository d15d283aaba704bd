/*
 * objstore_internal.h — what objstore.c shares with its two backends
 * (objstore_file.c, objstore_s3.c) and with the unit tests: the store's
 * layout, the backends' entry points and the bounded XML tag scanner that
 * reads S3's answers.
 */
#ifndef LO_COLD_OBJSTORE_INTERNAL_H
#define LO_COLD_OBJSTORE_INTERNAL_H

#include "cold/objstore.h"

typedef enum { LO_OS_FILE, LO_OS_S3 } lo_os_kind_t;

struct lo_objstore {
    lo_os_kind_t kind;
    lo_objstore_options_t opt;
    /* file */
    char *root; /* absolute, no trailing '/' */
    /* s3 */
    char *endpoint; /* scheme://host[:port], no trailing '/' */
    char *bucket;
    char *prefix; /* "" or ending in '/' */
    char *region;
    char *sigv4;  /* "aws:amz:REGION:s3" */
    char *key_id; /* from the environment; never printed */
    char *secret;
    char *token;  /* NULL when unset */
    bool lenient; /* the server verifies signatures of decoded URLs (objstore_s3.c perform) */
};

/* Writes a message into err (when err is not NULL) and returns rc. */
int lo_os_fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* True when prefix is "" or made of key characters with no "..". */
bool lo_os_prefix_valid(const char *prefix);

int lo_os_file_open(lo_objstore_t *s, const char *path, char *err, size_t errlen);
int lo_os_file_put(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err, size_t errlen);
int lo_os_file_get_range(lo_objstore_t *s, const char *key, uint64_t offset, uint64_t len, bool whole,
                         lo_buf_t *out, char *err, size_t errlen);
int lo_os_file_head(lo_objstore_t *s, const char *key, uint64_t *size, char *err, size_t errlen);
int lo_os_file_list(lo_objstore_t *s, const char *prefix, lo_objstore_list_cb cb, void *ud, char *err,
                    size_t errlen);
int lo_os_file_delete(lo_objstore_t *s, const char *key, char *err, size_t errlen);

int lo_os_s3_open(lo_objstore_t *s, const char *rest, char *err, size_t errlen);
int lo_os_s3_put(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err, size_t errlen);
int lo_os_s3_get_range(lo_objstore_t *s, const char *key, uint64_t offset, uint64_t len, bool whole,
                       lo_buf_t *out, char *err, size_t errlen);
int lo_os_s3_head(lo_objstore_t *s, const char *key, uint64_t *size, char *err, size_t errlen);
int lo_os_s3_list(lo_objstore_t *s, const char *prefix, lo_objstore_list_cb cb, void *ud, char *err,
                  size_t errlen);
int lo_os_s3_delete(lo_objstore_t *s, const char *key, char *err, size_t errlen);

/* Finds the next element <tag>...</tag> (or <tag attr="...">...</tag>, or
 * <tag/>) in xml[*pos, len), sets *content to the text between its tags (a
 * view into xml, entities not decoded) and moves *pos past the end tag.
 * Never reads outside xml[0, len).  LO_OK, LO_NOT_FOUND (no such element,
 * or an unterminated one). Nested elements of the same name are not
 * supported (S3's answers have none). */
int lo_os_xml_next(const char *xml, size_t len, size_t *pos, const char *tag, lo_str_t *content);

/* Copies text into dst (capacity cap) decoding the five XML entities and
 * &#N; / &#xH; below 128; LO_INVALID for anything else or when it does not
 * fit (dst is always NUL-terminated when cap > 0). */
int lo_os_xml_text(lo_str_t text, char *dst, size_t cap);

#endif
