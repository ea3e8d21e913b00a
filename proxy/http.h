/*
 * The proxy's HTTP/1.1 wire logic (RFC 9112), pure and zero-copy: a strict
 * parser of request and response heads that hands back slices of the
 * caller's buffer, a streaming chunked-body state machine (extensions and
 * trailers), and the hop-by-hop rules the forwarder applies. Everything
 * that could let two parsers disagree about where a message ends (request
 * smuggling) is refused: Content-Length with Transfer-Encoding, duplicate
 * or malformed lengths, bad chunk sizes, obs-fold, bare CR or LF, control
 * characters, white space before a colon.
 */
#ifndef HEARTH_PROXY_HTTP_H
#define HEARTH_PROXY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A slice of the parsed buffer (not NUL-terminated). */
struct proxy_str {
	const char *p;
	size_t len;
};

struct proxy_http_header {
	struct proxy_str name;
	struct proxy_str value; /* without surrounding white space */
};

enum proxy_body {
	PROXY_BODY_NONE,    /* no body (or Content-Length: 0) */
	PROXY_BODY_LENGTH,  /* content_length bytes */
	PROXY_BODY_CHUNKED, /* chunked, ends at the last chunk */
	PROXY_BODY_CLOSE,   /* responses only: until the peer closes */
};

/* A parsed request or response head; slices point into the input. */
struct proxy_http_msg {
	/* request */
	struct proxy_str method;
	struct proxy_str target;
	struct proxy_str host; /* Host, or the absolute-form authority */
	struct proxy_str path; /* the target's path, without query */
	bool is_head;
	/* response */
	unsigned status;
	struct proxy_str reason;
	/* both */
	unsigned minor;                    /* HTTP/1.<minor>: 0 or 1 */
	struct proxy_http_header *headers; /* caller's array */
	size_t n_headers;
	size_t cap_headers;
	enum proxy_body body;
	uint64_t content_length;
	bool keep_alive;      /* the sender allows another message */
	bool upgrade;         /* Connection: upgrade with Upgrade */
	bool expect_continue; /* Expect: 100-continue */
	bool has_te;          /* Transfer-Encoding was present */
	bool has_connection;  /* a Connection field was present */
};

struct proxy_http_limits {
	size_t max_header_bytes; /* start line + fields + blank line */
	size_t max_headers;      /* at most cap_headers */
};

/*
 * Parse results other than a head length: 0 means "incomplete, read more";
 * a negative value is minus the HTTP status to answer with (-400, -431,
 * -501, -505), after which the connection is closed.
 */
#define PROXY_HTTP_INCOMPLETE 0

/*
 * Parses a request head at buf. msg->headers/cap_headers must be set.
 * Returns the head's length (> 0), PROXY_HTTP_INCOMPLETE, or -status.
 */
ssize_t proxy_http_parse_request(const char *buf, size_t len,
    const struct proxy_http_limits *lim, struct proxy_http_msg *msg);

/*
 * Parses a response head answering a request whose method was HEAD when
 * req_head is true (which has no body whatever the head says). Returns
 * the head's length, PROXY_HTTP_INCOMPLETE, or -502 when malformed.
 */
ssize_t proxy_http_parse_response(const char *buf, size_t len,
    const struct proxy_http_limits *lim, bool req_head,
    struct proxy_http_msg *msg);

/* Case-insensitive comparison of a slice with a C string. */
bool proxy_str_ieq(struct proxy_str s, const char *lit);

/* The first header named name (lower case), or NULL. */
const struct proxy_http_header *
proxy_http_find(const struct proxy_http_msg *msg, const char *name);

/*
 * Whether the header named name must not be forwarded: the fixed
 * hop-by-hop set (Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
 * Transfer-Encoding, Upgrade) and every field the Connection header lists.
 */
bool proxy_http_is_hop(const struct proxy_http_msg *msg, struct proxy_str name);

/* The names msg's Connection fields list, gathered once for many
 * proxy_http_hops_has calls (the same answers as proxy_http_is_hop). */
struct proxy_http_hops {
	struct proxy_str tok[8];
	size_t n;
	bool many; /* more than fit: ask proxy_http_is_hop */
};
void proxy_http_hops_init(const struct proxy_http_msg *msg,
    struct proxy_http_hops *h);
bool proxy_http_hops_has(const struct proxy_http_hops *h,
    const struct proxy_http_msg *msg, struct proxy_str name);

/* The streaming chunked-body decoder. */
struct proxy_chunk {
	int state;
	uint64_t remaining;       /* data bytes left in this chunk */
	unsigned digits;          /* hex digits in the size so far */
	size_t line_bytes;        /* bytes of the current ext/trailer line */
	size_t trailer_bytes;     /* all trailer bytes so far */
	size_t max_trailer_bytes; /* 0: 65536 */
	bool in_name;             /* trailer line: still in the field name */
	size_t name_len;
};

void proxy_chunk_init(struct proxy_chunk *c, size_t max_trailer_bytes);
bool proxy_chunk_done(const struct proxy_chunk *c);

/*
 * Consumes bytes of a chunked body at p. Returns how many bytes belong to
 * the body (framing included; stops at its end, so the rest is the next
 * message), or -EBADMSG when the framing is invalid. When the consumed
 * bytes hold chunk data, *data and *data_len name the first run of it
 * (one run per call; call again with the rest).
 */
ssize_t proxy_chunk_feed(struct proxy_chunk *c, const char *p, size_t n,
    const char **data, size_t *data_len);

#endif
