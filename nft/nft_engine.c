/*
 * Sends nft_logic's batches over one NETLINK_NETFILTER socket and checks
 * the ACK of every message: the kernel processes a batch synchronously
 * inside sendmsg, so every ACK is queued by the time it returns. Keeps the
 * installed description (what the kernel holds, as far as hearth knows)
 * and watches NFNLGRP_NFTABLES for changes made by anyone else.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_engine.h"

#define RECV_BUF     (MNL_SOCKET_BUFFER_SIZE * 16)
#define WATCH_RCVBUF (16 * 1024 * 1024)
/*
 * Batches with at least this many element changes are sent with the
 * watch socket out of the notification group: while anyone listens, the
 * kernel builds a notification (an skb of a page) per element, which
 * costs about as much as the change itself. The ruleset generation
 * before and after tells whether anyone else committed meanwhile.
 */
#define QUIET_MIN_ELEMS 2048

static const double latency_bounds[] = {
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
};

struct nft_engine {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	struct mnl_socket *watch;
	struct nft_desc *installed;
	struct hearth_model *model;       /* the model installed describes */
	struct nft_patch patch;           /* a hinted change being applied */
	struct nft_desc *spare;           /* memory for the next description */
	uint32_t set_size[NFT_SET_COUNT]; /* the sets' sizes in the kernel */
	bool in_sync;
	bool unseen; /* someone may have committed while we did not listen */
	bool poison;
	uint64_t table_handle;
	size_t rules_expected;
	int sndbuf;
	struct nft_batch batch;
	struct nft_changes changes;
	struct nft_engine_stats stats;
	char error[256];
	char *rbuf;
};

