/*
 * The documents each node boots with: kubeadm's configuration (v1beta4
 * Init+ClusterConfiguration and KubeletConfiguration on the control plane,
 * JoinConfiguration pinned to the CA on workers), cloud-init's user-data
 * (containerd with SystemdCgroup, the pkgs.k8s.io repository, kubelet,
 * kubeadm, kubectl, modules, sysctls, the CA, then init or join, and on
 * the control plane Flannel and hearth's manifests), meta-data and a v2
 * network-config with the node's static address; and the admin kubeconfig.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "provision.h"

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

/* text as the lines of a YAML literal block, each indented by ind spaces. */
static void
block(FILE *f, int ind, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > 0)
			fprintf(f, "%*s%.*s", ind, "", (int)len, p);
		fputc('\n', f);
		p += len + (nl != NULL);
	}
}

static char *
b64(const char *s)
{
	size_t len = strlen(s);
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out != NULL)
		EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
		    (int)len);
	return out;
}

char *
prov_api_server(const struct prov_settings *s)
{
	char a[INET_ADDRSTRLEN], *v;

	prov_ip(prov_control_plane(s)->addr, a);
	return asprintf(&v, "https://%s:6443", a) < 0 ? NULL : v;
}

static void
node_registration(FILE *f, const struct prov_node *n)
{
	char a[INET_ADDRSTRLEN];

	fprintf(f,
	    "nodeRegistration:\n  name: %s\n"
	    "  criSocket: unix:///run/containerd/containerd.sock\n"
	    "  kubeletExtraArgs:\n  - name: node-ip\n    value: \"%s\"\n",
	    n->name, prov_ip(n->addr, a));
}

char *
prov_kubeadm_config(const struct prov_settings *s, const struct prov_node *n,
    const struct prov_pki *pki)
{
	const struct prov_node *cp = prov_control_plane(s);
	char *buf = NULL, a[INET_ADDRSTRLEN], c[INET_ADDRSTRLEN];
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	prov_ip(cp->addr, c);
	fputs("# kubeadm configuration written by hearth-provision\n", f);
	if (n->role == PROV_ROLE_WORKER) {
		fprintf(f,
		    "apiVersion: kubeadm.k8s.io/v1beta4\n"
		    "kind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n"
		    "    apiServerEndpoint: \"%s:6443\"\n    token: \"%s\"\n"
		    "    caCertHashes:\n    - \"%s\"\n"
		    "  tlsBootstrapToken: \"%s\"\n",
		    c, pki->token, pki->pin, pki->token);
		node_registration(f, n);
		return finish(f, &buf);
	}
	fprintf(f,
	    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
	    "bootstrapTokens:\n- token: \"%s\"\n  description: "
	    "\"hearth-provision "
	    "joins\"\n  ttl: 24h0m0s\n  usages: [signing, authentication]\n"
	    "  groups: [\"system:bootstrappers:kubeadm:default-node-token\"]\n"
	    "localAPIEndpoint:\n  advertiseAddress: \"%s\"\n  bindPort: 6443\n",
	    pki->token, prov_ip(n->addr, a));
	node_registration(f, n);
	fprintf(f,
	    "---\napiVersion: kubeadm.k8s.io/v1beta4\n"
	    "kind: ClusterConfiguration\nclusterName: %s\n"
	    "kubernetesVersion: \"v%s.0\"\n"
	    "controlPlaneEndpoint: \"%s:6443\"\n"
	    "certificatesDir: /etc/kubernetes/pki\n"
	    "networking:\n  podSubnet: \"%s\"\n  serviceSubnet: \"%s\"\n"
	    "  dnsDomain: cluster.local\n"
	    "apiServer:\n  certSANs: [\"%s\", \"%s\"]\n",
	    s->cluster_name, s->kubernetes_version, c, s->pod_subnet,
	    s->service_subnet, c, n->name);
	fputs("---\napiVersion: kubelet.config.k8s.io/v1beta1\n"
	      "kind: KubeletConfiguration\ncgroupDriver: systemd\n",
	    f);
	return finish(f, &buf);
}

