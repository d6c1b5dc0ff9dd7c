/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What `kiln record` and `kiln run` share: the symbolizer, the on-CPU sampler
 * and the off-CPU/lock programs, opened, polled and drained together. */
#ifndef KILN_COLLECT_H
#define KILN_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include "bpfprogs.h"
#include "sampler.h"
#include "symbolizer.h"
#include "governor.h"
#include "waits.h"

struct collect_opts {
	long freq;
	bool per_thread;
	bool include_idle;
	struct task_filter filter;	/* empty: whole host */
	uint32_t counts_max, stacks_max;
	const char *btf_path;
	bool offcpu, locks;
	bool offcpu_kthreads;
	bool no_stack_cache;
	uint64_t offcpu_min_ns, lock_stack_min_ns;
	const char *debug_dir;
	bool debuginfod;
	unsigned int debuginfod_timeout_ms;
	enum kiln_unwind_mode unwind;
	uint32_t stack_bytes;
	unsigned int dwarf_keep;	/* see symbolizer_opts */
	unsigned int dwarf_hold_ms;	/* see symbolizer_opts */
	size_t max_dwarf_bytes;		/* see symbolizer_opts */
	size_t max_file_bytes, max_process_bytes;	/* 0: the symbolizer's defaults */
	/* rings of copied stacks (a power of 2; the samples' ring has this
	 * per 4 CPUs), mapped twice into the agent once written; 0: 1 MiB */
	uint32_t copy_ring_bytes;
	double bpf_budget;		/* governor: fraction of one CPU; 0: 1% */
	bool locks_exact;		/* never detach the lock programs */
	bool offcpu_exact;		/* never detach the switch program */
	bool lock_exact_check;		/* tests: exact counts beside (waits_opts) */
};

/* Parsed DWARF looked up within this long stays parsed between drains
 * (within --dwarf-mb): parsing libc's again costs ~60 ms of CPU. */
#define DWARF_HOLD_MS 30000

struct collector {
	struct symbolizer *sym;
	struct sampler *s;
	struct waits *w;		/* NULL: neither off-CPU nor locks */
	struct governor *gov;		/* with w: the lock and switch programs' cost */
	bool offcpu, locks;		/* what this kernel let us record */
	enum kiln_unwind_mode unwind;	/* what this machine lets us do */
	const char *switch_attach;	/* "tp_btf" / "raw_tp"; NULL: off-CPU off */
	struct bpfprogs progs;		/* BPF programs, snapshot at open */
	uint64_t trimmed_ns;		/* CLOCK_MONOTONIC of the last malloc_trim() */
};

/* Open everything @o asks for that this kernel can do, saying on stderr what
 * it cannot. Prints one error line and returns -errno on failure (@c is then
 * closed). */
int collector__open(const struct collect_opts *o, struct collector *c);
/* Deliver process events and copied stacks; waits up to @timeout_ms. */
int collector__poll(struct collector *c, int timeout_ms);
/* Drain every source: CPU entries to @cpu_fn, off-CPU and lock entries to
 * @wait_fn; then free what the symbolizer parsed for them. */
int collector__drain(struct collector *c, sampler_entry_fn cpu_fn, void *cpu_ctx,
		     wait_entry_fn wait_fn, void *wait_ctx);
/* Detach everything (a following drain reads all that was counted). */
int collector__stop(struct collector *c);
void collector__close(struct collector *c);

#endif
