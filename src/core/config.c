#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>

extern char **environ;

typedef enum { CFG_STR, CFG_INT, CFG_SIZE, CFG_ENUM } cfg_type_t;

#define CFG_SENSITIVE 0x1u /* never printed or logged: may hold a password or a secret */

/* A check of one value beyond its type and bounds: LO_OK, or LO_INVALID
 * with err set (which must not quote a sensitive value). */
typedef int (*cfg_check_fn)(const char *name, const char *v, char *err, size_t errlen);

typedef struct {
    const char *name; /* snake_case; env is LOOKOUT_ + upper, flag is --kebab-case */
    cfg_type_t type;
    size_t offset;
    const char *def;
    int64_t min, max;
    const char *help;
    unsigned flags;
    const char *const *choices; /* CFG_ENUM: the accepted values, NULL-terminated */
    cfg_check_fn check;
} cfg_entry_t;

static const char *const LOG_LEVELS[] = { "debug", "info", "warn", "error", NULL };
static const char *const COLD_CODECS[] = { "snappy", "zstd", NULL };

/* host:port, [v6]:port or :port, the port a number 0..65535 (the address
 * itself is resolved when the listener starts). */
static int check_addr(const char *name, const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');
    bool ok = colon != NULL && colon[1] != '\0' && strlen(colon + 1) <= 5;
    for (const char *p = colon ? colon + 1 : ""; ok && *p != '\0'; p++)
        ok = *p >= '0' && *p <= '9';
    if (ok && atoi(colon + 1) > 65535)
        ok = false;
    if (ok && v[0] == '[' && (colon == v || colon[-1] != ']'))
        ok = false;
    if (!ok) {
        snprintf(err, errlen, "%s: \"%.200s\" is not host:port (like 127.0.0.1:4318, [::1]:4318 or :4318)",
                 name, v);
        return LO_INVALID;
    }
    return LO_OK;
}

/* Empty, or redis://[[user]:password@]host[:port][/db]: checked here so a
 * typo fails at start-up rather than as endless reconnects (docs/tail.md).
 * The message never quotes the value (it may hold a password). */
static int check_valkey_url(const char *name, const char *v, char *err, size_t errlen)
{
    if (v[0] == '\0')
        return LO_OK;
    if (strncmp(v, "redis://", 8) != 0 || v[8] == '\0' || v[8] == '/' || strlen(v) > 1024) {
        snprintf(err, errlen, "%s must be redis://[:password@]host[:port][/db] (or empty)", name);
        return LO_INVALID;
    }
    return LO_OK;
}

static int check_public_url(const char *name, const char *v, char *err, size_t errlen)
{
    bool scheme = strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
    bool clean = strlen(v) <= 512;
    for (const char *p = v; *p && clean; p++)
        clean = (unsigned char)*p > 0x20 && *p != 0x7f && *p != '"' && *p != '\\';
    if (v[0] != '\0' && (!scheme || !clean)) {
        snprintf(err, errlen, "%s must be an http:// or https:// URL without spaces (or empty)", name);
        return LO_INVALID;
    }
    return LO_OK;
}

