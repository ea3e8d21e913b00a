/*
 * What a valid configuration becomes: defaults for every key left out,
 * the values given for the others, relative paths resolved, the apex SOA
 * and NS made up, and the bundled examples validating from the tree.
 */
#include <arpa/inet.h>

#include "cfgtest.h"

static void
assert_addr(const struct hearth_addr *a, const char *want)
{
	char buf[INET6_ADDRSTRLEN];
	assert_string_equal(hearth_addr_str(a, buf, sizeof(buf)), want);
}

static void
assert_endpoint(const struct hearth_endpoint *e, const char *want)
{
	char buf[HEARTH_ENDPOINT_STRLEN];
	assert_string_equal(hearth_endpoint_str(e, buf, sizeof(buf)), want);
}

static void
test_empty_file_is_a_valid_empty_model(void **state)
{
	struct hearth_model *m = cfgtest_valid("");
	assert_int_equal(m->n_pools, 0);
	assert_int_equal(m->n_services, 0);
	assert_false(m->has_nat);
	assert_false(m->has_dns);
	assert_false(m->has_proxy);
	assert_false(m->metrics.enabled);
	assert_false(m->kubernetes.enabled);
	hearth_model_unref(m);
}

static void
test_file_of_only_comments_is_a_valid_empty_model(void **state)
{
	struct hearth_model *m = cfgtest_valid("# nothing here\n\n   # yet\n");
	assert_int_equal(m->n_services, 0);
	assert_false(m->has_dns);
	hearth_model_unref(m);
}

static void
test_keys_left_out_take_their_defaults(void **state)
{
	struct hearth_model *m = cfgtest_valid("dns: {}\nproxy: {}\n");
	assert_int_equal(m->peers.port, 7946);
	assert_int_equal(m->peers.interval_ms, 100);
	assert_int_equal(m->peers.dead_after_ms, 400);
	assert_true(m->peers.quorum);
	assert_false(m->peers.rebalance);
	assert_int_equal(m->peers.garp_refresh_seconds, 60);
	assert_null(m->peers.key);
	assert_int_equal(m->dns.n_listen, 1);
	assert_endpoint(&m->dns.listen[0], "127.0.0.1:53");
	assert_int_equal(m->dns.n_recursion_clients, 2);
	assert_addr(&m->dns.recursion_clients[0].addr, "127.0.0.0");
	assert_int_equal(m->dns.recursion_clients[0].prefix, 8);
	assert_addr(&m->dns.recursion_clients[1].addr, "::1");
	assert_int_equal(m->dns.recursion_clients[1].prefix, 128);
	assert_int_equal(m->dns.cache_entries, 100000);
	assert_int_equal(m->dns.max_udp_payload_bytes, 1232);
	assert_int_equal(m->dns.rate_limit.responses_per_second, 0);
	assert_int_equal(m->dns.rate_limit.slip, 2);
	assert_int_equal(m->dns.rate_limit.ipv4_prefix, 24);
	assert_int_equal(m->dns.rate_limit.ipv6_prefix, 56);
	assert_null(m->dns.query_log);
	assert_int_equal(m->proxy.http_port, 80);
	assert_int_equal(m->proxy.https_port, 443);
	assert_int_equal(m->proxy.drain_seconds, 30);
	assert_false(m->proxy.redirect_http_to_https);
	assert_int_equal(m->proxy.limits.max_connections, 100000);
	assert_int_equal(m->proxy.limits.max_header_bytes, 65536);
	assert_int_equal(m->proxy.limits.max_headers, 100);
	assert_int_equal(m->proxy.limits.max_body_bytes, 0);
	assert_int_equal(m->proxy.limits.header_timeout_ms, 10000);
	assert_int_equal(m->proxy.limits.idle_timeout_seconds, 60);
	assert_int_equal(m->proxy.limits.connect_timeout_ms, 3000);
	assert_int_equal(m->proxy.limits.backend_timeout_seconds, 60);
	assert_null(m->proxy.access_log);
	assert_int_equal(m->proxy.access_log_format, HEARTH_ACCESS_LOG_JSON);
	assert_string_equal(m->kubernetes.namespace, "hearth-system");
	assert_int_equal(m->kubernetes.lease_duration_seconds, 15);
	assert_int_equal(m->kubernetes.renew_deadline_seconds, 10);
	assert_int_equal(m->kubernetes.retry_period_seconds, 2);
	assert_null(m->kubernetes.kubeconfig);
	assert_null(m->kubernetes.load_balancer_class);
	hearth_model_unref(m);
}

