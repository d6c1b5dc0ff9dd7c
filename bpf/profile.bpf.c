// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* On-CPU sampler: a perf_event program that counts samples per
 * {tgid, kernel stack, user stack} in the kernel. Two generations of maps
 * let the agent drain one while the other fills; see agent/sampler.c. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "profile.h"
#include "kiln.bpf.h"
#include "unwind.bpf.h"

const volatile bool per_thread = false;
const volatile bool include_idle = false;
const volatile __u32 self_tgid = 0;

/* Generation being filled; flipped by the agent before it drains. */
__u32 gen = 0;

#define COUNTS_MAP(name)					\
struct {							\
	__uint(type, BPF_MAP_TYPE_HASH);			\
	__uint(max_entries, 16384);				\
	__type(key, struct kiln_sample_key);			\
	__type(value, __u64);					\
} name SEC(".maps")

#define STACKS_MAP(name)					\
struct {							\
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);			\
	__uint(max_entries, 16384);				\
	__uint(key_size, sizeof(__u32));			\
	__uint(value_size, KILN_STACK_SLOTS * sizeof(__u64));	\
} name SEC(".maps")

COUNTS_MAP(counts0);
COUNTS_MAP(counts1);
STACKS_MAP(stacks0);
STACKS_MAP(stacks1);

COUNTER_MAP(drops, KILN_DROP__MAX);
COUNTER_MAP(stats, KILN_STAT__MAX);

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct kiln_proc_key);
	__type(value, __u8);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

static __always_inline void count_stack_error(__s32 id, bool user)
{
	if (id >= 0 || id == -EFAULT)
		return;
	if (id == -EEXIST)
		count(&drops, user ? KILN_DROP_USTACK_COLLISION : KILN_DROP_KSTACK_COLLISION);
	else
		count(&drops, user ? KILN_DROP_USTACK_FAILED : KILN_DROP_KSTACK_FAILED);
}

static __always_inline void aggregate(void *counts, struct kiln_sample_key *key)
{
	__u64 one = 1, *v;
	long err;

	v = bpf_map_lookup_elem(counts, key);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	err = bpf_map_update_elem(counts, key, &one, BPF_NOEXIST);
	if (err == -EEXIST) {
		/* another CPU created it between our lookup and update */
		v = bpf_map_lookup_elem(counts, key);
		if (v) {
			__sync_fetch_and_add(v, 1);
			return;
		}
	}
	if (err)
		count(&drops, KILN_DROP_COUNTS_FULL);
}

static __always_inline void announce(struct kiln_sample_key *key)
{
	struct kiln_proc_key pk = { .tgid = key->tgid };
	struct kiln_proc_event *e;
	__u8 one = 1;

	__builtin_memcpy(pk.comm, key->comm, sizeof(pk.comm));
	if (bpf_map_lookup_elem(&seen, &pk))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		/* not marked seen: the next sample tries again */
		count(&drops, KILN_DROP_EVENTS_FULL);
		return;
	}
	e->tgid = key->tgid;
	e->pad = 0;
	__builtin_memcpy(e->comm, key->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	bpf_map_update_elem(&seen, &pk, &one, BPF_ANY);
}

#if defined(__TARGET_ARCH_x86)
/* Send this sample with its user registers and the top of its user stack.
 * Returns false when it could not be sent: the caller walks frame pointers. */
static __always_inline bool send_stack(struct bpf_perf_event_data *ctx,
				       const struct kiln_sample_key *key, __u32 tid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct stack_scratch *sc;
	int err;

	if (!task->mm)
		return false;	/* a kernel thread: no user stack */
	sc = unwind_scratch();
	if (!sc)
		return false;
	FILL_REGS(sc->e.regs, &ctx->regs);
	/* the context is read in whole u64 words: cs as the word it sits in */
	if (!(*(volatile __u64 *)&ctx->regs.cs & 3) && unwind_task_regs(sc, task)) {
		/* interrupted in the kernel and its entry registers unreadable */
		count(&stats, KILN_STAT_COPY_FAILED);
		return false;
	}
	sc->e.kind = KILN_STACK_EV_SAMPLE;
	sc->e.usig = 0;
	sc->e.tgid = key->tgid;
	sc->e.tid = tid;
	__builtin_memcpy(sc->e.comm, key->comm, sizeof(sc->e.comm));
	if (per_thread)
		__builtin_memcpy(sc->e.thread, key->thread, sizeof(sc->e.thread));
	else
		sc->e.thread[0] = '\0';
	err = unwind_send(ctx, sc, task, true);
	if (err == KILN_COPY_RING_FULL)
		count(&stats, KILN_STAT_COPY_RING_FULL);
	else if (err)
		count(&stats, KILN_STAT_COPY_FAILED);
	else
		count(&stats, KILN_STAT_STACK_COPIED);
	return !err;
}
#else
static __always_inline bool send_stack(struct bpf_perf_event_data *ctx,
				       const struct kiln_sample_key *key, __u32 tid)
{
	return false;
}
#endif

SEC("perf_event")
int kiln_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct kiln_sample_key key = {};
	struct task_struct *task;
	__u32 g;

	if (tid == 0 && !include_idle) {
		count(&stats, KILN_STAT_IDLE);
		return 0;
	}
	if (tgid == self_tgid) {
		count(&stats, KILN_STAT_SELF);
		return 0;
	}
	task = (struct task_struct *)bpf_get_current_task();
	if (!task_selected(task, tgid, true)) {
		count(&stats, KILN_STAT_FILTERED);
		return 0;
	}

	key.tgid = tgid;
	BPF_CORE_READ_STR_INTO(&key.comm, task, group_leader, comm);
	if (per_thread) {
		key.tid = tid;
		bpf_get_current_comm(key.thread, sizeof(key.thread));
	}

	if (unwind_mode != KILN_UNWIND_FP && tgid && unwind_needs_copy(ctx, tgid) &&
	    send_stack(ctx, &key, tid)) {
		count(&stats, KILN_STAT_SAMPLES);
		announce(&key);
		return 0;
	}

	/* read once: stacks and counts must come from the same generation */
	g = *(volatile __u32 *)&gen;
	if (g & 1) {
		key.kstack = bpf_get_stackid(ctx, &stacks1, 0);
		key.ustack = bpf_get_stackid(ctx, &stacks1, BPF_F_USER_STACK);
	} else {
		key.kstack = bpf_get_stackid(ctx, &stacks0, 0);
		key.ustack = bpf_get_stackid(ctx, &stacks0, BPF_F_USER_STACK);
	}
	count_stack_error(key.kstack, false);
	count_stack_error(key.ustack, true);

	if (g & 1)
		aggregate(&counts1, &key);
	else
		aggregate(&counts0, &key);
	count(&stats, KILN_STAT_SAMPLES);

	if (tgid)
		announce(&key);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
