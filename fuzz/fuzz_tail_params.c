/*
 * fuzz_tail_params.c — libFuzzer target: a live tail's parameters
 * (tail/filter.h).  The input is a query string ("level=a,b&q=x&..."),
 * split as the HTTP layer would hand it over; whatever the parser accepts
 * must be within its bounds, and matching it against an entry built from
 * the same bytes must not read past anything.  The input is also read as
 * a project array literal and as a published entry (lo_tail_item_parse).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tail/tail_internal.h"

typedef struct {
    char *k[16], *v[16];
    int n;
} kv_t;

static const char *get(void *ud, const char *name)
{
    kv_t *kv = ud;
    for (int i = 0; i < kv->n; i++)
        if (strcmp(kv->k[i], name) == 0)
            return kv->v[i];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    kv_t kv = { .n = 0 };
    char *copy = strdup(s);
    for (char *save = NULL, *p = strtok_r(copy, "&", &save); p != NULL && kv.n < 16;
         p = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(p, '=');
        kv.k[kv.n] = p;
        kv.v[kv.n++] = eq != NULL ? (*eq = '\0', eq + 1) : (char *)"";
    }
    static lo_tail_filter_t f;
    char project[37], err[256];
    if (lo_tail_filter_parse(&f, get, &kv, project, err, sizeof(err)) == LO_OK) {
        if (f.n_levels > LO_TAIL_MAX_LEVELS || f.q_len > LO_TAIL_Q_MAX * 4 || strlen(f.q) != f.q_len ||
            (project[0] != '\0' && strlen(project) != 36))
            abort();
        lo_tail_meta_t m = {
            { s, size / 2 }, { s, size / 3 }, { s, size / 4 }, { s, size / 5 }, { s, size }
        };
        (void)lo_tail_filter_match(&f, &m);
        f.all = true;
        (void)lo_tail_filter_match(&f, &m);
    } else if (err[0] == '\0') {
        abort(); /* a refusal always says why */
    }
    memset(&f, 0, sizeof(f));
    int rc = lo_tail_filter_projects(&f, s);
    if (rc == LO_OK)
        for (size_t i = 0; i < f.n_projects; i++)
            if (strlen(f.projects[i]) != 36)
                abort();
    /* the entry scanner against jansson: what jansson reads as an object,
     * the scanner reads too, with the same five fields */
    lo_tail_item_t *it = lo_tail_item_parse(s, size);
    /* (jansson stops reading at a NUL byte between tokens; JSON has none) */
    json_t *o = memchr(s, '\0', size) == NULL ? json_loadb(s, size, 0, NULL) : NULL;
    if (json_is_object(o)) {
        json_t *pj = json_object_get(o, "project_id");
        bool project_ok = !json_is_string(pj) || json_string_length(pj) == 36;
        if (project_ok && it == NULL)
            abort();
        static const char *const keys[] = { "level", "service", "session_id", "message" };
        for (int k = 0; it != NULL && k < 4; k++) {
            json_t *v = json_object_get(o, keys[k]);
            const lo_str_t *got = k == 0   ? &it->meta.level
                                  : k == 1 ? &it->meta.service
                                  : k == 2 ? &it->meta.session
                                           : &it->meta.message_folded;
            if (!json_is_string(v)) {
                if (got->p != NULL)
                    abort();
                continue;
            }
            if (got->p == NULL || got->len != json_string_length(v))
                abort();
            char *want = malloc(got->len + 1);
            memcpy(want, json_string_value(v), got->len);
            if (k == 3)
                lo_tail_fold(want, want, got->len);
            if (memcmp(want, got->p, got->len) != 0)
                abort();
            free(want);
        }
    }
    json_decref(o);
    free(it);
    free(copy);
    free(s);
    return 0;
}
