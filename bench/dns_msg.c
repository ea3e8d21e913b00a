/*
 * DNS for hearth-bench: the dnsperf query-file line format ("name type",
 * '#' comments), query encoding (RD set, class IN) and the header checks
 * on replies that the load generator needs (ID, QR, TC, rcode). Pure.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench_logic.h"

static const struct {
	const char *name;
	uint16_t type;
} dns_types[] = {
    {"A", 1},
    {"NS", 2},
    {"CNAME", 5},
    {"SOA", 6},
    {"PTR", 12},
    {"HINFO", 13},
    {"MX", 15},
    {"TXT", 16},
    {"AAAA", 28},
    {"SRV", 33},
    {"NAPTR", 35},
    {"DS", 43},
    {"RRSIG", 46},
    {"NSEC", 47},
    {"DNSKEY", 48},
    {"NSEC3", 50},
    {"TLSA", 52},
    {"SVCB", 64},
    {"HTTPS", 65},
    {"SPF", 99},
    {"ANY", 255},
    {"CAA", 257},
};

int
bench_dns_type_parse(const char *s, uint16_t *type)
{
	for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (!strcasecmp(s, dns_types[i].name)) {
			*type = dns_types[i].type;
			return 0;
		}
	if (strncasecmp(s, "TYPE", 4) || !isdigit((unsigned char)s[4]))
		return -EINVAL;
	uint64_t v;
	if (bench_parse_count(s + 4, 65535, &v))
		return -EINVAL;
	*type = (uint16_t)v;
	return 0;
}

/* Reads one possibly escaped character of a presentation name. */
static int
name_char(const char **sp, uint8_t *c, bool *escaped)
{
	const char *s = *sp;
	*escaped = false;
	if (*s != '\\') {
		*c = (uint8_t)*s;
		*sp = s + 1;
		return 0;
	}
	*escaped = true;
	if (isdigit((unsigned char)s[1])) {
		if (!isdigit((unsigned char)s[2]) ||
		    !isdigit((unsigned char)s[3]))
			return -EINVAL;
		int v = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		if (v > 255)
			return -EINVAL;
		*c = (uint8_t)v;
		*sp = s + 4;
		return 0;
	}
	if (s[1] == '\0')
		return -EINVAL;
	*c = (uint8_t)s[1];
	*sp = s + 2;
	return 0;
}

/* Encodes a presentation-format name as wire labels; returns the length. */
static int
name_encode(const char *name, uint8_t *out, size_t cap)
{
	if (!strcmp(name, ".")) {
		out[0] = 0;
		return 1;
	}
	size_t n = 0, lab = 0;
	const char *s = name;
	out[n++] = 0;
	while (*s) {
		uint8_t c;
		bool esc;
		if (name_char(&s, &c, &esc))
			return -EINVAL;
		if (c == '.' && !esc) {
			if (out[lab] == 0)
				return -EINVAL; /* empty label */
			if (*s == '\0')
				break; /* trailing dot */
			lab = n;
			if (n + 1 > cap)
				return -EINVAL;
			out[n++] = 0;
			continue;
		}
		if (out[lab] == 63 || n + 1 > cap)
			return -EINVAL;
		out[n++] = c;
		out[lab]++;
	}
	if (out[lab] == 0)
		return -EINVAL;
	if (n + 1 > cap || n + 1 > 255)
		return -EINVAL;
	out[n++] = 0;
	return (int)n;
}

int
bench_dns_query_build(const char *name, uint16_t type,
    struct bench_dns_query *q)
{
	static const uint8_t hdr[12] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0,
	    0};
	memcpy(q->wire, hdr, sizeof(hdr));
	int n = name_encode(name, q->wire + 12, 256);
	if (n < 0)
		return n;
	size_t off = 12 + (size_t)n;
	q->wire[off++] = (uint8_t)(type >> 8);
	q->wire[off++] = (uint8_t)type;
	q->wire[off++] = 0;
	q->wire[off++] = 1;
	q->len = (uint16_t)off;
	return 0;
}

int
bench_dns_line_parse(const char *line, struct bench_dns_query *q)
{
	char name[1024], type[32], extra[2];
	while (isspace((unsigned char)*line))
		line++;
	if (*line == '\0' || *line == '#' || *line == ';')
		return 0;
	if (strlen(line) >= sizeof(name))
		return -EINVAL;
	int n = sscanf(line, "%1023s %31s %1s", name, type, extra);
	if (n != 2)
		return -EINVAL;
	uint16_t t;
	if (bench_dns_type_parse(type, &t))
		return -EINVAL;
	if (bench_dns_query_build(name, t, q))
		return -EINVAL;
	return 1;
}

int
bench_dns_reply_parse(const uint8_t *buf, size_t len, struct bench_dns_reply *r)
{
	if (len < 12)
		return -EBADMSG;
	if (!(buf[2] & 0x80))
		return -EBADMSG; /* not a response */
	unsigned qd = (unsigned)buf[4] << 8 | buf[5];
	if (qd > 1)
		return -EBADMSG;
	r->id = (uint16_t)(buf[0] << 8 | buf[1]);
	r->truncated = (buf[2] & 0x02) != 0;
	r->rcode = buf[3] & 0x0f;
	return 0;
}

const char *
bench_dns_rcode_name(unsigned rcode, char *buf, size_t len)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
	    "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
	    "NOTAUTH", "NOTZONE"};
	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}
