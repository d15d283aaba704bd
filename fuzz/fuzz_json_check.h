/* Shared by fuzz/fuzz_json_*.c: decode one input and check the invariants
 * otlp.h promises for every record (valid UTF-8 without NUL, complete JSON
 * texts, time never 0); abort() on a violation so libFuzzer reports it. */
#ifndef LO_FUZZ_JSON_CHECK_H
#define LO_FUZZ_JSON_CHECK_H

#include <jansson.h>
#include <stdlib.h>

#include "core/utf8.h"
#include "fuzz_copy_check.h"
#include "otlp/otlp.h"

static lo_redact_t *lo_fuzz_redact;

static void lo_fuzz_text(lo_str_t s)
{
    if (s.len > 0 && (s.p == NULL || !lo_utf8_valid(s.p, s.len)))
        abort();
}

static void lo_fuzz_json(lo_str_t s)
{
    lo_fuzz_text(s);
    if (s.len == 0)
        return;
    json_t *j = json_loadb(s.p, s.len, JSON_DECODE_ANY, NULL);
    if (j == NULL)
        abort();
    json_decref(j);
}

static int lo_fuzz_json_one(lo_signal_t sig, const uint8_t *data, size_t size)
{
    if (lo_fuzz_redact == NULL) {
        /* keys, URLs and free text (redact.h) */
        lo_redact_conf_t c = { .keys = "password,token,authorization,x-api-key",
                               .url_keys = "url.full,http.url",
                               .text_keys = "exception.message",
                               .patterns = true };
        lo_fuzz_redact = lo_redact_new(&c);
    }
    lo_arena_t *a = lo_arena_create(16 * 1024, 64u << 20);
    lo_otlp_batch_t b;
    lo_decode_opts_t o = { .max_depth = 8, .receive_ns = 1, .redact = lo_fuzz_redact };
    lo_otlp_batch_init(&b, sig, a);
    int rc = lo_otlp_json_decode(sig, (const char *)data, size, &o, &b);
    if (rc == LO_INVALID && b.error[0] == '\0')
        abort();
    for (size_t i = 0; rc == LO_OK && i < b.n; i++) {
        if (sig == LO_SIGNAL_LOGS) {
            lo_log_rec_t *r = &b.logs[i];
            if (r->time_ns == 0)
                abort();
            lo_fuzz_text(r->message);
            lo_fuzz_text(r->severity_text);
            lo_fuzz_text(r->level);
            lo_fuzz_text(r->scope_name);
            lo_fuzz_text(r->event_name);
            lo_fuzz_text(r->env.service);
            lo_fuzz_json(r->attributes);
            lo_fuzz_json(r->resource);
        } else if (sig == LO_SIGNAL_SPANS) {
            lo_span_rec_t *r = &b.spans[i];
            lo_fuzz_text(r->name);
            lo_fuzz_text(r->trace_state);
            lo_fuzz_text(r->status_message);
            lo_fuzz_json(r->attributes);
            lo_fuzz_json(r->events);
            lo_fuzz_json(r->links);
            lo_fuzz_json(r->resource);
        } else {
            lo_sample_rec_t *r = &b.samples[i];
            if (r->time_ns == 0)
                abort();
            lo_fuzz_text(r->name);
            lo_fuzz_text(r->unit);
            lo_fuzz_text(r->description);
            lo_fuzz_json(r->labels);
            lo_fuzz_json(r->buckets);
            lo_fuzz_json(r->resource);
        }
    }
    if (rc == LO_OK)
        lo_fuzz_copy_rows(&b, sig);
    lo_otlp_batch_free(&b);
    lo_arena_destroy(a);
    return 0;
}

#endif
