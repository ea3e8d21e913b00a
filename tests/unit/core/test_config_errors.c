/*
 * Every class of configuration error a user can make, each reported once
 * at the line and column of the offending key or value, and all of them
 * together (not just the first).
 */
#include "cfgtest.h"

#define POOL                                                                   \
	"pools:\n  - name: lab\n    addresses: "                               \
	"[192.168.122.100-192.168.122.150]\n"

static void
test_unknown_key_is_named_with_its_place(void **state)
{
	cfgtest_error("pools:\n"
	              "  - name: lab\n"
	              "    adresses: [192.168.122.100]\n"
	              "    addresses: [192.168.122.100]\n",
	    3, 5, "unknown key \"adresses\" in pools[0]");
}

static void
test_unknown_top_level_key_is_an_error(void **state)
{
	cfgtest_error("node: {name: a}\nmetric: {}\n", 2, 1,
	    "unknown key \"metric\" at top level");
}

static void
test_duplicate_key_in_a_mapping_is_an_error(void **state)
{
	cfgtest_error("peers:\n  port: 7000\n  port: 7001\n", 3, 3,
	    "duplicate key \"port\" in peers");
}

static void
test_list_where_a_scalar_belongs_is_a_type_error(void **state)
{
	cfgtest_error("node:\n  name: [a, b]\n", 2, 9,
	    "node.name: expected a scalar, got a list");
}

static void
test_scalar_where_a_list_belongs_is_a_type_error(void **state)
{
	cfgtest_error("pools: lab\n", 1, 8, "pools: expected a list");
}

static void
test_scalar_where_a_section_belongs_is_a_type_error(void **state)
{
	cfgtest_error("proxy: yes\n", 1, 8,
	    "proxy: expected a mapping, got a scalar");
}

static void
test_quoted_number_is_a_type_error(void **state)
{
	cfgtest_error("peers:\n  interval_ms: \"100\"\n", 2, 16,
	    "expected an integer");
}

static void
test_word_where_a_boolean_belongs_is_an_error(void **state)
{
	cfgtest_error("peers:\n  quorum: maybe\n", 2, 11,
	    "expected true or false");
}

static void
test_malformed_address_is_an_error(void **state)
{
	cfgtest_error("peers:\n  members: [192.168.122.300]\n", 2, 13,
	    "malformed address \"192.168.122.300\"");
}

static void
test_malformed_cidr_is_an_error(void **state)
{
	cfgtest_error("dns:\n  recursion_clients: [10.0.0.0/33]\n", 2, 23,
	    "malformed CIDR \"10.0.0.0/33\"");
}

static void
test_cidr_with_host_bits_is_an_error(void **state)
{
	cfgtest_error("nat:\n  masquerade:\n    - source: 192.168.122.1/24\n",
	    3, 15, "host bits");
}

static void
test_malformed_range_is_an_error(void **state)
{
	cfgtest_error("pools:\n  - name: a\n    addresses: [10.0.0.1-10.0.0]\n",
	    3, 17, "malformed address range \"10.0.0.1-10.0.0\"");
}

static void
test_range_ending_below_its_start_is_an_error(void **state)
{
	cfgtest_error("pools:\n  - name: a\n    addresses: "
	              "[10.0.0.9-10.0.0.1]\n",
	    3, 17, "ends below its start");
}

static void
test_port_zero_is_outside_the_port_range(void **state)
{
	cfgtest_error("proxy:\n  http_port: 0\n", 2, 14, "outside 1-65535");
}

static void
test_port_above_65535_is_outside_the_port_range(void **state)
{
	cfgtest_error(POOL
	    "services:\n  - name: gw\n    address: 192.168.122.100\n"
	    "    ports:\n      - {port: 65536}\n",
	    8, 16, "port 65536 is outside 1-65535");
}

static void
test_service_outside_every_pool_is_an_error(void **state)
{
	cfgtest_error(POOL
	    "services:\n  - name: gw\n    address: 192.168.122.200\n",
	    6, 14, "192.168.122.200 is in no pool");
}

