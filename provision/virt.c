/*
 * The libvirt side of hearth-provision: observe what exists (network,
 * pool, volumes, domains), run the plan's steps, undo them for `down`, and
 * dump live XML for tests. Every object it defines is kept in the state
 * directory as the XML libvirt holds for it right after the definition
 * (with its UUID), so `down` removes exactly those objects and nothing
 * of the same name that someone else made.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>
#include <libxml/xmlerror.h>

#include "cli.h"

#define DEFAULT_POOL_PATH "/var/lib/libvirt/images"

static void
quiet_errors(void *data, virErrorPtr err)
{
	(void)data;
	(void)err;
}

/* The last failure's message, kept across calls that reset libvirt's. */
static char saved_error[512];

static void
save_error(void)
{
	virErrorPtr e = virGetLastError();

	if (e != NULL && e->message != NULL)
		snprintf(saved_error, sizeof(saved_error), "%s", e->message);
}

const char *
virt_error(void)
{
	virErrorPtr e = virGetLastError();

	if (e != NULL && e->message != NULL)
		return e->message;
	return saved_error[0] ? saved_error : "unknown libvirt error";
}

static void
quiet_xml(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

int
virt_open(struct prov_cli *cli)
{
	/* libvirt's error (one line, below) says it; libxml2 need not too. */
	xmlSetGenericErrorFunc(NULL, quiet_xml);
	virSetErrorFunc(NULL, quiet_errors);
	cli->conn = virConnectOpenAuth(cli->uri, virConnectAuthPtrDefault, 0);
	if (cli->conn == NULL) {
		prov_die("cannot connect to libvirt at %s: %s", cli->uri,
		    virt_error());
		return -ECONNREFUSED;
	}
	cli->test_driver = strncmp(cli->uri, "test:", 5) == 0;
	return 0;
}

void
virt_close(struct prov_cli *cli)
{
	if (cli->conn != NULL)
		virConnectClose(cli->conn);
	cli->conn = NULL;
}

int
virt_check_base(const struct prov_cli *cli, const char **format)
{
	const struct prov_settings *s = cli->s;
	unsigned char head[32];
	unsigned long long vsize;
	struct stat st;
	FILE *f = fopen(s->image_base, "re");
	size_t n;

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		int e = errno;

		if (f != NULL)
			fclose(f);
		if (s->image_base_pos.line > 0)
			fprintf(stderr,
			    "%s:%d:%d: image.base: base image %s: %s\n",
			    cli->settings_path, s->image_base_pos.line,
			    s->image_base_pos.col, s->image_base, strerror(e));
		else
			prov_die("base image %s: %s (set image.base in the "
			         "settings)",
			    s->image_base, strerror(e));
		return -e;
	}
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	*format = prov_image_format(head, n);
	vsize = (unsigned long long)st.st_size;
	if (strcmp(*format, "qcow2") == 0 && n >= 32)
		vsize = (unsigned long long)head[24] << 56 |
		    (unsigned long long)head[25] << 48 |
		    (unsigned long long)head[26] << 40 |
		    (unsigned long long)head[27] << 32 |
		    (unsigned long long)head[28] << 24 | head[29] << 16 |
		    head[30] << 8 | head[31];
	for (size_t i = 0; i < s->n_nodes; i++)
		if (vsize > (unsigned long long)s->nodes[i].disk_gib << 30) {
			prov_die("base image %s (%llu GiB) is larger than node "
			         "%s's disk_gib %u",
			    s->image_base, (vsize + (1ull << 30) - 1) >> 30,
			    s->nodes[i].name, s->nodes[i].disk_gib);
			return -EINVAL;
		}
	return 0;
}

static char *
net_xml(virNetworkPtr net)
{
	char *x = virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE);

	return x != NULL ? x : virNetworkGetXMLDesc(net, 0);
}