static int check_origins(const char *name, const char *v, char *err, size_t errlen)
{
    bool ok = strlen(v) <= 4096;
    for (const char *p = v; *p && ok; p++)
        ok = (unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\';
    if (!ok) {
        snprintf(err, errlen, "%s must be origins (scheme://host[:port]) separated by commas, or *", name);
        return LO_INVALID;
    }
    return LO_OK;
}

static int check_nonempty(const char *name, const char *v, char *err, size_t errlen)
{
    if (v[0] == '\0') {
        snprintf(err, errlen, "%s must not be empty", name);
        return LO_INVALID;
    }
    return LO_OK;
}

#define KiB  (1024LL)
#define MiB  (1024LL * 1024)
#define GiB  (1024LL * 1024 * 1024)
#define F(f) offsetof(lo_config_t, f)

/* Entries name flags, choices and a check only when they have them: the
 * fields left out are zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const cfg_entry_t table[] = {
    { "database_url", CFG_STR, F(database_url), "postgresql:///lookout", 0, 0,
      "PostgreSQL connection string (libpq conninfo or URI); may hold a password, so never printed",
      CFG_SENSITIVE, NULL, check_nonempty },
    { "otlp_addr", CFG_STR, F(otlp_addr), "127.0.0.1:4318", 0, 0, "OTLP/HTTP listener, host:port", 0, NULL,
      check_addr },
    { "api_addr", CFG_STR, F(api_addr), "127.0.0.1:8080", 0, 0,
      "API listener (query API, /healthz, /readyz, /metrics), host:port", 0, NULL, check_addr },
    { "http_threads", CFG_INT, F(http_threads), "2", 1, 64, "HTTP worker threads per listener" },
    { "http_head_timeout_seconds", CFG_INT, F(http_head_timeout_seconds), "5", 1, 300,
      "a request head (request line and headers) must arrive within this many seconds of the connection's "
      "start, or of the keep-alive idle time after the previous request; slower connections are closed" },
    { "http_connections_per_ip", CFG_INT, F(http_connections_per_ip), "256", 0, 1000000,
      "open connections one client address may hold on each listener; 0 = no limit" },
    { "api_response_max_bytes", CFG_SIZE, F(api_response_max_bytes), "32M", 64 * KiB, 1 * GiB,
      "largest API answer; a larger one is refused (400 response_too_large: lower limit or narrow the "
      "query)" },
    { "query_threads", CFG_INT, F(query_threads), "4", 1, 64,
      "threads (and database connections) running API queries, apart from the HTTP threads" },
    { "query_queue_max", CFG_INT, F(query_queue_max), "64", 1, 100000,
      "API queries waiting for a query thread; past it requests get 429" },
    { "max_body_bytes", CFG_SIZE, F(max_body_bytes), "16M", 1 * KiB, 1 * GiB,
      "largest request body accepted as sent (compressed); larger gets 413" },
    { "max_decompressed_bytes", CFG_SIZE, F(max_decompressed_bytes), "64M", 1 * KiB, 4 * GiB,
      "largest request body after decompression; larger gets 413" },
    { "max_attr_depth", CFG_INT, F(max_attr_depth), "32", 1, 128,
      "deepest nesting of AnyValue arrays/kvlists accepted; deeper gets 400" },
    { "batch_max_records", CFG_INT, F(batch_max_records), "20000", 1, 1000000,
      "most records a writer commits in one transaction (batches hold ~250 ms of its commit rate, "
      "at least 2000 records, at most this)" },
    { "queue_max_bytes", CFG_SIZE, F(queue_max_bytes), "128M", 1 * MiB, 16 * GiB,
      "bytes of decoded requests buffered per signal; past it requests get 429" },
    { "queue_max_wait_ms", CFG_INT, F(queue_max_wait_ms), "1000", 10, 60000,
      "longest a request may wait in a signal's queue: new ones get 429 when what is queued would take "
      "longer to commit (at the measured rate) or the oldest has waited this long" },
    { "writers", CFG_INT, F(writers), "2", 1, 32, "parallel COPY writers (database connections) per signal" },
    { "retry_after_seconds", CFG_INT, F(retry_after_seconds), "1", 1, 3600,
      "Retry-After sent with 429 and 503" },
    { "rate_limit_records", CFG_INT, F(rate_limit_records), "0", 0, 1000000000,
      "records per second each project may ingest (token bucket); 0 = unlimited" },
    { "rate_limit_burst", CFG_INT, F(rate_limit_burst), "0", 0, 1000000000,
      "token bucket size for rate_limit_records; 0 = one second of rate" },
    { "redact_keys", CFG_STR, F(redact_keys),
      "authorization,cookie,set-cookie,password,passwd,secret,token,api_key,apikey,x-api-key,private_key,"
      "privatekey,credentials,passphrase,jwt",
      0, 0,
      "attribute keys whose values are stored as \"[REDACTED]\": an entry matches a run of a key's segments "
      "(split at . - _ / : space and camelCase, any case: db.password, clientSecret, x-auth-token), except "
      "when a qualifier follows (token_count, secret.name); the same words mark secrets in URLs and free "
      "text "
      "(docs/auth.md)" },
    { "redact_url_keys", CFG_STR, F(redact_url_keys),
      "url.full,url.original,url.query,http.url,http.target,db.connection_string,http.request.header.referer,"
      "http.response.header.location",
      0, 0,
      "attribute keys whose string values are URLs or connection strings: userinfo and the values of "
      "sensitive or signature-like parameters are stored as [REDACTED] (empty: none)" },
    { "redact_text_keys", CFG_STR, F(redact_text_keys),
      "exception.message,exception.stacktrace,log.record.original", 0, 0,
      "attribute keys whose string values are scrubbed as free text, as log bodies are (empty: none)" },
    { "redact_patterns", CFG_INT, F(redact_patterns), "1", 0, 1,
      "1: scrub free text (log bodies, span status messages, redact_text_keys): Bearer tokens, "
      "password=... / token: ... values and URL userinfo become [REDACTED]; 0: off" },
    { "token_lookups_per_second", CFG_INT, F(token_lookups_per_second), "200", 1, 1000000,
      "database look-ups of tokens the cache does not know, per second at most; past it such requests get "
      "429 (a flood of random tokens cannot load the database)" },
    { "token_cache_seconds", CFG_INT, F(token_cache_seconds), "10", 0, 3600,
      "how long a token check is remembered (revocation takes at most this long)" },
    { "session_cache_entries", CFG_INT, F(session_cache_entries), "100000", 16, 100000000,
      "agent session mappings kept in memory" },
    { "session_cache_seconds", CFG_INT, F(session_cache_seconds), "300", 1, 86400,
      "how long a cached agent session mapping is trusted" },
    { "session_lend_project", CFG_INT, F(session_lend_project), "0", 0, 1,
      "1: a record with a session id and no project (sent with an unbound token) takes the project and "
      "user of that session's mapping; 0: it is stored without them (docs/auth.md)" },
    { "partition_days_ahead", CFG_INT, F(partition_days_ahead), "2", 1, 60,
      "daily partitions created ahead of today" },
    { "ingest_max_age_hours", CFG_INT, F(ingest_max_age_hours), "168", 1, 8760,
      "records older than this (or more than a day in the future) are rejected" },
    { "logs_hot_hours", CFG_INT, F(logs_hot_hours), "48", 1, 8760, "hot window for logs" },
    { "spans_hot_hours", CFG_INT, F(spans_hot_hours), "48", 1, 8760, "hot window for spans" },
    { "metrics_hot_hours", CFG_INT, F(metrics_hot_hours), "1", 1, 8760, "hot window for metric samples" },
    { "shutdown_timeout_seconds", CFG_INT, F(shutdown_timeout_seconds), "30", 1, 3600,
      "longest a graceful shutdown waits for buffered records to commit" },
    { "log_level", CFG_ENUM, F(log_level), "info", 0, 0, "least severe log lines written", 0, LOG_LEVELS,
      NULL },
    { "valkey_url", CFG_STR, F(valkey_url), "", 0, 0,
      "Valkey (or Redis) for the live tail across nodes, redis://[:password@]host:port[/db]; empty: the tail "
      "reaches clients of this process only; may hold a password, so never printed",
      CFG_SENSITIVE, NULL, check_valkey_url },
    { "tail_max_clients", CFG_INT, F(tail_max_clients), "1000", 0, 100000,
      "open live tails in this process at most; past it a new tail gets 429 (0: the tail is off)" },
    { "tail_max_per_token", CFG_INT, F(tail_max_per_token), "20", 1, 100000,
      "open live tails per token at most" },
    { "tail_client_buffer_bytes", CFG_SIZE, F(tail_client_buffer_bytes), "1M", 16 * KiB, 1 * GiB,
      "bytes queued for one tail client; past it the client gets gap messages, and is closed when it stays "
      "behind for 10 s" },
    { "tail_queue_bytes", CFG_SIZE, F(tail_queue_bytes), "16M", 64 * KiB, 4 * GiB,
      "committed log entries waiting to be published to tails; past it entries are dropped for the tail "
      "only (never for storage) and tails are told with a gap message" },
    { "tail_token_check_seconds", CFG_INT, F(tail_token_check_seconds), "30", 1, 3600,
      "how often the tokens of open tails are checked again: a revoked token's tails close within this (plus "
      "up to 5 s)" },
    { "alert_interval", CFG_INT, F(alert_interval), "30", 1, 3600,
      "seconds between evaluations of the alert rules (one node evaluates at a time)" },
    { "alert_query_timeout_seconds", CFG_INT, F(alert_query_timeout_seconds), "10", 1, 300,
      "longest one alert rule's query may run; a slower one is recorded as the rule's last_error" },
    { "alert_resend_seconds", CFG_INT, F(alert_resend_seconds), "60", 10, 86400,
      "how often a firing alert is sent to Alertmanager again (it resolves alerts it stops hearing about)" },
    { "alert_notify_timeout_seconds", CFG_INT, F(alert_notify_timeout_seconds), "10", 1, 120,
      "longest one notification request may take before it counts as failed and is retried" },
    { "alert_notify_give_up_seconds", CFG_INT, F(alert_notify_give_up_seconds), "3600", 1, 7 * 86400,
      "a notification still not delivered this long after its transition is given up (recorded as failed)" },
    { "alert_clock_file", CFG_STR, F(alert_clock_file), "", 0, 0,
      "for tests: a file holding a number of seconds that the alert evaluator adds to the database's clock, "
      "read at every evaluation, so a test moves time forward without waiting (docs/alerts.md); empty: "
      "none" },
    { "cold_url", CFG_STR, F(cold_url), "", 0, 0,
      "where rotation puts Parquet files of rows older than their hot window: file:///abs/dir or "
      "s3://bucket[/prefix]?endpoint=...&region=... (credentials from AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY); empty: no cold tier, rows stay in PostgreSQL (docs/cold-store.md)" },
    { "rotate_interval", CFG_INT, F(rotate_interval), "900", 10, 86400,
      "seconds between rotations to the cold tier (one node rotates at a time)" },
    { "cold_codec", CFG_ENUM, F(cold_codec), "snappy", 0, 0, "compression of the cold tier's Parquet pages",
      0, COLD_CODECS, NULL },
    { "cold_row_group_rows", CFG_INT, F(cold_row_group_rows), "131072", 1024, 1048576,
      "rows per Parquet row group in the cold tier (the unit a reader skips by its statistics)" },
    { "cold_compact_files", CFG_INT, F(cold_compact_files), "12", 2, 10000,
      "a day's cold files of one signal are merged into one once there are this many (and they hold at most "
      "256 MiB together)" },
    { "cold_cache_mb", CFG_INT, F(cold_cache_mb), "256", 0, 65536,
      "memory for recently read parts of cold objects (footers, bloom filters, column chunks), shared by "
      "the query threads; 0: no cache" },
    { "retention_logs_days", CFG_INT, F(retention_logs_days), "0", 0, 36500,
      "cold log files whose newest row is older than this many days are deleted; 0: kept" },
    { "retention_spans_days", CFG_INT, F(retention_spans_days), "0", 0, 36500,
      "cold span files whose newest row is older than this many days are deleted; 0: kept" },
    { "retention_metrics_days", CFG_INT, F(retention_metrics_days), "0", 0, 36500,
      "cold metric files whose newest row is older than this many days are deleted; 0: kept" },
    { "public_url", CFG_STR, F(public_url), "", 0, 0,
      "the API's address as users reach it (http://host:port), for links in alert notifications; empty: "
      "http:// and api_addr",
      0, NULL, check_public_url },
    { "cors_origins", CFG_STR, F(cors_origins), "", 0, 0,
      "browser origins allowed to call the API from other sites, comma-separated (https://app.example.com), "
      "or "
      "*; empty: none (the built-in pages need none)",
      0, NULL, check_origins },
};
#pragma GCC diagnostic pop

static const cfg_entry_t *find(const char *name)
{
    for (size_t i = 0; i < LO_ARRAY_LEN(table); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

static int parse_int(const cfg_entry_t *e, const char *v, int64_t *out, char *err, size_t errlen)
{
    errno = 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || errno != 0) {
        snprintf(err, errlen, "%s: \"%s\" is not a number", e->name, v);
        return LO_INVALID;
    }
    long long mult = 1;
    if (e->type == CFG_SIZE && *end != '\0') {
        switch (toupper((unsigned char)*end)) {
        case 'K': mult = KiB; break;
        case 'M': mult = MiB; break;
        case 'G': mult = GiB; break;
        default: mult = 0;
        }
        end++;
        if (*end == 'i' || *end == 'B')
            end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    }
    if (*end != '\0' || mult == 0) {
        snprintf(err, errlen, "%s: \"%s\" is not a %s", e->name, v,
                 e->type == CFG_SIZE ? "size (like 16M)" : "whole number");
        return LO_INVALID;
    }
    if (n > INT64_MAX / mult || n < INT64_MIN / mult) {
        snprintf(err, errlen, "%s: \"%s\" is out of range", e->name, v);
        return LO_INVALID;
    }
    n *= mult;
    if (n < e->min || n > e->max) {
        snprintf(err, errlen, "%s: %lld is out of range [%" PRId64 ", %" PRId64 "]", e->name, n, e->min,
                 e->max);
        return LO_INVALID;
    }
    *out = n;
    return LO_OK;
}

static int apply(lo_config_t *c, const cfg_entry_t *e, const char *v, char *err, size_t errlen)
{
    char *base = (char *)c;
    if (e->type == CFG_INT || e->type == CFG_SIZE)
        return parse_int(e, v, (int64_t *)(base + e->offset), err, errlen);
    if (strlen(v) > 4096) {
        snprintf(err, errlen, "%s: value longer than 4096 bytes", e->name);
        return LO_INVALID;
    }
    if (e->type == CFG_ENUM) {
        size_t i = 0;
        while (e->choices[i] != NULL && strcmp(e->choices[i], v) != 0)
            i++;
        if (e->choices[i] == NULL) {
            int n = snprintf(err, errlen, "%s: \"%.100s\" is not one of", e->name, v);
            for (size_t k = 0; e->choices[k] != NULL && n > 0 && (size_t)n < errlen; k++)
                n += snprintf(err + n, errlen - (size_t)n, " %s", e->choices[k]);
            return LO_INVALID;
        }
    }
    if (e->check != NULL) {
        int rc = e->check(e->name, v, err, errlen);
        if (rc != LO_OK) {
            if (e->flags & CFG_SENSITIVE) /* whatever the check said, quote nothing */
                snprintf(err, errlen, "%s: the value given is not valid", e->name);
            return rc;
        }
    }
    char *copy = strdup(v);
    if (copy == NULL) {
        snprintf(err, errlen, "out of memory");
        return LO_ERROR;
    }
    char **slot = (char **)(base + e->offset);
    free(*slot);
    *slot = copy;
    return LO_OK;
}

