/*
 * hearth-provision's pure parts: the settings (YAML -> validated struct),
 * the libvirt XML it defines and the facts it reads back from libvirt's
 * XML, the plan (observed objects -> ordered steps), the PKI (CA, admin
 * certificate, bootstrap token, SPKI pin), and the cloud-init and kubeadm
 * documents. Nothing here talks to libvirt or writes files: the commands
 * (cmd_*.c) and the glue (virt.c, state.c, iso.c, ready.c) do that.
 */
#ifndef HEARTH_PROVISION_H
#define HEARTH_PROVISION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "model.h"

#define PROV_MAC_STRLEN   18
#define PROV_PIN_STRLEN   72 /* "sha256:" + 64 hex + NUL */
#define PROV_TOKEN_STRLEN 24 /* 6 + "." + 16 + NUL */
#define PROV_UUID_STRLEN  37

enum prov_role {
	PROV_ROLE_WORKER,
	PROV_ROLE_CONTROL_PLANE,
};

struct prov_node {
	char *name;
	enum prov_role role;
	struct in_addr addr;
	unsigned vcpus;
	unsigned memory_mib;
	unsigned disk_gib;
};

struct prov_settings {
	char *cluster_name;
	char *kubernetes_version; /* "1.31" */
	char *pod_subnet;         /* as written, validated */
	char *service_subnet;
	char *net_name;
	char *bridge;
	struct in_addr net_addr; /* the bridge's (host's) address */
	unsigned net_prefix;
	struct in_addr dhcp_first, dhcp_last;
	char *image_base;
	struct hearth_pos image_base_pos; /* line 0: the default */
	char *pool;
	char **ssh_keys;
	size_t n_ssh_keys;
	struct prov_node *nodes;
	size_t n_nodes;
};

/* settings.c */
/* The seed topology (SPEC): what an absent settings file means. */
struct prov_settings *prov_settings_default(void);
/* Parses and validates; NULL with every error in errs (zeroed by caller). */
struct prov_settings *prov_settings_parse(const char *name, const char *buf,
    size_t len, struct hearth_config_errors *errs);
/* The same from a file; a file that cannot be read is one error, line 0. */
struct prov_settings *prov_settings_load(const char *path,
    struct hearth_config_errors *errs);
void prov_settings_free(struct prov_settings *s);
/* The one control-plane node (validation guarantees it). */
const struct prov_node *prov_control_plane(const struct prov_settings *s);
/* The deterministic MAC of a node: 52:54:00 and the address's last 3 bytes. */
void prov_node_mac(const struct prov_node *n, char out[PROV_MAC_STRLEN]);
/* "a.b.c.d" of addr in buf (INET_ADDRSTRLEN). */
const char *prov_ip(struct in_addr addr, char *buf);
/* The network-order mask of an IPv4 prefix length (0 to 32). */
uint32_t prov_netmask(unsigned prefix);
/* The base image's format ("qcow2" or "raw") from its first bytes. */
const char *prov_image_format(const unsigned char *head, size_t len);

/* xml.c: the XML hearth-provision defines (malloc'd strings). */
char *prov_network_xml(const struct prov_settings *s, const char *uuid,
    const char *bridge_mac);
char *prov_pool_xml(const struct prov_settings *s, const char *path);
/* The node's volume name, "NODE.qcow2". */
char *prov_volume_name(const struct prov_node *n);
char *prov_volume_xml(const struct prov_node *n, const char *base,
    const char *base_format);
char *prov_domain_xml(const struct prov_settings *s, const struct prov_node *n,
    const char *domain_type, const char *uuid, const char *disk_path,
    const char *seed_path);

/* facts.c: what hearth-provision compares, read back from libvirt's XML. */
struct prov_dhcp_host {
	char mac[PROV_MAC_STRLEN];
	char name[64];
	struct in_addr addr;
};

struct prov_net_facts {
	char uuid[PROV_UUID_STRLEN];
	char forward[16]; /* "" when no <forward> (isolated) */
	char bridge[32];
	char bridge_mac[PROV_MAC_STRLEN];
	struct in_addr addr;
	unsigned prefix;
	struct in_addr dhcp_first, dhcp_last;
	struct prov_dhcp_host hosts[64];
	size_t n_hosts;
};

struct prov_dom_facts {
	char uuid[PROV_UUID_STRLEN];
	unsigned vcpus;
	unsigned long long memory_kib;
	char mac[PROV_MAC_STRLEN];
	char network[64];
	char disk[512];
	char cdrom[512];
};

struct prov_vol_facts {
	unsigned long long capacity;
	char path[512];
	char backing[512];
};

int prov_net_facts_parse(const char *xml, struct prov_net_facts *f);
int prov_dom_facts_parse(const char *xml, struct prov_dom_facts *f);
int prov_vol_facts_parse(const char *xml, struct prov_vol_facts *f);
/* The <name> and <uuid> of any libvirt object's XML. */
int prov_xml_identity(const char *xml, char *name, size_t nlen,
    char uuid[PROV_UUID_STRLEN]);
/* The <target><path> of a pool. */
int prov_pool_path_parse(const char *xml, char *path, size_t len);

