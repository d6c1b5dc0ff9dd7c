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

/* Processes to profile when the object's filter_pids is set. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

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
