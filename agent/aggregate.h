/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_AGGREGATE_H
#define KILN_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>
#include "pprof.h"
#include "sampler.h"
#include "symbolizer.h"
#include "waits.h"

/* Turns drained kernel aggregates into symbolized pprof samples. */
struct aggregate {
	struct pprof *prof;		/* owned by the caller */
	struct symbolizer *sym;		/* owned by the caller */
	int64_t period;			/* nanoseconds per CPU sample */
	bool per_thread;
	uint64_t samples;		/* counts added */
	uint64_t lost;			/* counts that failed to be added (no memory) */
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
	struct lock_total locks[LOCK_TABLE_MAX];
	size_t nr_locks;
	struct lock_total other;	/* locks past LOCK_TABLE_MAX */
	uint64_t offcpu_ns;
};

/* wait_entry_fn */
int aggregate__wait_entry(void *ctx, const struct wait_entry *e);

/* "spinlock", "rwsem_read", "mutex", ... from contention_begin flags. */
const char *lock_kind_name(uint32_t flags);
const char *task_state_name(uint32_t state);
/* Frames of a BPF program and the tracepoint machinery that ran it. */
bool probe_glue_frame(const char *name);
/* True for frames of the locking code itself (skipped above the caller). */
bool lock_internal_frame(const char *name);

#endif
