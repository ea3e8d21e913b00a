/*
 * Section equality: deep, order-sensitive comparisons of two models, one
 * per module, so that a reload which does not concern a module leaves it
 * alone. Lists compare element by element in order: a reordered list is a
 * change (harmless: the module re-applies the same content).
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
bytes_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool
endpoint_eq(const struct hearth_endpoint *a, const struct hearth_endpoint *b)
{
	return a->port == b->port && hearth_addr_eq(&a->addr, &b->addr);
}

static bool
endpoints_eq(const struct hearth_endpoint *a, size_t na,
    const struct hearth_endpoint *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!endpoint_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool
cidr_eq(const struct hearth_cidr *a, const struct hearth_cidr *b)
{
	return a->prefix == b->prefix && hearth_addr_eq(&a->addr, &b->addr);
}

static bool
cidrs_eq(const struct hearth_cidr *a, size_t na, const struct hearth_cidr *b,
    size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!cidr_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool
service_port_eq(const struct hearth_service_port *a,
    const struct hearth_service_port *b)
{
	return a->port == b->port && a->proto == b->proto &&
	    a->to_proxy == b->to_proxy &&
	    endpoints_eq(a->backends, a->n_backends, b->backends,
	        b->n_backends);
}

static bool
service_eq(const struct hearth_service *a, const struct hearth_service *b)
{
	if (!str_eq(a->name, b->name) ||
	    !hearth_addr_eq(&a->address, &b->address) ||
	    a->local_traffic != b->local_traffic || a->n_ports != b->n_ports)
		return false;
	for (size_t i = 0; i < a->n_ports; i++)
		if (!service_port_eq(&a->ports[i], &b->ports[i]))
			return false;
	return true;
}

/* Services: names, VIPs, ports, targets and backends. */
bool
hearth_model_services_equal(const struct hearth_model *a,
    const struct hearth_model *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL || a->n_services != b->n_services)
		return false;
	for (size_t i = 0; i < a->n_services; i++)
		if (!service_eq(&a->services[i], &b->services[i]))
			return false;
	return true;
}

/* The nat section (and whether it is present). */
bool
hearth_model_nat_equal(const struct hearth_model *a,
    const struct hearth_model *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL || a->has_nat != b->has_nat)
		return false;
	const struct hearth_nat *x = &a->nat, *y = &b->nat;
	if (x->n_masquerade != y->n_masquerade ||
	    x->n_port_forwards != y->n_port_forwards ||
	    x->allow_input_set != y->allow_input_set ||
	    x->n_allow_input != y->n_allow_input ||
	    x->keep_on_exit != y->keep_on_exit)
		return false;
	for (size_t i = 0; i < x->n_masquerade; i++)
		if (!cidr_eq(&x->masquerade[i].source,
		        &y->masquerade[i].source) ||
		    !str_eq(x->masquerade[i].out_interface,
		        y->masquerade[i].out_interface))
			return false;
	for (size_t i = 0; i < x->n_port_forwards; i++) {
		const struct hearth_port_forward *p = &x->port_forwards[i],
		                                 *q = &y->port_forwards[i];
		if (!str_eq(p->in_interface, q->in_interface) ||
		    p->port != q->port || p->proto != q->proto ||
		    !endpoint_eq(&p->to, &q->to))
			return false;
	}
	for (size_t i = 0; i < x->n_allow_input; i++) {
		const struct hearth_port_range *p = &x->allow_input[i],
		                               *q = &y->allow_input[i];
		if (p->first != q->first || p->last != q->last ||
		    p->proto != q->proto)
			return false;
	}
	return true;
}

static bool
rr_eq(const struct hearth_rr *a, const struct hearth_rr *b)
{
	return str_eq(a->owner, b->owner) && a->type == b->type &&
	    a->rclass == b->rclass && a->ttl == b->ttl &&
	    bytes_eq(a->rdata, a->rdlen, b->rdata, b->rdlen);
}

