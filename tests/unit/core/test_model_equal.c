/*
 * Section equality: two parses of the same file are equal in every
 * section; a change in one section shows in that section's function and
 * not in the others', so a reload leaves untouched modules alone.
 */
#include "cfgtest.h"

static const char *base =
    "node: {name: n1}\n"
    "peers: {members: [10.0.0.10]}\n"
    "pools: [{name: lab, addresses: [10.0.0.100-10.0.0.150]}]\n"
    "services:\n"
    "  - {name: gw, address: 10.0.0.100, ports: [{port: 80, target: proxy}]}\n"
    "  - {name: db, address: 10.0.0.101, ports: [{port: 5432, backends: "
    "[10.1.0.1:5432]}]}\n"
    "nat: {masquerade: [{source: 10.0.0.0/24}], allow_input: [22/tcp]}\n"
    "dns:\n  zones:\n    - origin: example.com\n      views:\n"
    "        - {name: all, clients: [0.0.0.0/0], records: [\"www A "
    "10.0.0.100\"]}\n"
    "proxy:\n  routes:\n    - hostnames: [www.example.com]\n"
    "      rules: [{backends: [{address: 10.1.0.2:80, weight: 2}]}]\n";

/* base with the first occurrence of from replaced by to. */
static struct hearth_model *
variant(const char *from, const char *to)
{
	char buf[4096];
	const char *at = strstr(base, from);
	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - base), base, to,
	    at + strlen(from));
	return cfgtest_valid(buf);
}

struct verdict {
	bool services, nat, dns, proxy, l2;
};

static void
expect_equal(const struct hearth_model *a, const struct hearth_model *b,
    struct verdict want)
{
	assert_int_equal(hearth_model_services_equal(a, b), want.services);
	assert_int_equal(hearth_model_nat_equal(a, b), want.nat);
	assert_int_equal(hearth_model_dns_equal(a, b), want.dns);
	assert_int_equal(hearth_model_proxy_equal(a, b), want.proxy);
	assert_int_equal(hearth_model_l2_equal(a, b), want.l2);
}

static void
check(const char *from, const char *to, struct verdict want)
{
	struct hearth_model *a = cfgtest_valid(base);
	struct hearth_model *b = variant(from, to);
	expect_equal(a, b, want);
	expect_equal(b, a, want);
	hearth_model_unref(a);
	hearth_model_unref(b);
}

static void
test_two_parses_of_one_file_are_equal(void **state)
{
	check("n1", "n1", (struct verdict){true, true, true, true, true});
}

static void
test_backend_change_concerns_services_only(void **state)
{
	check("10.1.0.1:5432", "10.1.0.9:5432",
	    (struct verdict){false, true, true, true, true});
}

static void
test_vip_change_concerns_services_and_l2(void **state)
{
	check("address: 10.0.0.101", "address: 10.0.0.102",
	    (struct verdict){false, true, true, true, false});
}

static void
test_node_name_change_concerns_l2(void **state)
{
	check("name: n1", "name: n2",
	    (struct verdict){true, true, true, true, false});
}

static void
test_nat_change_concerns_nat_only(void **state)
{
	check("22/tcp", "23/tcp",
	    (struct verdict){true, false, true, true, true});
}

static void
test_record_change_concerns_dns_only(void **state)
{
	check("www A 10.0.0.100", "www A 10.0.0.101",
	    (struct verdict){true, true, false, true, true});
}

static void
test_weight_change_concerns_proxy_only(void **state)
{
	check("weight: 2", "weight: 3",
	    (struct verdict){true, true, true, false, true});
}

