// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* On-CPU sampler: a perf_event program that counts samples per
 * {tgid, kernel stack, user stack} in the kernel. Two generations of maps
 * let the agent drain one while the other fills; see agent/sampler.c. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "profile.h"
#include "kiln.bpf.h"

const volatile bool per_thread = false;
const volatile bool filter_pids = false;
const volatile bool include_idle = false;
const volatile __u32 self_tgid = 0;
const volatile __u32 unwind_mode = KILN_UNWIND_FP;	/* enum kiln_unwind_mode */
const volatile __u32 stack_bytes = 8192;		/* user stack copied per sample */

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

/* Processes with code frame pointers do not walk (agent-filled). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct kiln_unwind_proc);
} unwind_procs SEC(".maps");

/* Samples with a copy of the user stack; sized by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} stacks SEC(".maps");

struct stack_scratch {
	struct kiln_stack_event e;
	__u8 stack[KILN_STACK_COPY_MAX];
};

/* One slot per CPU (a per-CPU map value cannot be this large); the agent
 * sizes it. Programs on one CPU do not nest: bpf_prog_active. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
} scratch SEC(".maps");

/* The frame-pointer walk of a sample, to check its frames' code. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[128]);	/* KILN_STACK_SLOTS, rounded up for a mask */
} fp_frames SEC(".maps");

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
static const struct kiln_unwind_proc copy_all = { .all = 1 };

struct check_ctx {
	const struct kiln_unwind_proc *r;
	const __u64 *frames;
	__u32 nr;
	bool hit;
};

static bool in_ranges(const struct kiln_unwind_proc *r, __u64 addr)
{
	for (__u32 j = 0; j < KILN_UNWIND_RANGES; j++) {
		if (j >= r->nr)
			break;
		if (addr >= r->start[j] && addr < r->end[j])
			return true;
	}
	return false;
}

static bool is_root(const struct kiln_unwind_proc *r, __u64 addr)
{
	for (__u32 j = 0; j < KILN_UNWIND_ROOTS; j++) {
		if (j >= r->nr_roots)
			break;
		if (addr == r->roots[j])
			return true;
	}
	return false;
}

static long check_frame(__u32 i, void *vctx)
{
	struct check_ctx *c = vctx;
	__u32 idx = i;
	__u64 addr;

	if (i >= c->nr || i >= KILN_STACK_SLOTS)
		return 1;
	/* hide what the compiler knows of idx, or it drops the mask the
	 * verifier needs to see */
	asm volatile("" : "+r"(idx));
	addr = c->frames[idx & 127];
	/* return addresses: the call is one byte before */
	if (!in_ranges(c->r, i ? addr - 1 : addr))
		return 0;
	if (i && i + 1 == c->nr && is_root(c->r, addr))
		return 1;	/* the walk ends where the thread began */
	c->hit = true;
	return 1;
}

/* Does the frame-pointer walk of this sample cross code without frame
 * pointers? Its first such frame is still right: the return address saved
 * by the last function that kept a frame pointer. */
static __always_inline bool needs_copy(struct bpf_perf_event_data *ctx,
				       const struct kiln_sample_key *key)
{
	const struct kiln_unwind_proc *r;
	struct check_ctx c = {};
	__u32 zero = 0;
	__u64 *frames;
	long n;

	if (unwind_mode == KILN_UNWIND_ALL)
		return true;
	r = bpf_map_lookup_elem(&unwind_procs, &key->tgid);
	if (!r) {
		/* not classified yet: copy until the agent has looked at its
		 * code (on the process's first event) and replaced this entry */
		bpf_map_update_elem(&unwind_procs, &key->tgid, &copy_all, BPF_NOEXIST);
		return true;
	}
	if (r->all)
		return true;
	frames = bpf_map_lookup_elem(&fp_frames, &zero);
	if (!frames)
		return false;
	n = bpf_get_stack(ctx, frames, KILN_STACK_SLOTS * sizeof(__u64), BPF_F_USER_STACK);
	if (n <= 0)
		return true;	/* not even a leaf: let the unwinder try */
	c.r = r;
	c.frames = frames;
	c.nr = (__u32)(n / sizeof(__u64));
	bpf_loop(KILN_STACK_SLOTS, check_frame, &c, 0);
	return c.hit;
}

struct vma_end_ctx {
	__u64 end;
};

static long vma_end(struct task_struct *task, struct vm_area_struct *vma, void *vctx)
{
	struct vma_end_ctx *c = vctx;

	c->end = vma->vm_end;
	return 0;
}