static void
test_node_name_defaults_to_the_hostname(void **state)
{
	char host[256] = "";
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	struct hearth_model *m = cfgtest_valid("node: {interface: eth0}\n");
	assert_string_equal(m->node.name, host);
	assert_string_equal(m->node.interface, "eth0");
	assert_null(m->node.run_as);
	hearth_model_unref(m);
}

static void
test_sections_given_without_values_are_present(void **state)
{
	struct hearth_model *m = cfgtest_valid("nat:\ndns:\nproxy:\n");
	assert_true(m->has_nat);
	assert_true(m->has_dns);
	assert_true(m->has_proxy);
	assert_false(m->nat.allow_input_set);
	hearth_model_unref(m);
}

static void
test_peers_and_key_are_read(void **state)
{
	cfgtest_write("peer.key", "0123456789abcdefXYZ \n\t\n");
	struct hearth_model *m = cfgtest_valid(
	    "peers:\n"
	    "  members: [192.168.122.10, 192.168.122.11, 192.168.122.12]\n"
	    "  port: 7000\n  interval_ms: 50\n  dead_after_ms: 300\n"
	    "  key_file: peer.key\n  quorum: false\n  rebalance: true\n"
	    "  garp_refresh_seconds: 10\n");
	assert_int_equal(m->peers.n_members, 3);
	assert_addr(&m->peers.members[2], "192.168.122.12");
	assert_int_equal(m->peers.port, 7000);
	assert_int_equal(m->peers.interval_ms, 50);
	assert_int_equal(m->peers.dead_after_ms, 300);
	assert_false(m->peers.quorum);
	assert_true(m->peers.rebalance);
	assert_int_equal(m->peers.garp_refresh_seconds, 10);
	assert_int_equal(m->peers.key_len, 19);
	assert_memory_equal(m->peers.key, "0123456789abcdefXYZ", 19);
	char want[128];
	snprintf(want, sizeof(want), "%s/peer.key", cfgtest_dir);
	assert_string_equal(m->peers.key_file, want);
	hearth_model_unref(m);
}

static void
test_single_member_needs_no_key_file(void **state)
{
	struct hearth_model *m =
	    cfgtest_valid("peers:\n  members: [192.168.122.10]\n");
	assert_int_equal(m->peers.n_members, 1);
	hearth_model_unref(m);
}

static void
test_pool_takes_ranges_cidrs_and_single_addresses(void **state)
{
	struct hearth_model *m =
	    cfgtest_valid("pools:\n  - name: lab\n    addresses: "
	                  "[192.168.122.100-192.168.122.150,"
	                  " 10.0.0.0/30, 10.1.1.1, 'fd00::/120']\n");
	assert_int_equal(m->n_pools, 1);
	const struct hearth_pool *p = &m->pools[0];
	assert_string_equal(p->name, "lab");
	assert_int_equal(p->n_ranges, 4);
	assert_addr(&p->ranges[0].first, "192.168.122.100");
	assert_addr(&p->ranges[0].last, "192.168.122.150");
	assert_addr(&p->ranges[1].first, "10.0.0.0");
	assert_addr(&p->ranges[1].last, "10.0.0.3");
	assert_addr(&p->ranges[2].first, "10.1.1.1");
	assert_addr(&p->ranges[2].last, "10.1.1.1");
	assert_addr(&p->ranges[3].last, "fd00::ff");
	hearth_model_unref(m);
}

