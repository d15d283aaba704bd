/*
 * redact.c — the redaction rules of redact.h (docs/auth.md, "Redaction").
 *
 * Every attribute key of every record is classified and every log body is
 * scanned, so the common case stays cheap:
 *  - a key seen before is one look-up: each thread remembers the verdicts
 *    of recent keys (memo_t).  A new key is read once, byte by byte; at each
 *    place a segment may start, its first three characters are looked up in
 *    a bitmap (4 KiB) of the first three characters of the entries; only a
 *    hit, or a byte outside ASCII, leads to the exact comparison
 *    (segmentation into a buffer, then entry by entry).
 *  - free text is searched 16 bytes at a time for the four bytes a pattern
 *    can start at ('=', ':', 'b', 'B'); only there is anything else read:
 *    the word before a '=' or ':' (classified as a key is; each thread
 *    remembers the word at each separator of the last text, pos_t, so the
 *    texts of one template cost a comparison per separator), the "://" of a
 *    URL, the word "Bearer".
 */
#include "otlp/redact.h"

#include <stdatomic.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/config.h"

/* ---- character classes ---- */

enum { C_LOW = 0, C_UP = 1, C_SEP = 2, C_HI = 3 };

/* lower-case letters and digits, upper-case letters, other ASCII (a
 * separator in keys), bytes of non-ASCII characters */
static const uint8_t kcls[256] = {
    [0 ... '0' - 1] = C_SEP,       ['0' ... '9'] = C_LOW, ['9' + 1 ... 'A' - 1] = C_SEP, ['A' ... 'Z'] = C_UP,
    ['Z' + 1 ... 'a' - 1] = C_SEP, ['a' ... 'z'] = C_LOW, ['z' + 1 ... 127] = C_SEP,     [128 ... 255] = C_HI,
};

/* Characters of the identifier before '=' or ':' in free text. */
static const bool ident[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['_'] = true,
    ['.'] = true,         ['-'] = true,         ['['] = true,         [']'] = true,
};

/* Digits and dots: words of numbers, addresses and times. */
static const bool numeric[256] = { ['0' ... '9'] = true, ['.'] = true };

/* Characters of a bearer token. */
static const bool tok[256] = {
    ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['.'] = true, ['_'] = true,
    ['~'] = true,         ['+'] = true,         ['/'] = true,         ['='] = true, ['-'] = true,
};

/* Where an unquoted value ends. */
static const bool vstop[256] = {
    [' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true, ['\v'] = true, ['\f'] = true,
    ['&'] = true, [';'] = true,  [','] = true,  ['"'] = true,  ['\''] = true,
};

/* Where the authority of a URL ends (the userinfo ends at '@').  Userinfo
 * has no '[' or ']': a scan stops at an IPv6 literal, and at the
 * "[REDACTED]" of an earlier replacement, so scrubbing twice changes
 * nothing more. */
static const bool astop[256] = {
    [' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true, ['\v'] = true, ['\f'] = true,
    ['/'] = true, ['?'] = true,  ['#'] = true,  ['@'] = true,  ['"'] = true,  ['\''] = true,
    ['<'] = true, ['>'] = true,  ['\\'] = true, ['['] = true,  [']'] = true,
};

/* Bytes a pattern may start at: '=', ':', 'b', 'B'. */
static const bool cand[256] = { ['='] = true, [':'] = true, ['b'] = true, ['B'] = true };

/* Length of a character that keys ignore (zero-width: U+200B..U+200D,
 * U+2060, U+FEFF; soft hyphen U+00AD) at s, else 0. */
static size_t ignorable(const uint8_t *s, size_t n)
{
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && s[2] >= 0x8B && s[2] <= 0x8D)
        return 3;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0xA0)
        return 3;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 3;
    if (n >= 2 && s[0] == 0xC2 && s[1] == 0xAD)
        return 2;
    return 0;
}

static bool ieq(const char *a, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c >= 'A' && c <= 'Z')
            c |= 0x20;
        if (c != (unsigned char)lower[i])
            return false;
    }
    return true;
}

/* ---- segments ---- */

/* Writes the segment text of s (letters lower-cased, separators and ignored
 * characters left out) to t and marks in st the positions where a segment
 * starts; t and st hold at least n bytes.  Returns the text's length. */