bool lo_config_sensitive(const char *name)
{
    const cfg_entry_t *e = find(name);
    return e != NULL && (e->flags & CFG_SENSITIVE) != 0;
}

/* Settings that are valid alone but not together. */
static int check_together(const lo_config_t *c, char *err, size_t errlen)
{
    if (c->rate_limit_burst > 0 && c->rate_limit_records == 0) {
        snprintf(err, errlen, "rate_limit_burst is set but rate_limit_records is 0 (unlimited): set both");
        return LO_INVALID;
    }
    if (strcmp(c->otlp_addr, c->api_addr) == 0 &&
        strcmp(c->otlp_addr + strlen(c->otlp_addr) - 2, ":0") != 0) {
        snprintf(err, errlen, "otlp_addr and api_addr are the same address (%.200s)", c->otlp_addr);
        return LO_INVALID;
    }
    return LO_OK;
}

void lo_config_print_effective(const lo_config_t *c, FILE *f)
{
    const char *base = (const char *)c;
    for (size_t i = 0; i < LO_ARRAY_LEN(table); i++) {
        const cfg_entry_t *e = &table[i];
        fprintf(f, "%s=", e->name);
        if (e->flags & CFG_SENSITIVE)
            fputs("[set, not shown]", f);
        else if (e->type == CFG_STR || e->type == CFG_ENUM)
            fputs(*(char *const *)(base + e->offset), f);
        else
            fprintf(f, "%" PRId64, *(const int64_t *)(base + e->offset));
        fputc('\n', f);
    }
}

