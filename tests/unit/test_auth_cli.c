/*
 * lookout token / project as a user runs them: each command runs in a
 * child process with stdout and stderr captured, so the test checks what
 * goes where and the exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/token.h"
#include "cli.h"
#include "pg_harness.h"
#include "store/pool.h"
#include "store/store.h"

static char conninfo[1024];
static char url_flag[1100];

typedef struct {
    int status;
    char out[8192];
    char err[8192];
} run_t;

static void slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

/* Runs lookout <argv...> in a child with LOOKOUT_DATABASE_URL unset. */
static void run(run_t *r, int (*cmd)(int, char **), const char *const *args)
{
    char outp[] = "/tmp/lo_t_cli_out_XXXXXX", errp[] = "/tmp/lo_t_cli_err_XXXXXX";
    int fo = mkstemp(outp), fe = mkstemp(errp);
    assert_true(fo >= 0 && fe >= 0);
    int argc = 0;
    while (args[argc] != NULL)
        argc++;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fo, 1);
        dup2(fe, 2);
        unsetenv("LOOKOUT_DATABASE_URL");
        int rc = cmd(argc, (char **)args);
        fflush(NULL); /* as returning from main would */
        _exit(rc);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    r->status = WEXITSTATUS(st);
    slurp(outp, r->out, sizeof(r->out));
    slurp(errp, r->err, sizeof(r->err));
    close(fo);
    close(fe);
    unlink(outp);
    unlink(errp);
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    pgt_fresh_db("lo_t_auth_cli", conninfo, sizeof(conninfo));
    snprintf(url_flag, sizeof(url_flag), "--database-url=%s", conninfo);
    PGconn *c = lo_store_connect(conninfo, err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(lo_store_migrate(c, err, sizeof(err)), LO_OK);
    PQfinish(c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pgt_drop_db("lo_t_auth_cli");
    return 0;
}

static void test_create_prints_token_alone(void **state)
{
    (void)state;
    run_t r;
    const char *proj[] = { "create", "--name", "cli-proj", "--public", url_flag, NULL };
    run(&r, lo_cmd_project, proj);
    assert_int_equal(r.status, 0);
    assert_int_equal(strlen(r.out), 37); /* the UUID and a newline, nothing else */
    char uuid[37];
    memcpy(uuid, r.out, 36);
    uuid[36] = '\0';
    assert_non_null(strstr(r.err, "cli-proj"));

    /* settings flags may come before or after the command's own */
    const char *create[] = { "create",    url_flag, "--name=cli", "--scope", "ingest", "--scope=observe:read",
                             "--project", uuid,     NULL };
    run(&r, lo_cmd_token, create);
    assert_int_equal(r.status, 0);
    assert_int_equal(strlen(r.out), LO_TOKEN_LEN + 1);
    assert_int_equal(r.out[LO_TOKEN_LEN], '\n');
    assert_memory_equal(r.out, "lo_", 3);
    char token[LO_TOKEN_LEN + 1];
    memcpy(token, r.out, LO_TOKEN_LEN);
    token[LO_TOKEN_LEN] = '\0';
    assert_null(strstr(r.err, token)); /* the token only on stdout */
    assert_non_null(strstr(r.err, "shown once"));
    assert_non_null(strstr(r.err, "ingest,observe:read"));
    assert_non_null(strstr(r.err, uuid));

    /* the printed token authenticates */
    lo_config_t cfg;
    assert_int_equal(lo_config_defaults(&cfg), LO_OK);
    lo_pg_pool_t *pool = lo_pg_pool_create(conninfo, 1);
    lo_auth_t *a = lo_auth_create(&cfg, pool);
    char h[80];
    snprintf(h, sizeof(h), "Bearer %s", token);
    lo_principal_t p;
    assert_int_equal(lo_auth_check(a, h, &p), LO_OK);
    assert_int_equal(p.scopes, LO_SCOPE_INGEST | LO_SCOPE_OBSERVE_READ);
    assert_int_equal(p.n_projects, 1);
    lo_auth_destroy(a);
    lo_pg_pool_destroy(pool);
    lo_config_free(&cfg);

    const char *list[] = { "list", url_flag, NULL };
    run(&r, lo_cmd_token, list);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "cli"));
    assert_non_null(strstr(r.out, uuid));
    assert_null(strstr(r.out, token));
    assert_null(strstr(r.out, "\\x")); /* no hash either */

    char id[32];
    snprintf(id, sizeof(id), "%lld", (long long)p.token_id);
    const char *revoke[] = { "revoke", id, url_flag, NULL };
    run(&r, lo_cmd_token, revoke);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "revoked"));
    run(&r, lo_cmd_token, revoke);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err, "already"));
}

