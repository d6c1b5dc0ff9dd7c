/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_WAITS_H
#define KILN_WAITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpfutil.h"
#include "wait.h"	/* bpf/wait.h */

struct waits;

struct waits_opts {
	bool offcpu;			/* sched_switch */
	bool locks;			/* lock:contention_begin/end */
	bool per_thread;
	bool keep_kthreads;		/* off-CPU of kernel threads */
	bool use_tp_btf;		/* else raw_tp for sched_switch */
	bool cache_stacks;
	struct task_filter filter;	/* empty: whole host */
	uint64_t offcpu_min_ns;
	uint64_t lock_stack_min_ns;
	uint32_t counts_max;		/* per map and generation */
	uint32_t stacks_max;
	const char *btf_path;
	/* user stacks where frame pointers do not walk: copied once per place
	 * and unwound by @unwind (see sampler_opts) */
	enum kiln_unwind_mode unwind_mode;
	uint32_t stack_bytes;
	uint32_t copy_ring_bytes;	/* power of 2; 0: 1 MiB */
	bool lock_exact_check;		/* tests: count every contention too */
	int unwind_procs_fd;		/* the sampler's unwind_procs map */
	size_t (*unwind)(void *ctx, const struct kiln_stack_event *e, const void *stack,
			 uint64_t *pcs, size_t max);
	void *unwind_ctx;
};

struct wait_entry {
	const struct kiln_off_key *off;		/* one of off / lock is set */
	const struct kiln_lock_key *lock;
	struct kiln_wait_val val;
	const uint64_t *kframes, *uframes;	/* leaf first */
	size_t nr_kframes, nr_uframes;
	bool k_truncated, u_truncated;
};

typedef int (*wait_entry_fn)(void *ctx, const struct wait_entry *e);

/* Load and attach what opts asks for. Prints one error line and returns
 * -errno on failure. */
int waits__open(const struct waits_opts *opts, struct waits **out);
/* Detach, then move what tasks still hold into the counts (a task iterator).
 * Returns 0 or -errno (after printing why). */
int waits__stop(struct waits *w);
void waits__close(struct waits *w);
/* "tp_btf" or "raw_tp": how sched_switch is attached. */
const char *waits__switch_attach(const struct waits *w);
/* As sampler__drain(): switch generations, wait, hand out, empty. */
int waits__drain(struct waits *w, wait_entry_fn fn, void *ctx);
struct ring_buffer;
/* Have @rb (polled with the sampler's) deliver the copied user stacks. */
int waits__add_ring(struct waits *w, struct ring_buffer *rb);
void waits__counters(const struct waits *w, uint64_t drops[KILN_WDROP__MAX],
		     uint64_t stats[KILN_WSTAT__MAX]);
/* Attach (@on) or detach the lock programs, for the cost governor; waits
 * open at a detach are dropped (counted as cut). No-op once stopped.
 * Returns 0 or -errno. */
int waits__attach_locks(struct waits *w, bool on);
bool waits__locks_attached(const struct waits *w);

/* Times each program ran since open, summed over CPUs (read from the
 * programs' memory: no system call). */
struct waits_runs {
	uint64_t lock_begin, lock_end, sched_switch;
};
void waits__runs(const struct waits *w, struct waits_runs *out);

enum { WAITS_PROG_LOCK_BEGIN, WAITS_PROG_LOCK_END, WAITS_PROG_SWITCH, WAITS_PROG__MAX };
/* The programs' fds (-1: not loaded), for their run-time stats. */
int waits__prog_fds(const struct waits *w, int fds[WAITS_PROG__MAX]);
/* Attach (@on) or detach the switch program, for the cost governor.
 * Returns 0 or -errno. */
int waits__attach_switch(struct waits *w, bool on);
bool waits__switch_attached(const struct waits *w);
/* Lock waits and off-CPU blocks that begin from now on count this many times
 * each (>= 1): the governor records 1/scale of the time. */
void waits__set_weights(struct waits *w, double lock_scale, double off_scale);
/* With lock_exact_check: every contention per lock, thread and system call,
 * exactly, into @keys/@vals (up to @max; KILN_EXACT_MAX holds them all), and
 * in @dropped those lost to a full map. Returns how many. */
size_t waits__exact_locks(const struct waits *w, struct kiln_exact_key *keys,
			  struct kiln_exact_val *vals, size_t max, uint64_t *dropped);
extern const char *const kiln_wait_drop_names[KILN_WDROP__MAX];

#endif
