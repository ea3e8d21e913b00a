/*
 * The libvirt XML hearth-provision defines, parsed back with libxml2 and
 * checked value by value; the facts read from libvirt-normalised XML; and
 * the plan: from nothing, from everything matching, and from drift.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "provision.h"

/* The string value of an XPath expression over xml. */
static char *
xp(const char *xml, const char *expr)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "t.xml", NULL,
	    XML_PARSE_NONET);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr r;
	char *out;

	assert_non_null(doc);
	ctx = xmlXPathNewContext(doc);
	r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	assert_non_null(r);
	if (r->type == XPATH_NUMBER)
		assert_true(asprintf(&out, "%.0f", r->floatval) > 0);
	else
		out = strdup((const char *)r->stringval);
	xmlXPathFreeObject(r);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return out;
}

static void
assert_xp(const char *xml, const char *expr, const char *want)
{
	char *have = xp(xml, expr);

	if (strcmp(have, want) != 0)
		fail_msg("%s: have \"%s\", want \"%s\"", expr, have, want);
	free(have);
}

static void
test_network_xml_forward_open_with_a_host_per_node(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *x = prov_network_xml(s, "dd8fe884-6c02-601e-7551-cca97df1c5df",
	    "52:54:00:0a:0b:0c");

	assert_xp(x, "string(/network/name)", "default");
	assert_xp(x, "string(/network/uuid)",
	    "dd8fe884-6c02-601e-7551-cca97df1c5df");
	assert_xp(x, "string(/network/forward/@mode)", "open");
	assert_xp(x, "string(/network/bridge/@name)", "virbr0");
	assert_xp(x, "string(/network/mac/@address)", "52:54:00:0a:0b:0c");
	assert_xp(x, "string(/network/ip/@address)", "192.168.122.1");
	assert_xp(x, "string(/network/ip/@netmask)", "255.255.255.0");
	assert_xp(x, "string(/network/ip/dhcp/range/@start)", "192.168.122.2");
	assert_xp(x, "string(/network/ip/dhcp/range/@end)", "192.168.122.254");
	assert_xp(x, "count(/network/ip/dhcp/host)", "3");
	assert_xp(x,
	    "string(/network/ip/dhcp/host[@mac='52:54:00:a8:7a:0a']/@ip)",
	    "192.168.122.10");
	assert_xp(x,
	    "string(/network/ip/dhcp/host[@mac='52:54:00:a8:7a:0b']/@name)",
	    "k8s-worker1");
	assert_xp(x,
	    "string(/network/ip/dhcp/host[@mac='52:54:00:a8:7a:0c']/@ip)",
	    "192.168.122.12");
	assert_xp(x, "count(/network/nat)", "0");
	free(x);
	prov_settings_free(s);
}

static void
test_volume_xml_is_sized_and_backed_by_the_base(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *x = prov_volume_xml(&s->nodes[1], "/img/base & co.img", "raw");

	assert_xp(x, "string(/volume/name)", "k8s-worker1.qcow2");
	assert_xp(x, "string(/volume/capacity)", "30");
	assert_xp(x, "string(/volume/capacity/@unit)", "GiB");
	assert_xp(x, "string(/volume/target/format/@type)", "qcow2");
	assert_xp(x, "string(/volume/backingStore/path)", "/img/base & co.img");
	assert_xp(x, "string(/volume/backingStore/format/@type)", "raw");
	free(x);
	prov_settings_free(s);
}

