// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Off-CPU time (sched_switch) and kernel lock contention
 * (lock:contention_begin/end), aggregated in the kernel.
 *
 * Cost is what shapes this file: a host can switch 400k times a second, so a
 * switch-out must not pay for a stack walk every time. The user stack can only
 * be taken while the task is current (at switch-out), so each task caches the
 * stack ids of its last walk under a signature of its user registers; when it
 * blocks again at the same place (same user ip/sp/bp, same system call, same
 * state) the cached ids are reused. A switch looks up one task's state, not
 * two: a task's block is ended when it leaves the CPU again, from the time the
 * kernel noted it got the CPU. Helper calls are few: each costs ~25 ns on our VMs.
 * See docs/offcpu-locks.md. Stacks live in one map that is not cleared while
 * recording, so cached ids stay valid; counts are double-buffered and drained
 * as in profile.bpf.c. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "wait.h"
#include "kiln.bpf.h"
#include "unwind.bpf.h"

/* the system call a task entered the kernel with, from its saved registers */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((__u64)(regs)->syscallno)
#else
#define SYSCALL_NR(regs) 0ULL
#endif

#define PF_EXITING 0x00000004
#define PF_KTHREAD 0x00200000

/* Field of a task: a plain (CO-RE relocated) load from tp_btf's trusted BTF
 * pointers, a probe read under raw_tp. @btf is a constant after inlining, so
 * each program keeps one branch. Probe reads cost a helper call each, and a
 * switch touches a dozen fields. */
#define RD(btf, p, ...) ((btf) ? (p)->__VA_ARGS__ : BPF_CORE_READ(p, __VA_ARGS__))

/* The group leader's or the task's name into @dst (16 bytes). */
static __always_inline void read_comm(bool btf, char *dst, struct task_struct *t, bool leader)
{
	if (btf) {
		const char *src = leader ? t->group_leader->comm : t->comm;

		((__u64 *)dst)[0] = ((const __u64 *)src)[0];
		((__u64 *)dst)[1] = ((const __u64 *)src)[1];
	} else if (leader) {
		BPF_CORE_READ_STR_INTO(dst, t, group_leader, comm);
	} else {
		BPF_CORE_READ_STR_INTO(dst, t, comm);
	}
}

const volatile bool per_thread = false;
const volatile bool keep_kthreads = false;
const volatile bool cache_stacks = true;
const volatile __u32 self_tgid = 0;
const volatile __u64 offcpu_min_ns = 1000;
const volatile __u64 lock_stack_min_ns = 10000;
/* Blocks shorter than this are summed per task and moved into the counts
 * where no lock is held: by the agent's iterator before each drain (for tasks
 * off CPU then), at exit and at stop (see end_block); longer ones are added
 * to the hash map at once, under the runqueue lock. ~0: all are summed; 0
 * disables summing. */
const volatile __u64 accumulate_max_ns = ~0ULL;
/* A task the iterator never finds off CPU (a CPU hog, preempted) moves its
 * sums itself after this long. */
#define ACCUMULATE_FLUSH_NS 10000000000ULL

__u32 gen = 0;

/* Set by the governor before each attach (see KILN_WEIGHT_ONE). */
__u32 off_weight = KILN_WEIGHT_ONE;
__u32 lock_weight = KILN_WEIGHT_ONE;

/* sched_switch is attached: task exit ends and flushes blocks */
const volatile bool offcpu_on = false;
const volatile bool locks_on = false;

struct kiln_runs runs[KILN_RUN_CPUS] = {};

static __always_inline struct kiln_runs *cpu_runs(void)
{
	return &runs[bpf_get_smp_processor_id() & (KILN_RUN_CPUS - 1)];
}

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

/* A stack map keeps one stack per bucket: a stack hashing to a bucket that
 * holds another one fails (-EEXIST), and as stacks stay for the whole
 * recording it would fail every time. Such stacks go here, where their bucket
 * is very likely free; their ids carry KILN_STACK_ALT. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 2048);	/* set by the agent */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, KILN_STACK_SLOTS * sizeof(__u64));
} stacks_alt SEC(".maps");

static __always_inline __s32 get_stack(void *ctx, __u64 flags)
{
	__s32 id = bpf_get_stackid(ctx, &stacks, flags);

	if (id == -EEXIST) {
		id = bpf_get_stackid(ctx, &stacks_alt, flags);
		if (id >= 0)
			id |= KILN_STACK_ALT;
	}
	return id;
}

/* A task alternating between a few blocking places (read, then preempted in
 * write, ...) keeps hitting; one entry would thrash. */
#define STACK_CACHE_WAYS 4
#define CACHE_REFRESH 256
/* A preempted task stops wherever it happened to be: its signature rarely
 * repeats, so each preemption would walk both stacks. Walk at most once per
 * PREEMPT_WALK_NS per task and reuse that walk in between (time stays exact). */
#define PREEMPT_WALK_NS 10000000ULL

struct held_lock {
	__u64 lock;
	__u64 ts;
	__u32 flags;
	__u32 name;
	__s32 kstack, ustack;	/* KILN_STACK_DEFERRED: not taken at begin */
	__u32 outs;		/* the task's switch-outs at begin */
	__u32 weight;		/* lock_weight at begin */
	__u64 sig;		/* begun inside a lock: its signature, else 0 */
};

/* A lock wait that ended, summed with the task's others from one place, not
 * yet in the counts: contention_end runs inside the lock it reports, so it
 * adds here, and the sums move to the hash maps where no lock is held (see
 * flush_locks). The key fields stay when the sums are taken, so a task waiting
 * at one place keeps one slot. */
#define DONE_SLOTS 8
struct done_wait {
	__u64 lock;
	__u64 count;		/* weighted; 0: free, or flushed */
	__u64 raw;		/* waits */
	__u64 ns;
	__u64 max_ns;
	__s32 kstack, ustack;
	__u32 flags;
	__u16 name;		/* enum kiln_lock_name */
	__u16 irq;		/* seen on an interrupt stack */
};

/* Counted by the lock programs into the task, moved to the stats with its
 * waits: at most one map access per event. */
enum lock_task_count {
	LCNT_BEGIN,
	LCNT_REBEGIN,
	LCNT_NESTING,
	LCNT_UNMATCHED,
	LCNT_NEGATIVE,
	LCNT_DEFER_FULL,
	LCNT_IRQ_SKIPPED,
	LCNT_CUT,
	LCNT_FROM_BLOCK,
	LCNT__MAX,
};

