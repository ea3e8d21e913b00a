/*
 * hearth-provision's settings: a YAML file whose every key defaults to the
 * seed topology (SPEC section 1). Parsing walks libyaml's document tree and
 * validation runs in the same pass; every error is collected with the
 * line and column of its key or value, as hearthd reports its own.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "provision.h"

struct parse {
	yaml_document_t *doc;
	struct hearth_config_errors *errs;
	struct prov_settings *s;
	struct hearth_pos key_pos; /* of the key being handled */
};

static struct hearth_pos
pos_of(const yaml_node_t *n)
{
	return (struct hearth_pos){(int)n->start_mark.line + 1,
	    (int)n->start_mark.column + 1};
}

static __attribute__((format(printf, 3, 4))) void
err_at(struct hearth_config_errors *errs, struct hearth_pos pos,
    const char *fmt, ...)
{
	struct hearth_config_error *v;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	v = realloc(errs->v, (errs->n + 1) * sizeof(*v));
	if (v == NULL || msg == NULL) {
		free(msg);
		if (v != NULL)
			errs->v = v;
		return;
	}
	errs->v = v;
	v[errs->n].pos = pos;
	v[errs->n].message = msg;
	errs->n++;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

uint32_t
prov_netmask(unsigned prefix)
{
	return prefix == 0 ? 0 :
	                     htonl(~0u << (32 - (prefix > 32 ? 32 : prefix)));
}

const char *
prov_ip(struct in_addr addr, char *buf)
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

void
prov_node_mac(const struct prov_node *n, char out[PROV_MAC_STRLEN])
{
	const uint8_t *b = (const uint8_t *)&n->addr.s_addr;

	snprintf(out, PROV_MAC_STRLEN, "52:54:00:%02x:%02x:%02x", b[1], b[2],
	    b[3]);
}

const char *
prov_image_format(const unsigned char *head, size_t len)
{
	if (len >= 4 && memcmp(head, "QFI\xfb", 4) == 0)
		return "qcow2";
	return "raw";
}

const struct prov_node *
prov_control_plane(const struct prov_settings *s)
{
	for (size_t i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].role == PROV_ROLE_CONTROL_PLANE)
			return &s->nodes[i];
	return NULL;
}

static void
node_set(struct prov_node *n, const char *name, enum prov_role role,
    const char *addr)
{
	n->name = xstrdup(name);
	n->role = role;
	inet_pton(AF_INET, addr, &n->addr);
	n->vcpus = role == PROV_ROLE_CONTROL_PLANE ? 4 : 2;
	n->memory_mib = role == PROV_ROLE_CONTROL_PLANE ? 8192 : 4096;
	n->disk_gib = role == PROV_ROLE_CONTROL_PLANE ? 50 : 30;
}

struct prov_settings *
prov_settings_default(void)
{
	struct prov_settings *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cluster_name = xstrdup("k8s-myhome");
	s->kubernetes_version = xstrdup("1.31");
	s->pod_subnet = xstrdup("10.244.0.0/16");
	s->service_subnet = xstrdup("10.96.0.0/12");
	s->net_name = xstrdup("default");
	s->bridge = xstrdup("virbr0");
	inet_pton(AF_INET, "192.168.122.1", &s->net_addr);
	s->net_prefix = 24;
	inet_pton(AF_INET, "192.168.122.2", &s->dhcp_first);
	inet_pton(AF_INET, "192.168.122.254", &s->dhcp_last);
	s->image_base =
	    xstrdup("/var/lib/libvirt/images/noble-server-cloudimg-amd64.img");
	s->pool = xstrdup("default");
	s->nodes = calloc(3, sizeof(*s->nodes));
	if (s->nodes == NULL) {
		prov_settings_free(s);
		return NULL;
	}
	s->n_nodes = 3;
	node_set(&s->nodes[0], "k8s-control-plane", PROV_ROLE_CONTROL_PLANE,
	    "192.168.122.10");
	node_set(&s->nodes[1], "k8s-worker1", PROV_ROLE_WORKER,
	    "192.168.122.11");
	node_set(&s->nodes[2], "k8s-worker2", PROV_ROLE_WORKER,
	    "192.168.122.12");
	return s;
}