static void
test_domain_xml_has_disk_seed_and_mac(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *x = prov_domain_xml(s, &s->nodes[0], "kvm", NULL,
	    "/var/lib/libvirt/images/k8s-control-plane.qcow2",
	    "/var/lib/hearth-provision/k8s-control-plane/seed.iso");

	assert_xp(x, "string(/domain/@type)", "kvm");
	assert_xp(x, "string(/domain/name)", "k8s-control-plane");
	assert_xp(x, "count(/domain/uuid)", "0");
	assert_xp(x, "string(/domain/memory)", "8192");
	assert_xp(x, "string(/domain/memory/@unit)", "MiB");
	assert_xp(x, "string(/domain/vcpu)", "4");
	assert_xp(x, "string(/domain/devices/disk[@device='disk']/@type)",
	    "file");
	assert_xp(x,
	    "string(/domain/devices/disk[@device='disk']/driver/@type)",
	    "qcow2");
	assert_xp(x,
	    "string(/domain/devices/disk[@device='disk']/source/@file)",
	    "/var/lib/libvirt/images/k8s-control-plane.qcow2");
	assert_xp(x, "string(/domain/devices/disk[@device='cdrom']/@type)",
	    "file");
	assert_xp(x,
	    "string(/domain/devices/disk[@device='cdrom']/source/@file)",
	    "/var/lib/hearth-provision/k8s-control-plane/seed.iso");
	assert_xp(x, "count(/domain/devices/disk[@device='cdrom']/readonly)",
	    "1");
	assert_xp(x, "string(/domain/devices/interface/@type)", "network");
	assert_xp(x, "string(/domain/devices/interface/source/@network)",
	    "default");
	assert_xp(x, "string(/domain/devices/interface/mac/@address)",
	    "52:54:00:a8:7a:0a");
	free(x);
	prov_settings_free(s);
}

static void
test_pool_xml(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *x = prov_pool_xml(s, "/var/lib/libvirt/images");

	assert_xp(x, "string(/pool/@type)", "dir");
	assert_xp(x, "string(/pool/name)", "default");
	assert_xp(x, "string(/pool/target/path)", "/var/lib/libvirt/images");
	free(x);
	prov_settings_free(s);
}

/* libvirt's stock default network, as `virsh net-dumpxml default` shows it. */
static const char stock_net[] =
    "<network connections='1'>\n  <name>default</name>\n"
    "  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>\n"
    "  <forward mode='nat'>\n    <nat>\n      <port start='1024' "
    "end='65535'/>\n"
    "    </nat>\n  </forward>\n"
    "  <bridge name='virbr0' stp='on' delay='0'/>\n"
    "  <mac address='52:54:00:12:34:56'/>\n"
    "  <ip address='192.168.122.1' netmask='255.255.255.0'>\n    <dhcp>\n"
    "      <range start='192.168.122.2' end='192.168.122.254'/>\n"
    "    </dhcp>\n  </ip>\n</network>\n";

static void
test_facts_from_libvirts_xml(void **state)
{
	struct prov_net_facts n;
	struct prov_dom_facts d;
	struct prov_vol_facts v;
	char a[INET_ADDRSTRLEN];

	assert_int_equal(prov_net_facts_parse(stock_net, &n), 0);
	assert_string_equal(n.forward, "nat");
	assert_string_equal(n.bridge, "virbr0");
	assert_string_equal(n.bridge_mac, "52:54:00:12:34:56");
	assert_string_equal(n.uuid, "dd8fe884-6c02-601e-7551-cca97df1c5df");
	assert_string_equal(prov_ip(n.addr, a), "192.168.122.1");
	assert_int_equal(n.prefix, 24);
	assert_int_equal(n.n_hosts, 0);
	assert_int_equal(
	    prov_dom_facts_parse(
	        "<domain type='kvm'><name>x</name><memory "
	        "unit='KiB'>4194304</memory>"
	        "<vcpu placement='static'>2</vcpu><devices><interface "
	        "type='network'>"
	        "<mac address='52:54:00:A8:7A:0B'/><source network='default'/>"
	        "</interface></devices></domain>",
	        &d),
	    0);
	assert_int_equal(d.memory_kib, 4194304);
	assert_int_equal(d.vcpus, 2);
	assert_string_equal(d.mac, "52:54:00:a8:7a:0b");
	assert_int_equal(prov_vol_facts_parse("<volume><name>v</name>"
	                                      "<capacity "
	                                      "unit='bytes'>32212254720</"
	                                      "capacity><target><path>/p/v"
	                                      "</path></target></volume>",
	                     &v),
	    0);
	assert_int_equal(v.capacity, 30ull << 30);
	assert_string_equal(v.path, "/p/v");
	assert_int_not_equal(prov_net_facts_parse("<network", &n), 0);
}

