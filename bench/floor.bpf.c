// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor of bench/offcpu: a tp_btf/sched_switch program that does nothing.
 * What it costs is what attaching any program to that tracepoint costs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