int lo_config_set(lo_config_t *c, const char *name, const char *value, char *err, size_t errlen)
{
    const cfg_entry_t *e = find(name);
    if (e == NULL) {
        snprintf(err, errlen, "unknown setting \"%s\" (see lookout serve --help)", name);
        return LO_INVALID;
    }
    return apply(c, e, value, err, errlen);
}

int lo_config_defaults(lo_config_t *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < LO_ARRAY_LEN(table); i++)
        if (apply(c, &table[i], table[i].def, err, sizeof(err)) != LO_OK)
            return LO_ERROR;
    return LO_OK;
}

void lo_config_free(lo_config_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < LO_ARRAY_LEN(table); i++) {
        if (table[i].type == CFG_STR || table[i].type == CFG_ENUM) {
            char **slot = (char **)((char *)c + table[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
}

/* "LOOKOUT_DATABASE_URL" or "DATABASE_URL" -> "database_url" */
static void name_from_env(const char *key, size_t n, char *out, size_t outlen)
{
    if (n >= 8 && strncmp(key, "LOOKOUT_", 8) == 0) {
        key += 8;
        n -= 8;
    }
    size_t i = 0;
    for (; i < n && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)key[i]);
    out[i] = '\0';
}

int lo_config_load_file(lo_config_t *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return LO_INVALID;
    }
    char line[8192];
    int lineno = 0, rc = LO_OK;
    while (rc == LO_OK && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%d: expected KEY=VALUE", path, lineno);
            rc = LO_INVALID;
            break;
        }
        char name[128];
        name_from_env(s, (size_t)(eq - s), name, sizeof(name));
        char sub[200];
        rc = lo_config_set(c, name, eq + 1, sub, sizeof(sub));
        if (rc != LO_OK)
            snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
    }
    fclose(f);
    return rc;
}

