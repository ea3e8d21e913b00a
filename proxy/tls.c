/*
 * Server-side TLS, the one file that touches certificates and keys: one
 * OpenSSL context per configured certificate (TLS 1.2 and 1.3 only, ALPN
 * http/1.1, session tickets), and the SNI callback that switches a
 * handshake to the certificate whose SANs name the requested server
 * (exact names before wildcards; the first certificate by default).
 * Session-ticket keys are process-wide, so tickets stay valid across
 * reloads; a new key takes over every hour and the one before it is
 * still accepted (its tickets are renewed), then wiped. OCSP responses
 * are stapled by ocsp.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "proxy_int.h"

struct tls_cert {
	SSL_CTX *ctx;
	char **names; /* lower-case SAN DNS names */
	size_t n_names;
	struct proxy_ocsp *ocsp; /* stapled response, or NULL */
};

#define TICKET_ROTATE_SECONDS 3600

struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
	time_t born;
	bool set;
};

static struct {
	pthread_mutex_t mu;
	struct ticket_key cur, prev;
} tickets = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The ticket cipher, fetched from the provider once for the process
 * (EVP_aes_256_cbc() would be looked up again on every ticket). */
static EVP_CIPHER *ticket_cipher;
static pthread_once_t ticket_cipher_once = PTHREAD_ONCE_INIT;

static void
ticket_cipher_fetch(void)
{
	ticket_cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
}

/* Makes a fresh current key when there is none or it is too old. */
static int
ticket_rotate(time_t now)
{
	if (tickets.cur.set && now - tickets.cur.born < TICKET_ROTATE_SECONDS)
		return 0;
	struct ticket_key k = {.born = now, .set = true};
	if (RAND_bytes(k.name, sizeof(k.name)) != 1 ||
	    RAND_bytes(k.aes, sizeof(k.aes)) != 1 ||
	    RAND_bytes(k.hmac, sizeof(k.hmac)) != 1)
		return -1;
	OPENSSL_cleanse(&tickets.prev, sizeof(tickets.prev));
	tickets.prev = tickets.cur;
	tickets.cur = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

static int
ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_key k;
	int rc = 1;
	pthread_mutex_lock(&tickets.mu);
	if (ticket_rotate(time(NULL)) != 0) {
		pthread_mutex_unlock(&tickets.mu);
		return -1;
	}
	if (enc) {
		k = tickets.cur;
		memcpy(name, k.name, sizeof(k.name));
	} else if (CRYPTO_memcmp(name, tickets.cur.name, 16) == 0) {
		k = tickets.cur;
	} else if (tickets.prev.set &&
	    CRYPTO_memcmp(name, tickets.prev.name, 16) == 0) {
		k = tickets.prev;
		rc = 2; /* accept, and issue a new one */
	} else {
		pthread_mutex_unlock(&tickets.mu);
		return 0; /* unknown: full handshake */
	}
	pthread_mutex_unlock(&tickets.mu);
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac,
	        sizeof(k.hmac)),
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	        (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	if (enc && RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1)
		rc = -1;
	else if (ticket_cipher == NULL ||
	    EVP_CipherInit_ex(cctx, ticket_cipher, NULL, k.aes, iv, enc) != 1 ||
	    EVP_MAC_CTX_set_params(hctx, params) != 1)
		rc = -1;
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

struct proxy_tls {
	struct tls_cert *certs;
	size_t n_certs;
};

static int
add_name(struct tls_cert *c, const char *s, size_t len)
{
	char **n = realloc(c->names, (c->n_names + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	c->names = n;
	char *d = strndup(s, len);
	if (d == NULL)
		return -1;
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	c->names[c->n_names++] = d;
	return 0;
}

/* The certificate's DNS SANs, or its CN when it has none. */
static int
cert_names(struct tls_cert *c, X509 *x)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
		int len = ASN1_STRING_length(g->d.dNSName);
		if (len > 0 && add_name(c, (const char *)s, (size_t)len) != 0) {
			GENERAL_NAMES_free(gens);
			return -1;
		}
	}
	GENERAL_NAMES_free(gens);
	if (c->n_names == 0) {
		char cn[256];
		int len = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, sizeof(cn));
		if (len > 0 && add_name(c, cn, (size_t)len) != 0)
			return -1;
	}
	return 0;
}