/* What libvirt would report for objects exactly as s wants them. */
static void
observe_matching(const struct prov_settings *s, struct prov_observed *o)
{
	char *x = prov_network_xml(s, "u", NULL);

	memset(o, 0, sizeof(*o));
	o->state_dir = "/state";
	o->pki_exists = o->kubeconfig_current = true;
	o->net_exists = o->net_active = o->pool_exists = o->pool_active = true;
	snprintf(o->pool_path, sizeof(o->pool_path), "/pool");
	assert_int_equal(prov_net_facts_parse(x, &o->net), 0);
	free(x);
	o->nodes = calloc(s->n_nodes, sizeof(*o->nodes));
	for (size_t i = 0; i < s->n_nodes; i++) {
		struct prov_obs_node *on = &o->nodes[i];
		char disk[256], seed[256];

		on->vol_exists = on->seed_current = true;
		on->vol.capacity = (unsigned long long)s->nodes[i].disk_gib
		    << 30;
		snprintf(on->vol.path, sizeof(on->vol.path), "/pool/%s.qcow2",
		    s->nodes[i].name);
		snprintf(on->vol.backing, sizeof(on->vol.backing), "%s",
		    s->image_base);
		snprintf(disk, sizeof(disk), "/pool/%s.qcow2",
		    s->nodes[i].name);
		snprintf(seed, sizeof(seed), "/state/%s/seed.iso",
		    s->nodes[i].name);
		x = prov_domain_xml(s, &s->nodes[i], "kvm", NULL, disk, seed);
		assert_int_equal(prov_dom_facts_parse(x, &on->dom_facts), 0);
		free(x);
		on->dom = PROV_DOM_RUNNING;
	}
}

static void
test_plan_from_nothing_makes_everything(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_observed o = {.state_dir = "/state", .pool_path = "/pool"};
	struct prov_plan p;

	o.nodes = calloc(s->n_nodes, sizeof(*o.nodes));
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	/* PKI, network, pool, 3 volumes, 3 seeds, 3 domains, kubeconfig */
	assert_int_equal(p.n, 13);
	assert_int_equal(p.v[0].kind, PROV_STEP_PKI);
	assert_int_equal(p.v[1].kind, PROV_STEP_NET_DEFINE);
	assert_int_equal(p.v[2].kind, PROV_STEP_POOL_DEFINE);
	assert_int_equal(p.v[3].kind, PROV_STEP_VOL_CREATE);
	assert_int_equal(p.v[9].kind, PROV_STEP_DOM_DEFINE);
	assert_int_equal(p.v[9].node, 0);
	assert_non_null(
	    strstr(p.v[9].text, "52:54:00:a8:7a:0a -> 192.168.122.10"));
	assert_int_equal(p.v[12].kind, PROV_STEP_KUBECONFIG);
	prov_plan_clear(&p);
	free(o.nodes);
	prov_settings_free(s);
}

static void
test_plan_with_everything_matching_is_empty(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_observed o;
	struct prov_plan p;

	observe_matching(s, &o);
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.n_warnings, 0);
	free(o.nodes);
	prov_settings_free(s);
}

static void
test_plan_remakes_exactly_a_missing_domain(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_observed o;
	struct prov_plan p;

	observe_matching(s, &o);
	o.nodes[2].dom = PROV_DOM_ABSENT;
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].kind, PROV_STEP_DOM_DEFINE);
	assert_int_equal(p.v[0].node, 2);
	prov_plan_clear(&p);
	free(o.nodes);
	prov_settings_free(s);
}

