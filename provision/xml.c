/*
 * The libvirt XML hearth-provision defines: the network (forward mode
 * open, the bridge address, a DHCP host entry per node), the storage pool,
 * each node's qcow2 volume backed by the base image, and each node's
 * domain (its disk and the cloud-init seed ISO as file-backed disks).
 * Every value that is not a validated name or number is XML-escaped.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "provision.h"

static void
esc(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

/* Closes the memstream f and returns its buffer (NULL on error). */
static char *
finish(FILE *f, char **buf)
{
	if (fclose(f) != 0) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

char *
prov_network_xml(const struct prov_settings *s, const char *uuid,
    const char *bridge_mac)
{
	char *buf = NULL, a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	uint32_t mask = prov_netmask(s->net_prefix);

	if (f == NULL)
		return NULL;
	fputs("<network>\n  <name>", f);
	esc(f, s->net_name);
	fputs("</name>\n", f);
	if (uuid != NULL && *uuid)
		fprintf(f, "  <uuid>%s</uuid>\n", uuid);
	fputs("  <forward mode='open'/>\n  <bridge name='", f);
	esc(f, s->bridge);
	fputs("' stp='on' delay='0'/>\n", f);
	if (bridge_mac != NULL && *bridge_mac)
		fprintf(f, "  <mac address='%s'/>\n", bridge_mac);
	fprintf(f, "  <ip address='%s' netmask='%s'>\n    <dhcp>\n",
	    prov_ip(s->net_addr, a), prov_ip((struct in_addr){mask}, b));
	fprintf(f, "      <range start='%s' end='%s'/>\n",
	    prov_ip(s->dhcp_first, a), prov_ip(s->dhcp_last, b));
	for (size_t i = 0; i < s->n_nodes; i++) {
		char mac[PROV_MAC_STRLEN];

		prov_node_mac(&s->nodes[i], mac);
		fprintf(f, "      <host mac='%s' name='%s' ip='%s'/>\n", mac,
		    s->nodes[i].name, prov_ip(s->nodes[i].addr, a));
	}
	fputs("    </dhcp>\n  </ip>\n</network>\n", f);
	return finish(f, &buf);
}

char *
prov_pool_xml(const struct prov_settings *s, const char *path)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fputs("<pool type='dir'>\n  <name>", f);
	esc(f, s->pool);
	fputs("</name>\n  <target>\n    <path>", f);
	esc(f, path);
	fputs("</path>\n  </target>\n</pool>\n", f);
	return finish(f, &buf);
}

char *
prov_volume_name(const struct prov_node *n)
{
	char *v;

	return asprintf(&v, "%s.qcow2", n->name) < 0 ? NULL : v;
}

char *
prov_volume_xml(const struct prov_node *n, const char *base,
    const char *base_format)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fprintf(f,
	    "<volume type='file'>\n  <name>%s.qcow2</name>\n"
	    "  <capacity unit='GiB'>%u</capacity>\n"
	    "  <allocation unit='bytes'>0</allocation>\n"
	    "  <target>\n    <format type='qcow2'/>\n  </target>\n"
	    "  <backingStore>\n    <path>",
	    n->name, n->disk_gib);
	esc(f, base);
	fprintf(f,
	    "</path>\n    <format type='%s'/>\n  </backingStore>\n"
	    "</volume>\n",
	    base_format);
	return finish(f, &buf);
}

char *
prov_domain_xml(const struct prov_settings *s, const struct prov_node *n,
    const char *domain_type, const char *uuid, const char *disk_path,
    const char *seed_path)
{
	char *buf = NULL, mac[PROV_MAC_STRLEN];
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	prov_node_mac(n, mac);
	fprintf(f, "<domain type='%s'>\n  <name>%s</name>\n", domain_type,
	    n->name);
	if (uuid != NULL && *uuid)
		fprintf(f, "  <uuid>%s</uuid>\n", uuid);
	fprintf(f,
	    "  <description>hearth-provision: %s node of cluster "
	    "%s</description>\n",
	    n->role == PROV_ROLE_CONTROL_PLANE ? "control-plane" : "worker",
	    s->cluster_name);
	fprintf(f,
	    "  <memory unit='MiB'>%u</memory>\n"
	    "  <vcpu>%u</vcpu>\n",
	    n->memory_mib, n->vcpus);
	fputs("  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n"
	      "    <boot dev='hd'/>\n  </os>\n"
	      "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n",
	    f);
	if (strcmp(domain_type, "kvm") == 0)
		fputs("  <cpu mode='host-passthrough'/>\n", f);
	fputs("  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n"
	      "  <on_reboot>restart</on_reboot>\n  "
	      "<on_crash>destroy</on_crash>\n"
	      "  <devices>\n",
	    f);
	fputs("    <disk type='file' device='disk'>\n"
	      "      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
	      "      <source file='",
	    f);
	esc(f, disk_path);
	fputs("'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n", f);
	fputs("    <disk type='file' device='cdrom'>\n"
	      "      <driver name='qemu' type='raw'/>\n      <source file='",
	    f);
	esc(f, seed_path);
	fputs("'/>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n"
	      "    </disk>\n",
	    f);
	fprintf(f,
	    "    <interface type='network'>\n"
	    "      <mac address='%s'/>\n      <source network='",
	    mac);
	esc(f, s->net_name);
	fputs(
	    "'/>\n      <model type='virtio'/>\n    </interface>\n"
	    "    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n"
	    "    <console type='pty'>\n      <target type='serial' port='0'/>\n"
	    "    </console>\n"
	    "    <rng model='virtio'>\n"
	    "      <backend model='random'>/dev/urandom</backend>\n"
	    "    </rng>\n  </devices>\n</domain>\n",
	    f);
	return finish(f, &buf);
}
