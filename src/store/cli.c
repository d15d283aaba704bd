/* cli.c — lookout migrate: placeholder until the store lands. */
#include <stdio.h>

#include "cli.h"

int lo_cmd_migrate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lookout migrate: not built yet\n");
    return 1;
}
