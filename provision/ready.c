/*
 * Readiness without fixed sleeps: libvirt domain lifecycle events say the
 * VMs started (and catch one that stops or crashes), then the API server
 * is asked, over TLS with the admin certificate and the cluster CA
 * checked against the control plane's address, for /readyz and for the
 * Nodes' Ready condition, until all are ready or the overall timeout.
 * Never used with libvirt's test driver, which has no guests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cli.h"

#define MAX_BODY (16u << 20)

static int
tcp_connect(const char *ip, int port, int timeout_ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons(port)};
	struct pollfd pfd;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int fd, err = 0;
	socklen_t el = sizeof(err);

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS) {
		err = errno;
		close(fd);
		return -err;
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&pfd, 1, timeout_ms) != 1) {
		close(fd);
		return -ETIMEDOUT;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err != 0) {
		close(fd);
		return -err;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static SSL_CTX *
client_ctx(const struct prov_pki *pki, char *err, size_t len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	BIO *b;
	X509 *ca = NULL, *crt = NULL;
	EVP_PKEY *key = NULL;
	bool ok = false;

	if (ctx == NULL)
		return NULL;
	if ((b = BIO_new_mem_buf(pki->ca_crt, -1)) != NULL) {
		ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if ((b = BIO_new_mem_buf(pki->admin_crt, -1)) != NULL) {
		crt = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if ((b = BIO_new_mem_buf(pki->admin_key, -1)) != NULL) {
		key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (ca && crt && key &&
	    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) == 1 &&
	    SSL_CTX_use_certificate(ctx, crt) == 1 &&
	    SSL_CTX_use_PrivateKey(ctx, key) == 1) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		ok = true;
	} else
		snprintf(err, len, "cannot load the PKI into OpenSSL");
	X509_free(ca);
	X509_free(crt);
	EVP_PKEY_free(key);
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * One request (GET, or POST with a JSON body) over HTTP/1.0, so the API
 * server closes instead of chunking, to ip:port; the server's certificate
 * must chain to the cluster CA and name ip. Returns the HTTP status, or
 * -errno with err filled.
 */
static int
api_request(const struct prov_pki *pki, const char *ip, int port,
    const char *method, const char *path, const char *json, int timeout_ms,
    char **body, char *err, size_t len)
{
	SSL_CTX *ctx = client_ctx(pki, err, len);
	SSL *ssl = NULL;
	char req[512], *buf = NULL, *p;
	size_t cap = 0, n = 0;
	int fd = -1, status = -EIO, r;

	*body = NULL;
	if (ctx == NULL)
		return -EINVAL;
	if ((fd = tcp_connect(ip, port, timeout_ms)) < 0) {
		snprintf(err, len, "%s:%d: %s", ip, port, strerror(-fd));
		status = fd;
		goto out;
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip))
		goto out;
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);

		snprintf(err, len, "TLS with %s:%d: %s", ip, port,
		    v != X509_V_OK ?
		        X509_verify_cert_error_string(v) :
		        ERR_reason_error_string(ERR_peek_last_error()) ?
		        ERR_reason_error_string(ERR_peek_last_error()) :
		        "handshake failed");
		goto out;
	}
	snprintf(req, sizeof(req),
	    "%s %s HTTP/1.0\r\nHost: %s:%d\r\n"
	    "Accept: application/json\r\nUser-Agent: hearth-provision\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    method, path, ip, port, json ? strlen(json) : 0);
	if (SSL_write(ssl, req, (int)strlen(req)) <= 0 ||
	    (json != NULL && *json &&
	        SSL_write(ssl, json, (int)strlen(json)) <= 0)) {
		snprintf(err, len, "%s:%d: write failed", ip, port);
		goto out;
	}
	for (;;) {
		if (n + 4097 > cap) {
			char *nb;

			if (cap >= MAX_BODY ||
			    (nb = realloc(buf, cap = cap * 2 + 16384)) == NULL)
				break;
			buf = nb;
		}
		r = SSL_read(ssl, buf + n, (int)(cap - n - 1));
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (buf == NULL || n < 12 || strncmp(buf, "HTTP/1.", 7) != 0) {
		snprintf(err, len, "%s:%d: no HTTP response", ip, port);
		goto out;
	}
	buf[n] = '\0';
	status = atoi(buf + 9);
	if ((p = strstr(buf, "\r\n\r\n")) != NULL)
		*body = strdup(p + 4);
out:
	free(buf);
	if (ssl != NULL) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return status;
}

/* Where the API server is: the control plane, or HEARTH_PROVISION_API_ADDR
 * (tests). */
static void
api_addr(const struct prov_cli *cli, char *ip, int *port)
{
	const char *o = getenv("HEARTH_PROVISION_API_ADDR");
	const char *colon = o ? strrchr(o, ':') : NULL;

	if (colon != NULL && (size_t)(colon - o) < INET_ADDRSTRLEN) {
		memcpy(ip, o, (size_t)(colon - o));
		ip[colon - o] = '\0';
		*port = atoi(colon + 1);
		return;
	}
	prov_ip(prov_control_plane(cli->s)->addr, ip);
	*port = 6443;
}

int
ready_probe(const struct prov_cli *cli, const struct prov_pki *pki,
    int timeout_ms, struct prov_readiness *out)
{
	char ip[INET_ADDRSTRLEN], *body = NULL;
	int port, st;

	memset(out, 0, sizeof(*out));
	out->nodes_total = cli->s->n_nodes;
	api_addr(cli, ip, &port);
	st = api_request(pki, ip, port, "GET", "/readyz", NULL, timeout_ms,
	    &body, out->detail, sizeof(out->detail));
	if (st != 200) {
		if (st > 0)
			snprintf(out->detail, sizeof(out->detail),
			    "/readyz answered %d", st);
		free(body);
		return 0;
	}
	free(body);
	out->api_ready = true;
	st = api_request(pki, ip, port, "GET", "/api/v1/nodes", NULL,
	    timeout_ms, &body, out->detail, sizeof(out->detail));
	if (st == 200 && body != NULL &&
	    prov_nodes_ready(cli->s, body, &out->nodes_ready) != 0)
		snprintf(out->detail, sizeof(out->detail),
		    "/api/v1/nodes: not a NodeList");
	else if (st != 200 && st > 0)
		snprintf(out->detail, sizeof(out->detail),
		    "/api/v1/nodes answered %d", st);
	free(body);
	return 0;
}

int
ready_token_create(const struct prov_cli *cli, const struct prov_pki *pki,
    const char *token, char *err, size_t len)
{
	char ip[INET_ADDRSTRLEN], *json, *body = NULL;
	int port, st;

	api_addr(cli, ip, &port);
	if ((json = prov_token_secret_json(token, time(NULL) + 86400)) == NULL)
		return -ENOMEM;
	st = api_request(pki, ip, port, "POST",
	    "/api/v1/namespaces/kube-system/secrets", json, 5000, &body, err,
	    len);
	free(json);
	if (st != 201 && st > 0)
		snprintf(err, len, "the API server answered %d%s%.200s", st,
		    body && *body ? ": " : "", body ? body : "");
	free(body);
	return st == 201 ? 0 : -EIO;
}

struct wait {
	struct prov_cli *cli;
	bool *started;
	char failed[256];
};

static int
lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct wait *w = opaque;
	const char *name = virDomainGetName(dom);

	(void)conn;
	for (size_t i = 0; i < w->cli->s->n_nodes; i++) {
		if (strcmp(w->cli->s->nodes[i].name, name) != 0)
			continue;
		if (event == VIR_DOMAIN_EVENT_STARTED ||
		    event == VIR_DOMAIN_EVENT_RESUMED)
			w->started[i] = true;
		else if (event == VIR_DOMAIN_EVENT_STOPPED ||
		    event == VIR_DOMAIN_EVENT_CRASHED) {
			w->started[i] = false;
			snprintf(w->failed, sizeof(w->failed),
			    "domain %s %s "
			    "while the cluster came up",
			    name,
			    event == VIR_DOMAIN_EVENT_CRASHED ? "crashed" :
			                                        "stopped");
		}
	}
	(void)detail;
	return 0;
}

