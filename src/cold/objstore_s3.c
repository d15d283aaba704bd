/*
 * objstore_s3.c — the object store on S3 or an S3-compatible server, over
 * libcurl with its SigV4 signing (CURLOPT_AWS_SIGV4).  Path-style URLs
 * (endpoint/bucket/key).  curl does not hash the payload itself, so each
 * request carries x-amz-content-sha256, which curl then signs; and curl
 * signs the query string as written, so every query here is built with its
 * parameters already sorted and RFC 3986-encoded.  docs/cold-store.md.
 */
#include "cold/objstore_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- URL parsing ---- */

static bool bucket_valid(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-')
            return false;
        if ((i == 0 || i == n - 1) && !alnum)
            return false;
    }
    return true;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes [p, p+n) into a new string; NULL when malformed. */
static char *pct_decode(const char *p, size_t n)
{
    char *d = malloc(n + 1), *o = d;
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%') {
            int h, l;
            if (i + 2 >= n || (h = hexval(p[i + 1])) < 0 || (l = hexval(p[i + 2])) < 0 ||
                (h == 0 && l == 0)) {
                free(d);
                return NULL;
            }
            *o++ = (char)(h * 16 + l);
            i += 2;
        } else {
            *o++ = p[i];
        }
    }
    *o = 0;
    return d;
}

static bool endpoint_valid(const char *e)
{
    const char *h;
    if (strncmp(e, "http://", 7) == 0)
        h = e + 7;
    else if (strncmp(e, "https://", 8) == 0)
        h = e + 8;
    else
        return false;
    size_t n = strlen(h);
    if (n > 0 && h[n - 1] == '/')
        n--;
    if (n == 0 || n > 255)
        return false;
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == ':') {
            if (colon && h[0] != '[')
                return false;
            colon = h + i;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                     c == '-' || c == '[' || c == ']')) {
            return false; /* no path, user info, query */
        }
    }
    if (h[0] == '[') { /* [v6]:port */
        const char *close = memchr(h, ']', n);
        if (!close)
            return false;
        colon = close + 1 < h + n && close[1] == ':' ? close + 1 : NULL;
        if (!colon && close + 1 != h + n)
            return false;
    }
    if (colon) {
        size_t digits = (size_t)(h + n - colon - 1);
        if (digits == 0 || digits > 5)
            return false;
        long port = 0;
        for (size_t i = 1; i <= digits; i++) {
            if (colon[i] < '0' || colon[i] > '9')
                return false;
            port = port * 10 + (colon[i] - '0');
        }
        if (port < 1 || port > 65535 || colon == h)
            return false;
    }
    return true;
}

