/* cli.c — lookout token / project: placeholder until auth lands. */
#include <stdio.h>

#include "cli.h"

int lo_cmd_token(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lookout token: not built yet\n");
    return 1;
}

int lo_cmd_project(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lookout project: not built yet\n");
    return 1;
}
