/*
 * log.h — one line per event on stderr, logfmt:
 *   ts=2026-11-28T07:31:31.123Z level=info msg="listening" addr=127.0.0.1:4318
 * The caller formats the key=value tail; values with spaces must be quoted
 * by the caller (key="%s", with no quote inside).  Never pass tokens or
 * telemetry here.
 */
#ifndef LO_LOG_H
#define LO_LOG_H

#include "core/lo.h"

typedef enum { LO_LOG_DEBUG = 0, LO_LOG_INFO, LO_LOG_WARN, LO_LOG_ERROR } lo_log_level_t;

void lo_log_set_level(lo_log_level_t level);
/* Parses "debug|info|warn|error"; LO_INVALID otherwise. */
int lo_log_parse_level(const char *s, lo_log_level_t *out) LO_MUST_USE;
void lo_log(lo_log_level_t level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define lo_log_debug(msg, ...) lo_log(LO_LOG_DEBUG, msg, __VA_ARGS__)
#define lo_log_info(msg, ...)  lo_log(LO_LOG_INFO, msg, __VA_ARGS__)
#define lo_log_warn(msg, ...)  lo_log(LO_LOG_WARN, msg, __VA_ARGS__)
#define lo_log_error(msg, ...) lo_log(LO_LOG_ERROR, msg, __VA_ARGS__)

#endif
