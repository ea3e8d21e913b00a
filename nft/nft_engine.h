/*
 * The nft module's I/O half: a netlink socket that sends the batches
 * nft_logic builds and checks every ACK, the record of what the kernel
 * holds (the installed description), and a second socket subscribed to
 * nftables change notifications that tells foreign changes to hearth's
 * table from its own. The module (nft_module.c) and hearth-bench use it.
 */
#ifndef HEARTH_NFT_ENGINE_H
#define HEARTH_NFT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "model.h"
#include "nft_logic.h"

struct nft_engine;

struct nft_engine_stats {
	uint64_t batches_applied;
	uint64_t batches_failed;
	uint64_t rebuilds;
	uint64_t drifts;
	uint64_t hints_used;    /* applies through a model's change hint */
	uint64_t hints_refused; /* hint did not fit: whole models compared */
	uint64_t quiet_batches; /* large batches sent with notifications off */
	double last_batch_seconds;
	struct metrics_histogram latency;
	size_t elems[NFT_SET_COUNT];
	int last_error; /* 0 or the kernel's -errno of the last batch */
};

/* Opens the netlink socket; NULL with errno set on failure. */
struct nft_engine *nft_engine_new(void);
void nft_engine_free(struct nft_engine *e);

/* Makes every batch carry an object the kernel refuses (tests only). */
void nft_engine_set_poison(struct nft_engine *e, bool on);

/*
 * Replaces the table with m's in one transaction (add, delete, add the
 * table, then everything in it). Returns 0 or a negative errno (the
 * kernel's when it refused; the ruleset is then untouched).
 */
int nft_engine_rebuild(struct nft_engine *e, const struct hearth_model *m);
/*
 * Moves the table to m with only the changed elements and chains, in one
 * transaction; rebuilds when the kernel's state is not known. When m
 * carries a change hint based on the model installed last, only the
 * hinted services are looked at (cost in proportion to the change);
 * otherwise the whole models are compared. Same returns as
 * nft_engine_rebuild.
 */
int nft_engine_apply(struct nft_engine *e, const struct hearth_model *m);
/* Deletes the table (if it exists). */
int nft_engine_remove(struct nft_engine *e);
/*
 * True while the installed description matches the kernel's table. False
 * also after a large batch during which someone else committed unseen:
 * the caller then rebuilds (nft_engine_rebuild), as on drift.
 */
bool nft_engine_in_sync(const struct nft_engine *e);
/* Marks the kernel's state unknown (the next apply rebuilds). */
void nft_engine_invalidate(struct nft_engine *e);

/* A human-readable description of the last failure ("" if none). */
const char *nft_engine_error(const struct nft_engine *e);
const struct nft_engine_stats *nft_engine_stats(const struct nft_engine *e);

/* Subscribes to nftables notifications; returns the fd or -errno. */
int nft_engine_watch(struct nft_engine *e);
/*
 * Reads pending notifications. Sets *drift when someone else changed
 * hearth's table (or notifications were lost and the table does not
 * check out). Returns 0 or -errno.
 */
int nft_engine_watch_read(struct nft_engine *e, bool *drift);

/* Number of anonymous sets in hearth's table, or -errno. */
int nft_engine_count_anonymous_sets(struct nft_engine *e);

#endif
