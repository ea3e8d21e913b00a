/*
 * The interface through libnl-route: its index, name, MAC and state once
 * (l2_link_get) and then from RTNLGRP_LINK notifications (l2_link_watch),
 * so renames, MAC changes and link down/up are followed; and the local
 * addresses from getifaddrs.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "l2_os.h"

static void
link_fill(struct rtnl_link *link, struct l2_link *out)
{
	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(link);
	const char *name = rtnl_link_get_name(link);
	if (name != NULL)
		snprintf(out->name, sizeof(out->name), "%s", name);
	unsigned flags = rtnl_link_get_flags(link);
	out->up = (flags & IFF_UP) && (flags & IFF_RUNNING);
	struct nl_addr *a = rtnl_link_get_addr(link);
	if (a != NULL && nl_addr_get_len(a) == 6)
		memcpy(out->mac, nl_addr_get_binary_addr(a), 6);
}

int
l2_link_get(const char *name, int ifindex, struct l2_link *out)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	int rc;
	if (sk == NULL)
		return -ENOMEM;
	if (nl_connect(sk, NETLINK_ROUTE) < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	rc = rtnl_link_get_kernel(sk, ifindex, ifindex ? NULL : name, &link);
	if (rc >= 0) {
		link_fill(link, out);
		rtnl_link_put(link);
		rc = 0;
	} else {
		rc = rc == -NLE_OBJ_NOTFOUND || rc == -NLE_NODEV ? -ENODEV :
		                                                   -EIO;
	}
	nl_socket_free(sk);
	return rc;
}

struct l2_link_watch {
	struct nl_sock *sk;
	struct event *ev;
	l2_link_cb cb;
	void *arg;
	bool deleted; /* the message being parsed is RTM_DELLINK */
};

static void
parse_cb(struct nl_object *obj, void *arg)
{
	struct l2_link_watch *w = arg;
	struct l2_link l;
	if (strcmp(nl_object_get_type(obj), "route/link") != 0)
		return;
	link_fill((struct rtnl_link *)obj, &l);
	l.gone = w->deleted;
	if (l.gone)
		l.up = false;
	w->cb(&l, w->arg);
}

static int
valid_cb(struct nl_msg *msg, void *arg)
{
	struct l2_link_watch *w = arg;
	int type = nlmsg_hdr(msg)->nlmsg_type;
	if (type != RTM_NEWLINK && type != RTM_DELLINK)
		return NL_OK;
	w->deleted = type == RTM_DELLINK;
	nl_msg_parse(msg, parse_cb, w);
	return NL_OK;
}

static void
readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l2_link_watch *w = arg;
	nl_recvmsgs_default(w->sk);
}

struct l2_link_watch *
l2_link_watch_new(struct event_base *base, l2_link_cb cb, void *arg)
{
	struct l2_link_watch *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	w->sk = nl_socket_alloc();
	if (w->sk == NULL)
		goto fail;
	nl_socket_disable_seq_check(w->sk);
	nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, w);
	if (nl_connect(w->sk, NETLINK_ROUTE) < 0 ||
	    nl_socket_add_membership(w->sk, RTNLGRP_LINK) < 0 ||
	    nl_socket_set_nonblocking(w->sk) < 0)
		goto fail;
	w->ev = event_new(base, nl_socket_get_fd(w->sk), EV_READ | EV_PERSIST,
	    readable_cb, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0)
		goto fail;
	return w;
fail:
	l2_link_watch_free(w);
	return NULL;
}

void
l2_link_watch_free(struct l2_link_watch *w)
{
	if (w == NULL)
		return;
	if (w->ev != NULL)
		event_free(w->ev);
	if (w->sk != NULL)
		nl_socket_free(w->sk);
	free(w);
}

static bool
ifa_addr(const struct ifaddrs *i, struct hearth_addr *a, struct hearth_addr *m)
{
	if (i->ifa_addr == NULL)
		return false;
	memset(a, 0, sizeof(*a));
	memset(m, 0, sizeof(*m));
	if (i->ifa_addr->sa_family == AF_INET) {
		a->family = m->family = AF_INET;
		a->v4 = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		if (i->ifa_netmask != NULL)
			m->v4 =
			    ((struct sockaddr_in *)i->ifa_netmask)->sin_addr;
		return true;
	}
	if (i->ifa_addr->sa_family == AF_INET6) {
		a->family = m->family = AF_INET6;
		a->v6 = ((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (i->ifa_netmask != NULL)
			m->v6 =
			    ((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr;
		return true;
	}
	return false;
}

bool
l2_addr_is_local(const struct hearth_addr *want)
{
	struct ifaddrs *all, *i;
	struct hearth_addr a, m;
	bool found = false;
	if (getifaddrs(&all) != 0)
		return false;
	for (i = all; i != NULL && !found; i = i->ifa_next)
		found = ifa_addr(i, &a, &m) && hearth_addr_eq(&a, want);
	freeifaddrs(all);
	return found;
}

/* True when a and b agree on every bit set in mask. */
static bool
masked_eq(const struct hearth_addr *a, const struct hearth_addr *b,
    const struct hearth_addr *mask)
{
	size_t n = a->family == AF_INET ? 4 : 16;
	const uint8_t *x =
	    a->family == AF_INET ? (const uint8_t *)&a->v4 : a->v6.s6_addr;
	const uint8_t *y =
	    b->family == AF_INET ? (const uint8_t *)&b->v4 : b->v6.s6_addr;
	const uint8_t *k = mask->family == AF_INET ?
	    (const uint8_t *)&mask->v4 :
	    mask->v6.s6_addr;
	for (size_t j = 0; j < n; j++)
		if ((x[j] & k[j]) != (y[j] & k[j]))
			return false;
	return true;
}

int
l2_iface_for(const struct hearth_addr *want, char name[IF_NAMESIZE])
{
	struct ifaddrs *all, *i;
	struct hearth_addr a, m;
	int rc = -ENOENT;
	if (getifaddrs(&all) != 0)
		return -errno;
	for (i = all; i != NULL && rc != 0; i = i->ifa_next) {
		if (!ifa_addr(i, &a, &m) || a.family != want->family ||
		    (i->ifa_flags & IFF_LOOPBACK) || !masked_eq(&a, want, &m))
			continue;
		snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
		rc = 0;
	}
	freeifaddrs(all);
	return rc;
}
