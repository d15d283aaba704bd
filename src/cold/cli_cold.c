/*
 * cli_cold.c — lookout rotate and lookout cold ls (docs/cold-store.md).
 *
 * Their own flags mix with the settings flags of lo_config_load, in any
 * order.  Exit codes: 0 done, 1 failed, 2 usage, 3 another process is
 * rotating.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "cli.h"
#include "cold/rotate.h"
#include "core/config.h"
#include "core/log.h"
#include "store/locks.h"
#include "store/retention.h"
#include "store/store.h"

#define USAGE_ROTATE                                                                                   \
    "usage: lookout rotate [--signal logs|spans|metrics]... [--older-than DURATION] [--dry-run] "      \
    "[settings]\n"                                                                                     \
    "Runs one rotation to the cold tier now (LOOKOUT_COLD_URL) and prints what moved.\n"               \
    "--older-than moves rows older than DURATION (30m, 6h, 2d) instead of each signal's hot window.\n" \
    "--dry-run says what would move and changes nothing.\n"
#define USAGE_COLD                                                                                     \
    "usage: lookout cold ls [--signal logs|spans|metrics] [settings]\n"                                \
    "Lists the cold tier's catalog: one line per file (signal, first and last row time, rows, bytes, " \
    "key).\n"

typedef struct {
    unsigned signals;
    int64_t older_than_us;
    bool dry_run;
    lo_config_t cfg;
} cold_opts_t;

/* "90s", "30m", "6h", "2d" in microseconds; -1 when malformed. */
static int64_t duration_us(const char *s)
{
    errno = 0;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s || errno != 0 || n <= 0 || n > 100000 || end[0] == '\0' || end[1] != '\0')
        return -1;
    switch (end[0]) {
    case 's': return n * 1000000LL;
    case 'm': return n * 60 * 1000000LL;
    case 'h': return n * 3600 * 1000000LL;
    case 'd': return n * 86400 * 1000000LL;
    default: return -1;
    }
}

static int parse_signal(const char *v, unsigned *bits)
{
    for (int s = 0; s < LO_SIGNAL_COUNT; s++)
        if (strcmp(v, lo_signal_name((lo_signal_t)s)) == 0) {
            *bits |= 1u << s;
            return LO_OK;
        }
    return LO_INVALID;
}

/* Splits argv into the command's flags (durations allowed or not) and the
 * settings.  0, or the exit code after printing the problem (-1: --help). */
static int parse(const char *cmd, int argc, char **argv, bool rotate, const char *usage, cold_opts_t *o)
{
    char err[512];
    char **cfg_argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!cfg_argv) {
        fprintf(stderr, "lookout %s: out of memory\n", cmd);
        return 1;
    }
    int ncfg = 0, rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            rc = -1;
        } else if (strcmp(a, "--signal") == 0) {
            if (!v || parse_signal(v, &o->signals) != LO_OK) {
                fprintf(stderr, "lookout %s: --signal takes logs, spans or metrics\n%s", cmd, usage);
                rc = 2;
            }
            i++;
        } else if (rotate && strcmp(a, "--older-than") == 0) {
            if (!v || (o->older_than_us = duration_us(v)) < 0) {
                fprintf(stderr, "lookout %s: --older-than takes a duration like 30m, 6h or 2d\n%s", cmd,
                        usage);
                rc = 2;
            }
            i++;
        } else if (rotate && strcmp(a, "--dry-run") == 0) {
            o->dry_run = true;
        } else if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
            cfg_argv[ncfg++] = argv[i]; /* a setting: lo_config_load judges it */
            if (!strchr(a, '=') && i + 1 < argc)
                cfg_argv[ncfg++] = argv[++i];
        } else {
            fprintf(stderr, "lookout %s: unexpected argument \"%s\"\n%s", cmd, a, usage);
            rc = 2;
        }
    }
    int argi = 0;
    if (rc == 0 && lo_config_load(&o->cfg, ncfg, cfg_argv, &argi, err, sizeof err) != LO_OK) {
        fprintf(stderr, "lookout %s: %s\n", cmd, err);
        rc = 2;
    }
    free(cfg_argv);
    return rc;
}