void
prov_settings_free(struct prov_settings *s)
{
	if (s == NULL)
		return;
	free(s->cluster_name);
	free(s->kubernetes_version);
	free(s->pod_subnet);
	free(s->service_subnet);
	free(s->net_name);
	free(s->bridge);
	free(s->image_base);
	free(s->pool);
	for (size_t i = 0; i < s->n_ssh_keys; i++)
		free(s->ssh_keys[i]);
	free(s->ssh_keys);
	for (size_t i = 0; i < s->n_nodes; i++)
		free(s->nodes[i].name);
	free(s->nodes);
	free(s);
}

/* The scalar's text, or NULL (with an error) when n is not a scalar. */
static const char *
scalar(struct parse *p, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_SCALAR_NODE) {
		err_at(p->errs, pos_of(n), "%s: expected a single value", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static bool
parse_uint(struct parse *p, const yaml_node_t *n, const char *key, unsigned min,
    unsigned max, unsigned *out)
{
	const char *v = scalar(p, n, key);
	unsigned long x;
	char *end;

	if (v == NULL)
		return false;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 ||
	    x < min || x > max) {
		err_at(p->errs, pos_of(n),
		    "%s: \"%s\" is not a number in %u-%u", key, v, min, max);
		return false;
	}
	*out = (unsigned)x;
	return true;
}

static bool
parse_ipv4(struct parse *p, const yaml_node_t *n, const char *key,
    struct in_addr *out)
{
	const char *v = scalar(p, n, key);

	if (v == NULL)
		return false;
	if (inet_pton(AF_INET, v, out) != 1) {
		err_at(p->errs, pos_of(n), "%s: \"%s\" is not an IPv4 address",
		    key, v);
		return false;
	}
	return true;
}

/* An IPv4 CIDR; host bits must be clear unless host is true. */
static bool
parse_cidr4(struct parse *p, const yaml_node_t *n, const char *key, bool host,
    struct in_addr *addr, unsigned *prefix)
{
	const char *v = scalar(p, n, key);
	char buf[64], *slash, *end;
	unsigned long pl;
	uint32_t mask;

	if (v == NULL)
		return false;
	snprintf(buf, sizeof(buf), "%s", v);
	slash = strchr(buf, '/');
	if (slash == NULL || strlen(v) >= sizeof(buf))
		goto bad;
	*slash = '\0';
	errno = 0;
	pl = strtoul(slash + 1, &end, 10);
	if (!isdigit((unsigned char)slash[1]) || *end != '\0' || pl > 32 ||
	    inet_pton(AF_INET, buf, addr) != 1)
		goto bad;
	*prefix = (unsigned)pl;
	mask = prov_netmask(pl);
	if (!host && (addr->s_addr & ~mask) != 0) {
		err_at(p->errs, pos_of(n),
		    "%s: \"%s\" has host bits set (did you mean %s/%lu?)", key,
		    v,
		    inet_ntop(AF_INET, &(struct in_addr){addr->s_addr & mask},
		        buf, sizeof(buf)),
		    pl);
		return false;
	}
	if (host && (pl < 8 || pl > 30)) {
		err_at(p->errs, pos_of(n),
		    "%s: prefix /%lu leaves no room for nodes (use /8 to /30)",
		    key, pl);
		return false;
	}
	return true;
bad:
	err_at(p->errs, pos_of(n), "%s: \"%s\" is not an IPv4 CIDR (a.b.c.d/n)",
	    key, v);
	return false;
}

static bool
valid_dns_label(const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len > 63 || v[0] == '-' || v[len - 1] == '-')
		return false;
	for (const char *c = v; *c; c++)
		if (!(islower((unsigned char)*c) ||
		        isdigit((unsigned char)*c) || *c == '-'))
			return false;
	return true;
}

typedef void (
    *key_fn)(struct parse *, const char *key, yaml_node_t *val, void *arg);

/* Calls fn for every key of a mapping; a non-mapping is one error. */
static void
each_key(struct parse *p, yaml_node_t *map, const char *what, key_fn fn,
    void *arg)
{
	if (map->type != YAML_MAPPING_NODE) {
		err_at(p->errs, pos_of(map), "%s: expected a mapping", what);
		return;
	}
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);

		if (k->type != YAML_SCALAR_NODE) {
			err_at(p->errs, pos_of(k), "%s: keys must be names",
			    what);
			continue;
		}
		p->key_pos = pos_of(k);
		fn(p, (const char *)k->data.scalar.value, v, arg);
	}
}