static void
observe_network(struct prov_cli *cli, struct prov_observed *o)
{
	virNetworkPtr net = virNetworkLookupByName(cli->conn, cli->s->net_name);
	char *xml;

	o->net_adopted = state_exists(cli, "network.orig.xml");
	if (net == NULL)
		return;
	o->net_exists = true;
	o->net_active = virNetworkIsActive(net) == 1;
	/* The live definition: what DHCP serves now. */
	xml = virNetworkGetXMLDesc(net, 0);
	if (xml != NULL)
		prov_net_facts_parse(xml, &o->net);
	free(xml);
	virNetworkFree(net);
}

static void
observe_pool(struct prov_cli *cli, struct prov_observed *o,
    virStoragePoolPtr *out)
{
	virStoragePoolPtr pool =
	    virStoragePoolLookupByName(cli->conn, cli->s->pool);
	char *xml;

	snprintf(o->pool_path, sizeof(o->pool_path), "%s", DEFAULT_POOL_PATH);
	*out = pool;
	if (pool == NULL)
		return;
	o->pool_exists = true;
	o->pool_active = virStoragePoolIsActive(pool) == 1;
	xml = virStoragePoolGetXMLDesc(pool, 0);
	if (xml != NULL)
		prov_pool_path_parse(xml, o->pool_path, sizeof(o->pool_path));
	free(xml);
}

static void
observe_node(struct prov_cli *cli, virStoragePoolPtr pool,
    const struct prov_node *n, struct prov_obs_node *on)
{
	char *vname = prov_volume_name(n), *xml;
	virStorageVolPtr vol = NULL;
	virDomainPtr dom;
	int state, reason;

	if (pool != NULL && vname != NULL && virStoragePoolIsActive(pool) == 1)
		vol = virStorageVolLookupByName(pool, vname);
	free(vname);
	if (vol != NULL) {
		on->vol_exists = true;
		if ((xml = virStorageVolGetXMLDesc(vol, 0)) != NULL)
			prov_vol_facts_parse(xml, &on->vol);
		free(xml);
		virStorageVolFree(vol);
	}
	dom = virDomainLookupByName(cli->conn, n->name);
	if (dom == NULL)
		return;
	on->dom = PROV_DOM_SHUTOFF;
	if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
	    state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED &&
	    state != VIR_DOMAIN_SHUTDOWN)
		on->dom = PROV_DOM_RUNNING;
	if ((xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE)) != NULL)
		prov_dom_facts_parse(xml, &on->dom_facts);
	free(xml);
	virDomainFree(dom);
}

/* Nodes an earlier up made (NODE/domain.xml kept) that the settings lack. */
static void
observe_stale(struct prov_cli *cli, struct prov_observed *o)
{
	DIR *dir = opendir(cli->state_dir);
	struct dirent *e;
	char rel[512];

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		bool known = false;
		char **v;

		snprintf(rel, sizeof(rel), "%s/domain.xml", e->d_name);
		if (e->d_name[0] == '.' || !state_exists(cli, rel))
			continue;
		for (size_t i = 0; i < cli->s->n_nodes; i++)
			known |= strcmp(cli->s->nodes[i].name, e->d_name) == 0;
		if (known ||
		    (v = realloc(o->stale, (o->n_stale + 1) * sizeof(*v))) ==
		        NULL)
			continue;
		o->stale = v;
		if ((v[o->n_stale] = strdup(e->d_name)) != NULL)
			o->n_stale++;
	}
	if (dir != NULL)
		closedir(dir);
}

