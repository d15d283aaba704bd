/* Metric writers: samples and series stored; series ids cached so that a
 * batch of known series issues no series statement at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest/writer.h"
#include "ingest_harness.h"

static char conninfo[1024];
static int64_t base;

static lo_sample_rec_t *add_sample(treq_t *t, const char *name, const char *labels, uint64_t lh,
                                   lo_metric_type_t type, double value, int64_t sec)
{
    lo_sample_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    assert_non_null(r);
    r->env.service = S("svc");
    r->name = lo_str(name, strlen(name));
    r->labels = lo_str(labels, strlen(labels));
    r->labels_hash = lh;
    r->type = type;
    r->time_ns = base + sec * 1000000000;
    if (type == LO_METRIC_GAUGE || type == LO_METRIC_SUM) {
        r->value = value;
        r->has_value = true;
    }
    return r;
}

static void submit_wait(lo_ingest_t *in, treq_t *t)
{
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
}

/* ---- the series id scheme before identities were checked: a 64-bit
 * unkeyed hash of name, labels hash, service and project, inverted here to
 * build a collision between two projects ---- */

#define K_GOLD 0x9E3779B97F4A7C15ULL
#define P_MUL  0x100000001B3ULL

static uint64_t inv_odd(uint64_t a)
{
    uint64_t x = a; /* Newton: each step doubles the correct low bits */
    for (int i = 0; i < 6; i++)
        x *= 2 - a * x;
    return x;
}

static uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t inv_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= inv_odd(0xC4CEB9FE1A85EC53ULL);
    h ^= h >> 33;
    h *= inv_odd(0xFF51AFD7ED558CCDULL);
    h ^= h >> 33;
    return h;
}

static uint64_t rotr27(uint64_t h)
{
    return (h >> 27) | (h << 37);
}

/* The seed s with lo_hash64(p, n, s) == out. */
static uint64_t inv_seed(const void *p, size_t n, uint64_t out)
{
    const uint8_t *b = p;
    size_t blocks = n / 8, rest = n % 8;
    uint64_t tail = 0;
    memcpy(&tail, b + blocks * 8, rest);
    uint64_t h = inv_fmix(out) ^ fmix(tail ^ ((uint64_t)rest << 56));
    for (size_t i = blocks; i-- > 0;) {
        uint64_t m;
        memcpy(&m, b + i * 8, 8);
        h = (rotr27(h) * inv_odd(P_MUL)) ^ fmix(m);
    }
    return h ^ (n * K_GOLD);
}

static int64_t old_series_id(const lo_sample_rec_t *r)
{
    const lo_envelope_t *e = &r->env;
    uint64_t h = lo_hash64(r->name.p, r->name.len, 0x6c6f6f6b6f75745fULL);
    h = lo_hash64(&r->labels_hash, sizeof(r->labels_hash), h);
    h = lo_hash64(e->service.p, e->service.len, h);
    h = lo_hash64(e->project_id, e->has_project ? 16 : 0, h ^ (uint64_t)e->has_project);
    return (int64_t)h;
}

/* Sets a->labels_hash so that a's old id equals b's. */
static void forge_old_collision(lo_sample_rec_t *a, const lo_sample_rec_t *b)
{
    uint64_t target = (uint64_t)old_series_id(b);
    const lo_envelope_t *e = &a->env;
    uint64_t s3 = inv_seed(e->project_id, e->has_project ? 16 : 0, target) ^ (uint64_t)e->has_project;
    uint64_t s2 = inv_seed(e->service.p, e->service.len, s3);
    uint64_t s1 = lo_hash64(a->name.p, a->name.len, 0x6c6f6f6b6f75745fULL);
    /* lo_hash64(&lh, 8, s1) == s2: one block, then an empty tail */
    uint64_t h = rotr27(inv_fmix(s2) ^ fmix(0)) * inv_odd(P_MUL);
    a->labels_hash = inv_fmix(h ^ s1 ^ (8 * K_GOLD));
}

/* Two projects' series whose ids collided in the old scheme stay two
 * series, each with its own samples; equal labels in another order are
 * the same series. */