static void
test_same_address_port_protocol_twice_is_an_error(void **state)
{
	cfgtest_error(POOL "services:\n"
	                   "  - name: a\n"
	                   "    address: 192.168.122.100\n"
	                   "    ports: [{port: 80, target: proxy}]\n"
	                   "  - name: b\n"
	                   "    address: 192.168.122.100\n"
	                   "    ports: [{port: 53, protocol: udp}, {port: 80, "
	                   "protocol: tcp}]\n",
	    10, 40,
	    "\"192.168.122.100:80/tcp\" is already used by "
	    "services[0].ports[0]");
}

static void
test_negative_weight_is_an_error(void **state)
{
	cfgtest_error("proxy:\n  routes:\n    - hostnames: [a.example]\n"
	              "      rules:\n        - backends: [{address: "
	              "10.0.0.1:80, "
	              "weight: -1}]\n",
	    5, 53, "must not be negative");
}

static void
test_weights_summing_to_zero_are_an_error(void **state)
{
	cfgtest_error("proxy:\n  routes:\n    - hostnames: [a.example]\n"
	              "      rules:\n        - backends:\n"
	              "            - {address: 10.0.0.1:80, weight: 0}\n"
	              "            - {address: 10.0.0.2:80, weight: 0}\n",
	    6, 13, "weights sum to 0");
}

static void
test_record_that_does_not_parse_gives_the_reason(void **state)
{
	cfgtest_error(
	    "dns:\n  zones:\n    - origin: example.com\n      views:\n"
	    "        - name: all\n          clients: [0.0.0.0/0]\n"
	    "          records:\n            - \"www 300 IN MX mail\"\n",
	    8, 15, "bad record \"www 300 IN MX mail\": MX needs 2 fields");
}

static void
test_record_outside_the_zone_is_an_error(void **state)
{
	cfgtest_error("dns:\n  zones:\n    - origin: example.com\n      "
	              "views:\n"
	              "        - name: all\n          clients: [0.0.0.0/0]\n"
	              "          records: [\"www.example.org. A 192.0.2.1\"]\n",
	    7, 21, "outside the zone example.com");
}

static void
test_unreadable_key_file_names_the_path_and_reason(void **state)
{
	char want[256];
	snprintf(want, sizeof(want),
	    "cannot read %s/missing.key: No such "
	    "file or directory",
	    cfgtest_dir);
	cfgtest_error("peers:\n  key_file: missing.key\n", 2, 13, want);
}

static void
test_key_file_shorter_than_16_bytes_is_an_error(void **state)
{
	cfgtest_write("short.key", "0123456789abcde   \n\n");
	cfgtest_error("peers:\n  key_file: short.key\n", 2, 13,
	    "holds 15 bytes; at least 16");
}

static void
test_members_naming_other_nodes_need_a_key_file(void **state)
{
	cfgtest_error("peers:\n  members: [10.0.0.1, 10.0.0.2]\n", 2, 12,
	    "peers.key_file is not given");
}

static void
test_dead_after_not_above_interval_is_an_error(void **state)
{
	cfgtest_error("peers:\n  interval_ms: 200\n  dead_after_ms: 200\n", 3,
	    18, "must be above interval_ms");
}

static void
test_interval_above_default_dead_after_is_an_error(void **state)
{
	cfgtest_error("peers:\n  interval_ms: 500\n", 2, 16,
	    "dead_after_ms (400) must be above interval_ms (500)");
}

static void
test_target_and_backends_on_one_port_are_an_error(void **state)
{
	cfgtest_error(POOL
	    "services:\n  - name: gw\n    address: 192.168.122.100\n"
	    "    ports:\n      - {port: 80, target: proxy, backends: "
	    "[10.0.0.1:80]}\n",
	    8, 45, "target and backends are exclusive");
}

static void
test_target_other_than_proxy_is_an_error(void **state)
{
	cfgtest_error(POOL
	    "services:\n  - name: gw\n    address: 192.168.122.100\n"
	    "    ports:\n      - {port: 80, target: nginx}\n",
	    8, 28, "the only target is \"proxy\"");
}

static void
test_duplicate_pool_names_are_an_error(void **state)
{
	cfgtest_error("pools:\n  - {name: lab, addresses: [10.0.0.1]}\n"
	              "  - {name: lab, addresses: [10.0.0.2]}\n",
	    3, 12, "pool name \"lab\" is already used by pools[0].name");
}

static void
test_overlapping_pools_are_an_error(void **state)
{
	cfgtest_error("pools:\n  - {name: a, addresses: [10.0.0.0/24]}\n"
	              "  - {name: b, addresses: [10.0.1.0/24, "
	              "10.0.0.200-10.0.0.210]}\n",
	    3, 40, "\"10.0.0.200-10.0.0.210\" overlaps pools[0].addresses[0]");
}

