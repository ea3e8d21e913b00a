/*
 * The facts hearth-provision compares, read from the XML libvirt returns
 * (virNetworkGetXMLDesc, virDomainGetXMLDesc, virStorageVolGetXMLDesc):
 * parsed with libxml2 and XPath, so libvirt's normalisation (units,
 * attribute order, added defaults) never looks like drift.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "provision.h"

struct xdoc {
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static int
xdoc_open(struct xdoc *x, const char *xml)
{
	x->doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (x->doc == NULL)
		return -EINVAL;
	x->ctx = xmlXPathNewContext(x->doc);
	if (x->ctx == NULL) {
		xmlFreeDoc(x->doc);
		return -ENOMEM;
	}
	return 0;
}

static void
xdoc_close(struct xdoc *x)
{
	xmlXPathFreeContext(x->ctx);
	xmlFreeDoc(x->doc);
}

/* The string value of expr into out; "" when nothing matches. */
static void
xstr(struct xdoc *x, const char *expr, char *out, size_t len)
{
	xmlXPathObjectPtr r;

	out[0] = '\0';
	r = xmlXPathEvalExpression((const xmlChar *)expr, x->ctx);
	if (r == NULL)
		return;
	if (r->type == XPATH_STRING && r->stringval != NULL)
		snprintf(out, len, "%s", (const char *)r->stringval);
	else if (r->type == XPATH_NUMBER)
		snprintf(out, len, "%.0f", r->floatval);
	xmlXPathFreeObject(r);
}

