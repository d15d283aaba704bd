/* filter.c — a live tail's filters, parsed and matched (filter.h). */
#include "tail/filter.h"

#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "core/utf8.h"
#include "store/columns.h"

static const char *const PARAMS[] = { "project_id", "level",        "service", "q",
                                      "session_id", "access_token", NULL };

int lo_tail_param_known(const char *name, char *err, size_t errlen)
{
    for (size_t i = 0; PARAMS[i] != NULL; i++)
        if (strcmp(name, PARAMS[i]) == 0)
            return LO_OK;
    snprintf(err, errlen,
             "unknown parameter \"%.64s\" (the tail takes project_id, level, service, q, session_id)", name);
    return LO_INVALID;
}

void lo_tail_fold(char *out, const char *in, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
}

/* A value of minlen..maxlen code points, valid UTF-8, no control bytes
 * below space except tab. */
static bool text_ok(const char *v, size_t maxlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > maxlen * 4 || !lo_utf8_valid(v, n))
        return false;
    size_t chars = 0;
    for (const char *p = v; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return false;
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    }
    return chars <= maxlen;
}

static int parse_levels(lo_tail_filter_t *f, const char *v)
{
    const char *p = v;
    for (;;) {
        size_t k = strcspn(p, ",");
        if (k == 0 || k > 32 || f->n_levels == LO_TAIL_MAX_LEVELS)
            return LO_INVALID;
        for (size_t i = 0; i < k; i++) {
            char c = p[i];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
                return LO_INVALID;
            f->levels[f->n_levels][i] = c;
        }
        f->levels[f->n_levels][k] = '\0';
        /* a usual spelling means its level: entries reach tails with
         * their stored level */
        const char *alias = lo_level_alias(f->levels[f->n_levels], k);
        if (alias != NULL)
            snprintf(f->levels[f->n_levels], sizeof f->levels[0], "%s", alias);
        f->n_levels++;
        if (p[k] == '\0')
            return LO_OK;
        p += k + 1;
    }
}

int lo_tail_filter_parse(lo_tail_filter_t *f, const char *(*get)(void *ud, const char *name), void *ud,
                         char project[37], char *err, size_t errlen)
{
    memset(f, 0, sizeof(*f));
    project[0] = '\0';
    const char *v = get(ud, "project_id");
    uint8_t u[16];
    if (v != NULL) {
        if (!lo_uuid_parse((lo_str_t){ v, strlen(v) }, u)) {
            snprintf(err, errlen, "project_id must be a UUID");
            return LO_INVALID;
        }
        lo_uuid_format(u, project);
    }
    if ((v = get(ud, "session_id")) != NULL) {
        if (!lo_uuid_parse((lo_str_t){ v, strlen(v) }, u)) {
            snprintf(err, errlen, "session_id must be a UUID");
            return LO_INVALID;
        }
        lo_uuid_format(u, f->session);
        f->has_session = true;
    }
    if ((v = get(ud, "level")) != NULL && parse_levels(f, v) != LO_OK) {
        snprintf(err, errlen,
                 "level must be a level name (trace, debug, info, warn, error, fatal, unspecified) or a "
                 "comma-separated list of up to %d",
                 LO_TAIL_MAX_LEVELS);
        return LO_INVALID;
    }
    if ((v = get(ud, "service")) != NULL) {
        if (!text_ok(v, LO_TAIL_SERVICE_MAX)) {
            snprintf(err, errlen, "service must be 1 to %d characters of UTF-8 text", LO_TAIL_SERVICE_MAX);
            return LO_INVALID;
        }
        strcpy(f->service, v);
        f->has_service = true;
    }
    if ((v = get(ud, "q")) != NULL) {
        if (!text_ok(v, LO_TAIL_Q_MAX)) {
            snprintf(err, errlen, "q must be 1 to %d characters of UTF-8 text", LO_TAIL_Q_MAX);
            return LO_INVALID;
        }
        f->q_len = strlen(v);
        lo_tail_fold(f->q, v, f->q_len);
        f->q[f->q_len] = '\0';
        f->has_q = true;
    }
    return LO_OK;
}

int lo_tail_filter_projects(lo_tail_filter_t *f, const char *a)
{
    size_t n = strlen(a);
    if (n < 2 || a[0] != '{' || a[n - 1] != '}')
        return LO_INVALID;
    const char *p = a + 1, *end = a + n - 1;
    while (p < end) {
        size_t k = (size_t)(end - p);
        const char *comma = memchr(p, ',', k);
        if (comma != NULL)
            k = (size_t)(comma - p);
        uint8_t u[16];
        if (!lo_uuid_parse((lo_str_t){ p, k }, u))
            return LO_INVALID;
        if (f->n_projects == LO_TAIL_MAX_PROJECTS)
            return LO_TOO_LARGE;
        lo_uuid_format(u, f->projects[f->n_projects++]);
        p += k + (comma != NULL);
        if (comma != NULL && p == end)
            return LO_INVALID; /* a trailing comma */
    }
    return LO_OK;
}

static bool eq(lo_str_t s, const char *z)
{
    size_t n = strlen(z);
    return s.p != NULL && s.len == n && memcmp(s.p, z, n) == 0;
}

bool lo_tail_filter_match(const lo_tail_filter_t *f, const lo_tail_meta_t *m)
{
    if (!f->all) {
        bool in = false;
        for (size_t i = 0; i < f->n_projects && !in; i++)
            in = eq(m->project, f->projects[i]);
        if (!in)
            return false;
    }
    if (f->n_levels > 0) {
        bool in = false;
        for (size_t i = 0; i < f->n_levels && !in; i++)
            in = eq(m->level, f->levels[i]);
        if (!in)
            return false;
    }
    if (f->has_service && !eq(m->service, f->service))
        return false;
    if (f->has_session && !eq(m->session, f->session))
        return false;
    if (f->has_q) {
        const lo_str_t *t = &m->message_folded;
        if (t->p == NULL || memmem(t->p, t->len, f->q, f->q_len) == NULL)
            return false;
    }
    return true;
}
