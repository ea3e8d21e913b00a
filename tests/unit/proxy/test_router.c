/*
 * Route choice: exact host over wildcard, longest wildcard, passthrough
 * routes invisible to HTTP, path_exact over prefixes, longest prefix,
 * header rules first; smooth weighted round robin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"

static struct hearth_proxy_backend be[4] = {{.weight = 1}, {.weight = 1},
    {.weight = 1}, {.weight = 1}};
static struct hearth_proxy_header_match dbg = {"x-debug", "1"};
static struct hearth_proxy_rule rules_a[] = {
    {HEARTH_PATH_PREFIX, "/", NULL, 0, &be[0], 1, {0}},
    {HEARTH_PATH_PREFIX, "/api", NULL, 0, &be[1], 1, {0}},
    {HEARTH_PATH_PREFIX, "/api/v2/", NULL, 0, &be[2], 1, {0}},
    {HEARTH_PATH_EXACT, "/api", NULL, 0, &be[3], 1, {0}},
    {HEARTH_PATH_PREFIX, "/api", &dbg, 1, &be[0], 1, {0}},
};
static struct hearth_proxy_rule rules_w[] = {
    {HEARTH_PATH_PREFIX, "/", NULL, 0, &be[1], 1, {0}},
};
static struct hearth_proxy_rule rules_w2[] = {
    {HEARTH_PATH_PREFIX, "/", NULL, 0, &be[2], 1, {0}},
};
static char *h_a[] = {"harbor.qroksera.com"};
static char *h_w[] = {"*.qroksera.com"};
static char *h_w2[] = {"*.b.qroksera.com"};
static char *h_p[] = {"argocd.qroksera.com"};
static struct hearth_proxy_route routes[] = {
    {h_w, 1, false, rules_w, 1, NULL, 0, {0}},
    {h_a, 1, false, rules_a, 5, NULL, 0, {0}},
    {h_w2, 1, false, rules_w2, 1, NULL, 0, {0}},
    {h_p, 1, true, NULL, 0, &be[3], 1, {0}},
};
static struct hearth_proxy proxy = {.routes = routes, .n_routes = 4};

static const struct hearth_proxy_route *
host(struct proxy_router *r, const char *h, enum proxy_route_kind k)
{
	return proxy_router_host(r, h, strlen(h), k);
}

static void
test_exact_host_beats_wildcard(void **st)
{
	struct proxy_router *r = proxy_router_new(&proxy);
	assert_non_null(r);
	assert_ptr_equal(host(r, "harbor.qroksera.com", PROXY_ROUTES_HTTP),
	    &routes[1]);
	assert_ptr_equal(host(r, "HARBOR.Qroksera.com:443", PROXY_ROUTES_HTTP),
	    &routes[1]);
	assert_ptr_equal(host(r, "harbor.qroksera.com.", PROXY_ROUTES_HTTP),
	    &routes[1]);
	assert_ptr_equal(host(r, "grafana.qroksera.com", PROXY_ROUTES_HTTP),
	    &routes[0]);
	assert_ptr_equal(host(r, "x.a.qroksera.com", PROXY_ROUTES_HTTP),
	    &routes[0]);
	assert_ptr_equal(host(r, "x.b.qroksera.com", PROXY_ROUTES_HTTP),
	    &routes[2]);
	assert_null(host(r, "qroksera.com", PROXY_ROUTES_HTTP));
	assert_null(host(r, "example.org", PROXY_ROUTES_HTTP));
	assert_null(host(r, "", PROXY_ROUTES_HTTP));
	proxy_router_free(r);
}

static void
test_passthrough_route_only_for_sni(void **st)
{
	struct proxy_router *r = proxy_router_new(&proxy);
	assert_ptr_equal(host(r, "argocd.qroksera.com", PROXY_ROUTES_ANY),
	    &routes[3]);
	/* Plain HTTP to the passthrough name falls to the wildcard. */
	assert_ptr_equal(host(r, "argocd.qroksera.com", PROXY_ROUTES_HTTP),
	    &routes[0]);
	proxy_router_free(r);
}

