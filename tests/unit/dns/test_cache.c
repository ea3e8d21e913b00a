/*
 * The answer cache's TTL arithmetic (decrement, expiry, stale window,
 * negative TTLs from the SOA, brief SERVFAIL), its keys (DO bit, letter
 * case), LRU bound, and the rate limiter's buckets and slip.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "answer.h"
#include "cache.h"
#include "helpers.h"
#include "ratelimit.h"

/* An upstream answer for name/type: one A record (ttl) or, with rcode
 * NXDOMAIN, an SOA (soa_ttl, minimum) in authority, plus an OPT. */
static size_t
upstream(uint8_t *buf, const char *name, uint16_t type, uint8_t rcode,
    uint32_t ttl, uint32_t soa_ttl, uint32_t minimum)
{
	size_t n = th_query(buf, 0, name, type, false, 0, 0, false);
	buf[2] = 0x81;
	buf[3] = (uint8_t)(0x80 | rcode);
	if (rcode == DNS_R_NOERROR && ttl > 0) {
		dns_put16(buf + 6, 1);
		uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0,
		    2, 7};
		dns_put32(rr + 6, ttl);
		memcpy(buf + n, rr, sizeof(rr));
		n += sizeof(rr);
	} else if (soa_ttl > 0) {
		dns_put16(buf + 8, 1);
		uint8_t rr[] = {0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 26, 1, 'n',
		    0, 1, 'h', 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
		    4, 0, 0, 0, 0};
		dns_put32(rr + 6, soa_ttl);
		dns_put32(rr + sizeof(rr) - 4, minimum);
		memcpy(buf + n, rr, sizeof(rr));
		n += sizeof(rr);
	}
	uint8_t opt[] = {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0};
	memcpy(buf + n, opt, sizeof(opt));
	dns_put16(buf + 10, (uint16_t)(dns_get16(buf + 10) + 1));
	return n + sizeof(opt);
}

/* Looks name up as a client would ask it. */
static enum dns_cache_result
ask(struct dns_cache *c, const char *name, uint16_t type, uint64_t now,
    bool stale, struct th_msg *m)
{
	uint8_t qb[512], out[4096];
	struct dns_query q;
	size_t n = th_query(qb, 0x4242, name, type, false, 0, 0, false);
	assert_int_equal(dns_query_parse(qb, n, &q), DNS_PARSE_OK);
	enum dns_cache_result r =
	    dns_cache_lookup(c, &q, now, stale, out, sizeof(out), &n);
	if (r == DNS_CACHE_HIT || (r == DNS_CACHE_STALE && stale))
		assert_int_equal(th_parse(out, n, m), 0);
	return r;
}

static void
test_hit_decrements_ttl(void **state)
{
	struct dns_cache *c = dns_cache_new(100);
	uint8_t b[512];
	struct th_msg m;
	size_t n = upstream(b, "example.org", DNS_T_A, 0, 300, 0, 0);
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), 0);
	assert_int_equal(ask(c, "example.org", DNS_T_A, 1000, false, &m),
	    DNS_CACHE_HIT);
	assert_int_equal(m.rr[0].ttl, 300);
	assert_int_equal(ask(c, "Example.ORG", DNS_T_A, 1100, false, &m),
	    DNS_CACHE_HIT);
	assert_int_equal(m.rr[0].ttl, 200);
	assert_int_equal(m.id, 0x4242);
	assert_string_equal(m.qname, "Example.ORG");
	assert_string_equal(m.rr[0].owner, "Example.ORG");
	assert_int_equal(m.counts[3], 0); /* upstream OPT removed */
	assert_int_equal(ask(c, "example.org", DNS_T_A, 1299, false, &m),
	    DNS_CACHE_HIT);
	assert_int_equal(m.rr[0].ttl, 1);
	assert_int_equal(ask(c, "example.org", DNS_T_AAAA, 1100, false, &m),
	    DNS_CACHE_MISS);
	dns_cache_free(c);
}

static void
test_expired_entry_is_stale_then_gone(void **state)
{
	struct dns_cache *c = dns_cache_new(100);
	uint8_t b[512];
	struct th_msg m;
	size_t n = upstream(b, "example.org", DNS_T_A, 0, 60, 0, 0);
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), 0);
	assert_int_equal(ask(c, "example.org", DNS_T_A, 1060, false, &m),
	    DNS_CACHE_STALE);
	assert_int_equal(ask(c, "example.org", DNS_T_A, 1060, true, &m),
	    DNS_CACHE_STALE);
	assert_int_equal(m.rr[0].ttl, DNS_CACHE_STALE_TTL);
	assert_int_equal(ask(c, "example.org", DNS_T_A,
	                     1060 + DNS_CACHE_STALE_WINDOW, true, &m),
	    DNS_CACHE_MISS);
	assert_int_equal(dns_cache_count(c), 0);
	dns_cache_free(c);
}