static void test_series_identity_not_forgeable(void **state)
{
    (void)state;
    int64_t t = lo_now_ns() - 600LL * 1000000000;
    base = t - t % 1000000000;
    it_fresh_schema("lo_t_series_forge", conninfo, sizeof(conninfo));
    PGconn *c = pgt_connect(conninfo);
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);

    treq_t *rb = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *b = add_sample(rb, "orders", "{\"route\":\"/pay\"}", 7, LO_METRIC_GAUGE, 100, 1);
    fill_uuid(b->env.project_id, 0x0B);
    b->env.has_project = true;
    submit_wait(in, rb);

    treq_t *ra = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *a = add_sample(ra, "orders", "{\"route\":\"x\"}", 0, LO_METRIC_GAUGE, 666, 2);
    fill_uuid(a->env.project_id, 0x0A);
    a->env.has_project = true;
    forge_old_collision(a, b);
    assert_true(old_series_id(a) == old_series_id(b)); /* the old scheme merged these */
    /* the same labels as b's, other order and spacing: b's series, not a new one */
    lo_sample_rec_t *b2 = add_sample(ra, "orders", "{ \"route\" : \"/pay\" }", 9, LO_METRIC_GAUGE, 101, 3);
    b2->env = b->env;
    submit_wait(in, ra);

    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_series"), 2);
    /* every sample under a series of its own project */
    assert_int_equal(pgt_int(c,
                             "SELECT count(*) FROM metric_samples s JOIN metric_series m USING (series_id) "
                             "WHERE m.project_id IS DISTINCT FROM s.project_id"),
                     0);
    char v[256];
    assert_string_equal(
        pgt_value(c,
                  "SELECT string_agg(s.value::text, ',' ORDER BY s.time) FROM metric_samples s "
                  "JOIN metric_series m USING (series_id) WHERE m.labels = '{\"route\":\"/pay\"}'",
                  v, sizeof(v)),
        "100,101");
    assert_string_equal(
        pgt_value(c,
                  "SELECT string_agg(s.value::text, ',') FROM metric_samples s "
                  "JOIN metric_series m USING (series_id) WHERE m.labels = '{\"route\":\"x\"}'",
                  v, sizeof(v)),
        "666");

    /* a fresh writer (empty cache) finds the same rows again */
    lo_ingest_destroy(in);
    in = it_start(conninfo, 1, NULL, true);
    treq_t *rc = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *a2 = add_sample(rc, "orders", "{\"route\":\"x\"}", 0, LO_METRIC_GAUGE, 667, 4);
    a2->env = a->env;
    submit_wait(in, rc);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_series"), 2);
    assert_int_equal(pgt_int(c, "SELECT count(DISTINCT series_id) FROM metric_samples WHERE value > 600"), 1);

    PQfinish(c);
    treq_free(ra);
    treq_free(rb);
    treq_free(rc);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_series_forge");
}

