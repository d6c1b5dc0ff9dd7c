// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Off-CPU time (sched_switch) and kernel lock contention
 * (lock:contention_begin/end), aggregated in the kernel.
 *
 * Cost is what shapes this file: a host can switch 400k times a second, so a
 * switch-out must not pay for a stack walk every time. The user stack can only
 * be taken while the task is current (at switch-out), so each task caches the
 * stack ids of its last walk under a signature of its user registers; when it
 * blocks again at the same place (same ip/sp/bp, same return address, same
 * system call, same state) the cached ids are reused. See docs/offcpu-locks.md.
 * Stacks live in one map that is not cleared while recording, so cached ids stay
 * valid; counts are double-buffered and drained as in profile.bpf.c. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "wait.h"

#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#define PF_KTHREAD 0x00200000
#define SKIP_TRACEPOINT_FRAMES 3	/* bpf_prog_*, bpf_trace_runN, __traceiter_* */

const volatile bool per_thread = false;
const volatile bool filter_pids = false;
const volatile bool keep_kthreads = false;
const volatile bool cache_stacks = true;
const volatile __u32 self_tgid = 0;
const volatile __u64 offcpu_min_ns = 1000;
const volatile __u64 lock_stack_min_ns = 10000;

__u32 gen = 0;

#define COUNTS_MAP(name, keytype)				\
struct {							\
	__uint(type, BPF_MAP_TYPE_HASH);			\
	__uint(max_entries, 16384);				\
	__type(key, keytype);					\
	__type(value, struct kiln_wait_val);			\
} name SEC(".maps")

COUNTS_MAP(off0, struct kiln_off_key);
COUNTS_MAP(off1, struct kiln_off_key);
COUNTS_MAP(lock0, struct kiln_lock_key);
COUNTS_MAP(lock1, struct kiln_lock_key);

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, KILN_STACK_SLOTS * sizeof(__u64));
} stacks SEC(".maps");

struct held_lock {
	__u64 lock;
	__u64 ts;
	__u32 flags;
	__u32 name;
};

struct task_wait {
	__u64 off_ts;			/* 0: not blocked (as far as we saw) */
	__s32 off_kstack, off_ustack;
	__u32 off_state;
	__u32 nr_locks;
	__u64 sig;			/* signature of the cached stacks, 0 = none */
	__s32 cached_kstack, cached_ustack;
	struct held_lock locks[KILN_MAX_HELD_LOCKS];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_wait);
} tasks SEC(".maps");

