/*
 * filter.h — what one live tail asks for (docs/tail.md): its projects, and
 * the level, service, text and session filters of GET
 * /api/observe/logs/tail, checked against each entry on the server.  Pure
 * functions: no I/O, no allocation.
 */
#ifndef LO_TAIL_FILTER_H
#define LO_TAIL_FILTER_H

#include "core/lo.h"

#define LO_TAIL_MAX_PROJECTS 256 /* a token's projects plus the public ones */
#define LO_TAIL_MAX_LEVELS   8
#define LO_TAIL_Q_MAX        1000 /* characters, as the search's q */
#define LO_TAIL_SERVICE_MAX  256

typedef struct {
    bool all; /* every entry, with a project or without (an unbound token naming none) */
    size_t n_projects;
    char projects[LO_TAIL_MAX_PROJECTS][37]; /* canonical UUIDs, when !all */
    size_t n_levels;
    char levels[LO_TAIL_MAX_LEVELS][33]; /* lower case */
    bool has_service, has_session, has_q;
    char service[LO_TAIL_SERVICE_MAX * 4 + 1];
    char session[37];
    char q[LO_TAIL_Q_MAX * 4 + 1]; /* ASCII letters folded to lower case */
    size_t q_len;
} lo_tail_filter_t;

/* What a filter looks at in an entry; lo_str_t with p NULL: absent.
 * message_folded is the message with ASCII letters in lower case. */
typedef struct {
    lo_str_t project, level, service, session, message_folded;
} lo_tail_meta_t;

/* Reads the request's filters: get(ud, name) returns a parameter's value
 * or NULL.  project_id is returned in *project (canonical, or "" when not
 * given) for the caller's visibility check, which then fills
 * f->all/projects.  LO_OK, or LO_INVALID with a message for the client in
 * err (naming the parameter). */
int lo_tail_filter_parse(lo_tail_filter_t *f, const char *(*get)(void *ud, const char *name), void *ud,
                         char project[37], char *err, size_t errlen) LO_MUST_USE;
/* Rejects parameters other than the tail's (name NULL: fine).  LO_OK or
 * LO_INVALID with err set. */
int lo_tail_param_known(const char *name, char *err, size_t errlen) LO_MUST_USE;
/* Adds the projects of a PostgreSQL array literal "{uuid,uuid}" (as
 * lo_q_visibility builds it).  LO_OK, LO_INVALID (malformed) or
 * LO_TOO_LARGE (more than LO_TAIL_MAX_PROJECTS). */
int lo_tail_filter_projects(lo_tail_filter_t *f, const char *array_literal) LO_MUST_USE;

bool lo_tail_filter_match(const lo_tail_filter_t *f, const lo_tail_meta_t *m);

/* Folds ASCII letters to lower case, n bytes from in to out. */
void lo_tail_fold(char *out, const char *in, size_t n);

#endif
