/*
 * Zone lookup and query processing: exact and wildcard matches (RFC 4592,
 * deep wildcards, empty non-terminals, existing names not covered),
 * NXDOMAIN vs NODATA with the SOA (RFC 2308), CNAME chains, the apex SOA
 * and NS, minimal ANY, referrals, view choice by source address, and the
 * whole path from packet to response (REFUSED, RA, EDNS, BADVERS,
 * truncation, 0x20 case).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "answer.h"
#include "helpers.h"
#include "zone.h"

static const char *const internal_records[] = {
    "@ 300 IN SOA ns.qroksera.com. hostmaster.qroksera.com. 1 3600 600 86400 "
    "60",
    "@ 300 IN NS ns.qroksera.com.",
    "@ 300 IN MX 10 mail",
    "ns A 192.168.122.1",
    "mail A 192.168.122.2",
    "* 300 IN A 192.168.122.100",
    "harbor 300 IN A 192.168.122.100",
    "harbor AAAA fd00::100",
    "harbor.internal 120 IN A 192.168.122.101",
    "www CNAME web",
    "web CNAME harbor",
    "ext CNAME www.example.org.",
    "dangling CNAME nothere.internal",
    "*.apps TXT \"apps wildcard\"",
    "_http._tcp SRV 0 5 80 harbor",
    "sub NS ns1.sub",
    "ns1.sub A 192.168.122.53",
    NULL,
};

static const char *const external_records[] = {
    "@ 300 IN SOA ns.qroksera.com. hostmaster.qroksera.com. 1 3600 600 86400 "
    "300",
    "@ 300 IN NS ns.qroksera.com.",
    "harbor A 203.0.113.10",
    NULL,
};

struct fixture {
	struct hearth_dns cfg;
	struct dns_snapshot *snap;
	const struct dns_zone *z;
	const struct dns_view *internal;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hearth_dns_zone *z = th_add_zone(&f->cfg, "qroksera.com");
	th_add_view(z, "internal", "192.168.122.0/24,127.0.0.0/8,fd00::/8",
	    false, internal_records);
	th_add_view(z, "external", "0.0.0.0/0,::/0", false, external_records);
	struct hearth_dns_zone *z2 = th_add_zone(&f->cfg, "lab.qroksera.com");
	const char *lab[] =
	    {"@ SOA ns.lab.qroksera.com. h.lab.qroksera.com. 1 2 3 4 5",
	        "@ NS ns", "ns A 10.0.0.1", NULL};
	th_add_view(z2, "all", "0.0.0.0/0", false, lab);
	f->cfg.n_recursion_clients = 1;
	f->cfg.recursion_clients = calloc(1, sizeof(struct hearth_cidr));
	hearth_cidr_parse("127.0.0.0/8", f->cfg.recursion_clients);
	f->cfg.max_udp_payload_bytes = 1232;
	f->snap = dns_snapshot_new(&f->cfg);
	assert_non_null(f->snap);
	uint8_t o[DNS_NAME_MAX];
	int ol = dns_name_from_str("qroksera.com", o);
	f->z = dns_db_zone(f->snap->db, o, ol);
	f->internal = &f->z->views[0];
	*state = f;
	return 0;
}

static void
free_cfg(struct hearth_dns *d)
{
	for (size_t i = 0; i < d->n_zones; i++) {
		for (size_t j = 0; j < d->zones[i].n_views; j++) {
			struct hearth_dns_view *v = &d->zones[i].views[j];
			for (size_t k = 0; k < v->n_records; k++)
				hearth_rr_clear(&v->records[k]);
			free(v->records);
			free(v->clients);
			free(v->name);
		}
		free(d->zones[i].views);
		free(d->zones[i].origin);
	}
	free(d->zones);
	free(d->recursion_clients);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	dns_snapshot_unref(f->snap);
	free_cfg(&f->cfg);
	free(f);
	return 0;
}

static void
lookup(struct fixture *f, const char *name, uint16_t type, struct dns_answer *a)
{
	uint8_t w[DNS_NAME_MAX];
	int l = dns_name_from_str(name, w);
	dns_view_lookup(f->z, f->internal, w, l, type, a);
}

static void
owner_is(const struct dns_ans_rr *r, const char *name)
{
	char s[1100];
	dns_name_to_str(r->owner, s, sizeof(s));
	assert_string_equal(s, name);
}

static void
test_exact_match_answers_with_aa(void **state)
{
	struct dns_answer a;
	lookup(*state, "harbor.qroksera.com", DNS_T_AAAA, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_true(a.aa);
	assert_int_equal(a.n_an, 1);
	assert_int_equal(a.an[0].set->type, DNS_T_AAAA);
	assert_int_equal(a.n_ns, 0);
}

static void
test_wildcard_answers_for_missing_name(void **state)
{
	struct dns_answer a;
	lookup(*state, "grafana.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 1);
	owner_is(&a.an[0], "grafana.qroksera.com");
	assert_memory_equal(a.an[0].set->rd[0].data, "\xc0\xa8\x7a\x64", 4);
}

static void
test_wildcard_matches_several_labels_deep(void **state)
{
	struct dns_answer a;
	lookup(*state, "a.b.c.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 1);
	owner_is(&a.an[0], "a.b.c.qroksera.com");
	lookup(*state, "x.y.apps.qroksera.com", DNS_T_TXT, &a);
	assert_int_equal(a.n_an, 1);
	assert_int_equal(a.an[0].set->type, DNS_T_TXT);
}

static void
test_wildcard_does_not_cover_existing_name(void **state)
{
	struct dns_answer a;
	/* harbor exists beside *: below it is NXDOMAIN. */
	lookup(*state, "x.harbor.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NXDOMAIN);
	assert_int_equal(a.n_an, 0);
	assert_int_equal(a.n_ns, 1);
	assert_int_equal(a.ns[0].set->type, DNS_T_SOA);
	/* harbor has no TXT: NODATA, not the wildcard's answer. */
	lookup(*state, "harbor.qroksera.com", DNS_T_TXT, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 0);
	assert_int_equal(a.ns[0].set->type, DNS_T_SOA);
}