static void test_usage_errors(void **state)
{
    (void)state;
    run_t r;
    const char *const cases[][8] = {
        { NULL },
        { "frob", NULL },
        { "create", "--scope", "ingest", NULL },                      /* no name */
        { "create", "--name", "x", NULL },                            /* no scope */
        { "create", "--name", "x", "--scope", "ingest,bogus", NULL }, /* bad scope */
        { "create", "--name", "x", "--scope", "ingest", "--project", "nope", NULL },
        { "create", "--name", "", "--scope", "ingest", NULL },
        { "create", "--name", "x", "--scope", "ingest", "--frob=1", NULL }, /* unknown flag */
        { "create", "--name", "x", "--scope", "ingest", "stray", NULL },
        { "create", "--name", "x", "--scope", NULL }, /* missing value */
        { "list", "--name", "x", NULL },              /* not a list flag */
        { "revoke", NULL },
        { "revoke", "abc", NULL },
        { "revoke", "0", NULL },
        { "revoke", "1", "2", NULL },
        { "list", "--http-threads=0", NULL }, /* setting out of range */
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
        const char *args[10];
        size_t n = 0;
        for (; cases[i][n] != NULL; n++)
            args[n] = cases[i][n];
        args[n++] = url_flag;
        args[n] = NULL;
        if (i == 0)
            args[0] = NULL;
        run(&r, lo_cmd_token, args);
        if (r.status != 2)
            fail_msg("case %zu: exit %d, stderr: %s", i, r.status, r.err);
        assert_string_equal(r.out, "");
        assert_true(strlen(r.err) > 0);
    }
    const char *proj_bad[] = { "create", "--public", url_flag, NULL };
    run(&r, lo_cmd_project, proj_bad);
    assert_int_equal(r.status, 2);
    const char *help[] = { "--help", NULL };
    run(&r, lo_cmd_token, help);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "token create"));
}

static void test_failures(void **state)
{
    (void)state;
    run_t r;
    /* a project that does not exist */
    const char *unknown[] = {
        "create", "--name", "x", "--scope", "ingest", "--project", "11111111-1111-4111-8111-111111111111",
        url_flag, NULL
    };
    run(&r, lo_cmd_token, unknown);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "does not exist"));
    /* a revoked id that does not exist */
    const char *revoke[] = { "revoke", "424242", url_flag, NULL };
    run(&r, lo_cmd_token, revoke);
    assert_int_equal(r.status, 1);
    /* a duplicate project name */
    const char *dup[] = { "create", "--name", "dup", url_flag, NULL };
    run(&r, lo_cmd_project, dup);
    assert_int_equal(r.status, 0);
    run(&r, lo_cmd_project, dup);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "already exists"));
    /* no database */
    const char *down[] = { "list", "--database-url=postgresql://x@127.0.0.1:1/x?connect_timeout=2", NULL };
    run(&r, lo_cmd_token, down);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "cannot connect"));
    /* no schema: says to migrate */
    char ci[1024], flag[1100];
    pgt_fresh_db("lo_t_auth_cli_empty", ci, sizeof(ci));
    snprintf(flag, sizeof(flag), "--database-url=%s", ci);
    const char *nomig[] = { "list", flag, NULL };
    run(&r, lo_cmd_token, nomig);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "lookout migrate"));
    pgt_drop_db("lo_t_auth_cli_empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_prints_token_alone),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
