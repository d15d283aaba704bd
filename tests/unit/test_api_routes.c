/* The API route table (http/api.h): registration rules, matching with
 * path parameters, 404 / 405 with Allow / 403 by scope, route kinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/api.h"

static int called;

static int h_ok(lo_api_req_t *req, lo_api_resp_t *resp)
{
    (void)req;
    called++;
    resp->status = 200;
    return LO_OK;
}

static const lo_api_route_t R[] = {
    { "GET", "/api/things", LO_SCOPE_OBSERVE_READ, true, LO_ROUTE_JSON, h_ok, NULL },
    { "POST", "/api/things", LO_SCOPE_ALERT_MANAGE, true, LO_ROUTE_JSON, h_ok, NULL },
    { "GET", "/api/things/{id}", LO_SCOPE_OBSERVE_READ, true, LO_ROUTE_JSON, h_ok, NULL },
    { "PATCH", "/api/things/{id}", LO_SCOPE_ALERT_MANAGE, true, LO_ROUTE_JSON, h_ok, NULL },
    { "GET", "/api/things/{id}/events/{ev}", 0, false, LO_ROUTE_JSON, h_ok, NULL },
    { "GET", "/api/tail", LO_SCOPE_OBSERVE_READ, false, LO_ROUTE_UPGRADE, h_ok, NULL },
};

static void test_add_rules(void **state)
{
    (void)state;
    lo_api_routes_t t;
    lo_api_routes_init(&t);
    assert_int_equal(lo_api_routes_add(&t, R, LO_ARRAY_LEN(R)), LO_OK);
    assert_int_equal(t.n, LO_ARRAY_LEN(R));
    /* the same method and pattern twice */
    assert_int_equal(lo_api_routes_add(&t, R, 1), LO_ERROR);
    static const char *const bad[] = { "api/x",   "/api//x",   "/api/x/",   "/api/{",
                                       "/api/{}", "/api/{a}b", "/api/a{b}", "/{a}/{b}/{c}/{d}/{e}",
                                       "" };
    for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
        lo_api_route_t r = { "GET", bad[i], 0, false, LO_ROUTE_JSON, h_ok, NULL };
        lo_api_routes_t u;
        lo_api_routes_init(&u);
        if (lo_api_routes_add(&u, &r, 1) != LO_ERROR)
            fail_msg("pattern \"%s\" accepted", bad[i]);
    }
    lo_api_route_t nohandler = { "GET", "/x", 0, false, LO_ROUTE_JSON, NULL, NULL };
    assert_int_equal(lo_api_routes_add(&t, &nohandler, 1), LO_ERROR);
    /* bounded */
    lo_api_routes_t full;
    lo_api_routes_init(&full);
    static lo_api_route_t many[LO_API_MAX_ROUTES + 1];
    static char pats[LO_API_MAX_ROUTES + 1][16];
    for (int i = 0; i <= LO_API_MAX_ROUTES; i++) {
        snprintf(pats[i], sizeof(pats[i]), "/r%d", i);
        many[i] = (lo_api_route_t){ "GET", pats[i], 0, false, LO_ROUTE_JSON, h_ok, NULL };
    }
    assert_int_equal(lo_api_routes_add(&full, many, LO_API_MAX_ROUTES), LO_OK);
    assert_int_equal(lo_api_routes_add(&full, &many[LO_API_MAX_ROUTES], 1), LO_ERROR);
}

