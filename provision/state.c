/*
 * The state directory (default /var/lib/hearth-provision): pki/, the admin
 * kubeconfig, per node NODE/{user-data,meta-data,network-config,
 * kubeadm.yaml,seed.iso}, and the XML of every libvirt object up made.
 * Files are written to a temporary name and renamed, so an interrupted
 * run never leaves half a file; secrets are mode 0600 under 0700 pki/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

char *
state_path(const struct prov_cli *cli, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", cli->state_dir, rel);
	return buf;
}

char *
state_read(const struct prov_cli *cli, const char *rel)
{
	char path[4096], *buf = NULL;
	size_t cap = 0, len = 0;
	FILE *f = fopen(state_path(cli, rel, path, sizeof(path)), "re");

	if (f == NULL)
		return NULL;
	for (;;) {
		if (len + 4097 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);

		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

bool
state_exists(const struct prov_cli *cli, const char *rel)
{
	char path[4096];

	return access(state_path(cli, rel, path, sizeof(path)), F_OK) == 0;
}

int
state_remove(const struct prov_cli *cli, const char *rel)
{
	char path[4096];

	state_path(cli, rel, path, sizeof(path));
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int
mkdirs(const char *path, unsigned mode)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
state_mkdir(const struct prov_cli *cli, const char *rel, unsigned mode)
{
	char path[4096];

	return mkdirs(state_path(cli, rel, path, sizeof(path)), mode);
}

int
state_write(const struct prov_cli *cli, const char *rel, const char *data,
    unsigned mode)
{
	char path[4096], tmp[4200], *slash;
	size_t len = strlen(data);
	int fd, r = 0;

	state_path(cli, rel, path, sizeof(path));
	slash = strrchr(path, '/');
	*slash = '\0';
	if ((r = mkdirs(path, 0711)) != 0)
		return r;
	*slash = '/';
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) != 0 || write(fd, data, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r != 0)
		unlink(tmp);
	return r;
}

struct prov_pki *
state_pki_load(const struct prov_cli *cli)
{
	char *f[5] = {state_read(cli, "pki/ca.crt"),
	    state_read(cli, "pki/ca.key"), state_read(cli, "pki/admin.crt"),
	    state_read(cli, "pki/admin.key"), state_read(cli, "pki/token")};
	struct prov_pki *p = NULL;

	if (f[0] && f[1] && f[2] && f[3] && f[4]) {
		f[4][strcspn(f[4], " \t\r\n")] = '\0';
		p = prov_pki_from(f[0], f[1], f[2], f[3], f[4]);
	}
	for (int i = 0; i < 5; i++) {
		if (f[i] != NULL)
			memset(f[i], 0, strlen(f[i]));
		free(f[i]);
	}
	return p;
}

int
state_pki_save(const struct prov_cli *cli, const struct prov_pki *pki)
{
	char token[PROV_TOKEN_STRLEN + 1];
	int r;

	snprintf(token, sizeof(token), "%s\n", pki->token);
	if ((r = state_mkdir(cli, "", 0711)) != 0 ||
	    (r = state_mkdir(cli, "pki", 0700)) != 0 ||
	    (r = state_write(cli, "pki/ca.key", pki->ca_key, 0600)) != 0 ||
	    (r = state_write(cli, "pki/admin.key", pki->admin_key, 0600)) !=
	        0 ||
	    (r = state_write(cli, "pki/token", token, 0600)) != 0 ||
	    (r = state_write(cli, "pki/ca.crt", pki->ca_crt, 0644)) != 0 ||
	    (r = state_write(cli, "pki/admin.crt", pki->admin_crt, 0644)) != 0)
		return r;
	return 0;
}

struct node_docs {
	char *v[4]; /* user-data, meta-data, network-config, kubeadm.yaml */
};

static const char *const doc_names[4] = {"user-data", "meta-data",
    "network-config", "kubeadm.yaml"};

static int
docs_make(const struct prov_cli *cli, const struct prov_node *n,
    const struct prov_pki *pki, struct node_docs *d)
{
	d->v[0] = prov_user_data(cli->s, n, pki, &prov_builtin_manifests);
	d->v[1] = prov_meta_data(cli->s, n);
	d->v[2] = prov_network_config(cli->s, n);
	d->v[3] = prov_kubeadm_config(cli->s, n, pki);
	for (int i = 0; i < 4; i++)
		if (d->v[i] == NULL)
			return -ENOMEM;
	return 0;
}

static void
docs_free(struct node_docs *d)
{
	for (int i = 0; i < 4; i++) {
		if (d->v[i] != NULL)
			memset(d->v[i], 0, strlen(d->v[i]));
		free(d->v[i]);
	}
}

bool
state_seed_current(const struct prov_cli *cli, const struct prov_node *n,
    const struct prov_pki *pki)
{
	struct node_docs d = {{0}};
	char rel[512];
	bool same = pki != NULL && docs_make(cli, n, pki, &d) == 0;

	for (int i = 0; same && i < 4; i++) {
		char *have;

		snprintf(rel, sizeof(rel), "%s/%s", n->name, doc_names[i]);
		have = state_read(cli, rel);
		same = have != NULL && strcmp(have, d.v[i]) == 0;
		free(have);
	}
	snprintf(rel, sizeof(rel), "%s/seed.iso", n->name);
	same = same && state_exists(cli, rel);
	docs_free(&d);
	return same;
}

int
state_seed_write(const struct prov_cli *cli, const struct prov_node *n,
    const struct prov_pki *pki)
{
	struct node_docs d = {{0}};
	char rel[512], path[4096];
	int r;

	if ((r = docs_make(cli, n, pki, &d)) != 0)
		goto out;
	if ((r = state_mkdir(cli, n->name, 0711)) != 0)
		goto out;
	for (int i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "%s/%s", n->name, doc_names[i]);
		if ((r = state_write(cli, rel, d.v[i], 0600)) != 0)
			goto out;
	}
	snprintf(rel, sizeof(rel), "%s/seed.iso", n->name);
	r = prov_iso_write(state_path(cli, rel, path, sizeof(path)), "cidata",
	    (struct prov_iso_file[]){{"user-data", d.v[0]},
	        {"meta-data", d.v[1]}, {"network-config", d.v[2]}},
	    3);
out:
	docs_free(&d);
	return r;
}
