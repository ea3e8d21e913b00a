/*
 * The AF_PACKET socket with the classic BPF program built by bpf.c (only
 * ARP frames about owned VIPs and neighbour solicitations reach user
 * space). The program is attached before the socket is bound to the
 * interface, so no unfiltered frame is ever queued, and is replaced
 * atomically whenever the owned VIPs change.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "l2_os.h"

int
l2_packet_filter(int fd, const struct sock_filter *prog, size_t len)
{
	struct sock_fprog fp = {
	    .len = (unsigned short)len,
	    .filter = (struct sock_filter *)prog,
	};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) != 0)
		return -errno;
	return 0;
}

int
l2_packet_open(int ifindex, const struct sock_filter *prog, size_t len)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (l2_packet_filter(fd, prog, len) != 0)
		goto fail;
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ALL),
	    .sll_ifindex = ifindex,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		goto fail;
	int big = 1 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
fail:;
	int rc = -errno;
	close(fd);
	return rc;
}

int
l2_packet_send(int fd, int ifindex, const uint8_t *frame, size_t len)
{
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET,
	    .sll_ifindex = ifindex,
	    .sll_halen = ETH_ALEN,
	};
	memcpy(sll.sll_addr, frame, ETH_ALEN);
	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

int
l2_packet_mcast(int fd, int ifindex, const uint8_t mac[6], bool add)
{
	struct packet_mreq mr = {
	    .mr_ifindex = ifindex,
	    .mr_type = PACKET_MR_MULTICAST,
	    .mr_alen = ETH_ALEN,
	};
	memcpy(mr.mr_address, mac, ETH_ALEN);
	if (setsockopt(fd, SOL_PACKET,
	        add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP, &mr,
	        sizeof(mr)) != 0)
		return -errno;
	return 0;
}

int
l2_ipv6_group(int fd, int ifindex, const struct in6_addr *group, bool join)
{
	struct ipv6_mreq mr = {.ipv6mr_interface = (unsigned)ifindex};
	mr.ipv6mr_multiaddr = *group;
	if (setsockopt(fd, IPPROTO_IPV6,
	        join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &mr,
	        sizeof(mr)) != 0)
		return -errno;
	return 0;
}