static void
unknown(struct parse *p, const char *section, const char *key,
    const yaml_node_t *v)
{
	err_at(p->errs, p->key_pos, "%s%s%s: unknown key", section,
	    *section ? "." : "", key);
}

static void
cluster_key(struct parse *p, const char *key, yaml_node_t *v, void *arg)
{
	struct prov_settings *s = p->s;
	struct in_addr a;
	unsigned pl, major, minor;
	const char *t;
	char extra;

	if (strcmp(key, "name") == 0) {
		if ((t = scalar(p, v, "cluster.name")) == NULL)
			return;
		if (!valid_dns_label(t))
			err_at(p->errs, pos_of(v),
			    "cluster.name: \"%s\" is not a DNS label", t);
		else
			set_str(&s->cluster_name, t);
	} else if (strcmp(key, "kubernetes_version") == 0) {
		if ((t = scalar(p, v, "cluster.kubernetes_version")) == NULL)
			return;
		if (sscanf(t, "%u.%u%c", &major, &minor, &extra) != 2 ||
		    major != 1 || minor < 31 || minor > 99)
			err_at(p->errs, pos_of(v),
			    "cluster.kubernetes_version: \"%s\" is not a "
			    "Kubernetes minor version 1.31 or later (kubeadm "
			    "v1beta4), e.g. \"1.31\"",
			    t);
		else
			set_str(&s->kubernetes_version, t);
	} else if (strcmp(key, "pod_subnet") == 0 ||
	    strcmp(key, "service_subnet") == 0) {
		char what[48];

		snprintf(what, sizeof(what), "cluster.%s", key);
		if (parse_cidr4(p, v, what, false, &a, &pl))
			set_str(key[0] == 'p' ? &s->pod_subnet :
			                        &s->service_subnet,
			    (const char *)v->data.scalar.value);
	} else
		unknown(p, "cluster", key, v);
}

static void
network_key(struct parse *p, const char *key, yaml_node_t *v, void *arg)
{
	struct prov_settings *s = p->s;
	const char *t;

	if (strcmp(key, "name") == 0) {
		if ((t = scalar(p, v, "network.name")) != NULL)
			set_str(&s->net_name, t);
	} else if (strcmp(key, "bridge") == 0) {
		if ((t = scalar(p, v, "network.bridge")) == NULL)
			return;
		if (strlen(t) == 0 || strlen(t) > 15 ||
		    strpbrk(t, "/ \t'\"<>&"))
			err_at(p->errs, pos_of(v),
			    "network.bridge: \"%s\" is not an interface name",
			    t);
		else
			set_str(&s->bridge, t);
	} else if (strcmp(key, "address") == 0) {
		parse_cidr4(p, v, "network.address", true, &s->net_addr,
		    &s->net_prefix);
		*(const yaml_node_t **)arg = v;
	} else if (strcmp(key, "dhcp_range") == 0) {
		char buf[64], *dash;

		if ((t = scalar(p, v, "network.dhcp_range")) == NULL)
			return;
		snprintf(buf, sizeof(buf), "%s", t);
		dash = strchr(buf, '-');
		if (dash != NULL)
			*dash = '\0';
		if (dash == NULL ||
		    inet_pton(AF_INET, buf, &s->dhcp_first) != 1 ||
		    inet_pton(AF_INET, dash + 1, &s->dhcp_last) != 1)
			err_at(p->errs, pos_of(v),
			    "network.dhcp_range: \"%s\" is not a range "
			    "a.b.c.d-e.f.g.h",
			    t);
		else if (ntohl(s->dhcp_last.s_addr) <
		    ntohl(s->dhcp_first.s_addr))
			err_at(p->errs, pos_of(v),
			    "network.dhcp_range: \"%s\" ends below its start",
			    t);
	} else
		unknown(p, "network", key, v);
}

static void
image_key(struct parse *p, const char *key, yaml_node_t *v, void *arg)
{
	struct prov_settings *s = p->s;
	const char *t;

	if (strcmp(key, "base") == 0) {
		if ((t = scalar(p, v, "image.base")) == NULL)
			return;
		if (t[0] != '/')
			err_at(p->errs, pos_of(v),
			    "image.base: \"%s\" is not an absolute path", t);
		else {
			set_str(&s->image_base, t);
			s->image_base_pos = pos_of(v);
		}
	} else if (strcmp(key, "pool") == 0) {
		if ((t = scalar(p, v, "image.pool")) != NULL)
			set_str(&s->pool, t);
	} else
		unknown(p, "image", key, v);
}

