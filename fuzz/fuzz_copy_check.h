/*
 * fuzz_copy_check.h — shared by the fuzz targets: every record a decoder
 * accepts is also encoded as a COPY row (ingest/copy.h), the way a batch
 * writer would, and the row is checked: one line, no NUL, exactly one field
 * per column of the table.  Worst-case size reservations, escaping and the
 * integer/time formatting of the encoders run under ASan/UBSan this way.
 */
#ifndef LO_FUZZ_COPY_CHECK_H
#define LO_FUZZ_COPY_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "ingest/copy.h"
#include "store/columns.h"
#include "otlp/otlp.h"

static size_t lo_fuzz_columns(const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    return n;
}

static void lo_fuzz_copy_rows(lo_otlp_batch_t *bt, lo_signal_t sig)
{
    static lo_copy_ctx_t ctx;
    static int ready;
    if (!ready) {
        lo_copy_ctx_init(&ctx);
        ready = 1;
    }
    const char *cols = lo_columns_list(sig);
    size_t want_tabs = lo_fuzz_columns(cols) - 1;
    lo_buf_t b;
    lo_buf_init(&b, 0);
    for (size_t i = 0; i < bt->n; i++) {
        lo_buf_reset(&b);
        if (sig == LO_SIGNAL_LOGS)
            lo_log_mint_id(&ctx, &bt->logs[i], 1796160000000);
        int rc = sig == LO_SIGNAL_LOGS    ? lo_copy_log_row(&ctx, &b, &bt->logs[i])
                 : sig == LO_SIGNAL_SPANS ? lo_copy_span_row(&ctx, &b, &bt->spans[i])
                                          : lo_copy_sample_row(&ctx, &b, &bt->samples[i], (int64_t)i + 1);
        if (rc != LO_OK)
            abort();
        if (b.len == 0 || b.p[b.len - 1] != '\n')
            abort();
        size_t tabs = 0;
        for (size_t k = 0; k + 1 < b.len; k++) {
            if (b.p[k] == '\n' || b.p[k] == '\r' || b.p[k] == '\0')
                abort();
            tabs += b.p[k] == '\t';
        }
        if (tabs != want_tabs)
            abort();
    }
    lo_buf_free(&b);
}

#endif