static bool
view_eq(const struct hearth_dns_view *a, const struct hearth_dns_view *b)
{
	if (!str_eq(a->name, b->name) || a->forward != b->forward ||
	    !cidrs_eq(a->clients, a->n_clients, b->clients, b->n_clients) ||
	    a->n_records != b->n_records)
		return false;
	for (size_t i = 0; i < a->n_records; i++)
		if (!rr_eq(&a->records[i], &b->records[i]))
			return false;
	return true;
}

static bool
zone_eq(const struct hearth_dns_zone *a, const struct hearth_dns_zone *b)
{
	if (!str_eq(a->origin, b->origin) || a->n_views != b->n_views)
		return false;
	for (size_t i = 0; i < a->n_views; i++)
		if (!view_eq(&a->views[i], &b->views[i]))
			return false;
	return true;
}

static bool
rate_limit_eq(const struct hearth_dns_rate_limit *a,
    const struct hearth_dns_rate_limit *b)
{
	return a->responses_per_second == b->responses_per_second &&
	    a->slip == b->slip && a->ipv4_prefix == b->ipv4_prefix &&
	    a->ipv6_prefix == b->ipv6_prefix;
}

/* The dns section (and whether it is present). */
bool
hearth_model_dns_equal(const struct hearth_model *a,
    const struct hearth_model *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL || a->has_dns != b->has_dns)
		return false;
	const struct hearth_dns *x = &a->dns, *y = &b->dns;
	if (!endpoints_eq(x->listen, x->n_listen, y->listen, y->n_listen) ||
	    !endpoints_eq(x->forwarders, x->n_forwarders, y->forwarders,
	        y->n_forwarders) ||
	    !cidrs_eq(x->recursion_clients, x->n_recursion_clients,
	        y->recursion_clients, y->n_recursion_clients) ||
	    x->cache_entries != y->cache_entries ||
	    x->max_udp_payload_bytes != y->max_udp_payload_bytes ||
	    !rate_limit_eq(&x->rate_limit, &y->rate_limit) ||
	    !str_eq(x->query_log, y->query_log) || x->n_zones != y->n_zones)
		return false;
	for (size_t i = 0; i < x->n_zones; i++)
		if (!zone_eq(&x->zones[i], &y->zones[i]))
			return false;
	return true;
}

static bool
backends_eq(const struct hearth_proxy_backend *a, size_t na,
    const struct hearth_proxy_backend *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].weight != b[i].weight ||
		    !endpoint_eq(&a[i].address, &b[i].address))
			return false;
	return true;
}

static bool
health_check_eq(const struct hearth_proxy_health_check *a,
    const struct hearth_proxy_health_check *b)
{
	if (a->enabled != b->enabled)
		return false;
	return !a->enabled ||
	    (str_eq(a->path, b->path) && a->interval_ms == b->interval_ms &&
	        a->timeout_ms == b->timeout_ms &&
	        a->unhealthy_after == b->unhealthy_after &&
	        a->healthy_after == b->healthy_after &&
	        a->expect_min == b->expect_min &&
	        a->expect_max == b->expect_max);
}

static bool
rule_eq(const struct hearth_proxy_rule *a, const struct hearth_proxy_rule *b)
{
	if (a->match != b->match || !str_eq(a->path, b->path) ||
	    a->n_headers != b->n_headers ||
	    !health_check_eq(&a->health_check, &b->health_check))
		return false;
	for (size_t i = 0; i < a->n_headers; i++)
		if (!str_eq(a->headers[i].name, b->headers[i].name) ||
		    !str_eq(a->headers[i].value, b->headers[i].value))
			return false;
	return backends_eq(a->backends, a->n_backends, b->backends,
	    b->n_backends);
}

static bool
route_eq(const struct hearth_proxy_route *a, const struct hearth_proxy_route *b)
{
	if (a->n_hostnames != b->n_hostnames ||
	    a->passthrough != b->passthrough || a->n_rules != b->n_rules ||
	    !health_check_eq(&a->health_check, &b->health_check))
		return false;
	for (size_t i = 0; i < a->n_hostnames; i++)
		if (!str_eq(a->hostnames[i], b->hostnames[i]))
			return false;
	for (size_t i = 0; i < a->n_rules; i++)
		if (!rule_eq(&a->rules[i], &b->rules[i]))
			return false;
	return backends_eq(a->backends, a->n_backends, b->backends,
	    b->n_backends);
}