int lo_os_s3_open(lo_objstore_t *s, const char *rest, char *err, size_t errlen)
{
    const char *q = strchr(rest, '?');
    size_t path_len = q ? (size_t)(q - rest) : strlen(rest);
    const char *slash = memchr(rest, '/', path_len);
    size_t blen = slash ? (size_t)(slash - rest) : path_len;
    if (blen == 0)
        return lo_os_fail(err, errlen, LO_INVALID, "object store: s3 URL has no bucket (s3://bucket/prefix)");
    if (!bucket_valid(rest, blen))
        return lo_os_fail(
            err, errlen, LO_INVALID,
            "object store: bucket must be 3..63 of [a-z0-9.-], starting and ending alphanumeric");
    s->bucket = strndup(rest, blen);
    size_t plen = slash ? path_len - blen - 1 : 0;
    s->prefix = malloc(plen + 2);
    if (!s->bucket || !s->prefix)
        return lo_os_fail(err, errlen, LO_ERROR, "object store: out of memory");
    memcpy(s->prefix, slash ? slash + 1 : "", plen);
    s->prefix[plen] = 0;
    if (plen > 0) {
        if (s->prefix[plen - 1] != '/')
            strcpy(s->prefix + plen, "/");
        size_t pl = strlen(s->prefix);
        s->prefix[pl - 1] = 0; /* checked without its trailing '/' */
        bool ok = lo_objstore_key_valid(s->prefix) && pl < 512;
        s->prefix[pl - 1] = '/';
        if (!ok)
            return lo_os_fail(err, errlen, LO_INVALID,
                              "object store: s3 prefix must be made of key characters [A-Za-z0-9._/=-]");
    }
    char *endpoint = NULL, *region = NULL;
    int rc = LO_OK;
    for (const char *p = q ? q + 1 : NULL; p && *p && rc == LO_OK;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        char **dst = NULL;
        if (eq && (size_t)(eq - p) == 8 && memcmp(p, "endpoint", 8) == 0)
            dst = &endpoint;
        else if (eq && (size_t)(eq - p) == 6 && memcmp(p, "region", 6) == 0)
            dst = &region;
        if (!dst)
            rc = lo_os_fail(err, errlen, LO_INVALID,
                            "object store: s3 URL parameters are endpoint=... and region=... only");
        else if (*dst)
            rc = lo_os_fail(err, errlen, LO_INVALID, "object store: s3 URL parameter given twice");
        else if (!(*dst = pct_decode(eq + 1, n - (size_t)(eq - p) - 1)))
            rc = lo_os_fail(err, errlen, LO_INVALID, "object store: bad %%-escape in the s3 URL");
        p = amp ? amp + 1 : NULL;
    }
    if (rc == LO_OK && region) {
        size_t n = strlen(region);
        bool ok = n > 0 && n <= 32;
        for (size_t i = 0; ok && i < n; i++)
            ok = (region[i] >= 'a' && region[i] <= 'z') || (region[i] >= '0' && region[i] <= '9') ||
                 region[i] == '-';
        if (!ok)
            rc = lo_os_fail(err, errlen, LO_INVALID, "object store: region must be 1..32 of [a-z0-9-]");
    }
    if (rc == LO_OK && endpoint && !endpoint_valid(endpoint))
        rc = lo_os_fail(err, errlen, LO_INVALID,
                        "object store: endpoint must be http://host[:port] or https://host[:port], no path");
    if (rc != LO_OK) {
        free(endpoint);
        free(region);
        return rc;
    }
    s->region = region ? region : strdup("us-east-1");
    if (endpoint) {
        size_t n = strlen(endpoint);
        if (endpoint[n - 1] == '/')
            endpoint[n - 1] = 0;
        s->endpoint = endpoint;
    } else if (s->region) {
        size_t n = strlen(s->region) + 32;
        if ((s->endpoint = malloc(n)) != NULL)
            snprintf(s->endpoint, n, "https://s3.%s.amazonaws.com", s->region);
    }
    if (!s->region || !s->endpoint)
        return lo_os_fail(err, errlen, LO_ERROR, "object store: out of memory");
    size_t n = strlen(s->region) + 16;
    if ((s->sigv4 = malloc(n)) == NULL)
        return lo_os_fail(err, errlen, LO_ERROR, "object store: out of memory");
    snprintf(s->sigv4, n, "aws:amz:%s:s3", s->region);

    const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (!id || !*id || !secret || !*secret)
        return lo_os_fail(
            err, errlen, LO_INVALID,
            "object store: s3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    if (strpbrk(id, "\r\n") || strpbrk(secret, "\r\n") || (token && strpbrk(token, "\r\n")))
        return lo_os_fail(err, errlen, LO_INVALID, "object store: AWS credentials hold a line break");
    s->key_id = strdup(id);
    s->secret = strdup(secret);
    if (token && *token)
        s->token = strdup(token);
    if (!s->key_id || !s->secret || (token && *token && !s->token))
        return lo_os_fail(err, errlen, LO_ERROR, "object store: out of memory");
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return lo_os_fail(err, errlen, LO_ERROR, "object store: libcurl did not initialize");
    return LO_OK;
}

/* ---- requests ---- */

typedef struct {
    const char *op, *key; /* for messages */
    const char *method;   /* GET PUT POST DELETE HEAD */
    const char *query;    /* sorted and encoded, or NULL */
    bool bucket_only;     /* the bucket's URL, no key */
    const void *body;
    size_t body_len;
    const char *range; /* "bytes=a-b" or NULL */
    lo_buf_t *out;     /* a 2xx answer's body, or NULL to drop it */
    /* results */
    long status;
    char etag[256];
    uint64_t length;
    char code[64]; /* S3's <Code> of an error answer */
    /* private */
    CURL *h;
    size_t sent;
    size_t out_start;
    lo_buf_t errbody;
    bool out_full;
} req_t;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        if (!r->out)
            return len;
        if (lo_buf_append(r->out, p, len) != LO_OK) {
            r->out_full = true;
            return 0;
        }
        return len;
    }
    if (r->errbody.len + len <= r->errbody.limit)
        (void)lo_buf_append(&r->errbody, p, len); /* the rest of a long error answer is dropped */
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t len = size * n;
    if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
        size_t i = 5, e = len;
        while (i < e && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
            e--;
        if (e - i < sizeof r->etag) {
            memcpy(r->etag, p + i, e - i);
            r->etag[e - i] = 0;
        }
    }
    return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t left = r->body_len - r->sent, want = size * n;
    if (want > left)
        want = left;
    memcpy(p, (const char *)r->body + r->sent, want);
    r->sent += want;
    return want;
}