static void
test_access_log_change_concerns_proxy_only(void **state)
{
	check("weight: 2}]}]\n", "weight: 2}]}]\n  access_log: /tmp/a.log\n",
	    (struct verdict){true, true, true, false, true});
	struct hearth_model *a = variant("weight: 2}]}]\n",
	    "weight: 2}]}]\n  access_log: /tmp/a.log\n");
	struct hearth_model *b = variant("weight: 2}]}]\n",
	    "weight: 2}]}]\n  access_log: /tmp/b.log\n");
	struct hearth_model *c = variant("weight: 2}]}]\n",
	    "weight: 2}]}]\n  access_log: /tmp/a.log\n"
	    "  access_log_format: text\n");
	struct hearth_model *d = variant("weight: 2}]}]\n",
	    "weight: 2}]}]\n  access_log: /tmp/a.log\n"
	    "  access_log_format: json\n");
	assert_false(hearth_model_proxy_equal(a, b));
	assert_false(hearth_model_proxy_equal(a, c));
	assert_true(hearth_model_proxy_equal(a, d));
	hearth_model_unref(a);
	hearth_model_unref(b);
	hearth_model_unref(c);
	hearth_model_unref(d);
}

static void
test_health_check_change_concerns_proxy_only(void **state)
{
	check("weight: 2}]", "weight: 2}], health_check: {}",
	    (struct verdict){true, true, true, false, true});
	struct hearth_model *a =
	    variant("weight: 2}]", "weight: 2}], health_check: {path: /a}");
	struct hearth_model *b =
	    variant("weight: 2}]", "weight: 2}], health_check: {path: /b}");
	struct hearth_model *c = variant("weight: 2}]",
	    "weight: 2}], health_check: {path: /a, expect_status: 200}");
	struct hearth_model *d =
	    variant("weight: 2}]", "weight: 2}], health_check: {path: /a}");
	assert_false(hearth_model_proxy_equal(a, b));
	assert_false(hearth_model_proxy_equal(a, c));
	assert_true(hearth_model_proxy_equal(a, d));
	hearth_model_unref(a);
	hearth_model_unref(b);
	hearth_model_unref(c);
	hearth_model_unref(d);
}

static void
test_removing_a_section_is_a_change(void **state)
{
	struct hearth_model *a = cfgtest_valid("nat: {}\ndns: {}\nproxy: {}\n");
	struct hearth_model *b = cfgtest_valid("");
	expect_equal(a, b, (struct verdict){true, false, false, false, true});
	hearth_model_unref(a);
	hearth_model_unref(b);
}

static void
test_reordered_services_with_same_vips_keep_l2(void **state)
{
	struct hearth_model *a =
	    cfgtest_valid("pools: [{name: p, addresses: [10.0.0.0/24]}]\n"
	                  "services: [{name: a, address: 10.0.0.1}, {name: b, "
	                  "address: 10.0.0.2}]\n");
	struct hearth_model *b =
	    cfgtest_valid("pools: [{name: p, addresses: [10.0.0.0/24]}]\n"
	                  "services: [{name: b, address: 10.0.0.2}, {name: a, "
	                  "address: 10.0.0.1}]\n");
	assert_false(hearth_model_services_equal(a, b));
	assert_true(hearth_model_l2_equal(a, b));
	hearth_model_unref(a);
	hearth_model_unref(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_parses_of_one_file_are_equal),
	    cmocka_unit_test(test_backend_change_concerns_services_only),
	    cmocka_unit_test(test_vip_change_concerns_services_and_l2),
	    cmocka_unit_test(test_node_name_change_concerns_l2),
	    cmocka_unit_test(test_nat_change_concerns_nat_only),
	    cmocka_unit_test(test_record_change_concerns_dns_only),
	    cmocka_unit_test(test_weight_change_concerns_proxy_only),
	    cmocka_unit_test(test_health_check_change_concerns_proxy_only),
	    cmocka_unit_test(test_access_log_change_concerns_proxy_only),
	    cmocka_unit_test(test_removing_a_section_is_a_change),
	    cmocka_unit_test(test_reordered_services_with_same_vips_keep_l2),
	};
	return cmocka_run_group_tests(tests, cfgtest_setup, cfgtest_teardown);
}