static void test_match(void **state)
{
    (void)state;
    lo_api_routes_t t;
    lo_api_routes_init(&t);
    assert_int_equal(lo_api_routes_add(&t, R, LO_ARRAY_LEN(R)), LO_OK);
    const lo_api_route_t *r;
    char allow[64];
    lo_api_req_t q = { 0 };
    assert_int_equal(lo_api_routes_match(&t, "GET", "/api/things", &q, &r, allow, sizeof(allow)), LO_OK);
    assert_ptr_equal(r, &R[0]);
    assert_int_equal(lo_api_routes_match(&t, "POST", "/api/things", &q, &r, allow, sizeof(allow)), LO_OK);
    assert_ptr_equal(r, &R[1]);
    assert_int_equal(lo_api_routes_match(&t, "GET", "/api/things/42", &q, &r, allow, sizeof(allow)), LO_OK);
    assert_ptr_equal(r, &R[2]);
    assert_string_equal(lo_api_path_param(&q, "id"), "42");
    assert_null(lo_api_path_param(&q, "i"));
    assert_null(lo_api_path_param(&q, "idx"));
    assert_int_equal(lo_api_routes_match(&t, "GET", "/api/things/7/events/e9", &q, &r, allow, sizeof(allow)),
                     LO_OK);
    assert_string_equal(lo_api_path_param(&q, "id"), "7");
    assert_string_equal(lo_api_path_param(&q, "ev"), "e9");
    /* 404: no pattern matches the path */
    static const char *const none[] = {
        "/api/thing", "/api/things/", "/api/things//events/x", "/api/things/1/2", "/api",
        "",           "api/things",   "/api/things/1/events"
    };
    for (size_t i = 0; i < LO_ARRAY_LEN(none); i++)
        if (lo_api_routes_match(&t, "GET", none[i], &q, &r, allow, sizeof(allow)) != LO_DECLINED)
            fail_msg("\"%s\" matched", none[i]);
    /* 405: the path is known, the method is not */
    assert_int_equal(lo_api_routes_match(&t, "DELETE", "/api/things/1", &q, &r, allow, sizeof(allow)),
                     LO_INVALID);
    assert_string_equal(allow, "GET, PATCH");
    assert_int_equal(lo_api_routes_match(&t, "get", "/api/things", &q, &r, allow, sizeof(allow)), LO_INVALID);
    assert_string_equal(allow, "GET, POST");
    /* the kind is the route's */
    assert_int_equal(lo_api_routes_match(&t, "GET", "/api/tail", &q, &r, allow, sizeof(allow)), LO_OK);
    assert_int_equal(r->kind, LO_ROUTE_UPGRADE);
    assert_false(r->needs_db);
    /* a path longer than any route may be */
    char longp[LO_API_PATH_MAX + 10];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(lo_api_routes_match(&t, "GET", longp, &q, &r, allow, sizeof(allow)), LO_DECLINED);
}

static void test_call_scopes(void **state)
{
    (void)state;
    lo_api_routes_t t;
    lo_api_routes_init(&t);
    assert_int_equal(lo_api_routes_add(&t, R, LO_ARRAY_LEN(R)), LO_OK);
    lo_principal_t reader = { .scopes = LO_SCOPE_OBSERVE_READ }, admin = { .scopes = LO_SCOPE_ADMIN };
    lo_api_resp_t resp = { 0 };
    lo_buf_init(&resp.body, 4096);
    lo_api_req_t q = { .method = "POST", .path = "/api/things", .who = &reader };
    called = 0;
    assert_int_equal(lo_api_routes_call(&t, &q, &resp), LO_OK);
    assert_int_equal(resp.status, 403);
    assert_non_null(strstr(resp.body.p, "alert:manage"));
    assert_int_equal(called, 0);
    q.who = &admin; /* admin holds every scope */
    resp.status = 0;
    assert_int_equal(lo_api_routes_call(&t, &q, &resp), LO_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(called, 1);
    q.method = "PUT";
    resp.n_headers = 0;
    assert_int_equal(lo_api_routes_call(&t, &q, &resp), LO_OK);
    assert_int_equal(resp.status, 405);
    assert_int_equal(resp.n_headers, 1);
    assert_string_equal(resp.headers[0].name, "Allow");
    assert_string_equal(resp.headers[0].value, "GET, POST");
    q.path = "/api/nope";
    assert_int_equal(lo_api_routes_call(&t, &q, &resp), LO_OK);
    assert_int_equal(resp.status, 404);
    q = (lo_api_req_t){ .method = "GET", .path = "/api/things/1/events/2", .who = NULL };
    assert_int_equal(lo_api_routes_call(&t, &q, &resp), LO_OK); /* scope 0: anyone authenticated */
    assert_int_equal(resp.status, 200);
    /* headers are bounded and never carry a line break */
    lo_api_resp_t h = { 0 };
    lo_api_header(&h, "X-A", "1\r\nX-Evil: 1");
    assert_int_equal(h.n_headers, 0);
    for (int i = 0; i < LO_API_MAX_HEADERS + 2; i++)
        lo_api_header(&h, "X-B", "v");
    assert_int_equal(h.n_headers, LO_API_MAX_HEADERS);
    lo_buf_free(&resp.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_rules),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_call_scopes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