struct node_parse {
	struct prov_node *n;
	bool has_name, has_addr, has_role;
	bool has_vcpus, has_mem, has_disk;
	struct hearth_pos addr_pos, name_pos;
};

static void
node_key(struct parse *p, const char *key, yaml_node_t *v, void *arg)
{
	struct node_parse *np = arg;
	struct prov_node *n = np->n;
	const char *t;

	if (strcmp(key, "name") == 0) {
		if ((t = scalar(p, v, "nodes.name")) == NULL)
			return;
		np->name_pos = pos_of(v);
		if (!valid_dns_label(t))
			err_at(p->errs, pos_of(v),
			    "nodes.name: \"%s\" is not a host name (a-z, 0-9, "
			    "-)",
			    t);
		else {
			set_str(&n->name, t);
			np->has_name = true;
		}
	} else if (strcmp(key, "role") == 0) {
		if ((t = scalar(p, v, "nodes.role")) == NULL)
			return;
		np->has_role = true;
		if (strcmp(t, "control-plane") == 0)
			n->role = PROV_ROLE_CONTROL_PLANE;
		else if (strcmp(t, "worker") == 0)
			n->role = PROV_ROLE_WORKER;
		else
			err_at(p->errs, pos_of(v),
			    "nodes.role: \"%s\" is neither control-plane nor "
			    "worker",
			    t);
	} else if (strcmp(key, "address") == 0) {
		np->addr_pos = pos_of(v);
		np->has_addr = parse_ipv4(p, v, "nodes.address", &n->addr);
	} else if (strcmp(key, "vcpus") == 0)
		np->has_vcpus =
		    parse_uint(p, v, "nodes.vcpus", 1, 512, &n->vcpus);
	else if (strcmp(key, "memory_mib") == 0)
		np->has_mem = parse_uint(p, v, "nodes.memory_mib", 1024,
		    16u << 20, &n->memory_mib);
	else if (strcmp(key, "disk_gib") == 0)
		np->has_disk =
		    parse_uint(p, v, "nodes.disk_gib", 4, 65536, &n->disk_gib);
	else
		unknown(p, "nodes", key, v);
}

static bool
in_network(const struct prov_settings *s, struct in_addr a)
{
	uint32_t mask = prov_netmask(s->net_prefix);

	return (a.s_addr & mask) == (s->net_addr.s_addr & mask);
}

static void
check_node_addr(struct parse *p, const struct prov_node *n,
    struct hearth_pos pos)
{
	struct prov_settings *s = p->s;
	uint32_t mask = prov_netmask(s->net_prefix);
	char a[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN];

	prov_ip(n->addr, a);
	prov_ip((struct in_addr){s->net_addr.s_addr & mask}, net);
	if (!in_network(s, n->addr))
		err_at(p->errs, pos,
		    "nodes.address: %s (node %s) is outside "
		    "the network %s/%u",
		    a, n->name, net, s->net_prefix);
	else if (n->addr.s_addr == s->net_addr.s_addr)
		err_at(p->errs, pos,
		    "nodes.address: %s (node %s) is the "
		    "network's own (bridge) address",
		    a, n->name);
	else if ((n->addr.s_addr & ~mask) == 0 ||
	    (n->addr.s_addr & ~mask) == ~mask)
		err_at(p->errs, pos,
		    "nodes.address: %s (node %s) is the "
		    "network or broadcast address of %s/%u",
		    a, n->name, net, s->net_prefix);
}