/* plan.c: what exists (filled from libvirt and the state dir) -> steps. */
enum prov_dom_state {
	PROV_DOM_ABSENT,
	PROV_DOM_SHUTOFF,
	PROV_DOM_RUNNING, /* running, paused, blocked: "started" */
};

struct prov_obs_node {
	bool vol_exists;
	struct prov_vol_facts vol;
	bool seed_current; /* files and seed.iso in the state dir match */
	enum prov_dom_state dom;
	struct prov_dom_facts dom_facts;
};

struct prov_observed {
	bool pki_exists;
	bool token_expired; /* pki/token is older than its 24 h TTL allows */
	bool kubeconfig_current;
	bool net_exists, net_active;
	bool net_adopted; /* network.orig.xml in the state dir */
	struct prov_net_facts net;
	bool pool_exists, pool_active;
	char pool_path[512];
	struct prov_obs_node *nodes; /* one per settings node */
	const char *state_dir;
	char **stale; /* nodes an earlier up made, not in settings */
	size_t n_stale;
};

enum prov_step_kind {
	PROV_STEP_PKI,
	PROV_STEP_NET_DEFINE, /* no such network: define ours */
	PROV_STEP_NET_ADOPT,  /* exists, differs: keep orig, redefine */
	PROV_STEP_NET_HOSTS,  /* only DHCP hosts differ: update live */
	PROV_STEP_NET_START,
	PROV_STEP_POOL_DEFINE,
	PROV_STEP_POOL_START,
	PROV_STEP_VOL_CREATE,
	PROV_STEP_VOL_RESIZE,
	PROV_STEP_TOKEN, /* a new bootstrap token, made in the cluster */
	PROV_STEP_SEED,
	PROV_STEP_DOM_DEFINE,
	PROV_STEP_DOM_REDEFINE,
	PROV_STEP_DOM_START,
	PROV_STEP_KUBECONFIG,
};

struct prov_step {
	enum prov_step_kind kind;
	int node;   /* index into settings nodes, -1 for none */
	char *text; /* what it does, for plan and progress */
};

struct prov_plan {
	struct prov_step *v;
	size_t n;
	char **warnings; /* things up will not change */
	size_t n_warnings;
};

/* Computes the steps that make observed match s. 0 or -ENOMEM. */
int prov_plan_compute(const struct prov_settings *s,
    const struct prov_observed *o, struct prov_plan *out);
void prov_plan_clear(struct prov_plan *p);
/* Which DHCP host entries of the network's facts differ from s. */
bool prov_net_hosts_match(const struct prov_settings *s,
    const struct prov_net_facts *f);
/* Whether forward mode, bridge and address are as s wants. */
bool prov_net_base_match(const struct prov_settings *s,
    const struct prov_net_facts *f);

/* pki.c: the cluster CA, the admin client certificate, token and pin. */
struct prov_pki {
	char *ca_crt; /* PEM */
	char *ca_key;
	char *admin_crt;
	char *admin_key;
	char token[PROV_TOKEN_STRLEN];
	char pin[PROV_PIN_STRLEN];
};

/* A new CA (CN kubernetes), admin cert (CN kubernetes-admin, O system:masters),
 * token. */
struct prov_pki *prov_pki_new(void);
/* From PEM texts and a token (e.g. read back from pki/); computes the pin. */
struct prov_pki *prov_pki_from(const char *ca_crt, const char *ca_key,
    const char *admin_crt, const char *admin_key, const char *token);
void prov_pki_free(struct prov_pki *p);
/* "sha256:<hex>" of the certificate's DER SubjectPublicKeyInfo. */
int prov_pki_pin(const char *cert_pem, char out[PROV_PIN_STRLEN]);
/* A bootstrap token [a-z0-9]{6}.[a-z0-9]{16}. */
int prov_token_new(char out[PROV_TOKEN_STRLEN]);
bool prov_token_valid(const char *t);

/* docs.c: cloud-init and kubeadm documents, the kubeconfig. */
struct prov_manifests {
	const char *flannel;
	const char *hearth; /* namespace, RBAC, ConfigMap, DaemonSet */
	const char *gatewayclass;
};

/* The manifests built into the program (deploy/). */
extern const struct prov_manifests prov_builtin_manifests;

char *prov_kubeadm_config(const struct prov_settings *s,
    const struct prov_node *n, const struct prov_pki *pki);
char *prov_user_data(const struct prov_settings *s, const struct prov_node *n,
    const struct prov_pki *pki, const struct prov_manifests *m);
char *prov_meta_data(const struct prov_settings *s, const struct prov_node *n);
char *prov_network_config(const struct prov_settings *s,
    const struct prov_node *n);
char *prov_kubeconfig(const struct prov_settings *s,
    const struct prov_pki *pki);
/* https://CP:6443 */
char *prov_api_server(const struct prov_settings *s);

/* nodes.c: how many of s's nodes a NodeList JSON reports Ready. */
int prov_nodes_ready(const struct prov_settings *s, const char *json,
    size_t *ready);
/* The kube-system Secret that makes token a bootstrap token until expires. */
char *prov_token_secret_json(const char *token, time_t expires);

#endif
