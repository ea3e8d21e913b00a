/*
 * An incremental HTTP/1.1 response parser for the load generator: status
 * line, the headers that frame the body (Content-Length, Transfer-Encoding:
 * chunked, Connection), bodies delimited by length, by chunks (with
 * trailers) or by close, and interim 1xx responses. The body is counted
 * and skipped, never stored, so a 1 MiB response costs no memory. Pure.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "bench_logic.h"

void
bench_http_parser_reset(struct bench_http_parser *p)
{
	bool head = p->head_request;
	memset(p, 0, offsetof(struct bench_http_parser, line));
	p->line[0] = '\0';
	p->head_request = head;
	p->state = BENCH_HTTP_STATUS;
}

/* Collects bytes up to a line end. 1 when p->line holds a whole line
 * (CR stripped, cut to the buffer), 0 when buf ran out first. */
static int
take_line(struct bench_http_parser *p, const char *buf, size_t len, size_t *i)
{
	const char *nl = memchr(buf + *i, '\n', len - *i);
	size_t n = nl ? (size_t)(nl - (buf + *i)) : len - *i;
	size_t room = sizeof(p->line) - 1 -
	    (p->linelen < sizeof(p->line) - 1 ? p->linelen :
	                                        sizeof(p->line) - 1);
	size_t at =
	    p->linelen < sizeof(p->line) - 1 ? p->linelen : sizeof(p->line) - 1;
	memcpy(p->line + at, buf + *i, n < room ? n : room);
	p->linelen += n;
	*i += n + (nl != NULL);
	if (p->state < BENCH_HTTP_BODY_LENGTH ||
	    p->state == BENCH_HTTP_TRAILERS)
		p->head_bytes += n + (nl != NULL);
	if (nl == NULL)
		return 0;
	size_t end =
	    p->linelen < sizeof(p->line) - 1 ? p->linelen : sizeof(p->line) - 1;
	if (end > 0 && p->linelen <= sizeof(p->line) - 1 &&
	    p->line[end - 1] == '\r')
		end--;
	p->line[end] = '\0';
	p->linelen = 0;
	return 1;
}

static int
parse_status(struct bench_http_parser *p)
{
	const char *l = p->line;
	if (strncmp(l, "HTTP/1.", 7) || !isdigit((unsigned char)l[7]) ||
	    l[8] != ' ')
		return -EBADMSG;
	if (!isdigit((unsigned char)l[9]) || !isdigit((unsigned char)l[10]) ||
	    !isdigit((unsigned char)l[11]) || (l[12] != ' ' && l[12] != '\0'))
		return -EBADMSG;
	p->minor = l[7] - '0';
	p->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	if (p->status < 100)
		return -EBADMSG;
	p->keep_alive = p->minor >= 1;
	p->state = BENCH_HTTP_HEADERS;
	return 0;
}

/* True when the comma-separated list v holds token t. */
static bool
has_token(const char *v, const char *t)
{
	size_t tl = strlen(t);
	while (*v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		size_t n = strcspn(v, ",");
		size_t m = n;
		while (m > 0 && (v[m - 1] == ' ' || v[m - 1] == '\t'))
			m--;
		if (m == tl && !strncasecmp(v, t, tl))
			return true;
		v += n;
	}
	return false;
}

static int
parse_length(struct bench_http_parser *p, const char *v)
{
	uint64_t n = 0;
	if (!isdigit((unsigned char)*v))
		return -EBADMSG;
	for (; isdigit((unsigned char)*v); v++) {
		if (n > (UINT64_MAX >> 4) / 10)
			return -EBADMSG;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v || (p->have_length && p->remaining != n))
		return -EBADMSG;
	p->have_length = true;
	p->remaining = n;
	return 0;
}