static void sha256_hex(const void *p, size_t n, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* RFC 3986 encoding: unreserved characters as they are, '/' kept when
 * keep_slash, '=' when keep_eq, everything else %XX.  dst holds at least 3 * strlen(s) + 1. */
static void uri_encode(const char *s, bool keep_slash, bool keep_eq, char *dst)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~' || (keep_slash && c == '/') || (keep_eq && c == '=')) {
            *dst++ = (char)c;
        } else {
            *dst++ = '%';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 15];
        }
    }
    *dst = 0;
}

static bool retryable_curl(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
    }
}

static bool retryable_status(long st)
{
    return st >= 500 || st == 408 || st == 429;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Runs r with retries; LO_OK when it got an answer (any status, in
 * r->status), otherwise a failure with the message in err.  lenient: the
 * URL carries '=' in the path and '/' in query values as they are. */
static int perform_mode(lo_objstore_t *s, req_t *r, bool lenient, char *err, size_t errlen)
{
    size_t klen = s->prefix ? strlen(s->prefix) : 0;
    size_t cap = strlen(s->endpoint) + strlen(s->bucket) + 3 * (klen + (r->key ? strlen(r->key) : 0)) +
                 (r->query ? strlen(r->query) : 0) + 8;
    char *url = malloc(cap);
    char *full = malloc(klen + (r->key ? strlen(r->key) : 0) + 1);
    if (!url || !full) {
        free(url);
        free(full);
        return lo_os_fail(err, errlen, LO_ERROR, "%s %s: out of memory", r->op, r->key ? r->key : "");
    }
    int n = snprintf(url, cap, "%s/%s", s->endpoint, s->bucket);
    if (!r->bucket_only) {
        snprintf(full, klen + strlen(r->key) + 1, "%s%s", s->prefix, r->key);
        url[n++] = '/';
        uri_encode(full, true, lenient, url + n);
        n = (int)strlen(url);
    }
    if (r->query) {
        url[n++] = '?';
        for (const char *q = r->query; *q; q++) {
            if (lenient && q[0] == '%' && q[1] == '2' && q[2] == 'F') {
                url[n++] = '/';
                q += 2;
            } else {
                url[n++] = *q;
            }
        }
        url[n] = 0;
    }
    free(full);

    char hash[65], hdr_hash[100], hdr_range[80];
    sha256_hex(r->body ? r->body : "", r->body_len, hash);
    snprintf(hdr_hash, sizeof hdr_hash, "x-amz-content-sha256: %s", hash);
    struct curl_slist *hdr = NULL, *t;
    char *tok_hdr = NULL;
    bool oom = (hdr = curl_slist_append(NULL, hdr_hash)) == NULL;
    if (!oom && r->range) {
        snprintf(hdr_range, sizeof hdr_range, "Range: %s", r->range);
        oom = (t = curl_slist_append(hdr, hdr_range)) == NULL;
        hdr = t ? t : hdr;
    }
    if (!oom && strcmp(r->method, "POST") == 0) {
        oom = (t = curl_slist_append(hdr, "Content-Type: application/xml")) == NULL;
        hdr = t ? t : hdr;
    }
    if (!oom && s->token) {
        size_t tl = strlen(s->token) + 32;
        if ((tok_hdr = malloc(tl)) != NULL) {
            snprintf(tok_hdr, tl, "x-amz-security-token: %s", s->token);
            oom = (t = curl_slist_append(hdr, tok_hdr)) == NULL;
            hdr = t ? t : hdr;
        } else {
            oom = true;
        }
    }
    r->h = oom ? NULL : curl_easy_init();
    if (!r->h) {
        curl_slist_free_all(hdr);
        free(tok_hdr);
        free(url);
        return lo_os_fail(err, errlen, LO_ERROR, "%s %s: out of memory", r->op, r->key ? r->key : "");
    }
    CURL *h = r->h;
    char curl_err[CURL_ERROR_SIZE];
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->opt.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->opt.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lookout-cold/1");
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, s->key_id);
    curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    if (strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, r);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "DELETE") == 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    lo_buf_init(&r->errbody, 64 * 1024);
    r->out_start = r->out ? r->out->len : 0;
    int rc = LO_UNAVAIL;
    CURLcode cc = CURLE_OK;
    long wait = s->opt.backoff_ms;
    for (int attempt = 0; attempt < s->opt.attempts; attempt++) {
        if (attempt > 0) {
            sleep_ms(wait + (wait > 0 ? rand() % (wait / 2 + 1) : 0));
            wait = wait * 2 > 10000 ? 10000 : wait * 2;
        }
        r->sent = 0;
        r->etag[0] = 0;
        r->code[0] = 0;
        r->status = 0;
        if (r->out) {
            r->out->len = r->out_start;
            r->out->err = LO_OK;
        }
        lo_buf_reset(&r->errbody);
        curl_err[0] = 0;
        cc = curl_easy_perform(h);
        if (cc == CURLE_WRITE_ERROR && r->out_full) {
            rc = lo_os_fail(err, errlen, LO_TOO_LARGE, "%s %s: the object does not fit the buffer", r->op,
                            r->key);
            break;
        }
        if (cc != CURLE_OK) {
            if (retryable_curl(cc))
                continue;
            rc = lo_os_fail(err, errlen, LO_ERROR, "%s %s: %s", r->op, r->key ? r->key : "",
                            curl_err[0] ? curl_err : curl_easy_strerror(cc));
            break;
        }
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
        lo_str_t code;
        size_t pos = 0;
        if (r->errbody.len > 0 && lo_os_xml_next(r->errbody.p, r->errbody.len, &pos, "Code", &code) == LO_OK)
            (void)lo_os_xml_text(code, r->code, sizeof r->code);
        if (retryable_status(r->status))
            continue;
        curl_off_t cl = -1;
        curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        r->length = cl >= 0 ? (uint64_t)cl : 0;
        rc = LO_OK;
        break;
    }
    if (rc == LO_UNAVAIL) {
        if (cc != CURLE_OK)
            lo_os_fail(err, errlen, LO_UNAVAIL, "%s %s: %s unreachable after %d attempts: %s", r->op,
                       r->key ? r->key : "", s->endpoint, s->opt.attempts,
                       curl_err[0] ? curl_err : curl_easy_strerror(cc));
        else
            lo_os_fail(err, errlen, LO_UNAVAIL, "%s %s: S3 answered %ld %s after %d attempts", r->op,
                       r->key ? r->key : "", r->status, r->code[0] ? r->code : "(no code)", s->opt.attempts);
    }
    curl_easy_cleanup(h);
    r->h = NULL;
    lo_buf_free(&r->errbody);
    curl_slist_free_all(hdr);
    free(tok_hdr);
    free(url);
    return rc;
}