static void
test_services_keep_targets_and_backends(void **state)
{
	struct hearth_model *m = cfgtest_valid(
	    "pools: [{name: lab, addresses: "
	    "[192.168.122.100-192.168.122.150]}]\n"
	    "services:\n"
	    "  - name: gateway\n    address: 192.168.122.100\n    ports:\n"
	    "      - {port: 80, protocol: tcp, target: proxy}\n"
	    "      - {port: 53, protocol: udp}\n"
	    "  - name: db\n    address: 192.168.122.101\n    ports:\n"
	    "      - port: 5432\n"
	    "        backends: [10.244.1.5:5432, 10.244.2.7]\n");
	assert_int_equal(m->n_services, 2);
	const struct hearth_service *g = &m->services[0], *d = &m->services[1];
	assert_string_equal(g->name, "gateway");
	assert_addr(&g->address, "192.168.122.100");
	assert_int_equal(g->n_ports, 2);
	assert_true(g->ports[0].to_proxy);
	assert_int_equal(g->ports[0].proto, HEARTH_PROTO_TCP);
	assert_false(g->ports[1].to_proxy);
	assert_int_equal(g->ports[1].proto, HEARTH_PROTO_UDP);
	assert_int_equal(g->ports[1].n_backends, 0);
	assert_int_equal(d->ports[0].proto, HEARTH_PROTO_TCP);
	assert_int_equal(d->ports[0].n_backends, 2);
	assert_endpoint(&d->ports[0].backends[0], "10.244.1.5:5432");
	/* A backend without a port takes the service port. */
	assert_endpoint(&d->ports[0].backends[1], "10.244.2.7:5432");
	hearth_model_unref(m);
}

static void
test_same_port_with_another_protocol_is_allowed(void **state)
{
	struct hearth_model *m =
	    cfgtest_valid("pools: [{name: lab, addresses: [10.0.0.1]}]\n"
	                  "services:\n"
	                  "  - {name: a, address: 10.0.0.1, ports: [{port: 53, "
	                  "protocol: tcp}]}\n"
	                  "  - {name: b, address: 10.0.0.1, ports: [{port: 53, "
	                  "protocol: udp}]}\n");
	assert_int_equal(m->n_services, 2);
	hearth_model_unref(m);
}

static void
test_nat_section_is_read(void **state)
{
	struct hearth_model *m =
	    cfgtest_valid("nat:\n  masquerade:\n    - {source: "
	                  "192.168.122.0/24, out_interface: eth0}\n"
	                  "    - {source: 10.0.0.0/8}\n"
	                  "  port_forwards:\n    - {in_interface: eth0, port: "
	                  "443, protocol: tcp,"
	                  " to: 192.168.122.100:8443}\n    - {port: 53, "
	                  "protocol: udp, to: 10.0.0.1}\n"
	                  "  allow_input: [22/tcp, 2379-2380/tcp, 8472/udp]\n  "
	                  "keep_on_exit: true\n");
	assert_true(m->has_nat);
	assert_int_equal(m->nat.n_masquerade, 2);
	assert_addr(&m->nat.masquerade[0].source.addr, "192.168.122.0");
	assert_int_equal(m->nat.masquerade[0].source.prefix, 24);
	assert_string_equal(m->nat.masquerade[0].out_interface, "eth0");
	assert_null(m->nat.masquerade[1].out_interface);
	assert_int_equal(m->nat.n_port_forwards, 2);
	assert_endpoint(&m->nat.port_forwards[0].to, "192.168.122.100:8443");
	assert_null(m->nat.port_forwards[1].in_interface);
	assert_int_equal(m->nat.port_forwards[1].proto, HEARTH_PROTO_UDP);
	assert_endpoint(&m->nat.port_forwards[1].to, "10.0.0.1:53");
	assert_true(m->nat.allow_input_set);
	assert_int_equal(m->nat.n_allow_input, 3);
	assert_int_equal(m->nat.allow_input[1].first, 2379);
	assert_int_equal(m->nat.allow_input[1].last, 2380);
	assert_int_equal(m->nat.allow_input[2].proto, HEARTH_PROTO_UDP);
	assert_true(m->nat.keep_on_exit);
	hearth_model_unref(m);
}