static void print_line(void *ud, const char *line)
{
    (void)ud;
    printf("%s\n", line);
    fflush(stdout);
}

int lo_cmd_rotate(int argc, char **argv)
{
    cold_opts_t o = { 0 };
    int status = parse("rotate", argc, argv, true, USAGE_ROTATE, &o);
    if (status != 0) {
        lo_config_free(&o.cfg);
        return status < 0 ? 0 : status;
    }
    char err[512];
    status = 1;
    lo_retention_t ret;
    lo_rotate_t *r = NULL;
    PGconn *db = NULL;
    lo_log_level_t level;
    if (lo_log_parse_level(o.cfg.log_level, &level) == LO_OK)
        lo_log_set_level(level);
    if (lo_retention_init(&ret, &o.cfg, err, sizeof err) != LO_OK) {
        fprintf(stderr, "lookout rotate: %s\n", err);
        status = 2;
        goto done;
    }
    if (!(r = lo_rotate_create(&o.cfg, &ret, err, sizeof err))) {
        fprintf(stderr, "lookout rotate: %s\n",
                err[0] ? err : "no cold tier: set LOOKOUT_COLD_URL (file:///dir or s3://bucket/prefix)");
        status = 2;
        goto done;
    }
    if (!(db = lo_store_connect(o.cfg.database_url, err, sizeof err))) {
        fprintf(stderr, "lookout rotate: cannot connect: %s\n", err);
        goto done;
    }
    /* the rotate task's election lock: one rotation at a time across nodes */
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)LO_LOCK_TASK_ROTATE);
    PGresult *res = PQexecParams(db, "SELECT pg_try_advisory_lock($1::int8)", 1, NULL,
                                 (const char *[]){ key }, NULL, NULL, 0);
    bool got = PQresultStatus(res) == PGRES_TUPLES_OK && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!got) {
        fprintf(stderr, "lookout rotate: another process is rotating now; try again later\n");
        status = 3;
        goto done;
    }
    lo_rotate_opts_t ro = { o.signals, o.older_than_us, o.dry_run, print_line, NULL };
    if (lo_rotate_run(r, db, &ro, err, sizeof err) != LO_OK) {
        fprintf(stderr, "lookout rotate: %s\n", err);
        goto done;
    }
    status = 0;
done:
    if (db)
        PQfinish(db);
    lo_rotate_destroy(r);
    lo_config_free(&o.cfg);
    return status;
}

int lo_cmd_cold(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "ls") != 0) {
        if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
            fputs(USAGE_COLD, stdout);
            return 0;
        }
        fputs(USAGE_COLD, stderr);
        return 2;
    }
    cold_opts_t o = { 0 };
    int status = parse("cold ls", argc - 1, argv + 1, false, USAGE_COLD, &o);
    if (status != 0) {
        lo_config_free(&o.cfg);
        return status < 0 ? 0 : status;
    }
    char err[512], bits[24];
    status = 1;
    snprintf(bits, sizeof bits, "%u", o.signals ? o.signals : (1u << LO_SIGNAL_COUNT) - 1);
    PGconn *db = lo_store_connect(o.cfg.database_url, err, sizeof err);
    if (!db) {
        fprintf(stderr, "lookout cold ls: cannot connect: %s\n", err);
        goto done;
    }
    PGresult *res = PQexecParams(
        db,
        "SELECT signal, to_char(min_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "to_char(max_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), rows, bytes, key "
        "FROM cold_files WHERE ($1::int & (CASE signal WHEN 'logs' THEN 1 WHEN 'spans' THEN 2 ELSE 4 END)) "
        "<> 0 "
        "ORDER BY signal, min_time, key",
        1, NULL, (const char *[]){ bits }, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "lookout cold ls: %s", PQresultErrorMessage(res));
        PQclear(res);
        goto done;
    }
    printf("%-7s %-27s %-27s %10s %12s %s\n", "signal", "first", "last", "rows", "bytes", "key");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-7s %-27s %-27s %10s %12s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
    PQclear(res);
    status = 0;
done:
    if (db)
        PQfinish(db);
    lo_config_free(&o.cfg);
    return status;
}