/* Servers canonicalize a request differently before checking its
 * signature: AWS by the letter of SigV4 ('=' in a key and '/' in a query
 * value percent-encoded), others (moto) after decoding them.  curl signs
 * the URL as written, so a URL that has such characters is tried in the
 * other form once when the signature is refused, and the form that worked
 * is kept for the store.  docs/cold-store.md. */
static int perform(lo_objstore_t *s, req_t *r, char *err, size_t errlen)
{
    bool lenient = __atomic_load_n(&s->lenient, __ATOMIC_RELAXED);
    int rc = perform_mode(s, r, lenient, err, errlen);
    if (rc != LO_OK || r->status != 403 || strcmp(r->code, "SignatureDoesNotMatch") != 0)
        return rc;
    bool differs = (r->query && strstr(r->query, "%2F")) ||
                   (!r->bucket_only && (strchr(s->prefix, '=') || strchr(r->key, '=')));
    if (!differs)
        return rc;
    rc = perform_mode(s, r, !lenient, err, errlen);
    if (rc == LO_OK && !(r->status == 403 && strcmp(r->code, "SignatureDoesNotMatch") == 0))
        __atomic_store_n(&s->lenient, !lenient, __ATOMIC_RELAXED);
    return rc;
}

/* The result of an answer that is not a success. */
static int answer_fail(const req_t *r, char *err, size_t errlen)
{
    int rc = r->status == 404                       ? LO_NOT_FOUND
             : r->status == 401 || r->status == 403 ? LO_DENIED
             : r->status == 416                     ? LO_INVALID
                                                    : LO_ERROR;
    if (r->status == 404 && strcmp(r->code, "NoSuchBucket") == 0)
        rc = LO_ERROR; /* a missing bucket is the store's fault, not the key's */
    return lo_os_fail(err, errlen, rc, "%s %s: S3 answered %ld %s", r->op, r->key ? r->key : "", r->status,
                      r->code[0] ? r->code : "(no code)");
}

