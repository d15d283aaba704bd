#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static lo_log_level_t min_level = LO_LOG_INFO;
static const char *const names[] = { "debug", "info", "warn", "error" };

void lo_log_set_level(lo_log_level_t level)
{
    min_level = level;
}

int lo_log_parse_level(const char *s, lo_log_level_t *out)
{
    for (size_t i = 0; i < LO_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (lo_log_level_t)i;
            return LO_OK;
        }
    }
    return LO_INVALID;
}

void lo_log(lo_log_level_t level, const char *msg, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=\"%s\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[level], msg);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(line) - 2 && fmt != NULL && fmt[0] != '\0') {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    /* one write per line so lines from several threads do not interleave */
    fwrite(line, 1, (size_t)n, stderr);
}
