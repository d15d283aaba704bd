/*
 * objstore.h — where the cold tier's files live: a small object store
 * interface (put, get, ranged get, head, list, delete) with two backends, a
 * local directory (file:///abs/path) and S3 or an S3-compatible server
 * (s3://bucket/prefix?endpoint=...&region=...).  docs/cold-store.md says
 * what each backend guarantees and how it is tested.
 *
 * Keys are built by the cold tier from dates and generated ids only, so they
 * are checked (lo_objstore_key_valid) and refused when they could escape the
 * root or need quoting.  Every call that can fail writes a message into err
 * naming the operation and the key; messages never hold credentials.
 *
 * libcurl: lo_objstore_open calls curl_global_init once per process (under
 * pthread_once) for an s3:// store; a program that also uses libcurl
 * elsewhere may have initialized it already — curl counts the calls.
 *
 * Threads: a store is read-only after lo_objstore_set_options, and every S3
 * call uses its own curl easy handle, so one store may be used by several
 * threads at once.  Set the options before sharing it.  lo_objstore_close
 * must not race with calls.
 */
#ifndef LO_COLD_OBJSTORE_H
#define LO_COLD_OBJSTORE_H

#include "core/lo.h"
#include "core/buf.h"

/* A store opened from a URL. */
typedef struct lo_objstore lo_objstore_t;

/* The longest key (bytes), as S3's limit. */
#define LO_OBJSTORE_KEY_MAX 1024

/* Tunables; lo_objstore_options_default fills in the defaults. */
typedef struct {
    size_t multipart_threshold; /* S3: objects of at least this many bytes go up in parts (64 MiB) */
    size_t part_size;           /* S3: bytes per part but the last (16 MiB; S3 wants >= 5 MiB) */
    int list_page;              /* S3: max-keys per ListObjectsV2 page, 1..1000 (1000) */
    int attempts;               /* S3: tries per request, 1..10 (4) */
    int backoff_ms;             /* S3: first wait before a retry, doubled each time (200) */
    long timeout_ms;            /* S3: one request's whole time limit (300000) */
    long connect_timeout_ms;    /* S3: connecting (10000) */
    size_t max_response;        /* S3: largest list/error body read (16 MiB) */
} lo_objstore_options_t;

/* Callback of lo_objstore_list: one key (relative to the store's root or
 * prefix) and its size.  Return LO_OK to go on; any other value stops the
 * listing and becomes its result. */
typedef int (*lo_objstore_list_cb)(void *ud, const char *key, uint64_t size);

/* Fills o with the defaults above. */
void lo_objstore_options_default(lo_objstore_options_t *o);

/* Opens a store:
 *   file:///abs/dir   an existing directory
 *   s3://bucket[/prefix][?endpoint=http(s)://host[:port]][&region=REGION]
 * For s3:// the credentials come from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN if set); requests use path-style
 * URLs (endpoint/bucket/key); the endpoint defaults to
 * https://s3.REGION.amazonaws.com and the region to us-east-1.
 * NULL with a message in err when the URL or the environment is wrong. */
lo_objstore_t *lo_objstore_open(const char *url, char *err, size_t errlen) LO_MUST_USE;

/* Frees the store.  Accepts NULL. */
void lo_objstore_close(lo_objstore_t *s);

/* Replaces the options.  LO_INVALID (with a message) when one is out of
 * bounds; the store is then unchanged. */
int lo_objstore_set_options(lo_objstore_t *s, const lo_objstore_options_t *o, char *err,
                            size_t errlen) LO_MUST_USE;

/* "file" or "s3". */
const char *lo_objstore_kind(const lo_objstore_t *s);

/* True when key is 1..1024 bytes of [A-Za-z0-9._/=-], has no "..", no empty
 * segment (leading, trailing or double "/") and no segment that starts with
 * "." (the file backend's temporary names do). */
bool lo_objstore_key_valid(const char *key);

/* Stores len bytes under key, replacing any object there.  The file backend
 * makes the object appear whole or not at all (temporary file, fsync,
 * rename, fsync of the directory); S3 does so by itself, in one PUT or a
 * multipart upload (aborted when a step fails).  LO_OK, LO_INVALID (bad
 * key), LO_DENIED (S3 refused the credentials), LO_UNAVAIL (the server kept
 * failing or could not be reached), LO_ERROR. */
int lo_objstore_put(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err,
                    size_t errlen) LO_MUST_USE;

/* Appends the whole object to out.  LO_NOT_FOUND when there is no such key;
 * LO_TOO_LARGE when out's limit is reached; otherwise as lo_objstore_put. */
int lo_objstore_get(lo_objstore_t *s, const char *key, lo_buf_t *out, char *err, size_t errlen) LO_MUST_USE;

/* Appends up to len (> 0) bytes from offset to out: fewer when the object
 * ends first.  LO_INVALID when offset is at or past the end (or len is 0);
 * otherwise as lo_objstore_get. */
int lo_objstore_get_range(lo_objstore_t *s, const char *key, uint64_t offset, uint64_t len, lo_buf_t *out,
                          char *err, size_t errlen) LO_MUST_USE;

/* Reads exactly n bytes from offset into dst, through scratch (reset
 * first); n == 0 reads nothing.  LO_ERROR when the object ends first;
 * otherwise as lo_objstore_get_range. */
int lo_objstore_read_exact(lo_objstore_t *s, const char *key, uint64_t offset, void *dst, size_t n,
                           lo_buf_t *scratch, char *err, size_t errlen) LO_MUST_USE;
/* Sets *size to the object's size.  LO_NOT_FOUND when there is no such key. */
int lo_objstore_head(lo_objstore_t *s, const char *key, uint64_t *size, char *err, size_t errlen) LO_MUST_USE;

/* Calls cb for every key that starts with prefix ("" for all), in byte
 * order, with its size.  S3 pages through ListObjectsV2 with continuation
 * tokens; the file backend walks the directory tree (dot-names skipped). */
int lo_objstore_list(lo_objstore_t *s, const char *prefix, lo_objstore_list_cb cb, void *ud, char *err,
                     size_t errlen) LO_MUST_USE;

/* Removes key; a missing key is LO_OK (deleting is idempotent). */
int lo_objstore_delete(lo_objstore_t *s, const char *key, char *err, size_t errlen) LO_MUST_USE;

#endif