static void
parse_nodes(struct parse *p, yaml_node_t *seq,
    const yaml_node_t **addr_nodes_out)
{
	struct prov_settings *s = p->s;
	size_t count;
	struct node_parse *np;

	if (seq->type != YAML_SEQUENCE_NODE) {
		err_at(p->errs, pos_of(seq), "nodes: expected a list");
		return;
	}
	count = (size_t)(seq->data.sequence.items.top -
	    seq->data.sequence.items.start);
	for (size_t i = 0; i < s->n_nodes; i++)
		free(s->nodes[i].name);
	free(s->nodes);
	s->nodes = calloc(count ? count : 1, sizeof(*s->nodes));
	np = calloc(count ? count : 1, sizeof(*np));
	if (s->nodes == NULL || np == NULL)
		abort();
	s->n_nodes = count;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = yaml_document_get_node(p->doc,
		    seq->data.sequence.items.start[i]);
		struct prov_node *n = &s->nodes[i];

		np[i].n = n;
		each_key(p, item, "nodes[]", node_key, &np[i]);
		if (!np[i].has_name)
			err_at(p->errs, pos_of(item),
			    "nodes[%zu]: name is required", i);
		if (!np[i].has_addr)
			err_at(p->errs, pos_of(item),
			    "nodes[%zu]: address is required", i);
		if (n->name == NULL)
			n->name = xstrdup("?");
		if (!np[i].has_vcpus)
			n->vcpus = n->role == PROV_ROLE_CONTROL_PLANE ? 4 : 2;
		if (!np[i].has_mem)
			n->memory_mib =
			    n->role == PROV_ROLE_CONTROL_PLANE ? 8192 : 4096;
		if (!np[i].has_disk)
			n->disk_gib =
			    n->role == PROV_ROLE_CONTROL_PLANE ? 50 : 30;
	}
	*addr_nodes_out = (const yaml_node_t *)np;
}

static void
check_nodes(struct parse *p, const struct node_parse *np,
    struct hearth_pos nodes_pos, struct hearth_pos net_pos)
{
	struct prov_settings *s = p->s;
	size_t cps = 0;

	for (size_t i = 0; i < s->n_nodes; i++) {
		const struct prov_node *n = &s->nodes[i];

		cps += n->role == PROV_ROLE_CONTROL_PLANE;
		if (np != NULL && np[i].has_addr)
			check_node_addr(p, n, np[i].addr_pos);
		else if (np == NULL)
			check_node_addr(p, n, net_pos);
		for (size_t j = 0; j < i; j++) {
			char a[INET_ADDRSTRLEN];

			if (np != NULL && np[i].has_name && np[j].has_name &&
			    strcmp(n->name, s->nodes[j].name) == 0)
				err_at(p->errs, np[i].name_pos,
				    "nodes.name: \"%s\" is used by two nodes",
				    n->name);
			if ((np == NULL ||
			        (np[i].has_addr && np[j].has_addr)) &&
			    n->addr.s_addr == s->nodes[j].addr.s_addr)
				err_at(p->errs, np ? np[i].addr_pos : nodes_pos,
				    "nodes.address: %s is used by both %s and "
				    "%s",
				    prov_ip(n->addr, a), s->nodes[j].name,
				    n->name);
		}
	}
	if (cps != 1)
		err_at(p->errs, nodes_pos,
		    "nodes: exactly one node must have role control-plane "
		    "(found %zu)",
		    cps);
}

static void
top_key(struct parse *p, const char *key, yaml_node_t *v, void *arg)
{
	void **slots = arg;

	if (strcmp(key, "cluster") == 0)
		each_key(p, v, "cluster", cluster_key, NULL);
	else if (strcmp(key, "network") == 0)
		each_key(p, v, "network", network_key, &slots[0]);
	else if (strcmp(key, "image") == 0)
		each_key(p, v, "image", image_key, NULL);
	else if (strcmp(key, "ssh_authorized_keys") == 0) {
		struct prov_settings *s = p->s;
		size_t count;

		if (v->type != YAML_SEQUENCE_NODE) {
			err_at(p->errs, pos_of(v),
			    "ssh_authorized_keys: expected a list");
			return;
		}
		count = (size_t)(v->data.sequence.items.top -
		    v->data.sequence.items.start);
		for (size_t i = 0; i < s->n_ssh_keys; i++)
			free(s->ssh_keys[i]);
		free(s->ssh_keys);
		s->n_ssh_keys = 0;
		s->ssh_keys = calloc(count ? count : 1, sizeof(char *));
		if (s->ssh_keys == NULL)
			abort();
		for (size_t i = 0; i < count; i++) {
			yaml_node_t *it = yaml_document_get_node(p->doc,
			    v->data.sequence.items.start[i]);
			const char *t = scalar(p, it, "ssh_authorized_keys[]");

			if (t == NULL)
				continue;
			if (strncmp(t, "ssh-", 4) != 0 &&
			    strncmp(t, "ecdsa-", 6) != 0 &&
			    strncmp(t, "sk-", 3) != 0)
				err_at(p->errs, pos_of(it),
				    "ssh_authorized_keys: not an OpenSSH "
				    "public key");
			else if (strpbrk(t, "\n\r"))
				err_at(p->errs, pos_of(it),
				    "ssh_authorized_keys: a key is one line");
			else
				s->ssh_keys[s->n_ssh_keys++] = xstrdup(t);
		}
	} else if (strcmp(key, "nodes") == 0) {
		free(slots[1]); /* a repeated key: the last one counts */
		slots[1] = NULL;
		parse_nodes(p, v, (const yaml_node_t **)&slots[1]);
		slots[2] = v;
	} else
		unknown(p, "", key, v);
}