static void
test_empty_non_terminal_is_nodata_and_blocks_wildcard(void **state)
{
	struct dns_answer a;
	/* "internal" exists only because harbor.internal does. */
	lookup(*state, "internal.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 0);
	assert_int_equal(a.n_ns, 1);
	lookup(*state, "other.internal.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NXDOMAIN);
	/* "apps" is an ENT holding only *.apps. */
	lookup(*state, "apps.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 0);
}

static void
test_negative_answers_carry_soa_with_negative_ttl(void **state)
{
	struct dns_answer a;
	lookup(*state, "x.harbor.qroksera.com", DNS_T_A, &a);
	/* min(SOA TTL 300, MINIMUM 60) */
	assert_int_equal(a.ns[0].ttl, 60);
	owner_is(&a.ns[0], "qroksera.com");
}

static void
test_wildcard_nodata(void **state)
{
	struct dns_answer a;
	lookup(*state, "grafana.qroksera.com", DNS_T_MX, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 0);
	assert_int_equal(a.ns[0].set->type, DNS_T_SOA);
}

static void
test_cname_chain_is_followed_within_zone(void **state)
{
	struct dns_answer a;
	lookup(*state, "www.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 3);
	assert_int_equal(a.an[0].set->type, DNS_T_CNAME);
	owner_is(&a.an[0], "www.qroksera.com");
	assert_int_equal(a.an[1].set->type, DNS_T_CNAME);
	owner_is(&a.an[1], "web.qroksera.com");
	assert_int_equal(a.an[2].set->type, DNS_T_A);
	owner_is(&a.an[2], "harbor.qroksera.com");
	/* Asking for the CNAME itself does not follow it. */
	lookup(*state, "www.qroksera.com", DNS_T_CNAME, &a);
	assert_int_equal(a.n_an, 1);
}

static void
test_cname_leaving_zone_or_dangling(void **state)
{
	struct dns_answer a;
	lookup(*state, "ext.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 1);
	assert_int_equal(a.n_ns, 0);
	/* RFC 6604: the rcode is the last name's. */
	lookup(*state, "dangling.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NXDOMAIN);
	assert_int_equal(a.n_an, 1);
	assert_int_equal(a.an[0].set->type, DNS_T_CNAME);
	assert_int_equal(a.ns[0].set->type, DNS_T_SOA);
}

static void
test_apex_soa_and_ns(void **state)
{
	struct dns_answer a;
	lookup(*state, "qroksera.com", DNS_T_SOA, &a);
	assert_int_equal(a.n_an, 1);
	assert_int_equal(a.an[0].set->type, DNS_T_SOA);
	assert_int_equal(a.an[0].set->ttl, 300);
	lookup(*state, "qroksera.com", DNS_T_NS, &a);
	assert_int_equal(a.n_an, 1);
	assert_int_equal(a.an[0].set->type, DNS_T_NS);
	assert_true(a.aa);
}

static void
test_any_is_answered_with_one_rrset(void **state)
{
	struct dns_answer a;
	lookup(*state, "qroksera.com", DNS_T_ANY, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_int_equal(a.n_an, 1);
	lookup(*state, "nothing.internal.qroksera.com", DNS_T_ANY, &a);
	assert_int_equal(a.rcode, DNS_R_NXDOMAIN);
}

static void
test_delegation_gives_referral_with_glue(void **state)
{
	struct dns_answer a;
	lookup(*state, "host.sub.qroksera.com", DNS_T_A, &a);
	assert_int_equal(a.rcode, DNS_R_NOERROR);
	assert_false(a.aa);
	assert_int_equal(a.n_an, 0);
	assert_int_equal(a.n_ns, 1);
	assert_int_equal(a.ns[0].set->type, DNS_T_NS);
	owner_is(&a.ns[0], "sub.qroksera.com");
	assert_int_equal(a.n_ar, 1);
	owner_is(&a.ar[0], "ns1.sub.qroksera.com");
}

static void
view_for(struct fixture *f, const char *addr, const char *want)
{
	struct hearth_addr a;
	assert_int_equal(hearth_addr_parse(addr, &a), 0);
	const struct dns_view *v = dns_zone_view(f->z, &a);
	if (want == NULL) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v->name, want);
}

static void
test_first_matching_view_answers(void **state)
{
	view_for(*state, "192.168.122.50", "internal");
	view_for(*state, "127.0.0.1", "internal");
	view_for(*state, "192.168.123.1", "external");
	view_for(*state, "fd00::5", "internal");
	view_for(*state, "2001:db8::1", "external");
}

static void
test_zone_choice_is_longest_origin(void **state)
{
	struct fixture *f = *state;
	uint8_t w[DNS_NAME_MAX];
	int l = dns_name_from_str("ns.lab.qroksera.com", w);
	const struct dns_zone *z = dns_db_zone(f->snap->db, w, l);
	assert_string_equal(z->origin_str, "lab.qroksera.com");
	l = dns_name_from_str("ns.qroksera.com", w);
	assert_string_equal(dns_db_zone(f->snap->db, w, l)->origin_str,
	    "qroksera.com");
	l = dns_name_from_str("qroksera.org", w);
	assert_null(dns_db_zone(f->snap->db, w, l));
	l = dns_name_from_str("xqroksera.com", w);
	assert_null(dns_db_zone(f->snap->db, w, l));
}

/* Runs a packet through dns_process from src. */
static void
process(struct fixture *f, const char *src, const uint8_t *pkt, size_t len,
    bool tcp, struct th_msg *m, struct dns_result *res)
{
	static uint8_t buf[65535 + 64];
	struct hearth_addr a;
	struct dns_query q;
	size_t n;
	assert_int_equal(hearth_addr_parse(src, &a), 0);
	dns_process(f->snap, NULL, &a, tcp, pkt, len, &q, 1000, buf,
	    tcp ? sizeof(buf) : 4096, &n, res);
	if (res->verdict == DNS_V_REPLY)
		assert_int_equal(th_parse(buf, n, m), 0);
}

static void
test_internal_and_external_clients_get_their_view(void **state)
{
	uint8_t pkt[512];
	struct th_msg m;
	struct dns_result r;
	size_t n = th_query(pkt, 9, "harbor.qroksera.com", DNS_T_A, false, 0, 0,
	    false);
	process(*state, "192.168.122.50", pkt, n, false, &m, &r);
	assert_int_equal(m.rr[0].rdata[3], 100);
	assert_string_equal(r.view, "internal");
	process(*state, "198.51.100.7", pkt, n, false, &m, &r);
	assert_memory_equal(m.rr[0].rdata, "\xcb\x00\x71\x0a", 4);
	assert_string_equal(r.view, "external");
	assert_true(m.flags & DNS_F_AA);
	assert_false(m.flags & DNS_F_RA);
}

static void
test_outsider_is_refused_outside_zones(void **state)
{
	uint8_t pkt[512];
	struct th_msg m;
	struct dns_result r;
	size_t n = th_query(pkt, 9, "example.org", DNS_T_A, false, 0, 0, false);
	process(*state, "198.51.100.7", pkt, n, false, &m, &r);
	assert_int_equal(r.verdict, DNS_V_REPLY);
	assert_int_equal(m.flags & 0xf, DNS_R_REFUSED);
	assert_false(m.flags & DNS_F_RA);
	/* No forwarders configured: recursion clients are refused too. */
	process(*state, "127.0.0.1", pkt, n, false, &m, &r);
	assert_int_equal(m.flags & 0xf, DNS_R_REFUSED);
	assert_true(m.flags & DNS_F_RA);
}

static void
test_forwarders_make_recursion_clients_forward(void **state)
{
	struct fixture *f = *state;
	f->snap->have_forwarders = true;
	uint8_t pkt[512];
	struct th_msg m;
	struct dns_result r;
	size_t n = th_query(pkt, 9, "example.org", DNS_T_A, false, 0, 0, false);
	process(f, "127.0.0.1", pkt, n, false, &m, &r);
	assert_int_equal(r.verdict, DNS_V_FORWARD);
	process(f, "198.51.100.7", pkt, n, false, &m, &r);
	assert_int_equal(r.verdict, DNS_V_REPLY);
	assert_int_equal(m.flags & 0xf, DNS_R_REFUSED);
	f->snap->have_forwarders = false;
}

static void
test_question_case_is_echoed(void **state)
{
	uint8_t pkt[512];
	struct th_msg m;
	struct dns_result r;
	size_t n = th_query(pkt, 9, "HaRbOr.QrOkSeRa.CoM", DNS_T_A, true, 1232,
	    0, false);
	process(*state, "192.168.122.50", pkt, n, false, &m, &r);
	assert_string_equal(m.qname, "HaRbOr.QrOkSeRa.CoM");
	assert_string_equal(m.rr[0].owner, "HaRbOr.QrOkSeRa.CoM");
}

static void
test_edns_is_echoed_and_badvers_returned(void **state)
{
	uint8_t pkt[512];
	struct th_msg m;
	struct dns_result r;
	size_t n = th_query(pkt, 9, "harbor.qroksera.com", DNS_T_A, true, 4096,
	    0, true);
	process(*state, "192.168.122.50", pkt, n, false, &m, &r);
	assert_int_equal(m.counts[3], 1);
	struct th_rr *opt = &m.rr[m.n - 1];
	assert_int_equal(opt->type, DNS_T_OPT);
	assert_int_equal(opt->ttl & 0x8000, 0x8000); /* DO echoed */
	n = th_query(pkt, 9, "harbor.qroksera.com", DNS_T_A, true, 4096, 1,
	    false);
	process(*state, "192.168.122.50", pkt, n, false, &m, &r);
	assert_int_equal(r.rcode, DNS_R_BADVERS);
	assert_int_equal(m.counts[1], 0);
	opt = &m.rr[m.n - 1];
	assert_int_equal(opt->type, DNS_T_OPT);
	assert_int_equal(opt->ttl >> 24, 1); /* extended rcode 16 = 1 << 4 */
	assert_int_equal((opt->ttl >> 16) & 0xff, 0);
}

static void
test_big_answer_is_truncated_over_udp_only(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *recs[60];
	char lines[50][80];
	recs[0] = "@ SOA ns.big.test. h.big.test. 1 2 3 4 5";
	for (int i = 0; i < 50; i++) {
		snprintf(lines[i], sizeof(lines[i]),
		    "many TXT \"record number %02d padding padding\"", i);
		recs[i + 1] = lines[i];
	}
	recs[51] = NULL;
	th_add_view(th_add_zone(&f->cfg, "big.test"), "all", "0.0.0.0/0", false,
	    recs);
	f->cfg.max_udp_payload_bytes = 1232;
	f->snap = dns_snapshot_new(&f->cfg);
	uint8_t pkt[512];
	struct th_msg m;
	struct dns_result r;
	size_t n =
	    th_query(pkt, 3, "many.big.test", DNS_T_TXT, false, 0, 0, false);
	process(f, "10.0.0.1", pkt, n, false, &m, &r);
	assert_true(m.flags & DNS_F_TC);
	assert_true(r.truncated);
	assert_int_equal(m.counts[1], 0);
	n = th_query(pkt, 3, "many.big.test", DNS_T_TXT, true, 4096, 0, false);
	process(f, "10.0.0.1", pkt, n, false, &m, &r);
	assert_true(m.flags & DNS_F_TC); /* capped at 1232 */
	assert_int_equal(m.counts[3], 1);
	process(f, "10.0.0.1", pkt, n, true, &m, &r);
	assert_false(m.flags & DNS_F_TC);
	assert_int_equal(m.counts[1], 50);
	assert_false(r.truncated);
	void *s = f;
	teardown(&s);
}

static void
test_malformed_and_unsupported_queries(void **state)
{
	uint8_t pkt[512];
	struct th_msg m;
	struct dns_result r;
	size_t n = th_query(pkt, 9, "harbor.qroksera.com", DNS_T_A, false, 0, 0,
	    false);
	pkt[2] = 0x28; /* opcode 5: UPDATE */
	process(*state, "192.168.122.50", pkt, n, false, &m, &r);
	assert_int_equal(m.flags & 0xf, DNS_R_NOTIMP);
	assert_int_equal(m.id, 9);
	pkt[2] = 0x01;
	process(*state, "192.168.122.50", pkt, n - 2, false, &m, &r);
	assert_int_equal(m.flags & 0xf, DNS_R_FORMERR);
	process(*state, "192.168.122.50", pkt, 5, false, &m, &r);
	assert_int_equal(r.verdict, DNS_V_DROP);
	n = th_query(pkt, 9, "qroksera.com", DNS_T_AXFR, false, 0, 0, false);
	process(*state, "192.168.122.50", pkt, n, false, &m, &r);
	assert_int_equal(m.flags & 0xf, DNS_R_REFUSED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_match_answers_with_aa),
	    cmocka_unit_test(test_wildcard_answers_for_missing_name),
	    cmocka_unit_test(test_wildcard_matches_several_labels_deep),
	    cmocka_unit_test(test_wildcard_does_not_cover_existing_name),
	    cmocka_unit_test(
	        test_empty_non_terminal_is_nodata_and_blocks_wildcard),
	    cmocka_unit_test(test_negative_answers_carry_soa_with_negative_ttl),
	    cmocka_unit_test(test_wildcard_nodata),
	    cmocka_unit_test(test_cname_chain_is_followed_within_zone),
	    cmocka_unit_test(test_cname_leaving_zone_or_dangling),
	    cmocka_unit_test(test_apex_soa_and_ns),
	    cmocka_unit_test(test_any_is_answered_with_one_rrset),
	    cmocka_unit_test(test_delegation_gives_referral_with_glue),
	    cmocka_unit_test(test_first_matching_view_answers),
	    cmocka_unit_test(test_zone_choice_is_longest_origin),
	    cmocka_unit_test(test_internal_and_external_clients_get_their_view),
	    cmocka_unit_test(test_outsider_is_refused_outside_zones),
	    cmocka_unit_test(test_forwarders_make_recursion_clients_forward),
	    cmocka_unit_test(test_question_case_is_echoed),
	    cmocka_unit_test(test_edns_is_echoed_and_badvers_returned),
	    cmocka_unit_test(test_big_answer_is_truncated_over_udp_only),
	    cmocka_unit_test(test_malformed_and_unsupported_queries),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
