/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared between bpf/wait.bpf.c (off-CPU and lock contention) and the agent. */
#ifndef KILN_WAIT_H
#define KILN_WAIT_H

#include "profile.h"	/* KILN_COMM_LEN, KILN_STACK_SLOTS */

/* A stack id meaning "not taken": the wait was shorter than the threshold. */
#define KILN_STACK_NOT_TAKEN (-61)	/* -ENODATA */

/* A lock wait's stack not taken at its begin (inside a lock): its
 * off-CPU block's, if it slept, else not taken. Never in a key. */
#define KILN_STACK_DEFERRED (-62)

/* Set in the id of a stack kept in the second stack map (stacks_alt). */
#define KILN_STACK_ALT (1 << 30)

#define KILN_MAX_HELD_LOCKS 4

/* lock:contention_begin flags (include/trace/events/lock.h) */
#define KILN_LCB_SPIN    (1U << 0)
#define KILN_LCB_READ    (1U << 1)
#define KILN_LCB_WRITE   (1U << 2)
#define KILN_LCB_RT      (1U << 3)
#define KILN_LCB_PERCPU  (1U << 4)
#define KILN_LCB_MUTEX   (1U << 5)

/* Locks named in the kernel by address comparison. */
enum kiln_lock_name {
	KILN_LOCK_UNNAMED,
	KILN_LOCK_MMAP,		/* current->mm->mmap_lock */
	KILN_LOCK_SIGLOCK,	/* current->sighand->siglock */
	KILN_LOCK_RQ,		/* this CPU's runqueue lock */
};

/* Task state at switch-out, as recorded. */
enum kiln_task_state {
	KILN_STATE_RUNNABLE,	/* preempted */
	KILN_STATE_SLEEPING,	/* TASK_INTERRUPTIBLE */
	KILN_STATE_UNINTERRUPTIBLE,
	KILN_STATE_IDLE,	/* TASK_IDLE: uninterruptible, not counted in load */
	KILN_STATE_STOPPED,
	KILN_STATE_OTHER,
};

enum kiln_wait_drop {
	KILN_WDROP_OFF_STACK_FAILED,	/* a block whose stack was lost: map full, bucket taken */
	KILN_WDROP_OFF_COUNTS_FULL,	/* off-CPU aggregation full: block lost */
	KILN_WDROP_TASK_STORAGE,	/* no per-task state: block not timed */
	KILN_WDROP_NEGATIVE,		/* switch-in before switch-out (clock) */
	KILN_WDROP_LOCK_STACK_FAILED,
	KILN_WDROP_LOCK_COUNTS_FULL,
	KILN_WDROP_LOCK_NESTING,	/* more than KILN_MAX_HELD_LOCKS open waits */
	KILN_WDROP_LOCK_UNMATCHED_END,	/* contention_end without its begin */
	KILN_WDROP_LOCK_NEGATIVE,	/* contention end before begin (clock) */
	KILN_WDROP_USTACK_EVICTED,	/* agent: a copied user stack no longer held */
	KILN_WDROP_LOCK_DEFER_FULL,	/* a task's ended waits not yet counted: no slot */
	KILN_WDROP_LOCK_UNSELECTED,	/* waits of a task whose selection was never told */
	KILN_WDROP__MAX,
};

enum kiln_wait_stat {
	/* the program counts on the hot path only what cannot be derived: the
	 * agent fills SWITCH_IN and STACK_CACHED (see waits__counters) */
	KILN_WSTAT_SWITCH_OUT,		/* blocks started (timestamped) */
	KILN_WSTAT_SWITCH_IN,		/* blocks ended and matched */
	KILN_WSTAT_OFF_RECORDED,	/* blocks moved into the counts */
	KILN_WSTAT_BELOW_MIN,		/* blocks shorter than --offcpu-min-us */
	KILN_WSTAT_UNMATCHED_IN,	/* switch-in with no switch-out seen (start edge) */
	KILN_WSTAT_STACK_CACHED,	/* switch-outs that reused the task's last stacks */
	KILN_WSTAT_STACK_WALKED,	/* switch-outs that walked the stacks */
	KILN_WSTAT_LOCK_BEGIN,
	KILN_WSTAT_LOCK_RECORDED,	/* waits aggregated */
	KILN_WSTAT_LOCK_NO_STACK,	/* waits below --lock-stack-min-us */
	KILN_WSTAT_LOCK_REBEGIN,	/* repeated begin of an open wait (mutex) */
	KILN_WSTAT_USTACK_COPIED,	/* user stacks copied for the agent to unwind */
	KILN_WSTAT_USTACK_REUSED,	/* walks that found their place already copied */
	KILN_WSTAT_USTACK_COPY_FALLBACK, /* copy not sent: frame pointers used */
	KILN_WSTAT_LOCK_IRQ,		/* waits in interrupt context (pid 0, or skipped) */
	KILN_WSTAT_LOCK_CUT,		/* waits open when the governor detached */
	KILN_WSTAT_LOCK_STACK_FROM_BLOCK, /* waits whose stack is the off-CPU block's */
	KILN_WSTAT_OFF_CUT,		/* blocks whose end went unseen (detached) */
	KILN_WSTAT__MAX,
};

/* Events each program ran for, per CPU (the cost governor's input): one
 * store into the running CPU's line of a global array, no map lookup. */
#define KILN_RUN_CPUS 256
struct kiln_runs {
	__u64 lock_begin;
	__u64 lock_end;
	__u64 sched_switch;
	__u64 pad[5];		/* one cache line per CPU */
};

/* Counts and times in the count maps are weighted: each block or wait adds
 * its weight (KILN_WEIGHT_ONE while recording all the time; one over the share
 * of the time recorded while the governor detaches the programs part of it),
 * and the agent divides by KILN_WEIGHT_ONE. An event's weight is that of the
 * window it began in, so its estimate does not depend on when it is read. */
#define KILN_WEIGHT_ONE 1024

struct kiln_wait_val {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
};

/* --lock-exact-check (tests): every contention, exactly, per lock, thread
 * and system call (what tests compare per-stack estimates with). */
#define KILN_EXACT_MAX 4096

struct kiln_exact_key {
	__u64 lock;
	__u32 tid;
	__s32 syscall;		/* the thread's, at the wait; -1: a kernel thread */
};

struct kiln_exact_val {
	__u64 count;
	__u64 total_ns;
	__u32 name;		/* enum kiln_lock_name */
	__u32 pad;
	char thread[KILN_COMM_LEN];
};

struct kiln_off_key {
	__u32 tgid;
	__u32 tid;		/* 0 unless per-thread */
	__s32 kstack;
	__s32 ustack;
	__u32 state;		/* enum kiln_task_state */
	__u32 pad;
	char comm[KILN_COMM_LEN];
	char thread[KILN_COMM_LEN];
};

struct kiln_lock_key {
	__u64 lock;		/* address: aggregation only, never a label */
	__u32 tgid;
	__u32 tid;
	__s32 kstack;
	__s32 ustack;
	__u32 flags;		/* contention_begin flags, OR-ed over re-begins */
	__u32 name;		/* enum kiln_lock_name */
	char comm[KILN_COMM_LEN];
	char thread[KILN_COMM_LEN];
};

#endif /* KILN_WAIT_H */