static size_t segment(const uint8_t *s, size_t n, char *t, uint8_t *st)
{
    size_t len = 0;
    uint8_t prev = C_SEP;
    for (size_t j = 0; j < n; j++) {
        uint8_t c = s[j], k = kcls[c];
        bool start;
        if (k == C_SEP) {
            prev = C_SEP;
            continue;
        }
        if (k == C_HI) {
            size_t ign = ignorable(s + j, n - j);
            if (ign > 0) {
                j += ign - 1;
                continue;
            }
            if (c == 0xC2 && j + 1 < n && s[j + 1] == 0xA0) { /* no-break space: a separator */
                j++;
                prev = C_SEP;
                continue;
            }
            start = prev == C_SEP; /* other characters belong to the segment */
            k = C_LOW;
        } else if (k == C_UP) {
            /* camelCase: aB starts B; ABc starts B */
            start = prev != C_UP || (j + 1 < n && kcls[s[j + 1]] == C_LOW);
            c |= 0x20;
        } else {
            start = prev == C_SEP;
        }
        st[len] = start;
        t[len++] = (char)c;
        prev = k;
    }
    return len;
}

/* Segments that qualify a match away: "token_count" is a number of tokens,
 * "secret.name" the name of a secret. */
static const char *const qualifiers[] = {
    "count", "counts", "type", "kind",   "length",  "len",        "size",    "limit",    "usage",
    "name",  "id",     "ttl",  "expiry", "expires", "expiration", "enabled", "required",
};

static bool is_qualifier(const char *t, size_t n)
{
    for (size_t i = 0; i < LO_ARRAY_LEN(qualifiers); i++)
        if (strlen(qualifiers[i]) == n && memcmp(qualifiers[i], t, n) == 0)
            return true;
    return false;
}

/* ---- matchers: entries of segments ---- */

typedef struct {
    char *text;  /* segment text, lower-case */
    uint8_t *st; /* segment starts within text */
    size_t len;
    bool whole; /* must be the whole key, not a run within it */
} entry_t;

typedef struct {
    entry_t *e;
    size_t n, cap;
    uint64_t g3[512]; /* first three characters of the entries (see m3) */
} matcher_t;

/* A character's 5-bit code in the 3-gram bitmap: letters of either case
 * alike.  Other characters fall on arbitrary codes: a key's three bytes
 * hold something other than letters and digits only when its segment is
 * shorter than three, and entries whose first segment is that short set
 * every code after it. */
static inline unsigned m3(uint8_t c)
{
    return (c | 0x20u) & 31u;
}

static inline unsigned g3_index(const uint8_t *s, size_t j, size_t n)
{
    unsigned a = m3(s[j]), b = j + 1 < n ? m3(s[j + 1]) : 0, c = j + 2 < n ? m3(s[j + 2]) : 0;
    return a << 10 | b << 5 | c;
}

static inline bool g3_hit(const matcher_t *m, const uint8_t *s, size_t j, size_t n)
{
    unsigned i = g3_index(s, j, n);
    return (m->g3[i >> 6] >> (i & 63)) & 1;
}

static void g3_set(matcher_t *m, unsigned i)
{
    m->g3[i >> 6] |= 1ULL << (i & 63);
}

static int matcher_add(matcher_t *m, const char *s, size_t n, bool whole)
{
    char *t = malloc(n ? n : 1);
    uint8_t *st = malloc(n ? n : 1);
    if (t == NULL || st == NULL)
        goto fail;
    size_t len = segment((const uint8_t *)s, n, t, st);
    if (len == 0)
        goto skip;
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].len == len && m->e[i].whole == whole && memcmp(m->e[i].text, t, len) == 0 &&
            memcmp(m->e[i].st, st, len) == 0)
            goto skip;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        entry_t *e = realloc(m->e, cap * sizeof(*e));
        if (e == NULL)
            goto fail;
        m->e = e;
        m->cap = cap;
    }
    m->e[m->n++] = (entry_t){ .text = t, .st = st, .len = len, .whole = whole };
    size_t first = 1;
    while (first < len && !st[first])
        first++;
    unsigned a = m3((uint8_t)t[0]) << 10;
    if (first >= 3) {
        g3_set(m, a | m3((uint8_t)t[1]) << 5 | m3((uint8_t)t[2]));
    } else if (first == 2) {
        for (unsigned x = 0; x < 32; x++)
            g3_set(m, a | m3((uint8_t)t[1]) << 5 | x);
    } else {
        for (unsigned x = 0; x < 1024; x++)
            g3_set(m, a | x);
    }
    return LO_OK;
skip:
    free(t);
    free(st);
    return LO_OK;
fail:
    free(t);
    free(st);
    return LO_ERROR;
}

static void matcher_free(matcher_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->e[i].text);
        free(m->e[i].st);
    }
    free(m->e);
}

/* The exact rule: some entry equals a run of consecutive segments of s
 * (same text, same segment starts) not directly followed by a qualifier. */