static void
test_plan_adopts_a_nat_network(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_observed o;
	struct prov_plan p;

	observe_matching(s, &o);
	assert_int_equal(prov_net_facts_parse(stock_net, &o.net), 0);
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].kind, PROV_STEP_NET_ADOPT);
	assert_non_null(strstr(p.v[0].text, "forward nat -> open"));
	assert_non_null(strstr(p.v[0].text, "network.orig.xml"));
	prov_plan_clear(&p);
	free(o.nodes);
	prov_settings_free(s);
}

static void
test_plan_updates_only_dhcp_hosts(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_observed o;
	struct prov_plan p;

	observe_matching(s, &o);
	o.net.hosts[1].addr.s_addr = htonl(0xc0a87a63); /* .99 */
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].kind, PROV_STEP_NET_HOSTS);
	prov_plan_clear(&p);
	free(o.nodes);
	prov_settings_free(s);
}

static void
test_plan_reconciles_drift_and_warns_on_shrink(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_observed o;
	struct prov_plan p;

	observe_matching(s, &o);
	o.nodes[0].vol.capacity = 20ull << 30; /* smaller: grow */
	o.nodes[1].vol.capacity = 40ull << 30; /* larger: never shrink */
	o.nodes[1].dom_facts.memory_kib = 2048 * 1024;
	o.nodes[2].dom = PROV_DOM_SHUTOFF;
	o.pool_active = false;
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.v[0].kind, PROV_STEP_POOL_START);
	assert_int_equal(p.v[1].kind, PROV_STEP_VOL_RESIZE);
	assert_int_equal(p.v[1].node, 0);
	assert_int_equal(p.v[2].kind, PROV_STEP_DOM_REDEFINE);
	assert_non_null(strstr(p.v[2].text, "memory 2048 -> 4096 MiB"));
	assert_int_equal(p.v[3].kind, PROV_STEP_DOM_START);
	assert_int_equal(p.v[3].node, 2);
	assert_int_equal(p.n_warnings, 1);
	assert_non_null(strstr(p.warnings[0], "never shrunk"));
	prov_plan_clear(&p);
	free(o.nodes);
	prov_settings_free(s);
}

static void
test_plan_renews_an_expired_token_for_a_joining_worker(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_observed o;
	struct prov_plan p;

	observe_matching(s, &o);
	o.token_expired = true;
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	assert_int_equal(p.n, 0); /* nobody joins: the token is not needed */
	o.nodes[1].dom = PROV_DOM_ABSENT;
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.v[0].kind, PROV_STEP_TOKEN);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(p.v[i].kind, PROV_STEP_SEED);
	assert_int_equal(p.v[4].kind, PROV_STEP_DOM_DEFINE);
	prov_plan_clear(&p);
	/* No control plane yet: a fresh cluster, its token is new anyway. */
	o.nodes[0].dom = PROV_DOM_ABSENT;
	assert_int_equal(prov_plan_compute(s, &o, &p), 0);
	for (size_t i = 0; i < p.n; i++)
		assert_int_not_equal(p.v[i].kind, PROV_STEP_TOKEN);
	prov_plan_clear(&p);
	free(o.nodes);
	prov_settings_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_network_xml_forward_open_with_a_host_per_node),
	    cmocka_unit_test(test_volume_xml_is_sized_and_backed_by_the_base),
	    cmocka_unit_test(test_domain_xml_has_disk_seed_and_mac),
	    cmocka_unit_test(test_pool_xml),
	    cmocka_unit_test(test_facts_from_libvirts_xml),
	    cmocka_unit_test(test_plan_from_nothing_makes_everything),
	    cmocka_unit_test(test_plan_with_everything_matching_is_empty),
	    cmocka_unit_test(test_plan_remakes_exactly_a_missing_domain),
	    cmocka_unit_test(test_plan_adopts_a_nat_network),
	    cmocka_unit_test(test_plan_updates_only_dhcp_hosts),
	    cmocka_unit_test(test_plan_reconciles_drift_and_warns_on_shrink),
	    cmocka_unit_test(
	        test_plan_renews_an_expired_token_for_a_joining_worker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
