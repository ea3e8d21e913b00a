/*
 * The AF_PACKET socket with the classic BPF program built by bpf.c (only
 * ARP frames about owned VIPs and neighbour solicitations reach user
 * space). The program is attached before the socket is bound to the
 * interface, so no unfiltered frame is ever queued, and is replaced
 * atomically whenever the owned VIPs change. Frames this host sends are
 * not looped back to the socket (PACKET_IGNORE_OUTGOING), and frames are
 * read and answered in batches (recvmmsg, sendmmsg): one system call per
 * direction however many requests a wake-up finds.
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

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23 /* Linux 4.20 */
#endif

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
	/* Older kernels loop our own frames back; the reader skips them. */
	int one = 1;
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
	    sizeof(one));
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
l2_packet_recv(int fd, struct l2_rx_batch *b)
{
	struct mmsghdr mm[L2_RX_BATCH];
	struct iovec iov[L2_RX_BATCH];
	struct sockaddr_ll sll[L2_RX_BATCH];
	for (int i = 0; i < L2_RX_BATCH; i++) {
		iov[i] = (struct iovec){b->frame[i], L2_RX_FRAME};
		mm[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &sll[i],
		                             .msg_namelen = sizeof(sll[i]),
		                             .msg_iov = &iov[i],
		                             .msg_iovlen = 1}};
	}
	int n = recvmmsg(fd, mm, L2_RX_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		b->len[i] = mm[i].msg_len;
		b->outgoing[i] = sll[i].sll_pkttype == PACKET_OUTGOING;
	}
	return n;
}

size_t
l2_packet_send_batch(int fd, int ifindex, struct l2_tx_batch *b)
{
	struct mmsghdr mm[L2_TX_BATCH];
	struct iovec iov[L2_TX_BATCH];
	struct sockaddr_ll sll[L2_TX_BATCH];
	size_t n = b->n, refused = 0;
	for (size_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){b->frame[i], b->len[i]};
		sll[i] = (struct sockaddr_ll){.sll_family = AF_PACKET,
		    .sll_ifindex = ifindex,
		    .sll_halen = ETH_ALEN};
		memcpy(sll[i].sll_addr, b->frame[i], ETH_ALEN);
		mm[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &sll[i],
		                             .msg_namelen = sizeof(sll[i]),
		                             .msg_iov = &iov[i],
		                             .msg_iovlen = 1}};
	}
	/* sendmmsg stops at the first frame refused: skip it, go on. */
	for (size_t off = 0; off < n;) {
		int r = sendmmsg(fd, mm + off, (unsigned)(n - off), 0);
		if (r > 0) {
			off += (size_t)r;
		} else {
			refused++;
			off++;
		}
	}
	b->n = 0;
	return refused;
}

uint64_t
l2_packet_drops(int fd)
{
	struct tpacket_stats st;
	socklen_t sl = sizeof(st);
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) != 0)
		return 0;
	return st.tp_drops;
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