int lo_config_load_env(lo_config_t *c, char *err, size_t errlen)
{
    for (char **e = environ; *e != NULL; e++) {
        if (strncmp(*e, "LOOKOUT_", 8) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (eq == NULL)
            continue;
        char name[128];
        name_from_env(*e, (size_t)(eq - *e), name, sizeof(name));
        char sub[200];
        int rc = lo_config_set(c, name, eq + 1, sub, sizeof(sub));
        if (rc != LO_OK) {
            snprintf(err, errlen, "environment %.*s: %s", (int)(eq - *e), *e, sub);
            return rc;
        }
    }
    return LO_OK;
}

/* "--database-url" -> "database_url"; 0 if not a long flag */
static int name_from_flag(const char *arg, size_t n, char *out, size_t outlen)
{
    if (n < 3 || arg[0] != '-' || arg[1] != '-' || n - 2 >= outlen)
        return 0;
    for (size_t i = 2; i < n; i++)
        out[i - 2] = arg[i] == '-' ? '_' : arg[i];
    out[n - 2] = '\0';
    return 1;
}

int lo_config_load_args(lo_config_t *c, int argc, char **argv, int *argi, char *err, size_t errlen)
{
    while (*argi < argc) {
        const char *arg = argv[*argi];
        if (arg[0] != '-' || arg[1] != '-' || arg[2] == '\0')
            break;
        const char *eq = strchr(arg, '=');
        size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
        char name[128];
        if (!name_from_flag(arg, n, name, sizeof(name)) ||
            (find(name) == NULL && strcmp(name, "config") != 0)) {
            snprintf(err, errlen, "unknown flag %.*s (see --help)", (int)n, arg);
            return LO_INVALID;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL) {
            if (*argi + 1 >= argc) {
                snprintf(err, errlen, "flag %s needs a value", arg);
                return LO_INVALID;
            }
            value = argv[++*argi];
        }
        (*argi)++;
        if (strcmp(name, "config") == 0)
            continue; /* read first by lo_config_load */
        char sub[200];
        int rc = lo_config_set(c, name, value, sub, sizeof(sub));
        if (rc != LO_OK) {
            snprintf(err, errlen, "flag --%.*s: %s", (int)n - 2, arg + 2, sub);
            return rc;
        }
    }
    return LO_OK;
}

int lo_config_load(lo_config_t *c, int argc, char **argv, int *argi, char *err, size_t errlen)
{
    int rc = lo_config_defaults(c);
    if (rc != LO_OK) {
        snprintf(err, errlen, "out of memory");
        return rc;
    }
    /* --config FILE is the lowest explicit source: find it before the rest */
    for (int i = *argi; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--config=", 9) == 0 || (strcmp(a, "--config") == 0 && i + 1 < argc)) {
            const char *path = a[8] == '=' ? a + 9 : argv[i + 1];
            rc = lo_config_load_file(c, path, err, errlen);
            if (rc != LO_OK)
                return rc;
        }
    }
    rc = lo_config_load_env(c, err, errlen);
    if (rc != LO_OK)
        return rc;
    rc = lo_config_load_args(c, argc, argv, argi, err, errlen);
    if (rc != LO_OK)
        return rc;
    return check_together(c, err, errlen);
}