static void test_samples_and_series_cache(void **state)
{
    (void)state;
    int64_t t = lo_now_ns() - 600LL * 1000000000;
    base = t - t % 1000000000;
    it_fresh_schema("lo_t_metrics", conninfo, sizeof(conninfo));
    PGconn *c = pgt_connect(conninfo);
    pgt_exec(c, "CREATE TABLE series_stmts (n int NOT NULL); INSERT INTO series_stmts VALUES (0);"
                "CREATE FUNCTION count_stmt() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN UPDATE series_stmts SET n = n + 1; RETURN NULL; END $$;"
                "CREATE TRIGGER count_stmt AFTER INSERT ON metric_series FOR EACH STATEMENT "
                "EXECUTE FUNCTION count_stmt()");
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);

    treq_t *r1 = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *g = add_sample(r1, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, 0.25, 1);
    g->unit = S("1");
    g->description = S("cpu use");
    g->resource = S("{\"host.name\":\"h1\"}");
    g->start_ns = base;
    fill_uuid(g->env.project_id, 2);
    g->env.has_project = true;
    lo_sample_rec_t *g2 = add_sample(r1, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, -1e300, 2);
    g2->env = g->env;
    g2->resource = g->resource;
    lo_sample_rec_t *h = add_sample(r1, "latency", "{}", 0, LO_METRIC_HISTOGRAM, 0, 1);
    h->count = 7;
    h->sum = 12.5;
    h->has_sum = h->has_min = h->has_max = true;
    h->min = 0.5;
    h->max = 4;
    h->buckets = S("{\"bounds\":[1,2.5],\"counts\":[2,3,2]}");
    h->temporality = 2;
    h->flags = 1;
    submit_wait(in, r1);
    assert_int_equal(pgt_int(c, "SELECT n FROM series_stmts"), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_series"), 2);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_samples"), 3);

    char sql[512], v[512];
    snprintf(sql, sizeof(sql),
             "SELECT project_id::text || '|' || service || '|' || name || '|' || type || '|' || temporality "
             "|| '|' ||"
             " monotonic || '|' || unit || '|' || description || '|' || labels::text || '|' || resource::text"
             " FROM metric_series WHERE name = 'cpu'");
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)),
                        "20212223-2425-4627-a829-2a2b2c2d2e2f|svc|cpu|1|0|false|1|cpu use|{\"core\": "
                        "\"0\"}|{\"host.name\": \"h1\"}");
    snprintf(sql, sizeof(sql),
             "SELECT labels::text || '|' || (unit IS NULL) || '|' || (resource IS NULL) || '|' || temporality"
             " FROM metric_series WHERE name = 'latency'");
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)), "{}|true|true|2");
    snprintf(
        sql, sizeof(sql),
        "SELECT string_agg(value::text || '|' || ((extract(epoch from time))::bigint - %lld) || '|' ||"
        " coalesce(((extract(epoch from start_time))::bigint - %lld)::text, '-') || '|' ||"
        " (count IS NULL) || '|' || (buckets IS NULL) || '|' || project_id::text, ',' ORDER BY time)"
        " FROM metric_samples WHERE series_id = (SELECT series_id FROM metric_series WHERE name = 'cpu')",
        (long long)(base / 1000000000), (long long)(base / 1000000000));
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)),
                        "0.25|1|0|true|true|20212223-2425-4627-a829-2a2b2c2d2e2f,"
                        "-1e+300|2|-|true|true|20212223-2425-4627-a829-2a2b2c2d2e2f");
    snprintf(sql, sizeof(sql),
             "SELECT (value IS NULL) || '|' || count || '|' || sum || '|' || min || '|' || max || '|' ||"
             " buckets::text || '|' || flags || '|' || (project_id IS NULL) || '|' || service"
             " FROM metric_samples WHERE series_id = (SELECT series_id FROM metric_series WHERE name = "
             "'latency')");
    assert_string_equal(pgt_value(c, sql, v, sizeof(v)),
                        "true|7|12.5|0.5|4|{\"bounds\": [1, 2.5], \"counts\": [2, 3, 2]}|1|true|svc");

    /* the same series again: no series statement at all */
    treq_t *r2 = treq_new(LO_SIGNAL_METRICS);
    lo_sample_rec_t *g3 = add_sample(r2, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, 1, 3);
    g3->env = g->env;
    g3->resource = S("{\"host.name\":\"h1\",\"process.pid\":7}"); /* not identifying: the same series */
    add_sample(r2, "latency", "{}", 0, LO_METRIC_HISTOGRAM, 0, 3)->count = 1;
    submit_wait(in, r2);
    assert_int_equal(pgt_int(c, "SELECT n FROM series_stmts"), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_samples"), 5);

    /* a new label set is a new series: one statement */
    treq_t *r3 = treq_new(LO_SIGNAL_METRICS);
    add_sample(r3, "cpu", "{\"core\":\"1\"}", 2, LO_METRIC_GAUGE, 1, 4);
    lo_sample_rec_t *g4 = add_sample(r3, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, 1, 4);
    g4->env = g->env;
    g4->resource = g->resource;
    submit_wait(in, r3);
    assert_int_equal(pgt_int(c, "SELECT n FROM series_stmts"), 2);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_series"), 3);

    /* a replica (another service.instance.id or host.name) and another
     * type are series of their own; the identifying attributes are kept */
    treq_t *r4 = treq_new(LO_SIGNAL_METRICS);
    const char *res[] = { "{\"host.name\":\"h2\"}", "{\"host.name\":\"h1\",\"service.instance.id\":\"i-9\","
                                                    "\"service.namespace\":\"shop\",\"os.type\":\"linux\"}" };
    for (int i = 0; i < 2; i++) {
        lo_sample_rec_t *x = add_sample(r4, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_GAUGE, 1, 5);
        x->env = g->env;
        x->resource = lo_str(res[i], strlen(res[i]));
    }
    lo_sample_rec_t *sum = add_sample(r4, "cpu", "{\"core\":\"0\"}", 1, LO_METRIC_SUM, 1, 5);
    sum->env = g->env;
    sum->resource = g->resource;
    submit_wait(in, r4);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM metric_series"), 6);
    assert_string_equal(
        pgt_value(c,
                  "SELECT string_agg(resource_id::text, ';' ORDER BY resource_id::text COLLATE \"C\") FROM "
                  "metric_series WHERE name = 'cpu' AND labels = '{\"core\":\"0\"}' AND type = 1",
                  v, sizeof(v)),
        "{\"host.name\": \"h1\", \"service.namespace\": \"shop\", \"service.instance.id\": \"i-9\"};"
        "{\"host.name\": \"h1\"};{\"host.name\": \"h2\"}");
    treq_free(r4);
    /* every sample has its series */
    assert_int_equal(
        pgt_int(c, "SELECT count(*) FROM metric_samples s LEFT JOIN metric_series m USING (series_id)"
                   " WHERE m.series_id IS NULL"),
        0);
    PQfinish(c);
    treq_free(r1);
    treq_free(r2);
    treq_free(r3);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_metrics");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_identity_not_forgeable),
        cmocka_unit_test(test_samples_and_series_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