static void
test_negative_ttl_is_min_of_soa_ttl_and_minimum(void **state)
{
	struct dns_cache *c = dns_cache_new(100);
	uint8_t b[512];
	struct th_msg m;
	size_t n =
	    upstream(b, "nx.example.org", DNS_T_A, DNS_R_NXDOMAIN, 0, 3600, 30);
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), 0);
	assert_int_equal(ask(c, "nx.example.org", DNS_T_A, 1029, false, &m),
	    DNS_CACHE_HIT);
	assert_int_equal(m.flags & 0xf, DNS_R_NXDOMAIN);
	assert_int_equal(m.rr[0].type, DNS_T_SOA);
	assert_int_equal(m.rr[0].ttl, 3600 - 29);
	assert_int_equal(ask(c, "nx.example.org", DNS_T_A, 1030, false, &m),
	    DNS_CACHE_STALE);
	/* NODATA too; without an SOA a negative answer is not kept. */
	n = upstream(b, "nd.example.org", DNS_T_AAAA, 0, 0, 20, 100);
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), 0);
	assert_int_equal(ask(c, "nd.example.org", DNS_T_AAAA, 1019, false, &m),
	    DNS_CACHE_HIT);
	assert_int_equal(ask(c, "nd.example.org", DNS_T_AAAA, 1020, false, &m),
	    DNS_CACHE_STALE);
	n = upstream(b, "bare.example.org", DNS_T_A, DNS_R_NXDOMAIN, 0, 0, 0);
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), -EINVAL);
	dns_cache_free(c);
}

static void
test_servfail_is_kept_briefly_and_never_stale(void **state)
{
	struct dns_cache *c = dns_cache_new(100);
	uint8_t b[512];
	struct th_msg m;
	size_t n =
	    upstream(b, "sf.example.org", DNS_T_A, DNS_R_SERVFAIL, 0, 0, 0);
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), 0);
	assert_int_equal(ask(c, "sf.example.org", DNS_T_A,
	                     1000 + DNS_CACHE_SERVFAIL_TTL - 1, false, &m),
	    DNS_CACHE_HIT);
	assert_int_equal(m.flags & 0xf, DNS_R_SERVFAIL);
	assert_int_equal(ask(c, "sf.example.org", DNS_T_A,
	                     1000 + DNS_CACHE_SERVFAIL_TTL, true, &m),
	    DNS_CACHE_MISS);
	dns_cache_free(c);
}

static void
test_zero_ttl_and_truncated_answers_are_not_kept(void **state)
{
	struct dns_cache *c = dns_cache_new(100);
	uint8_t b[512];
	size_t n = upstream(b, "z.example.org", DNS_T_A, 0, 0, 0, 0);
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), -EINVAL);
	n = upstream(b, "t.example.org", DNS_T_A, 0, 60, 0, 0);
	b[2] |= 0x02;
	assert_int_equal(dns_cache_store(c, b, n, 0, 1000), -EINVAL);
	assert_int_equal(dns_cache_count(c), 0);
	dns_cache_free(c);
}

static void
test_do_bit_is_part_of_the_key(void **state)
{
	struct dns_cache *c = dns_cache_new(100);
	uint8_t b[512], qb[512], out[4096];
	size_t n = upstream(b, "example.org", DNS_T_A, 0, 60, 0, 0);
	assert_int_equal(dns_cache_store(c, b, n, DNS_CACHE_DO, 1000), 0);
	struct dns_query q;
	n = th_query(qb, 1, "example.org", DNS_T_A, true, 1232, 0, false);
	dns_query_parse(qb, n, &q);
	assert_int_equal(dns_cache_lookup(c, &q, 1001, false, out, sizeof(out),
	                     &n),
	    DNS_CACHE_MISS);
	n = th_query(qb, 1, "example.org", DNS_T_A, true, 1232, 0, true);
	dns_query_parse(qb, n, &q);
	assert_int_equal(dns_cache_lookup(c, &q, 1001, false, out, sizeof(out),
	                     &n),
	    DNS_CACHE_HIT);
	dns_cache_free(c);
}

