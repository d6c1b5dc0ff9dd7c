/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Map helpers shared by the agent's BPF modules (sampler, waits). */
#ifndef KILN_BPFUTIL_H
#define KILN_BPFUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <bpf/libbpf.h>

/* libbpf's print callback, filtered by kiln's verbosity. */
int bpfutil_print(enum libbpf_print_level level, const char *fmt, va_list args);

/* Copy stack @id of a stack-trace map into @buf (KILN_STACK_SLOTS entries);
 * returns the number of frames, 0 for a negative id or a missing stack.
 * *truncated is set when every slot was used. */
size_t bpfutil_read_stack(int stacks_fd, int32_t id, uint64_t *buf, bool *truncated);

/* Return after every BPF program that may have read the old generation has
 * finished: a map-in-map update waits for an RCU grace period. Returns 0 or -errno. */
int bpfutil_wait_for_programs(int barrier_fd, int inner_fd);

/* Empty a map nobody writes to. @key and @prev are scratch buffers for one key. */
int bpfutil_clear_map(int fd, void *key, void *prev, size_t key_size);

/* Sum per-CPU u64 counters [0, nr) of a PERCPU_ARRAY into @out. */
void bpfutil_sum_percpu(int fd, uint64_t *out, uint32_t nr);

/* Read up to @max keys of hash map @fd into @keys (key_size bytes each).
 * Returns how many. */
size_t bpfutil_collect_keys(int fd, void *keys, size_t key_size, size_t max);

/* Take up to @max entries of hash map @fd, which nobody writes to: keys into
 * @keys, values into @vals, each deleted as it is read. Batched (a few
 * syscalls per drain, not three per entry) where the kernel has
 * BPF_MAP_LOOKUP_AND_DELETE_BATCH, else entry by entry. What did not fit
 * stays in the map. Returns how many were taken. */
size_t bpfutil_take(int fd, void *keys, void *vals, size_t key_size, size_t val_size,
		    size_t max);

/* Which tasks are recorded; each kind given narrows the set (a task must
 * match one of each). */
struct task_filter {
	const uint32_t *pids;		/* processes */
	size_t nr_pids;
	const char *const *cgroups;	/* cgroup v2 directories (and descendants) */
	size_t nr_cgroups;		/* at most KILN_MAX_CGROUPS */
	const char *const *comms;	/* process names */
	size_t nr_comms;
};

#define KILN_MAX_CGROUPS 8
#define KILN_MAX_COMMS 64

/* Put @f in a loaded object's pids, cgroup_filter and comms maps. Prints
 * one error line and returns -errno on failure. */
int bpfutil_fill_filter(const struct task_filter *f, struct bpf_map *pids,
			struct bpf_map *cgroups, struct bpf_map *comms);
#endif
