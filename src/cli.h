/*
 * cli.h — the subcommands of the lookout binary.  Each takes the arguments
 * after its name and returns the process exit code.
 */
#ifndef LO_CLI_H
#define LO_CLI_H

int lo_cmd_serve(int argc, char **argv);   /* src/serve.c */
int lo_cmd_task(int argc, char **argv);    /* src/serve.c */
int lo_cmd_migrate(int argc, char **argv); /* src/store/cli_migrate.c */
int lo_cmd_token(int argc, char **argv);   /* src/auth/cli_tokens.c */
int lo_cmd_project(int argc, char **argv); /* src/auth/cli_tokens.c */
int lo_cmd_tail(int argc, char **argv);    /* src/tail/cli_tail.c */
int lo_cmd_rotate(int argc, char **argv);  /* src/cold/cli_cold.c */
int lo_cmd_cold(int argc, char **argv);    /* src/cold/cli_cold.c */

#endif