static void
test_empty_allow_input_filters_everything(void **state)
{
	struct hearth_model *m = cfgtest_valid("nat:\n  allow_input: []\n");
	assert_true(m->nat.allow_input_set);
	assert_int_equal(m->nat.n_allow_input, 0);
	hearth_model_unref(m);
}

static void
test_dns_section_is_read(void **state)
{
	struct hearth_model *m = cfgtest_valid(
	    "dns:\n  listen: [192.168.122.1:53, '[::1]:5353']\n"
	    "  forwarders: [1.1.1.1, '8.8.8.8:5353']\n"
	    "  recursion_clients: []\n  cache_entries: 10\n"
	    "  max_udp_payload_bytes: 4096\n"
	    "  rate_limit: {responses_per_second: 5, slip: 0, ipv4_prefix: 32, "
	    "ipv6_prefix: 64}\n  query_log: /var/log/q.jsonl\n");
	assert_int_equal(m->dns.n_listen, 2);
	assert_endpoint(&m->dns.listen[1], "[::1]:5353");
	assert_endpoint(&m->dns.forwarders[0], "1.1.1.1:53");
	assert_endpoint(&m->dns.forwarders[1], "8.8.8.8:5353");
	assert_int_equal(m->dns.n_recursion_clients, 0);
	assert_int_equal(m->dns.cache_entries, 10);
	assert_int_equal(m->dns.max_udp_payload_bytes, 4096);
	assert_int_equal(m->dns.rate_limit.responses_per_second, 5);
	assert_int_equal(m->dns.rate_limit.slip, 0);
	assert_int_equal(m->dns.rate_limit.ipv4_prefix, 32);
	assert_int_equal(m->dns.rate_limit.ipv6_prefix, 64);
	/* query_log is a file hearthd writes: kept as given. */
	assert_string_equal(m->dns.query_log, "/var/log/q.jsonl");
	hearth_model_unref(m);
}

static const char *zone_yaml =
    "dns:\n  zones:\n    - origin: Example.COM.\n      views:\n"
    "        - name: internal\n          clients: [10.0.0.0/8]\n"
    "          records:\n"
    "            - \"*        IN 60 A 192.0.2.1\"\n"
    "            - \"WWW      CNAME @\"\n"
    "        - name: external\n          clients: [0.0.0.0/0, '::/0']\n"
    "          forward: true\n";

static void
test_zone_origin_is_lower_case_without_trailing_dot(void **state)
{
	struct hearth_model *m = cfgtest_valid(zone_yaml);
	assert_int_equal(m->dns.n_zones, 1);
	assert_string_equal(m->dns.zones[0].origin, "example.com");
	assert_int_equal(m->dns.zones[0].n_views, 2);
	assert_string_equal(m->dns.zones[0].views[1].name, "external");
	assert_true(m->dns.zones[0].views[1].forward);
	assert_int_equal(m->dns.zones[0].views[1].n_records, 0);
	assert_int_equal(m->dns.zones[0].views[1].n_clients, 2);
	hearth_model_unref(m);
}

static const struct hearth_rr *
find_rr(const struct hearth_dns_view *v, const char *owner, uint16_t type)
{
	for (size_t i = 0; i < v->n_records; i++)
		if (strcmp(v->records[i].owner, owner) == 0 &&
		    v->records[i].type == type)
			return &v->records[i];
	return NULL;
}