static bool matcher_exact(const matcher_t *m, const uint8_t *s, size_t n)
{
    char tbuf[256];
    uint8_t sbuf[257];
    char *t = tbuf;
    uint8_t *st = sbuf;
    if (n > sizeof(tbuf)) {
        t = malloc(n);
        st = malloc(n + 1);
        if (t == NULL || st == NULL) {
            free(t);
            free(st);
            return true; /* out of memory: redact rather than store what may be a secret */
        }
    }
    size_t len = segment(s, n, t, st);
    bool hit = false;
    st[len] = 1; /* the end closes the last segment */
    for (size_t b = 0; b < len && !hit; b++) {
        if (!st[b])
            continue;
        for (size_t i = 0; i < m->n && !hit; i++) {
            const entry_t *e = &m->e[i];
            if (e->len > len - b || e->text[0] != t[b] || !st[b + e->len])
                continue;
            if (e->whole && (b != 0 || b + e->len != len))
                continue;
            if (memcmp(t + b, e->text, e->len) != 0 || memcmp(st + b + 1, e->st + 1, e->len - 1) != 0)
                continue;
            size_t q = b + e->len, qe = q + 1;
            if (q < len) {
                while (qe < len && !st[qe])
                    qe++;
                if (is_qualifier(t + q, qe - q))
                    continue;
            }
            hit = true;
        }
    }
    if (t != tbuf) {
        free(t);
        free(st);
    }
    return hit;
}

/* Does some entry match s?  The quick part: every place a segment may start
 * (a letter or digit after a separator, an upper-case letter that may begin
 * a camelCase word) is looked up in the 3-gram bitmap. */
static bool matcher_hit(const matcher_t *m, const char *p, size_t n)
{
    const uint8_t *s = (const uint8_t *)p;
    uint8_t prev = C_SEP;
    if (m->n == 0)
        return false;
    for (size_t j = 0; j < n; j++) {
        uint8_t k = kcls[s[j]];
        if (k == C_LOW) {
            if (prev == C_SEP && g3_hit(m, s, j, n))
                return matcher_exact(m, s, n);
        } else if (k == C_UP) {
            if ((prev != C_UP || (j + 1 < n && kcls[s[j + 1]] == C_LOW)) && g3_hit(m, s, j, n))
                return matcher_exact(m, s, n);
        } else if (k == C_HI) {
            return matcher_exact(m, s, n);
        }
        prev = k;
    }
    return false;
}

/* ---- exact key lists (redact_url_keys, redact_text_keys) ---- */

typedef struct {
    char **k; /* lower-case */
    size_t *len;
    size_t n;
    uint64_t len_mask; /* lengths below 64 */
    bool long_keys;
} list_t;

static bool list_has(const list_t *l, const char *p, size_t n)
{
    if (n < 64 ? !(l->len_mask & (1ULL << n)) : !l->long_keys)
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (l->len[i] == n && ieq(p, l->k[i], n))
            return true;
    return false;
}

static void list_free(list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->k[i]);
    free(l->k);
    free(l->len);
}

/* Calls add for every trimmed, non-empty entry of a comma-separated list. */
static int each_entry(const char *list, int (*add)(void *ctx, const char *s, size_t n), void *ctx)
{
    const char *s = list != NULL ? list : "";
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        size_t len = (size_t)(e - s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len > 0 && add(ctx, s, len) != LO_OK)
            return LO_ERROR;
        s = e;
    }
    return LO_OK;
}