/* Fallback when task storage is unavailable (raw_tp without kernel BTF). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct task_wait);
} tasks_by_tid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KILN_WDROP__MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KILN_WSTAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

struct barrier_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} barrier_inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct barrier_inner);
} barrier SEC(".maps") = {
	.values = { [0] = &barrier_inner },
};

static __always_inline void count(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		*v += 1;
}

static __always_inline bool wanted(struct task_struct *t, __u32 tgid, bool offcpu)
{
	if (tgid == self_tgid)
		return false;
	if (offcpu && !keep_kthreads && (BPF_CORE_READ(t, flags) & PF_KTHREAD))
		return false;
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	return true;
}

/* Per-task state: task storage with BTF, a tid-keyed hash otherwise. */
static __always_inline struct task_wait *task_state(struct task_struct *t, bool btf, bool create)
{
	static const struct task_wait zero = {};
	struct task_wait *tw;
	__u32 tid;

	if (btf)
		return bpf_task_storage_get(&tasks, t, 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	tid = BPF_CORE_READ(t, pid);
	tw = bpf_map_lookup_elem(&tasks_by_tid, &tid);
	if (tw || !create)
		return tw;
	bpf_map_update_elem(&tasks_by_tid, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tasks_by_tid, &tid);
}

static __always_inline void aggregate(void *map, void *key, __u64 delta, __u32 drop)
{
	struct kiln_wait_val *v, init = { 1, delta, delta };
	long err;

	v = bpf_map_lookup_elem(map, key);
	if (!v) {
		err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
		if (!err)
			return;
		v = bpf_map_lookup_elem(map, key);	/* raced with another CPU */
		if (!v) {
			count(&drops, drop);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, delta);
	if (delta > v->max_ns)
		v->max_ns = delta;	/* racy maximum: good enough */
}

static __always_inline __u32 decode_state(bool preempt, unsigned int state)
{
	if (preempt || state == 0)
		return KILN_STATE_RUNNABLE;
	if (state & 0x0001)
		return KILN_STATE_SLEEPING;
	if (state & 0x0002)
		return (state & 0x0400) ? KILN_STATE_IDLE : KILN_STATE_UNINTERRUPTIBLE;
	if (state & (0x0004 | 0x0008))
		return KILN_STATE_STOPPED;
	return KILN_STATE_OTHER;
}

static __always_inline __u64 mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* Signature of where a task blocks, from its saved user registers. */
static __always_inline __u64 block_signature(struct task_struct *t, __u32 state, bool btf)
{
	struct pt_regs *regs;
	__u64 ret = 0, h = 0xcbf29ce484222325ULL;

	if (!btf || !cache_stacks)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return 0;
	h = mix(h, BPF_CORE_READ(regs, ip));
	h = mix(h, BPF_CORE_READ(regs, sp));
	h = mix(h, BPF_CORE_READ(regs, bp));
	h = mix(h, BPF_CORE_READ(regs, orig_ax));
	/* the caller's return address: same site, different caller differs */
	bpf_probe_read_user(&ret, sizeof(ret), (void *)(BPF_CORE_READ(regs, bp) + 8));
	h = mix(h, ret);
	h = mix(h, state);
	return h | 1;
}

static __always_inline void stack_error(__s32 id, __u32 drop)
{
	if (id < 0 && id != -EFAULT)
		count(&drops, drop);
}

static __always_inline void switch_out(void *ctx, bool preempt, struct task_struct *prev,
				       unsigned int prev_state, bool btf)
{
	__u32 tgid = BPF_CORE_READ(prev, tgid), state;
	struct task_wait *tw;
	__u64 sig;

	if (!BPF_CORE_READ(prev, pid) || !wanted(prev, tgid, true))
		return;
	tw = task_state(prev, btf, true);
	if (!tw) {
		count(&drops, KILN_WDROP_TASK_STORAGE);
		return;
	}
	state = decode_state(preempt, prev_state);
	sig = block_signature(prev, state, btf);
	if (sig && sig == tw->sig) {
		tw->off_kstack = tw->cached_kstack;
		tw->off_ustack = tw->cached_ustack;
		count(&stats, KILN_WSTAT_STACK_CACHED);
	} else {
		tw->off_kstack = bpf_get_stackid(ctx, &stacks, SKIP_TRACEPOINT_FRAMES);
		tw->off_ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		stack_error(tw->off_kstack, KILN_WDROP_OFF_STACK_FAILED);
		stack_error(tw->off_ustack, KILN_WDROP_OFF_STACK_FAILED);
		count(&stats, KILN_WSTAT_STACK_WALKED);
		/* cache only complete walks */
		if (sig && tw->off_kstack >= 0 && (tw->off_ustack >= 0 || tw->off_ustack == -EFAULT)) {
			tw->sig = sig;
			tw->cached_kstack = tw->off_kstack;
			tw->cached_ustack = tw->off_ustack;
		} else {
			tw->sig = 0;
		}
	}
	tw->off_state = state;
	tw->off_ts = bpf_ktime_get_ns();
	count(&stats, KILN_WSTAT_SWITCH_OUT);
}

static __always_inline void switch_in(struct task_struct *next, bool btf)
{
	struct kiln_off_key key = {};
	struct task_wait *tw;
	__u64 now, ts, delta;
	__u32 g;

	if (!BPF_CORE_READ(next, pid))
		return;
	tw = task_state(next, btf, false);
	if (!tw || !tw->off_ts) {
		if (wanted(next, BPF_CORE_READ(next, tgid), true))
			count(&stats, KILN_WSTAT_UNMATCHED_IN);
		return;
	}
	ts = tw->off_ts;
	tw->off_ts = 0;
	count(&stats, KILN_WSTAT_SWITCH_IN);
	now = bpf_ktime_get_ns();
	if (now < ts) {
		count(&drops, KILN_WDROP_NEGATIVE);
		return;
	}
	delta = now - ts;
	if (delta < offcpu_min_ns) {
		count(&stats, KILN_WSTAT_BELOW_MIN);
		return;
	}
	key.tgid = BPF_CORE_READ(next, tgid);
	key.kstack = tw->off_kstack;
	key.ustack = tw->off_ustack;
	key.state = tw->off_state;
	BPF_CORE_READ_STR_INTO(&key.comm, next, group_leader, comm);
	if (per_thread) {
		key.tid = BPF_CORE_READ(next, pid);
		BPF_CORE_READ_STR_INTO(&key.thread, next, comm);
	}
	g = *(volatile __u32 *)&gen;
	if (g & 1)
		aggregate(&off1, &key, delta, KILN_WDROP_OFF_COUNTS_FULL);
	else
		aggregate(&off0, &key, delta, KILN_WDROP_OFF_COUNTS_FULL);
	count(&stats, KILN_WSTAT_OFF_RECORDED);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(kiln_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	switch_out(ctx, preempt, prev, prev_state, true);
	switch_in(next, true);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(kiln_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	switch_out(ctx, preempt, prev, prev_state, false);
	switch_in(next, false);
	return 0;
}

/* --- lock contention ------------------------------------------------------- */

static __always_inline __u32 lock_name(void *lock, struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	struct sighand_struct *sh = BPF_CORE_READ(t, sighand);
	struct rq *rq;

	if (mm && lock == (void *)&mm->mmap_lock)
		return KILN_LOCK_MMAP;
	if (sh && lock == (void *)&sh->siglock)
		return KILN_LOCK_SIGLOCK;
	/* this CPU's runqueue, found through the current task: no data symbols
	 * needed (kallsyms may have none) */
	if (bpf_core_field_exists(struct cfs_rq, rq)) {
		rq = BPF_CORE_READ(t, se.cfs_rq, rq);
		if (rq && lock == (void *)&rq->__lock)
			return KILN_LOCK_RQ;
	}
	return KILN_LOCK_UNNAMED;
}

static __always_inline void lock_begin(void *lock, unsigned int flags, bool btf)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, n;
	struct task_wait *tw;

	if (!wanted(t, tgid, false))
		return;
	tw = task_state(t, btf, true);
	if (!tw) {
		count(&drops, KILN_WDROP_TASK_STORAGE);
		return;
	}
	n = tw->nr_locks;
	if (n > 0 && n <= KILN_MAX_HELD_LOCKS && tw->locks[n - 1].lock == (__u64)lock) {
		/* a mutex begins again (optimistic spin, then sleep): keep the first */
		tw->locks[n - 1].flags |= flags;
		count(&stats, KILN_WSTAT_LOCK_REBEGIN);
		return;
	}
	if (n >= KILN_MAX_HELD_LOCKS) {
		count(&drops, KILN_WDROP_LOCK_NESTING);
		return;
	}
	tw->locks[n].lock = (__u64)lock;
	tw->locks[n].flags = flags;
	tw->locks[n].name = lock_name(lock, t);
	tw->locks[n].ts = bpf_ktime_get_ns();
	tw->nr_locks = n + 1;
	count(&stats, KILN_WSTAT_LOCK_BEGIN);
}

static __always_inline void lock_end(void *ctx, void *lock, bool btf)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	struct kiln_lock_key key = {};
	struct held_lock held;
	struct task_wait *tw;
	__u64 now, delta;
	int i, found = -1;
	__u32 g;

	tw = task_state(t, btf, false);
	if (!tw || !tw->nr_locks) {
		if (tw || wanted(t, id >> 32, false))
			count(&drops, KILN_WDROP_LOCK_UNMATCHED_END);
		return;
	}
	/* the innermost open wait on this lock */
	for (i = KILN_MAX_HELD_LOCKS - 1; i >= 0; i--) {
		if (i < tw->nr_locks && tw->locks[i].lock == (__u64)lock) {
			found = i;
			break;
		}
	}
	if (found < 0) {
		count(&drops, KILN_WDROP_LOCK_UNMATCHED_END);
		return;
	}
	held = tw->locks[found & (KILN_MAX_HELD_LOCKS - 1)];
	/* waits opened after it and never ended are dropped with it */
	tw->nr_locks = found;

	now = bpf_ktime_get_ns();
	if (now < held.ts) {
		count(&drops, KILN_WDROP_NEGATIVE);
		return;
	}
	delta = now - held.ts;
	key.lock = held.lock;
	key.flags = held.flags;
	key.name = held.name;
	key.tgid = id >> 32;
	BPF_CORE_READ_STR_INTO(&key.comm, t, group_leader, comm);
	if (per_thread) {
		key.tid = (__u32)id;
		bpf_get_current_comm(key.thread, sizeof(key.thread));
	}
	if (delta >= lock_stack_min_ns) {
		/* the waiter is still current, in the same call path */
		key.kstack = bpf_get_stackid(ctx, &stacks, SKIP_TRACEPOINT_FRAMES);
		key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		stack_error(key.kstack, KILN_WDROP_LOCK_STACK_FAILED);
		stack_error(key.ustack, KILN_WDROP_LOCK_STACK_FAILED);
	} else {
		key.kstack = KILN_STACK_NOT_TAKEN;
		key.ustack = KILN_STACK_NOT_TAKEN;
		count(&stats, KILN_WSTAT_LOCK_NO_STACK);
	}
	g = *(volatile __u32 *)&gen;
	if (g & 1)
		aggregate(&lock1, &key, delta, KILN_WDROP_LOCK_COUNTS_FULL);
	else
		aggregate(&lock0, &key, delta, KILN_WDROP_LOCK_COUNTS_FULL);
	count(&stats, KILN_WSTAT_LOCK_RECORDED);
}

SEC("tp_btf/contention_begin")
int BPF_PROG(kiln_lock_begin, void *lock, unsigned int flags)
{
	lock_begin(lock, flags, true);
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(kiln_lock_end, void *lock, int ret)
{
	lock_end(ctx, lock, true);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
