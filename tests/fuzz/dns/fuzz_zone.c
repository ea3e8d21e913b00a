/*
 * Fuzz target: the zone database and the response builder with records
 * the input makes up (owners from a fixed set of names with wildcards and
 * empty non-terminals, any type, any rdata bytes). Every owner and some
 * names below them are looked up for several types, and the answer is
 * written under a size limit the input picks; the message must stay
 * within the limit and parse back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "msg_check.h"
#include "zone.h"

static const char *const owners[] = {"example.com", "*.example.com",
    "a.example.com", "b.a.example.com", "*.a.example.com", "c.example.com",
    "x.y.z.example.com", "*.z.example.com", "ns.example.com",
    "mail.example.com"};
#define N_OWNERS (sizeof(owners) / sizeof(owners[0]))
static const uint16_t types[] = {DNS_T_A, DNS_T_NS, DNS_T_CNAME, DNS_T_SOA,
    DNS_T_MX, DNS_T_TXT, DNS_T_AAAA, DNS_T_SRV, DNS_T_PTR, DNS_T_CAA, 99};

static void
check(const uint8_t *buf, size_t n)
{
	/* every answer here carries its one question */
	if (n < DNS_HDR_LEN || dns_get16(buf + 4) != 1)
		abort();
	fuzz_dns_check_msg(buf, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hearth_rr rrs[64];
	struct hearth_dns_view view = {.name = (char *)"v"};
	struct hearth_dns_zone zone = {.origin = (char *)"example.com",
	    .views = &view,
	    .n_views = 1};
	struct hearth_dns cfg = {.zones = &zone,
	    .n_zones = 1,
	    .max_udp_payload_bytes = 1232};
	if (size < 1)
		return 0;
	size_t limit = 64 + (size_t)data[0] * 8, off = 1;
	/* Records: owner index, type index, ttl byte, rdata length, rdata. */
	while (off + 4 <= size && view.n_records < 64) {
		struct hearth_rr *r = &rrs[view.n_records];
		r->owner = (char *)owners[data[off] % N_OWNERS];
		r->type = types[data[off + 1] % (sizeof(types) / 2)];
		r->rclass = DNS_C_IN;
		r->ttl = data[off + 2];
		r->rdlen = data[off + 3];
		off += 4;
		if (off + r->rdlen > size)
			break;
		r->rdata = (uint8_t *)data + off;
		off += r->rdlen;
		view.n_records++;
	}
	view.records = rrs;
	struct dns_db *db = dns_db_new(&cfg);
	if (db == NULL)
		return 0;
	static const char *const extra[] = {"q.example.com",
	    "q.b.a.example.com", "q.c.example.com", "q.r.z.example.com",
	    "y.z.example.com"};
	uint8_t qb[512], out[4096];
	for (size_t i = 0; i < N_OWNERS + 5; i++) {
		const char *name =
		    i < N_OWNERS ? owners[i] : extra[i - N_OWNERS];
		for (size_t t = 0; t < sizeof(types) / 2 + 1; t++) {
			uint16_t qt =
			    t < sizeof(types) / 2 ? types[t] : DNS_T_ANY;
			/* A query for name/qt, as a client sends it. */
			memset(qb, 0, DNS_HDR_LEN);
			dns_put16(qb + 4, 1);
			int nl = dns_name_from_str(name, qb + DNS_HDR_LEN);
			dns_put16(qb + DNS_HDR_LEN + nl, qt);
			dns_put16(qb + DNS_HDR_LEN + nl + 2, DNS_C_IN);
			struct dns_query q;
			if (dns_query_parse(qb, DNS_HDR_LEN + (size_t)nl + 4,
			        &q) != DNS_PARSE_OK)
				abort();
			const struct dns_zone *z =
			    dns_db_zone(db, q.lname, q.qname_len);
			struct dns_answer a;
			struct dns_writer w;
			dns_view_lookup(z, &z->views[0], q.lname, q.qname_len,
			    qt, &a);
			dns_writer_init(&w, out, limit);
			dns_write_header(&w, &q);
			dns_write_question(&w, &q);
			if (dns_answer_write(&a, &w) < 0) {
				dns_writer_rewind(&w, q.question_end);
				memset(out + 6, 0, 6);
			}
			if (w.len > limit)
				abort();
			check(out, w.len);
		}
	}
	dns_db_free(db);
	return 0;
}