static void
test_apex_soa_and_ns_are_made_when_not_given(void **state)
{
	struct hearth_model *m = cfgtest_valid(zone_yaml);
	const struct hearth_dns_view *v = &m->dns.zones[0].views[0];
	assert_int_equal(v->n_records, 4);
	const struct hearth_rr *w = find_rr(v, "*.example.com", 1);
	assert_non_null(w);
	assert_int_equal(w->ttl, 60);
	assert_non_null(find_rr(v, "www.example.com", 5));
	const struct hearth_rr *soa = find_rr(v, "example.com", 6);
	assert_non_null(soa);
	static const uint8_t soa_rdata[] = {2, 'n', 's', 7, 'e', 'x', 'a', 'm',
	    'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 10, 'h', 'o', 's', 't', 'm',
	    'a', 's', 't', 'e', 'r', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
	    'c', 'o', 'm', 0, 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 0x02, 0x58, 0,
	    1, 0x51, 0x80, 0, 0, 0x01, 0x2c};
	assert_int_equal(soa->rdlen, sizeof(soa_rdata));
	assert_memory_equal(soa->rdata, soa_rdata, sizeof(soa_rdata));
	const struct hearth_rr *ns = find_rr(v, "example.com", 2);
	assert_non_null(ns);
	assert_int_equal(ns->rdlen, 16);
	assert_memory_equal(ns->rdata, soa_rdata, 16);
	hearth_model_unref(m);
}

static void
test_given_apex_soa_and_ns_are_kept(void **state)
{
	struct hearth_model *m = cfgtest_valid(
	    "dns:\n  zones:\n    - origin: example.com\n      views:\n"
	    "        - name: all\n          clients: [0.0.0.0/0]\n"
	    "          records:\n"
	    "            - \"@ SOA a.example.net. b.example.net. 7 1 1 1 1\"\n"
	    "            - \"@ NS a.example.net.\"\n");
	const struct hearth_dns_view *v = &m->dns.zones[0].views[0];
	assert_int_equal(v->n_records, 2);
	assert_int_equal(v->records[0].type, 6);
	assert_int_equal(v->records[1].type, 2);
	hearth_model_unref(m);
}