int
virt_observe(struct prov_cli *cli, struct prov_observed *o,
    struct prov_pki *pki)
{
	const struct prov_settings *s = cli->s;
	virStoragePoolPtr pool;
	char path[4096];
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->state_dir = cli->state_dir;
	o->nodes = calloc(s->n_nodes, sizeof(*o->nodes));
	if (o->nodes == NULL)
		return -ENOMEM;
	o->pki_exists = pki != NULL;
	if (pki != NULL &&
	    stat(state_path(cli, "pki/token", path, sizeof(path)), &st) == 0)
		o->token_expired = time(NULL) - st.st_mtime > 23 * 3600;
	if (pki != NULL) {
		char *want = prov_kubeconfig(s, pki);
		char *have = state_read(cli, "admin.kubeconfig");

		o->kubeconfig_current = want && have && strcmp(want, have) == 0;
		free(want);
		free(have);
	}
	observe_network(cli, o);
	observe_pool(cli, o, &pool);
	for (size_t i = 0; i < s->n_nodes; i++) {
		observe_node(cli, pool, &s->nodes[i], &o->nodes[i]);
		o->nodes[i].seed_current =
		    state_seed_current(cli, &s->nodes[i], pki);
	}
	if (pool != NULL)
		virStoragePoolFree(pool);
	observe_stale(cli, o);
	return 0;
}

void
virt_observed_free(struct prov_observed *o)
{
	free(o->nodes);
	o->nodes = NULL;
	for (size_t i = 0; i < o->n_stale; i++)
		free(o->stale[i]);
	free(o->stale);
	o->stale = NULL;
	o->n_stale = 0;
}

static __attribute__((format(printf, 3, 4))) int
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EIO;
}

static int
keep(struct prov_cli *cli, const char *rel, char *xml, char *err, size_t len)
{
	int r;

	if (xml == NULL)
		return fail(err, len, "cannot read back its XML: %s",
		    virt_error());
	r = state_write(cli, rel, xml, 0644);
	free(xml);
	if (r != 0)
		return fail(err, len, "cannot write %s/%s: %s", cli->state_dir,
		    rel, strerror(-r));
	return 0;
}

/* Notes that an object whose record could not be written was removed. */
static void
undone(char *err, size_t len, int removed)
{
	size_t l = strlen(err);

	snprintf(err + l, len - l,
	    removed == 0 ?
	        " (so it was removed again: nothing is left unrecorded)" :
	        " (and removing it again failed: it exists unrecorded)");
}

static int
step_net_define(struct prov_cli *cli, char *err, size_t len)
{
	char *xml = prov_network_xml(cli->s, NULL, NULL);
	virNetworkPtr net;
	int r;

	net = xml ? virNetworkDefineXML(cli->conn, xml) : NULL;
	free(xml);
	if (net == NULL)
		return fail(err, len, "define: %s", virt_error());
	if ((r = keep(cli, "network.xml", net_xml(net), err, len)) != 0)
		undone(err, len, virNetworkUndefine(net));
	if (r == 0 && virNetworkCreate(net) != 0)
		r = fail(err, len, "start: %s", virt_error());
	if (r == 0)
		virNetworkSetAutostart(net, 1);
	virNetworkFree(net);
	return r;
}

/* Replaces the network's definition with xml and (re)starts it. */
static int
net_replace(struct prov_cli *cli, virNetworkPtr net, const char *xml,
    int autostart, virNetworkPtr *out, char *err, size_t len)
{
	virNetworkPtr nn;

	if (virNetworkIsActive(net) == 1 && virNetworkDestroy(net) != 0)
		return fail(err, len, "stop: %s", virt_error());
	if (virNetworkIsPersistent(net) == 1 && virNetworkUndefine(net) != 0)
		return fail(err, len, "undefine: %s", virt_error());
	nn = virNetworkDefineXML(cli->conn, xml);
	if (nn == NULL)
		return fail(err, len, "define: %s", virt_error());
	if (virNetworkCreate(nn) != 0) {
		virNetworkFree(nn);
		return fail(err, len, "start: %s", virt_error());
	}
	if (autostart >= 0)
		virNetworkSetAutostart(nn, autostart);
	*out = nn;
	return 0;
}

/* Keeps the network's original XML once, before the first change. */
static int
keep_original(struct prov_cli *cli, virNetworkPtr net, char *err, size_t len)
{
	if (state_exists(cli, "network.orig.xml") ||
	    state_exists(cli, "network.xml"))
		return 0;
	return keep(cli, "network.orig.xml", net_xml(net), err, len);
}