static bool ok2xx(const req_t *r)
{
    return r->status >= 200 && r->status < 300;
}

/* ---- operations ---- */

static int put_single(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err,
                      size_t errlen)
{
    req_t r = { .op = "put", .key = key, .method = "PUT", .body = data, .body_len = len };
    int rc = perform(s, &r, err, errlen);
    if (rc != LO_OK)
        return rc;
    return ok2xx(&r) ? LO_OK : answer_fail(&r, err, errlen);
}

typedef struct {
    char etag[256];
} part_t;

static int put_multipart(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err,
                         size_t errlen)
{
    size_t part = s->opt.part_size;
    if (len / part >= 10000)
        part = len / 9999 + 1; /* S3 takes at most 10,000 parts */
    size_t nparts = (len + part - 1) / part;
    lo_buf_t resp, body;
    lo_buf_init(&resp, s->opt.max_response);
    lo_buf_init(&body, 0);
    part_t *parts = calloc(nparts, sizeof(*parts));
    char upload_id[1024], enc_id[3 * sizeof upload_id], query[3 * sizeof upload_id + 64];
    upload_id[0] = 0;
    int rc;
    if (!parts) {
        rc = lo_os_fail(err, errlen, LO_ERROR, "put %s: out of memory", key);
        goto done;
    }
    req_t c = {
        .op = "put (create multipart upload)", .key = key, .method = "POST", .query = "uploads=", .out = &resp
    };
    if ((rc = perform(s, &c, err, errlen)) != LO_OK)
        goto done;
    if (!ok2xx(&c)) {
        rc = answer_fail(&c, err, errlen);
        goto done;
    }
    lo_str_t id;
    size_t pos = 0;
    if (lo_os_xml_next(resp.p, resp.len, &pos, "UploadId", &id) != LO_OK ||
        lo_os_xml_text(id, upload_id, sizeof upload_id) != LO_OK || !upload_id[0]) {
        rc = lo_os_fail(err, errlen, LO_ERROR, "put %s: no UploadId in S3's answer", key);
        goto done;
    }
    uri_encode(upload_id, false, false, enc_id);
    for (size_t i = 0; i < nparts; i++) {
        size_t off = i * part, n = len - off < part ? len - off : part;
        snprintf(query, sizeof query, "partNumber=%zu&uploadId=%s", i + 1, enc_id);
        req_t p = { .op = "put (upload part)",
                    .key = key,
                    .method = "PUT",
                    .query = query,
                    .body = (const char *)data + off,
                    .body_len = n };
        if ((rc = perform(s, &p, err, errlen)) != LO_OK)
            goto abort;
        if (!ok2xx(&p)) {
            rc = answer_fail(&p, err, errlen);
            goto abort;
        }
        if (!p.etag[0] || strpbrk(p.etag, "<>&")) {
            rc = lo_os_fail(err, errlen, LO_ERROR, "put %s: part %zu answered without a usable ETag", key,
                            i + 1);
            goto abort;
        }
        memcpy(parts[i].etag, p.etag, sizeof p.etag);
    }
    (void)lo_buf_puts(&body, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < nparts; i++)
        (void)lo_buf_printf(&body, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>", i + 1,
                            parts[i].etag);
    (void)lo_buf_puts(&body, "</CompleteMultipartUpload>");
    if (body.err != LO_OK) {
        rc = lo_os_fail(err, errlen, LO_ERROR, "put %s: out of memory", key);
        goto abort;
    }
    snprintf(query, sizeof query, "uploadId=%s", enc_id);
    lo_buf_reset(&resp);
    req_t f = { .op = "put (complete multipart upload)",
                .key = key,
                .method = "POST",
                .query = query,
                .body = body.p,
                .body_len = body.len,
                .out = &resp };
    if ((rc = perform(s, &f, err, errlen)) != LO_OK)
        goto abort;
    if (!ok2xx(&f)) {
        rc = answer_fail(&f, err, errlen);
        goto abort;
    }
    /* S3 may answer 200 and then report a failure in the body */
    lo_str_t code;
    pos = 0;
    if (lo_os_xml_next(resp.p, resp.len, &pos, "Error", &code) == LO_OK) {
        lo_str_t c2;
        size_t p2 = 0;
        char name[64] = "(no code)";
        if (lo_os_xml_next(code.p, code.len, &p2, "Code", &c2) == LO_OK)
            (void)lo_os_xml_text(c2, name, sizeof name);
        rc = lo_os_fail(err, errlen, LO_ERROR, "put %s: completing the upload, S3 answered %s", key, name);
        goto abort;
    }
    rc = LO_OK;
    goto done;
abort : {
    req_t a = { .op = "put (abort multipart upload)", .key = key, .method = "DELETE", .query = query };
    snprintf(query, sizeof query, "uploadId=%s", enc_id);
    (void)perform(s, &a, NULL, 0); /* best effort: the first failure is what the caller sees */
}
done:
    free(parts);
    lo_buf_free(&resp);
    lo_buf_free(&body);
    return rc;
}