#define FILL_REGS(r, p) do {						\
	(r)[0] = (p)->ax; (r)[1] = (p)->dx; (r)[2] = (p)->cx;		\
	(r)[3] = (p)->bx; (r)[4] = (p)->si; (r)[5] = (p)->di;		\
	(r)[6] = (p)->bp; (r)[7] = (p)->sp; (r)[8] = (p)->r8;		\
	(r)[9] = (p)->r9; (r)[10] = (p)->r10; (r)[11] = (p)->r11;	\
	(r)[12] = (p)->r12; (r)[13] = (p)->r13; (r)[14] = (p)->r14;	\
	(r)[15] = (p)->r15; (r)[16] = (p)->ip;				\
} while (0)

/* Send this sample with its user registers and the top of its user stack.
 * Returns false when it could not be sent: the caller walks frame pointers. */
static __always_inline bool send_stack(struct bpf_perf_event_data *ctx,
				       const struct kiln_sample_key *key, __u32 tid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 cpu = bpf_get_smp_processor_id(), len;
	struct vma_end_ctx vc = {};
	struct stack_scratch *sc;
	__u64 sp;
	long n;

	if (!task->mm)
		return false;	/* a kernel thread: no user stack */
	sc = bpf_map_lookup_elem(&scratch, &cpu);
	if (!sc)
		return false;
	FILL_REGS(sc->e.regs, &ctx->regs);
	/* the context is read in whole u64 words: cs as the word it sits in */
	if (!(*(volatile __u64 *)&ctx->regs.cs & 3)) {
		/* interrupted in the kernel: the registers saved at its entry */
		struct pt_regs u;

		if (bpf_probe_read_kernel(&u, sizeof(u), (void *)bpf_task_pt_regs(task))) {
			count(&stats, KILN_STAT_COPY_FAILED);
			return false;
		}
		FILL_REGS(sc->e.regs, &u);
	}
	sp = sc->e.regs[KILN_REG_SP];
	len = stack_bytes;
	/* not past the end of the stack's mapping: the read would fail whole */
	if (!bpf_find_vma(task, sp, vma_end, &vc, 0) && vc.end > sp && vc.end - sp < len)
		len = (__u32)(vc.end - sp);
	if (len > KILN_STACK_COPY_MAX)
		len = KILN_STACK_COPY_MAX;
	if (bpf_probe_read_user(sc->stack, len, (void *)sp)) {
		/* the mapping's end unknown (bpf_find_vma finds the mmap lock
		 * busy): end at a page boundary, nearer each time */
		__u32 to_page = 4096 - (__u32)(sp & 4095), l;
		bool ok = false;

		for (int k = 3; k >= 0 && !ok; k--) {
			l = to_page + (__u32)k * 4096;
			if (l < len && !bpf_probe_read_user(sc->stack, l, (void *)sp)) {
				len = l;
				ok = true;
			}
		}
		if (!ok) {
			count(&stats, KILN_STAT_COPY_FAILED);
			return false;
		}
	}
	sc->e.tgid = key->tgid;
	sc->e.tid = tid;
	__builtin_memcpy(sc->e.comm, key->comm, sizeof(sc->e.comm));
	if (per_thread)
		__builtin_memcpy(sc->e.thread, key->thread, sizeof(sc->e.thread));
	else
		sc->e.thread[0] = '\0';
	n = bpf_get_stack(ctx, sc->e.kframes, sizeof(sc->e.kframes), 0);
	sc->e.nr_kframes = n > 0 ? (__u32)(n / sizeof(__u64)) : 0;
	sc->e.stack_len = len;
	if (bpf_ringbuf_output(&stacks, sc, sizeof(sc->e) + len, 0)) {
		count(&stats, KILN_STAT_COPY_RING_FULL);
		return false;
	}
	count(&stats, KILN_STAT_STACK_COPIED);
	return true;
}
#else
static __always_inline bool needs_copy(struct bpf_perf_event_data *ctx,
				       const struct kiln_sample_key *key)
{
	return false;
}

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
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid)) {
		count(&stats, KILN_STAT_FILTERED);
		return 0;
	}

	key.tgid = tgid;
	task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&key.comm, task, group_leader, comm);
	if (per_thread) {
		key.tid = tid;
		bpf_get_current_comm(key.thread, sizeof(key.thread));
	}

	if (unwind_mode != KILN_UNWIND_FP && tgid && needs_copy(ctx, &key) &&
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
