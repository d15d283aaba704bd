/*
 * cli.c — lookout token create|list|revoke and lookout project create.
 *
 * Each command mixes its own flags (--name, --scope, ...) with the settings
 * flags of lo_config_load (--database-url, --config, ...), in any order.
 * Exit codes: 0 done, 1 failed (database, missing project, ...), 2 usage.
 * `token create` prints the token alone on stdout so scripts can capture it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "auth/auth.h"
#include "auth/token.h"
#include "cli.h"
#include "core/config.h"
#include "otlp/otlp.h"
#include "store/store.h"

#define EXIT_USAGE 2

enum { F_NAME = 1, F_SCOPE = 2, F_PROJECT = 4, F_PUBLIC = 8 };

typedef struct {
    const char *name;
    unsigned scopes;
    size_t n_projects;
    uint8_t projects[LO_TOKEN_MAX_PROJECTS][16];
    bool is_public;
    const char *pos[2];
    int n_pos;
    bool help;
    lo_config_t cfg;
    char **cfg_argv;
} opts_t;

static const char usage_token[] =
    "usage: lookout token create --name NAME --scope SCOPE[,SCOPE] [--project UUID]... [settings]\n"
    "       lookout token list [settings]\n"
    "       lookout token revoke ID [settings]\n\n"
    "Scopes: ingest, observe:read, alert:manage, admin (admin implies all).\n"
    "Without --project a token may use every project; with it, only those (at most 64).\n"
    "create prints the token alone on standard output; it is shown once and only its\n"
    "SHA-256 is stored.  Settings (--database-url, --config, ...): lookout serve --help\n";

static const char usage_project[] =
    "usage: lookout project create --name NAME [--public] [settings]\n\n"
    "Prints the new project's id on standard output.  --public: readable by every\n"
    "observe:read token.  Settings (--database-url, --config, ...): lookout serve --help\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "lookout: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

/* "--name=x" or "--name x": the value, advancing *i; NULL if missing. */
static const char *flag_value(int argc, char **argv, int *i, size_t flag_len)
{
    const char *a = argv[*i];
    if (a[flag_len] == '=')
        return a + flag_len + 1;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static bool flag_is(const char *a, const char *flag)
{
    size_t n = strlen(flag);
    return strncmp(a, flag, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/* Splits argv into the command's flags (allowed: F_* mask), up to max_pos
 * positional arguments, and settings flags, then loads the settings.
 * Returns 0, or the exit code after printing the problem. */
static int parse(int argc, char **argv, unsigned allowed, int max_pos, const char *usage, opts_t *o)
{
    char err[512];
    o->cfg_argv = calloc((size_t)argc + 1, sizeof(char *));
    if (o->cfg_argv == NULL) {
        fprintf(stderr, "lookout: out of memory\n");
        return 1;
    }
    int ncfg = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = true;
        } else if ((allowed & F_NAME) && flag_is(a, "--name")) {
            if ((o->name = flag_value(argc, argv, &i, 6)) == NULL)
                return usage_error(usage, "flag %s needs a value", a);
        } else if ((allowed & F_SCOPE) && flag_is(a, "--scope")) {
            const char *v = flag_value(argc, argv, &i, 7);
            unsigned bits;
            if (v == NULL)
                return usage_error(usage, "flag %s needs a value", a);
            if (lo_scopes_parse(v, &bits) != LO_OK)
                return usage_error(usage,
                                   "unknown scope in \"%s\" (scopes: ingest, observe:read, "
                                   "alert:manage, admin)",
                                   v);
            o->scopes |= bits;
        } else if ((allowed & F_PROJECT) && flag_is(a, "--project")) {
            const char *v = flag_value(argc, argv, &i, 9);
            if (v == NULL)
                return usage_error(usage, "flag %s needs a value", a);
            if (o->n_projects >= LO_TOKEN_MAX_PROJECTS)
                return usage_error(usage, "%s: a token may be bound to at most 64 projects", "--project");
            if (!lo_uuid_parse(lo_str(v, strlen(v)), o->projects[o->n_projects]))
                return usage_error(usage, "\"%s\" is not a UUID (like 0b6f3c1e-4a7d-4c2b-9f1e-2d3c4b5a6978)",
                                   v);
            o->n_projects++;
        } else if ((allowed & F_PUBLIC) && strcmp(a, "--public") == 0) {
            o->is_public = true;
        } else if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
            /* a setting: lo_config_load judges it (unknown flags are errors there) */
            o->cfg_argv[ncfg++] = argv[i];
            if (strchr(a, '=') == NULL && i + 1 < argc)
                o->cfg_argv[ncfg++] = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error(usage, "unknown flag %s", a);
        } else if (o->n_pos < max_pos) {
            o->pos[o->n_pos++] = a;
        } else {
            return usage_error(usage, "unexpected argument \"%s\"", a);
        }
    }
    if (o->help) {
        fputs(usage, stdout);
        return 0;
    }
    int argi = 0;
    int rc = lo_config_load(&o->cfg, ncfg, o->cfg_argv, &argi, err, sizeof(err));
    if (rc == LO_OK && argi < ncfg) {
        snprintf(err, sizeof(err), "unexpected argument \"%s\"", o->cfg_argv[argi]);
        rc = LO_INVALID;
    }
    if (rc != LO_OK) {
        fprintf(stderr, "lookout: %s\n", err);
        return rc == LO_INVALID ? EXIT_USAGE : 1;
    }
    return 0;
}