int lo_os_s3_put(lo_objstore_t *s, const char *key, const void *data, size_t len, char *err, size_t errlen)
{
    if (len >= s->opt.multipart_threshold)
        return put_multipart(s, key, data, len, err, errlen);
    return put_single(s, key, data, len, err, errlen);
}

int lo_os_s3_get_range(lo_objstore_t *s, const char *key, uint64_t offset, uint64_t len, bool whole,
                       lo_buf_t *out, char *err, size_t errlen)
{
    char range[64];
    if (!whole)
        snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)offset,
                 (unsigned long long)(offset + len - 1));
    req_t r = { .op = whole ? "get" : "get_range",
                .key = key,
                .method = "GET",
                .range = whole ? NULL : range,
                .out = out };
    size_t start = out->len;
    int rc = perform(s, &r, err, errlen);
    if (rc != LO_OK)
        return rc;
    if (!ok2xx(&r)) {
        if (r.status == 416)
            return lo_os_fail(err, errlen, LO_INVALID, "get_range %s: offset %llu is past the end", key,
                              (unsigned long long)offset);
        return answer_fail(&r, err, errlen);
    }
    if (!whole && r.status == 200) {
        /* the server ignored Range and sent the whole object: keep the range */
        size_t got = out->len - start;
        if (offset >= got) {
            out->len = start;
            return lo_os_fail(err, errlen, LO_INVALID, "get_range %s: offset %llu is past the end", key,
                              (unsigned long long)offset);
        }
        size_t n = got - (size_t)offset < len ? got - (size_t)offset : (size_t)len;
        memmove(out->p + start, out->p + start + offset, n);
        out->len = start + n;
    }
    return LO_OK;
}

int lo_os_s3_head(lo_objstore_t *s, const char *key, uint64_t *size, char *err, size_t errlen)
{
    req_t r = { .op = "head", .key = key, .method = "HEAD" };
    int rc = perform(s, &r, err, errlen);
    if (rc != LO_OK)
        return rc;
    if (!ok2xx(&r))
        return answer_fail(&r, err, errlen);
    *size = r.length;
    return LO_OK;
}

int lo_os_s3_delete(lo_objstore_t *s, const char *key, char *err, size_t errlen)
{
    req_t r = { .op = "delete", .key = key, .method = "DELETE" };
    int rc = perform(s, &r, err, errlen);
    if (rc != LO_OK)
        return rc;
    if (ok2xx(&r) || (r.status == 404 && strcmp(r.code, "NoSuchBucket") != 0))
        return LO_OK;
    return answer_fail(&r, err, errlen);
}

