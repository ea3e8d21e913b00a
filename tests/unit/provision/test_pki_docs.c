/*
 * The PKI (the admin certificate verifies against the CA, the pin is what
 * openssl computes from the CA, the token has kubeadm's form) and the
 * documents each node boots with, parsed as YAML and checked key by key.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <yaml.h>

#include "provision.h"

static struct prov_pki *pki; /* RSA keys are slow: made once */

static int
setup(void **state)
{
	pki = prov_pki_new();
	return pki == NULL;
}

static int
teardown(void **state)
{
	prov_pki_free(pki);
	return 0;
}

static X509 *
cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(x);
	return x;
}

static void
test_admin_cert_verifies_against_the_ca(void **state)
{
	X509 *ca = cert(pki->ca_crt), *ad = cert(pki->admin_crt);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char buf[256];

	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(ctx, store, ad, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_NAME_get_text_by_NID(X509_get_subject_name(ad), NID_commonName,
	    buf, sizeof(buf));
	assert_string_equal(buf, "kubernetes-admin");
	X509_NAME_get_text_by_NID(X509_get_subject_name(ad),
	    NID_organizationName, buf, sizeof(buf));
	assert_string_equal(buf, "system:masters");
	X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName,
	    buf, sizeof(buf));
	assert_string_equal(buf, "kubernetes");
	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(X509_check_ca(ad), 0);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(ad);
}

static void
test_a_foreign_ca_does_not_verify_the_admin_cert(void **state)
{
	struct prov_pki *other = prov_pki_new();
	X509 *ca = cert(other->ca_crt), *ad = cert(pki->admin_crt);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(ctx, store, ad, NULL);
	assert_int_not_equal(X509_verify_cert(ctx), 1);
	assert_string_not_equal(other->pin, pki->pin);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(ca);
	X509_free(ad);
	prov_pki_free(other);
}

static void
test_pin_is_what_openssl_computes(void **state)
{
	char path[] = "/tmp/prov-ca-XXXXXX", cmd[512], out[128] = "";
	int fd = mkstemp(path);
	FILE *p;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, pki->ca_crt, strlen(pki->ca_crt)),
	    (ssize_t)strlen(pki->ca_crt));
	close(fd);
	snprintf(cmd, sizeof(cmd),
	    "openssl x509 -in %s -pubkey -noout | "
	    "openssl pkey -pubin -outform der | sha256sum",
	    path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	unlink(path);
	out[64] = '\0';
	assert_int_equal(strncmp(pki->pin, "sha256:", 7), 0);
	assert_string_equal(pki->pin + 7, out);
}

static void
test_token_has_kubeadms_form(void **state)
{
	regex_t re;
	char t[PROV_TOKEN_STRLEN];

	assert_int_equal(regcomp(&re, "^[a-z0-9]{6}\\.[a-z0-9]{16}$",
	                     REG_EXTENDED | REG_NOSUB),
	    0);
	assert_int_equal(regexec(&re, pki->token, 0, NULL, 0), 0);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(prov_token_new(t), 0);
		assert_int_equal(regexec(&re, t, 0, NULL, 0), 0);
		assert_true(prov_token_valid(t));
	}
	regfree(&re);
	assert_false(prov_token_valid("ABCDEF.0123456789abcdef"));
	assert_false(prov_token_valid("abcdef0123456789abcdef"));
}

static void
test_pki_read_back_keeps_the_pin(void **state)
{
	struct prov_pki *p = prov_pki_from(pki->ca_crt, pki->ca_key,
	    pki->admin_crt, pki->admin_key, pki->token);

	assert_non_null(p);
	assert_string_equal(p->pin, pki->pin);
	assert_string_equal(p->token, pki->token);
	prov_pki_free(p);
	assert_null(prov_pki_from(pki->ca_crt, pki->ca_key, pki->admin_crt,
	    pki->admin_key, "not-a-token"));
}

/* YAML helpers over libyaml's document model. */
struct ydocs {
	yaml_document_t d[4];
	int n;
};