static void
test_cname_beside_other_records_is_an_error(void **state)
{
	cfgtest_error("dns:\n  zones:\n    - origin: example.com\n      "
	              "views:\n"
	              "        - name: all\n          clients: [0.0.0.0/0]\n"
	              "          records:\n            - \"www CNAME web\"\n"
	              "            - \"web A 192.0.2.1\"\n"
	              "            - \"WWW.Example.COM. A 192.0.2.1\"\n"
	              "            - \"www.example.com. TXT x\"\n",
	    10, 15, "\"www.example.com\" has a CNAME");
}

static void
test_cname_at_the_apex_is_an_error(void **state)
{
	cfgtest_error("dns:\n  zones:\n    - origin: example.com\n      "
	              "views:\n"
	              "        - name: all\n          clients: [0.0.0.0/0]\n"
	              "          records: [\"@ CNAME example.net.\"]\n",
	    7, 21, "a CNAME at the zone apex");
}

static void
test_http_port_equal_to_default_https_port_is_an_error(void **state)
{
	cfgtest_error("proxy:\n  http_port: 443\n", 2, 14,
	    "443 is also the https_port");
}

static void
test_unknown_access_log_format_is_an_error(void **state)
{
	cfgtest_error("proxy:\n  access_log: /tmp/a.log\n"
	              "  access_log_format: xml\n",
	    3, 22,
	    "proxy.access_log_format: must be json or text, got \"xml\"");
	cfgtest_error("proxy:\n  access_log: [a]\n", 2, 15, "proxy.access_log");
}

static void
test_yaml_syntax_error_has_libyaml_position(void **state)
{
	cfgtest_error("node:\n  name: [a\n  interface: b\n", 3, 12,
	    "YAML syntax error");
}

static void
test_tab_indentation_is_a_syntax_error(void **state)
{
	cfgtest_error("node:\n\tname: a\n", 2, 1, "YAML syntax error");
}

static void
test_view_without_clients_is_an_error(void **state)
{
	cfgtest_error("dns:\n  zones:\n    - origin: example.com\n      "
	              "views:\n"
	              "        - name: all\n          forward: true\n",
	    5, 11, "a view needs \"clients\"");
}

static void
test_rule_with_path_prefix_and_path_exact_is_an_error(void **state)
{
	cfgtest_error("proxy:\n  routes:\n    - hostnames: [a.example]\n"
	              "      rules:\n        - path_prefix: /a\n          "
	              "path_exact: /b\n"
	              "          backends: [{address: 10.0.0.1:80}]\n",
	    6, 23, "path_prefix and path_exact are exclusive");
}

static void
test_path_not_starting_with_slash_is_an_error(void **state)
{
	cfgtest_error("proxy:\n  routes:\n    - hostnames: [a.example]\n"
	              "      rules:\n        - path_exact: healthz\n"
	              "          backends: [{address: 10.0.0.1:80}]\n",
	    5, 23, "must start with \"/\"");
}

static void
test_passthrough_route_with_rules_is_an_error(void **state)
{
	cfgtest_error("proxy:\n  routes:\n    - hostnames: [a.example]\n"
	              "      tls: passthrough\n      backends: [{address: "
	              "10.0.0.1:443}]\n"
	              "      rules: [{backends: [{address: 10.0.0.1:80}]}]\n",
	    6, 14, "a passthrough route has backends, not rules");
}

static void
test_http_route_without_rules_is_an_error(void **state)
{
	cfgtest_error("proxy:\n  routes:\n    - hostnames: [a.example]\n", 3, 7,
	    "an HTTP route needs \"rules\"");
}

static void
test_unreadable_certificate_is_an_error(void **state)
{
	cfgtest_write("tls.key", "not really a key\n");
	cfgtest_error("proxy:\n  certificates:\n    - {cert: nope.crt, key: "
	              "tls.key}\n",
	    3, 14, "nope.crt: No such file or directory");
}

static void
test_certificate_that_is_a_directory_is_an_error(void **state)
{
	cfgtest_write("tls.crt", "x\n");
	cfgtest_error("proxy:\n  certificates:\n    - {cert: tls.crt, key: "
	              "/}\n",
	    3, 28, "Is a directory");
}