static double
now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct nft_engine *
nft_engine_new(void)
{
	struct nft_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->stats.latency.bounds = latency_bounds;
	e->stats.latency.n_bounds =
	    sizeof(latency_bounds) / sizeof(latency_bounds[0]);
	e->rbuf = malloc(RECV_BUF);
	e->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (e->rbuf == NULL || e->nl == NULL ||
	    mnl_socket_bind(e->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;
		nft_engine_free(e);
		errno = err;
		return NULL;
	}
	int one = 1;
	setsockopt(mnl_socket_get_fd(e->nl), SOL_NETLINK, NETLINK_CAP_ACK, &one,
	    sizeof(one));
	setsockopt(mnl_socket_get_fd(e->nl), SOL_NETLINK, NETLINK_EXT_ACK, &one,
	    sizeof(one));
	int rcv = 4 * 1024 * 1024;
	if (setsockopt(mnl_socket_get_fd(e->nl), SOL_SOCKET, SO_RCVBUFFORCE,
	        &rcv, sizeof(rcv)) < 0)
		setsockopt(mnl_socket_get_fd(e->nl), SOL_SOCKET, SO_RCVBUF,
		    &rcv, sizeof(rcv));
	e->portid = mnl_socket_get_portid(e->nl);
	e->seq = (uint32_t)time(NULL) << 8;
	if (nft_batch_init(&e->batch, e->seq) < 0) {
		nft_engine_free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void
nft_engine_free(struct nft_engine *e)
{
	if (e == NULL)
		return;
	if (e->nl)
		mnl_socket_close(e->nl);
	if (e->watch)
		mnl_socket_close(e->watch);
	nft_desc_free(e->installed);
	nft_desc_free(e->spare);
	nft_patch_free(&e->patch);
	hearth_model_unref(e->model);
	nft_batch_free(&e->batch);
	nft_changes_free(&e->changes);
	free(e->rbuf);
	free(e);
}

void
nft_engine_set_poison(struct nft_engine *e, bool on)
{
	e->poison = on;
}

bool
nft_engine_in_sync(const struct nft_engine *e)
{
	return e->in_sync && !e->unseen;
}

void
nft_engine_invalidate(struct nft_engine *e)
{
	e->in_sync = false;
}

const char *
nft_engine_error(const struct nft_engine *e)
{
	return e->error;
}

const struct nft_engine_stats *
nft_engine_stats(const struct nft_engine *e)
{
	return &e->stats;
}

static const char *
msg_name(uint16_t type)
{
	switch (NFNL_MSG_TYPE(type)) {
	case NFT_MSG_NEWTABLE:
		return "add table";
	case NFT_MSG_DELTABLE:
		return "delete table";
	case NFT_MSG_NEWCHAIN:
		return "add chain";
	case NFT_MSG_DELCHAIN:
		return "delete chain";
	case NFT_MSG_NEWRULE:
		return "add rule";
	case NFT_MSG_DELRULE:
		return "flush chain";
	case NFT_MSG_NEWSET:
		return "add set";
	case NFT_MSG_NEWSETELEM:
		return "add elements";
	case NFT_MSG_DELSETELEM:
		return "delete elements";
	default:
		return "message";
	}
}

/* The type of the batch's message with sequence number seq. */
static uint16_t
batch_msg_type(const struct nft_batch *b, uint32_t seq)
{
	size_t off = 0;
	while (off + sizeof(struct nlmsghdr) <= b->len) {
		const struct nlmsghdr *nlh = (const void *)(b->buf + off);
		if (nlh->nlmsg_seq == seq)
			return nlh->nlmsg_type;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return 0;
}

struct ack_state {
	const struct nft_batch *b;
	uint8_t *acked;
	size_t n_acked;
	int err;
	uint32_t err_seq;
	char extack[128];
};

static void
ack_one(struct ack_state *st, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *ne = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ne)))
		return;
	uint32_t seq = nlh->nlmsg_seq;
	const struct nft_batch *b = st->b;
	if (ne->error != 0 && st->err == 0) {
		st->err = ne->error;
		st->err_seq = seq;
		size_t hlen = sizeof(*ne);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			hlen += mnl_nlmsg_get_payload_len(&ne->msg);
		const struct nlattr *a;
		mnl_attr_for_each(a, nlh, hlen) if (mnl_attr_get_type(a) ==
		    NLMSGERR_ATTR_MSG) snprintf(st->extack, sizeof(st->extack),
		    "%s", mnl_attr_get_str(a));
	}
	if (seq >= b->seq_first && seq < b->seq_first + b->n_msgs &&
	    !st->acked[seq - b->seq_first]) {
		st->acked[seq - b->seq_first] = 1;
		st->n_acked++;
	}
}

/* Reads ACKs until every message of b has one, or an error arrived. */
static int
collect_acks(struct nft_engine *e, struct ack_state *st)
{
	int fd = mnl_socket_get_fd(e->nl);
	bool waited = false;
	while (st->n_acked < st->b->n_msgs) {
		ssize_t n = recv(fd, e->rbuf, RECV_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (st->err != 0 || waited)
				break;
			struct pollfd p = {.fd = fd, .events = POLLIN};
			waited = true;
			if (poll(&p, 1, 1000) <= 0)
				break;
			continue;
		}
		if (n < 0)
			return -errno;
		const struct nlmsghdr *nlh = (const void *)e->rbuf;
		int len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_pid == e->portid)
				ack_one(st, nlh);
		waited = false;
	}
	if (st->err != 0)
		return st->err;
	return st->n_acked == st->b->n_msgs ? 0 : -ETIMEDOUT;
}

/* Drops whatever is queued on the batch socket (stale ACKs). */
static void
drain(struct nft_engine *e)
{
	while (
	    recv(mnl_socket_get_fd(e->nl), e->rbuf, RECV_BUF, MSG_DONTWAIT) > 0)
		;
}

