/*
 * Builds the packet socket's filter (see bpf.h) and interprets the few
 * classic BPF instructions it uses, so unit tests run it over frames
 * without a socket. Each address test is "jeq #addr, 0, 1; ja accept"
 * because conditional jumps reach only 255 instructions ahead.
 *
 *   0 ldh [12]             ethertype
 *   1 jeq #0x86dd, 2, 8
 *   2 ldb [20]             next header = ICMPv6
 *   3 jeq #58, 4, 7
 *   4 ldb [54]             ICMPv6 type = NS
 *   5 jeq #135, 6, 7
 *   6 ret #1514
 *   7 ret #0
 *   8 jeq #0x806, 10, 9
 *   9 ret #0
 *  10 ld [28]              ARP sender address, then each owned VIP
 *     ld [38]              ARP target address, then each owned VIP
 *     ret #0
 *     ret #1514            accept
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "bpf.h"

#define KEEP 1514

static size_t
emit(struct sock_filter *p, size_t i, uint16_t code, uint8_t jt, uint8_t jf,
    uint32_t k)
{
	p[i] = (struct sock_filter){code, jt, jf, k};
	return i + 1;
}

/* Loads the word at off and jumps to accept when it is an owned VIP. */
static size_t
match_any(struct sock_filter *p, size_t i, uint32_t off,
    const struct in_addr *owned, size_t n, size_t accept)
{
	i = emit(p, i, BPF_LD | BPF_W | BPF_ABS, 0, 0, off);
	for (size_t v = 0; v < n; v++) {
		i = emit(p, i, BPF_JMP | BPF_JEQ | BPF_K, 0, 1,
		    ntohl(owned[v].s_addr));
		i = emit(p, i, BPF_JMP | BPF_JA, 0, 0,
		    (uint32_t)(accept - i - 1));
	}
	return i;
}

size_t
l2_bpf_build(struct sock_filter *p, const struct in_addr *owned, size_t n)
{
	if (n > L2_BPF_MAX_VIPS)
		n = L2_BPF_MAX_VIPS;
	size_t accept = 10 + 2 * (1 + 2 * n) + 1, i = 0;
	i = emit(p, i, BPF_LD | BPF_H | BPF_ABS, 0, 0, 12);
	i = emit(p, i, BPF_JMP | BPF_JEQ | BPF_K, 0, 6, 0x86dd);
	i = emit(p, i, BPF_LD | BPF_B | BPF_ABS, 0, 0, 20);
	i = emit(p, i, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, 58);
	i = emit(p, i, BPF_LD | BPF_B | BPF_ABS, 0, 0, 54);
	i = emit(p, i, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 135);
	i = emit(p, i, BPF_RET | BPF_K, 0, 0, KEEP);
	i = emit(p, i, BPF_RET | BPF_K, 0, 0, 0);
	i = emit(p, i, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0x0806);
	i = emit(p, i, BPF_RET | BPF_K, 0, 0, 0);
	i = match_any(p, i, 28, owned, n, accept);
	i = match_any(p, i, 38, owned, n, accept);
	i = emit(p, i, BPF_RET | BPF_K, 0, 0, 0);
	return emit(p, i, BPF_RET | BPF_K, 0, 0, KEEP);
}

/* Loads size bytes at off big-endian; false when beyond the frame. */
static bool
load(const uint8_t *f, size_t flen, uint32_t off, unsigned size, uint32_t *a)
{
	if (off > flen || flen - off < size)
		return false;
	*a = 0;
	for (unsigned b = 0; b < size; b++)
		*a = *a << 8 | f[off + b];
	return true;
}

uint32_t
l2_bpf_run(const struct sock_filter *prog, size_t len, const uint8_t *f,
    size_t flen)
{
	uint32_t a = 0;
	for (size_t pc = 0; pc < len; pc++) {
		const struct sock_filter *in = &prog[pc];
		switch (in->code) {
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_W | BPF_ABS: {
			unsigned size = BPF_SIZE(in->code) == BPF_B ? 1 :
			    BPF_SIZE(in->code) == BPF_H             ? 2 :
			                                              4;
			if (!load(f, flen, in->k, size, &a))
				return 0;
			break;
		}
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += a == in->k ? in->jt : in->jf;
			break;
		case BPF_JMP | BPF_JA:
			pc += in->k;
			break;
		case BPF_RET | BPF_K:
			return in->k;
		default:
			return 0;
		}
	}
	return 0;
}
