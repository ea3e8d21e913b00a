/*
 * Fuzz target: the query parser and the whole answer path. Each input is
 * a packet from a client; it is parsed, then answered from a fixed zone
 * (wildcards, CNAME chains, a delegation, many TXT records) over UDP with
 * the size the first byte picks, and over TCP; every response must parse
 * back cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "config.h"
#include "msg_check.h"

static struct dns_snapshot *snap;

static void
add(struct hearth_dns_view *v, const char *line)
{
	char err[200];
	struct hearth_rr rr;
	if (hearth_rr_parse(line, "example.com", &rr, err, sizeof(err)) != 0)
		abort();
	v->records = realloc(v->records, (v->n_records + 1) * sizeof(rr));
	v->records[v->n_records++] = rr;
}

static void
init(void)
{
	static struct hearth_dns cfg;
	static struct hearth_dns_zone zone;
	static struct hearth_dns_view view;
	static struct hearth_cidr all;
	static const char *const lines[] =
	    {"@ SOA ns.example.com. h.example.com. 1 2 3 4 5", "@ NS ns",
	        "@ MX 10 mail", "ns A 192.0.2.1", "mail AAAA 2001:db8::1",
	        "* A 192.0.2.100", "www CNAME web", "web CNAME www2",
	        "www2 A 192.0.2.2", "a.b.c TXT \"deep\"", "*.w TXT \"w\"",
	        "sub NS ns.sub", "ns.sub A 192.0.2.53", "loop CNAME loop",
	        "_s._tcp SRV 1 2 3 www2", "c CAA 0 issue \"ca.example\"",
	        "p PTR www2"};
	hearth_cidr_parse("0.0.0.0/0", &all);
	view.name = (char *)"all";
	view.clients = &all;
	view.n_clients = 1;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		add(&view, lines[i]);
	for (int i = 0; i < 40; i++)
		add(&view, "many TXT \"padding padding padding padding\"");
	zone.origin = (char *)"example.com";
	zone.views = &view;
	zone.n_views = 1;
	cfg.zones = &zone;
	cfg.n_zones = 1;
	cfg.max_udp_payload_bytes = 1232;
	snap = dns_snapshot_new(&cfg);
	if (snap == NULL)
		abort();
}

static void
check(const uint8_t *buf, size_t n)
{
	if (n > 0) /* 0: nothing sent */
		fuzz_dns_check_msg(buf, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65535 + 64];
	if (snap == NULL)
		init();
	struct hearth_addr src = {.family = AF_INET};
	struct dns_query q;
	struct dns_result res;
	size_t n;
	uint8_t *pkt = malloc(size ? size : 1);
	memcpy(pkt, data, size);
	dns_process(snap, NULL, &src, false, pkt, size, &q, 1, out, 4096, &n,
	    &res);
	check(out, n);
	if (n > 4096 || (n > 512 && !q.has_edns))
		abort();
	dns_process(snap, NULL, &src, true, pkt, size, &q, 1, out, sizeof(out),
	    &n, &res);
	check(out, n);
	free(pkt);
	return 0;
}
