/* cli.c — lookout migrate: applies the schema migrations and creates the
 * partitions the writers need, then reports the schema version. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/config.h"
#include "core/log.h"
#include "store/retention.h"
#include "store/store.h"

int lo_cmd_migrate(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: lookout migrate [flags]\n"
                   "Creates or upgrades the PostgreSQL schema (LOOKOUT_DATABASE_URL).\n\n");
            lo_config_print_help(stdout);
            return 0;
        }
    }
    lo_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    char err[512];
    int argi = 0, status = 1;
    PGconn *c = NULL;
    if (lo_config_load(&cfg, argc, argv, &argi, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout migrate: %s\n", err);
        status = 2;
        goto cleanup;
    }
    if (argi < argc) {
        fprintf(stderr, "lookout migrate: unexpected argument \"%s\"\n", argv[argi]);
        status = 2;
        goto cleanup;
    }
    lo_log_level_t level;
    if (lo_log_parse_level(cfg.log_level, &level) == LO_OK)
        lo_log_set_level(level);
    c = lo_store_connect(cfg.database_url, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "lookout migrate: cannot connect: %s\n", err);
        goto cleanup;
    }
    if (lo_store_migrate(c, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout migrate: %s\n", err);
        goto cleanup;
    }
    lo_retention_t ret;
    if (lo_retention_init(&ret, &cfg, err, sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout migrate: %s\n", err);
        goto cleanup;
    }
    if (lo_store_ensure_partitions(c, ret.partitions.days_back, ret.partitions.days_ahead, err,
                                   sizeof(err)) != LO_OK) {
        fprintf(stderr, "lookout migrate: creating partitions: %s\n", err);
        goto cleanup;
    }
    fprintf(stderr, "lookout migrate: schema at version %d\n", lo_store_latest_version());
    status = 0;
cleanup:
    if (c != NULL)
        PQfinish(c);
    lo_config_free(&cfg);
    return status;
}
