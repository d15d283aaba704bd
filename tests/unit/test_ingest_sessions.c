/* agent_sessions: records carrying session, project and user teach the
 * mapping; records carrying only a session get project and user from the
 * batch, the cache, or one query; the cache expires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ingest_harness.h"

static char conninfo[1024];
static int64_t base;

static lo_log_rec_t *add_log(treq_t *t, const char *msg, int sess, int proj, int user)
{
    lo_log_rec_t *r = lo_otlp_batch_push(&t->req.batch);
    assert_non_null(r);
    r->env.service = S("svc");
    r->time_ns = base;
    r->level = S("info");
    r->message = lo_str(msg, strlen(msg));
    if (sess > 0) {
        fill_uuid(r->env.session_id, (uint8_t)sess);
        r->env.has_session = true;
    }
    if (proj > 0) {
        fill_uuid(r->env.project_id, (uint8_t)proj);
        r->env.has_project = true;
    }
    if (user > 0) {
        fill_uuid(r->env.user_id, (uint8_t)user);
        r->env.has_user = true;
    }
    return r;
}

static void submit_wait(lo_ingest_t *in, treq_t *t)
{
    assert_int_equal(lo_ingest_submit(in, &t->req), LO_OK);
    assert_int_equal(treq_wait(t, 5000), LO_OK);
    treq_free(t);
}

/* "project-seed/user-seed" of the stored log with message msg ("-" for NULL). */
static void who(PGconn *c, const char *table, const char *col, const char *msg, char *out, size_t n)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(substr(project_id::text, 1, 2), '-') || '/' || coalesce(substr(user_id::text, "
             "1, 2), '-')"
             " FROM %s WHERE %s = '%s'",
             table, col, msg);
    pgt_value(c, sql, out, n);
}

static void test_learn_resolve_cache(void **state)
{
    (void)state;
    int64_t t = lo_now_ns() - 60LL * 1000000000;
    base = t - t % 1000;
    it_fresh_schema("lo_t_sessions", conninfo, sizeof(conninfo));
    PGconn *c = pgt_connect(conninfo);
    pgt_exec(c, "CREATE TABLE sess_stmts (n int NOT NULL); INSERT INTO sess_stmts VALUES (0);"
                "CREATE FUNCTION count_stmt() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN UPDATE sess_stmts SET n = n + 1; RETURN NULL; END $$;"
                "CREATE TRIGGER count_stmt AFTER INSERT ON agent_sessions FOR EACH STATEMENT "
                "EXECUTE FUNCTION count_stmt()");
    /* session 2 is known only to the table */
    pgt_exec(c, "INSERT INTO agent_sessions (session_id, project_id, user_id) VALUES "
                "('20212223-2425-4627-a829-2a2b2c2d2e2f', '50515253-5455-4657-9859-5a5b5c5d5e5f',"
                " '60616263-6465-4667-a869-6a6b6c6d6e6f')");
    pgt_exec(c, "UPDATE sess_stmts SET n = 0");
    /* the lending of a project to project-less records is on here: the
     * default (off) is test_squatting */
    const char *lend[] = { "session_lend_project", "1", NULL };
    lo_ingest_t *in = it_start_with(conninfo, 2, NULL, true, lend);
    char v[64];

    /* one request teaches session 1 and uses it; session 2 from the table;
     * session 9 is unknown everywhere */
    treq_t *r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "only-session-before", 1, 0, 0);
    add_log(r, "teacher", 1, 3, 4);
    add_log(r, "s2", 2, 0, 0);
    add_log(r, "s2-own-project", 2, 7, 0);
    add_log(r, "unknown", 9, 0, 0);
    add_log(r, "none", 0, 0, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "only-session-before", v, sizeof(v));
    assert_string_equal(v, "30/40");
    who(c, "log_entries", "message", "teacher", v, sizeof(v));
    assert_string_equal(v, "30/40");
    who(c, "log_entries", "message", "s2", v, sizeof(v));
    assert_string_equal(v, "50/60");
    who(c, "log_entries", "message", "s2-own-project", v, sizeof(v));
    assert_string_equal(v, "70/-"); /* another project's session lends nothing */
    who(c, "log_entries", "message", "unknown", v, sizeof(v));
    assert_string_equal(v, "-/-");
    who(c, "log_entries", "message", "none", v, sizeof(v));
    assert_string_equal(v, "-/-");
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM agent_sessions"), 2);
    assert_string_equal(
        pgt_value(
            c,
            "SELECT substr(project_id::text, 1, 2) || '/' || substr(user_id::text, 1, 2) FROM agent_sessions"
            " WHERE session_id = '10111213-1415-4617-9819-1a1b1c1d1e1f'",
            v, sizeof(v)),
        "30/40");
    assert_int_equal(pgt_int(c, "SELECT n FROM sess_stmts"), 1);

    /* the mapping now comes from the cache: the table is not asked (its row
     * is gone) and the same lesson is not upserted again */
    pgt_exec(c, "DELETE FROM agent_sessions");
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "cached", 1, 0, 0);
    add_log(r, "teacher-again", 1, 3, 4);
    add_log(r, "s2-cached", 2, 0, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "cached", v, sizeof(v));
    assert_string_equal(v, "30/40");
    who(c, "log_entries", "message", "s2-cached", v, sizeof(v));
    assert_string_equal(v, "50/60");
    assert_int_equal(pgt_int(c, "SELECT n FROM sess_stmts"), 1);
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM agent_sessions"), 0);

    /* a new lesson for a known session updates the mapping */
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "moved", 1, 8, 4);
    submit_wait(in, r);
    assert_int_equal(pgt_int(c, "SELECT n FROM sess_stmts"), 2);
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "after-move", 1, 0, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "after-move", v, sizeof(v));
    assert_string_equal(v, "80/40");

    /* a session stays with the project that claimed it first: a lesson
     * from another project (a token bound to B naming A's session) changes
     * neither the table nor what later records resolve to */
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "claim-5", 5, 3, 4);
    submit_wait(in, r);
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "steal-5", 5, 8, 9);
    submit_wait(in, r);
    assert_string_equal(
        pgt_value(
            c,
            "SELECT substr(project_id::text, 1, 2) || '/' || substr(user_id::text, 1, 2) FROM agent_sessions"
            " WHERE session_id = '50515253-5455-4657-9859-5a5b5c5d5e5f'",
            v, sizeof(v)),
        "30/40");
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "after-steal-5", 5, 0, 0);
    add_log(r, "steal-5-no-user", 5, 8, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "after-steal-5", v, sizeof(v));
    assert_string_equal(v, "30/40");
    who(c, "log_entries", "message", "steal-5-no-user", v, sizeof(v));
    assert_string_equal(v, "80/-");

    /* spans are resolved the same way */
    r = treq_new(LO_SIGNAL_SPANS);
    lo_span_rec_t *s = lo_otlp_batch_push(&r->req.batch);
    memset(s->env.trace_id, 1, 16);
    memset(s->env.span_id, 1, 8);
    s->env.has_trace_id = s->env.has_span_id = true;
    fill_uuid(s->env.session_id, 1);
    s->env.has_session = true;
    s->env.service = S("svc");
    s->name = S("span-1");
    s->start_ns = s->end_ns = base;
    submit_wait(in, r);
    who(c, "spans", "name", "span-1", v, sizeof(v));
    assert_string_equal(v, "80/40");
    PQfinish(c);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_sessions");
}