void lo_config_print_help(FILE *f)
{
    fprintf(f, "Settings (flag / environment variable, default, range):\n");
    for (size_t i = 0; i < LO_ARRAY_LEN(table); i++) {
        const cfg_entry_t *e = &table[i];
        char flag[128], env[128];
        size_t j;
        for (j = 0; e->name[j] && j + 1 < sizeof(flag); j++)
            flag[j] = e->name[j] == '_' ? '-' : e->name[j];
        flag[j] = '\0';
        for (j = 0; e->name[j] && j + 1 < sizeof(env); j++)
            env[j] = (char)toupper((unsigned char)e->name[j]);
        env[j] = '\0';
        fprintf(f, "  --%s / LOOKOUT_%s\n      %s\n      default: %s", flag, env, e->help, e->def);
        if (e->type == CFG_ENUM) {
            fputs("  range:", f);
            for (size_t k = 0; e->choices[k] != NULL; k++)
                fprintf(f, "%s %s", k ? "," : "", e->choices[k]);
        } else if (e->type != CFG_STR)
            fprintf(f, "  range: %" PRId64 "..%" PRId64 "%s", e->min, e->max,
                    e->type == CFG_SIZE ? " bytes (K/M/G suffixes)" : "");
        fputc('\n', f);
    }
    fprintf(
        f, "  --config FILE\n      KEY=VALUE lines with the same names; environment and flags override it\n");
}
