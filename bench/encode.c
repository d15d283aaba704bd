/*
 * encode.c — OTLP protobuf encoding of the benchmark's requests (encode.h).
 */
#include "encode.h"

#include <string.h>

static void enc_any(pbw_t *w, int field, const bg_kv_t *kv)
{
    pbw_begin(w, field);
    switch (kv->t) {
    case BG_STR: pbw_bytes(w, 1, kv->s, strlen(kv->s)); break;
    case BG_BOOL:
        pbw_tag(w, 2, 0);
        pbw_raw_varint(w, kv->i ? 1 : 0);
        break;
    case BG_INT:
        pbw_tag(w, 3, 0);
        pbw_raw_varint(w, (uint64_t)kv->i);
        break;
    case BG_DBL: pbw_double(w, 4, kv->d); break;
    }
    pbw_end(w);
}

static void enc_attrs(pbw_t *w, int field, const bg_kv_t *a, int n)
{
    for (int i = 0; i < n; i++) {
        pbw_begin(w, field);
        pbw_str(w, 1, a[i].key);
        enc_any(w, 2, &a[i]);
        pbw_end(w);
    }
}

static void enc_log(pbw_t *w, const bg_log_t *l)
{
    pbw_begin(w, 2);
    pbw_fixed64(w, 1, (uint64_t)l->time_ns);
    pbw_uint(w, 2, (uint64_t)l->sev);
    pbw_str(w, 3, l->sev_text);
    pbw_begin(w, 5);
    pbw_str(w, 1, l->body);
    pbw_end(w);
    enc_attrs(w, 6, l->attr, l->nattr);
    if (l->has_trace) {
        pbw_tag(w, 9, 2);
        pbw_raw_varint(w, 16);
        pbw_mark(w);
        pbw_need(w, 16);
        memcpy(w->p + w->len, l->trace_id, 16);
        w->len += 16;
        pbw_bytes(w, 10, l->span_id, 8);
    }
    pbw_fixed64(w, 11, (uint64_t)l->observed_ns);
    pbw_end(w);
}

static void enc_span(pbw_t *w, const bg_span_t *s)
{
    pbw_begin(w, 2);
    pbw_tag(w, 1, 2);
    pbw_raw_varint(w, 16);
    pbw_mark(w);
    pbw_need(w, 16);
    memcpy(w->p + w->len, s->trace_id, 16);
    w->len += 16;
    pbw_bytes(w, 2, s->span_id, 8);
    if (s->has_parent)
        pbw_bytes(w, 4, s->parent, 8);
    pbw_str(w, 5, s->name);
    pbw_uint(w, 6, (uint64_t)s->kind);
    pbw_fixed64(w, 7, (uint64_t)s->start_ns);
    pbw_fixed64(w, 8, (uint64_t)s->end_ns);
    enc_attrs(w, 9, s->attr, s->nattr);
    for (int i = 0; i < s->nev; i++) {
        pbw_begin(w, 11);
        pbw_fixed64(w, 1, (uint64_t)s->ev[i].time_ns);
        pbw_str(w, 2, s->ev[i].name);
        enc_attrs(w, 3, s->ev[i].attr, s->ev[i].nattr);
        pbw_end(w);
    }
    if (s->has_link) {
        pbw_begin(w, 13);
        pbw_bytes(w, 1, s->link_trace, 16);
        pbw_bytes(w, 2, s->link_span, 8);
        pbw_end(w);
    }
    if (s->status) {
        pbw_begin(w, 15);
        pbw_str(w, 2, s->status_msg);
        pbw_uint(w, 3, (uint64_t)s->status);
        pbw_end(w);
    }
    pbw_end(w);
}

static void enc_point(pbw_t *w, const bg_metric_t *m, const bg_point_t *p)
{
    pbw_begin(w, 1);
    pbw_fixed64(w, 2, (uint64_t)p->start_ns);
    pbw_fixed64(w, 3, (uint64_t)p->time_ns);
    if (m->type == 3) {
        pbw_fixed64(w, 4, p->count);
        pbw_double(w, 5, p->sum);
        pbw_tag(w, 6, 2);
        pbw_raw_varint(w, (uint64_t)(m->nbounds + 1) * 8);
        for (int b = 0; b <= m->nbounds; b++) {
            pbw_need(w, 8);
            for (int i = 0; i < 8; i++)
                w->p[w->len++] = (uint8_t)(p->counts[b] >> (8 * i));
        }
        pbw_tag(w, 7, 2);
        pbw_raw_varint(w, (uint64_t)m->nbounds * 8);
        for (int b = 0; b < m->nbounds; b++) {
            uint64_t v;
            memcpy(&v, &m->bounds[b], 8);
            pbw_need(w, 8);
            for (int i = 0; i < 8; i++)
                w->p[w->len++] = (uint8_t)(v >> (8 * i));
        }
        enc_attrs(w, 9, p->label, p->nlabel);
        pbw_double(w, 11, p->min);
        pbw_double(w, 12, p->max);
    } else {
        pbw_double(w, 4, p->value);
        enc_attrs(w, 7, p->label, p->nlabel);
    }
    pbw_end(w);
}

static void enc_metric(pbw_t *w, const bg_metric_t *m)
{
    if (!m->npt)
        return;
    pbw_begin(w, 2);
    pbw_str(w, 1, m->name);
    pbw_str(w, 2, m->desc);
    pbw_str(w, 3, m->unit);
    pbw_begin(w, m->type == 1 ? 5 : m->type == 2 ? 7 : 9);
    for (int j = 0; j < m->npt; j++)
        enc_point(w, m, &m->pt[j]);
    if (m->type != 1)
        pbw_uint(w, 2, (uint64_t)m->temporality);
    if (m->type == 2)
        pbw_uint(w, 3, m->monotonic ? 1 : 0);
    pbw_end(w);
    pbw_end(w);
}

void bg_encode_request(pbw_t *w, const bg_req_t *r)
{
    for (int ri = 0; ri < r->nres; ri++) {
        const bg_res_t *res = &r->res[ri];
        pbw_begin(w, 1); /* Resource{Logs,Spans,Metrics} */
        pbw_begin(w, 1); /* resource */
        enc_attrs(w, 1, res->attr, res->nattr);
        pbw_end(w);
        pbw_begin(w, 2); /* Scope{Logs,Spans,Metrics} */
        pbw_begin(w, 1);
        pbw_str(w, 1, res->scope_name);
        pbw_str(w, 2, res->scope_version);
        pbw_end(w);
        for (int i = 0; i < res->nlogs; i++)
            enc_log(w, &res->logs[i]);
        for (int i = 0; i < res->nspans; i++)
            enc_span(w, &res->spans[i]);
        for (int i = 0; i < res->nmetrics; i++)
            enc_metric(w, &res->metrics[i]);
        pbw_end(w);
        pbw_end(w);
    }
}