/* Sends the built batch and checks every ACK; 0 or -errno. */
static int
send_batch(struct nft_engine *e)
{
	struct nft_batch *b = &e->batch;
	int fd = mnl_socket_get_fd(e->nl);
	drain(e);
	if ((int)b->len + 65536 > e->sndbuf) {
		int want = (int)b->len + 65536;
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want,
		        sizeof(want)) < 0)
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want,
			    sizeof(want));
		e->sndbuf = want;
	}
	struct ack_state st = {.b = b};
	st.acked = calloc(b->n_msgs + 1, 1);
	if (st.acked == NULL)
		return -ENOMEM;
	double t0 = now_seconds();
	int err = 0;
	if (mnl_socket_sendto(e->nl, b->buf, b->len) < 0)
		err = -errno;
	else
		err = collect_acks(e, &st);
	double dt = now_seconds() - t0;
	e->seq = b->seq_next;
	if (err == 0) {
		e->stats.batches_applied++;
		e->stats.last_batch_seconds = dt;
		metrics_histogram_observe(&e->stats.latency, dt);
		e->error[0] = '\0';
	} else {
		e->stats.batches_failed++;
		uint16_t type = batch_msg_type(b, st.err_seq);
		snprintf(e->error, sizeof(e->error),
		    "kernel refused the batch: %s (%s, message %u of %zu)%s%s",
		    strerror(-err), type ? msg_name(type) : "batch",
		    st.err_seq >= b->seq_first ? st.err_seq - b->seq_first + 1 :
		                                 0,
		    b->n_msgs, st.extack[0] ? ": " : "", st.extack);
	}
	e->stats.last_error = err;
	/* ACKs lost or missing: the batch may or may not have been applied. */
	if (err == -ENOBUFS || err == -ETIMEDOUT || err == -EINTR)
		e->in_sync = false;
	free(st.acked);
	return err;
}

static size_t
desc_rules(const struct nft_desc *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_chains; i++)
		n += d->chains[i].n_rules;
	return n;
}

static int table_handle(struct nft_engine *e, uint64_t *handle);

/* Keeps d's memory for the next description. */
static void
keep_spare(struct nft_engine *e, struct nft_desc *d)
{
	if (d == NULL)
		return;
	nft_desc_free(e->spare);
	e->spare = d;
}

static struct nft_desc *
next_desc(struct nft_engine *e, const struct hearth_model *m)
{
	struct nft_desc *d = nft_desc_rebuild(e->spare, m);
	e->spare = NULL;
	return d;
}

/* Remembers m as the model the installed description is of. */
static void
set_model(struct nft_engine *e, const struct hearth_model *m)
{
	struct hearth_model *old = e->model;
	e->model = hearth_model_ref((struct hearth_model *)m);
	hearth_model_unref(old);
}

static int ruleset_gen(struct nft_engine *e, uint32_t *gen);

/* Joins (on) or leaves the nftables notification group; 0 or -errno. */
static int
watch_membership(struct nft_engine *e, bool on)
{
	int group = NFNLGRP_NFTABLES;
	if (setsockopt(mnl_socket_get_fd(e->watch), SOL_NETLINK,
	        on ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP, &group,
	        sizeof(group)) < 0)
		return -errno;
	return 0;
}

/*
 * Sends the batch with notifications off (see QUIET_MIN_ELEMS). If the
 * generation moved by more than this batch, someone else committed
 * unseen: the engine counts a drift and is out of sync until a full
 * rebuild sent with notifications on.
 */
static int
send_quiet(struct nft_engine *e)
{
	uint32_t g0, g1;
	if (ruleset_gen(e, &g0) < 0 || watch_membership(e, false) < 0)
		return send_batch(e);
	e->stats.quiet_batches++;
	int err = send_batch(e);
	int rejoined = watch_membership(e, true);
	if (rejoined < 0 || ruleset_gen(e, &g1) < 0 ||
	    g1 != g0 + (err == 0 ? 1 : 0)) {
		e->unseen = true;
		e->stats.drifts++;
	}
	return err;
}

/* Builds e->changes into a batch and sends it; 0 or -errno. */
static int
send_changes(struct nft_engine *e)
{
	e->batch.seq_next = e->seq;
	int err = nft_build_changes(&e->batch, &e->changes, e->poison);
	if (err < 0) {
		snprintf(e->error, sizeof(e->error), "building the batch: %s",
		    strerror(-err));
		return err;
	}
	bool quiet = e->watch != NULL && !e->unseen &&
	    e->changes.n_elems >= QUIET_MIN_ELEMS;
	err = quiet ? send_quiet(e) : send_batch(e);
	if (err == 0 && !quiet && e->changes.recreate)
		e->unseen = false; /* a full build everyone could see */
	return err;
}