static int list_add(void *ctx, const char *s, size_t n)
{
    list_t *l = ctx;
    char **k = realloc(l->k, (l->n + 1) * sizeof(*k));
    if (k == NULL)
        return LO_ERROR;
    l->k = k;
    size_t *len = realloc(l->len, (l->n + 1) * sizeof(*len));
    if (len == NULL)
        return LO_ERROR;
    l->len = len;
    char *c = malloc(n + 1);
    if (c == NULL)
        return LO_ERROR;
    for (size_t i = 0; i < n; i++)
        c[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
    c[n] = '\0';
    l->k[l->n] = c;
    l->len[l->n] = n;
    l->n++;
    if (n < 64)
        l->len_mask |= 1ULL << n;
    else
        l->long_keys = true;
    return LO_OK;
}

static int deny_add(void *ctx, const char *s, size_t n)
{
    return matcher_add(ctx, s, n, false);
}

/* ---- the rules ---- */

struct lo_redact {
    matcher_t deny;  /* redact_keys */
    matcher_t extra; /* signature-like URL parameters */
    list_t url, text;
    bool patterns;
    bool letterless; /* some entry has no letter */
    uint32_t gen;    /* tells this redactor's memo entries from others' */
};

/* Query and connection-string parameters that are secrets besides the
 * deny-list: signatures (AWS, Google, Azure), storage account keys,
 * ODBC/ADO.NET's pwd, and an OAuth authorization code (as the whole name
 * only: "country_code" is not one). */
static const char *const extra_runs[] = { "sig",        "signature",       "credential", "AWSAccessKeyId",
                                          "AccountKey", "SharedAccessKey", "pwd" };
static const char *const extra_whole[] = { "code" };

static atomic_uint g_gen;

lo_redact_t *lo_redact_new(const lo_redact_conf_t *c)
{
    lo_redact_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->patterns = c->patterns;
    r->gen = atomic_fetch_add(&g_gen, 1) + 1;
    if (r->gen == 0) /* 0 marks an empty memo entry */
        r->gen = atomic_fetch_add(&g_gen, 1) + 1;
    if (each_entry(c->keys, deny_add, &r->deny) != LO_OK ||
        each_entry(c->url_keys, list_add, &r->url) != LO_OK ||
        (c->patterns && each_entry(c->text_keys, list_add, &r->text) != LO_OK))
        goto fail;
    for (size_t i = 0; i < LO_ARRAY_LEN(extra_runs); i++)
        if (matcher_add(&r->extra, extra_runs[i], strlen(extra_runs[i]), false) != LO_OK)
            goto fail;
    for (size_t i = 0; i < LO_ARRAY_LEN(extra_whole); i++)
        if (matcher_add(&r->extra, extra_whole[i], strlen(extra_whole[i]), true) != LO_OK)
            goto fail;
    for (size_t i = 0; i < r->deny.n + r->extra.n; i++) {
        const entry_t *e = i < r->deny.n ? &r->deny.e[i] : &r->extra.e[i - r->deny.n];
        bool letters = false;
        for (size_t j = 0; j < e->len; j++)
            letters = letters || (e->text[j] >= 'a' && e->text[j] <= 'z');
        r->letterless = r->letterless || !letters;
    }
    return r;
fail:
    lo_redact_destroy(r);
    return NULL;
}

lo_redact_t *lo_redact_create(const char *keys)
{
    lo_redact_conf_t c = { .keys = keys };
    return lo_redact_new(&c);
}

lo_redact_t *lo_redact_from_config(const struct lo_config *cfg)
{
    lo_redact_conf_t c = { .keys = cfg->redact_keys,
                           .url_keys = cfg->redact_url_keys,
                           .text_keys = cfg->redact_text_keys,
                           .patterns = cfg->redact_patterns != 0 };
    return lo_redact_new(&c);
}

void lo_redact_destroy(lo_redact_t *r)
{
    if (r == NULL)
        return;
    matcher_free(&r->deny);
    matcher_free(&r->extra);
    list_free(&r->url);
    list_free(&r->text);
    free(r);
}

/* ---- what a key or word is, remembered ---- */

enum { F_DENY = 1, F_EXTRA = 2, F_URL = 4, F_TEXT = 8 };

/* A request repeats the same few keys on every record (and logs the same
 * words before '='), so each thread remembers the last verdicts: a 2-way
 * set-associative table keyed by the exact bytes.  Keys of up to 16 bytes
 * are held whole in two words (the first and last 8 bytes, overlapping);
 * longer ones, up to MEMO_KEY bytes, are compared in full; longer still,
 * and words starting with a digit (numbers, addresses: rarely seen twice),
 * are not remembered. */
#define MEMO_SETS 128
#define MEMO_KEY  40
typedef struct {
    uint64_t w0, w1;
    uint32_t gen;
    uint8_t len, flags;
    char k[MEMO_KEY];
} memo_t;
static _Thread_local memo_t tl_memo[MEMO_SETS][2];

/* Two words that, with n, hold every byte of p when n <= 16 (and the
 * first and last 8 otherwise); reads nothing outside p[0..n). */
static inline void words(const char *p, size_t n, uint64_t *w0, uint64_t *w1)
{
    if (n >= 8) {
        memcpy(w0, p, 8);
        memcpy(w1, p + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        *w0 = a;
        *w1 = b;
    } else {
        *w0 = (uint64_t)(uint8_t)p[0] | (uint64_t)(uint8_t)p[n / 2] << 8 | (uint64_t)(uint8_t)p[n - 1] << 16;
        *w1 = 0;
    }
}

static uint8_t verdict(const lo_redact_t *r, const char *p, size_t n)
{
    uint8_t f = 0;
    if (matcher_hit(&r->deny, p, n))
        f |= F_DENY;
    if (matcher_hit(&r->extra, p, n))
        f |= F_EXTRA;
    if (list_has(&r->url, p, n))
        f |= F_URL;
    if (list_has(&r->text, p, n))
        f |= F_TEXT;
    return f;
}

static inline bool memo_is(const memo_t *e, uint32_t gen, const char *p, size_t n, uint64_t w0, uint64_t w1)
{
    return ((e->w0 ^ w0) | (e->w1 ^ w1) | (uint64_t)(e->len ^ n) | (uint64_t)(e->gen ^ gen)) == 0 &&
           (n <= 16 || memcmp(e->k, p, n) == 0);
}

static inline memo_t *memo_set(uint64_t w0, uint64_t w1, size_t n)
{
    return tl_memo[((w0 + n) * 0x9E3779B97F4A7C15ULL ^ w1 * 0xC2B2AE3D27D4EB4FULL) >> 57];
}

/* classify() when the quick look found nothing: n > 0 */
static __attribute__((noinline)) uint8_t classify_slow(const lo_redact_t *r, const char *p, size_t n)
{
    if (n > MEMO_KEY || (p[0] >= '0' && p[0] <= '9'))
        return verdict(r, p, n);
    uint64_t w0, w1;
    words(p, n, &w0, &w1);
    memo_t *set = memo_set(w0, w1, n);
    if (memo_is(&set[0], r->gen, p, n, w0, w1))
        return set[0].flags;
    if (memo_is(&set[1], r->gen, p, n, w0, w1))
        return set[1].flags;
    uint8_t f = verdict(r, p, n);
    set[1] = set[0]; /* the older one goes */
    set[0].gen = r->gen;
    set[0].len = (uint8_t)n;
    set[0].w0 = w0;
    set[0].w1 = w1;
    set[0].flags = f;
    if (n > 16)
        memcpy(set[0].k, p, n);
    return f;
}

/* The flags of p[0..n) (n > 0): most often remembered, a key of 4 to 16
 * bytes in the first way of its set (as words() holds it). */
static inline uint8_t classify(const lo_redact_t *r, const char *p, size_t n)
{
    if (n >= 4 && n <= 16) {
        uint64_t w0, w1;
        if (n >= 8) {
            memcpy(&w0, p, 8);
            memcpy(&w1, p + n - 8, 8);
        } else {
            uint32_t a, b;
            memcpy(&a, p, 4);
            memcpy(&b, p + n - 4, 4);
            w0 = a;
            w1 = b;
        }
        const memo_t *e = memo_set(w0, w1, n);
        if (((e->w0 ^ w0) | (e->w1 ^ w1) | (uint64_t)(e->len ^ n) | (uint64_t)(e->gen ^ r->gen)) == 0)
            return e->flags;
    }
    return classify_slow(r, p, n);
}

lo_redact_mode_t lo_redact_key(const lo_redact_t *r, const char *key, size_t n)
{
    /* by flags: the deny-list first, then the URL list, then the text list */
    static const uint8_t mode[16] = {
        [F_URL] = LO_REDACT_URL,
        [F_URL | F_EXTRA] = LO_REDACT_URL,
        [F_URL | F_TEXT] = LO_REDACT_URL,
        [F_URL | F_TEXT | F_EXTRA] = LO_REDACT_URL,
        [F_TEXT] = LO_REDACT_TEXT,
        [F_TEXT | F_EXTRA] = LO_REDACT_TEXT,
        [F_DENY] = LO_REDACT_VALUE,
        [F_DENY | F_EXTRA] = LO_REDACT_VALUE,
        [F_DENY | F_URL] = LO_REDACT_VALUE,
        [F_DENY | F_TEXT] = LO_REDACT_VALUE,
        [F_DENY | F_URL | F_TEXT] = LO_REDACT_VALUE,
        [F_DENY | F_URL | F_EXTRA] = LO_REDACT_VALUE,
        [F_DENY | F_TEXT | F_EXTRA] = LO_REDACT_VALUE,
        [F_DENY | F_URL | F_TEXT | F_EXTRA] = LO_REDACT_VALUE,
    };
    if (r == NULL || n == 0)
        return LO_REDACT_KEEP;
    return (lo_redact_mode_t)mode[classify(r, key, n)];
}

bool lo_redact_match(const lo_redact_t *r, const char *key, size_t n)
{
    return lo_redact_key(r, key, n) == LO_REDACT_VALUE;
}

lo_redact_mode_t lo_redact_text_mode(const lo_redact_t *r)
{
    return r != NULL && r->patterns ? LO_REDACT_TEXT : LO_REDACT_KEEP;
}

/* ---- scrubbing ---- */

#ifdef __SSE2__
/* Bit k set: p[k] may start a pattern ('=', ':', 'b', 'B'; 16 bytes).  | 0x20
 * folds 'B' onto 'b' and leaves '=' and ':' as they are (0x1D and 0x1A fold
 * onto them too: the caller looks again). */
static inline uint64_t cand16(const char *p)
{
    __m128i v = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_set1_epi8(0x20));
    __m128i h = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('=')), _mm_cmpeq_epi8(v, _mm_set1_epi8(':'))),
        _mm_cmpeq_epi8(v, _mm_set1_epi8('b')));
    return (uint64_t)(uint32_t)_mm_movemask_epi8(h);
}
#endif

