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
	KILN_DROP__MAX,
};

/* Plain counters. Indexes the `stats` map. */
enum kiln_stat {
	KILN_STAT_SAMPLES,		/* samples aggregated */
	KILN_STAT_IDLE,			/* samples of the idle task (skipped) */
	KILN_STAT_SELF,			/* samples of kiln itself (skipped) */
	KILN_STAT_FILTERED,		/* samples of processes not asked for */
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

#endif /* KILN_PROFILE_H */
