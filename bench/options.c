/*
 * Command-line parsing for `hearth-bench http` and `hearth-bench dns`:
 * long options as "--name value" or "--name=value" (and wrk's short
 * aliases), every value checked, and a one-line reason on the first error
 * so the caller can exit 2. Pure: argv is only read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench_logic.h"

struct arg_iter {
	int argc;
	char **argv;
	int i;
	const char *name;  /* the option as written, without "=value" */
	const char *value; /* inline value after '=', or NULL */
	char namebuf[64];
	char *why;
	size_t whylen;
};

static int
fail(struct arg_iter *it, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(it->why, it->whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Advances to the next option; 1 if there is one, 0 at the end. */
static int
next_opt(struct arg_iter *it)
{
	if (++it->i >= it->argc)
		return 0;
	const char *a = it->argv[it->i];
	const char *eq = strncmp(a, "--", 2) ? NULL : strchr(a, '=');
	it->value = NULL;
	if (eq && (size_t)(eq - a) < sizeof(it->namebuf)) {
		memcpy(it->namebuf, a, (size_t)(eq - a));
		it->namebuf[eq - a] = '\0';
		it->name = it->namebuf;
		it->value = eq + 1;
	} else {
		it->name = a;
	}
	return 1;
}

static bool
is(const struct arg_iter *it, const char *lng, const char *shrt)
{
	return !strcmp(it->name, lng) || (shrt && !strcmp(it->name, shrt));
}

/* The option's value: inline after '=' or the next argument. */
static const char *
take_value(struct arg_iter *it)
{
	if (it->value)
		return it->value;
	if (it->i + 1 >= it->argc)
		return NULL;
	return it->argv[++it->i];
}

static int
flag(struct arg_iter *it, bool *b)
{
	if (it->value)
		return fail(it, "%s takes no value", it->name);
	*b = true;
	return 0;
}

static int
count_opt(struct arg_iter *it, uint64_t max, uint64_t *out)
{
	const char *v = take_value(it);
	if (v == NULL)
		return fail(it, "%s needs a value", it->name);
	if (bench_parse_count(v, max, out))
		return fail(it, "%s: '%s' is not a number from 1 to %llu",
		    it->name, v, (unsigned long long)max);
	return 0;
}

static int
duration_opt(struct arg_iter *it, uint64_t *ms)
{
	const char *v = take_value(it);
	if (v == NULL)
		return fail(it, "%s needs a value", it->name);
	if (bench_parse_duration_ms(v, ms))
		return fail(it,
		    "%s: '%s' is not a duration (like 10, 10s, 500ms, 2m)",
		    it->name, v);
	return 0;
}

static int
copy_addr(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= dstlen)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	unsigned char bin[16];
	if (inet_pton(AF_INET, dst, bin) != 1 &&
	    inet_pton(AF_INET6, dst, bin) != 1)
		return -EINVAL;
	return 0;
}

int
bench_resolve_parse(const char *s, struct bench_resolve *r)
{
	memset(r, 0, sizeof(*r));
	const char *c1 = strchr(s, ':');
	if (c1 == NULL || c1 == s || (size_t)(c1 - s) >= sizeof(r->host))
		return -EINVAL;
	const char *c2 = strchr(c1 + 1, ':');
	if (c2 == NULL)
		return -EINVAL;
	memcpy(r->host, s, (size_t)(c1 - s));
	uint64_t port;
	char pbuf[8];
	size_t plen = (size_t)(c2 - c1 - 1);
	if (plen == 0 || plen >= sizeof(pbuf))
		return -EINVAL;
	memcpy(pbuf, c1 + 1, plen);
	pbuf[plen] = '\0';
	if (bench_parse_count(pbuf, 65535, &port))
		return -EINVAL;
	r->port = (uint16_t)port;
	return copy_addr(r->addr, sizeof(r->addr), c2 + 1, strlen(c2 + 1));
}

int
bench_server_parse(const char *s, char *addr, size_t addrlen, uint16_t *port)
{
	*port = 53;
	size_t n = strlen(s);
	const char *colon = strrchr(s, ':');
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL)
			return -EINVAL;
		n = (size_t)(close - s + 1);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (colon == NULL && close[1] != '\0')
			return -EINVAL;
	} else if (colon && strchr(s, ':') != colon) {
		colon = NULL; /* a bare IPv6 address */
	} else if (colon) {
		n = (size_t)(colon - s);
	}
	if (colon) {
		uint64_t p;
		if (bench_parse_count(colon + 1, 65535, &p))
			return -EINVAL;
		*port = (uint16_t)p;
	}
	return copy_addr(addr, addrlen, s, n);
}

static int
header_opt(struct arg_iter *it, struct bench_http_opts *o)
{
	const char *v = take_value(it);
	if (v == NULL)
		return fail(it, "%s needs a value", it->name);
	const char *colon = strchr(v, ':');
	if (colon == NULL || colon == v)
		return fail(it, "%s: '%s' is not 'Name: value'", it->name, v);
	for (const char *c = v; *c; c++)
		if (*c == '\r' || *c == '\n')
			return fail(it, "%s: line breaks are not allowed",
			    it->name);
	for (const char *c = v; c < colon; c++)
		if (*c <= ' ' || *c == 0x7f)
			return fail(it, "%s: bad header name in '%s'", it->name,
			    v);
	if (o->nheaders == BENCH_MAX_HEADERS)
		return fail(it, "at most %d --header options",
		    BENCH_MAX_HEADERS);
	o->headers[o->nheaders++] = v;
	return 0;
}

