/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* BPF-only pieces every kiln program object shares: the drain barrier, the
 * process filter and per-reason counters. Include after vmlinux.h and
 * bpf_helpers.h. */
#ifndef KILN_BPF_H
#define KILN_BPF_H

#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef EFAULT
#define EFAULT 14
#endif

/* Never read by a program: the agent updates `barrier` to wait for programs
 * in flight (a map-in-map update returns after synchronize_rcu()). */
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

/* Which tasks are recorded (--pid, --cgroup, --comm). Each kind given
 * narrows the set: a task must match one of each. */
const volatile bool filter_pids = false;
const volatile __u32 filter_cgroups = 0;	/* entries of cgroup_filter */
const volatile bool filter_comms = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

#define KILN_MAX_CGROUPS 8
/* cgroup v2 directories: their tasks and their descendants' */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, KILN_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* process names (the thread group leader's comm), NUL-padded */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[16]);
	__type(value, __u8);
} comms SEC(".maps");

/* Is task @t (process @tgid) one kiln records? Cgroup membership can only
 * be told for the running task: another (@is_current false) is not
 * selected while a cgroup filter is on. */
static __always_inline bool task_selected(struct task_struct *t, __u32 tgid, bool is_current)
{
	if (filter_pids && !bpf_map_lookup_elem(&pids, &tgid))
		return false;
	if (filter_comms) {
		char comm[16] = {};

		BPF_CORE_READ_STR_INTO(&comm, t, group_leader, comm);
		if (!bpf_map_lookup_elem(&comms, comm))
			return false;
	}
	if (filter_cgroups) {
		if (!is_current)
			return false;
		for (__u32 i = 0; i < KILN_MAX_CGROUPS && i < filter_cgroups; i++)
			if (bpf_current_task_under_cgroup(&cgroup_filter, i) == 1)
				return true;
		return false;
	}
	return true;
}

/* A per-CPU array of @n u64 counters (drops by reason, stats). */
#define COUNTER_MAP(name, n)				\
struct {						\
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);	\
	__uint(max_entries, n);				\
	__type(key, __u32);				\
	__type(value, __u64);				\
} name SEC(".maps")

static __always_inline void count_n(void *map, __u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		*v += n;	/* per-CPU slot: no atomics needed */
}

static __always_inline void count(void *map, __u32 idx)
{
	count_n(map, idx, 1);
}

#endif /* KILN_BPF_H */
