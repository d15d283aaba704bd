/*
 * config.h — every setting lookout has, declared once in a table (config.c)
 * with its type, default, bounds and help.  Sources, lowest priority first:
 * built-in defaults, --config FILE (KEY=VALUE lines), LOOKOUT_* environment
 * variables, command-line flags (--database-url=... or --database-url ...).
 * Unknown LOOKOUT_* variables, unknown flags, out-of-range values, values
 * outside an entry's choices or failing its check, and settings that
 * conflict with each other are start-up errors.  Sensitive settings are
 * never printed or logged, nor quoted in those errors.
 */
#ifndef LO_CONFIG_H
#define LO_CONFIG_H

#include <stdio.h>

#include "core/lo.h"

typedef struct lo_config {
    char *database_url;
    char *otlp_addr;
    char *api_addr;
    int64_t http_threads;
    int64_t http_head_timeout_seconds;
    int64_t http_connections_per_ip;
    int64_t api_response_max_bytes;
    int64_t query_threads;
    int64_t query_queue_max;
    int64_t max_body_bytes;
    int64_t max_decompressed_bytes;
    int64_t max_attr_depth;
    int64_t batch_max_records;
    int64_t queue_max_bytes;
    int64_t queue_max_wait_ms;
    int64_t writers;
    int64_t retry_after_seconds;
    int64_t rate_limit_records;
    int64_t rate_limit_burst;
    char *redact_keys;
    char *redact_url_keys;
    char *redact_text_keys;
    int64_t redact_patterns;
    int64_t token_cache_seconds;
    int64_t token_lookups_per_second;
    int64_t session_cache_entries;
    int64_t session_cache_seconds;
    int64_t session_lend_project;
    int64_t partition_days_ahead;
    int64_t ingest_max_age_hours;
    int64_t logs_hot_hours;
    int64_t spans_hot_hours;
    int64_t metrics_hot_hours;
    int64_t shutdown_timeout_seconds;
    char *log_level;
    char *valkey_url;
    int64_t tail_max_clients;
    int64_t tail_max_per_token;
    int64_t tail_client_buffer_bytes;
    int64_t tail_queue_bytes;
    int64_t tail_token_check_seconds;
    int64_t alert_interval;
    int64_t alert_query_timeout_seconds;
    int64_t alert_resend_seconds;
    int64_t alert_notify_timeout_seconds;
    int64_t alert_notify_give_up_seconds;
    char *alert_clock_file;
    char *cold_url;
    int64_t rotate_interval;
    char *cold_codec;
    int64_t cold_row_group_rows;
    int64_t cold_cache_mb;
    int64_t cold_compact_files;
    int64_t retention_logs_days;
    int64_t retention_spans_days;
    int64_t retention_metrics_days;
    char *public_url;
    char *cors_origins;
} lo_config_t;

/* Fills c with the defaults.  Strings are heap copies (lo_config_free). */
int lo_config_defaults(lo_config_t *c) LO_MUST_USE;
void lo_config_free(lo_config_t *c);
/* Reads KEY=VALUE lines (LOOKOUT_ prefix optional; # comments). */
int lo_config_load_file(lo_config_t *c, const char *path, char *err, size_t errlen) LO_MUST_USE;
/* Applies every LOOKOUT_* variable of the environment. */
int lo_config_load_env(lo_config_t *c, char *err, size_t errlen) LO_MUST_USE;
/* Applies flags from argv[*argi]; stops at the first non-flag argument.
 * --config FILE is handled here too (file first, then env, then flags). */
int lo_config_load_args(lo_config_t *c, int argc, char **argv, int *argi, char *err,
                        size_t errlen) LO_MUST_USE;
/* Everything in order: defaults, --config, env, flags. */
int lo_config_load(lo_config_t *c, int argc, char **argv, int *argi, char *err, size_t errlen) LO_MUST_USE;
/* Sets one setting by its name ("database_url"); LO_INVALID with a message. */
int lo_config_set(lo_config_t *c, const char *name, const char *value, char *err, size_t errlen) LO_MUST_USE;
/* Prints the table: flag, variable, default, bounds, help. */
void lo_config_print_help(FILE *f);
/* Prints name=value of every setting in effect; sensitive ones (a
 * password may hide in them) as "[set, not shown]". */
void lo_config_print_effective(const lo_config_t *c, FILE *f);
/* True for settings that are never printed or logged (database_url, and
 * later S3 secrets and Valkey URLs). */
bool lo_config_sensitive(const char *name);

#endif
