/*
 * The nft module's pure logic: what hearth's table `inet hearth` should
 * hold for a model (a description), what changes between two
 * descriptions, and the builder that turns changes into libnftnl objects
 * inside a netlink batch buffer without sending anything. No I/O here:
 * unit tests, the bench and the I/O half (nft_engine.c) link it alike.
 *
 * The layout: service dispatch through the named verdict maps svc4/svc6
 * keyed VIP . protocol . port; endpoint choice through the named maps
 * ep4/ep6 keyed VIP . protocol . port . slot, the slot drawn per new
 * connection by `numgen random mod K` in one shared chain per backend
 * count K (pick4_K, pick6_K); masquerade decided by the named sets
 * masq4/masq6; ports without backends go to the shared chain `refuse`
 * (TCP reset, ICMP port unreachable), proxy ports to `proxy_P`. The
 * table therefore holds no anonymous set, whatever the number of
 * services, and a service change is a handful of element changes.
 */
#ifndef HEARTH_NFT_LOGIC_H
#define HEARTH_NFT_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define NFT_TABLE_NAME    "hearth"
#define NFT_CHAIN_NAMELEN 24

enum nft_set_id {
	NFT_SET_SVC4,
	NFT_SET_SVC6,
	NFT_SET_EP4,
	NFT_SET_EP6,
	NFT_SET_MASQ4,
	NFT_SET_MASQ6,
	NFT_SET_ALLOW,
	NFT_SET_COUNT,
};

/* A named set or map of the table (static definitions). */
struct nft_set_def {
	const char *name;
	uint32_t flags;    /* NFT_SET_MAP, NFT_SET_INTERVAL, ... */
	uint32_t key_type; /* nft's concatenated datatype id */
	uint32_t key_len;
	uint32_t data_type; /* 0: plain set */
	uint32_t data_len;
	uint8_t concat[4]; /* field lengths of interval concatenations */
};

extern const struct nft_set_def nft_sets[NFT_SET_COUNT];

/* What a rule does; every rule of the table is one of these. */
enum nft_rule_kind {
	NFT_R_DISPATCH, /* daddr . l4proto . dport vmap @svcF */
	NFT_R_JUMP,     /* jump target */
	NFT_R_MASQ_SVC, /* ct dnat, ct original dst in @masqF: masquerade */
	NFT_R_PICK, /* dnat to daddr . l4proto . dport . numgen mod n map @epF
	             */
	NFT_R_REFUSE_TCP, /* tcp: reject with tcp reset */
	NFT_R_REFUSE_ANY, /* reject with icmpx port-unreachable */
	NFT_R_REDIRECT,   /* l4proto proto: redirect to :port */
	NFT_R_HOST_MASQ,  /* saddr in cidr, daddr not, [oifname]: masquerade */
	NFT_R_PORT_FWD,   /* [iifname] daddr local, proto dport: dnat to
	                     addr:port2 */
	NFT_R_CT_ACCEPT,  /* ct state established,related accept */
	NFT_R_CT_INVALID_DROP, /* ct state invalid drop */
	NFT_R_DNAT_ACCEPT,     /* ct status dnat accept */
	NFT_R_SADDR_ACCEPT,    /* saddr in cidr accept */
	NFT_R_LO_ACCEPT,       /* iifname "lo" accept */
	NFT_R_PROTO_ACCEPT,    /* l4proto proto accept (ICMP, ICMPv6) */
	NFT_R_ALLOW_SET,       /* l4proto . dport @allow_in accept */
};

/* One rule; zero-filled before use so that memcmp compares two. */
struct nft_rule_spec {
	uint8_t kind;
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t proto;  /* IPPROTO_TCP/UDP/ICMP/ICMPV6 */
	uint8_t prefix;
	uint16_t port;
	uint16_t port2;
	uint32_t n; /* NFT_R_PICK: the modulus */
	uint8_t addr[16];
	uint8_t addr2[16];
	char ifname[16];
	char target[NFT_CHAIN_NAMELEN];
};