static void
yload(const char *text, struct ydocs *y)
{
	yaml_parser_t p;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text,
	    strlen(text));
	for (y->n = 0; y->n < 4; y->n++) {
		assert_true(yaml_parser_load(&p, &y->d[y->n]));
		if (yaml_document_get_root_node(&y->d[y->n]) == NULL) {
			yaml_document_delete(&y->d[y->n]);
			break;
		}
	}
	yaml_parser_delete(&p);
}

static void
yfree(struct ydocs *y)
{
	for (int i = 0; i < y->n; i++)
		yaml_document_delete(&y->d[i]);
}

/* The node at a dotted path ("a.b.0.c"); NULL when absent. */
static yaml_node_t *
yget(yaml_document_t *d, const char *path)
{
	yaml_node_t *n = yaml_document_get_root_node(d);
	char buf[256], *save, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); n && part;
	     part = strtok_r(NULL, ".", &save)) {
		yaml_node_t *next = NULL;

		if (n->type == YAML_SEQUENCE_NODE) {
			long i = strtol(part, NULL, 10);

			if (i < n->data.sequence.items.top -
			        n->data.sequence.items.start)
				next = yaml_document_get_node(d,
				    n->data.sequence.items.start[i]);
		} else if (n->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *k =
				    yaml_document_get_node(d, p->key);

				if (strcmp((char *)k->data.scalar.value,
				        part) == 0)
					next =
					    yaml_document_get_node(d, p->value);
			}
		n = next;
	}
	return n;
}

static const char *
ystr(yaml_document_t *d, const char *path)
{
	yaml_node_t *n = yget(d, path);

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		fail_msg("no scalar at %s", path);
	return (const char *)n->data.scalar.value;
}

static void
test_kubeadm_init_documents(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *k = prov_kubeadm_config(s, &s->nodes[0], pki);
	struct ydocs y;

	yload(k, &y);
	assert_int_equal(y.n, 3);
	assert_string_equal(ystr(&y.d[0], "apiVersion"),
	    "kubeadm.k8s.io/v1beta4");
	assert_string_equal(ystr(&y.d[0], "kind"), "InitConfiguration");
	assert_string_equal(ystr(&y.d[0], "bootstrapTokens.0.token"),
	    pki->token);
	assert_string_equal(ystr(&y.d[0], "bootstrapTokens.0.ttl"), "24h0m0s");
	assert_string_equal(ystr(&y.d[0], "localAPIEndpoint.advertiseAddress"),
	    "192.168.122.10");
	assert_string_equal(ystr(&y.d[0], "nodeRegistration.name"),
	    "k8s-control-plane");
	assert_string_equal(ystr(&y.d[1], "kind"), "ClusterConfiguration");
	assert_string_equal(ystr(&y.d[1], "controlPlaneEndpoint"),
	    "192.168.122.10:6443");
	assert_string_equal(ystr(&y.d[1], "networking.podSubnet"),
	    "10.244.0.0/16");
	assert_string_equal(ystr(&y.d[1], "networking.serviceSubnet"),
	    "10.96.0.0/12");
	assert_string_equal(ystr(&y.d[1], "kubernetesVersion"), "v1.31.0");
	assert_string_equal(ystr(&y.d[2], "apiVersion"),
	    "kubelet.config.k8s.io/v1beta1");
	assert_string_equal(ystr(&y.d[2], "kind"), "KubeletConfiguration");
	assert_string_equal(ystr(&y.d[2], "cgroupDriver"), "systemd");
	yfree(&y);
	free(k);
	prov_settings_free(s);
}