static void
tick(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static time_t
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int
ready_wait(struct prov_cli *cli, const struct prov_pki *pki)
{
	struct wait w = {.cli = cli};
	struct prov_readiness rd = {0}, last = {0};
	time_t start = now(), deadline = start + cli->timeout_seconds, next = 0;
	size_t running = 0, shown_running = (size_t)-1;
	int cb, timer, r = -ETIMEDOUT;

	w.started = calloc(cli->s->n_nodes, sizeof(bool));
	if (w.started == NULL)
		return -ENOMEM;
	cb = virConnectDomainEventRegisterAny(cli->conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(lifecycle),
	    &w, NULL);
	timer = virEventAddTimeout(1000, tick, NULL, NULL);
	for (size_t i = 0; i < cli->s->n_nodes; i++)
		w.started[i] =
		    strcmp(virt_domain_state(cli, cli->s->nodes[i].name),
		        "running") == 0;
	printf("waiting for the cluster (at most %us; --no-wait skips this)\n",
	    cli->timeout_seconds);
	while (now() < deadline) {
		if (w.failed[0]) {
			prov_die("up: step \"wait for the cluster\" failed: %s",
			    w.failed);
			r = -EIO;
			break;
		}
		running = 0;
		for (size_t i = 0; i < cli->s->n_nodes; i++)
			running += w.started[i];
		if (running != shown_running) {
			printf("  domains running: %zu/%zu\n", running,
			    cli->s->n_nodes);
			shown_running = running;
		}
		if (running == cli->s->n_nodes && now() >= next) {
			ready_probe(cli, pki, 3000, &rd);
			next = now() + 5;
			if (rd.api_ready != last.api_ready ||
			    rd.nodes_ready != last.nodes_ready)
				printf("  [%lds] API server %s, nodes Ready "
				       "%zu/%zu\n",
				    (long)(now() - start),
				    rd.api_ready ? "ready" : "not ready",
				    rd.nodes_ready, rd.nodes_total);
			last = rd;
			if (rd.api_ready && rd.nodes_ready == rd.nodes_total) {
				printf("cluster ready after %lds\n",
				    (long)(now() - start));
				r = 0;
				break;
			}
		}
		if (virEventRunDefaultImpl() != 0)
			break;
	}
	if (r == -ETIMEDOUT)
		prov_die("up: step \"wait for the cluster\" failed: not ready "
		         "after "
		         "%us: %s (nodes Ready %zu/%zu)%s%s",
		    cli->timeout_seconds,
		    running < cli->s->n_nodes ? "domains not all running" :
		        last.api_ready        ? "API server ready" :
		                                "API server not ready",
		    last.nodes_ready, last.nodes_total,
		    last.detail[0] ? ": " : "", last.detail);
	if (timer >= 0)
		virEventRemoveTimeout(timer);
	if (cb >= 0)
		virConnectDomainEventDeregisterAny(cli->conn, cb);
	free(w.started);
	return r;
}