static void
test_proxy_section_is_read(void **state)
{
	cfgtest_write("a.crt", "-----BEGIN CERTIFICATE-----\n");
	cfgtest_write("a.key", "-----BEGIN PRIVATE KEY-----\n");
	struct hearth_model *m = cfgtest_valid(
	    "proxy:\n  http_port: 8080\n  https_port: 8443\n  drain_seconds: "
	    "5\n"
	    "  redirect_http_to_https: true\n"
	    "  access_log: /var/log/hearth/access.log\n"
	    "  access_log_format: text\n"
	    "  certificates: [{cert: a.crt, key: a.key}]\n"
	    "  limits: {max_connections: 10, max_header_bytes: 4096, "
	    "max_headers: 20,"
	    " max_body_bytes: 10000000000, header_timeout_ms: 500,"
	    " idle_timeout_seconds: 7, connect_timeout_ms: 250,"
	    " backend_timeout_seconds: 9}\n"
	    "  routes:\n"
	    "    - hostnames: [Harbor.Example.COM, '*.example.com']\n"
	    "      rules:\n"
	    "        - backends: [{address: 10.0.0.1:80, weight: 3}, "
	    "{address: '[fd00::1]:80', weight: 0}]\n"
	    "        - path_exact: /healthz\n"
	    "          headers: {X-Debug: \"1\"}\n"
	    "          backends: [{address: 10.0.0.2:80}]\n"
	    "    - hostnames: [argo.example.com]\n"
	    "      tls: passthrough\n"
	    "      backends: [{address: 10.0.0.3:443}]\n");
	const struct hearth_proxy *p = &m->proxy;
	assert_true(m->has_proxy);
	assert_int_equal(p->http_port, 8080);
	assert_int_equal(p->https_port, 8443);
	assert_int_equal(p->drain_seconds, 5);
	assert_true(p->redirect_http_to_https);
	/* access_log is a file hearthd writes: kept as given. */
	assert_string_equal(p->access_log, "/var/log/hearth/access.log");
	assert_int_equal(p->access_log_format, HEARTH_ACCESS_LOG_TEXT);
	char want[128];
	snprintf(want, sizeof(want), "%s/a.crt", cfgtest_dir);
	assert_string_equal(p->certificates[0].cert, want);
	snprintf(want, sizeof(want), "%s/a.key", cfgtest_dir);
	assert_string_equal(p->certificates[0].key, want);
	assert_int_equal(p->limits.max_connections, 10);
	assert_int_equal(p->limits.max_header_bytes, 4096);
	assert_int_equal(p->limits.max_headers, 20);
	assert_true(p->limits.max_body_bytes == 10000000000ull);
	assert_int_equal(p->limits.header_timeout_ms, 500);
	assert_int_equal(p->limits.idle_timeout_seconds, 7);
	assert_int_equal(p->limits.connect_timeout_ms, 250);
	assert_int_equal(p->limits.backend_timeout_seconds, 9);
	assert_int_equal(p->n_routes, 2);
	const struct hearth_proxy_route *r = &p->routes[0];
	assert_int_equal(r->n_hostnames, 2);
	assert_string_equal(r->hostnames[0], "harbor.example.com");
	assert_string_equal(r->hostnames[1], "*.example.com");
	assert_false(r->passthrough);
	assert_int_equal(r->n_rules, 2);
	/* No path given: prefix "/". */
	assert_int_equal(r->rules[0].match, HEARTH_PATH_PREFIX);
	assert_string_equal(r->rules[0].path, "/");
	assert_int_equal(r->rules[0].n_backends, 2);
	assert_int_equal(r->rules[0].backends[0].weight, 3);
	assert_int_equal(r->rules[0].backends[1].weight, 0);
	assert_endpoint(&r->rules[0].backends[1].address, "[fd00::1]:80");
	assert_int_equal(r->rules[1].match, HEARTH_PATH_EXACT);
	assert_string_equal(r->rules[1].path, "/healthz");
	assert_int_equal(r->rules[1].n_headers, 1);
	assert_string_equal(r->rules[1].headers[0].name, "x-debug");
	assert_string_equal(r->rules[1].headers[0].value, "1");
	assert_int_equal(r->rules[1].backends[0].weight, 1);
	assert_true(p->routes[1].passthrough);
	assert_int_equal(p->routes[1].n_rules, 0);
	assert_int_equal(p->routes[1].n_backends, 1);
	hearth_model_unref(m);
}