static void opts_free(opts_t *o)
{
    lo_config_free(&o->cfg);
    free(o->cfg_argv);
}

static PGconn *connect_db(const lo_config_t *cfg)
{
    char err[512];
    PGconn *c = lo_store_connect(cfg->database_url, err, sizeof(err));
    if (c == NULL)
        fprintf(stderr, "lookout: cannot connect to the database (database_url): %s\n", err);
    return c;
}

static int token_create(opts_t *o)
{
    char err[512], token[LO_TOKEN_LEN + 1];
    int64_t id = 0;
    if (o->name == NULL || o->scopes == 0)
        return usage_error(usage_token, "%s", "token create needs --name and --scope");
    if (lo_name_check(o->name, "token", err, sizeof(err)) != LO_OK)
        return usage_error(usage_token, "%s", err);
    PGconn *c = connect_db(&o->cfg);
    if (c == NULL)
        return 1;
    int rc = lo_token_create(c, o->name, o->scopes, (const uint8_t(*)[16])o->projects, o->n_projects, token,
                             &id, err, sizeof(err));
    PQfinish(c);
    if (rc != LO_OK) {
        fprintf(stderr, "lookout: %s\n", err);
        return rc == LO_INVALID ? EXIT_USAGE : 1;
    }
    char scopes[64];
    if (lo_scopes_format(o->scopes, scopes, sizeof(scopes)) != LO_OK)
        scopes[0] = '\0';
    fprintf(stderr, "created token id=%" PRId64 " scopes=%s projects=", id, scopes);
    if (o->n_projects == 0)
        fprintf(stderr, "any");
    for (size_t i = 0; i < o->n_projects; i++) {
        char u[37];
        lo_uuid_format(o->projects[i], u);
        fprintf(stderr, "%s%s", i ? "," : "", u);
    }
    fprintf(stderr, "\nThe token is shown once, on standard output; only its SHA-256 is stored.\n");
    printf("%s\n", token);
    OPENSSL_cleanse(token, sizeof(token));
    return fflush(stdout) == 0 ? 0 : 1;
}

static int width(const char *s, int w)
{
    int n = (int)strlen(s);
    return n > w ? n : w;
}

