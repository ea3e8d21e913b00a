/*
 * ARP and NDP frames (RFC 826, RFC 5227 announcements, RFC 4861 sections
 * 4.3, 4.4 and 7.1). Builders write complete Ethernet frames padded to the
 * 60-byte minimum; the parser reads only what the length allows and
 * validates neighbour solicitations as RFC 4861 7.1.1 asks.
 */
#include <string.h>

#include "frame.h"

#define ETH_HLEN_   14
#define ETYPE_ARP   0x0806
#define ETYPE_IPV6  0x86dd
#define IP6_HLEN    40
#define ICMP6_NS    135
#define ICMP6_NA    136
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2

static const uint8_t bcast[L2_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t
eth_header(uint8_t *buf, const uint8_t dst[L2_ETH_ALEN],
    const uint8_t src[L2_ETH_ALEN], uint16_t type)
{
	memcpy(buf, dst, L2_ETH_ALEN);
	memcpy(buf + 6, src, L2_ETH_ALEN);
	put16(buf + 12, type);
	return ETH_HLEN_;
}

static size_t
pad(uint8_t *buf, size_t len)
{
	if (len < L2_ETH_MIN) {
		memset(buf + len, 0, L2_ETH_MIN - len);
		len = L2_ETH_MIN;
	}
	return len;
}

/* An ARP body: Ethernet/IPv4, the given op and addresses. */
static size_t
arp_body(uint8_t *p, uint16_t op, const uint8_t sha[L2_ETH_ALEN],
    struct in_addr spa, const uint8_t tha[L2_ETH_ALEN], struct in_addr tpa)
{
	put16(p, 1);
	put16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, sha, 6);
	memcpy(p + 14, &spa, 4);
	memcpy(p + 18, tha, 6);
	memcpy(p + 24, &tpa, 4);
	return 28;
}

size_t
l2_arp_reply_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    struct in_addr vip, const struct l2_arp *req)
{
	size_t n = eth_header(buf, req->sha, mac, ETYPE_ARP);
	n += arp_body(buf + n, 2, mac, vip, req->sha, req->spa);
	return pad(buf, n);
}

size_t
l2_garp_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN], struct in_addr vip,
    bool reply)
{
	static const uint8_t zero[L2_ETH_ALEN];
	size_t n = eth_header(buf, bcast, mac, ETYPE_ARP);
	n +=
	    arp_body(buf + n, reply ? 2 : 1, mac, vip, reply ? mac : zero, vip);
	return pad(buf, n);
}

static uint32_t
sum16(uint32_t s, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

/* The ICMPv6 checksum over the pseudo-header and icmp[0..len). */
static uint16_t
icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst,
    const uint8_t *icmp, size_t len)
{
	uint8_t ph[8] = {0};
	ph[0] = (uint8_t)(len >> 24);
	ph[1] = (uint8_t)(len >> 16);
	ph[2] = (uint8_t)(len >> 8);
	ph[3] = (uint8_t)len;
	ph[7] = 58;
	uint32_t s = sum16(0, src->s6_addr, 16);
	s = sum16(s, dst->s6_addr, 16);
	s = sum16(s, ph, 8);
	s = sum16(s, icmp, len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

size_t
l2_na_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    const struct in6_addr *target, const uint8_t dst_mac[L2_ETH_ALEN],
    const struct in6_addr *dst_ip, bool solicited)
{
	size_t n = eth_header(buf, dst_mac, mac, ETYPE_IPV6);
	uint8_t *ip = buf + n, *icmp = ip + IP6_HLEN;
	const size_t icmp_len = 32; /* header, target, TLLA option */
	memset(ip, 0, IP6_HLEN + icmp_len);
	ip[0] = 0x60;
	put16(ip + 4, icmp_len);
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, target, 16);
	memcpy(ip + 24, dst_ip, 16);
	icmp[0] = ICMP6_NA;
	icmp[4] = (uint8_t)((solicited ? 0x40 : 0) | 0x20);
	memcpy(icmp + 8, target, 16);
	icmp[24] = ND_OPT_TLLA;
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	put16(icmp + 2, icmp6_checksum(target, dst_ip, icmp, icmp_len));
	return pad(buf, n + IP6_HLEN + icmp_len);
}

void
l2_solicited_node(const struct in6_addr *a, struct in6_addr *group)
{
	static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 1, 0xff};
	memcpy(group->s6_addr, prefix, 13);
	memcpy(group->s6_addr + 13, a->s6_addr + 13, 3);
}

void
l2_ipv6_mcast_mac(const struct in6_addr *group, uint8_t mac[L2_ETH_ALEN])
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group->s6_addr + 12, 4);
}