/* Bit k set: s[base + k] may start a pattern; 64 bytes, fewer at the end. */
static inline uint64_t cand_mask(const char *s, size_t base, size_t n)
{
    size_t left = n - base;
#ifdef __SSE2__
    const char *p = s + base;
    if (left >= 64)
        return cand16(p) | cand16(p + 16) << 16 | cand16(p + 32) << 32 | cand16(p + 48) << 48;
    if (n >= 16) {
        uint64_t m = 0;
        size_t j = 0;
        for (; left - j >= 16; j += 16)
            m |= cand16(p + j) << j;
        /* the last bytes: the 16 before n, those already seen dropped */
        if (j < left)
            m |= cand16(s + n - 16) >> (16 - (left - j)) << j;
        return m;
    }
#endif
    uint64_t m = 0;
    for (size_t i = 0; i < left; i++)
        if (cand[(uint8_t)s[base + i]])
            m |= 1ULL << i;
    return m;
}

/* The start of the identifier that ends at s[i] (exclusive); i when none. */
static inline size_t ident_start(const char *s, size_t i)
{
#ifdef __SSE2__
    /* the 16 bytes before i at once; a longer identifier is walked */
    if (i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i - 16));
        __m128i f = _mm_or_si128(v, _mm_set1_epi8(0x20));
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(f, _mm_set1_epi8('a' - 1)),
                                      _mm_cmplt_epi8(f, _mm_set1_epi8('z' + 1)));
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                      _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
        __m128i dash_dot = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('-' - 1)),
                                         _mm_cmplt_epi8(v, _mm_set1_epi8('.' + 1)));
        __m128i other = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')), _mm_cmpeq_epi8(v, _mm_set1_epi8('['))),
            _mm_cmpeq_epi8(v, _mm_set1_epi8(']')));
        unsigned id = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(alpha, digit), _mm_or_si128(dash_dot, other)));
        unsigned non = ~id & 0xFFFFu;
        if (non != 0)
            return i - 16 + (size_t)(32 - __builtin_clz(non));
    }