static int
step_net_adopt(struct prov_cli *cli, char *err, size_t len)
{
	virNetworkPtr net = virNetworkLookupByName(cli->conn, cli->s->net_name);
	virNetworkPtr nn = NULL;
	struct prov_net_facts f;
	char *cur, *xml;
	int autostart = -1, r;

	if (net == NULL)
		return fail(err, len, "lookup: %s", virt_error());
	cur = net_xml(net);
	if (cur == NULL || prov_net_facts_parse(cur, &f) != 0) {
		fail(err, len, "cannot read its XML: %s", virt_error());
		free(cur);
		virNetworkFree(net);
		return -EIO;
	}
	if ((r = keep_original(cli, net, err, len)) != 0) {
		free(cur);
		virNetworkFree(net);
		return r;
	}
	if (virNetworkGetAutostart(net, &autostart) != 0)
		autostart = -1;
	xml = prov_network_xml(cli->s, f.uuid, f.bridge_mac);
	r = xml ? net_replace(cli, net, xml, autostart, &nn, err, len) :
	          -ENOMEM;
	if (r != 0 && nn == NULL &&
	    virNetworkLookupByName(cli->conn, cli->s->net_name) == NULL) {
		/* Put the original back rather than leave no network. */
		virNetworkPtr back = virNetworkDefineXML(cli->conn, cur);

		if (back != NULL) {
			virNetworkCreate(back);
			virNetworkFree(back);
		}
	}
	free(xml);
	free(cur);
	virNetworkFree(net);
	if (r == 0) {
		r = keep(cli, "network.xml", net_xml(nn), err, len);
		virNetworkFree(nn);
	}
	return r;
}

static int
net_host_update(virNetworkPtr net, unsigned cmd, const char *xml,
    unsigned flags)
{
	return virNetworkUpdate(net, cmd, VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
	    xml, flags);
}

static int
step_net_hosts(struct prov_cli *cli, char *err, size_t len)
{
	const struct prov_settings *s = cli->s;
	virNetworkPtr net = virNetworkLookupByName(cli->conn, s->net_name);
	unsigned flags = VIR_NETWORK_UPDATE_AFFECT_CONFIG;
	struct prov_net_facts f;
	char *cur;
	int r;

	if (net == NULL)
		return fail(err, len, "lookup: %s", virt_error());
	if ((r = keep_original(cli, net, err, len)) != 0)
		goto out;
	if (virNetworkIsActive(net) == 1)
		flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE;
	cur = virNetworkGetXMLDesc(net, 0);
	r = cur ? prov_net_facts_parse(cur, &f) : -EIO;
	free(cur);
	if (r != 0) {
		r = fail(err, len, "cannot read its XML: %s", virt_error());
		goto out;
	}
	for (size_t i = 0; i < s->n_nodes && r == 0; i++) {
		const struct prov_node *n = &s->nodes[i];
		char mac[PROV_MAC_STRLEN], a[INET_ADDRSTRLEN], xml[256];

		prov_node_mac(n, mac);
		prov_ip(n->addr, a);
		/* Entries that hold this node's MAC or address but differ go.
		 */
		for (size_t j = 0; j < f.n_hosts; j++) {
			struct prov_dhcp_host *h = &f.hosts[j];
			char ha[INET_ADDRSTRLEN];

			if ((strcmp(h->mac, mac) != 0 &&
			        h->addr.s_addr != n->addr.s_addr) ||
			    (strcmp(h->mac, mac) == 0 &&
			        h->addr.s_addr == n->addr.s_addr &&
			        strcmp(h->name, n->name) == 0))
				continue;
			snprintf(xml, sizeof(xml), "<host mac='%s' ip='%s'/>",
			    h->mac, prov_ip(h->addr, ha));
			if (net_host_update(net,
			        VIR_NETWORK_UPDATE_COMMAND_DELETE, xml,
			        flags) != 0)
				r = fail(err, len, "remove DHCP host %s: %s",
				    h->mac, virt_error());
			h->mac[0] = '\0';
			h->addr.s_addr = 0;
		}
		snprintf(xml, sizeof(xml), "<host mac='%s' name='%s' ip='%s'/>",
		    mac, n->name, a);
		if (r == 0 &&
		    !prov_net_hosts_match(
		        &(struct prov_settings){.nodes = (struct prov_node *)n,
		            .n_nodes = 1},
		        &f) &&
		    net_host_update(net, VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
		        xml, flags) != 0)
			r = fail(err, len, "add DHCP host %s: %s", n->name,
			    virt_error());
	}
	if (r == 0)
		r = keep(cli, "network.xml", net_xml(net), err, len);
out:
	virNetworkFree(net);
	return r;
}

