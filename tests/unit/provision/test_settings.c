/*
 * Settings: the seed topology as defaults, overrides, and every
 * validation error with the line and column a user must fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "provision.h"

static struct prov_settings *
parse(const char *text, struct hearth_config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return prov_settings_parse("s.yaml", text, strlen(text), errs);
}

/* Asserts one error among errs is at line:col and contains needle. */
static void
assert_error(const struct hearth_config_errors *errs, int line, int col,
    const char *needle)
{
	for (size_t i = 0; i < errs->n; i++)
		if (errs->v[i].pos.line == line && errs->v[i].pos.col == col &&
		    strstr(errs->v[i].message, needle) != NULL)
			return;
	for (size_t i = 0; i < errs->n; i++)
		print_message("  have %d:%d: %s\n", errs->v[i].pos.line,
		    errs->v[i].pos.col, errs->v[i].message);
	fail_msg("no error at %d:%d containing \"%s\"", line, col, needle);
}

static void
test_empty_file_is_the_seed_topology(void **state)
{
	struct hearth_config_errors errs;
	struct prov_settings *s = parse("", &errs);
	char a[INET_ADDRSTRLEN], mac[PROV_MAC_STRLEN];

	assert_non_null(s);
	assert_string_equal(s->cluster_name, "k8s-myhome");
	assert_string_equal(s->kubernetes_version, "1.31");
	assert_string_equal(s->pod_subnet, "10.244.0.0/16");
	assert_string_equal(s->service_subnet, "10.96.0.0/12");
	assert_string_equal(s->net_name, "default");
	assert_string_equal(s->bridge, "virbr0");
	assert_string_equal(prov_ip(s->net_addr, a), "192.168.122.1");
	assert_int_equal(s->net_prefix, 24);
	assert_string_equal(s->pool, "default");
	assert_int_equal(s->n_nodes, 3);
	assert_string_equal(s->nodes[0].name, "k8s-control-plane");
	assert_int_equal(s->nodes[0].role, PROV_ROLE_CONTROL_PLANE);
	assert_int_equal(s->nodes[0].vcpus, 4);
	assert_int_equal(s->nodes[0].memory_mib, 8192);
	assert_int_equal(s->nodes[0].disk_gib, 50);
	assert_string_equal(prov_ip(s->nodes[0].addr, a), "192.168.122.10");
	assert_string_equal(s->nodes[2].name, "k8s-worker2");
	assert_int_equal(s->nodes[2].vcpus, 2);
	assert_int_equal(s->nodes[2].memory_mib, 4096);
	assert_int_equal(s->nodes[2].disk_gib, 30);
	assert_string_equal(prov_ip(s->nodes[2].addr, a), "192.168.122.12");
	prov_node_mac(&s->nodes[1], mac);
	assert_string_equal(mac, "52:54:00:a8:7a:0b");
	assert_ptr_equal(prov_control_plane(s), &s->nodes[0]);
	prov_settings_free(s);
}

static void
test_overrides_keep_other_defaults(void **state)
{
	struct hearth_config_errors errs;
	struct prov_settings *s =
	    parse("cluster: {name: lab, kubernetes_version: \"1.32\"}\n"
	          "image: {base: /srv/noble.img}\n"
	          "ssh_authorized_keys: [\"ssh-ed25519 AAAAC3Nza me@host\"]\n"
	          "nodes:\n"
	          "  - {name: cp, role: control-plane, address: "
	          "192.168.122.20}\n"
	          "  - {name: w, address: 192.168.122.21, disk_gib: 12}\n",
	        &errs);

	assert_int_equal(errs.n, 0);
	assert_non_null(s);
	assert_string_equal(s->cluster_name, "lab");
	assert_string_equal(s->kubernetes_version, "1.32");
	assert_string_equal(s->image_base, "/srv/noble.img");
	assert_int_equal(s->image_base_pos.line, 2);
	assert_string_equal(s->net_name, "default");
	assert_int_equal(s->n_ssh_keys, 1);
	assert_int_equal(s->n_nodes, 2);
	assert_int_equal(s->nodes[0].vcpus, 4); /* control-plane default */
	assert_int_equal(s->nodes[1].role, PROV_ROLE_WORKER);
	assert_int_equal(s->nodes[1].memory_mib, 4096);
	assert_int_equal(s->nodes[1].disk_gib, 12);
	prov_settings_free(s);
}

static void
test_unknown_key_is_reported_at_the_key(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("cluster:\n  name: x\n  colour: blue\n", &errs));
	assert_error(&errs, 3, 3, "cluster.colour: unknown key");
	hearth_config_errors_free(&errs);
}

