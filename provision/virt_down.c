/*
 * `down`'s libvirt side and the test dump. down walks the state directory
 * rather than the settings, so it removes what up made even if the
 * settings changed since: each kept domain.xml, *.vol.xml, pool.xml and
 * network.xml names one object (by name and UUID); an object of that name
 * with another UUID was not made by up and is left alone. An adopted
 * network gets its network.orig.xml back.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "cli.h"

struct down {
	struct prov_cli *cli;
	int failures;
};

static bool
kept_identity(struct down *d, const char *rel, char *name, size_t nlen,
    char *uuid)
{
	char *xml = state_read(d->cli, rel);
	bool ok = xml != NULL && prov_xml_identity(xml, name, nlen, uuid) == 0;

	free(xml);
	if (!ok && xml != NULL) {
		printf("  %s: unreadable, left alone\n", rel);
		d->failures++;
	}
	return ok;
}

static void
down_domain(struct down *d, const char *node)
{
	char rel[512], name[256], uuid[PROV_UUID_STRLEN],
	    have[VIR_UUID_STRING_BUFLEN];
	virDomainPtr dom;

	snprintf(rel, sizeof(rel), "%s/domain.xml", node);
	if (!state_exists(d->cli, rel) ||
	    !kept_identity(d, rel, name, sizeof(name), uuid))
		return;
	dom = virDomainLookupByName(d->cli->conn, name);
	if (dom == NULL) {
		printf("domain %s: already gone\n", name);
		state_remove(d->cli, rel);
		return;
	}
	if (uuid[0] && virDomainGetUUIDString(dom, have) == 0 &&
	    strcmp(have, uuid) != 0) {
		printf("domain %s: left alone (UUID %s is not the one up "
		       "made)\n",
		    name, have);
		state_remove(d->cli, rel);
	} else if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) != 0) {
		printf("domain %s: cannot stop: %s\n", name, virt_error());
		d->failures++;
	} else if (virDomainUndefine(dom) != 0) {
		printf("domain %s: cannot undefine: %s\n", name, virt_error());
		d->failures++;
	} else {
		printf("domain %s: removed\n", name);
		state_remove(d->cli, rel);
	}
	virDomainFree(dom);
}

static void
down_volume(struct down *d, const char *node, const char *file)
{
	char rel[1024], name[256], uuid[PROV_UUID_STRLEN];
	struct prov_vol_facts f;
	virStorageVolPtr vol;
	char *xml;

	snprintf(rel, sizeof(rel), "%s/%s", node, file);
	if (!kept_identity(d, rel, name, sizeof(name), uuid))
		return;
	xml = state_read(d->cli, rel);
	if (xml == NULL || prov_vol_facts_parse(xml, &f) != 0 || !f.path[0]) {
		free(xml);
		printf("volume %s: no path in %s, left alone\n", name, rel);
		d->failures++;
		return;
	}
	free(xml);
	vol = virStorageVolLookupByPath(d->cli->conn, f.path);
	if (vol == NULL)
		printf("volume %s: already gone\n", f.path);
	else if (virStorageVolDelete(vol, 0) != 0) {
		printf("volume %s: cannot delete: %s\n", f.path, virt_error());
		d->failures++;
		virStorageVolFree(vol);
		return;
	} else
		printf("volume %s: removed\n", f.path);
	if (vol != NULL)
		virStorageVolFree(vol);
	state_remove(d->cli, rel);
}

static void
down_node(struct down *d, const char *node)
{
	static const char *const docs[] = {"user-data", "meta-data",
	    "network-config", "kubeadm.yaml", "seed.iso"};
	char path[4096], rel[1024];
	struct dirent *e;
	DIR *dir;
	int before = d->failures;

	down_domain(d, node);
	if (d->failures > before)
		return; /* a volume in use by a running domain stays */
	dir = opendir(state_path(d->cli, node, path, sizeof(path)));
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l > 8 && strcmp(e->d_name + l - 8, ".vol.xml") == 0)
			down_volume(d, node, e->d_name);
	}
	if (dir != NULL)
		closedir(dir);
	if (d->failures > before)
		return;
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		snprintf(rel, sizeof(rel), "%s/%s", node, docs[i]);
		state_remove(d->cli, rel);
	}
	if (rmdir(path) != 0 && errno != ENOENT)
		printf("%s: kept (holds files up did not write)\n", path);
}

static void
down_pool(struct down *d)
{
	char name[256], uuid[PROV_UUID_STRLEN], have[VIR_UUID_STRING_BUFLEN];
	virStoragePoolPtr pool;

	if (!state_exists(d->cli, "pool.xml") ||
	    !kept_identity(d, "pool.xml", name, sizeof(name), uuid))
		return;
	pool = virStoragePoolLookupByName(d->cli->conn, name);
	if (pool == NULL)
		printf("pool %s: already gone\n", name);
	else if (uuid[0] && virStoragePoolGetUUIDString(pool, have) == 0 &&
	    strcmp(have, uuid) != 0)
		printf("pool %s: left alone (UUID %s is not the one up made)\n",
		    name, have);
	else if ((virStoragePoolIsActive(pool) == 1 &&
	             virStoragePoolDestroy(pool) != 0) ||
	    virStoragePoolUndefine(pool) != 0) {
		printf("pool %s: cannot remove: %s\n", name, virt_error());
		d->failures++;
		virStoragePoolFree(pool);
		return;
	} else
		printf("pool %s: removed (its directory and other files "
		       "stay)\n",
		    name);
	if (pool != NULL)
		virStoragePoolFree(pool);
	state_remove(d->cli, "pool.xml");
}

