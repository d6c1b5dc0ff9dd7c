/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_SAMPLER_H
#define KILN_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpfutil.h"
#include "profile.h"	/* bpf/profile.h: kiln_sample_key, drop reasons */

struct sampler;

struct sampler_opts {
	int freq;			/* samples per second per CPU */
	bool per_thread;
	bool include_idle;
	struct task_filter filter;	/* empty: whole host */
	uint32_t counts_max;		/* aggregation map entries, per generation */
	uint32_t stacks_max;		/* stack map entries, per generation */
	const char *btf_path;		/* NULL: /sys/kernel/btf/vmlinux */
	enum kiln_unwind_mode unwind_mode;	/* KILN_UNWIND_FP: never copy stacks */
	uint32_t stack_bytes;		/* user stack copied per sample (default 8192) */
	uint32_t stacks_ring_bytes;	/* ring of copied stacks per 4 CPUs (power of 2); 0: 1 MiB */
	/* Unwinds a copied stack (sampler__poll()): writes at most @max
	 * addresses to @pcs, leaf first, and returns how many. */
	size_t (*unwind)(void *ctx, const struct kiln_stack_event *e, const void *stack,
			 uint64_t *pcs, size_t max);
	/* Called from sampler__poll() on the first sample of a process image. */
	void (*on_process)(void *ctx, uint32_t tgid, const char *comm);
	void *ctx;
};

/* One aggregated entry handed out by sampler__drain(). Frames are leaf first;
 * a *_truncated stack filled every slot and may have lost its outer frames. */
struct sampler_entry {
	const struct kiln_sample_key *key;
	uint64_t count;
	const uint64_t *kframes;
	size_t nr_kframes;
	bool k_truncated;
	const uint64_t *uframes;
	size_t nr_uframes;
	bool u_truncated;
};

struct sampler_unwind_stats {
	uint64_t copied;		/* samples received with a stack copy */
	uint64_t copied_bytes;		/* stack bytes received */
	uint64_t frames;		/* user frames unwound from them */
	uint64_t leaf_only;		/* copies that unwound no further than the leaf */
	uint64_t roots_learnt;		/* thread roots found (see learn_root) */
};

typedef int (*sampler_entry_fn)(void *ctx, const struct sampler_entry *e);

/* Load the BPF programs. Returns 0 or -errno after printing one error line. */
int sampler__open(const struct sampler_opts *opts, struct sampler **out);
/* Attach one sampling event per online CPU: sampling starts. Returns 0 or
 * -errno after printing one error line. */
int sampler__start(struct sampler *s);
void sampler__close(struct sampler *s);
/* Detach from the sampling events: nothing new is counted, and a following
 * sampler__drain() reads everything that was. */
void sampler__stop(struct sampler *s);
/* "cycles" or "cpu-clock". */
const char *sampler__event(const struct sampler *s);
int sampler__nr_cpus(const struct sampler *s);
/* Id of the perf_event program (0 if unknown). */
uint32_t sampler__prog_id(const struct sampler *s);
/* Deliver pending process events; waits up to @timeout_ms for a wakeup. */
int sampler__poll(struct sampler *s, int timeout_ms);
/* Deliver everything in the rings now, woken for or not: copies are
 * written without a wakeup until a ring is a quarter full. */
int sampler__consume(struct sampler *s);
/* Switch generations, wait for programs in flight, hand every aggregated
 * entry of the old generation to @fn, then empty it. Blocks for an RCU
 * grace period. Returns 0 or -errno. */
int sampler__drain(struct sampler *s, sampler_entry_fn fn, void *ctx);
/* Totals since open, summed over CPUs. */
void sampler__counters(const struct sampler *s, uint64_t drops[KILN_DROP__MAX],
		       uint64_t stats[KILN_STAT__MAX]);
void sampler__unwind_stats(const struct sampler *s, struct sampler_unwind_stats *out);
/* The ring buffer sampler__poll() consumes (other objects' rings join it). */
struct ring_buffer *sampler__ring(struct sampler *s);
/* The map of processes whose stacks are copied, for other objects to share. */
int sampler__unwind_procs_fd(const struct sampler *s);
/* "auto", "fp" or "dwarf" (--unwind). Returns 0 or -EINVAL. */
int sampler__parse_unwind(const char *s, enum kiln_unwind_mode *out);
/* @want, or KILN_UNWIND_FP after one line saying why this machine cannot
 * copy stacks (not x86-64, kernel before 5.17). */
enum kiln_unwind_mode sampler__unwind_supported(enum kiln_unwind_mode want);
struct symbolizer;
/* Classify the code of process @tgid (frame pointers or not, per mapped
 * file) and tell the program where to copy stacks. Returns 0 or -errno. */
int sampler__note_code(struct sampler *s, struct symbolizer *sym, uint32_t tgid,
		       const char *comm);
/* Which code of process @tgid frame pointers do not walk (NULL: forget it). */
int sampler__set_unwind(struct sampler *s, uint32_t tgid, const struct kiln_unwind_proc *p);
extern const char *const kiln_drop_names[KILN_DROP__MAX];

#endif
