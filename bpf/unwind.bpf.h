/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* User stacks of code without frame pointers, shared by the sampler and the
 * off-CPU/lock programs: which processes need a copy of their stack (the
 * agent classifies their code into `unwind_procs`), and sending registers
 * plus the top of the stack on the object's `copies` ring buffer for the
 * agent to unwind with libdw. See docs/unwinding.md. Include after
 * vmlinux.h, bpf_helpers.h and kiln.bpf.h; x86-64 only (the agent keeps
 * unwind_mode at KILN_UNWIND_FP elsewhere, and the verifier drops the
 * code). */
#ifndef KILN_UNWIND_BPF_H
#define KILN_UNWIND_BPF_H

#include "profile.h"

const volatile __u32 unwind_mode = KILN_UNWIND_FP;	/* enum kiln_unwind_mode */
const volatile __u32 stack_bytes = 8192;		/* user stack copied, at most */
/* Wake the agent once this much is queued (it also reads the ring when its
 * poll times out); 0: at every copy. A wakeup per sample cost more agent CPU
 * than unwinding. */
const volatile __u32 copy_wake_bytes = 0;

/* Processes with code frame pointers do not walk (agent-filled; one map,
 * shared by every program object through its fd). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct kiln_unwind_proc);
} unwind_procs SEC(".maps");

/* Copied stacks; sized by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} copies SEC(".maps");

struct stack_scratch {
	struct kiln_stack_event e;
	__u8 stack[KILN_STACK_COPY_MAX];
};

/* One slot per CPU (a per-CPU map value cannot be this large); the agent
 * sizes it. Programs of one object on one CPU do not nest: bpf_prog_active
 * for the sampler, and the tracepoints run with preemption off. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
} scratch SEC(".maps");

/* The frame-pointer walk of a stack, to check its frames' code. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[128]);	/* KILN_STACK_SLOTS, rounded up for a mask */
} fp_frames SEC(".maps");

enum { KILN_COPY_OK, KILN_COPY_RING_FULL, KILN_COPY_FAILED };

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

/* Does the frame-pointer walk of the current user stack cross code without
 * frame pointers? Its first such frame is still right: the return address
 * saved by the last function that kept a frame pointer. */
static __always_inline bool unwind_needs_copy(void *ctx, __u32 tgid)
{
	const struct kiln_unwind_proc *r;
	struct check_ctx c = {};
	__u32 zero = 0;
	__u64 *frames;
	long n;

	if (unwind_mode == KILN_UNWIND_FP)
		return false;
	if (unwind_mode == KILN_UNWIND_ALL)
		return true;
	r = bpf_map_lookup_elem(&unwind_procs, &tgid);
	if (!r) {
		/* not classified yet: copy until the agent has looked at its
		 * code (on the process's first event) and replaced this entry */
		bpf_map_update_elem(&unwind_procs, &tgid, &copy_all, BPF_NOEXIST);
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

static __always_inline struct stack_scratch *unwind_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* The user registers @task saved when it entered the kernel. 0 or -1. */
static __always_inline int unwind_task_regs(struct stack_scratch *sc, struct task_struct *task)
{
	struct pt_regs u;

	if (bpf_probe_read_kernel(&u, sizeof(u), (void *)bpf_task_pt_regs(task)))
		return -1;
	FILL_REGS(sc->e.regs, &u);
	return 0;
}

/* Copy the current task's user stack from the saved stack pointer, add the
 * kernel stack when @kernel, and send the event the caller filled in.
 * Returns KILN_COPY_*. */
static __always_inline int unwind_send(void *ctx, struct stack_scratch *sc,
				       struct task_struct *task, bool kernel)
{
	struct vma_end_ctx vc = {};
	__u64 sp = sc->e.regs[KILN_REG_SP];
	__u32 len = stack_bytes;
	long n;

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
		if (!ok)
			return KILN_COPY_FAILED;
	}
	n = kernel ? bpf_get_stack(ctx, sc->e.kframes, sizeof(sc->e.kframes), 0) : 0;
	sc->e.nr_kframes = n > 0 ? (__u32)(n / sizeof(__u64)) : 0;
	sc->e.stack_len = len;
	if (bpf_ringbuf_output(&copies, sc, sizeof(sc->e) + len,
			       !copy_wake_bytes ? 0 :
			       bpf_ringbuf_query(&copies, BPF_RB_AVAIL_DATA) >= copy_wake_bytes ?
			       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP))
		return KILN_COPY_RING_FULL;
	return KILN_COPY_OK;
}
#else
static __always_inline bool unwind_needs_copy(void *ctx, __u32 tgid)
{
	return false;
}
#endif

#endif /* KILN_UNWIND_BPF_H */