#define SEL_UNKNOWN 0
#define SEL_YES 1
#define SEL_NO 2

/* Short blocks from one place {stacks, state}, summed, not yet in the counts. */
#define ACC_SLOTS 8
struct acc_slot {
	__s32 kstack, ustack;
	__u32 state;
	__u32 raw;		/* blocks; count and ns are weighted */
	__u64 count, ns, max_ns;
};

/* One way of a task's stack cache: the stacks taken at a place. */
struct stack_way {
	__u64 sig;		/* 0 = empty */
	__s32 kstack, ustack;
};

struct task_wait {
	/* what a switch touches comes first, to share as few cache lines as can be */
	__u64 off_ts;			/* 0: not blocked (as far as we saw) */
	__s32 off_kstack, off_ustack;
	__u8 off_state;			/* enum kiln_task_state */
	__u8 cache_last;		/* the way that hit last */
	__u8 cache_next;		/* round-robin victim */
	__u8 acc_last;			/* the slot summed into last */
	__u32 outs;			/* switch-outs, for the periodic re-walk */
	__u64 acc_since;		/* the oldest sum not yet flushed; 0: none */
	__u32 acc_next;			/* round-robin victim */
	__u32 nr_locks;
	__u64 stop_arrival;		/* last_arrival as seen just before the stop */
	__u32 off_pcount;		/* times the task had got a CPU, at switch-out */
	__u32 off_weight;		/* the block's weight: off_weight at switch-out */
	__u32 pad2;
	__u32 stop_pcount;		/* and just before the stop */
	/* a task alternates between a few places (blocked in read, preempted in
	 * write): one slot would be flushed at nearly every block */
	struct acc_slot acc[ACC_SLOTS];
	/* the stacks of the last few places the task blocked at, by signature */
	struct stack_way cache[STACK_CACHE_WAYS];
	/* the last stacks walked when the task was preempted, and when */
	__u64 preempt_walk_ts;
	__s32 preempt_kstack, preempt_ustack;
	struct held_lock locks[KILN_MAX_HELD_LOCKS];
	__u32 lock_epoch;		/* the governor's attach the locks are from */
	__u8 sel;			/* SEL_*: is the task recorded */
	__u8 done_full;			/* a wait found no slot: flush at next chance */
	__u16 lock_walks;		/* lock stacks taken, for the periodic re-walk */
	/* the stacks of the places the task waits for locks at, by lock
	 * signature, apart from the blocks' and from each other: a spinning
	 * begin walks when it misses, a wait begun inside a lock cannot and
	 * only has what an earlier one that slept left (lock_end), which the
	 * many spinlocks of a system call, or the task's blocks, would push out */
	struct stack_way spin_ways[STACK_CACHE_WAYS];
	struct stack_way sleep_ways[STACK_CACHE_WAYS];
	__u8 spin_next, sleep_next;
	struct done_wait done[DONE_SLOTS];
	__u64 lcnt[LCNT__MAX];
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

COUNTER_MAP(drops, KILN_WDROP__MAX);
COUNTER_MAP(stats, KILN_WSTAT__MAX);

/* @t is the running task but where said (@is_current false: a task being
 * switched in). */
static __always_inline bool wanted(struct task_struct *t, __u32 tgid, bool offcpu, bool btf,
				   bool is_current)
{
	if (tgid == self_tgid)
		return false;
	if (offcpu && !keep_kthreads && (RD(btf, t, flags) & PF_KTHREAD))
		return false;
	return task_selected(t, tgid, is_current);
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
	tid = RD(btf, t, pid);
	tw = bpf_map_lookup_elem(&tasks_by_tid, &tid);
	if (tw || !create)
		return tw;
	bpf_map_update_elem(&tasks_by_tid, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&tasks_by_tid, &tid);
}

static __always_inline void aggregate_n(void *map, void *key, __u64 n, __u64 delta, __u64 max,
					__u32 drop)
{
	struct kiln_wait_val *v, init = { n, delta, max };
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
	__sync_fetch_and_add(&v->count, n);
	__sync_fetch_and_add(&v->total_ns, delta);
	if (max > v->max_ns)
		v->max_ns = max;	/* racy maximum: good enough */
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

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Offset of the saved user registers from the bottom of a task's kernel
 * stack: fixed for a kernel build (THREAD_SIZE, top padding), learnt from the
 * first bpf_task_pt_regs() call. */
__u64 regs_offset = 0;

/* The user registers a task saved at kernel entry. A helper call costs 25 ns
 * on our VMs (mitigated returns), bpf_rdonly_cast() is rewritten into a move by
 * the verifier, and loads through it are exception-checked like probe reads. */
static __always_inline struct pt_regs *task_regs(struct task_struct *t)
{
	__u64 off = regs_offset, stack;
	struct pt_regs *regs;

	stack = (__u64)t->stack;
	if (off && bpf_rdonly_cast)
		return bpf_rdonly_cast((void *)(stack + off), bpf_core_type_id_kernel(struct pt_regs));
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (regs && stack)
		regs_offset = (__u64)regs - stack;
	return regs;
}

/* Signature of where a task blocks, from the user registers saved at its
 * kernel entry: ip, stack and frame pointer, system call, and the state. No
 * user memory is read: on our VMs that read alone cost more than everything
 * else here (150 ns of 440). Two call paths that reach the same instruction with
 * identical stack and frame pointers share a signature; every CACHE_REFRESH-th
 * switch-out of a task walks anyway, so such a mix-up does not last. The
 * products are independent, not chained: they run side by side. */
static __always_inline __u64 block_signature(struct task_struct *t, __u32 state, bool btf)
{
	struct pt_regs *regs;
	__u64 h;

	if (!btf || !cache_stacks)
		return 0;
	regs = task_regs(t);
	if (!regs)
		return 0;
	h = PT_REGS_IP(regs) * 0x9e3779b97f4a7c15ULL + PT_REGS_SP(regs) * 0xc2b2ae3d27d4eb4fULL +
	    PT_REGS_FP(regs) * 0x165667b19e3779f9ULL +
	    (SYSCALL_NR(regs) << 8 | state) * 0x27d4eb2f165667c5ULL;
	return (h ^ h >> 31) | 1;
}

/* Places whose user stack was copied, by process and signature. */
struct copied_key {
	__u32 tgid;
	__u32 sig;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct copied_key);
	__type(value, __u8);
} copied SEC(".maps");

/* The current task's user stack: a stack map id through frame pointers or,
 * where they do not walk its code, KILN_USTACK_COPIED | the signature of a
 * copy sent once per place for the agent to unwind and keep. A place is its
 * user ip and sp: what the stack holds above them is not read (locals there
 * change at every call, and each change would be a copy), so two call paths
 * reaching one instruction at one stack depth share the first one's stack
 * until the agent drops it. Costs a frame-pointer walk, and a copy at a new
 * place, only when the caller walks anyway (cache miss). */
static __noinline __s32 get_ustack(void *ctx)
{
#if defined(__TARGET_ARCH_x86)
	if (unwind_mode != KILN_UNWIND_FP) {
		struct task_struct *task = bpf_get_current_task_btf();
		__u64 id = bpf_get_current_pid_tgid(), h;
		struct copied_key ck = { .tgid = id >> 32 };
		struct stack_scratch *sc;
		__u8 one = 1;

		if (!task->mm || !unwind_needs_copy(ctx, ck.tgid))
			goto walk;
		sc = unwind_scratch();
		if (!sc || unwind_task_regs(sc, task))
			goto fallback;
		h = sc->e.regs[KILN_REG_IP] * 0x9e3779b97f4a7c15ULL +
		    sc->e.regs[KILN_REG_SP] * 0xc2b2ae3d27d4eb4fULL;
		ck.sig = (__u32)(h ^ h >> 32) & KILN_USTACK_SIG_MASK;
		if (bpf_map_lookup_elem(&copied, &ck)) {
			count(&stats, KILN_WSTAT_USTACK_REUSED);
			return KILN_USTACK_COPIED | ck.sig;
		}
		sc->e.kind = KILN_STACK_EV_WAIT;
		sc->e.usig = ck.sig;
		sc->e.tgid = ck.tgid;
		sc->e.tid = (__u32)id;
		read_comm(true, sc->e.comm, task, true);
		read_comm(true, sc->e.thread, task, false);
		if (unwind_send(ctx, sc, task, false) == KILN_COPY_OK) {
			bpf_map_update_elem(&copied, &ck, &one, BPF_ANY);
			count(&stats, KILN_WSTAT_USTACK_COPIED);
			return KILN_USTACK_COPIED | ck.sig;
		}
fallback:
		count(&stats, KILN_WSTAT_USTACK_COPY_FALLBACK);
	}
walk:
#endif
	return get_stack(ctx, BPF_F_USER_STACK);
}

static __always_inline int stack_cache_find(const struct stack_way *ways, __u64 sig)
{
	for (int i = 0; i < STACK_CACHE_WAYS; i++)
		if (ways[i].sig == sig)
			return i;
	return -1;
}

/* Keep @kstack/@ustack under @sig: in its way, else the round-robin victim
 * (*@next)'s. Returns the way. */
static __always_inline __u32 stack_cache_put(struct stack_way *ways, __u8 *next, __u64 sig,
					     __s32 kstack, __s32 ustack)
{
	int i = stack_cache_find(ways, sig);

	if (i < 0)
		i = (*next)++;
	i &= STACK_CACHE_WAYS - 1;
	ways[i].sig = sig;
	ways[i].kstack = kstack;
	ways[i].ustack = ustack;
	return (__u32)i;
}

/* Walk both stacks of the task leaving the CPU and remember them: rare, so
 * out of line, which keeps the code every switch runs short. */
static __noinline void walk_stacks(void *ctx, struct task_wait *tw, __u64 sig, __u32 state,
				   __u64 now)
{
	tw->off_kstack = get_stack(ctx, 0);
	tw->off_ustack = get_ustack(ctx);
	count(&stats, KILN_WSTAT_STACK_WALKED);
	if (state == KILN_STATE_RUNNABLE) {
		tw->preempt_walk_ts = now;
		tw->preempt_kstack = tw->off_kstack;
		tw->preempt_ustack = tw->off_ustack;
	}
	/* failed walks are cached too: a stack whose bucket holds another stack
	 * (-EEXIST) fails again until the refresh, and walking at every switch
	 * to fail each time is the most expensive thing a task could do here */
	if (sig)
		tw->cache_last = stack_cache_put(tw->cache, &tw->cache_next, sig, tw->off_kstack,
						 tw->off_ustack);
}

/* The kernel notes when a task got the CPU (sched_info, CONFIG_SCHED_INFO) in
 * the runqueue clock, the clock of switch_time() where it has cfs_rq->rq. */
static __always_inline bool arrival_noted(void)
{
	return bpf_core_field_exists(struct task_struct, sched_info) &&
	       bpf_core_field_exists(struct cfs_rq, rq);
}

/* When @t last got a CPU, as the kernel noted it: 0 when unknown. */
static __always_inline __u64 last_arrival(struct task_struct *t)
{
	return arrival_noted() ? t->sched_info.last_arrival : 0;
}

/* How many times @t got a CPU, as the kernel counted (sched_info). */
static __always_inline __u32 arrivals(struct task_struct *t)
{
	return arrival_noted() ? (__u32)t->sched_info.pcount : 0;
}

/* @prev leaves the CPU: remember when, and where (its stacks). */
static __always_inline void switch_out(void *ctx, bool preempt, struct task_struct *prev,
				       struct task_wait *tw, unsigned int prev_state, __u64 now,
				       bool btf)
{
	__u32 state, i;
	__u64 sig;

	state = decode_state(preempt, prev_state);
	sig = block_signature(prev, state, btf);
	/* every CACHE_REFRESH-th switch-out walks anyway and refreshes its way */
	/* counted always: a lock wait tells by it that its task blocked */
	tw->outs++;
	if (sig && tw->outs % CACHE_REFRESH) {
		i = tw->cache_last & (STACK_CACHE_WAYS - 1);
		if (tw->cache[i].sig != sig) {
			int way = stack_cache_find(tw->cache, sig);

			i = way < 0 ? STACK_CACHE_WAYS : (__u32)way;
		}
		if (i < STACK_CACHE_WAYS) {
			tw->cache_last = i;
			tw->off_kstack = tw->cache[i].kstack;
			tw->off_ustack = tw->cache[i].ustack;
			goto stamp;
		}
	}
	if (state == KILN_STATE_RUNNABLE && tw->preempt_walk_ts &&
	    now - tw->preempt_walk_ts < PREEMPT_WALK_NS) {
		tw->off_kstack = tw->preempt_kstack;
		tw->off_ustack = tw->preempt_ustack;
		goto stamp;
	}
	walk_stacks(ctx, tw, sig, state, now);
stamp:
	/* every block whose stack is lost counts, cached or walked */
	if ((tw->off_kstack < 0 && tw->off_kstack != -EFAULT) ||
	    (tw->off_ustack < 0 && tw->off_ustack != -EFAULT))
		count(&drops, KILN_WDROP_OFF_STACK_FAILED);
	tw->off_state = state;
	tw->off_ts = now;
	tw->off_pcount = btf ? arrivals(prev) : 0;
	tw->off_weight = *(volatile __u32 *)&off_weight;
	count(&stats, KILN_WSTAT_SWITCH_OUT);
}

/* Add @raw blocks, @n and @ns weighted, to the off-CPU counts of task @t. */
static __always_inline void record_blocks(struct task_struct *t, __s32 kstack, __s32 ustack,
					  __u32 state, __u64 n, __u64 ns, __u64 max, __u64 raw,
					  bool btf)
{
	struct kiln_off_key key = {};
	__u32 g;

	key.tgid = RD(btf, t, tgid);
	key.kstack = kstack;
	key.ustack = ustack;
	key.state = state;
	read_comm(btf, key.comm, t, true);
	if (per_thread) {
		key.tid = RD(btf, t, pid);
		read_comm(btf, key.thread, t, false);
	}
	g = *(volatile __u32 *)&gen;
	if (g & 1)
		aggregate_n(&off1, &key, n, ns, max, KILN_WDROP_OFF_COUNTS_FULL);
	else
		aggregate_n(&off0, &key, n, ns, max, KILN_WDROP_OFF_COUNTS_FULL);
	count_n(&stats, KILN_WSTAT_OFF_RECORDED, raw);
}

/* Move one slot of summed short blocks into the counts (out of line: rare). */
static __noinline void flush_slot(struct task_wait *tw, struct task_struct *t, __u32 i)
{
	struct acc_slot *a = &tw->acc[i & (ACC_SLOTS - 1)];

	if (!a->count)
		return;
	record_blocks(t, a->kstack, a->ustack, a->state, a->count, a->ns, a->max_ns, a->raw, true);
	a->raw = 0;
	a->count = 0;
	a->ns = 0;
	a->max_ns = 0;
}

/* Move all of a task's summed short blocks into the counts. */
static __always_inline void flush_task(struct task_wait *tw, struct task_struct *t)
{
	for (__u32 i = 0; i < ACC_SLOTS; i++)
		flush_slot(tw, t, i);
	tw->acc_since = 0;
}

static __always_inline bool acc_matches(const struct acc_slot *a, const struct task_wait *tw)
{
	return a->kstack == tw->off_kstack && a->ustack == tw->off_ustack &&
	       a->state == tw->off_state;
}

/* The slot for the block that just ended: its place's, else an empty one,
 * else the round-robin victim, flushed. */
static __noinline __u32 acc_slot_for(struct task_wait *tw, struct task_struct *t)
{
	struct acc_slot *a;
	__u32 i;

	for (i = 0; i < ACC_SLOTS; i++)
		if (acc_matches(&tw->acc[i], tw))
			return i;
	for (i = 0; i < ACC_SLOTS; i++)
		if (!tw->acc[i].count)
			break;
	if (i >= ACC_SLOTS) {
		i = tw->acc_next++ & (ACC_SLOTS - 1);
		flush_slot(tw, t, i);
	}
	a = &tw->acc[i & (ACC_SLOTS - 1)];
	a->kstack = tw->off_kstack;
	a->ustack = tw->off_ustack;
	a->state = tw->off_state;
	return i;
}

/* One long block, out of line as above. */
static __noinline void record_block_btf(struct task_wait *tw, struct task_struct *t, __u64 ns,
					__u64 w)
{
	record_blocks(t, tw->off_kstack, tw->off_ustack, tw->off_state, w, ns * w, ns, 1, true);
}

/* The block task @t started at tw->off_ts ended at @now, when it got a CPU. */
static __always_inline void end_block(struct task_wait *tw, struct task_struct *t, __u64 now,
				      bool btf)
{
	__u64 ts = tw->off_ts, delta, w = tw->off_weight ? tw->off_weight : KILN_WEIGHT_ONE;
	struct acc_slot *a;
	__u32 i;

	tw->off_ts = 0;
	if (now < ts) {
		count(&drops, KILN_WDROP_NEGATIVE);
		return;
	}
	delta = now - ts;
	if (delta < offcpu_min_ns) {
		count(&stats, KILN_WSTAT_BELOW_MIN);
		return;
	}
	if (!btf || delta >= accumulate_max_ns || (RD(btf, t, flags) & PF_EXITING)) {
		/* count it at once: asked for, or the raw_tp path (no task
		 * storage), or an exiting task's, whose sums were flushed at exit */
		if (btf)
			record_block_btf(tw, t, delta, w);
		else
			record_blocks(t, tw->off_kstack, tw->off_ustack, tw->off_state, w, delta * w,
				      delta, 1, false);
		return;
	}
	/* a short block: sum it with the task's others from the same place, so a
	 * task switching 100k times a second costs no hash map update per block */
	if (tw->acc_since && now - tw->acc_since > ACCUMULATE_FLUSH_NS)
		flush_task(tw, t);
	if (!tw->acc_since)
		tw->acc_since = now;
	i = tw->acc_last & (ACC_SLOTS - 1);
	if (!acc_matches(&tw->acc[i], tw)) {
		i = acc_slot_for(tw, t) & (ACC_SLOTS - 1);
		tw->acc_last = i;
	}
	a = &tw->acc[i];
	a->raw++;
	a->count += w;
	a->ns += delta * w;
	if (delta > a->max_ns)
		a->max_ns = delta;
}

/* The time of a switch. __schedule() has just updated this CPU's runqueue
 * clock (sched_clock based, the clock the scheduler's own delay accounting
 * uses), and reading it is three loads, where bpf_ktime_get_ns() costs 60 ns on
 * our VMs - a fifth of everything done per switch. The runqueue is reached
 * through the outgoing task's CFS queue (no data symbols needed). Without
 * group scheduling (no cfs_rq->rq), the BPF clock: the choice is made at load
 * time, so one clock is used throughout and only differences of its readings
 * are kept. Across CPUs runqueue clocks agree as sched_clock() does (exactly
 * with a stable TSC); a reading that went back is counted as negative_time. */
static __always_inline __u64 switch_time(struct task_struct *prev)
{
	struct rq *rq;

	if (!bpf_core_field_exists(struct cfs_rq, rq))
		return bpf_ktime_get_ns();
	rq = prev->se.cfs_rq->rq;
	return rq ? rq->clock : 0;	/* 0: not timed, counted as unmatched or negative */
}

/* The per-task state of @prev, if it is profiled: created at its first block. */
static __always_inline struct task_wait *leaving_task(struct task_struct *prev, bool btf)
{
	struct task_wait *tw;

	if (!RD(btf, prev, pid) || !wanted(prev, RD(btf, prev, tgid), true, btf, true))
		return NULL;
	tw = task_state(prev, btf, true);
	if (!tw)
		count(&drops, KILN_WDROP_TASK_STORAGE);
	return tw;
}

/* The block of @t that began at tw->off_ts ended at @arrived, its last
 * arrival, if that was its first since (@pcount: its arrivals then). A task
 * that got the CPU more than once ran and blocked unseen (the program was
 * detached: governor, stop): when this block ended is not known, and it is
 * dropped, counted as cut. */
static __always_inline void end_at_arrival(struct task_wait *tw, struct task_struct *t,
					   __u64 arrived, __u32 pcount)
{
	if (arrival_noted() && pcount != tw->off_pcount + 1) {
		tw->off_ts = 0;
		count(&stats, KILN_WSTAT_OFF_CUT);
		return;
	}
	end_block(tw, t, arrived, true);
}

/* End the block of @t if it got a CPU since it started. */
static __always_inline void end_arrived(struct task_wait *tw, struct task_struct *t)
{
	__u64 arrived = last_arrival(t);

	if (tw->off_ts && arrived >= tw->off_ts)
		end_at_arrival(tw, t, arrived, arrivals(t));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(kiln_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	/* one instant: prev leaves the CPU as next gets it */
	__u64 now = switch_time(prev);
	/* with the kernel's note of when prev got the CPU, prev's last block is
	 * ended here, and a switch looks up one task's state, not two */
	bool deferred = arrival_noted();
	struct task_wait *tw;

	cpu_runs()->sched_switch++;
	tw = leaving_task(prev, true);
	if (tw) {
		if (deferred && tw->off_ts)
			end_at_arrival(tw, prev, last_arrival(prev), arrivals(prev));
		else if (deferred && !(prev->flags & PF_EXITING))
			count(&stats, KILN_WSTAT_UNMATCHED_IN);
		switch_out(ctx, preempt, prev, tw, prev_state, now, true);
	}
	if (deferred || !next->pid)
		return 0;
	tw = task_state(next, true, false);
	if (tw && tw->off_ts)
		end_block(tw, next, now, true);
	else if (wanted(next, next->tgid, true, true, false))
		count(&stats, KILN_WSTAT_UNMATCHED_IN);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(kiln_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	struct task_wait *tw;

	cpu_runs()->sched_switch++;
	tw = leaving_task(prev, false);
	if (tw)
		switch_out(ctx, preempt, prev, tw, prev_state, now, false);
	if (!BPF_CORE_READ(next, pid))
		return 0;
	tw = task_state(next, false, false);
	if (tw && tw->off_ts)
		end_block(tw, next, now, false);
	else if (wanted(next, BPF_CORE_READ(next, tgid), true, false, false))
		count(&stats, KILN_WSTAT_UNMATCHED_IN);
	return 0;
}

/* The task an iterator visits and its state; NULL when it has none. */
static __always_inline struct task_wait *iter_task(struct bpf_iter__task *ctx,
						   struct task_struct **t)
{
	*t = ctx->task;
	return *t ? bpf_task_storage_get(&tasks, *t, 0, 0) : NULL;
}

/* Run by the agent just before detaching: note when each task last got a
 * CPU. Only stop_arrival is written, which nothing else touches. After the
 * detach, a task may be switched out and in again unseen, which would move
 * last_arrival past the end of the block it was running from at stop. */
SEC("iter/task")
int kiln_snapshot_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t;
	struct task_wait *tw = iter_task(ctx, &t);

	if (tw) {
		tw->stop_arrival = last_arrival(t);
		tw->stop_pcount = arrivals(t);
	}
	return 0;
}

/* Run by the agent after detaching: end the blocks of tasks that had got a
 * CPU back at the snapshot (running at stop), and flush every task's sums. */
SEC("iter/task")
int kiln_flush_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t;
	struct task_wait *tw = iter_task(ctx, &t);

	if (!tw)
		return 0;
	if (tw->off_ts && tw->stop_arrival >= tw->off_ts)
		end_at_arrival(tw, t, tw->stop_arrival, tw->stop_pcount);
	flush_task(tw, t);
	return 0;
}

/* --- lock contention -------------------------------------------------------
 *
 * Both lock tracepoints can fire inside a held lock: contention_end after the
 * lock is taken (the caller's critical section, which every waiter behind it
 * is waiting for), contention_begin of a sleeping lock under its wait_lock,
 * and either inside another lock. There these programs do one task-storage
 * access, one clock read and one store into this CPU's run counter: no hash
 * map, no stack walk, no ring buffer. The stack of a wait is taken at a
 * contention_begin that holds no lock (a spinning begin, no wait open), else
 * reused from the task's cache or from the off-CPU block the wait slept in;
 * the ended wait is summed into the task and moved into the hash maps later,
 * where nothing is held (flush_locks): at such a begin, when the task exits,
 * and by the agent's task iterator before each drain. */

/* The governor's attach count: waits open across a detach are from an
 * earlier attach and are dropped (their end was not seen). */
__u32 lock_epoch = 0;


static __always_inline __u32 lock_name(void *lock, struct task_struct *t)
{
	struct mm_struct *mm = t->mm;
	struct sighand_struct *sh = t->sighand;
	struct rq *rq;

	if (mm && lock == (void *)&mm->mmap_lock)
		return KILN_LOCK_MMAP;
	if (sh && lock == (void *)&sh->siglock)
		return KILN_LOCK_SIGLOCK;
	/* this CPU's runqueue, found through the current task: no data symbols
	 * needed (kallsyms may have none) */
	if (bpf_core_field_exists(struct cfs_rq, rq)) {
		rq = t->se.cfs_rq->rq;
		if (rq && lock == (void *)&rq->__lock)
			return KILN_LOCK_RQ;
	}
	return KILN_LOCK_UNNAMED;
}

/* Does this program run on @t's own kernel stack? On x86-64 an interrupt
 * that arrives while the CPU is in the kernel, and every softirq run when
 * bottom halves are enabled again, runs on the per-CPU interrupt stack: a
 * wait seen off the task's stack belongs to the interrupt, not to the task
 * it interrupted. (One that arrives in user mode runs on the task's stack,
 * like a system call, and stays with the task.) A raw tracepoint's @ctx, its
 * arguments, is on the stack that hit the tracepoint; the program's own frame
 * may not be (private stacks, 6.13+). An x86-64 interrupt stack is as large
 * as a task's (IRQ_STACK_ORDER is THREAD_SIZE_ORDER), and CO-RE gives its
 * size on the running kernel. Two comparisons, no arithmetic: the verifier
 * lets a privileged program compare a pointer, not subtract from one. */
static __always_inline bool on_task_stack(void *ctx, struct task_struct *t)
{
#if defined(__TARGET_ARCH_x86)
	__u64 lo, hi;

	if (!bpf_core_type_exists(struct irq_stack))
		return true;	/* a kernel without it: every wait is the task's */
	lo = (__u64)t->stack;
	hi = lo + bpf_core_type_size(struct irq_stack);
	return (__u64)ctx >= lo && (__u64)ctx < hi;
#else
	return true;	/* no size to check against: every wait is the task's */
#endif
}

/* Where a task waits for a lock, from its saved user registers and the lock:
 * one system call from one user place on one lock takes one kernel path
 * nearly always (every CACHE_REFRESH-th wait walks anyway). */
static __always_inline __u64 lock_signature(void *ctx, struct task_struct *t, void *lock)
{
	struct pt_regs *regs = task_regs(t);
	/* an interrupt's wait on the task's lock is another place */
	__u64 h = (__u64)lock * 0x9e3779b97f4a7c15ULL + !on_task_stack(ctx, t);

	if (regs)
		h += PT_REGS_IP(regs) * 0xc2b2ae3d27d4eb4fULL +
		     PT_REGS_SP(regs) * 0x165667b19e3779f9ULL +
		     SYSCALL_NR(regs) * 0x27d4eb2f165667c5ULL;
	return (h ^ h >> 29) | 1;
}

/* The stacks of the current task's wait, at a begin that holds no lock:
 * from its cache, else walked (out of line: rare). */
static __noinline void lock_stacks_walk(void *ctx, struct task_wait *tw, struct held_lock *h,
					__u64 sig)
{
	int i = stack_cache_find(tw->spin_ways, sig);

	if (i >= 0 && ++tw->lock_walks % CACHE_REFRESH) {
		h->kstack = tw->spin_ways[i & (STACK_CACHE_WAYS - 1)].kstack;
		h->ustack = tw->spin_ways[i & (STACK_CACHE_WAYS - 1)].ustack;
		return;
	}
	h->kstack = get_stack(ctx, 0);
	h->ustack = get_ustack(ctx);
	count(&stats, KILN_WSTAT_STACK_WALKED);
	stack_cache_put(tw->spin_ways, &tw->spin_next, sig, h->kstack, h->ustack);
}

/* Is @t one kiln records? Told once per task, where map lookups may run. */
static __always_inline bool lock_selected(struct task_wait *tw, struct task_struct *t,
					  bool is_current)
{
	if (tw->sel == SEL_UNKNOWN) {
		if (filter_cgroups && !is_current)
			return false;	/* asked again where the task is current */
		tw->sel = wanted(t, t->tgid, false, true, is_current) ? SEL_YES : SEL_NO;
	}
	return tw->sel == SEL_YES;
}

/* Move the task's ended waits into the counts, and its event counts into the
 * stats. Runs where no lock is held: a begin that holds none, task exit, the
 * agent's iterator. The task may add to a slot meanwhile (it only adds, with
 * atomics): the sums are taken by exchange, so nothing is counted twice. */
static __noinline void flush_locks(struct task_wait *tw, struct task_struct *t, bool is_current)
{
	bool selected = lock_selected(tw, t, is_current);
	__u32 g = *(volatile __u32 *)&gen;

	for (__u32 i = 0; i < DONE_SLOTS; i++) {
		struct done_wait *d = &tw->done[i];
		struct kiln_lock_key key = {};
		__u64 n, ns, max, raw;

		if (!d->count)
			continue;
		key.lock = d->lock;
		key.kstack = d->kstack;
		key.ustack = d->ustack;
		key.flags = d->flags;
		key.name = d->name;
		n = __sync_lock_test_and_set(&d->count, 0);
		ns = __sync_lock_test_and_set(&d->ns, 0);
		raw = __sync_lock_test_and_set(&d->raw, 0);
		max = d->max_ns;
		d->max_ns = 0;
		if (!n)
			continue;
		if (d->irq)
			count_n(&stats, KILN_WSTAT_LOCK_IRQ, raw);
		if (!d->irq && !selected) {
			if (tw->sel == SEL_UNKNOWN)
				count_n(&drops, KILN_WDROP_LOCK_UNSELECTED, raw);
			continue;
		}
		if (d->irq) {
			/* the interrupts' own process: pid 0, like the idle task's */
			__builtin_memcpy(key.comm, "[irq]", 6);
			if (per_thread)
				__builtin_memcpy(key.thread, "[irq]", 6);
		} else {
			key.tgid = t->tgid;
			read_comm(true, key.comm, t, true);
			if (per_thread) {
				key.tid = t->pid;
				read_comm(true, key.thread, t, false);
			}
		}
		if (key.kstack == KILN_STACK_NOT_TAKEN)
			count_n(&stats, KILN_WSTAT_LOCK_NO_STACK, raw);
		if (g & 1)
			aggregate_n(&lock1, &key, n, ns, max, KILN_WDROP_LOCK_COUNTS_FULL);
		else
			aggregate_n(&lock0, &key, n, ns, max, KILN_WDROP_LOCK_COUNTS_FULL);
		count_n(&stats, KILN_WSTAT_LOCK_RECORDED, raw);
	}
	tw->done_full = 0;
	/* what the lock programs counted into the task */
	count_n(&stats, KILN_WSTAT_LOCK_BEGIN, __sync_lock_test_and_set(&tw->lcnt[LCNT_BEGIN], 0));
	count_n(&stats, KILN_WSTAT_LOCK_REBEGIN,
		__sync_lock_test_and_set(&tw->lcnt[LCNT_REBEGIN], 0));
	count_n(&drops, KILN_WDROP_LOCK_NESTING,
		__sync_lock_test_and_set(&tw->lcnt[LCNT_NESTING], 0));
	count_n(&drops, KILN_WDROP_LOCK_UNMATCHED_END,
		__sync_lock_test_and_set(&tw->lcnt[LCNT_UNMATCHED], 0));
	count_n(&drops, KILN_WDROP_LOCK_NEGATIVE,
		__sync_lock_test_and_set(&tw->lcnt[LCNT_NEGATIVE], 0));
	count_n(&drops, KILN_WDROP_LOCK_DEFER_FULL,
		__sync_lock_test_and_set(&tw->lcnt[LCNT_DEFER_FULL], 0));
	count_n(&stats, KILN_WSTAT_LOCK_IRQ,
		__sync_lock_test_and_set(&tw->lcnt[LCNT_IRQ_SKIPPED], 0));
	count_n(&stats, KILN_WSTAT_LOCK_CUT, __sync_lock_test_and_set(&tw->lcnt[LCNT_CUT], 0));
	count_n(&stats, KILN_WSTAT_LOCK_STACK_FROM_BLOCK,
		__sync_lock_test_and_set(&tw->lcnt[LCNT_FROM_BLOCK], 0));
}

/* Waits open since an earlier attach never saw their end: drop them. */
static __always_inline void lock_epoch_check(struct task_wait *tw)
{
	__u32 e = *(volatile __u32 *)&lock_epoch;

	if (tw->lock_epoch == e)
		return;
	if (tw->nr_locks && tw->nr_locks <= KILN_MAX_HELD_LOCKS)
		__sync_fetch_and_add(&tw->lcnt[LCNT_CUT], tw->nr_locks);
	tw->nr_locks = 0;
	tw->lock_epoch = e;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(kiln_lock_begin, void *lock, unsigned int flags)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_wait *tw;
	struct held_lock *h;
	bool free_of_locks;
	__u32 n;
	__u64 sig;

	cpu_runs()->lock_begin++;
	if (t->tgid == self_tgid)
		return 0;
	tw = bpf_task_storage_get(&tasks, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!tw)
		return 0;	/* counted at the end as unmatched */
	if (tw->sel == SEL_NO)
		return 0;
	lock_epoch_check(tw);
	n = tw->nr_locks;
	if (n > 0 && n <= KILN_MAX_HELD_LOCKS && tw->locks[n - 1].lock == (__u64)lock) {
		/* a mutex begins again (optimistic spin, then sleep): keep the first */
		tw->locks[n - 1].flags |= flags;
		__sync_fetch_and_add(&tw->lcnt[LCNT_REBEGIN], 1);
		return 0;
	}
	if (n >= KILN_MAX_HELD_LOCKS) {
		__sync_fetch_and_add(&tw->lcnt[LCNT_NESTING], 1);
		return 0;
	}
	/* a spinning begin with no wait open holds no lock of its own: there
	 * map work and stack walks lengthen no critical section */
	free_of_locks = (flags & KILN_LCB_SPIN) && n == 0;
	if (free_of_locks && (tw->sel == SEL_UNKNOWN || tw->done_full) &&
	    !lock_selected(tw, t, true))
		return 0;
	h = &tw->locks[n & (KILN_MAX_HELD_LOCKS - 1)];
	h->lock = (__u64)lock;
	h->flags = flags;
	h->name = lock_name(lock, t);
	h->outs = tw->outs;
	h->weight = *(volatile __u32 *)&lock_weight;
	sig = lock_signature(ctx, t, lock);
	if (free_of_locks) {
		lock_stacks_walk(ctx, tw, h, sig);
		if (tw->done_full)
			flush_locks(tw, t, true);
	} else {
		/* inside a lock: the cache only, else the block's (lock_end) */
		int i = stack_cache_find(tw->sleep_ways, sig);

		h->kstack = i >= 0 ? tw->sleep_ways[i & (STACK_CACHE_WAYS - 1)].kstack :
				     KILN_STACK_DEFERRED;
		h->ustack = i >= 0 ? tw->sleep_ways[i & (STACK_CACHE_WAYS - 1)].ustack :
				     KILN_STACK_DEFERRED;
	}
	h->sig = free_of_locks ? 0 : sig;
	__sync_fetch_and_add(&tw->lcnt[LCNT_BEGIN], 1);
	tw->nr_locks = n + 1;
	h->ts = bpf_ktime_get_ns();
	return 0;
}

/* The slot that sums waits like @h (@irq), or a free one; NULL: none. */
static __always_inline struct done_wait *done_slot(struct task_wait *tw, const struct held_lock *h,
						   __s32 kstack, __s32 ustack, bool irq)
{
	struct done_wait *free = NULL;

	for (int i = 0; i < DONE_SLOTS; i++) {
		struct done_wait *d = &tw->done[i];

		if (d->lock == h->lock && d->kstack == kstack && d->ustack == ustack &&
		    d->flags == h->flags && d->irq == irq)
			return d;
		if (!free && !d->count)
			free = d;
	}
	if (free) {
		free->lock = h->lock;
		free->kstack = kstack;
		free->ustack = ustack;
		free->flags = h->flags;
		free->name = h->name;
		free->irq = irq;
	}
	return free;
}

SEC("tp_btf/contention_end")
int BPF_PROG(kiln_lock_end, void *lock, int ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_wait *tw;
	struct done_wait *d;
	struct held_lock *h;
	__u64 now, delta;
	__s32 ks, us;
	int i, found = -1;
	bool irq;

	cpu_runs()->lock_end++;
	tw = bpf_task_storage_get(&tasks, t, 0, 0);
	if (!tw || !tw->nr_locks)
		return 0;	/* no wait open: begun before attach, or not recorded */
	now = bpf_ktime_get_ns();
	if (tw->lock_epoch != *(volatile __u32 *)&lock_epoch)
		return 0;	/* begun in an earlier attach: dropped at the next begin */
	/* the innermost open wait on this lock */
	for (i = KILN_MAX_HELD_LOCKS - 1; i >= 0; i--) {
		if (i < tw->nr_locks && tw->locks[i].lock == (__u64)lock) {
			found = i;
			break;
		}
	}
	if (found < 0) {
		__sync_fetch_and_add(&tw->lcnt[LCNT_UNMATCHED], 1);
		return 0;
	}
	h = &tw->locks[found & (KILN_MAX_HELD_LOCKS - 1)];
	/* waits opened after it and never ended are dropped with it */
	tw->nr_locks = found;
	if (now < h->ts) {
		__sync_fetch_and_add(&tw->lcnt[LCNT_NEGATIVE], 1);
		return 0;
	}
	delta = now - h->ts;
	irq = !on_task_stack(ctx, t);
	if (irq && (filter_pids || filter_comms || filter_cgroups)) {
		/* not the selected processes' wait */
		__sync_fetch_and_add(&tw->lcnt[LCNT_IRQ_SKIPPED], 1);
		return 0;
	}
	ks = h->kstack;
	us = irq ? -EFAULT : h->ustack;
	if (h->sig && !irq && h->outs != tw->outs) {
		/* begun inside a lock, it slept in the wait: the stacks its block
		 * was recorded with, kept for the next wait from the same place
		 * (a plain store into the task's storage), which may not sleep */
		if (ks == KILN_STACK_DEFERRED)
			__sync_fetch_and_add(&tw->lcnt[LCNT_FROM_BLOCK], 1);
		ks = tw->off_kstack;
		us = tw->off_ustack;
		if (ks >= 0)
			stack_cache_put(tw->sleep_ways, &tw->sleep_next, h->sig, ks, us);
	}
	if (delta < lock_stack_min_ns || ks == KILN_STACK_DEFERRED) {
		ks = KILN_STACK_NOT_TAKEN;
		us = KILN_STACK_NOT_TAKEN;
	}
	d = done_slot(tw, h, ks, us, irq);
	if (!d) {
		__sync_fetch_and_add(&tw->lcnt[LCNT_DEFER_FULL], 1);
		tw->done_full = 1;
		return 0;
	}
	__sync_fetch_and_add(&d->ns, delta * h->weight);
	if (delta > d->max_ns)
		d->max_ns = delta;	/* racy maximum: good enough */
	__sync_fetch_and_add(&d->raw, 1);
	__sync_fetch_and_add(&d->count, h->weight);
	return 0;
}

/* A task that exits takes its storage with it: end the block it got the CPU
 * back from (it is running), and flush its sums first. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(kiln_task_exit, struct task_struct *p)
{
	struct task_wait *tw = bpf_task_storage_get(&tasks, p, 0, 0);

	if (!tw)
		return 0;
	if (offcpu_on) {
		end_arrived(tw, p);
		flush_task(tw, p);
	}
	flush_locks(tw, p, true);
	return 0;
}

/* Run by the agent before each drain: move every task's ended lock waits,
 * and the off-CPU sums of tasks off CPU now (one on a CPU may be adding to
 * them in sched_switch, with plain stores), into the counts. */
SEC("iter/task")
int kiln_flush_held(struct bpf_iter__task *ctx)
{
	struct task_struct *t;
	struct task_wait *tw = iter_task(ctx, &t);

	if (!tw)
		return 0;
	if (locks_on)
		flush_locks(tw, t, false);
	if (offcpu_on && !t->on_cpu)
		flush_task(tw, t);
	return 0;
}

/* --- exact lock counts, for tests only (--lock-exact-check) ----------------
 * Every contention, per lock, thread and system call, in hash maps and inside
 * the lock: the cost the programs above avoid. Never governed, so that a test
 * can compare the governor's estimates with the truth of the same run. */
/* an open wait, by thread and lock: waits nest (a long one on a sleeping
 * lock meets short ones on spinlocks), and each is counted */
struct exact_open {
	__u64 lock;
	__u32 tid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct exact_open);
	__type(value, __u64);		/* when it began */
} exact_open SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KILN_EXACT_MAX);
	__type(key, struct kiln_exact_key);
	__type(value, struct kiln_exact_val);
} exact_locks SEC(".maps");