int lo_os_s3_list(lo_objstore_t *s, const char *prefix, lo_objstore_list_cb cb, void *ud, char *err,
                  size_t errlen)
{
    size_t plen = strlen(s->prefix);
    char full[2 * LO_OBJSTORE_KEY_MAX + 2], enc_prefix[3 * sizeof full];
    char token[2048] = "", enc_token[3 * sizeof token];
    char key[LO_OBJSTORE_KEY_MAX * 2 + 2];
    char *query = malloc(sizeof enc_prefix + sizeof enc_token + 64);
    lo_buf_t resp;
    lo_buf_init(&resp, s->opt.max_response);
    int rc = LO_OK;
    if (!query) {
        rc = lo_os_fail(err, errlen, LO_ERROR, "list %s: out of memory", prefix);
        goto done;
    }
    snprintf(full, sizeof full, "%s%s", s->prefix, prefix);
    uri_encode(full, false, false, enc_prefix);
    for (int page = 0;; page++) {
        if (token[0]) {
            uri_encode(token, false, false, enc_token);
            snprintf(query, sizeof enc_prefix + sizeof enc_token + 64,
                     "continuation-token=%s&list-type=2&max-keys=%d&prefix=%s", enc_token, s->opt.list_page,
                     enc_prefix);
        } else {
            snprintf(query, sizeof enc_prefix + sizeof enc_token + 64, "list-type=2&max-keys=%d&prefix=%s",
                     s->opt.list_page, enc_prefix);
        }
        lo_buf_reset(&resp);
        req_t r = {
            .op = "list", .key = prefix, .method = "GET", .query = query, .bucket_only = true, .out = &resp
        };
        if ((rc = perform(s, &r, err, errlen)) != LO_OK)
            goto done;
        if (!ok2xx(&r)) {
            rc = answer_fail(&r, err, errlen);
            if (rc == LO_NOT_FOUND)
                rc = LO_ERROR; /* the bucket */
            goto done;
        }
        size_t pos = 0;
        lo_str_t item;
        while (lo_os_xml_next(resp.p, resp.len, &pos, "Contents", &item) == LO_OK) {
            lo_str_t k, sz;
            size_t p1 = 0, p2 = 0;
            if (lo_os_xml_next(item.p, item.len, &p1, "Key", &k) != LO_OK ||
                lo_os_xml_next(item.p, item.len, &p2, "Size", &sz) != LO_OK ||
                lo_os_xml_text(k, key, sizeof key) != LO_OK) {
                rc = lo_os_fail(err, errlen, LO_ERROR, "list %s: S3's answer has a malformed Contents",
                                prefix);
                goto done;
            }
            uint64_t size = 0;
            bool ok = sz.len > 0 && sz.len <= 19;
            for (size_t i = 0; ok && i < sz.len; i++) {
                ok = sz.p[i] >= '0' && sz.p[i] <= '9';
                size = size * 10 + (uint64_t)(sz.p[i] - '0');
            }
            if (!ok) {
                rc = lo_os_fail(err, errlen, LO_ERROR, "list %s: S3's answer has a malformed Size", prefix);
                goto done;
            }
            if (strncmp(key, s->prefix, plen) != 0 || !lo_objstore_key_valid(key + plen))
                continue; /* not a key this store could have written */
            if ((rc = cb(ud, key + plen, size)) != LO_OK)
                goto done;
        }
        lo_str_t trunc, next;
        pos = 0;
        bool more = lo_os_xml_next(resp.p, resp.len, &pos, "IsTruncated", &trunc) == LO_OK &&
                    lo_str_eq(trunc, "true");
        if (!more)
            break;
        pos = 0;
        if (lo_os_xml_next(resp.p, resp.len, &pos, "NextContinuationToken", &next) != LO_OK ||
            lo_os_xml_text(next, token, sizeof token) != LO_OK || !token[0]) {
            rc = lo_os_fail(err, errlen, LO_ERROR,
                            "list %s: truncated answer without a usable continuation token", prefix);
            goto done;
        }
        if (page > 1000000) {
            rc = lo_os_fail(err, errlen, LO_ERROR, "list %s: more than a million pages", prefix);
            goto done;
        }
    }
done:
    free(query);
    lo_buf_free(&resp);
    return rc;
}