static bool
limits_eq(const struct hearth_proxy_limits *a,
    const struct hearth_proxy_limits *b)
{
	return a->max_connections == b->max_connections &&
	    a->max_header_bytes == b->max_header_bytes &&
	    a->max_headers == b->max_headers &&
	    a->max_body_bytes == b->max_body_bytes &&
	    a->header_timeout_ms == b->header_timeout_ms &&
	    a->idle_timeout_seconds == b->idle_timeout_seconds &&
	    a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->backend_timeout_seconds == b->backend_timeout_seconds;
}

/*
 * The proxy section (and whether it is present). Certificates compare by
 * path: a renewed certificate under the same path is not seen here.
 */
bool
hearth_model_proxy_equal(const struct hearth_model *a,
    const struct hearth_model *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL || a->has_proxy != b->has_proxy)
		return false;
	const struct hearth_proxy *x = &a->proxy, *y = &b->proxy;
	if (x->http_port != y->http_port || x->https_port != y->https_port ||
	    x->drain_seconds != y->drain_seconds ||
	    x->redirect_http_to_https != y->redirect_http_to_https ||
	    !str_eq(x->access_log, y->access_log) ||
	    x->access_log_format != y->access_log_format ||
	    !limits_eq(&x->limits, &y->limits) ||
	    x->n_certificates != y->n_certificates ||
	    x->n_routes != y->n_routes)
		return false;
	for (size_t i = 0; i < x->n_certificates; i++)
		if (!str_eq(x->certificates[i].cert, y->certificates[i].cert) ||
		    !str_eq(x->certificates[i].key, y->certificates[i].key) ||
		    !str_eq(x->certificates[i].ocsp, y->certificates[i].ocsp))
			return false;
	for (size_t i = 0; i < x->n_routes; i++)
		if (!route_eq(&x->routes[i], &y->routes[i]))
			return false;
	return true;
}

static bool
vips_eq(const struct hearth_model *a, const struct hearth_model *b)
{
	struct hearth_addr *va = NULL, *vb = NULL;
	int na = hearth_model_vips(a, &va);
	int nb = hearth_model_vips(b, &vb);
	bool eq = na >= 0 && nb >= 0 && na == nb;
	for (int i = 0; eq && i < na; i++)
		eq = hearth_addr_eq(&va[i], &vb[i]);
	free(va);
	free(vb);
	return eq;
}

/*
 * What l2announce depends on: the node, the peers (key included), the
 * pools and the set of VIPs (not the services' ports or backends).
 */
bool
hearth_model_l2_equal(const struct hearth_model *a,
    const struct hearth_model *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	const struct hearth_peers *x = &a->peers, *y = &b->peers;
	if (!str_eq(a->node.name, b->node.name) ||
	    !str_eq(a->node.interface, b->node.interface) ||
	    x->n_members != y->n_members || x->port != y->port ||
	    x->interval_ms != y->interval_ms ||
	    x->dead_after_ms != y->dead_after_ms ||
	    !bytes_eq(x->key, x->key_len, y->key, y->key_len) ||
	    x->quorum != y->quorum || x->rebalance != y->rebalance ||
	    x->garp_refresh_seconds != y->garp_refresh_seconds ||
	    a->n_pools != b->n_pools ||
	    a->kubernetes.enabled != b->kubernetes.enabled)
		return false;
	for (size_t i = 0; i < x->n_members; i++)
		if (!hearth_addr_eq(&x->members[i], &y->members[i]))
			return false;
	for (size_t i = 0; i < a->n_pools; i++) {
		const struct hearth_pool *p = &a->pools[i], *q = &b->pools[i];
		if (!str_eq(p->name, q->name) || p->n_ranges != q->n_ranges)
			return false;
		for (size_t j = 0; j < p->n_ranges; j++)
			if (!hearth_addr_eq(&p->ranges[j].first,
			        &q->ranges[j].first) ||
			    !hearth_addr_eq(&p->ranges[j].last,
			        &q->ranges[j].last))
				return false;
	}
	return vips_eq(a, b);
}