static void
test_address_outside_the_network(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("nodes:\n"
	                  "  - {name: cp, role: control-plane, address: "
	                  "192.168.122.10}\n"
	                  "  - {name: w1, address: 10.0.0.11}\n",
	    &errs));
	assert_int_equal(errs.n, 1);
	assert_error(&errs, 3, 25,
	    "10.0.0.11 (node w1) is outside the network "
	    "192.168.122.0/24");
	hearth_config_errors_free(&errs);
}

static void
test_bridge_and_broadcast_addresses_are_refused(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("nodes:\n"
	                  "  - {name: cp, role: control-plane, address: "
	                  "192.168.122.1}\n"
	                  "  - {name: w1, address: 192.168.122.255}\n",
	    &errs));
	assert_error(&errs, 2, 46, "bridge");
	assert_error(&errs, 3, 25, "broadcast");
	hearth_config_errors_free(&errs);
}

static void
test_duplicate_names_and_addresses(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("nodes:\n"
	                  "  - {name: cp, role: control-plane, address: "
	                  "192.168.122.10}\n"
	                  "  - {name: cp, address: 192.168.122.11}\n"
	                  "  - {name: w2, address: 192.168.122.11}\n",
	    &errs));
	assert_error(&errs, 3, 12, "\"cp\" is used by two nodes");
	assert_error(&errs, 4, 25, "192.168.122.11 is used by both cp and w2");
	hearth_config_errors_free(&errs);
}

static void
test_bad_cidrs(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("cluster:\n"
	                  "  pod_subnet: 10.244.0.1/16\n"
	                  "  service_subnet: 10.96.0.0/40\n"
	                  "network:\n"
	                  "  address: 192.168.122.1\n",
	    &errs));
	assert_error(&errs, 2, 15,
	    "host bits set (did you mean 10.244.0.0/16?)");
	assert_error(&errs, 3, 19, "is not an IPv4 CIDR");
	assert_error(&errs, 5, 12, "is not an IPv4 CIDR");
	hearth_config_errors_free(&errs);
}

static void
test_overlapping_subnets(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("cluster: {pod_subnet: 192.168.0.0/16}\n", &errs));
	assert_int_equal(errs.n, 1);
	assert_true(
	    strstr(errs.v[0].message, "overlaps cluster.pod_subnet") != NULL);
	hearth_config_errors_free(&errs);
}

static void
test_exactly_one_control_plane(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("nodes:\n"
	                  "  - {name: a, address: 192.168.122.10}\n"
	                  "  - {name: b, address: 192.168.122.11}\n",
	    &errs));
	assert_error(&errs, 2, 3,
	    "exactly one node must have role "
	    "control-plane (found 0)");
	hearth_config_errors_free(&errs);
}

static void
test_wrong_values_each_reported(void **state)
{
	struct hearth_config_errors errs;

	assert_null(
	    parse("cluster: {kubernetes_version: \"1.29\", name: Big_Name}\n"
	          "image: {base: relative.img}\n"
	          "nodes:\n"
	          "  - {name: cp, role: boss, address: 192.168.122.10, vcpus: "
	          "0,"
	          " memory_mib: lots}\n",
	        &errs));
	assert_error(&errs, 1, 31, "1.31 or later");
	assert_error(&errs, 1, 45, "is not a DNS label");
	assert_error(&errs, 2, 15, "not an absolute path");
	assert_error(&errs, 4, 22, "neither control-plane nor worker");
	assert_error(&errs, 4, 60, "nodes.vcpus");
	assert_error(&errs, 4, 75, "nodes.memory_mib");
	hearth_config_errors_free(&errs);
}

static void
test_malformed_yaml_has_a_position(void **state)
{
	struct hearth_config_errors errs;

	assert_null(parse("cluster: {name: x\nnodes: [\n", &errs));
	assert_int_equal(errs.n, 1);
	assert_true(errs.v[0].pos.line >= 2);
	hearth_config_errors_free(&errs);
}

static void
test_image_format_from_magic(void **state)
{
	assert_string_equal(prov_image_format((const unsigned char
	                                              *)"QFI\xfb\0\0\0\3",
	                        8),
	    "qcow2");
	assert_string_equal(prov_image_format((const unsigned char *)"\0\0\0\0",
	                        4),
	    "raw");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_file_is_the_seed_topology),
	    cmocka_unit_test(test_overrides_keep_other_defaults),
	    cmocka_unit_test(test_unknown_key_is_reported_at_the_key),
	    cmocka_unit_test(test_address_outside_the_network),
	    cmocka_unit_test(test_bridge_and_broadcast_addresses_are_refused),
	    cmocka_unit_test(test_duplicate_names_and_addresses),
	    cmocka_unit_test(test_bad_cidrs),
	    cmocka_unit_test(test_overlapping_subnets),
	    cmocka_unit_test(test_exactly_one_control_plane),
	    cmocka_unit_test(test_wrong_values_each_reported),
	    cmocka_unit_test(test_malformed_yaml_has_a_position),
	    cmocka_unit_test(test_image_format_from_magic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