/* Sends e->changes, installs next (the description of m) on success. */
static int
commit(struct nft_engine *e, struct nft_desc *next,
    const struct hearth_model *m)
{
	int err = send_changes(e);
	if (err < 0) {
		keep_spare(e, next);
		return err;
	}
	keep_spare(e, e->installed);
	e->installed = next;
	set_model(e, m);
	memcpy(e->stats.elems, next->n_elems, sizeof(e->stats.elems));
	e->rules_expected = desc_rules(next);
	if (e->changes.recreate) {
		memcpy(e->set_size, e->changes.set_size, sizeof(e->set_size));
		e->stats.rebuilds++;
		e->in_sync = table_handle(e, &e->table_handle) == 0;
	}
	return 0;
}

int
nft_engine_rebuild(struct nft_engine *e, const struct hearth_model *m)
{
	struct nft_desc *next = next_desc(e, m);
	if (next == NULL)
		return -ENOMEM;
	int err = nft_diff(NULL, next, &e->changes);
	if (err < 0) {
		keep_spare(e, next);
		return err;
	}
	err = commit(e, next, m);
	if (err == 0)
		e->in_sync = true;
	return err;
}

/*
 * Applies m through its change hint: only the hinted services are
 * described and compared. -EAGAIN when the hint does not fit what is
 * installed (the caller compares whole models).
 */
static int
apply_hinted(struct nft_engine *e, const struct hearth_model *m)
{
	int err = nft_patch_prepare(&e->patch, e->installed, e->model, m);
	if (err < 0)
		return err;
	if (!nft_diff_fits(e->set_size, e->patch.news))
		return -EAGAIN; /* the full path recreates the table */
	if ((err = nft_diff_patch(e->installed, &e->patch, &e->changes)) < 0)
		return err;
	if (e->changes.n_chains != 0 || e->changes.n_elems != 0)
		err = send_changes(e);
	if (err < 0)
		return err;
	nft_patch_apply(e->installed, &e->patch);
	e->stats.hints_used++;
	set_model(e, m);
	memcpy(e->stats.elems, e->installed->n_elems, sizeof(e->stats.elems));
	e->rules_expected = desc_rules(e->installed);
	return 0;
}

int
nft_engine_apply(struct nft_engine *e, const struct hearth_model *m)
{
	if (!e->in_sync || e->installed == NULL)
		return nft_engine_rebuild(e, m);
	if (e->model != NULL && m->delta.base_generation != 0) {
		int err = apply_hinted(e, m);
		if (err != -EAGAIN)
			return err;
		e->stats.hints_refused++;
	}
	struct nft_desc *next = next_desc(e, m);
	if (next == NULL)
		return -ENOMEM;
	if (!nft_diff_fits(e->set_size, next)) {
		/* A set outgrew its size: recreate the table with room. */
		keep_spare(e, next);
		return nft_engine_rebuild(e, m);
	}
	int err = nft_diff(e->installed, next, &e->changes);
	if (err < 0) {
		keep_spare(e, next);
		return err;
	}
	if (e->changes.n_chains == 0 && e->changes.n_elems == 0) {
		keep_spare(e, e->installed);
		e->installed = next;
		set_model(e, m);
		return 0;
	}
	return commit(e, next, m);
}

int
nft_engine_remove(struct nft_engine *e)
{
	e->batch.seq_next = e->seq;
	int err = 0;
	if (err == 0)
		err = nft_build_delete_table(&e->batch);
	if (err == 0)
		err = send_batch(e);
	if (err == -ENOENT)
		err = 0;
	if (err == 0) {
		keep_spare(e, e->installed);
		e->installed = NULL;
		hearth_model_unref(e->model);
		e->model = NULL;
		e->in_sync = false;
	}
	return err;
}

