/*
 * OCSP stapling from a file (like nginx's ssl_stapling_file): the DER
 * response named by a certificate's `ocsp` key is read when the
 * configuration is built (start and SIGHUP), checked against the
 * certificate (the single response for its serial and issuer; with the
 * issuer in the chain file, the full certificate id and the responder's
 * signature too) and its validity period, and handed to clients that
 * ask for it (status_request) by the context's status callback. A file
 * that is not a successful OCSP response refuses the configuration; a
 * response for another certificate, or out of date, is logged and not
 * stapled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "proxy_int.h"

struct proxy_ocsp {
	unsigned char *der;
	int len;
	time_t next_update; /* 0: none given */
};

void
proxy_ocsp_free(struct proxy_ocsp *o)
{
	if (o == NULL)
		return;
	OPENSSL_free(o->der);
	free(o);
}

static int
status_cb(SSL *ssl, void *arg)
{
	const struct proxy_ocsp *o = arg;
	if (o == NULL || (o->next_update != 0 && time(NULL) > o->next_update))
		return SSL_TLSEXT_ERR_NOACK;
	unsigned char *copy = OPENSSL_memdup(o->der, (size_t)o->len);
	if (copy == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, o->len) != 1) {
		OPENSSL_free(copy);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* The certificate in chain that issued cert, or NULL. */
static X509 *
find_issuer(SSL_CTX *ctx, X509 *cert)
{
	STACK_OF(X509) *chain = NULL;
	SSL_CTX_get0_chain_certs(ctx, &chain);
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), cert) ==
		    X509_V_OK)
			return sk_X509_value(chain, i);
	return NULL;
}

/* Does the single response's id name cert (issued by issuer, or NULL)? */
static bool
id_names(OCSP_CERTID *sid, X509 *cert, X509 *issuer)
{
	ASN1_OCTET_STRING *name_hash = NULL;
	ASN1_OBJECT *md_obj = NULL;
	ASN1_INTEGER *serial = NULL;
	if (OCSP_id_get0_info(&name_hash, &md_obj, NULL, &serial, sid) != 1)
		return false;
	const EVP_MD *md = EVP_get_digestbyobj(md_obj);
	if (md == NULL)
		return false;
	if (issuer != NULL) {
		OCSP_CERTID *id = OCSP_cert_to_id(md, cert, issuer);
		bool same = id != NULL && OCSP_id_cmp(id, sid) == 0;
		OCSP_CERTID_free(id);
		return same;
	}
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned hl = 0;
	return ASN1_INTEGER_cmp(serial, X509_get0_serialNumber(cert)) == 0 &&
	    X509_NAME_digest(X509_get_issuer_name(cert), md, h, &hl) == 1 &&
	    (int)hl == ASN1_STRING_length(name_hash) &&
	    memcmp(h, ASN1_STRING_get0_data(name_hash), hl) == 0;
}

/* Is the response signed by the issuer or a responder it delegated to? */
static bool
signed_by_issuer(OCSP_BASICRESP *bs, SSL_CTX *ctx, X509 *issuer)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE *st = X509_STORE_new();
	bool ok = false;
	SSL_CTX_get0_chain_certs(ctx, &chain);
	if (st != NULL && X509_STORE_add_cert(st, issuer) == 1 &&
	    X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN) == 1)
		ok = OCSP_basic_verify(bs, chain, st, 0) == 1;
	X509_STORE_free(st);
	ERR_clear_error();
	return ok;
}

static time_t
asn1_time(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/*
 * Checks bs against the context's certificate; true (with *next set)
 * when it may be stapled, false (logged) when not.
 */
static bool
response_usable(OCSP_BASICRESP *bs, SSL_CTX *ctx, const char *file,
    time_t *next)
{
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	X509 *issuer = find_issuer(ctx, cert);
	OCSP_SINGLERESP *single = NULL;
	for (int i = 0; i < OCSP_resp_count(bs) && single == NULL; i++)
		if (id_names((OCSP_CERTID *)OCSP_SINGLERESP_get0_id(
		                 OCSP_resp_get0(bs, i)),
		        cert, issuer))
			single = OCSP_resp_get0(bs, i);
	if (single == NULL) {
		log_warnx("proxy: %s answers for another certificate; "
		          "not stapled",
		    file);
		return false;
	}
	if (issuer != NULL && !signed_by_issuer(bs, ctx, issuer)) {
		log_warnx("proxy: %s is not signed by the certificate's "
		          "issuer or its responder; not stapled",
		    file);
		return false;
	}
	int reason;
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	int st =
	    OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
	if (OCSP_check_validity(thisupd, nextupd, 300, -1) != 1) {
		ERR_clear_error();
		log_warnx("proxy: %s is out of date; not stapled", file);
		return false;
	}
	if (st == V_OCSP_CERTSTATUS_UNKNOWN) {
		log_warnx("proxy: %s says the certificate is unknown to its "
		          "responder; not stapled",
		    file);
		return false;
	}
	if (st == V_OCSP_CERTSTATUS_REVOKED)
		log_warnx("proxy: %s says the certificate is REVOKED "
		          "(stapled)",
		    file);
	*next = asn1_time(nextupd);
	if (issuer == NULL)
		log_info("proxy: %s matches the certificate's serial; its "
		         "issuer is not in the chain, so the signature is not "
		         "checked",
		    file);
	return true;
}

int
proxy_ocsp_attach(SSL_CTX *ctx, const char *file, struct proxy_ocsp **out)
{
	*out = NULL;
	BIO *bio = BIO_new_file(file, "rb");
	OCSP_RESPONSE *resp = bio ? d2i_OCSP_RESPONSE_bio(bio, NULL) : NULL;
	OCSP_BASICRESP *bs = NULL;
	int rc = -EINVAL;
	BIO_free(bio);
	ERR_clear_error();
	if (resp == NULL) {
		log_warnx("proxy: cannot read %s as a DER OCSP response", file);
		goto out;
	}
	int status = OCSP_response_status(resp);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		log_warnx("proxy: %s is an unsuccessful OCSP response (%s)",
		    file, OCSP_response_status_str(status));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		log_warnx("proxy: %s holds no basic OCSP response", file);
		goto out;
	}
	rc = 0;
	time_t next = 0;
	if (!response_usable(bs, ctx, file, &next))
		goto out;
	struct proxy_ocsp *o = calloc(1, sizeof(*o));
	if (o == NULL || (o->len = i2d_OCSP_RESPONSE(resp, &o->der)) <= 0) {
		proxy_ocsp_free(o);
		rc = -ENOMEM;
		goto out;
	}
	o->next_update = next;
	SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
	SSL_CTX_set_tlsext_status_arg(ctx, o);
	*out = o;
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return rc;
}