static void
test_least_recently_used_entry_is_evicted(void **state)
{
	struct dns_cache *c = dns_cache_new(2);
	uint8_t b[512];
	struct th_msg m;
	size_t n = upstream(b, "a.org", DNS_T_A, 0, 60, 0, 0);
	dns_cache_store(c, b, n, 0, 1000);
	n = upstream(b, "b.org", DNS_T_A, 0, 60, 0, 0);
	dns_cache_store(c, b, n, 0, 1000);
	assert_int_equal(ask(c, "a.org", DNS_T_A, 1001, false, &m),
	    DNS_CACHE_HIT);
	n = upstream(b, "c.org", DNS_T_A, 0, 60, 0, 0);
	dns_cache_store(c, b, n, 0, 1000);
	assert_int_equal(dns_cache_count(c), 2);
	assert_int_equal(ask(c, "b.org", DNS_T_A, 1001, false, &m),
	    DNS_CACHE_MISS);
	assert_int_equal(ask(c, "a.org", DNS_T_A, 1001, false, &m),
	    DNS_CACHE_HIT);
	assert_int_equal(ask(c, "c.org", DNS_T_A, 1001, false, &m),
	    DNS_CACHE_HIT);
	dns_cache_free(c);
}

static void
test_upstream_answer_is_rendered_for_the_client(void **state)
{
	uint8_t b[512], qb[512], out[4096];
	struct dns_query q;
	struct th_msg m;
	size_t n =
	    th_query(qb, 0x77, "WwW.Example.org", DNS_T_A, true, 1232, 0, true);
	dns_query_parse(qb, n, &q);
	int ql = dns_upstream_query(&q, out, sizeof(out));
	assert_true(ql > 0);
	struct dns_query uq;
	assert_int_equal(dns_query_parse(out, (size_t)ql, &uq), DNS_PARSE_OK);
	assert_memory_equal(uq.qname, "\3www\7example\3org", 17);
	assert_true(uq.edns_do);
	assert_true(uq.flags & DNS_F_RD);
	n = upstream(b, "www.example.org", DNS_T_A, 0, 60, 0, 0);
	b[2] |= 0x04; /* AA from upstream */
	int r = dns_upstream_render(b, n, &q, out, sizeof(out));
	assert_true(r > 0);
	assert_int_equal(th_parse(out, (size_t)r, &m), 0);
	assert_int_equal(m.id, 0x77);
	assert_false(m.flags & DNS_F_AA);
	assert_string_equal(m.qname, "WwW.Example.org");
	assert_int_equal(m.counts[3], 0);
	/* An answer to another question is refused. */
	n = upstream(b, "other.example.org", DNS_T_A, 0, 60, 0, 0);
	assert_int_equal(dns_upstream_render(b, n, &q, out, sizeof(out)),
	    -EBADMSG);
}

static void
test_rate_limit_passes_then_slips_and_drops(void **state)
{
	struct hearth_dns_rate_limit cfg = {.responses_per_second = 3,
	    .slip = 2,
	    .ipv4_prefix = 24,
	    .ipv6_prefix = 56};
	struct dns_rl *rl = dns_rl_new(&cfg);
	struct hearth_addr a, same, other;
	hearth_addr_parse("198.51.100.7", &a);
	hearth_addr_parse("198.51.100.200", &same);
	hearth_addr_parse("198.51.101.7", &other);
	uint64_t t = 5000;
	assert_int_equal(dns_rl_check(rl, &a, t), DNS_RL_PASS);
	assert_int_equal(dns_rl_check(rl, &a, t), DNS_RL_PASS);
	assert_int_equal(dns_rl_check(rl, &same, t), DNS_RL_PASS);
	assert_int_equal(dns_rl_check(rl, &a, t), DNS_RL_DROP);
	assert_int_equal(dns_rl_check(rl, &same, t), DNS_RL_SLIP);
	assert_int_equal(dns_rl_check(rl, &a, t), DNS_RL_DROP);
	assert_int_equal(dns_rl_check(rl, &other, t), DNS_RL_PASS);
	/* A third of a second later one token is back. */
	assert_int_equal(dns_rl_check(rl, &a, t + 334), DNS_RL_PASS);
	assert_int_equal(dns_rl_check(rl, &a, t + 334), DNS_RL_SLIP);
	dns_rl_free(rl);
	cfg.responses_per_second = 0;
	assert_null(dns_rl_new(&cfg));
	assert_int_equal(dns_rl_check(NULL, &a, t), DNS_RL_PASS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_decrements_ttl),
	    cmocka_unit_test(test_expired_entry_is_stale_then_gone),
	    cmocka_unit_test(test_negative_ttl_is_min_of_soa_ttl_and_minimum),
	    cmocka_unit_test(test_servfail_is_kept_briefly_and_never_stale),
	    cmocka_unit_test(test_zero_ttl_and_truncated_answers_are_not_kept),
	    cmocka_unit_test(test_do_bit_is_part_of_the_key),
	    cmocka_unit_test(test_least_recently_used_entry_is_evicted),
	    cmocka_unit_test(test_upstream_answer_is_rendered_for_the_client),
	    cmocka_unit_test(test_rate_limit_passes_then_slips_and_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
