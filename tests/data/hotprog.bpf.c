// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test-only BPF programs: on every system call of one process it does heavy
 * work (a bpf_loop of updates to a small shared hash map), so samples land in
 * its body. raw_tp, so a perf_event program can sample inside it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid;
const volatile __u32 iterations = 256;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} shared SEC(".maps");

static long hot_step(__u32 i, void *ctx)
{
	__u32 key = i & 7;
	__u64 *v = bpf_map_lookup_elem(&shared, &key), one = 1;

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&shared, &key, &one, BPF_ANY);
	/* the update takes the bucket lock each time */
	bpf_map_update_elem(&shared, &key, v ? v : &one, BPF_EXIST);
	return 0;
}

SEC("raw_tp/sys_enter")
int hot_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	bpf_loop(iterations, hot_step, NULL, 0);
	return 0;
}

/* The same work from a classic tracepoint program: the kernel runs it under
 * bpf_prog_active, so a perf_event program cannot sample inside it. Needs
 * tracefs mounted to attach (the test mounts it in a mount namespace of its
 * own). */
SEC("tracepoint/raw_syscalls/sys_enter")
int hot_tp_enter(void *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	bpf_loop(iterations, hot_step, NULL, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
