/*
 * Helpers for the nft unit tests: models from YAML text (through the real
 * configuration parser), generated service lists, and a walk over the
 * netlink messages of a built batch.
 */
#ifndef HEARTH_NFTTEST_H
#define HEARTH_NFTTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "nft_logic.h"

static inline struct hearth_model *
nfttest_model(const char *yaml)
{
	struct hearth_config_errors errs = {0};
	struct hearth_model *m =
	    hearth_config_parse("test.yaml", yaml, strlen(yaml), &errs);
	if (m == NULL) {
		hearth_config_errors_print(&errs, stderr);
		hearth_config_errors_free(&errs);
		fail_msg("test configuration does not parse");
	}
	return m;
}

/* A growable string for generated configurations. */
struct nfttest_buf {
	char *s;
	size_t len, cap;
};

static inline void __attribute__((format(printf, 2, 3)))
nfttest_printf(struct nfttest_buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL,
		    b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
}

/*
 * n services "s<i>" at 10.1.<i/250>.<i%250+1>:80/tcp with backends
 * 10.244.<i%250>.<1..k> (k = 2), except service `changed` which gets
 * `backend_of_changed` as its second backend when given.
 */
static inline struct hearth_model *
nfttest_services(size_t n, long changed, const char *backend_of_changed)
{
	struct nfttest_buf b = {0};
	nfttest_printf(&b,
	    "pools:\n  - {name: p, addresses: [10.1.0.0/16]}\n"
	    "services:\n");
	for (size_t i = 0; i < n; i++) {
		nfttest_printf(&b,
		    "  - {name: s%zu, address: 10.1.%zu.%zu, "
		    "ports: [{port: 80, protocol: tcp, backends: "
		    "[10.244.%zu.1:8080, ",
		    i, i / 250, i % 250 + 1, i % 250);
		if ((long)i == changed && backend_of_changed)
			nfttest_printf(&b, "%s]}]}\n", backend_of_changed);
		else
			nfttest_printf(&b, "10.244.%zu.2:8080]}]}\n", i % 250);
	}
	struct hearth_model *m = nfttest_model(b.s);
	free(b.s);
	return m;
}

#endif