static void
test_kubeadm_join_pins_the_ca(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *k = prov_kubeadm_config(s, &s->nodes[2], pki);
	struct ydocs y;

	yload(k, &y);
	assert_int_equal(y.n, 1);
	assert_string_equal(ystr(&y.d[0], "kind"), "JoinConfiguration");
	assert_string_equal(ystr(&y.d[0], "discovery.bootstrapToken.token"),
	    pki->token);
	assert_string_equal(ystr(&y.d[0],
	                        "discovery.bootstrapToken.apiServerEndpoint"),
	    "192.168.122.10:6443");
	assert_string_equal(ystr(&y.d[0],
	                        "discovery.bootstrapToken.caCertHashes.0"),
	    pki->pin);
	assert_null(
	    yget(&y.d[0], "discovery.bootstrapToken.unsafeSkipCAVerification"));
	assert_null(strstr(k, "unsafeSkipCAVerification"));
	assert_string_equal(ystr(&y.d[0], "nodeRegistration.name"),
	    "k8s-worker2");
	yfree(&y);
	free(k);
	prov_settings_free(s);
}

/* The write_files entry with path, or NULL. */
static yaml_node_t *
write_file(yaml_document_t *d, const char *path, int *index)
{
	char key[64];

	for (int i = 0; i < 32; i++) {
		snprintf(key, sizeof(key), "write_files.%d.path", i);
		if (yget(d, key) == NULL)
			return NULL;
		if (strcmp(ystr(d, key), path) == 0) {
			*index = i;
			snprintf(key, sizeof(key), "write_files.%d.content", i);
			return yget(d, key);
		}
	}
	return NULL;
}

static void
test_control_plane_user_data(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_manifests m = {"kind: Flannel\n", "kind: Hearth\n",
	    "kind: GatewayClass\n"};
	char *u = prov_user_data(s, &s->nodes[0], pki, &m);
	char *k = prov_kubeadm_config(s, &s->nodes[0], pki);
	struct ydocs y;
	yaml_node_t *n;
	int i;

	assert_int_equal(strncmp(u, "#cloud-config\n", 14), 0);
	yload(u, &y);
	assert_string_equal(ystr(&y.d[0], "hostname"), "k8s-control-plane");
	assert_non_null(yget(&y.d[0], "packages"));
	n = write_file(&y.d[0], "/etc/kubernetes/pki/ca.crt", &i);
	assert_non_null(n);
	assert_string_equal((char *)n->data.scalar.value, pki->ca_crt);
	n = write_file(&y.d[0], "/etc/kubernetes/pki/ca.key", &i);
	assert_non_null(n);
	assert_string_equal((char *)n->data.scalar.value, pki->ca_key);
	n = write_file(&y.d[0], "/etc/kubeadm/kubeadm.yaml", &i);
	assert_string_equal((char *)n->data.scalar.value, k);
	n = write_file(&y.d[0], "/etc/modules-load.d/kubernetes.conf", &i);
	assert_string_equal((char *)n->data.scalar.value,
	    "overlay\nbr_netfilter\n");
	n = write_file(&y.d[0], "/etc/sysctl.d/90-kubernetes.conf", &i);
	assert_non_null(strstr((char *)n->data.scalar.value,
	    "net.bridge.bridge-nf-call-iptables = 1"));
	assert_non_null(
	    strstr((char *)n->data.scalar.value, "net.ipv4.ip_forward = 1"));
	n = write_file(&y.d[0], "/etc/hearth/manifests/kube-flannel.yaml", &i);
	assert_string_equal((char *)n->data.scalar.value, "kind: Flannel\n");
	n = write_file(&y.d[0], "/usr/local/sbin/hearth-bootstrap", &i);
	assert_non_null(n);
	for (const char *want =
	         "SystemdCgroup = true\0"
	         "https://pkgs.k8s.io/core:/stable:/v1.31/deb/\0"
	         "apt-get install -y kubelet kubeadm kubectl\0"
	         "kubeadm init --config /etc/kubeadm/kubeadm.yaml\0"
	         "kubectl apply -f /etc/hearth/manifests/kube-flannel.yaml\0"
	         "kubectl apply -f /etc/hearth/manifests/hearth.yaml\0";
	     *want; want += strlen(want) + 1)
		if (strstr((char *)n->data.scalar.value, want) == NULL)
			fail_msg("bootstrap lacks \"%s\"", want);
	assert_string_equal(ystr(&y.d[0], "runcmd.0.1"),
	    "/usr/local/sbin/hearth-bootstrap");
	yfree(&y);
	free(u);
	free(k);
	prov_settings_free(s);
}

