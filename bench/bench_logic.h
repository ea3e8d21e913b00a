/*
 * The pure parts of hearth-bench, with no I/O: the latency histogram, URL
 * and option parsing, the dnsperf query file, DNS message building and
 * checking, and the incremental HTTP/1.1 response parser. Unit tests and
 * fuzzers link this library (bench_logic) without a network.
 */
#ifndef HEARTH_BENCH_LOGIC_H
#define HEARTH_BENCH_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- histogram: HDR-style log-linear buckets, relative error < 1/128 ---- */

#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB      (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_BUCKETS  ((64 - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	long double sum;
	uint64_t buckets[BENCH_HIST_BUCKETS];
};

/* Empties a histogram. */
void bench_hist_reset(struct bench_hist *h);
/* Records one value (any unit; hearth-bench records nanoseconds). */
void bench_hist_record(struct bench_hist *h, uint64_t value);
/* Adds every value of src to dst. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
/* The value at percentile p (0..100]: the highest value equivalent to the
 * bucket holding the ceil(p% * count)-th smallest value, at most max. */
uint64_t bench_hist_percentile(const struct bench_hist *h, double p);
/* The mean of the recorded values, 0 when empty. */
double bench_hist_mean(const struct bench_hist *h);
/* Bucket index of a value, and the highest value of a bucket (exposed for
 * tests). */
size_t bench_hist_index(uint64_t value);
uint64_t bench_hist_bucket_high(size_t index);

/* ---- durations and numbers ---- */

/* Parses "10", "10s", "500ms", "2m", "1.5s" into milliseconds (> 0). */
int bench_parse_duration_ms(const char *s, uint64_t *ms);
/* Parses a positive decimal integer no larger than max. */
int bench_parse_count(const char *s, uint64_t max, uint64_t *out);

/* ---- URLs ---- */

struct bench_url {
	bool tls;           /* https */
	char host[256];     /* without brackets for IPv6 literals */
	uint16_t port;      /* explicit or 80/443 */
	bool port_explicit; /* the URL named the port */
	char path[2048];    /* path and query, "/" when absent */
};

/* Parses an http:// or https:// URL; -EINVAL with *why set on error. */
int bench_url_parse(const char *s, struct bench_url *u, const char **why);
/* True when host is an IPv4 or IPv6 literal (no SNI is sent for those). */
bool bench_host_is_literal(const char *host);

/* ---- options ---- */

#define BENCH_MAX_HEADERS 32

struct bench_resolve {
	char host[256];
	uint16_t port;
	char addr[64]; /* without brackets */
};

struct bench_http_opts {
	struct bench_url url;
	uint64_t connections;
	uint64_t threads;
	uint64_t duration_ms;
	uint64_t timeout_ms;
	bool new_connection;
	bool insecure;
	bool json;
	bool help;
	size_t nheaders;
	const char *headers[BENCH_MAX_HEADERS]; /* borrowed from argv */
	size_t nresolve;
	struct bench_resolve resolve[8];
};

struct bench_dns_opts {
	char server[64]; /* address without brackets */
	uint16_t port;
	const char *queries; /* borrowed from argv */
	uint64_t duration_ms;
	uint64_t in_flight;
	uint64_t timeout_ms;
	uint64_t rate; /* queries per second to send; 0: as fast as answered */
	bool tcp;
	bool json;
	bool help;
};

/* Parses `hearth-bench http` arguments (argv[0] is "http"). On error
 * returns -EINVAL and writes a one-line reason to why. */
int bench_http_opts_parse(int argc, char **argv, struct bench_http_opts *o,
    char *why, size_t whylen);
/* Parses `hearth-bench dns` arguments, likewise. */
int bench_dns_opts_parse(int argc, char **argv, struct bench_dns_opts *o,
    char *why, size_t whylen);
/* Parses a --resolve value HOST:PORT:ADDR (ADDR may be [v6]). */
int bench_resolve_parse(const char *s, struct bench_resolve *r);
/* Parses --server ADDR[:PORT] (v4, bare v6, or [v6]:port). */
int bench_server_parse(const char *s, char *addr, size_t addrlen,
    uint16_t *port);

/* ---- DNS ---- */

#define BENCH_DNS_MAX_QUERY 300

struct bench_dns_query {
	uint16_t len;
	uint8_t wire[BENCH_DNS_MAX_QUERY]; /* ID bytes 0-1 are set per send */
};

/* Maps a type mnemonic (A, AAAA, MX, ..., TYPE123) to its number. */
int bench_dns_type_parse(const char *s, uint16_t *type);
/* Encodes a query for name/type (RD set, class IN) into q. */
int bench_dns_query_build(const char *name, uint16_t type,
    struct bench_dns_query *q);
/* Parses one line of a dnsperf query file. Returns 1 and fills q for a
 * query, 0 for a blank or comment line, -EINVAL for a bad line. */
int bench_dns_line_parse(const char *line, struct bench_dns_query *q);

struct bench_dns_reply {
	uint16_t id;
	uint8_t rcode;
	bool truncated;
};

/* Checks a reply's header (QR set, one question at most, sane length). */
int bench_dns_reply_parse(const uint8_t *buf, size_t len,
    struct bench_dns_reply *r);
/* The mnemonic of an rcode ("NOERROR", "NXDOMAIN", ... or "RCODE15"). */
const char *bench_dns_rcode_name(unsigned rcode, char *buf, size_t len);

/* ---- HTTP/1.1 response parser ---- */

#define BENCH_HTTP_MAX_HEAD 65536

enum bench_http_state {
	BENCH_HTTP_STATUS,
	BENCH_HTTP_HEADERS,
	BENCH_HTTP_BODY_LENGTH,
	BENCH_HTTP_CHUNK_SIZE,
	BENCH_HTTP_CHUNK_DATA,
	BENCH_HTTP_CHUNK_DATA_END,
	BENCH_HTTP_TRAILERS,
	BENCH_HTTP_BODY_CLOSE,
	BENCH_HTTP_DONE,
};

struct bench_http_parser {
	enum bench_http_state state;
	int status;
	int minor; /* HTTP/1.minor */
	bool keep_alive;
	bool chunked;
	bool have_length;
	bool head_request; /* the request was HEAD: no body */
	uint64_t remaining;
	uint64_t body_bytes;
	size_t head_bytes;
	size_t linelen;
	char
	    line[512]; /* the start of the current line (longer ones are cut) */
};

/* Readies the parser for the next response. */
void bench_http_parser_reset(struct bench_http_parser *p);
/* Feeds bytes. Returns 1 when the response is complete (*used bytes
 * consumed), 0 when all bytes were consumed and more are needed, or
 * -EBADMSG on a malformed response. */
int bench_http_parse(struct bench_http_parser *p, const char *buf, size_t len,
    size_t *used);
/* The connection hit EOF: 1 if that completes the response (a body
 * delimited by close), -EBADMSG otherwise. */
int bench_http_parse_eof(struct bench_http_parser *p);

#endif