/* Does a SAN (possibly "*.x.y", one label) cover host? */
static bool
name_covers(const char *san, const char *host, bool wildcard)
{
	if (san[0] == '*' && san[1] == '.') {
		if (!wildcard)
			return false;
		const char *dot = strchr(host, '.');
		return dot != NULL && dot != host && strcmp(dot, san + 1) == 0;
	}
	return !wildcard && strcmp(san, host) == 0;
}

static SSL_CTX *
tls_pick(struct proxy_tls *t, const char *host)
{
	for (int wild = 0; wild < 2; wild++)
		for (size_t i = 0; i < t->n_certs; i++)
			for (size_t j = 0; j < t->certs[i].n_names; j++)
				if (name_covers(t->certs[i].names[j], host,
				        wild))
					return t->certs[i].ctx;
	return t->certs[0].ctx;
}

static int
servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct proxy_tls *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char host[256];
	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	size_t len = strlen(name);
	if (len >= sizeof(host))
		return SSL_TLSEXT_ERR_OK;
	for (size_t i = 0; i <= len; i++)
		host[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] + 32) :
		    name[i];
	if (len > 0 && host[len - 1] == '.')
		host[len - 1] = '\0';
	SSL_CTX *ctx = tls_pick(t, host);
	if (ctx != SSL_get_SSL_CTX(ssl))
		SSL_set_SSL_CTX(ssl, ctx);
	return SSL_TLSEXT_ERR_OK;
}

static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	for (unsigned i = 0; i < inlen;) {
		unsigned n = in[i];
		if (i + 1 + n > inlen)
			break;
		if (n == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = 8;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static void
log_ssl_error(const char *what, const char *file)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	log_warnx("proxy: %s %s: %s", what, file, buf);
	ERR_clear_error();
}

static SSL_CTX *
ctx_new(const struct hearth_proxy_cert *pc, struct proxy_tls *t)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	        SSL_OP_NO_COMPRESSION);
	/* Buffers given back as soon as they are empty, for handshakes (io.c
	 * turns this off for a connection that serves requests). The chain
	 * sent is the certificate file's, as given (as nginx does): without
	 * NO_AUTO_CHAIN, OpenSSL would try to build one from its (empty)
	 * store on every handshake when the file holds the leaf alone. */
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"hearth", 6);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, t);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	if (SSL_CTX_use_certificate_chain_file(ctx, pc->cert) != 1) {
		log_ssl_error("cannot load certificate", pc->cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, pc->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl_error("cannot use key", pc->key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct proxy_tls *
proxy_tls_new(const struct hearth_proxy *p)
{
	if (p->n_certificates == 0)
		return NULL;
	pthread_once(&ticket_cipher_once, ticket_cipher_fetch);
	if (ticket_cipher == NULL) {
		log_ssl_error("cannot fetch", "AES-256-CBC");
		return NULL;
	}
	struct proxy_tls *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->certs = calloc(p->n_certificates, sizeof(*t->certs));
	if (t->certs == NULL)
		goto fail;
	for (size_t i = 0; i < p->n_certificates; i++) {
		struct tls_cert *c = &t->certs[t->n_certs];
		c->ctx = ctx_new(&p->certificates[i], t);
		if (c->ctx == NULL)
			goto fail;
		t->n_certs++;
		if (cert_names(c, SSL_CTX_get0_certificate(c->ctx)) != 0)
			goto fail;
		if (p->certificates[i].ocsp != NULL &&
		    proxy_ocsp_attach(c->ctx, p->certificates[i].ocsp,
		        &c->ocsp) != 0)
			goto fail;
	}
	return t;
fail:
	proxy_tls_free(t);
	return NULL;
}

void
proxy_tls_free(struct proxy_tls *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_certs; i++) {
		SSL_CTX_free(t->certs[i].ctx);
		proxy_ocsp_free(t->certs[i].ocsp);
		for (size_t j = 0; j < t->certs[i].n_names; j++)
			free(t->certs[i].names[j]);
		free(t->certs[i].names);
	}
	free(t->certs);
	free(t);
}

SSL_CTX *
proxy_tls_default(struct proxy_tls *t)
{
	return t->certs[0].ctx;
}