/* Cross-key checks: node addresses, subnets that must not overlap. */
static void
validate(struct parse *p, const struct node_parse *np,
    const yaml_node_t *nodes_node, const yaml_node_t *addr_node)
{
	struct prov_settings *s = p->s;
	struct hearth_pos npos =
	    nodes_node ? pos_of(nodes_node) : (struct hearth_pos){0, 0};
	struct hearth_pos apos =
	    addr_node ? pos_of(addr_node) : (struct hearth_pos){0, 0};
	const char *subs[] = {s->pod_subnet, s->service_subnet};
	struct hearth_cidr c[2], net;
	char buf[INET_ADDRSTRLEN + 4];

	check_nodes(p, np, npos, apos);
	snprintf(buf, sizeof(buf), "%s/%u",
	    inet_ntoa((struct in_addr){
	        s->net_addr.s_addr & prov_netmask(s->net_prefix)}),
	    s->net_prefix);
	if (hearth_cidr_parse(buf, &net) != 0)
		return;
	for (int i = 0; i < 2; i++)
		if (hearth_cidr_parse(subs[i], &c[i]) != 0)
			return;
	for (int i = 0; i < 2; i++)
		if (hearth_cidr_contains(&c[i], &net.addr) ||
		    hearth_cidr_contains(&net, &c[i].addr))
			err_at(p->errs, apos,
			    "network.address: %s overlaps cluster.%s %s", buf,
			    i == 0 ? "pod_subnet" : "service_subnet", subs[i]);
	if (hearth_cidr_contains(&c[0], &c[1].addr) ||
	    hearth_cidr_contains(&c[1], &c[0].addr))
		err_at(p->errs, (struct hearth_pos){0, 0},
		    "cluster.pod_subnet %s overlaps cluster.service_subnet %s",
		    subs[0], subs[1]);
	if (!in_network(s, s->dhcp_first) || !in_network(s, s->dhcp_last))
		err_at(p->errs, apos,
		    "network.dhcp_range: the range is outside network.address "
		    "%s",
		    buf);
}

struct prov_settings *
prov_settings_parse(const char *name, const char *buf, size_t len,
    struct hearth_config_errors *errs)
{
	struct parse p = {.errs = errs};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	void *slots[3] = {NULL, NULL, NULL};

	errs->file = name;
	p.s = prov_settings_default();
	if (p.s == NULL)
		return NULL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err_at(errs,
		    (struct hearth_pos){(int)parser.problem_mark.line + 1,
		        (int)parser.problem_mark.column + 1},
		    "%s", parser.problem ? parser.problem : "malformed YAML");
		yaml_parser_delete(&parser);
		prov_settings_free(p.s);
		return NULL;
	}
	p.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL &&
	    !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		each_key(&p, root, "settings", top_key, slots);
	validate(&p, slots[1], slots[2], slots[0]);
	free(slots[1]);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (errs->n > 0) {
		prov_settings_free(p.s);
		return NULL;
	}
	return p.s;
}

struct prov_settings *
prov_settings_load(const char *path, struct hearth_config_errors *errs)
{
	struct prov_settings *s;
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0;

	errs->file = path;
	if (f == NULL) {
		err_at(errs, (struct hearth_pos){0, 0}, "cannot read: %s",
		    strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (nb == NULL)
				abort();
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len, f);

		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	s = prov_settings_parse(path, buf, len, errs);
	free(buf);
	return s;
}
