/*
 * fuzz_redact.c — libFuzzer target: the redaction rules (otlp/redact.h) on
 * arbitrary keys and texts.  The first byte chooses the mode (free text or
 * URL); the rest is the text.  Checked:
 *  - nothing replaced leaves the output untouched; otherwise it grows by at
 *    most 9 bytes per replacement, with at most one replacement per 2 bytes;
 *  - scrubbing the result again changes nothing;
 *  - what a thread remembers (keys, and the words of the last text's
 *    template) never changes a verdict: the same text through a second,
 *    identical redactor, and again after another text, scrubs the same;
 *  - a value after " password=" inserted in the middle of the text never
 *    survives, whatever surrounds it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/redact.h"

#define SECRET "S3cr3tV4lue"

static lo_redact_t *g_a, *g_b;

static lo_redact_t *make(void)
{
    lo_redact_conf_t c = {
        .keys = "authorization,cookie,password,secret,token,api_key,apikey,x-api-key,private_key",
        .url_keys = "url.full,db.connection_string",
        .text_keys = "exception.message",
        .patterns = true
    };
    lo_redact_t *r = lo_redact_new(&c);
    if (r == NULL)
        abort();
    return r;
}

/* Scrubs s with r into out (reset first); checks the size bounds. */
static size_t scrub(const lo_redact_t *r, lo_redact_mode_t mode, const char *s, size_t n, lo_buf_t *out)
{
    lo_buf_reset(out);
    size_t count = lo_redact_scrub(r, mode, s, n, out);
    if (out->err != LO_OK)
        abort();
    if (count == 0 ? out->len != 0 : (count > n / 2 || out->len > n + 9 * count))
        abort();
    return count;
}

static bool same(const lo_buf_t *a, size_t ca, const lo_buf_t *b, size_t cb)
{
    if ((ca == 0) != (cb == 0))
        return false;
    return ca == 0 || (a->len == b->len && memcmp(a->p, b->p, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    if (g_a == NULL) {
        g_a = make();
        g_b = make();
    }
    lo_redact_mode_t mode = data[0] & 1 ? LO_REDACT_URL : LO_REDACT_TEXT;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    lo_buf_t o1, o2, o3;
    lo_buf_init(&o1, 0);
    lo_buf_init(&o2, 0);
    lo_buf_init(&o3, 0);

    /* keys: remembered or not, the same verdict */
    if (lo_redact_key(g_a, s, n) != lo_redact_key(g_b, s, n) ||
        lo_redact_key(g_a, s, n) != lo_redact_key(g_b, s, n))
        abort();

    size_t c1 = scrub(g_a, mode, s, n, &o1);
    size_t c2 = scrub(g_b, mode, s, n, &o2);
    if (!same(&o1, c1, &o2, c2))
        abort();
    /* idempotent */
    if (c1 > 0) {
        size_t c3 = scrub(g_a, mode, o1.p, o1.len, &o3);
        if (c3 > 0 && (o3.len != o1.len || memcmp(o3.p, o1.p, o1.len) != 0))
            abort();
    }
    /* the same text once more, after the idempotence check's text */
    c2 = scrub(g_a, mode, s, n, &o2);
    if (!same(&o1, c1, &o2, c2))
        abort();

    /* an inserted secret is gone */
    if (memmem(s, n, SECRET, sizeof(SECRET) - 1) == NULL) {
        static const char mid[] = " password=" SECRET " ";
        size_t half = n / 2, m = n + sizeof(mid) - 1;
        char *t = malloc(m);
        if (t == NULL)
            abort();
        memcpy(t, s, half);
        memcpy(t + half, mid, sizeof(mid) - 1);
        memcpy(t + half + sizeof(mid) - 1, s + half, n - half);
        size_t c = scrub(g_a, mode, t, m, &o3);
        if (c == 0 || memmem(o3.p, o3.len, SECRET, sizeof(SECRET) - 1) != NULL)
            abort();
        free(t);
    }
    lo_buf_free(&o1);
    lo_buf_free(&o2);
    lo_buf_free(&o3);
    return 0;
}