static const char *hc_head = "proxy:\n  routes:\n    - hostnames: [a.example]\n"
                             "      rules:\n"
                             "        - backends: [{address: 10.0.0.1:80}]\n"
                             "          health_check: ";

/* An error in a rule's health_check (the value starts at line 6, col 25). */
static void
hc_error(const char *value, int col, const char *text)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s%s\n", hc_head, value);
	cfgtest_error(buf, 6, col, text);
}

static void
test_health_check_unknown_key_is_an_error(void **state)
{
	hc_error("{path: /h, every: 5}", 36, "unknown key \"every\"");
}

static void
test_health_check_path_without_slash_is_an_error(void **state)
{
	hc_error("{path: healthz}", 32, "must start with \"/\"");
}

static void
test_health_check_timeout_above_interval_is_an_error(void **state)
{
	hc_error("{interval_ms: 500, timeout_ms: 501}", 56,
	    "timeout_ms 501 is above interval_ms 500");
}

static void
test_health_check_zero_threshold_is_an_error(void **state)
{
	hc_error("{unhealthy_after: 0}", 43, "out of range 1-1000");
}

static void
test_health_check_bad_status_range_is_an_error(void **state)
{
	hc_error("{expect_status: 399-200}", 41,
	    "\"399-200\" is not a range within 100-599");
	hc_error("{expect_status: 2000}", 41, "expected a status code");
	hc_error("{expect_status: 600}", 41, "not a range within 100-599");
	hc_error("{expect_status: ok}", 41, "expected a status code");
}

static void
test_health_check_not_a_mapping_is_an_error(void **state)
{
	hc_error("[/healthz]", 25, "expected a mapping, got a list");
}

static void
test_ocsp_file_that_is_not_der_is_an_error(void **state)
{
	cfgtest_write("tls.crt", "x\n");
	cfgtest_write("tls.key", "x\n");
	cfgtest_write("r.ocsp", "-----BEGIN OCSP RESPONSE-----\n");
	cfgtest_error("proxy:\n  certificates:\n    - {cert: tls.crt, key: "
	              "tls.key, ocsp: r.ocsp}\n",
	    3, 43, "is not a DER OCSP response");
}

static void
test_missing_ocsp_file_is_an_error(void **state)
{
	cfgtest_write("tls.crt", "x\n");
	cfgtest_write("tls.key", "x\n");
	cfgtest_error("proxy:\n  certificates:\n    - {cert: tls.crt, key: "
	              "tls.key, ocsp: nope.der}\n",
	    3, 43, "nope.der: No such file or directory");
}

static void
test_malformed_allow_input_entry_is_an_error(void **state)
{
	cfgtest_error("nat:\n  allow_input: [22/tcp, 80/sctp]\n", 2, 25,
	    "malformed port range \"80/sctp\"");
}

static void
test_metrics_listen_without_port_is_an_error(void **state)
{
	cfgtest_error("metrics:\n  listen: 127.0.0.1\n", 2, 11,
	    "malformed address \"127.0.0.1\"");
}

static void
test_interface_name_longer_than_15_is_an_error(void **state)
{
	cfgtest_error("node:\n  interface: enp1s0-too-long-x\n", 2, 14,
	    "not a valid interface name");
}

static void
test_unreadable_kubeconfig_is_an_error_when_enabled(void **state)
{
	cfgtest_error("kubernetes:\n  enabled: true\n  kubeconfig: nope.conf\n",
	    3, 15, "nope.conf: No such file or directory");
}

static void
test_only_one_yaml_document_is_allowed(void **state)
{
	cfgtest_error("node: {name: a}\n---\nnode: {name: b}\n", 2, 1,
	    "only one document");
}

static void
test_aliases_are_refused(void **state)
{
	cfgtest_error("node: {name: &n a, interface: *n}\n", 1, 31,
	    "aliases are not supported");
}

static void
test_deep_nesting_is_refused(void **state)
{
	char buf[512] = "node: ";
	for (int i = 0; i < 40; i++)
		strcat(buf, "[");
	for (int i = 0; i < 40; i++)
		strcat(buf, "]");
	strcat(buf, "\n");
	cfgtest_error(buf, 1, 38, "nested deeper than 32 levels");
}