static int
step_net_start(struct prov_cli *cli, char *err, size_t len)
{
	virNetworkPtr net = virNetworkLookupByName(cli->conn, cli->s->net_name);
	int r = 0;

	if (net == NULL || virNetworkCreate(net) != 0)
		r = fail(err, len, "%s", virt_error());
	if (net != NULL)
		virNetworkFree(net);
	return r;
}

static int
step_pool(struct prov_cli *cli, bool define, char *err, size_t len)
{
	virStoragePoolPtr pool;
	int r = 0;

	if (define) {
		char *xml = prov_pool_xml(cli->s, DEFAULT_POOL_PATH);

		pool = xml ? virStoragePoolDefineXML(cli->conn, xml, 0) : NULL;
		free(xml);
		if (pool == NULL)
			return fail(err, len, "define: %s", virt_error());
		xml = virStoragePoolGetXMLDesc(pool, VIR_STORAGE_XML_INACTIVE);
		r = keep(cli, "pool.xml",
		    xml ? xml : virStoragePoolGetXMLDesc(pool, 0), err, len);
		if (r != 0)
			undone(err, len, virStoragePoolUndefine(pool));
		if (r == 0 && virStoragePoolBuild(pool, 0) != 0)
			r = fail(err, len, "build: %s", virt_error());
		if (r == 0)
			virStoragePoolSetAutostart(pool, 1);
	} else if ((pool = virStoragePoolLookupByName(cli->conn,
	                cli->s->pool)) == NULL)
		return fail(err, len, "lookup: %s", virt_error());
	if (r == 0 && virStoragePoolCreate(pool, 0) != 0)
		r = fail(err, len, "start: %s", virt_error());
	virStoragePoolFree(pool);
	return r;
}

static virStorageVolPtr
node_volume(struct prov_cli *cli, const struct prov_node *n)
{
	virStoragePoolPtr pool =
	    virStoragePoolLookupByName(cli->conn, cli->s->pool);
	char *vname = prov_volume_name(n);
	virStorageVolPtr vol = NULL;

	if (pool != NULL && vname != NULL)
		vol = virStorageVolLookupByName(pool, vname);
	free(vname);
	if (vol == NULL)
		save_error(); /* the Free below resets libvirt's */
	if (pool != NULL)
		virStoragePoolFree(pool);
	return vol;
}