static void
test_worker_user_data_joins_and_holds_no_ca(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_manifests m = {"a\n", "b\n", "c\n"};
	char *u = prov_user_data(s, &s->nodes[1], pki, &m);
	struct ydocs y;
	yaml_node_t *n;
	int i;

	yload(u, &y);
	assert_string_equal(ystr(&y.d[0], "hostname"), "k8s-worker1");
	assert_null(write_file(&y.d[0], "/etc/kubernetes/pki/ca.key", &i));
	assert_null(write_file(&y.d[0], "/etc/kubernetes/pki/ca.crt", &i));
	assert_null(strstr(u, "PRIVATE KEY"));
	n = write_file(&y.d[0], "/usr/local/sbin/hearth-bootstrap", &i);
	assert_non_null(strstr((char *)n->data.scalar.value,
	    "kubeadm join --config /etc/kubeadm/kubeadm.yaml"));
	assert_null(strstr((char *)n->data.scalar.value, "kubeadm init"));
	yfree(&y);
	free(u);
	prov_settings_free(s);
}

static void
test_ssh_keys_survive_quotes(void **state)
{
	struct prov_settings *s = prov_settings_default();
	struct prov_manifests m = {"a\n", "b\n", "c\n"};
	char *keys[] = {"ssh-ed25519 AAAAC3Nz it's \"me\" #1: x"};
	char *u;
	struct ydocs y;

	s->ssh_keys = keys;
	s->n_ssh_keys = 1;
	u = prov_user_data(s, &s->nodes[1], pki, &m);
	yload(u, &y);
	assert_string_equal(ystr(&y.d[0], "ssh_authorized_keys.0"), keys[0]);
	yfree(&y);
	free(u);
	s->ssh_keys = NULL;
	s->n_ssh_keys = 0;
	prov_settings_free(s);
}

static void
test_meta_data_and_network_config(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *md = prov_meta_data(s, &s->nodes[1]);
	char *nc = prov_network_config(s, &s->nodes[1]);
	struct ydocs y;

	yload(md, &y);
	assert_string_equal(ystr(&y.d[0], "instance-id"),
	    "k8s-myhome-k8s-worker1");
	assert_string_equal(ystr(&y.d[0], "local-hostname"), "k8s-worker1");
	yfree(&y);
	yload(nc, &y);
	assert_string_equal(ystr(&y.d[0], "version"), "2");
	assert_string_equal(ystr(&y.d[0], "ethernets.primary.match.macaddress"),
	    "52:54:00:a8:7a:0b");
	assert_string_equal(ystr(&y.d[0], "ethernets.primary.addresses.0"),
	    "192.168.122.11/24");
	assert_string_equal(ystr(&y.d[0], "ethernets.primary.routes.0.via"),
	    "192.168.122.1");
	assert_string_equal(ystr(&y.d[0],
	                        "ethernets.primary.nameservers.addresses.0"),
	    "192.168.122.1");
	yfree(&y);
	free(md);
	free(nc);
	prov_settings_free(s);
}

static char *
unb64(const char *s)
{
	size_t len = strlen(s);
	unsigned char *out = calloc(1, len + 1);
	int n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);

	assert_true(n >= 0);
	while (n > 0 && out[n - 1] == '\0')
		n--;
	out[n] = '\0';
	return (char *)out;
}

