/*
 * The cluster's PKI, made in process with OpenSSL 3: a CA (CN kubernetes,
 * as kubeadm makes its own) that kubeadm finds in /etc/kubernetes/pki and
 * uses instead of generating one, an admin client certificate (CN
 * kubernetes-admin, O system:masters) signed by it for the kubeconfig and
 * the readiness checks, a bootstrap token and the CA's SPKI sha256 pin
 * that workers check with caCertHashes. Keys are wiped when freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "provision.h"

static char *
bio_text(BIO *b)
{
	char *data, *out;
	long len = BIO_get_mem_data(b, &data);

	if (len < 0 || (out = malloc((size_t)len + 1)) == NULL)
		return NULL;
	memcpy(out, data, (size_t)len);
	out[len] = '\0';
	return out;
}

static char *
cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL && PEM_write_bio_X509(b, x))
		s = bio_text(b);
	BIO_free(b);
	return s;
}

static char *
key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b != NULL &&
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		s = bio_text(b);
	BIO_free_all(b);
	return s;
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -EINVAL;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -ENOMEM;
}

/* A certificate for key, signed by issuer_key (self-signed: issuer NULL). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer,
    EVP_PKEY *issuer_key, long days, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (x == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -300);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	if (org != NULL)
		X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
		    (const unsigned char *)org, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	if (ca) {
		if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
		    add_ext(x, x, NID_key_usage,
		        "critical,digitalSignature,keyEncipherment,"
		        "keyCertSign") ||
		    add_ext(x, x, NID_subject_key_identifier, "hash"))
			goto out;
	} else if (add_ext(x, issuer, NID_basic_constraints,
	               "critical,CA:FALSE") ||
	    add_ext(x, issuer, NID_key_usage,
	        "critical,digitalSignature,keyEncipherment") ||
	    add_ext(x, issuer, NID_ext_key_usage, "clientAuth") ||
	    add_ext(x, issuer, NID_authority_key_identifier, "keyid:always"))
		goto out;
	ok = X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
prov_token_new(char out[PROV_TOKEN_STRLEN])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i = 0;

	while (i < 22) {
		unsigned char b;

		if (RAND_bytes(&b, 1) != 1)
			return -EIO;
		if (b >= 252) /* 252 = 7 * 36: no modulo bias */
			continue;
		out[i < 6 ? i : i + 1] = alphabet[b % 36];
		i++;
	}
	out[6] = '.';
	out[23] = '\0';
	return 0;
}

bool
prov_token_valid(const char *t)
{
	if (strlen(t) != 23 || t[6] != '.')
		return false;
	for (int i = 0; i < 23; i++)
		if (i != 6 &&
		    !((t[i] >= 'a' && t[i] <= 'z') ||
		        (t[i] >= '0' && t[i] <= '9')))
			return false;
	return true;
}

int
prov_pki_pin(const char *cert, char out[PROV_PIN_STRLEN])
{
	BIO *b = BIO_new_mem_buf(cert, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[32];
	int len, r = -EINVAL;

	BIO_free(b);
	if (x == NULL)
		return -EINVAL;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len > 0 &&
	    EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL)) {
		memcpy(out, "sha256:", 7);
		for (int i = 0; i < 32; i++)
			snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
		r = 0;
	}
	OPENSSL_free(der);
	X509_free(x);
	return r;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void
prov_pki_free(struct prov_pki *p)
{
	if (p == NULL)
		return;
	free(p->ca_crt);
	wipe_free(p->ca_key);
	free(p->admin_crt);
	wipe_free(p->admin_key);
	OPENSSL_cleanse(p->token, sizeof(p->token));
	free(p);
}

struct prov_pki *
prov_pki_new(void)
{
	struct prov_pki *p = calloc(1, sizeof(*p));
	EVP_PKEY *cak = NULL, *adk = NULL;
	X509 *ca = NULL, *ad = NULL;

	if (p == NULL)
		return NULL;
	cak = EVP_RSA_gen(2048);
	adk = EVP_RSA_gen(2048);
	if (cak == NULL || adk == NULL)
		goto fail;
	ca = make_cert(cak, "kubernetes", NULL, NULL, NULL, 3650, true);
	ad = ca ? make_cert(adk, "kubernetes-admin", "system:masters", ca, cak,
	              365, false) :
	          NULL;
	if (ad == NULL)
		goto fail;
	p->ca_crt = cert_pem(ca);
	p->ca_key = key_pem(cak);
	p->admin_crt = cert_pem(ad);
	p->admin_key = key_pem(adk);
	if (!p->ca_crt || !p->ca_key || !p->admin_crt || !p->admin_key ||
	    prov_token_new(p->token) != 0 ||
	    prov_pki_pin(p->ca_crt, p->pin) != 0)
		goto fail;
	X509_free(ca);
	X509_free(ad);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(adk);
	return p;
fail:
	X509_free(ca);
	X509_free(ad);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(adk);
	prov_pki_free(p);
	return NULL;
}

struct prov_pki *
prov_pki_from(const char *ca_crt, const char *ca_key, const char *admin_crt,
    const char *admin_key, const char *token)
{
	struct prov_pki *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->ca_crt = strdup(ca_crt);
	p->ca_key = strdup(ca_key);
	p->admin_crt = strdup(admin_crt);
	p->admin_key = strdup(admin_key);
	if (!p->ca_crt || !p->ca_key || !p->admin_crt || !p->admin_key ||
	    !prov_token_valid(token) || prov_pki_pin(ca_crt, p->pin) != 0) {
		prov_pki_free(p);
		return NULL;
	}
	snprintf(p->token, sizeof(p->token), "%s", token);
	return p;
}