static void
test_health_check_defaults_and_values_are_read(void **state)
{
	struct hearth_model *m = cfgtest_valid(
	    "proxy:\n  routes:\n"
	    "    - hostnames: [a.example]\n"
	    "      health_check: {path: /ready, interval_ms: 500}\n"
	    "      rules:\n"
	    "        - backends: [{address: 10.0.0.1:80}]\n"
	    "        - path_prefix: /api\n"
	    "          health_check: {path: /healthz, interval_ms: 3000,"
	    " timeout_ms: 700, unhealthy_after: 4, healthy_after: 5,"
	    " expect_status: 204}\n"
	    "          backends: [{address: 10.0.0.2:80}]\n"
	    "        - path_prefix: /b\n"
	    "          health_check:\n"
	    "          backends: [{address: 10.0.0.3:80}]\n"
	    "    - hostnames: [b.example]\n"
	    "      rules: [{backends: [{address: 10.0.0.4:80}]}]\n"
	    "    - hostnames: [c.example]\n"
	    "      tls: passthrough\n"
	    "      health_check: {expect_status: \"200-204\"}\n"
	    "      backends: [{address: 10.0.0.5:443}]\n");
	const struct hearth_proxy_route *r = &m->proxy.routes[0];
	/* The route's check is the default of rules without their own. */
	const struct hearth_proxy_health_check *h = &r->rules[0].health_check;
	assert_true(h->enabled);
	assert_string_equal(h->path, "/ready");
	assert_int_equal(h->interval_ms, 500);
	/* The timeout's default is capped at the interval. */
	assert_int_equal(h->timeout_ms, 500);
	h = &r->rules[1].health_check;
	assert_string_equal(h->path, "/healthz");
	assert_int_equal(h->interval_ms, 3000);
	assert_int_equal(h->timeout_ms, 700);
	assert_int_equal(h->unhealthy_after, 4);
	assert_int_equal(h->healthy_after, 5);
	assert_int_equal(h->expect_min, 204);
	assert_int_equal(h->expect_max, 204);
	/* An empty health_check: every default. */
	h = &r->rules[2].health_check;
	assert_true(h->enabled);
	assert_string_equal(h->path, "/");
	assert_int_equal(h->interval_ms, 2000);
	assert_int_equal(h->timeout_ms, 1000);
	assert_int_equal(h->unhealthy_after, 3);
	assert_int_equal(h->healthy_after, 2);
	assert_int_equal(h->expect_min, 200);
	assert_int_equal(h->expect_max, 399);
	/* Absent: off. */
	assert_false(m->proxy.routes[1].rules[0].health_check.enabled);
	h = &m->proxy.routes[2].health_check;
	assert_true(h->enabled);
	assert_int_equal(h->expect_min, 200);
	assert_int_equal(h->expect_max, 204);
	hearth_model_unref(m);
}

