/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_AGGREGATE_H
#define KILN_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>
#include "bpfprogs.h"
#include "flags.h"
#include "pprof.h"
#include "sampler.h"
#include "symbolizer.h"
#include "waits.h"

#define FLAG_CHAINS_MAX 64
#define FLAG_PROGS_MAX 64

/* A "from" chain of one flag: the callers outward of the flagged frame. */
struct flag_chain {
	enum kiln_flag flag;
	char text[480];			/* "htab_map_update_elem <- bpf_prog_..." */
	uint64_t value;
};

/* A BPF program seen in stacks: self when it is the flagged frame, total
 * when it is anywhere below the first interrupt boundary. */
struct flag_prog {
	uint32_t id;			/* 0: no loaded program covered the address */
	char symbol[128];		/* bpf_prog_<tag>_<name> */
	uint64_t self, total;
};

/* Flags of one profile, in that profile's unit (samples or nanoseconds). */
struct flag_summary {
	uint64_t value[KILN_FLAG__MAX];
	uint64_t under[KILN_FLAG__MAX][KILN_UNDER__COUNT];
	struct flag_chain chains[FLAG_CHAINS_MAX];
	size_t nr_chains;
	uint64_t chains_other[KILN_FLAG__MAX];	/* past FLAG_CHAINS_MAX: summed here */
	struct flag_prog progs[FLAG_PROGS_MAX];
	size_t nr_progs;
	uint64_t progs_other;
};

/* Turns drained kernel aggregates into symbolized pprof samples. */
struct aggregate {
	struct pprof *prof;		/* owned by the caller */
	struct symbolizer *sym;		/* owned by the caller */
	int64_t period;			/* nanoseconds per CPU sample */
	bool per_thread;
	bool no_identity;		/* no pid/comm/tid/thread labels (uploads) */
	uint64_t samples;		/* counts added */
	uint64_t lost;			/* counts that failed to be added (no memory) */
	struct flag_summary *flags;	/* owned by the caller; NULL: no summary */
	struct bpfprogs *progs;		/* NULL: BPF program frames not mapped to ids */
};

/* sampler_entry_fn: symbolize one on-CPU entry and add it. Never fails the
 * drain: what cannot be added is counted in ->lost. */
int aggregate__entry(void *ctx, const struct sampler_entry *e);

#define LOCK_TABLE_MAX 256

/* Per lock (name or address, and kind) totals for the summary. */
struct lock_total {
	char name[48];			/* "mmap_lock" or "0xffff8881..." */
	char kind[24];
	uint64_t count, total_ns, max_ns;
};

/* Off-CPU and lock entries: ->off and ->lock receive the samples. */
struct wait_aggregate {
	struct aggregate off;
	struct aggregate lock;
	struct lock_total *locks;	/* grown as locks come, up to LOCK_TABLE_MAX */
	size_t nr_locks, locks_cap;
	struct lock_total other;	/* locks past LOCK_TABLE_MAX */
	uint64_t offcpu_ns;
	uint64_t lock_ns;		/* wait time of every lock, the table's sum */
};

/* wait_entry_fn */
int aggregate__wait_entry(void *ctx, const struct wait_entry *e);
/* Free what @w allocated itself (not its profiles). */
void wait_aggregate__release(struct wait_aggregate *w);

/* "spinlock", "rwsem_read", "mutex", ... from contention_begin flags. */
const char *lock_kind_name(uint32_t flags);
const char *task_state_name(uint32_t state);
/* Frames of a BPF program and the tracepoint machinery that ran it. */
bool probe_glue_frame(const char *name);
/* "mmap_lock", "siglock", "rq_lock", else the lock's address in hex. */
const char *lock_label(const struct kiln_lock_key *k, char *buf, size_t len);
/* True for frames of the locking code itself (skipped above the caller). */
bool lock_internal_frame(const char *name);

#endif
