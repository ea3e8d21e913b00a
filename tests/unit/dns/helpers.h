/*
 * Helpers for the dns unit tests: building a model dns section from
 * presentation lines, writing queries, and reading responses back.
 */
#ifndef HEARTH_TEST_DNS_HELPERS_H
#define HEARTH_TEST_DNS_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "model.h"
#include "wire.h"

/* Adds a view (clients comma-separated CIDRs) with NULL-ended record lines. */
static inline struct hearth_dns_view *
th_add_view(struct hearth_dns_zone *z, const char *name, const char *clients,
    bool forward, const char *const *lines)
{
	z->views = realloc(z->views, (z->n_views + 1) * sizeof(*z->views));
	struct hearth_dns_view *v = &z->views[z->n_views++];
	memset(v, 0, sizeof(*v));
	v->name = strdup(name);
	v->forward = forward;
	char *cl = strdup(clients), *save = NULL;
	for (char *t = strtok_r(cl, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		v->clients = realloc(v->clients,
		    (v->n_clients + 1) * sizeof(*v->clients));
		if (hearth_cidr_parse(t, &v->clients[v->n_clients]) == 0)
			v->n_clients++;
	}
	free(cl);
	for (size_t i = 0; lines != NULL && lines[i] != NULL; i++) {
		char err[200];
		struct hearth_rr rr;
		if (hearth_rr_parse(lines[i], z->origin, &rr, err,
		        sizeof(err)) != 0) {
			fprintf(stderr, "bad test record '%s': %s\n", lines[i],
			    err);
			abort();
		}
		v->records = realloc(v->records,
		    (v->n_records + 1) * sizeof(*v->records));
		v->records[v->n_records++] = rr;
	}
	return v;
}

static inline struct hearth_dns_zone *
th_add_zone(struct hearth_dns *d, const char *origin)
{
	d->zones = realloc(d->zones, (d->n_zones + 1) * sizeof(*d->zones));
	struct hearth_dns_zone *z = &d->zones[d->n_zones++];
	memset(z, 0, sizeof(*z));
	z->origin = strdup(origin);
	return z;
}

/* Builds a query for name/type into buf; returns its length. */
static inline size_t
th_query(uint8_t *buf, uint16_t id, const char *name, uint16_t type, bool edns,
    uint16_t udp, uint8_t version, bool do_bit)
{
	memset(buf, 0, 12);
	dns_put16(buf, id);
	dns_put16(buf + 2, DNS_F_RD);
	dns_put16(buf + 4, 1);
	size_t o = 12;
	/* Keeps the caller's letter case. */
	const char *s = name;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		buf[o++] = (uint8_t)l;
		memcpy(buf + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	buf[o++] = 0;
	dns_put16(buf + o, type);
	dns_put16(buf + o + 2, DNS_C_IN);
	o += 4;
	if (edns) {
		dns_put16(buf + 10, 1);
		buf[o] = 0;
		dns_put16(buf + o + 1, DNS_T_OPT);
		dns_put16(buf + o + 3, udp);
		buf[o + 5] = 0;
		buf[o + 6] = version;
		buf[o + 7] = do_bit ? 0x80 : 0;
		buf[o + 8] = 0;
		dns_put16(buf + o + 9, 0);
		o += 11;
	}
	return o;
}

/* A parsed response record. */
struct th_rr {
	char owner[300];
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
	size_t rdoff;
};

struct th_msg {
	uint16_t id, flags;
	uint16_t counts[4];
	char qname[300]; /* case as sent */
	struct th_rr rr[64];
	unsigned n;
};

/* Parses a whole response; returns 0 or -1. */
static inline int
th_parse(const uint8_t *p, size_t len, struct th_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < 12)
		return -1;
	m->id = dns_get16(p);
	m->flags = dns_get16(p + 2);
	for (int i = 0; i < 4; i++)
		m->counts[i] = dns_get16(p + 4 + 2 * i);
	size_t off = 12;
	uint8_t name[DNS_NAME_MAX];
	for (unsigned i = 0; i < m->counts[0]; i++) {
		if (dns_name_read(p, len, &off, name, false) < 0)
			return -1;
		dns_name_to_str(name, m->qname, sizeof(m->qname));
		off += 4;
	}
	unsigned total = m->counts[1] + m->counts[2] + m->counts[3];
	for (unsigned i = 0; i < total && i < 64; i++) {
		struct th_rr *r = &m->rr[m->n++];
		if (dns_name_read(p, len, &off, name, false) < 0 ||
		    off + 10 > len)
			return -1;
		dns_name_to_str(name, r->owner, sizeof(r->owner));
		r->type = dns_get16(p + off);
		r->ttl = dns_get32(p + off + 4);
		r->rdlen = dns_get16(p + off + 8);
		r->rdoff = off + 10;
		r->rdata = p + off + 10;
		off += 10 + r->rdlen;
		if (off > len)
			return -1;
	}
	return off == len ? 0 : -1;
}

#endif