enum nft_hook {
	NFT_HOOK_NONE,
	NFT_HOOK_PREROUTING,
	NFT_HOOK_INPUT,
	NFT_HOOK_FORWARD,
	NFT_HOOK_OUTPUT,
	NFT_HOOK_POSTROUTING,
};

struct nft_chain_def {
	char name[NFT_CHAIN_NAMELEN];
	uint8_t hook; /* enum nft_hook; NONE: a regular chain */
	bool nat;     /* type nat, else filter */
	bool policy_drop;
	int32_t prio;
	struct nft_rule_spec *rules;
	size_t n_rules;
};

enum nft_svc_kind {
	NFT_SVC_REFUSE,
	NFT_SVC_DNAT,
	NFT_SVC_PROXY,
};

/* A service port's identity: VIP, protocol, port. Zero-filled. */
struct nft_key {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint16_t port;    /* host order */
	uint8_t proto;
	uint8_t family;
};

struct nft_backend {
	uint8_t addr[16];
	uint16_t port;
};

struct nft_svc {
	struct nft_key key;
	uint8_t kind;
	bool masq; /* DNAT, not local traffic */
	bool dup;  /* the same key earlier in the model: ignored */
	bool dead; /* removed by a patch (nft_patch_apply): ignored */
	uint16_t proxy_port;
	uint32_t n_backends;
	uint32_t first_backend; /* index into nft_desc.backends */
};

/* An allow_in element: protocol and an inclusive port range. */
struct nft_allow {
	uint8_t proto;
	uint16_t first;
	uint16_t last;
};

/* Everything the table should hold for one model. */
struct nft_desc {
	struct nft_chain_def *chains;
	size_t n_chains;
	struct nft_allow *allow;
	size_t n_allow;
	struct nft_svc *svcs;
	size_t n_svcs, cap_svcs;
	struct nft_backend *backends;
	size_t n_backends, cap_backends;
	size_t n_elems[NFT_SET_COUNT];
	size_t n_dups;    /* service ports ignored as duplicates */
	size_t n_skipped; /* backends of the wrong family, ignored */
	/* Hash index of svcs by key (built on demand; -1 = empty slot,
	 * -2 = deleted by a patch). */
	int32_t *index;
	size_t index_cap;
	size_t index_used; /* slots not empty */
	/* Service ports per shared chain: pick chains by backend count and
	 * family (pick_refs[2 * K + is_v6]), proxy chains by port. */
	uint32_t *pick_refs;
	size_t pick_cap;
	uint16_t proxy_ports[8];
	uint32_t proxy_refs[8];
	size_t n_proxy_ports;
	bool scattered; /* patched: svcs are no longer in model order */
	size_t n_dead;  /* svcs marked dead */
};

/* Builds the description of model m; NULL on allocation failure. */
struct nft_desc *nft_desc_build(const struct hearth_model *m);
/* The same, reusing d's memory (d may be NULL); NULL on failure (d freed). */
struct nft_desc *nft_desc_rebuild(struct nft_desc *d,
    const struct hearth_model *m);
void nft_desc_free(struct nft_desc *d);
/* Marks duplicate keys (first wins) and builds the index; 0 or -ENOMEM. */
int nft_desc_index(struct nft_desc *d);
/* The svc with key k, or NULL (after nft_desc_index). */
const struct nft_svc *nft_desc_lookup(const struct nft_desc *d,
    const struct nft_key *k);
/* Marks s as a duplicate (a new desc mirroring an old one's). */
void nft_desc_mark_dup(struct nft_desc *d, struct nft_svc *s);
const struct nft_chain_def *nft_desc_chain(const struct nft_desc *d,
    const char *name);

/*
 * A change described by a model's change hint (hearth_model_delta): the
 * entries the hinted services had in the installed description (olds)
 * and the entries they get (news). news also holds the whole new table's
 * element counts, chains and allow_in ranges. Cost: the size of the
 * change, not of the model.
 */
struct nft_patch {
	struct nft_desc *olds;
	struct nft_desc *news;
};

