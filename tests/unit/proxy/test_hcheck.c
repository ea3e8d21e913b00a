/*
 * Active health checks, the pure part: the up/down state machine with
 * its thresholds (hysteresis, streaks broken by the other result), the
 * check request, the verdict on a backend's answer, and the Host a
 * route's backends are checked with.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hcheck.h"

/* Feeds a string of results ('+' pass, '-' fail); returns the up states. */
static void
feed(struct proxy_hc_sm *sm, const char *results, uint32_t down_after,
    uint32_t up_after, char *states)
{
	for (size_t i = 0; results[i]; i++) {
		proxy_hc_sm_feed(sm, results[i] == '+', down_after, up_after);
		states[i] = sm->up ? 'U' : 'D';
	}
	states[strlen(results)] = '\0';
}

static void
test_backend_starts_up(void **state)
{
	struct proxy_hc_sm sm;
	proxy_hc_sm_init(&sm);
	assert_true(sm.up);
}

static void
test_down_after_unhealthy_after_failures_in_a_row(void **state)
{
	struct proxy_hc_sm sm;
	char got[32];
	proxy_hc_sm_init(&sm);
	feed(&sm, "+--+---", 3, 2, got);
	/* The pass in between breaks the first streak. */
	assert_string_equal(got, "UUUUUUD");
}

static void
test_up_again_after_healthy_after_passes_in_a_row(void **state)
{
	struct proxy_hc_sm sm;
	char got[32];
	proxy_hc_sm_init(&sm);
	feed(&sm, "---+-++", 3, 2, got);
	assert_string_equal(got, "UUDDDDU");
}

static void
test_feed_reports_only_flips(void **state)
{
	struct proxy_hc_sm sm;
	proxy_hc_sm_init(&sm);
	assert_false(proxy_hc_sm_feed(&sm, true, 1, 1));
	assert_true(proxy_hc_sm_feed(&sm, false, 1, 1));
	assert_false(proxy_hc_sm_feed(&sm, false, 1, 1));
	assert_true(proxy_hc_sm_feed(&sm, true, 1, 1));
	assert_true(sm.up);
}

static void
test_request_names_path_and_host_and_closes(void **state)
{
	char buf[256];
	int n = proxy_hc_request(buf, sizeof(buf), "a.example", "/healthz?x=1");
	assert_true(n > 0);
	assert_int_equal(strlen(buf), n);
	assert_memory_equal(buf,
	    "GET /healthz?x=1 HTTP/1.1\r\nHost: a.example\r\n", 44);
	assert_non_null(strstr(buf, "\r\nConnection: close\r\n"));
	assert_string_equal(buf + n - 4, "\r\n\r\n");
	assert_int_equal(proxy_hc_request(buf, 30, "a.example", "/"), -ENOSPC);
}

static const struct hearth_proxy_health_check hc = {.enabled = true,
    .path = "/",
    .expect_min = 200,
    .expect_max = 399};

static enum proxy_hc_verdict
judge(const char *s, unsigned *status)
{
	return proxy_hc_judge(s, strlen(s), &hc, status);
}

static void
test_status_in_range_passes(void **state)
{
	unsigned st;
	assert_int_equal(judge("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	                     &st),
	    PROXY_HC_PASS);
	assert_int_equal(st, 200);
	assert_int_equal(judge("HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n",
	                     &st),
	    PROXY_HC_PASS);
}

static void
test_status_outside_range_fails(void **state)
{
	unsigned st;
	assert_int_equal(judge("HTTP/1.1 500 Oops\r\n\r\n", &st),
	    PROXY_HC_FAIL);
	assert_int_equal(st, 500);
	assert_int_equal(judge("HTTP/1.1 404 Not Found\r\n\r\n", &st),
	    PROXY_HC_FAIL);
	struct hearth_proxy_health_check only204 = hc;
	only204.expect_min = only204.expect_max = 204;
	const char *ok = "HTTP/1.1 200 OK\r\n\r\n";
	assert_int_equal(proxy_hc_judge(ok, strlen(ok), &only204, &st),
	    PROXY_HC_FAIL);
}

static void
test_incomplete_head_waits_for_more(void **state)
{
	unsigned st;
	assert_int_equal(judge("HTTP/1.1 200 OK\r\nServer: x", &st),
	    PROXY_HC_MORE);
	assert_int_equal(judge("", &st), PROXY_HC_MORE);
}

static void
test_garbage_or_endless_head_fails(void **state)
{
	unsigned st;
	assert_int_equal(judge("SSH-2.0-OpenSSH_9.2\r\n\r\n", &st),
	    PROXY_HC_FAIL);
	assert_int_equal(st, 0);
	char *big = malloc(PROXY_HC_MAX_HEAD + 64);
	assert_non_null(big);
	int n = snprintf(big, 64, "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'a', PROXY_HC_MAX_HEAD + 63 - (size_t)n);
	big[PROXY_HC_MAX_HEAD + 63] = '\0';
	assert_int_equal(judge(big, &st), PROXY_HC_FAIL);
	free(big);
}

static void
test_interim_response_is_not_the_answer(void **state)
{
	unsigned st;
	assert_int_equal(judge("HTTP/1.1 100 Continue\r\n\r\n", &st),
	    PROXY_HC_FAIL);
}

static void
test_route_host_is_the_first_exact_name(void **state)
{
	char *names[] = {"*.example.com", "a.example.com", "b.example.com"};
	struct hearth_proxy_route r = {.hostnames = names, .n_hostnames = 3};
	assert_string_equal(proxy_hc_route_host(&r), "a.example.com");
	r.n_hostnames = 1;
	assert_null(proxy_hc_route_host(&r));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backend_starts_up),
	    cmocka_unit_test(test_down_after_unhealthy_after_failures_in_a_row),
	    cmocka_unit_test(test_up_again_after_healthy_after_passes_in_a_row),
	    cmocka_unit_test(test_feed_reports_only_flips),
	    cmocka_unit_test(test_request_names_path_and_host_and_closes),
	    cmocka_unit_test(test_status_in_range_passes),
	    cmocka_unit_test(test_status_outside_range_fails),
	    cmocka_unit_test(test_incomplete_head_waits_for_more),
	    cmocka_unit_test(test_garbage_or_endless_head_fails),
	    cmocka_unit_test(test_interim_response_is_not_the_answer),
	    cmocka_unit_test(test_route_host_is_the_first_exact_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