static int
parse_header(struct bench_http_parser *p)
{
	char *l = p->line;
	if (*l == ' ' || *l == '\t')
		return 0; /* obsolete line folding: ignored */
	char *colon = strchr(l, ':');
	if (colon == NULL || colon == l)
		return -EBADMSG;
	for (char *c = l; c < colon; c++)
		if (*c <= ' ')
			return -EBADMSG;
	*colon = '\0';
	char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vl = strlen(v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		v[--vl] = '\0';
	if (!strcasecmp(l, "content-length"))
		return parse_length(p, v);
	if (!strcasecmp(l, "transfer-encoding")) {
		p->chunked = has_token(v, "chunked");
		if (!p->chunked)
			p->keep_alive = false; /* delimited by close */
		return 0;
	}
	if (!strcasecmp(l, "connection")) {
		if (has_token(v, "close"))
			p->keep_alive = false;
		else if (has_token(v, "keep-alive") && p->minor == 0)
			p->keep_alive = true;
	}
	return 0;
}

/* The head is complete: decide how the body is framed. */
static int
end_of_head(struct bench_http_parser *p)
{
	if (p->status < 200 && p->status != 101) {
		bool head = p->head_request;
		size_t hb = p->head_bytes;
		bench_http_parser_reset(p);
		p->head_request = head;
		p->head_bytes = hb;
		return 0;
	}
	if (p->head_request || p->status == 204 || p->status == 304 ||
	    p->status == 101) {
		p->state = BENCH_HTTP_DONE;
	} else if (p->chunked) {
		p->state = BENCH_HTTP_CHUNK_SIZE;
	} else if (p->have_length) {
		p->state =
		    p->remaining ? BENCH_HTTP_BODY_LENGTH : BENCH_HTTP_DONE;
	} else {
		p->keep_alive = false;
		p->state = BENCH_HTTP_BODY_CLOSE;
	}
	return 0;
}

static int
parse_chunk_size(struct bench_http_parser *p)
{
	const char *l = p->line;
	uint64_t n = 0;
	if (!isxdigit((unsigned char)*l))
		return -EBADMSG;
	for (; isxdigit((unsigned char)*l); l++) {
		if (n >> 56)
			return -EBADMSG;
		int d = isdigit((unsigned char)*l) ? *l - '0' :
		                                     (tolower(*l) - 'a' + 10);
		n = n << 4 | (uint64_t)d;
	}
	while (*l == ' ' || *l == '\t')
		l++;
	if (*l && *l != ';')
		return -EBADMSG;
	p->remaining = n;
	p->state = n ? BENCH_HTTP_CHUNK_DATA : BENCH_HTTP_TRAILERS;
	return 0;
}

/* Consumes body bytes of a counted part (a length body or a chunk). */
static void
take_body(struct bench_http_parser *p, size_t len, size_t *i)
{
	uint64_t n = len - *i;
	if (n > p->remaining)
		n = p->remaining;
	p->remaining -= n;
	p->body_bytes += n;
	*i += (size_t)n;
}

/* Handles one complete line in the current state. */
static int
on_line(struct bench_http_parser *p)
{
	switch (p->state) {
	case BENCH_HTTP_STATUS:
		return parse_status(p);
	case BENCH_HTTP_HEADERS:
		return p->line[0] ? parse_header(p) : end_of_head(p);
	case BENCH_HTTP_CHUNK_SIZE:
		return parse_chunk_size(p);
	case BENCH_HTTP_CHUNK_DATA_END:
		if (p->line[0])
			return -EBADMSG;
		p->state = BENCH_HTTP_CHUNK_SIZE;
		return 0;
	case BENCH_HTTP_TRAILERS:
		if (p->line[0] == '\0')
			p->state = BENCH_HTTP_DONE;
		return 0;
	default:
		return -EBADMSG;
	}
}

int
bench_http_parse(struct bench_http_parser *p, const char *buf, size_t len,
    size_t *used)
{
	size_t i = 0;
	while (p->state != BENCH_HTTP_DONE) {
		if (p->state == BENCH_HTTP_BODY_CLOSE) {
			p->body_bytes += len - i;
			i = len;
		} else if (p->state == BENCH_HTTP_BODY_LENGTH ||
		    p->state == BENCH_HTTP_CHUNK_DATA) {
			take_body(p, len, &i);
			if (p->remaining == 0)
				p->state = p->state == BENCH_HTTP_BODY_LENGTH ?
				    BENCH_HTTP_DONE :
				    BENCH_HTTP_CHUNK_DATA_END;
		} else if (i < len) {
			int got = take_line(p, buf, len, &i);
			if (p->head_bytes > BENCH_HTTP_MAX_HEAD)
				return -EBADMSG;
			if (got) {
				int rc = on_line(p);
				if (rc)
					return rc;
			}
		}
		if (i == len && p->state != BENCH_HTTP_DONE)
			break;
	}
	*used = i;
	return p->state == BENCH_HTTP_DONE;
}

int
bench_http_parse_eof(struct bench_http_parser *p)
{
	if (p->state == BENCH_HTTP_BODY_CLOSE) {
		p->state = BENCH_HTTP_DONE;
		return 1;
	}
	return p->state == BENCH_HTTP_DONE ? 1 : -EBADMSG;
}