static int token_list(opts_t *o)
{
    char err[512];
    PGconn *c = connect_db(&o->cfg);
    if (c == NULL)
        return 1;
    lo_token_list_t l;
    int rc = lo_token_list(c, &l, err, sizeof(err));
    PQfinish(c);
    if (rc != LO_OK) {
        fprintf(stderr, "lookout: %s\n", err);
        return 1;
    }
    int wn = 4, ws = 6;
    for (size_t i = 0; i < l.n; i++) {
        wn = width(l.items[i].name, wn);
        ws = width(l.items[i].scopes, ws);
    }
    if (wn > 40)
        wn = 40; /* longer names just push their row wider */
    printf("%-6s  %-*s  %-*s  %-20s  %-20s  %s\n", "ID", wn, "NAME", ws, "SCOPES", "CREATED", "REVOKED",
           "PROJECTS");
    for (size_t i = 0; i < l.n; i++) {
        const lo_token_info_t *t = &l.items[i];
        printf("%-6" PRId64 "  %-*s  %-*s  %-20s  %-20s  %s\n", t->id, wn, t->name, ws, t->scopes,
               t->created_at, t->revoked_at ? t->revoked_at : "-", t->projects[0] ? t->projects : "any");
    }
    lo_token_list_free(&l);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int token_revoke(opts_t *o)
{
    char err[512];
    if (o->n_pos != 1)
        return usage_error(usage_token, "%s", "token revoke needs the token's ID (see lookout token list)");
    errno = 0;
    char *end;
    long long id = strtoll(o->pos[0], &end, 10);
    if (end == o->pos[0] || *end != '\0' || errno != 0 || id <= 0)
        return usage_error(usage_token, "\"%s\" is not a token ID (a positive number)", o->pos[0]);
    PGconn *c = connect_db(&o->cfg);
    if (c == NULL)
        return 1;
    bool already = false;
    int rc = lo_token_revoke(c, id, &already, err, sizeof(err));
    PQfinish(c);
    if (rc != LO_OK) {
        fprintf(stderr, "lookout: %s\n", err);
        return 1;
    }
    if (already)
        fprintf(stderr, "token %lld was already revoked\n", id);
    else
        fprintf(stderr, "revoked token %lld (servers forget it within token_cache_seconds)\n", id);
    return 0;
}

int lo_cmd_token(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        bool help = argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0);
        fputs(usage_token, help ? stdout : stderr);
        return help ? 0 : EXIT_USAGE;
    }
    const char *sub = argv[0];
    unsigned allowed;
    int max_pos = 0, (*run)(opts_t *);
    if (strcmp(sub, "create") == 0) {
        allowed = F_NAME | F_SCOPE | F_PROJECT;
        run = token_create;
    } else if (strcmp(sub, "list") == 0) {
        allowed = 0;
        run = token_list;
    } else if (strcmp(sub, "revoke") == 0) {
        allowed = 0;
        max_pos = 1;
        run = token_revoke;
    } else {
        return usage_error(usage_token, "unknown command \"token %s\"", sub);
    }
    opts_t *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return 1;
    int rc = parse(argc - 1, argv + 1, allowed, max_pos, usage_token, o);
    if (rc == 0 && !o->help)
        rc = run(o);
    opts_free(o);
    free(o);
    return rc;
}

static int project_create(opts_t *o)
{
    char err[512];
    if (o->name == NULL)
        return usage_error(usage_project, "%s", "project create needs --name");
    if (lo_name_check(o->name, "project", err, sizeof(err)) != LO_OK)
        return usage_error(usage_project, "%s", err);
    PGconn *c = connect_db(&o->cfg);
    if (c == NULL)
        return 1;
    uint8_t id[16];
    int rc = lo_project_create(c, o->name, o->is_public, id, err, sizeof(err));
    PQfinish(c);
    if (rc != LO_OK) {
        fprintf(stderr, "lookout: %s\n", err);
        return rc == LO_INVALID ? EXIT_USAGE : 1;
    }
    char u[37];
    lo_uuid_format(id, u);
    fprintf(stderr, "created %s project \"%s\"\n", o->is_public ? "public" : "private", o->name);
    printf("%s\n", u);
    return fflush(stdout) == 0 ? 0 : 1;
}

int lo_cmd_project(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        bool help = argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0);
        fputs(usage_project, help ? stdout : stderr);
        return help ? 0 : EXIT_USAGE;
    }
    if (strcmp(argv[0], "create") != 0)
        return usage_error(usage_project, "unknown command \"project %s\"", argv[0]);
    opts_t *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return 1;
    int rc = parse(argc - 1, argv + 1, F_NAME | F_PUBLIC, 0, usage_project, o);
    if (rc == 0 && !o->help)
        rc = project_create(o);
    opts_free(o);
    free(o);
    return rc;
}
