/* items.c — the messages a tail client receives (tail_internal.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tail/tail_internal.h"

void lo_tail_channel(const char *project, char out[LO_TAIL_CHANNEL_MAX])
{
    snprintf(out, LO_TAIL_CHANNEL_MAX, "logs:%s", project != NULL && project[0] != '\0' ? project : "_");
}

static lo_tail_item_t *item_new(item_kind_t kind, size_t size)
{
    lo_tail_item_t *it = calloc(1, sizeof(*it) + size);
    if (it != NULL) {
        it->kind = kind;
        it->size = sizeof(*it) + size;
    }
    return it;
}

/* Copies s to *w and points d at the copy (folded when fold). */
static void put(char **w, lo_str_t s, lo_str_t *d, bool fold)
{
    if (s.p == NULL) {
        *d = (lo_str_t){ NULL, 0 };
        return;
    }
    if (fold)
        lo_tail_fold(*w, s.p, s.len);
    else
        memcpy(*w, s.p, s.len);
    *d = (lo_str_t){ *w, s.len };
    *w += s.len;
}

lo_tail_item_t *lo_tail_item_log(const char *entry, size_t len, const lo_tail_meta_t *raw)
{
    static const char head[] = "{\"type\":\"log\",\"entry\":";
    size_t metas =
        raw->project.len + raw->level.len + raw->service.len + raw->session.len + raw->message_folded.len;
    lo_tail_item_t *it = item_new(ITEM_LOG, ITEM_ENTRY_OFF + len + 1 + metas);
    if (it == NULL)
        return NULL;
    char *w = it->data;
    memcpy(w, head, ITEM_ENTRY_OFF);
    memcpy(w + ITEM_ENTRY_OFF, entry, len);
    w[ITEM_ENTRY_OFF + len] = '}';
    it->msg_len = ITEM_ENTRY_OFF + len + 1;
    w += it->msg_len;
    put(&w, raw->project, &it->meta.project, false);
    put(&w, raw->level, &it->meta.level, false);
    put(&w, raw->service, &it->meta.service, false);
    put(&w, raw->session, &it->meta.session, false);
    put(&w, raw->message_folded, &it->meta.message_folded, true);
    char project[37] = "";
    if (raw->project.p != NULL && raw->project.len == 36)
        memcpy(project, raw->project.p, 36);
    lo_tail_channel(project, it->channel);
    return it;
}

static lo_str_t field(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        return (lo_str_t){ NULL, 0 };
    return (lo_str_t){ json_string_value(v), json_string_length(v) };
}

lo_tail_item_t *lo_tail_item_parse(const char *entry, size_t len)
{
    json_t *o = json_loadb(entry, len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    lo_tail_meta_t raw = { .project = field(o, "project_id"),
                           .level = field(o, "level"),
                           .service = field(o, "service"),
                           .session = field(o, "session_id"),
                           .message_folded = field(o, "message") };
    lo_tail_item_t *it = NULL;
    if (raw.project.p == NULL || raw.project.len == 36)
        it = lo_tail_item_log(entry, len, &raw);
    json_decref(o);
    return it;
}

lo_tail_item_t *lo_tail_item_gap(uint64_t missed)
{
    lo_tail_item_t *it = item_new(ITEM_GAP, 64);
    if (it != NULL) {
        it->missed = missed;
        it->msg_len =
            (size_t)snprintf(it->data, 64, "{\"type\":\"gap\",\"missed\":%llu}", (unsigned long long)missed);
    }
    return it;
}

lo_tail_item_t *lo_tail_item_status(const char *status)
{
    lo_tail_item_t *it = item_new(ITEM_STATUS, 64);
    if (it != NULL)
        it->msg_len = (size_t)snprintf(it->data, 64, "{\"type\":\"status\",\"status\":\"%s\"}", status);
    return it;
}