static int
http_opt(struct arg_iter *it, struct bench_http_opts *o, bool *url_set,
    bool *threads_set)
{
	const char *v;
	if (is(it, "--url", "-u")) {
		const char *why = NULL;
		if ((v = take_value(it)) == NULL)
			return fail(it, "--url needs a value");
		if (bench_url_parse(v, &o->url, &why))
			return fail(it, "--url: %s: %s", v, why);
		*url_set = true;
		return 0;
	}
	if (is(it, "--connections", "-c"))
		return count_opt(it, 100000, &o->connections);
	if (is(it, "--threads", "-t")) {
		*threads_set = true;
		return count_opt(it, 256, &o->threads);
	}
	if (is(it, "--duration", "-d"))
		return duration_opt(it, &o->duration_ms);
	if (is(it, "--timeout", NULL))
		return duration_opt(it, &o->timeout_ms);
	if (is(it, "--new-connection", NULL))
		return flag(it, &o->new_connection);
	if (is(it, "--insecure", "-k"))
		return flag(it, &o->insecure);
	if (is(it, "--json", NULL))
		return flag(it, &o->json);
	if (is(it, "--header", "-H"))
		return header_opt(it, o);
	if (is(it, "--resolve", NULL)) {
		if ((v = take_value(it)) == NULL)
			return fail(it, "--resolve needs a value");
		if (o->nresolve == sizeof(o->resolve) / sizeof(o->resolve[0]))
			return fail(it, "too many --resolve options");
		if (bench_resolve_parse(v, &o->resolve[o->nresolve]))
			return fail(it, "--resolve: '%s' is not HOST:PORT:ADDR",
			    v);
		o->nresolve++;
		return 0;
	}
	if (it->name[0] == '-')
		return fail(it, "unknown option '%s'", it->name);
	return fail(it, "unexpected argument '%s'", it->name);
}

int
bench_http_opts_parse(int argc, char **argv, struct bench_http_opts *o,
    char *why, size_t whylen)
{
	memset(o, 0, sizeof(*o));
	o->connections = 10;
	o->duration_ms = 10000;
	o->timeout_ms = 2000;
	struct arg_iter it = {.argc = argc,
	    .argv = argv,
	    .why = why,
	    .whylen = whylen};
	bool url_set = false, threads_set = false;
	while (next_opt(&it)) {
		if (is(&it, "--help", "-h")) {
			o->help = true;
			return 0;
		}
		int rc = http_opt(&it, o, &url_set, &threads_set);
		if (rc)
			return rc;
	}
	if (!url_set)
		return fail(&it, "--url is required");
	if (!threads_set)
		o->threads = o->connections < 2 ? o->connections : 2;
	if (o->threads > o->connections)
		return fail(&it,
		    "--connections (%llu) must be at least "
		    "--threads (%llu)",
		    (unsigned long long)o->connections,
		    (unsigned long long)o->threads);
	return 0;
}

static int
dns_opt(struct arg_iter *it, struct bench_dns_opts *o, bool *server_set)
{
	const char *v;
	if (is(it, "--server", "-s")) {
		if ((v = take_value(it)) == NULL)
			return fail(it, "--server needs a value");
		if (bench_server_parse(v, o->server, sizeof(o->server),
		        &o->port))
			return fail(it, "--server: '%s' is not ADDR[:PORT]", v);
		*server_set = true;
		return 0;
	}
	if (is(it, "--queries", "-q")) {
		if ((o->queries = take_value(it)) == NULL)
			return fail(it, "--queries needs a value");
		return 0;
	}
	if (is(it, "--duration", "-d"))
		return duration_opt(it, &o->duration_ms);
	if (is(it, "--timeout", NULL))
		return duration_opt(it, &o->timeout_ms);
	if (is(it, "--in-flight", NULL))
		return count_opt(it, 65536, &o->in_flight);
	if (is(it, "--rate", NULL))
		return count_opt(it, 10000000, &o->rate);
	if (is(it, "--tcp", NULL))
		return flag(it, &o->tcp);
	if (is(it, "--json", NULL))
		return flag(it, &o->json);
	if (it->name[0] == '-')
		return fail(it, "unknown option '%s'", it->name);
	return fail(it, "unexpected argument '%s'", it->name);
}

int
bench_dns_opts_parse(int argc, char **argv, struct bench_dns_opts *o, char *why,
    size_t whylen)
{
	memset(o, 0, sizeof(*o));
	o->duration_ms = 10000;
	o->timeout_ms = 5000;
	o->in_flight = 100;
	struct arg_iter it = {.argc = argc,
	    .argv = argv,
	    .why = why,
	    .whylen = whylen};
	bool server_set = false;
	while (next_opt(&it)) {
		if (is(&it, "--help", "-h")) {
			o->help = true;
			return 0;
		}
		int rc = dns_opt(&it, o, &server_set);
		if (rc)
			return rc;
	}
	if (!server_set)
		return fail(&it, "--server is required");
	if (o->queries == NULL)
		return fail(&it, "--queries is required");
	return 0;
}
