/* lookout — a self-hosted OpenTelemetry backend.  See README.md. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/lo.h"

#ifndef LO_VERSION
#define LO_VERSION "0.1.0-dev"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: lookout <command> [flags]\n\n"
               "commands:\n"
               "  serve                 run the OTLP and API listeners and the writers\n"
               "  migrate               create or upgrade the PostgreSQL schema\n"
               "  token create --name N --scope S[,S] [--project UUID]...\n"
               "  token list | token revoke ID\n"
               "  project create --name N [--public]\n"
               "  task list | task run NAME   the periodic tasks of serve (run one once, now)\n"
               "  tail [--level L] [--service S] [--q TEXT] ...   follow new logs (lookout tail --help)\n"
               "  rotate [--signal S] [--older-than D] [--dry-run]   move old rows to the cold tier now\n"
               "  cold ls [--signal S]  list the cold tier's files\n"
               "  version\n\n"
               "Settings come from LOOKOUT_* variables and flags: lookout serve --help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    lo_malloc_tune();
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0)
        return lo_cmd_serve(argc - 2, argv + 2);
    if (strcmp(cmd, "migrate") == 0)
        return lo_cmd_migrate(argc - 2, argv + 2);
    if (strcmp(cmd, "token") == 0)
        return lo_cmd_token(argc - 2, argv + 2);
    if (strcmp(cmd, "project") == 0)
        return lo_cmd_project(argc - 2, argv + 2);
    if (strcmp(cmd, "tail") == 0)
        return lo_cmd_tail(argc - 2, argv + 2);
    if (strcmp(cmd, "rotate") == 0)
        return lo_cmd_rotate(argc - 2, argv + 2);
    if (strcmp(cmd, "cold") == 0)
        return lo_cmd_cold(argc - 2, argv + 2);
    if (strcmp(cmd, "task") == 0)
        return lo_cmd_task(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("lookout %s\n", LO_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "lookout: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return 2;
}
