/* columns.c — the column schemas of columns.h as tables and SQL lists. */
#include "store/columns.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COL_(E, n, r) { #n, r },
static const lo_column_t log_cols[] = { LO_LOG_COLUMNS(COL_) };
static const lo_column_t span_cols[] = { LO_SPAN_COLUMNS(COL_) };
static const lo_column_t sample_cols[] = { LO_SAMPLE_COLUMNS(COL_) };
#undef COL_

_Static_assert(LO_ARRAY_LEN(log_cols) == LO_LOG_NCOLS, "log columns");
_Static_assert(LO_ARRAY_LEN(span_cols) == LO_SPAN_NCOLS, "span columns");
_Static_assert(LO_ARRAY_LEN(sample_cols) == LO_SAMPLE_NCOLS, "sample columns");

const char *const lo_span_kind_names[] = { "unspecified", "internal", "server", "client",
                                           "producer",    "consumer", NULL };
const char *const lo_span_status_names[] = { "unset", "ok", "error", NULL };

const char *lo_level_alias(const char *p, size_t n)
{
    static const struct {
        const char *spelling, *level;
    } aliases[] = {
        { "trace", "trace" },  { "trc", "trace" },        { "finest", "trace" },       { "verbose", "trace" },
        { "debug", "debug" },  { "dbg", "debug" },        { "fine", "debug" },         { "finer", "debug" },
        { "info", "info" },    { "information", "info" }, { "informational", "info" }, { "notice", "info" },
        { "warn", "warn" },    { "warning", "warn" },     { "error", "error" },        { "err", "error" },
        { "severe", "error" }, { "fatal", "fatal" },      { "critical", "fatal" },     { "crit", "fatal" },
        { "emerg", "fatal" },  { "emergency", "fatal" },  { "alert", "fatal" },        { "panic", "fatal" },
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(aliases); i++)
        if (strlen(aliases[i].spelling) == n && strncasecmp(aliases[i].spelling, p, n) == 0)
            return aliases[i].level;
    return NULL;
}

const char *lo_span_kind_name(int64_t kind, char buf[24])
{
    if (kind >= 0 && kind <= 5)
        return lo_span_kind_names[kind];
    snprintf(buf, 24, "%lld", (long long)kind); /* a kind this version does not know */
    return buf;
}

const char *lo_span_status_name(int64_t code, char buf[24])
{
    if (code >= 0 && code <= 2)
        return lo_span_status_names[code];
    snprintf(buf, 24, "%lld", (long long)code);
    return buf;
}

static char lists[LO_SIGNAL_COUNT][1024], selects[LO_SIGNAL_COUNT][2048];
static pthread_once_t built = PTHREAD_ONCE_INIT;

const char *lo_columns_table(lo_signal_t s)
{
    return s == LO_SIGNAL_LOGS ? "log_entries" : s == LO_SIGNAL_SPANS ? "spans" : "metric_samples";
}

const lo_column_t *lo_columns(lo_signal_t s, size_t *n)
{
    switch (s) {
    case LO_SIGNAL_LOGS: *n = LO_ARRAY_LEN(log_cols); return log_cols;
    case LO_SIGNAL_SPANS: *n = LO_ARRAY_LEN(span_cols); return span_cols;
    default: *n = LO_ARRAY_LEN(sample_cols); return sample_cols;
    }
}

static void build(void)
{
    for (int s = 0; s < LO_SIGNAL_COUNT; s++) {
        size_t n, l = 0, k = 0;
        const lo_column_t *c = lo_columns((lo_signal_t)s, &n);
        for (size_t i = 0; i < n; i++) {
            const char *sep = i ? ", " : "";
            l += (size_t)snprintf(lists[s] + l, sizeof(lists[s]) - l, "%s%s", sep, c[i].name);
            if (c[i].read == LO_COL_TIME_US)
                k += (size_t)snprintf(selects[s] + k, sizeof(selects[s]) - k,
                                      "%s(extract(epoch FROM %s) * 1000000)::int8", sep, c[i].name);
            else if (c[i].read == LO_COL_HEX)
                k += (size_t)snprintf(selects[s] + k, sizeof(selects[s]) - k, "%sencode(%s, 'hex')", sep,
                                      c[i].name);
            else
                k += (size_t)snprintf(selects[s] + k, sizeof(selects[s]) - k, "%s%s", sep, c[i].name);
        }
    }
}

const char *lo_columns_list(lo_signal_t s)
{
    pthread_once(&built, build);
    return lists[(int)s >= 0 && s < LO_SIGNAL_COUNT ? s : 0];
}

const char *lo_columns_select(lo_signal_t s)
{
    pthread_once(&built, build);
    return selects[(int)s >= 0 && s < LO_SIGNAL_COUNT ? s : 0];
}