/*
 * Prepares moving installed (the description of model base) to model m
 * through m's hint. Returns 0; -EAGAIN when the hint cannot be used (no
 * hint, not based on base, the proxy ports changed, a duplicate key is
 * involved, an index out of range): the caller then diffs whole models;
 * or -ENOMEM. Reserves room in installed so that nft_patch_apply cannot
 * fail.
 */
int nft_patch_prepare(struct nft_patch *p, struct nft_desc *installed,
    const struct hearth_model *base, const struct hearth_model *m);
/* Makes installed the description of the patched model (after the kernel
 * accepted nft_diff_patch's changes). */
void nft_patch_apply(struct nft_desc *installed, struct nft_patch *p);
void nft_patch_free(struct nft_patch *p);

/* One element to add or delete. Key and data as the kernel holds them. */
struct nft_elem_op {
	uint8_t set; /* enum nft_set_id */
	bool del;
	uint8_t klen;
	uint8_t dlen;
	uint8_t key[28];
	uint8_t key_end[8]; /* NFT_SET_ALLOW only */
	uint8_t data[20];
	char chain[NFT_CHAIN_NAMELEN]; /* verdict maps: goto chain */
};

enum nft_chain_op_kind {
	NFT_CHAIN_ADD,   /* create, then add its rules */
	NFT_CHAIN_FLUSH, /* delete its rules, then add the new ones */
	NFT_CHAIN_DEL,
};

struct nft_chain_op {
	uint8_t op;
	const struct nft_chain_def *def; /* borrowed from a desc */
};

/* The changes from one description to another, in batch order. */
struct nft_changes {
	bool recreate; /* full build: add, delete, add the table */
	/* With recreate: each set's size (its element limit; 0 = none). */
	uint32_t set_size[NFT_SET_COUNT];
	struct nft_chain_op *chains;
	size_t n_chains, cap_chains;
	struct nft_elem_op *elems;
	size_t n_elems, cap_elems;
};

/*
 * Fills ch with what turns old into new (old NULL: a full build of new,
 * recreating the table). Both descriptions must outlive ch. Returns 0 or
 * -ENOMEM.
 */
int nft_diff(struct nft_desc *old, struct nft_desc *new,
    struct nft_changes *ch);
/* The changes a prepared patch makes to installed. 0 or -ENOMEM. */
int nft_diff_patch(struct nft_desc *installed, struct nft_patch *p,
    struct nft_changes *ch);
void nft_changes_reset(struct nft_changes *ch);
/*
 * The size a set is created with for n elements: room to double, at least
 * 1024. Sized sets are filled without rehashing; a set that outgrows its
 * size is recreated (nft_diff_fits tells when).
 */
uint32_t nft_set_size(size_t n);
/* Do new's element counts fit the sizes of a table built with ch? */
bool nft_diff_fits(const uint32_t set_size[NFT_SET_COUNT],
    const struct nft_desc *new);
void nft_changes_free(struct nft_changes *ch);
/* Elements a service port contributes (into ops, at most 4 + 2 * n). */
size_t nft_svc_elems(const struct nft_desc *d, const struct nft_svc *s,
    bool del, struct nft_elem_op *ops);

/* A growable netlink batch buffer with sequence numbers. */
struct nft_batch {
	char *buf;
	size_t len;
	size_t cap;
	uint32_t seq_begin; /* the batch-begin message */
	uint32_t seq_first; /* first message that asks for an ACK */
	uint32_t seq_next;
	size_t n_msgs; /* messages that ask for an ACK */
};

int nft_batch_init(struct nft_batch *b, uint32_t seq);
void nft_batch_free(struct nft_batch *b);

/*
 * Builds ch into b as one transaction (begin ... end); every message asks
 * for an ACK. poison appends a rule in a chain that does not exist, which
 * the kernel refuses (the fault-injection hook). Returns 0 or -ENOMEM.
 */
int nft_build_changes(struct nft_batch *b, const struct nft_changes *ch,
    bool poison);
/* Builds a transaction that deletes the table. */
int nft_build_delete_table(struct nft_batch *b);

/* Key/data encoders, shared with tests. */
size_t nft_key_bytes(const struct nft_key *k, uint8_t *out);

#endif