static const struct hearth_proxy_rule *
rule(struct proxy_router *r, const char *path, const char *hdr_name,
    const char *hdr_value)
{
	struct proxy_http_header h[1];
	struct proxy_http_msg m = {.headers = h, .n_headers = 0};
	if (hdr_name != NULL) {
		h[0].name = (struct proxy_str){hdr_name, strlen(hdr_name)};
		h[0].value = (struct proxy_str){hdr_value, strlen(hdr_value)};
		m.n_headers = 1;
	}
	size_t id;
	return proxy_router_rule(r, &routes[1],
	    (struct proxy_str){path, strlen(path)}, &m, &id);
}

static void
test_rule_precedence(void **st)
{
	struct proxy_router *r = proxy_router_new(&proxy);
	assert_ptr_equal(rule(r, "/api", NULL, NULL), &rules_a[3]);
	assert_ptr_equal(rule(r, "/api", "X-Debug", "1"), &rules_a[3]);
	assert_ptr_equal(rule(r, "/api/x", NULL, NULL), &rules_a[1]);
	assert_ptr_equal(rule(r, "/api/x", "X-DEBUG", "1"), &rules_a[4]);
	assert_ptr_equal(rule(r, "/api/x", "x-debug", "2"), &rules_a[1]);
	assert_ptr_equal(rule(r, "/api/v2/y", "x-debug", "1"), &rules_a[2]);
	assert_ptr_equal(rule(r, "/api/v2", NULL, NULL), &rules_a[2]);
	assert_ptr_equal(rule(r, "/apix", NULL, NULL), &rules_a[0]);
	assert_ptr_equal(rule(r, "/", NULL, NULL), &rules_a[0]);
	assert_int_equal(proxy_router_n_rules(r), 7);
	proxy_router_free(r);
}

static void
test_weights_3_to_1_give_3_of_4(void **st)
{
	struct hearth_proxy_backend b[2] = {{.weight = 3}, {.weight = 1}};
	int64_t cur[2] = {0, 0};
	int count[2] = {0, 0};
	for (int round = 0; round < 5; round++) {
		int c[2] = {0, 0};
		for (int i = 0; i < 4; i++)
			c[proxy_swrr_pick(b, 2, 3, cur)]++;
		assert_int_equal(c[0], 3);
		assert_int_equal(c[1], 1);
		count[0] += c[0];
		count[1] += c[1];
	}
	assert_int_equal(count[0], 15);
}

static void
test_weighted_choice_is_smooth_and_skips_dead(void **st)
{
	struct hearth_proxy_backend b[3] = {{.weight = 5}, {.weight = 1},
	    {.weight = 1}};
	int64_t cur[3] = {0};
	char seq[8] = {0};
	for (int i = 0; i < 7; i++)
		seq[i] = (char)('a' + proxy_swrr_pick(b, 3, 7, cur));
	assert_string_equal(seq, "aabacaa");
	/* b dead: only a and c. */
	int64_t cur2[3] = {0};
	for (int i = 0; i < 12; i++)
		assert_int_not_equal(proxy_swrr_pick(b, 3, 5, cur2), 1);
	struct hearth_proxy_backend z[2] = {{.weight = 0}, {.weight = 2}};
	int64_t cur3[2] = {0};
	assert_int_equal(proxy_swrr_pick(z, 2, 3, cur3), 1);
	assert_int_equal(proxy_swrr_pick(z, 2, 1, cur3), -1);
	assert_int_equal(proxy_swrr_pick(z, 2, 0, cur3), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_host_beats_wildcard),
	    cmocka_unit_test(test_passthrough_route_only_for_sni),
	    cmocka_unit_test(test_rule_precedence),
	    cmocka_unit_test(test_weights_3_to_1_give_3_of_4),
	    cmocka_unit_test(test_weighted_choice_is_smooth_and_skips_dead),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