static void
restore_network(struct down *d)
{
	char name[256], uuid[PROV_UUID_STRLEN];
	virNetworkPtr net, nn;
	char *orig;
	int autostart = 0;

	if (!kept_identity(d, "network.orig.xml", name, sizeof(name), uuid))
		return;
	orig = state_read(d->cli, "network.orig.xml");
	net = virNetworkLookupByName(d->cli->conn, name);
	if (net != NULL) {
		if (virNetworkGetAutostart(net, &autostart) != 0)
			autostart = 0;
		if (virNetworkIsActive(net) == 1)
			virNetworkDestroy(net);
		if (virNetworkIsPersistent(net) == 1)
			virNetworkUndefine(net);
		virNetworkFree(net);
	}
	nn = orig ? virNetworkDefineXML(d->cli->conn, orig) : NULL;
	free(orig);
	if (nn == NULL || virNetworkCreate(nn) != 0) {
		printf("network %s: cannot restore network.orig.xml: %s\n",
		    name, virt_error());
		d->failures++;
	} else {
		virNetworkSetAutostart(nn, autostart);
		printf("network %s: restored from network.orig.xml\n", name);
		state_remove(d->cli, "network.orig.xml");
		state_remove(d->cli, "network.xml");
	}
	if (nn != NULL)
		virNetworkFree(nn);
}

static void
down_network(struct down *d)
{
	char name[256], uuid[PROV_UUID_STRLEN], have[VIR_UUID_STRING_BUFLEN];
	virNetworkPtr net;

	if (state_exists(d->cli, "network.orig.xml")) {
		restore_network(d);
		return;
	}
	if (!state_exists(d->cli, "network.xml") ||
	    !kept_identity(d, "network.xml", name, sizeof(name), uuid))
		return;
	net = virNetworkLookupByName(d->cli->conn, name);
	if (net == NULL)
		printf("network %s: already gone\n", name);
	else if (uuid[0] && virNetworkGetUUIDString(net, have) == 0 &&
	    strcmp(have, uuid) != 0)
		printf("network %s: left alone (UUID %s is not the one up "
		       "made)\n",
		    name, have);
	else if ((virNetworkIsActive(net) == 1 &&
	             virNetworkDestroy(net) != 0) ||
	    virNetworkUndefine(net) != 0) {
		printf("network %s: cannot remove: %s\n", name, virt_error());
		d->failures++;
		virNetworkFree(net);
		return;
	} else
		printf("network %s: removed\n", name);
	if (net != NULL)
		virNetworkFree(net);
	state_remove(d->cli, "network.xml");
}

int
virt_down(struct prov_cli *cli)
{
	static const char *const pki[] = {"pki/ca.crt", "pki/ca.key",
	    "pki/admin.crt", "pki/admin.key", "pki/token"};
	struct down d = {.cli = cli};
	char path[4096];
	struct dirent *e;
	DIR *dir = opendir(cli->state_dir);

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "pki") == 0)
			continue;
		if (stat(state_path(cli, e->d_name, path, sizeof(path)), &st) ==
		        0 &&
		    S_ISDIR(st.st_mode))
			down_node(&d, e->d_name);
	}
	if (dir != NULL)
		closedir(dir);
	down_pool(&d);
	down_network(&d);
	if (d.failures > 0)
		return -EIO;
	state_remove(cli, "admin.kubeconfig");
	for (size_t i = 0; i < sizeof(pki) / sizeof(*pki); i++)
		state_remove(cli, pki[i]);
	rmdir(state_path(cli, "pki", path, sizeof(path)));
	rmdir(cli->state_dir);
	return 0;
}

static void
dump_one(const char *dir, const char *kind, const char *name, char *xml)
{
	char path[4096];
	FILE *f;

	if (xml == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s-%s.xml", dir, kind, name);
	if ((f = fopen(path, "we")) != NULL) {
		fputs(xml, f);
		fclose(f);
	}
	free(xml);
}

int
virt_dump(struct prov_cli *cli, const char *dir)
{
	virDomainPtr *doms = NULL;
	virNetworkPtr *nets = NULL;
	virStoragePoolPtr *pools = NULL;
	int nd, nn, np;

	mkdir(dir, 0755);
	nd = virConnectListAllDomains(cli->conn, &doms, 0);
	for (int i = 0; i < nd; i++) {
		dump_one(dir, "domain", virDomainGetName(doms[i]),
		    virDomainGetXMLDesc(doms[i], 0));
		dump_one(dir, "inactive-domain", virDomainGetName(doms[i]),
		    virDomainGetXMLDesc(doms[i], VIR_DOMAIN_XML_INACTIVE));
		virDomainFree(doms[i]);
	}
	nn = virConnectListAllNetworks(cli->conn, &nets, 0);
	for (int i = 0; i < nn; i++) {
		dump_one(dir, "network", virNetworkGetName(nets[i]),
		    virNetworkGetXMLDesc(nets[i], 0));
		virNetworkFree(nets[i]);
	}
	np = virConnectListAllStoragePools(cli->conn, &pools, 0);
	for (int i = 0; i < np; i++) {
		virStorageVolPtr *vols = NULL;
		int nv = virStoragePoolIsActive(pools[i]) == 1 ?
		    virStoragePoolListAllVolumes(pools[i], &vols, 0) :
		    0;

		dump_one(dir, "pool", virStoragePoolGetName(pools[i]),
		    virStoragePoolGetXMLDesc(pools[i], 0));
		for (int j = 0; j < nv; j++) {
			dump_one(dir, "volume", virStorageVolGetName(vols[j]),
			    virStorageVolGetXMLDesc(vols[j], 0));
			virStorageVolFree(vols[j]);
		}
		free(vols);
		virStoragePoolFree(pools[i]);
	}
	free(doms);
	free(nets);
	free(pools);
	return nd < 0 || nn < 0 || np < 0 ? -EIO : 0;
}