/* By default a session id claims nothing for records without a project:
 * project A claiming a session first does not receive the project-less
 * records (from an unbound token) that name it, nor lend its user to them
 * or to another project's records (docs/auth.md). */
static void test_squatting(void **state)
{
    (void)state;
    int64_t t = lo_now_ns() - 60LL * 1000000000;
    base = t - t % 1000;
    it_fresh_schema("lo_t_sessions_squat", conninfo, sizeof(conninfo));
    PGconn *c = pgt_connect(conninfo);
    lo_ingest_t *in = it_start(conninfo, 1, NULL, true);
    char v[64];
    treq_t *r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "squat", 6, 3, 4); /* project 3 claims session 6 first */
    submit_wait(in, r);
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "unbound-victim", 6, 0, 0);
    add_log(r, "bound-victim", 6, 7, 0);
    add_log(r, "own-project", 6, 3, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "unbound-victim", v, sizeof(v));
    assert_string_equal(v, "-/-");
    who(c, "log_entries", "message", "bound-victim", v, sizeof(v));
    assert_string_equal(v, "70/-");
    who(c, "log_entries", "message", "own-project", v, sizeof(v));
    assert_string_equal(v, "30/40"); /* within its project a session still gives its user */
    assert_int_equal(pgt_int(c, "SELECT count(*) FROM log_entries WHERE project_id IS NOT DISTINCT FROM "
                                "'30313233-3435-4637-b839-3a3b3c3d3e3f'"),
                     2);
    PQfinish(c);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_sessions_squat");
}

static void test_cache_expires(void **state)
{
    (void)state;
    int64_t t = lo_now_ns() - 60LL * 1000000000;
    base = t - t % 1000;
    it_fresh_schema("lo_t_sessions_exp", conninfo, sizeof(conninfo));
    PGconn *c = pgt_connect(conninfo);
    const char *extra[] = { "session_cache_seconds", "1", "session_lend_project", "1", NULL };
    lo_ingest_t *in = it_start_with(conninfo, 1, NULL, true, extra);
    char v[64];
    treq_t *r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "teach", 1, 3, 4);
    submit_wait(in, r);
    /* another process moves the session */
    pgt_exec(c, "UPDATE agent_sessions SET project_id = '50515253-5455-4657-9859-5a5b5c5d5e5f'");
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "stale", 1, 0, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "stale", v, sizeof(v));
    assert_string_equal(v, "30/40"); /* still cached */
    usleep(1200 * 1000);
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "fresh", 1, 0, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "fresh", v, sizeof(v));
    assert_string_equal(v, "50/40");
    /* an unknown session is not asked again at once, but is after it expires */
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "unknown-1", 9, 0, 0);
    submit_wait(in, r);
    pgt_exec(c, "INSERT INTO agent_sessions (session_id, project_id, user_id) VALUES "
                "('90919293-9495-4697-9899-9a9b9c9d9e9f', '30313233-3435-4637-b839-3a3b3c3d3e3f',"
                " '30313233-3435-4637-b839-3a3b3c3d3e3f')");
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "unknown-2", 9, 0, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "unknown-2", v, sizeof(v));
    assert_string_equal(v, "-/-");
    usleep(1200 * 1000);
    r = treq_new(LO_SIGNAL_LOGS);
    add_log(r, "unknown-3", 9, 0, 0);
    submit_wait(in, r);
    who(c, "log_entries", "message", "unknown-3", v, sizeof(v));
    assert_string_equal(v, "30/30");
    PQfinish(c);
    lo_ingest_destroy(in);
    pgt_drop_db("lo_t_sessions_exp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_resolve_cache),
        cmocka_unit_test(test_squatting),
        cmocka_unit_test(test_cache_expires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