__u64 exact_dropped = 0;	/* contentions lost to a full exact_locks */

SEC("tp_btf/contention_begin")
int BPF_PROG(kiln_exact_begin, void *lock, unsigned int flags)
{
	__u64 id = bpf_get_current_pid_tgid(), ts = bpf_ktime_get_ns();
	struct exact_open o = { .lock = (__u64)lock, .tid = (__u32)id };

	if (id >> 32 == self_tgid)
		return 0;
	/* a mutex's second begin (optimistic spin, then sleep): keep the first */
	bpf_map_update_elem(&exact_open, &o, &ts,
			    flags & KILN_LCB_MUTEX && !(flags & KILN_LCB_SPIN) ? BPF_NOEXIST : BPF_ANY);
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(kiln_exact_end, void *lock, int ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exact_open o = { .lock = (__u64)lock, .tid = tid };
	struct kiln_exact_val init = {}, *v;
	struct kiln_exact_key key = { .lock = (__u64)lock, .tid = tid, .syscall = -1 };
	struct pt_regs *regs;
	__u64 *ts, delta;

	ts = bpf_map_lookup_elem(&exact_open, &o);
	if (!ts)
		return 0;
	delta = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&exact_open, &o);
	if (!(t->flags & PF_KTHREAD) && (regs = task_regs(t)))
		key.syscall = (__s32)SYSCALL_NR(regs);
	v = bpf_map_lookup_elem(&exact_locks, &key);
	if (!v) {
		init.name = lock_name(lock, t);
		bpf_get_current_comm(init.thread, sizeof(init.thread));
		bpf_map_update_elem(&exact_locks, &key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&exact_locks, &key);
		if (!v) {
			__sync_fetch_and_add(&exact_dropped, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, delta);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