static void
test_input_over_one_mebibyte_is_refused(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *buf = malloc(len + 1);
	assert_non_null(buf);
	memset(buf, '#', len);
	buf[len] = '\0';
	cfgtest_error(buf, 0, 0, "larger than");
	free(buf);
}

static void
test_every_error_is_reported_not_just_the_first(void **state)
{
	struct hearth_config_errors e;
	struct hearth_model *m =
	    cfgtest_parse("node:\n  nmae: a\n"
	                  "peers:\n  port: 0\n"
	                  "pools:\n  - name: a\n    addresses: "
	                  "[10.0.0.9-10.0.0.1]\n",
	        &e);
	assert_null(m);
	assert_int_equal(e.n, 3);
	assert_int_equal(e.v[0].pos.line, 2);
	assert_int_equal(e.v[1].pos.line, 4);
	assert_int_equal(e.v[2].pos.line, 7);
	hearth_config_errors_free(&e);
}

static void
test_errors_print_as_file_line_column_message(void **state)
{
	struct hearth_config_errors e;
	char *out = NULL;
	size_t len = 0;
	hearth_model_unref(cfgtest_parse("node:\n  nmae: a\nbogus: 1\n", &e));
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	hearth_config_errors_print(&e, f);
	fclose(f);
	char want[512];
	snprintf(want, sizeof(want),
	    "%s:2:3: unknown key \"nmae\" in node\n"
	    "%s:3:1: unknown key \"bogus\" at top level\n",
	    cfgtest_name, cfgtest_name);
	assert_string_equal(out, want);
	free(out);
	hearth_config_errors_free(&e);
}

static void
test_missing_file_is_one_error_for_the_file(void **state)
{
	struct hearth_config_errors e = {0};
	assert_null(hearth_config_load("/nonexistent/hearth.yaml", &e));
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].pos.line, 0);
	assert_non_null(strstr(e.v[0].message, "No such file or directory"));
	hearth_config_errors_free(&e);
}

static void
test_long_or_multiline_values_give_one_short_line(void **state)
{
	struct hearth_config_errors e;
	assert_null(cfgtest_parse("peers: {port: \"a\\nb\"}\n", &e));
	assert_int_equal(e.n, 1);
	assert_null(strchr(e.v[0].message, '\n'));
	hearth_config_errors_free(&e);

	char *buf = malloc(20000);
	assert_non_null(buf);
	strcpy(buf, "peers: {port: ");
	memset(buf + strlen(buf), '9', 10000);
	strcpy(buf + 14 + 10000, "}\n");
	assert_null(cfgtest_parse(buf, &e));
	assert_int_equal(e.n, 1);
	assert_true(strlen(e.v[0].message) <= 400);
	hearth_config_errors_free(&e);
	free(buf);
}