/* A MAC address from expr, lower-cased as libvirt compares them. */
static void
xmac(struct xdoc *x, const char *expr, char *out, size_t len)
{
	xstr(x, expr, out, len);
	for (char *c = out; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
}

static unsigned long long
xnum(struct xdoc *x, const char *expr)
{
	char buf[64];

	xstr(x, expr, buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

/* Bytes from a value and libvirt's unit attribute. */
static unsigned long long
scaled(unsigned long long v, const char *unit)
{
	static const struct {
		const char *u;
		unsigned long long m;
	} units[] = {{"", 1}, {"b", 1}, {"bytes", 1}, {"KiB", 1ull << 10},
	    {"k", 1ull << 10}, {"MiB", 1ull << 20}, {"M", 1ull << 20},
	    {"GiB", 1ull << 30}, {"G", 1ull << 30}, {"TiB", 1ull << 40},
	    {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};

	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (strcmp(unit, units[i].u) == 0)
			return v * units[i].m;
	return v;
}

static unsigned
netmask_prefix(const char *mask)
{
	struct in_addr m;
	unsigned p = 0;

	if (inet_pton(AF_INET, mask, &m) != 1)
		return 0;
	for (uint32_t v = ntohl(m.s_addr); v & 0x80000000u; v <<= 1)
		p++;
	return p;
}

int
prov_net_facts_parse(const char *xml, struct prov_net_facts *f)
{
	struct xdoc x;
	char buf[64], expr[128];
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = xdoc_open(&x, xml)) != 0)
		return r;
	xstr(&x, "string(/network/uuid)", f->uuid, sizeof(f->uuid));
	xstr(&x, "string(/network/forward/@mode)", f->forward,
	    sizeof(f->forward));
	if (f->forward[0] == '\0' && xnum(&x, "count(/network/forward)") > 0)
		snprintf(f->forward, sizeof(f->forward), "nat");
	xstr(&x, "string(/network/bridge/@name)", f->bridge, sizeof(f->bridge));
	xstr(&x, "string(/network/mac/@address)", f->bridge_mac,
	    sizeof(f->bridge_mac));
	xstr(&x,
	    "string(/network/ip[not(@family) or @family='ipv4'][1]/@address)",
	    buf, sizeof(buf));
	inet_pton(AF_INET, buf, &f->addr);
	xstr(&x,
	    "string(/network/ip[not(@family) or @family='ipv4'][1]/@prefix)",
	    buf, sizeof(buf));
	if (buf[0])
		f->prefix = (unsigned)strtoul(buf, NULL, 10);
	else {
		xstr(&x,
		    "string(/network/ip[not(@family) or "
		    "@family='ipv4'][1]/@netmask)",
		    buf, sizeof(buf));
		f->prefix = netmask_prefix(buf);
	}
	xstr(&x, "string(/network/ip[1]/dhcp/range[1]/@start)", buf,
	    sizeof(buf));
	inet_pton(AF_INET, buf, &f->dhcp_first);
	xstr(&x, "string(/network/ip[1]/dhcp/range[1]/@end)", buf, sizeof(buf));
	inet_pton(AF_INET, buf, &f->dhcp_last);
	f->n_hosts = xnum(&x, "count(/network/ip[1]/dhcp/host)");
	if (f->n_hosts > sizeof(f->hosts) / sizeof(*f->hosts))
		f->n_hosts = sizeof(f->hosts) / sizeof(*f->hosts);
	for (size_t i = 0; i < f->n_hosts; i++) {
		struct prov_dhcp_host *h = &f->hosts[i];

		snprintf(expr, sizeof(expr),
		    "string(/network/ip[1]/dhcp/host[%zu]/@mac)", i + 1);
		xmac(&x, expr, h->mac, sizeof(h->mac));
		snprintf(expr, sizeof(expr),
		    "string(/network/ip[1]/dhcp/host[%zu]/@name)", i + 1);
		xstr(&x, expr, h->name, sizeof(h->name));
		snprintf(expr, sizeof(expr),
		    "string(/network/ip[1]/dhcp/host[%zu]/@ip)", i + 1);
		xstr(&x, expr, buf, sizeof(buf));
		inet_pton(AF_INET, buf, &h->addr);
	}
	xdoc_close(&x);
	return 0;
}

int
prov_dom_facts_parse(const char *xml, struct prov_dom_facts *f)
{
	struct xdoc x;
	char unit[16];
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = xdoc_open(&x, xml)) != 0)
		return r;
	xstr(&x, "string(/domain/uuid)", f->uuid, sizeof(f->uuid));
	f->vcpus = (unsigned)xnum(&x, "string(/domain/vcpu)");
	xstr(&x, "string(/domain/memory/@unit)", unit, sizeof(unit));
	f->memory_kib =
	    scaled(xnum(&x, "string(/domain/memory)"), unit[0] ? unit : "KiB") /
	    1024;
	xmac(&x,
	    "string(/domain/devices/interface[@type='network'][1]/mac/"
	    "@address)",
	    f->mac, sizeof(f->mac));
	xstr(&x,
	    "string(/domain/devices/interface[@type='network'][1]/source/"
	    "@network)",
	    f->network, sizeof(f->network));
	xstr(&x, "string(/domain/devices/disk[@device='disk'][1]/source/@file)",
	    f->disk, sizeof(f->disk));
	xstr(&x,
	    "string(/domain/devices/disk[@device='cdrom'][1]/source/@file)",
	    f->cdrom, sizeof(f->cdrom));
	xdoc_close(&x);
	return 0;
}

int
prov_vol_facts_parse(const char *xml, struct prov_vol_facts *f)
{
	struct xdoc x;
	char unit[16];
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = xdoc_open(&x, xml)) != 0)
		return r;
	xstr(&x, "string(/volume/capacity/@unit)", unit, sizeof(unit));
	f->capacity = scaled(xnum(&x, "string(/volume/capacity)"), unit);
	xstr(&x, "string(/volume/target/path)", f->path, sizeof(f->path));
	xstr(&x, "string(/volume/backingStore/path)", f->backing,
	    sizeof(f->backing));
	xdoc_close(&x);
	return 0;
}

int
prov_pool_path_parse(const char *xml, char *path, size_t len)
{
	struct xdoc x;
	int r;

	if ((r = xdoc_open(&x, xml)) != 0)
		return r;
	xstr(&x, "string(/pool/target/path)", path, len);
	xdoc_close(&x);
	return path[0] ? 0 : -ENOENT;
}

int
prov_xml_identity(const char *xml, char *name, size_t nlen,
    char uuid[PROV_UUID_STRLEN])
{
	struct xdoc x;
	int r;

	if ((r = xdoc_open(&x, xml)) != 0)
		return r;
	xstr(&x, "string(/*/name)", name, nlen);
	xstr(&x, "string(/*/uuid)", uuid, PROV_UUID_STRLEN);
	xdoc_close(&x);
	return name[0] ? 0 : -EINVAL;
}