#endif
    size_t j = i;
    while (j > 0 && ident[(uint8_t)s[j - 1]])
        j--;
    return j;
}

static inline bool is_alnum(uint8_t c)
{
    return kcls[c] <= C_UP;
}

/* "Bearer <token>" at i: the token's range. */
static bool bearer(const char *s, size_t n, size_t i, size_t *vs, size_t *ve)
{
    if (n - i < 8 || (i > 0 && is_alnum((uint8_t)s[i - 1])) || !ieq(s + i, "bearer", 6))
        return false;
    size_t j = i + 6;
    for (;;) {
        if (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
        else if (n - j >= 3 && s[j] == '%' && s[j + 1] == '2' && s[j + 2] == '0')
            j += 3;
        else
            break;
    }
    if (j == i + 6)
        return false;
    /* a token, not a word of prose ("the bearer of"): 16 characters or more,
     * or something besides letters */
    size_t k = j;
    bool letters = true;
    while (k < n && tok[(uint8_t)s[k]]) {
        letters = letters && ((uint8_t)s[k] | 0x20) >= 'a' && ((uint8_t)s[k] | 0x20) <= 'z';
        k++;
    }
    *vs = j;
    *ve = k;
    return k - j >= 16 || (k > j && !letters);
}

/* "scheme://userinfo@host" with i at ':': the userinfo's range. */
static bool userinfo(const char *s, size_t n, size_t i, size_t *vs, size_t *ve)
{
    size_t a = i + 3, k = a;
    while (k < n && !astop[(uint8_t)s[k]])
        k++;
    *vs = a;
    *ve = k;
    return k < n && s[k] == '@' && k > a;
}

/* Authentication schemes kept before a credential. */
static size_t scheme_len(const char *s, size_t n)
{
    static const char *const schemes[] = { "bearer", "basic", "digest", "negotiate", "token" };
    for (size_t i = 0; i < LO_ARRAY_LEN(schemes); i++) {
        size_t l = strlen(schemes[i]);
        if (n > l && ieq(s, schemes[i], l) && s[l] == ' ')
            return l;
    }
    return 0;
}

/* Texts of one request tend to follow the same few templates, so the k-th
 * word before a '=' or ':' of a text is most often the k-th word of the
 * text before: each thread keeps the last one seen at each k mod 32 (up to 16
 * bytes, right-aligned in two words, with their masks) and its verdict.  A
 * hit costs two loads and compares: the same bytes right before the
 * separator, and before them a byte that cannot be part of a word. */
#define POS_SLOTS 32
typedef struct {
    uint64_t w0, w1, m0, m1; /* the 16 bytes before the separator, masked to the word */
    size_t len;
    uint8_t flags;
    bool check; /* the byte before the word is not in the words: look at it */
} pos_t;
static _Thread_local pos_t tl_pos[POS_SLOTS];
static _Thread_local uint32_t tl_pos_gen; /* the redactor tl_pos belongs to */

/* Empties tl_pos unless it holds r's verdicts.  An empty entry "matches"
 * only 16 NUL bytes before a separator, with no word: flags 0, true. */
static void pos_own(const lo_redact_t *r)
{
    if (tl_pos_gen == r->gen)
        return;
    for (size_t k = 0; k < POS_SLOTS; k++)
        tl_pos[k] = (pos_t){ .m0 = ~0ULL, .m1 = ~0ULL };
    tl_pos_gen = r->gen;
}

static inline int pos_hit(const char *s, size_t i, unsigned k)
{
    if (i <= 16)
        return -1;
    const pos_t *e = &tl_pos[k % POS_SLOTS];
    uint64_t w0, w1;
    memcpy(&w0, s + i - 16, 8);
    memcpy(&w1, s + i - 8, 8);
    if ((((w0 & e->m0) ^ e->w0) | ((w1 & e->m1) ^ e->w1)) != 0 ||
        (e->check && ident[(uint8_t)s[i - e->len - 1]]))
        return -1;
    return e->flags;
}

/* Keeps the word s[i - len..i) for the k-th separator; with the byte
 * before it (not part of a word) when it fits, so that a hit needs no
 * other look. */
static void pos_keep(const char *s, size_t i, size_t len, unsigned k, uint8_t flags)
{
    if (i <= 16 || len == 0 || len > 16)
        return;
    pos_t *e = &tl_pos[k % POS_SLOTS];
    e->check = len == 16;
    size_t m = e->check ? len : len + 1;
    e->m1 = m >= 8 ? ~0ULL : ~0ULL << (8 * (8 - m));
    e->m0 = m <= 8 ? 0 : ~0ULL << (8 * (16 - m));
    memcpy(&e->w0, s + i - 16, 8);
    memcpy(&e->w1, s + i - 8, 8);
    e->w0 &= e->m0;
    e->w1 &= e->m1;
    e->len = len;
    e->flags = flags;
}

/* The flags of a word of free text (only F_DENY and F_EXTRA matter). */
static uint8_t word_flags(const lo_redact_t *r, const char *p, size_t n)
{
    if (p[0] >= '0' && p[0] <= '9' && !r->letterless) {
        /* numbers, addresses, times: no entry matches a word without letters */
        bool letters = false;
        for (size_t j = 1; j < n && !letters; j++)
            letters = ((uint8_t)p[j] | 0x20) >= 'a' && ((uint8_t)p[j] | 0x20) <= 'z';
        if (!letters)
            return 0;
    }
    return classify(r, p, n);
}

/* The verdict of the word before the separator at i (spaces and one
 * quote between them allowed); 0 when there is no word. */
static uint8_t word_flags_at(const lo_redact_t *r, const char *s, size_t i, unsigned k)
{
    size_t we = i;
    if (we > 0 && !ident[(uint8_t)s[we - 1]]) {
        /* "word = value", "\"word\": value" */
        size_t q = 0;
        while (we > 0 && (s[we - 1] == ' ' || s[we - 1] == '\t'))
            we--;
        while (we > 0 && q < 2 && (s[we - 1] == '"' || s[we - 1] == '\'' || s[we - 1] == '\\')) {
            we--;
            q++;
        }
    }
    if (!r->letterless) {
        /* numbers, addresses, times ("10.0.0.1:8080", "12:30"): digits and
         * dots back to the start of the word, no entry to match */
        size_t j = we;
        while (j > 0 && numeric[(uint8_t)s[j - 1]])
            j--;
        if (j < we && (j == 0 || !ident[(uint8_t)s[j - 1]]))
            return 0;
    }
    size_t ws = ident_start(s, we);
    if (ws == we)
        return 0;
    uint8_t f = word_flags(r, s + ws, we - ws);
    if (we == i)
        pos_keep(s, i, we - ws, k, f);
    return f;
}

/* The value after the separator at i: [spaces][quote][scheme ]value. */
static bool value_range(const char *s, size_t n, size_t i, size_t *vs, size_t *ve)
{
    size_t v = i + 1;
    while (v < n && (s[v] == ' ' || s[v] == '\t'))
        v++;
    char quote = 0;
    bool esc = false;
    if (v < n && (s[v] == '"' || s[v] == '\'')) {
        quote = s[v++];
    } else if (n - v >= 2 && s[v] == '\\' && (s[v + 1] == '"' || s[v + 1] == '\'')) {
        quote = s[v + 1];
        v += 2;
        esc = true;
    }
    size_t sl = scheme_len(s + v, n - v);
    if (sl > 0) {
        size_t w = v + sl;
        while (w < n && s[w] == ' ')
            w++;
        if (w < n && !vstop[(uint8_t)s[w]] && !(esc && s[w] == '\\'))
            v = w;
    }
    size_t e = v;
    if (esc) {
        while (e < n && s[e] != quote && s[e] != '\\' && s[e] != '\n')
            e++;
    } else if (quote) {
        while (e < n && s[e] != quote && s[e] != '\n')
            e += s[e] == '\\' && e + 1 < n ? 2 : 1;
    } else {
        while (e < n && !vstop[(uint8_t)s[e]])
            e++;
    }
    *vs = v;
    *ve = e;
    return e > v;
}

/* word[spaces](=|:)[spaces][quote]value with i at the separator and the
 * k-th separator of the text: the value's range when the word is
 * sensitive. */
static inline bool keyvalue(const lo_redact_t *r, uint8_t want, const char *s, size_t n, size_t i, unsigned k,
                            size_t *vs, size_t *ve)
{
    int hit = pos_hit(s, i, k);
    uint8_t f = hit >= 0 ? (uint8_t)hit : word_flags_at(r, s, i, k);
    return (f & want) != 0 && value_range(s, n, i, vs, ve);
}
size_t lo_redact_scrub(const lo_redact_t *r, lo_redact_mode_t mode, const char *s, size_t n, lo_buf_t *out)
{
    size_t i = 0, copied = 0, count = 0;
    unsigned k = 0; /* separators seen */
    if (r == NULL || (mode != LO_REDACT_TEXT && mode != LO_REDACT_URL))
        return 0;
    /* the verdicts that make a word sensitive */
    uint8_t want = mode == LO_REDACT_URL ? F_DENY | F_EXTRA : F_DENY;
    pos_own(r);
    /* i: where the scan resumes (after a replaced value) */
    for (size_t base = 0; base < n; base += 64) {
        uint64_t mask = cand_mask(s, base, n);
        if (i > base)
            mask &= i - base >= 64 ? 0 : ~0ULL << (i - base);
        while (mask != 0) {
            size_t p = base + (size_t)__builtin_ctzll(mask), vs, ve;
            mask &= mask - 1;
            char c = s[p];
            bool hit;
            if (c == '=') {
                hit = keyvalue(r, want, s, n, p, k++, &vs, &ve);
            } else if (c == ':') {
                if (n - p >= 3 && s[p + 1] == '/' && s[p + 2] == '/') {
                    hit = userinfo(s, n, p, &vs, &ve);
                    if (!hit) {
                        i = p + 3;
                        mask &= i - base >= 64 ? 0 : ~0ULL << (i - base);
                        continue;
                    }
                } else {
                    hit = keyvalue(r, want, s, n, p, k++, &vs, &ve);
                }
            } else if (c == 'b' || c == 'B') {
                hit = bearer(s, n, p, &vs, &ve);
            } else {
                hit = false;
            }
            if (!hit)
                continue;
            lo_buf_append(out, s + copied, vs - copied);
            lo_buf_append(out, LO_REDACTED, sizeof(LO_REDACTED) - 1);
            copied = i = ve;
            count++;
            if (i > base)
                mask &= i - base >= 64 ? 0 : ~0ULL << (i - base);
        }
    }
    if (count > 0)
        lo_buf_append(out, s + copied, n - copied);
    return count;
}

int lo_redact_str(const lo_redact_t *r, lo_redact_mode_t mode, lo_buf_t *scratch, lo_arena_t *a, lo_str_t *s)
{
    if (r == NULL || mode == LO_REDACT_KEEP || s->len == 0)
        return LO_OK;
    lo_buf_reset(scratch);
    if (lo_redact_scrub(r, mode, s->p, s->len, scratch) == 0)
        return LO_OK;
    if (scratch->err != LO_OK)
        return LO_ERROR;
    char *c = lo_arena_strndup(a, scratch->p, scratch->len);
    if (c == NULL)
        return LO_ERROR;
    *s = lo_str(c, scratch->len);
    return LO_OK;
}