static int
step_volume(struct prov_cli *cli, const struct prov_node *n, bool create,
    char *err, size_t len)
{
	virStoragePoolPtr pool;
	virStorageVolPtr vol;
	const char *format;
	char rel[512], *xml;
	int r;

	if (!create) {
		vol = node_volume(cli, n);
		if (vol == NULL ||
		    virStorageVolResize(vol,
		        (unsigned long long)n->disk_gib << 30, 0) != 0)
			r = fail(err, len, "%s", virt_error());
		else
			r = 0;
		if (vol != NULL)
			virStorageVolFree(vol);
		return r;
	}
	snprintf(rel, sizeof(rel), "%s/%s.qcow2.vol.xml", n->name, n->name);
	if ((vol = node_volume(cli, n)) != NULL) {
		/* It appeared when its pool was started: record it. */
		r = keep(cli, rel, virStorageVolGetXMLDesc(vol, 0), err, len);
		virStorageVolFree(vol);
		return r;
	}
	if (virt_check_base(cli, &format) != 0)
		return fail(err, len, "base image %s unusable",
		    cli->s->image_base);
	pool = virStoragePoolLookupByName(cli->conn, cli->s->pool);
	if (pool == NULL)
		return fail(err, len, "pool %s: %s", cli->s->pool,
		    virt_error());
	xml = prov_volume_xml(n, cli->s->image_base, format);
	vol = xml ? virStorageVolCreateXML(pool, xml, 0) : NULL;
	free(xml);
	if (vol == NULL)
		fail(err, len, "%s", virt_error());
	virStoragePoolFree(pool);
	if (vol == NULL)
		return -EIO;
	if ((r = keep(cli, rel, virStorageVolGetXMLDesc(vol, 0), err, len)) !=
	    0)
		undone(err, len, virStorageVolDelete(vol, 0));
	virStorageVolFree(vol);
	return r;
}

static const char *
domain_type(struct prov_cli *cli)
{
	char *caps = virConnectGetCapabilities(cli->conn);
	bool kvm = caps != NULL && strstr(caps, "<domain type='kvm'") != NULL;

	free(caps);
	return kvm || cli->test_driver ? "kvm" : "qemu";
}

static int
step_domain(struct prov_cli *cli, const struct prov_node *n,
    enum prov_step_kind kind, char *err, size_t len)
{
	virDomainPtr dom = NULL;
	virStorageVolPtr vol;
	struct prov_dom_facts f;

	memset(&f, 0, sizeof(f));
	char seed[4096], rel[512], *disk = NULL, *xml;
	int r = 0;

	snprintf(rel, sizeof(rel), "%s/seed.iso", n->name);
	state_path(cli, rel, seed, sizeof(seed));
	if (kind != PROV_STEP_DOM_START) {
		if ((vol = node_volume(cli, n)) == NULL)
			return fail(err, len, "volume: %s", virt_error());
		disk = virStorageVolGetPath(vol);
		virStorageVolFree(vol);
		if (kind == PROV_STEP_DOM_REDEFINE &&
		    (dom = virDomainLookupByName(cli->conn, n->name)) != NULL) {
			char *cur =
			    virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);

			if (cur != NULL)
				prov_dom_facts_parse(cur, &f);
			free(cur);
			virDomainFree(dom);
		}
		xml = disk ? prov_domain_xml(cli->s, n, domain_type(cli),
		                 f.uuid, disk, seed) :
		             NULL;
		free(disk);
		dom = xml ? virDomainDefineXML(cli->conn, xml) : NULL;
		free(xml);
		if (dom == NULL)
			return fail(err, len, "define: %s", virt_error());
		snprintf(rel, sizeof(rel), "%s/domain.xml", n->name);
		r = keep(cli, rel,
		    virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE), err,
		    len);
		if (r != 0 && kind == PROV_STEP_DOM_DEFINE)
			undone(err, len, virDomainUndefine(dom));
	} else if ((dom = virDomainLookupByName(cli->conn, n->name)) == NULL)
		return fail(err, len, "lookup: %s", virt_error());
	if (r == 0 && kind != PROV_STEP_DOM_REDEFINE &&
	    virDomainCreate(dom) != 0)
		r = fail(err, len, "start: %s", virt_error());
	virDomainFree(dom);
	return r;
}

