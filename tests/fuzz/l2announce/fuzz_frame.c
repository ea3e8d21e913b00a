/*
 * Fuzzes the parser of frames read from the AF_PACKET socket, and builds
 * the answer to whatever it accepts, as the announcer would.
 */
#include <stdint.h>
#include <stdlib.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 0x10};
	uint8_t out[L2_FRAME_MAX];
	struct l2_rx rx;
	size_t n = 0;
	switch (l2_frame_parse(data, size, &rx)) {
	case L2_RX_ARP_REQUEST:
	case L2_RX_ARP_REPLY:
		n = l2_arp_reply_build(out, mac, rx.arp.tpa, &rx.arp);
		break;
	case L2_RX_NS:
		n = l2_na_reply_build(out, mac, &rx.ns);
		break;
	default:
		break;
	}
	if (n > sizeof(out))
		abort();
	return 0;
}
