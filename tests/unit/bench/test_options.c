/*
 * URL, duration and option parsing of `hearth-bench http` and `dns`:
 * defaults, every value checked, and a reason for each refusal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bench_logic.h"

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define HTTP(o, ...)                                                           \
	bench_http_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), why,  \
	    sizeof(why))
#define DNS(o, ...)                                                            \
	bench_dns_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), why,   \
	    sizeof(why))

static char why[256];

static void
test_url_defaults_and_parts(void **state)
{
	struct bench_url u;
	const char *w;
	assert_int_equal(bench_url_parse("http://example.com", &u, &w), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "example.com");
	assert_int_equal(u.port, 80);
	assert_false(u.port_explicit);
	assert_string_equal(u.path, "/");
	assert_int_equal(bench_url_parse("HTTPS://a.b:8443/x/y?q=1#frag", &u,
	                     &w),
	    0);
	assert_true(u.tls);
	assert_int_equal(u.port, 8443);
	assert_true(u.port_explicit);
	assert_string_equal(u.path, "/x/y?q=1");
	assert_int_equal(bench_url_parse("https://h?x", &u, &w), 0);
	assert_string_equal(u.path, "/?x");
	assert_int_equal(u.port, 443);
}

static void
test_url_ipv6_literal(void **state)
{
	struct bench_url u;
	const char *w;
	assert_int_equal(bench_url_parse("http://[::1]:8080/p", &u, &w), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 8080);
	assert_true(bench_host_is_literal(u.host));
	assert_false(bench_host_is_literal("localhost"));
	assert_int_equal(bench_url_parse("http://[::1/", &u, &w), -EINVAL);
	assert_int_equal(bench_url_parse("http://[zz]/", &u, &w), -EINVAL);
}

static void
test_url_refusals(void **state)
{
	struct bench_url u;
	const char *w = NULL;
	const char *bad[] = {"ftp://a/", "a.com", "http://", "http://:80/",
	    "http://a:0/", "http://a:65536/", "http://a:8x/", "http://u@a/",
	    "http://a/b c", "http://a b/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		w = NULL;
		assert_int_equal(bench_url_parse(bad[i], &u, &w), -EINVAL);
		assert_non_null(w);
	}
}

static void
test_durations(void **state)
{
	uint64_t ms;
	assert_int_equal(bench_parse_duration_ms("10", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(bench_parse_duration_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(bench_parse_duration_ms("1.5s", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(bench_parse_duration_ms("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(bench_parse_duration_ms("0", &ms), -EINVAL);
	assert_int_equal(bench_parse_duration_ms("-1", &ms), -EINVAL);
	assert_int_equal(bench_parse_duration_ms("5x", &ms), -EINVAL);
	assert_int_equal(bench_parse_duration_ms("", &ms), -EINVAL);
}

static void
test_http_defaults(void **state)
{
	struct bench_http_opts o;
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/"), 0);
	assert_int_equal(o.connections, 10);
	assert_int_equal(o.threads, 2);
	assert_int_equal(o.duration_ms, 10000);
	assert_int_equal(o.timeout_ms, 2000);
	assert_false(o.new_connection);
	assert_false(o.json);
	assert_int_equal(HTTP(&o, "http", "--url=http://h/", "-c", "1"), 0);
	assert_int_equal(o.threads, 1);
}

static void
test_http_all_options(void **state)
{
	struct bench_http_opts o;
	assert_int_equal(HTTP(&o, "http", "--url", "https://web.test/x",
	                     "--connections", "64", "--duration=3s",
	                     "--threads", "4", "--new-connection", "--header",
	                     "X-A: 1", "-H", "Accept: */*", "--insecure",
	                     "--resolve", "web.test:443:127.0.0.1", "--json",
	                     "--timeout", "250ms"),
	    0);
	assert_true(o.url.tls);
	assert_int_equal(o.connections, 64);
	assert_int_equal(o.threads, 4);
	assert_int_equal(o.duration_ms, 3000);
	assert_int_equal(o.timeout_ms, 250);
	assert_true(o.new_connection && o.insecure && o.json);
	assert_int_equal(o.nheaders, 2);
	assert_string_equal(o.headers[1], "Accept: */*");
	assert_int_equal(o.nresolve, 1);
	assert_string_equal(o.resolve[0].host, "web.test");
	assert_int_equal(o.resolve[0].port, 443);
	assert_string_equal(o.resolve[0].addr, "127.0.0.1");
}

