/*
 * The model's life cycle (reference counting, freeing) and the address
 * helpers that the parser and every module share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

struct hearth_model *
hearth_model_new(void)
{
	struct hearth_model *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	static uint64_t next_generation;
	m->refs = 1;
	m->generation =
	    __atomic_add_fetch(&next_generation, 1, __ATOMIC_RELAXED);
	m->peers.port = 7946;
	m->peers.interval_ms = 100;
	m->peers.dead_after_ms = 400;
	m->peers.quorum = true;
	m->peers.garp_refresh_seconds = 60;
	m->dns.cache_entries = 100000;
	m->dns.max_udp_payload_bytes = 1232;
	m->dns.rate_limit.slip = 2;
	m->dns.rate_limit.ipv4_prefix = 24;
	m->dns.rate_limit.ipv6_prefix = 56;
	m->proxy.http_port = 80;
	m->proxy.https_port = 443;
	m->proxy.drain_seconds = 30;
	m->proxy.limits = (struct hearth_proxy_limits){
	    .max_connections = 100000,
	    .max_header_bytes = 65536,
	    .max_headers = 100,
	    .max_body_bytes = 0,
	    .header_timeout_ms = 10000,
	    .idle_timeout_seconds = 60,
	    .connect_timeout_ms = 3000,
	    .backend_timeout_seconds = 60,
	};
	m->kubernetes.lease_duration_seconds = 15;
	m->kubernetes.renew_deadline_seconds = 10;
	m->kubernetes.retry_period_seconds = 2;
	return m;
}

struct hearth_model *
hearth_model_ref(struct hearth_model *m)
{
	if (m != NULL)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

static void
free_backends(struct hearth_proxy_backend *b)
{
	free(b);
}

static void
free_proxy(struct hearth_proxy *p)
{
	for (size_t i = 0; i < p->n_certificates; i++) {
		free(p->certificates[i].cert);
		free(p->certificates[i].key);
		free(p->certificates[i].ocsp);
	}
	free(p->certificates);
	free(p->access_log);
	for (size_t i = 0; i < p->n_routes; i++) {
		struct hearth_proxy_route *r = &p->routes[i];
		for (size_t j = 0; j < r->n_hostnames; j++)
			free(r->hostnames[j]);
		free(r->hostnames);
		for (size_t j = 0; j < r->n_rules; j++) {
			struct hearth_proxy_rule *u = &r->rules[j];
			free(u->path);
			for (size_t k = 0; k < u->n_headers; k++) {
				free(u->headers[k].name);
				free(u->headers[k].value);
			}
			free(u->headers);
			free_backends(u->backends);
			free(u->health_check.path);
		}
		free(r->rules);
		free_backends(r->backends);
		free(r->health_check.path);
	}
	free(p->routes);
}

static void
free_dns(struct hearth_dns *d)
{
	free(d->listen);
	free(d->forwarders);
	free(d->recursion_clients);
	free(d->query_log);
	for (size_t i = 0; i < d->n_zones; i++) {
		struct hearth_dns_zone *z = &d->zones[i];
		free(z->origin);
		for (size_t j = 0; j < z->n_views; j++) {
			struct hearth_dns_view *v = &z->views[j];
			free(v->name);
			free(v->clients);
			for (size_t k = 0; k < v->n_records; k++) {
				free(v->records[k].owner);
				free(v->records[k].rdata);
			}
			free(v->records);
		}
		free(z->views);
	}
	free(d->zones);
}

static void
free_model(struct hearth_model *m)
{
	free(m->node.name);
	free(m->node.interface);
	free(m->node.run_as);
	free(m->peers.members);
	free(m->peers.key_file);
	if (m->peers.key != NULL) {
		explicit_bzero(m->peers.key, m->peers.key_len);
		free(m->peers.key);
	}
	for (size_t i = 0; i < m->n_pools; i++) {
		free(m->pools[i].name);
		free(m->pools[i].ranges);
	}
	free(m->pools);
	for (size_t i = 0; i < m->n_services; i++) {
		struct hearth_service *s = &m->services[i];
		free(s->name);
		for (size_t j = 0; j < s->n_ports; j++)
			free(s->ports[j].backends);
		free(s->ports);
	}
	free(m->services);
	for (size_t i = 0; i < m->nat.n_masquerade; i++)
		free(m->nat.masquerade[i].out_interface);
	free(m->nat.masquerade);
	for (size_t i = 0; i < m->nat.n_port_forwards; i++)
		free(m->nat.port_forwards[i].in_interface);
	free(m->nat.port_forwards);
	free(m->nat.allow_input);
	free_dns(&m->dns);
	free_proxy(&m->proxy);
	free(m->kubernetes.kubeconfig);
	free(m->kubernetes.load_balancer_class);
	free(m->kubernetes.namespace);
	free(m->delta.services);
	free(m);
}

void
hearth_model_unref(struct hearth_model *m)
{
	if (m == NULL)
		return;
	if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free_model(m);
}

int
hearth_addr_parse(const char *s, struct hearth_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return -EINVAL;
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, &out->v6) != 1)
			return -EINVAL;
		out->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, s, &out->v4) != 1)
		return -EINVAL;
	out->family = AF_INET;
	return 0;
}

static unsigned
addr_bits(const struct hearth_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

static const uint8_t *
addr_bytes(const struct hearth_addr *a)
{
	return a->family == AF_INET ? (const uint8_t *)&a->v4 :
	                              (const uint8_t *)&a->v6;
}

/* True when the bits of a past prefix are all zero. */
static bool
host_bits_zero(const struct hearth_addr *a, unsigned prefix)
{
	const uint8_t *b = addr_bytes(a);
	for (unsigned i = prefix; i < addr_bits(a); i++)
		if (b[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool
prefix_match(const struct hearth_addr *net, unsigned prefix,
    const struct hearth_addr *a)
{
	if (net->family != a->family)
		return false;
	const uint8_t *x = addr_bytes(net), *y = addr_bytes(a);
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(x, y, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (x[full] & mask) == (y[full] & mask);
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
hearth_cidr_parse(const char *s, struct hearth_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	memset(out, 0, sizeof(*out));
	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (hearth_addr_parse(buf, &out->addr) != 0)
		return -EINVAL;
	unsigned long p;
	if (parse_uint(slash + 1, addr_bits(&out->addr), &p) != 0)
		return -EINVAL;
	out->prefix = (uint8_t)p;
	if (!host_bits_zero(&out->addr, out->prefix))
		return -EINVAL;
	return 0;
}

int
hearth_endpoint_parse(const char *s, uint16_t default_port,
    struct hearth_endpoint *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *port = NULL;
	size_t alen;
	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return -EINVAL;
		alen = (size_t)(close - s - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
		s++;
	} else {
		const char *colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* A bare IPv6 address: no port. */
			colon = NULL;
		}
		alen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port = colon + 1;
	}
	if (alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (hearth_addr_parse(buf, &out->addr) != 0)
		return -EINVAL;
	if (port == NULL) {
		if (default_port == 0)
			return -EINVAL;
		out->port = default_port;
		return 0;
	}
	unsigned long p;
	if (parse_uint(port, 65535, &p) != 0 || p == 0)
		return -EINVAL;
	out->port = (uint16_t)p;
	return 0;
}

int
hearth_addr_cmp(const struct hearth_addr *a, const struct hearth_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(addr_bytes(a), addr_bytes(b), addr_bits(a) / 8);
}

bool
hearth_addr_eq(const struct hearth_addr *a, const struct hearth_addr *b)
{
	return hearth_addr_cmp(a, b) == 0;
}

/* The first and last address of a CIDR. */
static void
cidr_bounds(const struct hearth_cidr *c, struct hearth_range *r)
{
	r->first = c->addr;
	r->last = c->addr;
	uint8_t *b = r->last.family == AF_INET ? (uint8_t *)&r->last.v4 :
	                                         (uint8_t *)&r->last.v6;
	for (unsigned i = c->prefix; i < addr_bits(&c->addr); i++)
		b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

int
hearth_range_parse(const char *s, struct hearth_range *out)
{
	char buf[2 * INET6_ADDRSTRLEN + 8];
	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	if (strchr(s, '/') != NULL) {
		struct hearth_cidr c;
		if (hearth_cidr_parse(s, &c) != 0)
			return -EINVAL;
		cidr_bounds(&c, out);
		return 0;
	}
	strcpy(buf, s);
	char *dash = strchr(buf, '-');
	if (dash == NULL) {
		if (hearth_addr_parse(buf, &out->first) != 0)
			return -EINVAL;
		out->last = out->first;
		return 0;
	}
	*dash = '\0';
	if (hearth_addr_parse(buf, &out->first) != 0 ||
	    hearth_addr_parse(dash + 1, &out->last) != 0 ||
	    out->first.family != out->last.family)
		return -EINVAL;
	if (hearth_addr_cmp(&out->first, &out->last) > 0)
		return -ERANGE;
	return 0;
}

bool
hearth_cidr_contains(const struct hearth_cidr *c, const struct hearth_addr *a)
{
	return prefix_match(&c->addr, c->prefix, a);
}

bool
hearth_range_contains(const struct hearth_range *r, const struct hearth_addr *a)
{
	return a->family == r->first.family &&
	    hearth_addr_cmp(&r->first, a) <= 0 &&
	    hearth_addr_cmp(a, &r->last) <= 0;
}

char *
hearth_addr_str(const struct hearth_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, addr_bytes(a), buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

char *
hearth_endpoint_str(const struct hearth_endpoint *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	hearth_addr_str(&e->addr, a, sizeof(a));
	if (e->addr.family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, e->port);
	else
		snprintf(buf, len, "%s:%u", a, e->port);
	return buf;
}

const struct hearth_pool *
hearth_model_pool_of(const struct hearth_model *m, const struct hearth_addr *a)
{
	for (size_t i = 0; i < m->n_pools; i++)
		for (size_t j = 0; j < m->pools[i].n_ranges; j++)
			if (hearth_range_contains(&m->pools[i].ranges[j], a))
				return &m->pools[i];
	return NULL;
}

static int
addr_qsort_cmp(const void *a, const void *b)
{
	return hearth_addr_cmp(a, b);
}

int
hearth_model_vips(const struct hearth_model *m, struct hearth_addr **out)
{
	*out = NULL;
	if (m->n_services == 0)
		return 0;
	struct hearth_addr *v = calloc(m->n_services, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_services; i++)
		v[i] = m->services[i].address;
	qsort(v, m->n_services, sizeof(*v), addr_qsort_cmp);
	size_t n = 0;
	for (size_t i = 0; i < m->n_services; i++)
		if (n == 0 || !hearth_addr_eq(&v[n - 1], &v[i]))
			v[n++] = v[i];
	*out = v;
	return (int)n;
}
