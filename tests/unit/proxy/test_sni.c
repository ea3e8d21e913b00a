/*
 * ClientHello SNI extraction: a valid hello, one split over several TLS
 * records, one arriving byte by byte (TCP segments), hellos without a
 * name, and malformed input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sni.h"

static size_t
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/* A ClientHello handshake message (no record header) naming sni. */
static size_t
hello(uint8_t *out, const char *sni)
{
	uint8_t *p = out + 4;
	*p++ = 3;
	*p++ = 3;
	memset(p, 0xab, 32);
	p += 32;
	*p++ = 0; /* session id */
	p += put16(p, 4);
	*p++ = 0x13, *p++ = 0x01, *p++ = 0x13, *p++ = 0x02;
	*p++ = 1, *p++ = 0; /* compression: null */
	uint8_t *ext_len = p;
	p += 2;
	/* supported_versions first, then server_name */
	p += put16(p, 43);
	p += put16(p, 3);
	*p++ = 2, *p++ = 3, *p++ = 4;
	if (sni != NULL) {
		size_t n = strlen(sni);
		p += put16(p, 0);
		p += put16(p, n + 5);
		p += put16(p, n + 3);
		*p++ = 0;
		p += put16(p, n);
		memcpy(p, sni, n);
		p += n;
	}
	put16(ext_len, (size_t)(p - ext_len - 2));
	size_t body = (size_t)(p - out - 4);
	out[0] = 1;
	out[1] = (uint8_t)(body >> 16);
	out[2] = (uint8_t)(body >> 8);
	out[3] = (uint8_t)body;
	return (size_t)(p - out);
}

/* Wraps msg in records of at most frag bytes each. */
static size_t
records(uint8_t *out, const uint8_t *msg, size_t len, size_t frag)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i += frag) {
		size_t n = len - i < frag ? len - i : frag;
		out[o++] = 22, out[o++] = 3, out[o++] = 1;
		o += put16(out + o, n);
		memcpy(out + o, msg + i, n);
		o += n;
	}
	return o;
}

static void
test_valid_hello_gives_name(void **st)
{
	uint8_t msg[512], rec[1024];
	char name[256];
	size_t n = records(rec, msg, hello(msg, "Harbor.Qroksera.COM"), 16384);
	assert_int_equal(proxy_sni_parse(rec, n, name, sizeof(name)),
	    PROXY_SNI_FOUND);
	assert_string_equal(name, "harbor.qroksera.com");
}

static void
test_hello_fragmented_over_records(void **st)
{
	uint8_t msg[512], rec[4096];
	char name[256];
	size_t ml = hello(msg, "argocd.qroksera.com");
	for (size_t frag = 1; frag < ml; frag += 7) {
		size_t n = records(rec, msg, ml, frag);
		memset(name, 0, sizeof(name));
		assert_int_equal(proxy_sni_parse(rec, n, name, sizeof(name)),
		    PROXY_SNI_FOUND);
		assert_string_equal(name, "argocd.qroksera.com");
	}
}

static void
test_hello_over_segments_needs_more_until_whole(void **st)
{
	uint8_t msg[512], rec[4096];
	char name[256];
	size_t n = records(rec, msg, hello(msg, "a.example"), 20);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(proxy_sni_parse(rec, i, name, sizeof(name)),
		    PROXY_SNI_MORE);
	assert_int_equal(proxy_sni_parse(rec, n, name, sizeof(name)),
	    PROXY_SNI_FOUND);
	assert_string_equal(name, "a.example");
}

static void
test_hello_without_name(void **st)
{
	uint8_t msg[512], rec[1024];
	char name[256];
	size_t n = records(rec, msg, hello(msg, NULL), 16384);
	assert_int_equal(proxy_sni_parse(rec, n, name, sizeof(name)),
	    PROXY_SNI_NONE);
}

static void
test_malformed_hellos_are_refused(void **st)
{
	uint8_t msg[512], rec[1024], bad[1024];
	char name[256];
	size_t ml = hello(msg, "x.example");
	size_t n = records(rec, msg, ml, 16384);
	/* not a handshake record */
	memcpy(bad, rec, n);
	bad[0] = 23;
	assert_int_equal(proxy_sni_parse(bad, n, name, 256), -EBADMSG);
	/* plain HTTP on the TLS port */
	assert_int_equal(proxy_sni_parse((const uint8_t *)"GET / HTTP/1.1\r\n",
	                     16, name, 256),
	    -EBADMSG);
	/* not a ClientHello */
	memcpy(bad, rec, n);
	bad[5] = 2;
	assert_int_equal(proxy_sni_parse(bad, n, name, 256), -EBADMSG);
	/* extension length past the message */
	memcpy(bad, rec, n);
	bad[52] ^= 0x40;
	assert_true(proxy_sni_parse(bad, n, name, 256) < 0);
	/* a name with a bad character */
	ml = hello(msg, "bad name.example");
	n = records(rec, msg, ml, 16384);
	assert_int_equal(proxy_sni_parse(rec, n, name, 256), -EBADMSG);
	/* a hello announcing more than the maximum */
	uint8_t huge[9] = {22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00};
	assert_int_equal(proxy_sni_parse(huge, 9, name, 256), -EMSGSIZE);
	/* zero-length record */
	uint8_t zero[5] = {22, 3, 1, 0, 0};
	assert_int_equal(proxy_sni_parse(zero, 5, name, 256), -EBADMSG);
	/* every truncation of every byte flip stays in bounds */
	n = records(rec, msg, hello(msg, "y.example"), 50);
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, rec, n);
		bad[i] ^= 0xff;
		(void)proxy_sni_parse(bad, n, name, 256);
	}
}

/* A captured hello (the fuzz seeds) from the real client. */
static int
captured(const char *file, char *name)
{
	char path[1024];
	uint8_t buf[4096];
	const char *src = getenv("HEARTH_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/tests/fuzz/proxy/corpus-sni/%s",
	    src ? src : ".", file);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return proxy_sni_parse(buf, n, name, 256);
}

static void
test_real_clients_hellos(void **st)
{
	char name[256];
	assert_int_equal(captured("openssl13", name), PROXY_SNI_FOUND);
	assert_string_equal(name, "harbor.qroksera.com");
	assert_int_equal(captured("openssl12", name), PROXY_SNI_FOUND);
	assert_string_equal(name, "argocd.qroksera.com");
	assert_int_equal(captured("curl", name), PROXY_SNI_FOUND);
	assert_string_equal(name, "grafana.qroksera.com");
	assert_int_equal(captured("fragmented", name), PROXY_SNI_FOUND);
	assert_string_equal(name, "harbor.qroksera.com");
	assert_int_equal(captured("nosni", name), PROXY_SNI_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_hello_gives_name),
	    cmocka_unit_test(test_hello_fragmented_over_records),
	    cmocka_unit_test(test_hello_over_segments_needs_more_until_whole),
	    cmocka_unit_test(test_hello_without_name),
	    cmocka_unit_test(test_malformed_hellos_are_refused),
	    cmocka_unit_test(test_real_clients_hellos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
