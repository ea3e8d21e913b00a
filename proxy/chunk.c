/*
 * The chunked transfer coding (RFC 9112 section 7.1) as a byte-driven
 * state machine, so a body can be checked and forwarded as it streams by
 * without ever being held whole. Chunk sizes are hex without sign, white
 * space or overflow; extensions and trailer fields are checked for
 * characters and bounded in size; every line ends in CRLF.
 */
#include <errno.h>
#include <string.h>

#include "http.h"

enum {
	S_SIZE,    /* hex digits */
	S_SIZE_WS, /* BWS before ';' */
	S_EXT,     /* chunk-ext up to CR */
	S_SIZE_LF,
	S_DATA,
	S_DATA_CR,
	S_DATA_LF,
	S_TRAILER_START,
	S_TRAILER_NAME,
	S_TRAILER_VALUE,
	S_TRAILER_LF,
	S_END_LF,
	S_DONE,
};

#define MAX_EXT_BYTES 4096

void
proxy_chunk_init(struct proxy_chunk *c, size_t max_trailer_bytes)
{
	memset(c, 0, sizeof(*c));
	c->state = S_SIZE;
	c->max_trailer_bytes = max_trailer_bytes ? max_trailer_bytes : 65536;
}

bool
proxy_chunk_done(const struct proxy_chunk *c)
{
	return c->state == S_DONE;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static bool
tchar(unsigned char ch)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return true;
	return ch != 0 && memchr(extra, ch, sizeof(extra) - 1) != NULL;
}

static bool
fchar(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* The size line: digits, optional extensions, CRLF. */
static int
step_size(struct proxy_chunk *c, char ch)
{
	int v;
	switch (c->state) {
	case S_SIZE:
		if ((v = hexval(ch)) >= 0) {
			if (c->remaining > (UINT64_MAX >> 5))
				return -1;
			c->remaining = (c->remaining << 4) | (uint64_t)v;
			c->digits++;
			return 0;
		}
		if (c->digits == 0)
			return -1;
		if (ch == ';') {
			c->state = S_EXT;
			c->line_bytes = 0;
		} else if (ch == ' ' || ch == '\t') {
			c->state = S_SIZE_WS;
		} else if (ch == '\r') {
			c->state = S_SIZE_LF;
		} else {
			return -1;
		}
		return 0;
	case S_SIZE_WS:
		if (ch == ';') {
			c->state = S_EXT;
			c->line_bytes = 0;
			return 0;
		}
		return ch == ' ' || ch == '\t' ? 0 : -1;
	case S_EXT:
		if (ch == '\r') {
			c->state = S_SIZE_LF;
			return 0;
		}
		if (!fchar((unsigned char)ch) ||
		    ++c->line_bytes > MAX_EXT_BYTES)
			return -1;
		return 0;
	case S_SIZE_LF:
		if (ch != '\n')
			return -1;
		c->state = c->remaining == 0 ? S_TRAILER_START : S_DATA;
		return 0;
	}
	return -1;
}

/* The trailer section: field lines, then the final CRLF. */
static int
step_trailer(struct proxy_chunk *c, char ch)
{
	if (c->state != S_DONE && ++c->trailer_bytes > c->max_trailer_bytes)
		return -1;
	switch (c->state) {
	case S_TRAILER_START:
		if (ch == '\r')
			c->state = S_END_LF;
		else if (tchar((unsigned char)ch))
			c->state = S_TRAILER_NAME;
		else
			return -1; /* obs-fold or junk */
		return 0;
	case S_TRAILER_NAME:
		if (ch == ':')
			c->state = S_TRAILER_VALUE;
		else if (!tchar((unsigned char)ch))
			return -1;
		return 0;
	case S_TRAILER_VALUE:
		if (ch == '\r')
			c->state = S_TRAILER_LF;
		else if (!fchar((unsigned char)ch))
			return -1;
		return 0;
	case S_TRAILER_LF:
	case S_END_LF:
		if (ch != '\n')
			return -1;
		c->state = c->state == S_END_LF ? S_DONE : S_TRAILER_START;
		return 0;
	}
	return -1;
}

ssize_t
proxy_chunk_feed(struct proxy_chunk *c, const char *p, size_t n,
    const char **data, size_t *data_len)
{
	size_t i = 0;
	*data = NULL;
	*data_len = 0;
	while (i < n && c->state != S_DONE) {
		int r = 0;
		switch (c->state) {
		case S_DATA: {
			size_t take = n - i;
			if ((uint64_t)take > c->remaining)
				take = (size_t)c->remaining;
			*data = p + i;
			*data_len = take;
			c->remaining -= take;
			i += take;
			if (c->remaining == 0)
				c->state = S_DATA_CR;
			return (ssize_t)i;
		}
		case S_DATA_CR:
			r = p[i] == '\r' ? 0 : -1;
			c->state = S_DATA_LF;
			break;
		case S_DATA_LF:
			r = p[i] == '\n' ? 0 : -1;
			c->state = S_SIZE;
			c->digits = 0;
			c->remaining = 0;
			break;
		case S_SIZE:
		case S_SIZE_WS:
		case S_EXT:
		case S_SIZE_LF:
			r = step_size(c, p[i]);
			break;
		default:
			r = step_trailer(c, p[i]);
			break;
		}
		if (r != 0)
			return -EBADMSG;
		i++;
	}
	return (ssize_t)i;
}
