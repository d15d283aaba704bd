/*
 * json_decode.c — lo_otlp_json_decode: parses the body with jansson under a
 * memory budget, then hands the tree to the signal's walker.
 *
 * jansson builds a tree that is about 11 times the size of the text for
 * real bodies and up to 73 times for hostile ones, so the decoder counts what jansson
 * allocates on this thread and fails the request (413) past a budget instead
 * of letting one body take the process's memory.  The accounting allocator
 * is installed once, at load time (before any thread exists), and is plain
 * malloc/free outside a decode, so other jansson users are unaffected.
 */
#include "otlp/json_internal.h"

#include <malloc.h>
#include <stdlib.h>

/* Budget for jansson's tree.  Measured with jansson 2.14: real SDK bodies
 * take about 11x their text; hostile shapes up to 73x ("[{},{},...]").  So
 * 16x, at least 32 MiB, at most 256 MiB per decode: JSON bodies of real OTLP
 * up to ~20 MiB decompressed decode, and a body that would need more is
 * answered 413 instead of taking the process's memory. */
#define LO_JD_BUDGET_MIN ((size_t)32 << 20)
#define LO_JD_BUDGET_MUL 16u
#define LO_JD_BUDGET_MAX ((size_t)256 << 20)

static _Thread_local bool tl_on;
static _Thread_local bool tl_exceeded;
static _Thread_local size_t tl_left;

static void *budget_malloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL || !tl_on)
        return p;
    size_t u = malloc_usable_size(p);
    if (u > tl_left) {
        free(p);
        tl_exceeded = true;
        return NULL;
    }
    tl_left -= u;
    return p;
}

static void budget_free(void *p)
{
    if (p != NULL && tl_on)
        tl_left += malloc_usable_size(p);
    free(p);
}

__attribute__((constructor)) static void budget_install(void)
{
    json_set_alloc_funcs(budget_malloc, budget_free);
}

void *lo_jd_push_record(lo_jd_t *c)
{
    /* the record array is charged to the same budget as jansson's tree:
     * "[{},{},...]" is cheap text but 250+ bytes per record */
    size_t sz = c->b->signal == LO_SIGNAL_LOGS    ? sizeof(lo_log_rec_t)
                : c->b->signal == LO_SIGNAL_SPANS ? sizeof(lo_span_rec_t)
                                                  : sizeof(lo_sample_rec_t);
    if (tl_on) {
        if (sz > tl_left) {
            tl_exceeded = true;
            return NULL;
        }
        tl_left -= sz;
    }
    return lo_otlp_batch_push(c->b);
}

/* Why jansson refused the body, in words fit for a 400: its text without the
 * " near '...'" excerpt (raw request bytes are not echoed, nor logged). */
static int parse_failed(lo_otlp_batch_t *b, json_error_t *err)
{
    char *near = strstr(err->text, " near ");
    const char *why = err->text;
    if (near != NULL)
        *near = '\0';
    switch (json_error_code(err)) {
    case json_error_invalid_utf8: why = "the body is not valid UTF-8"; break;
    case json_error_stack_overflow: why = "nested too deep"; break;
    case json_error_numeric_overflow:
        why = "a number is out of range (64-bit integers beyond int64 must be decimal strings)";
        break;
    default: break;
    }
    return lo_otlp_fail(b, "invalid JSON: %s (line %d, column %d)", why, err->line, err->column);
}

static size_t budget_for(size_t n)
{
    size_t b = n > LO_JD_BUDGET_MAX / LO_JD_BUDGET_MUL ? LO_JD_BUDGET_MAX : n * LO_JD_BUDGET_MUL;
    return b < LO_JD_BUDGET_MIN ? LO_JD_BUDGET_MIN : b;
}

int lo_otlp_json_decode(lo_signal_t s, const char *p, size_t n, const lo_decode_opts_t *o, lo_otlp_batch_t *b)
{
    lo_decode_opts_t opts = *o;
    json_error_t err;
    int rc;
    lo_jd_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return LO_ERROR;
    if (opts.receive_ns == 0)
        opts.receive_ns = lo_now_ns();
    c->b = b;
    c->o = &opts;
    lo_buf_init(&c->tmp, 0);
    lo_buf_init(&c->tmp2, 0);
    lo_buf_init(&c->scratch, 0);
    lo_buf_init(&c->scrub, 0);

    /* an empty body (or only whitespace) is an empty request, as an empty
     * protobuf body is */
    size_t ws = 0;
    while (ws < n && (p[ws] == ' ' || p[ws] == '\t' || p[ws] == '\n' || p[ws] == '\r'))
        ws++;
    json_t *root = NULL;
    if (ws == n) {
        rc = LO_OK;
        goto cleanup;
    }
    tl_on = true;
    tl_exceeded = false;
    tl_left = budget_for(n);
    root = json_loadb(p, n, JSON_ALLOW_NUL, &err);
    if (root == NULL) {
        if (tl_exceeded) {
            lo_otlp_fail(b, "JSON body too large to decode (more than %zu MiB in memory)",
                         budget_for(n) >> 20);
            rc = LO_TOO_LARGE;
        } else if (json_error_code(&err) == json_error_out_of_memory) {
            rc = LO_ERROR;
        } else {
            rc = parse_failed(b, &err);
        }
        goto cleanup;
    }
    if (!json_is_object(root)) {
        rc = lo_otlp_fail(b, "expected a JSON object at the top level");
        goto cleanup;
    }
    switch (s) {
    case LO_SIGNAL_LOGS: rc = lo_jd_walk(c, root, &lo_jd_logs); break;
    case LO_SIGNAL_SPANS: rc = lo_jd_walk(c, root, &lo_jd_traces); break;
    case LO_SIGNAL_METRICS: rc = lo_jd_walk(c, root, &lo_jd_metrics); break;
    default: rc = lo_otlp_fail(b, "unknown signal"); break;
    }
    /* past the budget while walking (records): the same 413 */
    if (rc != LO_OK && tl_exceeded && rc != LO_INVALID) {
        lo_otlp_fail(b, "JSON body too large to decode (more than %zu MiB in memory)", budget_for(n) >> 20);
        rc = LO_TOO_LARGE;
    }

cleanup:
    json_decref(root);
    tl_on = false;
    lo_buf_free(&c->tmp);
    lo_buf_free(&c->tmp2);
    lo_buf_free(&c->scratch);
    lo_buf_free(&c->scrub);
    free(c);
    return rc;
}
