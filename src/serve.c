/* serve.c — lookout serve: placeholder until the HTTP listeners land. */
#include <stdio.h>

#include "cli.h"

int lo_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "lookout serve: not built yet\n");
    return 1;
}
