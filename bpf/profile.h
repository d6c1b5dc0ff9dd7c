/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared between bpf/profile.bpf.c and the agent: fixed-width fields only. */
#ifndef KILN_PROFILE_H
#define KILN_PROFILE_H

#define KILN_COMM_LEN 16
/* Stack map value slots. The kernel refuses more than perf_event_max_stack
 * (127 by default). A stack that fills every slot is shown as truncated. */
#define KILN_STACK_SLOTS 127

/* Why a sample, or part of it, was not recorded. Indexes the `drops` map. */
enum kiln_drop {
	KILN_DROP_KSTACK_COLLISION,	/* kernel stack hash collided (-EEXIST) */
	KILN_DROP_KSTACK_FAILED,	/* kernel stack map full or walk failed */
	KILN_DROP_USTACK_COLLISION,	/* user stack hash collided (-EEXIST) */
	KILN_DROP_USTACK_FAILED,	/* user stack map full or walk failed */
	KILN_DROP_COUNTS_FULL,		/* aggregation map full: sample lost */
	KILN_DROP_EVENTS_FULL,		/* ring buffer full: process event lost */
	KILN_DROP_UNWOUND_FULL,		/* agent: too many distinct unwound stacks */
	KILN_DROP__MAX,
};

/* Plain counters. Indexes the `stats` map. */
enum kiln_stat {
	KILN_STAT_SAMPLES,		/* samples aggregated */
	KILN_STAT_IDLE,			/* samples of the idle task (skipped) */
	KILN_STAT_SELF,			/* samples of kiln itself (skipped) */
	KILN_STAT_FILTERED,		/* samples of processes not asked for */
	KILN_STAT_STACK_COPIED,		/* samples sent with a copy of the user stack */
	KILN_STAT_COPY_RING_FULL,	/* copy not sent (ring full): frame pointers used */
	KILN_STAT_COPY_FAILED,		/* user stack unreadable: frame pointers used */
	KILN_STAT__MAX,
};

/* Aggregation key: one count per distinct value. Stack ids are >= 0, or a
 * negative errno from bpf_get_stackid() (-EFAULT: no stack of that kind). */
struct kiln_sample_key {
	__u32 tgid;
	__u32 tid;		/* 0 unless per-thread */
	__s32 kstack;
	__s32 ustack;
	char comm[KILN_COMM_LEN];	/* group leader's name */
	char thread[KILN_COMM_LEN];	/* thread's name, per-thread only */
};

/* Key of the `seen` map: one ring buffer event per process image. */
struct kiln_proc_key {
	__u32 tgid;
	char comm[KILN_COMM_LEN];
};

/* Sent on the first sample of a {tgid, comm}: the agent snapshots the
 * process's mappings while it still exists. */
struct kiln_proc_event {
	__u32 tgid;
	__u32 pad;
	char comm[KILN_COMM_LEN];
};

/* --- user stacks without frame pointers ------------------------------------- */
/* Where frame pointers cannot walk a process's code, the sampler copies the
 * top of the user stack and the registers, and the agent unwinds them with
 * the files' CFI (.eh_frame, .debug_frame); see docs/unwinding.md. */
#define KILN_UNWIND_RANGES 16
#define KILN_UNWIND_ROOTS 8
#define KILN_STACK_COPY_MAX 32768	/* bytes of user stack copied, at most */
/* x86-64 registers in DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
#define KILN_NR_REGS 17
#define KILN_REG_SP 7
#define KILN_REG_IP 16

enum kiln_unwind_mode {
	KILN_UNWIND_FP,		/* frame pointers only */
	KILN_UNWIND_AUTO,	/* copy where a frame is in code without them */
	KILN_UNWIND_ALL,	/* copy every user stack */
};

/* Value of the `unwind_procs` map: code of one process that frame pointers
 * do not walk, as sorted [start, end) ranges. A frame-pointer walk may still
 * end in such code at a root: the return address into the code that started
 * the thread (__libc_start_call_main, start_thread), learnt by the agent from
 * the stacks it unwound. */
struct kiln_unwind_proc {
	__u32 nr;
	__u32 all;		/* ranges did not fit: copy every sample */
	__u64 start[KILN_UNWIND_RANGES];
	__u64 end[KILN_UNWIND_RANGES];
	__u32 nr_roots;
	__u32 pad;
	__u64 roots[KILN_UNWIND_ROOTS];
};

enum kiln_stack_event_kind {
	KILN_STACK_EV_SAMPLE,	/* a CPU sample, counted once */
	KILN_STACK_EV_WAIT,	/* the user stack of waits: named by usig */
};

/* A user stack copied in an off-CPU or lock program goes in the aggregation
 * key as this id (a stack map id is below 1 << 29): the signature of its
 * stack pointer and instruction pointer, which names the stack while the
 * agent holds it (see waits.c). */
#define KILN_USTACK_COPIED (1 << 29)
#define KILN_USTACK_SIG_MASK (KILN_USTACK_COPIED - 1)

/* One stack copied, sent on the `copies` ring buffer; stack_len bytes read
 * from regs[KILN_REG_SP] follow it. */
struct kiln_stack_event {
	__u32 tgid;
	__u32 tid;		/* always the thread's: the registers are its */
	char comm[KILN_COMM_LEN];
	char thread[KILN_COMM_LEN];
	__u32 kind;		/* enum kiln_stack_event_kind */
	__u32 usig;		/* KILN_STACK_EV_WAIT: its ustack id */
	__u32 nr_kframes;
	__u32 stack_len;
	__u64 regs[KILN_NR_REGS];
	__u64 kframes[KILN_STACK_SLOTS];
};

#endif /* KILN_PROFILE_H */
