/*
 * fuzz_pb_check.h — shared by the fuzz_pb_* targets: decode, then check that
 * every record of an accepted request keeps the invariants of otlp.h
 * (valid UTF-8 without NUL, JSON fields non-empty, time never 0).
 */
#ifndef LO_FUZZ_PB_CHECK_H
#define LO_FUZZ_PB_CHECK_H

#include <stdlib.h>

#include "core/utf8.h"
#include "fuzz_copy_check.h"
#include "otlp/otlp.h"

static void fuzz_str(lo_str_t s)
{
    if (s.len > 0 && (s.p == NULL || !lo_utf8_valid(s.p, s.len)))
        abort();
}

static void fuzz_json(lo_str_t s)
{
    if (s.len < 2)
        abort();
    fuzz_str(s);
}

static int fuzz_pb_one(lo_signal_t sig, const uint8_t *data, size_t size)
{
    static lo_redact_t *redact;
    if (redact == NULL) {
        /* keys, URLs and free text (redact.h) */
        lo_redact_conf_t c = { .keys = "password,authorization,token,x-api-key",
                               .url_keys = "url.full,http.url",
                               .text_keys = "exception.message",
                               .patterns = true };
        redact = lo_redact_new(&c);
    }
    lo_arena_t *a = lo_arena_create(16 * 1024, 64 << 20);
    if (a == NULL)
        return 0;
    lo_otlp_batch_t b;
    lo_otlp_batch_init(&b, sig, a);
    lo_decode_opts_t o = { .max_depth = 32, .receive_ns = 1, .redact = redact };
    int rc = lo_otlp_pb_decode(sig, data, size, &o, &b);
    if (rc == LO_OK) {
        for (size_t i = 0; i < b.n; i++) {
            if (sig == LO_SIGNAL_LOGS) {
                const lo_log_rec_t *r = &b.logs[i];
                if (r->time_ns == 0)
                    abort();
                fuzz_str(r->message);
                fuzz_str(r->severity_text);
                fuzz_str(r->level);
                fuzz_str(r->event_name);
                fuzz_str(r->scope_name);
                fuzz_str(r->env.service);
                fuzz_json(r->attributes);
                fuzz_json(r->resource);
            } else if (sig == LO_SIGNAL_SPANS) {
                const lo_span_rec_t *r = &b.spans[i];
                fuzz_str(r->name);
                fuzz_str(r->trace_state);
                fuzz_str(r->status_message);
                fuzz_json(r->attributes);
                fuzz_json(r->events);
                fuzz_json(r->links);
                fuzz_json(r->resource);
                /* unknown kinds and codes are kept, within the smallint columns */
                if (r->kind < 0 || r->kind > INT16_MAX || r->status_code < 0 || r->status_code > INT16_MAX)
                    abort();
                /* a span without its ids is flagged for admission to refuse */
                if ((!r->env.has_trace_id || !r->env.has_span_id) && r->env.malformed == NULL)
                    abort();
            } else {
                const lo_sample_rec_t *r = &b.samples[i];
                if (r->time_ns == 0)
                    abort();
                fuzz_str(r->name);
                fuzz_str(r->unit);
                fuzz_str(r->description);
                fuzz_json(r->labels);
                fuzz_json(r->resource);
                if (r->type != LO_METRIC_GAUGE && r->type != LO_METRIC_SUM)
                    fuzz_json(r->buckets);
            }
        }
        lo_fuzz_copy_rows(&b, sig);
    } else if (rc == LO_INVALID) {
        if (b.error[0] == '\0')
            abort();
    } else if (rc != LO_ERROR) {
        abort();
    }
    lo_otlp_batch_free(&b);
    lo_arena_destroy(a);
    return 0;
}

#endif
