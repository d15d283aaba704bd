/*
 * parse.h — the small HTTP header parsers of the listeners: Content-Type and
 * Content-Encoding of OTLP requests, Content-Length, and "host:port"
 * listener addresses.  Pure functions, tested in tests/unit/test_http_parse.c.
 */
#ifndef LO_HTTP_PARSE_H
#define LO_HTTP_PARSE_H

#include <sys/socket.h>

#include "core/lo.h"

typedef enum {
    LO_CT_NONE = 0,    /* header absent */
    LO_CT_UNSUPPORTED, /* present, but neither of the two below */
    LO_CT_PROTOBUF,    /* application/x-protobuf */
    LO_CT_JSON         /* application/json */
} lo_content_type_t;

typedef enum {
    LO_CE_IDENTITY = 0, /* absent or "identity" */
    LO_CE_GZIP,         /* "gzip" or "x-gzip" */
    LO_CE_UNSUPPORTED
} lo_content_encoding_t;

/* Classifies a Content-Type value (may be NULL): media type compared
 * case-insensitively, surrounding whitespace and parameters (";charset=utf-8")
 * ignored. */
lo_content_type_t lo_http_content_type(const char *v);
/* Classifies a Content-Encoding value (may be NULL).  A list of codings
 * ("gzip, br") is unsupported; "identity" alone, empty or absent is identity. */
lo_content_encoding_t lo_http_content_encoding(const char *v);
/* Parses a Content-Length value: decimal digits only, optional surrounding
 * whitespace.  false when malformed or over INT64_MAX. */
bool lo_http_content_length(const char *v, uint64_t *out);
/* true when a Transfer-Encoding value is exactly "chunked" (any case,
 * surrounding whitespace ignored): the one coding the listeners accept. */
bool lo_http_transfer_encoding_chunked(const char *v);

/* A resolved listener address. */
typedef struct {
    struct sockaddr_storage sa;
    socklen_t len;
    bool ipv6;
} lo_http_addr_t;

/* Parses "host:port", "[v6addr]:port" or ":port" (all IPv4 interfaces) and
 * resolves host (numeric, or a name such as localhost: the first address).
 * Port 0 asks the kernel for a free port.  LO_INVALID with a message. */
int lo_http_addr_parse(const char *s, lo_http_addr_t *out, char *err, size_t errlen) LO_MUST_USE;

#endif