static void
test_ocsp_response_file_is_read(void **state)
{
	static const char der[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
	char path[128];
	cfgtest_write("a.crt", "-----BEGIN CERTIFICATE-----\n");
	cfgtest_write("a.key", "-----BEGIN PRIVATE KEY-----\n");
	snprintf(path, sizeof(path), "%s/a.ocsp", cfgtest_dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(der, 1, sizeof(der), f), sizeof(der));
	fclose(f);
	struct hearth_model *m =
	    cfgtest_valid("proxy:\n  certificates:\n"
	                  "    - {cert: a.crt, key: a.key, ocsp: a.ocsp}\n"
	                  "    - {cert: a.crt, key: a.key}\n");
	assert_string_equal(m->proxy.certificates[0].ocsp, path);
	assert_null(m->proxy.certificates[1].ocsp);
	hearth_model_unref(m);
}

static void
test_kubernetes_and_metrics_are_read(void **state)
{
	struct hearth_model *m = cfgtest_valid(
	    "kubernetes:\n  enabled: false\n  kubeconfig: kube/config\n"
	    "  load_balancer_class: ''\n  namespace: lab\n"
	    "  lease_duration_seconds: 30\n  renew_deadline_seconds: 20\n"
	    "  retry_period_seconds: 5\n"
	    "metrics:\n  listen: 127.0.0.1:9477\n");
	assert_false(m->kubernetes.enabled);
	char want[128];
	snprintf(want, sizeof(want), "%s/kube/config", cfgtest_dir);
	assert_string_equal(m->kubernetes.kubeconfig, want);
	assert_null(m->kubernetes.load_balancer_class);
	assert_string_equal(m->kubernetes.namespace, "lab");
	assert_int_equal(m->kubernetes.lease_duration_seconds, 30);
	assert_int_equal(m->kubernetes.renew_deadline_seconds, 20);
	assert_int_equal(m->kubernetes.retry_period_seconds, 5);
	assert_true(m->metrics.enabled);
	assert_endpoint(&m->metrics.listen, "127.0.0.1:9477");
	hearth_model_unref(m);
}

static void
test_enabled_kubernetes_reads_the_kubeconfig_path(void **state)
{
	cfgtest_write("kubeconfig", "apiVersion: v1\n");
	struct hearth_model *m = cfgtest_valid(
	    "kubernetes: {enabled: true, kubeconfig: kubeconfig}\n");
	char want[128];
	snprintf(want, sizeof(want), "%s/kubeconfig", cfgtest_dir);
	assert_true(m->kubernetes.enabled);
	assert_string_equal(m->kubernetes.kubeconfig, want);
	hearth_model_unref(m);
}

static struct hearth_model *
load_example(const char *name)
{
	const char *src = getenv("HEARTH_SOURCE_DIR");
	char path[1024];
	struct hearth_config_errors e = {0};
	snprintf(path, sizeof(path), "%s/examples/%s", src ? src : ".", name);
	struct hearth_model *m = hearth_config_load(path, &e);
	if (m == NULL) {
		hearth_config_errors_print(&e, stderr);
		hearth_config_errors_free(&e);
		fail_msg("%s does not validate", path);
	}
	return m;
}

static void
test_bundled_example_validates(void **state)
{
	struct hearth_model *m = load_example("hearth.yaml");
	assert_int_equal(m->peers.n_members, 3);
	assert_true(m->peers.key_len >= 16);
	assert_int_equal(m->n_pools, 1);
	assert_int_equal(m->n_services, 2);
	assert_addr(&m->services[0].address, "192.168.122.100");
	assert_true(m->services[0].ports[0].to_proxy);
	assert_true(m->has_dns);
	assert_string_equal(m->dns.zones[0].origin, "qroksera.com");
	assert_true(m->has_proxy);
	assert_int_equal(m->proxy.n_certificates, 1);
	assert_true(m->metrics.enabled);
	assert_false(m->has_nat);
	hearth_model_unref(m);
}

static void
test_bundled_host_example_validates(void **state)
{
	struct hearth_model *m = load_example("host.yaml");
	assert_true(m->has_nat);
	assert_int_equal(m->nat.n_allow_input, 6);
	assert_true(m->has_dns);
	assert_int_equal(m->n_services, 0);
	hearth_model_unref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_file_is_a_valid_empty_model),
	    cmocka_unit_test(test_file_of_only_comments_is_a_valid_empty_model),
	    cmocka_unit_test(test_keys_left_out_take_their_defaults),
	    cmocka_unit_test(test_node_name_defaults_to_the_hostname),
	    cmocka_unit_test(test_sections_given_without_values_are_present),
	    cmocka_unit_test(test_peers_and_key_are_read),
	    cmocka_unit_test(test_single_member_needs_no_key_file),
	    cmocka_unit_test(test_pool_takes_ranges_cidrs_and_single_addresses),
	    cmocka_unit_test(test_services_keep_targets_and_backends),
	    cmocka_unit_test(test_same_port_with_another_protocol_is_allowed),
	    cmocka_unit_test(test_nat_section_is_read),
	    cmocka_unit_test(test_empty_allow_input_filters_everything),
	    cmocka_unit_test(test_dns_section_is_read),
	    cmocka_unit_test(
	        test_zone_origin_is_lower_case_without_trailing_dot),
	    cmocka_unit_test(test_apex_soa_and_ns_are_made_when_not_given),
	    cmocka_unit_test(test_given_apex_soa_and_ns_are_kept),
	    cmocka_unit_test(test_proxy_section_is_read),
	    cmocka_unit_test(test_health_check_defaults_and_values_are_read),
	    cmocka_unit_test(test_ocsp_response_file_is_read),
	    cmocka_unit_test(test_kubernetes_and_metrics_are_read),
	    cmocka_unit_test(test_enabled_kubernetes_reads_the_kubeconfig_path),
	    cmocka_unit_test(test_bundled_example_validates),
	    cmocka_unit_test(test_bundled_host_example_validates),
	};
	return cmocka_run_group_tests(tests, cfgtest_setup, cfgtest_teardown);
}