static void
test_error_count_is_bounded(void **state)
{
	char *buf = malloc(2000 * 16);
	assert_non_null(buf);
	buf[0] = '\0';
	strcat(buf, "node:\n");
	char *p = buf + strlen(buf);
	for (int i = 0; i < 1000; i++)
		p += sprintf(p, "  k%d: 1\n", i);
	struct hearth_config_errors e;
	assert_null(cfgtest_parse(buf, &e));
	assert_true(e.n > 10 && e.n <= 201);
	assert_non_null(strstr(e.v[e.n - 1].message, "too many errors"));
	hearth_config_errors_free(&e);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unknown_key_is_named_with_its_place),
	    cmocka_unit_test(test_unknown_top_level_key_is_an_error),
	    cmocka_unit_test(test_duplicate_key_in_a_mapping_is_an_error),
	    cmocka_unit_test(test_list_where_a_scalar_belongs_is_a_type_error),
	    cmocka_unit_test(test_scalar_where_a_list_belongs_is_a_type_error),
	    cmocka_unit_test(
	        test_scalar_where_a_section_belongs_is_a_type_error),
	    cmocka_unit_test(test_quoted_number_is_a_type_error),
	    cmocka_unit_test(test_word_where_a_boolean_belongs_is_an_error),
	    cmocka_unit_test(test_malformed_address_is_an_error),
	    cmocka_unit_test(test_malformed_cidr_is_an_error),
	    cmocka_unit_test(test_cidr_with_host_bits_is_an_error),
	    cmocka_unit_test(test_malformed_range_is_an_error),
	    cmocka_unit_test(test_range_ending_below_its_start_is_an_error),
	    cmocka_unit_test(test_port_zero_is_outside_the_port_range),
	    cmocka_unit_test(test_port_above_65535_is_outside_the_port_range),
	    cmocka_unit_test(test_service_outside_every_pool_is_an_error),
	    cmocka_unit_test(test_same_address_port_protocol_twice_is_an_error),
	    cmocka_unit_test(test_negative_weight_is_an_error),
	    cmocka_unit_test(test_weights_summing_to_zero_are_an_error),
	    cmocka_unit_test(test_record_that_does_not_parse_gives_the_reason),
	    cmocka_unit_test(test_record_outside_the_zone_is_an_error),
	    cmocka_unit_test(
	        test_unreadable_key_file_names_the_path_and_reason),
	    cmocka_unit_test(test_key_file_shorter_than_16_bytes_is_an_error),
	    cmocka_unit_test(test_members_naming_other_nodes_need_a_key_file),
	    cmocka_unit_test(test_dead_after_not_above_interval_is_an_error),
	    cmocka_unit_test(
	        test_interval_above_default_dead_after_is_an_error),
	    cmocka_unit_test(test_target_and_backends_on_one_port_are_an_error),
	    cmocka_unit_test(test_target_other_than_proxy_is_an_error),
	    cmocka_unit_test(test_unknown_access_log_format_is_an_error),
	    cmocka_unit_test(test_health_check_unknown_key_is_an_error),
	    cmocka_unit_test(test_health_check_path_without_slash_is_an_error),
	    cmocka_unit_test(
	        test_health_check_timeout_above_interval_is_an_error),
	    cmocka_unit_test(test_health_check_zero_threshold_is_an_error),
	    cmocka_unit_test(test_health_check_bad_status_range_is_an_error),
	    cmocka_unit_test(test_health_check_not_a_mapping_is_an_error),
	    cmocka_unit_test(test_ocsp_file_that_is_not_der_is_an_error),
	    cmocka_unit_test(test_missing_ocsp_file_is_an_error),
	    cmocka_unit_test(test_duplicate_pool_names_are_an_error),
	    cmocka_unit_test(test_overlapping_pools_are_an_error),
	    cmocka_unit_test(test_cname_beside_other_records_is_an_error),
	    cmocka_unit_test(test_cname_at_the_apex_is_an_error),
	    cmocka_unit_test(
	        test_http_port_equal_to_default_https_port_is_an_error),
	    cmocka_unit_test(test_yaml_syntax_error_has_libyaml_position),
	    cmocka_unit_test(test_tab_indentation_is_a_syntax_error),
	    cmocka_unit_test(test_view_without_clients_is_an_error),
	    cmocka_unit_test(
	        test_rule_with_path_prefix_and_path_exact_is_an_error),
	    cmocka_unit_test(test_path_not_starting_with_slash_is_an_error),
	    cmocka_unit_test(test_passthrough_route_with_rules_is_an_error),
	    cmocka_unit_test(test_http_route_without_rules_is_an_error),
	    cmocka_unit_test(test_unreadable_certificate_is_an_error),
	    cmocka_unit_test(test_certificate_that_is_a_directory_is_an_error),
	    cmocka_unit_test(test_malformed_allow_input_entry_is_an_error),
	    cmocka_unit_test(test_metrics_listen_without_port_is_an_error),
	    cmocka_unit_test(test_interface_name_longer_than_15_is_an_error),
	    cmocka_unit_test(
	        test_unreadable_kubeconfig_is_an_error_when_enabled),
	    cmocka_unit_test(test_only_one_yaml_document_is_allowed),
	    cmocka_unit_test(test_aliases_are_refused),
	    cmocka_unit_test(test_deep_nesting_is_refused),
	    cmocka_unit_test(test_input_over_one_mebibyte_is_refused),
	    cmocka_unit_test(test_every_error_is_reported_not_just_the_first),
	    cmocka_unit_test(test_errors_print_as_file_line_column_message),
	    cmocka_unit_test(test_missing_file_is_one_error_for_the_file),
	    cmocka_unit_test(test_long_or_multiline_values_give_one_short_line),
	    cmocka_unit_test(test_error_count_is_bounded),
	};
	return cmocka_run_group_tests(tests, cfgtest_setup, cfgtest_teardown);
}