/* One request, a callback per answer message; 0 or -errno. */
static int
query(struct nft_engine *e, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	drain(e);
	if (mnl_socket_sendto(e->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(e->nl, e->rbuf, RECV_BUF);
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		int ret =
		    mnl_cb_run(e->rbuf, (size_t)n, seq, e->portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (t == NULL)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0)
		*(uint64_t *)data = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int
gen_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == NFTA_GEN_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*(uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	}
	return MNL_CB_OK;
}

/* The namespace's ruleset generation (one more per committed batch). */
static int
ruleset_gen(struct nft_engine *e, uint32_t *gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN,
	    NFPROTO_UNSPEC, NLM_F_ACK, e->seq++);
	*gen = 0;
	return query(e, nlh, gen_cb, gen);
}

/* The kernel's handle of hearth's table; -ENOENT when it is gone. */
static int
table_handle(struct nft_engine *e, uint64_t *handle)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE,
	    NFPROTO_INET, NLM_F_ACK, e->seq++);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, NFT_TABLE_NAME);
	*handle = 0;
	return query(e, nlh, table_cb, handle);
}

static int
count_cb(const struct nlmsghdr *nlh, void *data)
{
	(*(size_t *)data)++;
	return MNL_CB_OK;
}

static int
anon_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	if (s == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
		(*(size_t *)data)++;
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* Dumps one kind of object of hearth's table through cb. */
static int
dump(struct nft_engine *e, uint16_t type, uint16_t attr, mnl_cb_t cb,
    size_t *count)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET,
	    NLM_F_DUMP, e->seq++);
	mnl_attr_put_strz(nlh, attr, NFT_TABLE_NAME);
	*count = 0;
	return query(e, nlh, cb, count);
}

int
nft_engine_count_anonymous_sets(struct nft_engine *e)
{
	size_t n;
	int err = dump(e, NFT_MSG_GETSET, NFTA_SET_TABLE, anon_cb, &n);
	return err < 0 ? err : (int)n;
}

int
nft_engine_watch(struct nft_engine *e)
{
	if (e->watch != NULL)
		return mnl_socket_get_fd(e->watch);
	e->watch = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK);
	if (e->watch == NULL)
		return -errno;
	if (mnl_socket_bind(e->watch, 1U << (NFNLGRP_NFTABLES - 1),
	        MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;
		mnl_socket_close(e->watch);
		e->watch = NULL;
		return err;
	}
	int fd = mnl_socket_get_fd(e->watch);
	int rcv = WATCH_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	return fd;
}

/* Does this notification concern hearth's table, changed by someone else? */
static bool
foreign_change(const struct nft_engine *e, const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_pid == e->portid ||
	    NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWGEN)
		return false;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)) ||
	    (g->nfgen_family != NFPROTO_INET &&
	        g->nfgen_family != NFPROTO_UNSPEC))
		return false;
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*g))
	{
		/* NFTA_TABLE_NAME and every NFTA_*_TABLE are attribute 1 */
		if (mnl_attr_get_type(a) != 1)
			continue;
		return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 &&
		    strcmp(mnl_attr_get_str(a), NFT_TABLE_NAME) == 0;
	}
	return false;
}

/* After lost notifications: is the table still the one hearth made? */
static bool
table_checks_out(struct nft_engine *e)
{
	uint64_t handle;
	size_t rules;
	if (table_handle(e, &handle) < 0 || handle != e->table_handle)
		return false;
	if (dump(e, NFT_MSG_GETRULE, NFTA_RULE_TABLE, count_cb, &rules) < 0)
		return false;
	return rules == e->rules_expected;
}

int
nft_engine_watch_read(struct nft_engine *e, bool *drift)
{
	*drift = false;
	if (e->watch == NULL)
		return -EBADF;
	int fd = mnl_socket_get_fd(e->watch);
	bool lost = false;
	for (;;) {
		ssize_t n = recv(fd, e->rbuf, RECV_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			lost = true;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		const struct nlmsghdr *nlh = (const void *)e->rbuf;
		int len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			if (foreign_change(e, nlh))
				*drift = true;
	}
	if (!*drift && lost && e->installed != NULL && !table_checks_out(e))
		*drift = true;
	if (*drift) {
		e->stats.drifts++;
		e->in_sync = false;
	}
	return 0;
}