/* A new bootstrap token: made in the cluster first, then kept in pki/. */
static int
step_token(struct prov_cli *cli, struct prov_pki *pki, char *err, size_t len)
{
	char token[PROV_TOKEN_STRLEN], line[PROV_TOKEN_STRLEN + 1];
	int r;

	if (pki == NULL || prov_token_new(token) != 0)
		return fail(err, len, "no PKI, or no randomness");
	if (cli->test_driver && getenv("HEARTH_PROVISION_API_ADDR") == NULL)
		return fail(err, len,
		    "libvirt's test driver has no cluster to "
		    "ask");
	if (ready_token_create(cli, pki, token, err, len) != 0)
		return -EIO;
	snprintf(line, sizeof(line), "%s\n", token);
	if ((r = state_write(cli, "pki/token", line, 0600)) != 0)
		return fail(err, len, "cannot write pki/token: %s",
		    strerror(-r));
	memcpy(pki->token, token, sizeof(pki->token));
	return 0;
}

int
virt_step(struct prov_cli *cli, const struct prov_step *st,
    struct prov_pki **pki, char *err, size_t len)
{
	const struct prov_node *n =
	    st->node >= 0 ? &cli->s->nodes[st->node] : NULL;
	int r;

	saved_error[0] = '\0';
	switch (st->kind) {
	case PROV_STEP_PKI:
		if ((*pki = prov_pki_new()) == NULL)
			return fail(err, len,
			    "OpenSSL could not make the keys");
		if ((r = state_pki_save(cli, *pki)) != 0)
			return fail(err, len, "cannot write %s/pki: %s",
			    cli->state_dir, strerror(-r));
		return 0;
	case PROV_STEP_NET_DEFINE:
		return step_net_define(cli, err, len);
	case PROV_STEP_NET_ADOPT:
		return step_net_adopt(cli, err, len);
	case PROV_STEP_NET_HOSTS:
		return step_net_hosts(cli, err, len);
	case PROV_STEP_NET_START:
		return step_net_start(cli, err, len);
	case PROV_STEP_POOL_DEFINE:
	case PROV_STEP_POOL_START:
		return step_pool(cli, st->kind == PROV_STEP_POOL_DEFINE, err,
		    len);
	case PROV_STEP_VOL_CREATE:
	case PROV_STEP_VOL_RESIZE:
		return step_volume(cli, n, st->kind == PROV_STEP_VOL_CREATE,
		    err, len);
	case PROV_STEP_TOKEN:
		return step_token(cli, *pki, err, len);
	case PROV_STEP_SEED:
		if (*pki == NULL)
			return fail(err, len, "no PKI in %s/pki",
			    cli->state_dir);
		if ((r = state_seed_write(cli, n, *pki)) != 0)
			return fail(err, len, "cannot write %s/%s: %s",
			    cli->state_dir, n->name, strerror(-r));
		return 0;
	case PROV_STEP_DOM_DEFINE:
	case PROV_STEP_DOM_REDEFINE:
	case PROV_STEP_DOM_START:
		return step_domain(cli, n, st->kind, err, len);
	case PROV_STEP_KUBECONFIG: {
		char *kc = *pki ? prov_kubeconfig(cli->s, *pki) : NULL;

		r = kc ? state_write(cli, "admin.kubeconfig", kc, 0600) :
		         -ENOMEM;
		if (kc != NULL) {
			memset(kc, 0, strlen(kc));
			free(kc);
		}
		return r == 0 ?
		    0 :
		    fail(err, len, "cannot write admin.kubeconfig: %s",
		        strerror(-r));
	}
	}
	return fail(err, len, "unknown step");
}

const char *
virt_domain_state(struct prov_cli *cli, const char *name)
{
	static const char *const names[] = {"no state", "running", "blocked",
	    "paused", "shutting down", "shut off", "crashed", "suspended"};
	virDomainPtr dom = virDomainLookupByName(cli->conn, name);
	int state = -1, reason;

	if (dom == NULL)
		return "absent";
	if (virDomainGetState(dom, &state, &reason, 0) != 0)
		state = -1;
	virDomainFree(dom);
	if (state < 0 || state >= (int)(sizeof(names) / sizeof(*names)))
		return "unknown";
	return names[state];
}