/* The node's bootstrap script: containerd, Kubernetes packages, init/join. */
static void
bootstrap_script(FILE *f, const struct prov_settings *s,
    const struct prov_node *n)
{
	const char *v = s->kubernetes_version;

	fprintf(f,
	    "#!/bin/bash\n# hearth-provision: bootstrap of %s (%s)\n"
	    "set -euxo pipefail\n"
	    "exec > >(tee -a /var/log/hearth-bootstrap.log) 2>&1\n"
	    "modprobe overlay\nmodprobe br_netfilter\nsysctl --system\n"
	    "mkdir -p /etc/containerd\n"
	    "containerd config default | sed 's/SystemdCgroup = false/"
	    "SystemdCgroup = true/' > /etc/containerd/config.toml\n"
	    "systemctl restart containerd\n"
	    "install -d -m 0755 /etc/apt/keyrings\n"
	    "curl -fsSL --retry 5 https://pkgs.k8s.io/core:/stable:/v%s/deb/"
	    "Release.key | gpg --dearmor --yes -o "
	    "/etc/apt/keyrings/kubernetes-apt-keyring.gpg\n"
	    "echo 'deb "
	    "[signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
	    "https://pkgs.k8s.io/core:/stable:/v%s/deb/ /' > "
	    "/etc/apt/sources.list.d/kubernetes.list\n"
	    "apt-get update\n"
	    "DEBIAN_FRONTEND=noninteractive apt-get install -y kubelet kubeadm "
	    "kubectl\napt-mark hold kubelet kubeadm kubectl\n"
	    "systemctl enable --now kubelet\n",
	    n->name,
	    n->role == PROV_ROLE_CONTROL_PLANE ? "control-plane" : "worker", v,
	    v);
	if (n->role == PROV_ROLE_WORKER) {
		fputs("# the control plane may still be installing: retry the "
		      "join\n"
		      "for attempt in $(seq 1 90); do\n"
		      "  kubeadm join --config /etc/kubeadm/kubeadm.yaml && "
		      "exit 0\n"
		      "  kubeadm reset -f\n  sleep 10\ndone\nexit 1\n",
		    f);
		return;
	}
	fputs("sed -i \"s/^kubernetesVersion: .*/kubernetesVersion: "
	      "$(kubeadm version -o short)/\" /etc/kubeadm/kubeadm.yaml\n"
	      "kubeadm init --config /etc/kubeadm/kubeadm.yaml\n"
	      "export KUBECONFIG=/etc/kubernetes/admin.conf\n"
	      "kubectl apply -f /etc/hearth/manifests/kube-flannel.yaml\n"
	      "kubectl apply -f /etc/hearth/manifests/hearth.yaml\n"
	      "kubectl -n hearth-system get secret hearth-peer ||\n"
	      "  kubectl -n hearth-system create secret generic hearth-peer "
	      "--from-literal=key=\"$(head -c 32 /dev/urandom | base64)\"\n"
	      "kubectl apply -f /etc/hearth/manifests/gatewayclass.yaml ||\n"
	      "  echo 'GatewayClass hearth not applied: install the Gateway "
	      "API "
	      "CRDs, then kubectl apply -f "
	      "/etc/hearth/manifests/gatewayclass.yaml'\n",
	    f);
}

/* A YAML sequence item in single quotes ('' for a quote). */
static void
squoted(FILE *f, const char *v)
{
	fputs("- '", f);
	for (; *v; v++)
		fputs(*v == '\'' ? "''" : (char[]){*v, '\0'}, f);
	fputs("'\n", f);
}

static void
write_file(FILE *f, const char *path, const char *perm, const char *content)
{
	fprintf(f,
	    "- path: %s\n  permissions: '%s'\n  owner: root:root\n"
	    "  content: |\n",
	    path, perm);
	block(f, 4, content);
}