static void
test_http_refusals_say_why(void **state)
{
	struct bench_http_opts o;
	assert_int_equal(HTTP(&o, "http"), -EINVAL);
	assert_non_null(strstr(why, "--url is required"));
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "-c", "0"),
	    -EINVAL);
	assert_non_null(strstr(why, "-c: '0' is not a number"));
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "-c", "2", "-t",
	                     "3"),
	    -EINVAL);
	assert_non_null(strstr(why, "at least"));
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "--bogus"),
	    -EINVAL);
	assert_non_null(strstr(why, "unknown option '--bogus'"));
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "--header",
	                     "NoColon"),
	    -EINVAL);
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "--header",
	                     "A: b\r\nX: y"),
	    -EINVAL);
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "--duration"),
	    -EINVAL);
	assert_non_null(strstr(why, "needs a value"));
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "--json=1"),
	    -EINVAL);
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "extra"),
	    -EINVAL);
	assert_int_equal(HTTP(&o, "http", "--url", "http://h/", "--resolve",
	                     "h:80"),
	    -EINVAL);
}

static void
test_resolve_forms(void **state)
{
	struct bench_resolve r;
	assert_int_equal(bench_resolve_parse("a.test:8443:[::1]", &r), 0);
	assert_string_equal(r.addr, "::1");
	assert_int_equal(r.port, 8443);
	assert_int_equal(bench_resolve_parse("a.test:80:not-an-ip", &r),
	    -EINVAL);
	assert_int_equal(bench_resolve_parse(":80:1.2.3.4", &r), -EINVAL);
}

static void
test_server_forms(void **state)
{
	char a[64];
	uint16_t p;
	assert_int_equal(bench_server_parse("127.0.0.1", a, sizeof(a), &p), 0);
	assert_string_equal(a, "127.0.0.1");
	assert_int_equal(p, 53);
	assert_int_equal(bench_server_parse("127.0.0.1:5353", a, sizeof(a), &p),
	    0);
	assert_int_equal(p, 5353);
	assert_int_equal(bench_server_parse("::1", a, sizeof(a), &p), 0);
	assert_string_equal(a, "::1");
	assert_int_equal(p, 53);
	assert_int_equal(bench_server_parse("[::1]:5300", a, sizeof(a), &p), 0);
	assert_string_equal(a, "::1");
	assert_int_equal(p, 5300);
	assert_int_equal(bench_server_parse("dns.google", a, sizeof(a), &p),
	    -EINVAL);
	assert_int_equal(bench_server_parse("1.2.3.4:0", a, sizeof(a), &p),
	    -EINVAL);
	assert_int_equal(bench_server_parse("[::1]x", a, sizeof(a), &p),
	    -EINVAL);
}

static void
test_dns_options(void **state)
{
	struct bench_dns_opts o;
	assert_int_equal(DNS(&o, "dns", "--server", "127.0.0.1:5300",
	                     "--queries", "q.txt"),
	    0);
	assert_int_equal(o.in_flight, 100);
	assert_int_equal(o.duration_ms, 10000);
	assert_false(o.tcp);
	assert_int_equal(o.port, 5300);
	assert_string_equal(o.queries, "q.txt");
	assert_int_equal(DNS(&o, "dns", "--server=::1", "--queries=f",
	                     "--in-flight", "7", "--tcp", "--json", "-d", "2"),
	    0);
	assert_int_equal(o.in_flight, 7);
	assert_true(o.tcp && o.json);
	assert_int_equal(o.rate, 0);
	assert_int_equal(DNS(&o, "dns", "--server", "1.2.3.4", "--queries", "f",
	                     "--rate", "20000"),
	    0);
	assert_int_equal(o.rate, 20000);
	assert_int_equal(DNS(&o, "dns", "--server", "1.2.3.4", "--queries", "f",
	                     "--rate", "0"),
	    -EINVAL);
	assert_int_equal(DNS(&o, "dns", "--queries", "f"), -EINVAL);
	assert_non_null(strstr(why, "--server is required"));
	assert_int_equal(DNS(&o, "dns", "--server", "1.2.3.4"), -EINVAL);
	assert_non_null(strstr(why, "--queries is required"));
	assert_int_equal(DNS(&o, "dns", "--server", "1.2.3.4", "--queries", "f",
	                     "--in-flight", "65537"),
	    -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_defaults_and_parts),
	    cmocka_unit_test(test_url_ipv6_literal),
	    cmocka_unit_test(test_url_refusals),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_http_defaults),
	    cmocka_unit_test(test_http_all_options),
	    cmocka_unit_test(test_http_refusals_say_why),
	    cmocka_unit_test(test_resolve_forms),
	    cmocka_unit_test(test_server_forms),
	    cmocka_unit_test(test_dns_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