size_t
l2_na_reply_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    const struct l2_ns *ns)
{
	if (IN6_IS_ADDR_UNSPECIFIED(&ns->src))
		return l2_na_unsolicited_build(buf, mac, &ns->target);
	const uint8_t *dmac = ns->has_slla ? ns->slla : ns->eth_src;
	return l2_na_build(buf, mac, &ns->target, dmac, &ns->src, true);
}

size_t
l2_na_unsolicited_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    const struct in6_addr *target)
{
	struct in6_addr all = {.s6_addr = {0xff, 0x02, [15] = 1}};
	uint8_t dmac[L2_ETH_ALEN];
	l2_ipv6_mcast_mac(&all, dmac);
	return l2_na_build(buf, mac, target, dmac, &all, false);
}

static enum l2_rx_kind
parse_arp(const uint8_t *p, size_t len, struct l2_rx *out)
{
	if (len < 28 || get16(p) != 1 || get16(p + 2) != 0x0800 || p[4] != 6 ||
	    p[5] != 4)
		return L2_RX_NONE;
	uint16_t op = get16(p + 6);
	if (op != 1 && op != 2)
		return L2_RX_NONE;
	memcpy(out->arp.sha, p + 8, 6);
	memcpy(&out->arp.spa, p + 14, 4);
	memcpy(out->arp.tha, p + 18, 6);
	memcpy(&out->arp.tpa, p + 24, 4);
	return op == 1 ? L2_RX_ARP_REQUEST : L2_RX_ARP_REPLY;
}

/* Walks NS options; false when one is malformed (length 0 or overruns). */
static bool
parse_ns_options(const uint8_t *p, size_t len, struct l2_ns *ns)
{
	while (len > 0) {
		if (len < 8 || p[1] == 0 || (size_t)p[1] * 8 > len)
			return false;
		size_t olen = (size_t)p[1] * 8;
		if (p[0] == ND_OPT_SLLA && olen == 8) {
			ns->has_slla = true;
			memcpy(ns->slla, p + 2, 6);
		}
		p += olen;
		len -= olen;
	}
	return true;
}

static enum l2_rx_kind
parse_ns(const uint8_t *ip, size_t len, struct l2_rx *out)
{
	struct l2_ns *ns = &out->ns;
	if (len < IP6_HLEN || (ip[0] >> 4) != 6 || ip[6] != 58 || ip[7] != 255)
		return L2_RX_NONE;
	size_t plen = get16(ip + 4);
	if (plen < 24 || plen > len - IP6_HLEN)
		return L2_RX_NONE;
	const uint8_t *icmp = ip + IP6_HLEN;
	memcpy(&ns->src, ip + 8, 16);
	memcpy(&ns->dst, ip + 24, 16);
	if (icmp[0] != ICMP6_NS || icmp[1] != 0 ||
	    icmp6_checksum(&ns->src, &ns->dst, icmp, plen) != 0)
		return L2_RX_NONE;
	memcpy(&ns->target, icmp + 8, 16);
	ns->has_slla = false;
	if (IN6_IS_ADDR_MULTICAST(&ns->target) ||
	    !parse_ns_options(icmp + 24, plen - 24, ns))
		return L2_RX_NONE;
	if (IN6_IS_ADDR_UNSPECIFIED(&ns->src) &&
	    (ns->has_slla || ns->dst.s6_addr[0] != 0xff))
		return L2_RX_NONE;
	return L2_RX_NS;
}

enum l2_rx_kind
l2_frame_parse(const uint8_t *f, size_t len, struct l2_rx *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = L2_RX_NONE;
	if (len < ETH_HLEN_)
		return L2_RX_NONE;
	uint16_t type = get16(f + 12);
	enum l2_rx_kind k = L2_RX_NONE;
	if (type == ETYPE_ARP)
		k = parse_arp(f + ETH_HLEN_, len - ETH_HLEN_, out);
	else if (type == ETYPE_IPV6)
		k = parse_ns(f + ETH_HLEN_, len - ETH_HLEN_, out);
	if (k == L2_RX_ARP_REQUEST || k == L2_RX_ARP_REPLY)
		memcpy(out->arp.eth_src, f + 6, 6);
	else if (k == L2_RX_NS)
		memcpy(out->ns.eth_src, f + 6, 6);
	out->kind = k;
	return k;
}

uint32_t
l2_announce_delay_ms(bool ipv6, unsigned sent, uint32_t refresh_seconds)
{
	unsigned burst = ipv6 ? 3 : 5;
	if (sent < burst)
		return 1100;
	if (refresh_seconds > UINT32_MAX / 1000u)
		refresh_seconds = UINT32_MAX / 1000u;
	return refresh_seconds * 1000u;
}