char *
prov_user_data(const struct prov_settings *s, const struct prov_node *n,
    const struct prov_pki *pki, const struct prov_manifests *m)
{
	char *buf = NULL, *kadm = NULL, *script = NULL;
	size_t len, slen;
	FILE *f, *sf;

	kadm = prov_kubeadm_config(s, n, pki);
	sf = open_memstream(&script, &slen);
	if (kadm == NULL || sf == NULL)
		goto fail;
	bootstrap_script(sf, s, n);
	if (fclose(sf) != 0)
		goto fail;
	if ((f = open_memstream(&buf, &len)) == NULL)
		goto fail;
	fprintf(f,
	    "#cloud-config\n# written by hearth-provision for node %s of "
	    "cluster %s\nhostname: %s\nmanage_etc_hosts: true\n"
	    "package_update: true\npackages:\n- apt-transport-https\n"
	    "- ca-certificates\n- curl\n- gpg\n- containerd\n",
	    n->name, s->cluster_name, n->name);
	if (s->n_ssh_keys > 0) {
		fputs("ssh_authorized_keys:\n", f);
		for (size_t i = 0; i < s->n_ssh_keys; i++)
			squoted(f, s->ssh_keys[i]);
	}
	fputs("write_files:\n", f);
	write_file(f, "/etc/modules-load.d/kubernetes.conf", "0644",
	    "overlay\nbr_netfilter\n");
	write_file(f, "/etc/sysctl.d/90-kubernetes.conf", "0644",
	    "net.bridge.bridge-nf-call-iptables = 1\n"
	    "net.bridge.bridge-nf-call-ip6tables = 1\n"
	    "net.ipv4.ip_forward = 1\n");
	write_file(f, "/etc/kubeadm/kubeadm.yaml", "0600", kadm);
	write_file(f, "/usr/local/sbin/hearth-bootstrap", "0755", script);
	if (n->role == PROV_ROLE_CONTROL_PLANE) {
		write_file(f, "/etc/kubernetes/pki/ca.crt", "0644",
		    pki->ca_crt);
		write_file(f, "/etc/kubernetes/pki/ca.key", "0600",
		    pki->ca_key);
		write_file(f, "/etc/hearth/manifests/kube-flannel.yaml", "0644",
		    m->flannel);
		write_file(f, "/etc/hearth/manifests/hearth.yaml", "0644",
		    m->hearth);
		write_file(f, "/etc/hearth/manifests/gatewayclass.yaml", "0644",
		    m->gatewayclass);
	}
	fputs("runcmd:\n- [bash, /usr/local/sbin/hearth-bootstrap]\n", f);
	free(kadm);
	free(script);
	return finish(f, &buf);
fail:
	free(kadm);
	free(script);
	return NULL;
}

char *
prov_meta_data(const struct prov_settings *s, const struct prov_node *n)
{
	char *v;

	return asprintf(&v, "instance-id: %s-%s\nlocal-hostname: %s\n",
	           s->cluster_name, n->name, n->name) < 0 ?
	    NULL :
	    v;
}

char *
prov_network_config(const struct prov_settings *s, const struct prov_node *n)
{
	char mac[PROV_MAC_STRLEN], a[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], *v;

	prov_node_mac(n, mac);
	return asprintf(&v,
	           "version: 2\nethernets:\n  primary:\n    match:\n"
	           "      macaddress: \"%s\"\n    dhcp4: false\n"
	           "    addresses: [\"%s/%u\"]\n"
	           "    routes:\n    - to: default\n      via: \"%s\"\n"
	           "    nameservers:\n      addresses: [\"%s\"]\n",
	           mac, prov_ip(n->addr, a), s->net_prefix,
	           prov_ip(s->net_addr, gw), gw) < 0 ?
	    NULL :
	    v;
}

char *
prov_kubeconfig(const struct prov_settings *s, const struct prov_pki *pki)
{
	char *ca = b64(pki->ca_crt), *crt = b64(pki->admin_crt);
	char *key = b64(pki->admin_key), *server = prov_api_server(s),
	     *v = NULL;

	if (ca && crt && key && server &&
	    asprintf(&v,
	        "apiVersion: v1\nkind: Config\nclusters:\n"
	        "- name: %s\n  cluster:\n    server: %s\n"
	        "    certificate-authority-data: %s\n"
	        "users:\n- name: kubernetes-admin\n  user:\n"
	        "    client-certificate-data: %s\n    client-key-data: %s\n"
	        "contexts:\n- name: kubernetes-admin@%s\n  context:\n"
	        "    cluster: %s\n    user: kubernetes-admin\n"
	        "current-context: kubernetes-admin@%s\n",
	        s->cluster_name, server, ca, crt, key, s->cluster_name,
	        s->cluster_name, s->cluster_name) < 0)
		v = NULL;
	free(ca);
	free(crt);
	if (key != NULL) {
		memset(key, 0, strlen(key));
		free(key);
	}
	free(server);
	return v;
}