static void
test_kubeconfig_embeds_ca_and_admin_cert(void **state)
{
	struct prov_settings *s = prov_settings_default();
	char *kc = prov_kubeconfig(s, pki), *ca, *crt, *key;
	struct ydocs y;

	yload(kc, &y);
	assert_string_equal(ystr(&y.d[0], "clusters.0.cluster.server"),
	    "https://192.168.122.10:6443");
	ca = unb64(
	    ystr(&y.d[0], "clusters.0.cluster.certificate-authority-data"));
	crt = unb64(ystr(&y.d[0], "users.0.user.client-certificate-data"));
	key = unb64(ystr(&y.d[0], "users.0.user.client-key-data"));
	assert_string_equal(ca, pki->ca_crt);
	assert_string_equal(crt, pki->admin_crt);
	assert_string_equal(key, pki->admin_key);
	assert_string_equal(ystr(&y.d[0], "current-context"),
	    ystr(&y.d[0], "contexts.0.name"));
	yfree(&y);
	free(ca);
	free(crt);
	free(key);
	free(kc);
	prov_settings_free(s);
}

static void
test_nodes_ready_counts_only_ready_nodes_of_ours(void **state)
{
	struct prov_settings *s = prov_settings_default();
	size_t n;

	assert_int_equal(prov_nodes_ready(s,
	                     "{\"kind\":\"NodeList\",\"items\":["
	                     "{\"metadata\":{\"name\":\"k8s-control-plane\"},"
	                     "\"status\":{\"conditions\":"
	                     "[{\"type\":\"MemoryPressure\",\"status\":"
	                     "\"False\"},"
	                     "{\"type\":\"Ready\",\"status\":\"True\"}]}},"
	                     "{\"metadata\":{\"name\":\"k8s-worker1\"},"
	                     "\"status\":{\"conditions\":"
	                     "[{\"type\":\"Ready\",\"status\":\"False\"}]}},"
	                     "{\"metadata\":{\"name\":\"elsewhere\"},"
	                     "\"status\":{\"conditions\":"
	                     "[{\"type\":\"Ready\",\"status\":\"True\"}]}}]}",
	                     &n),
	    0);
	assert_int_equal(n, 1);
	assert_int_not_equal(prov_nodes_ready(s, "{\"items\": 3}", &n), 0);
	assert_int_not_equal(prov_nodes_ready(s, "<html>", &n), 0);
	prov_settings_free(s);
}

static void
test_token_secret_is_a_bootstrap_token(void **state)
{
	char *j = prov_token_secret_json("abcdef.0123456789abcdef", 86400);

	assert_non_null(j);
	assert_non_null(strstr(j, "\"name\":\"bootstrap-token-abcdef\""));
	assert_non_null(strstr(j, "\"namespace\":\"kube-system\""));
	assert_non_null(
	    strstr(j, "\"type\":\"bootstrap.kubernetes.io/token\""));
	assert_non_null(strstr(j, "\"token-id\":\"abcdef\""));
	assert_non_null(strstr(j, "\"token-secret\":\"0123456789abcdef\""));
	assert_non_null(strstr(j, "\"expiration\":\"1970-01-02T00:00:00Z\""));
	free(j);
	assert_null(prov_token_secret_json("nope", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_admin_cert_verifies_against_the_ca),
	    cmocka_unit_test(test_a_foreign_ca_does_not_verify_the_admin_cert),
	    cmocka_unit_test(test_pin_is_what_openssl_computes),
	    cmocka_unit_test(test_token_has_kubeadms_form),
	    cmocka_unit_test(test_pki_read_back_keeps_the_pin),
	    cmocka_unit_test(test_kubeadm_init_documents),
	    cmocka_unit_test(test_kubeadm_join_pins_the_ca),
	    cmocka_unit_test(test_control_plane_user_data),
	    cmocka_unit_test(test_worker_user_data_joins_and_holds_no_ca),
	    cmocka_unit_test(test_ssh_keys_survive_quotes),
	    cmocka_unit_test(test_meta_data_and_network_config),
	    cmocka_unit_test(test_kubeconfig_embeds_ca_and_admin_cert),
	    cmocka_unit_test(test_nodes_ready_counts_only_ready_nodes_of_ours),
	    cmocka_unit_test(test_token_secret_is_a_bootstrap_token),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
