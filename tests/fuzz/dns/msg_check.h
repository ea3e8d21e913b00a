/*
 * Shared by the dns fuzz targets: a message the server writes must be one
 * whole DNS message, its header followed by exactly the questions and
 * records its counts announce, nothing after them.
 */
#ifndef HEARTH_FUZZ_DNS_MSG_CHECK_H
#define HEARTH_FUZZ_DNS_MSG_CHECK_H

#include <stdint.h>
#include <stdlib.h>

#include "wire.h"

/* Aborts (a finding) unless buf[0..n) is one whole DNS message. */
static inline void
fuzz_dns_check_msg(const uint8_t *buf, size_t n)
{
	if (n < DNS_HDR_LEN)
		abort();
	size_t off = DNS_HDR_LEN;
	unsigned qd = dns_get16(buf + 4);
	unsigned rr =
	    dns_get16(buf + 6) + dns_get16(buf + 8) + dns_get16(buf + 10);
	for (unsigned i = 0; i < qd; i++) {
		if (dns_name_skip(buf, n, &off) < 0)
			abort();
		off += 4;
	}
	for (unsigned i = 0; i < rr; i++)
		if (dns_rr_skip(buf, n, &off) < 0)
			abort();
	if (off != n)
		abort();
}

#endif
