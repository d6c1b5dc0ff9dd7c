/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_KFEATURES_H
#define KILN_KFEATURES_H

#include <stdbool.h>
#include <stdio.h>

/* What this kernel lets kiln do, probed by loading tiny programs. */
struct features {
	bool btf;		/* /sys/kernel/btf/vmlinux parses */
	bool perf_event;	/* BPF_PROG_TYPE_PERF_EVENT loads */
	bool hw_cycles;		/* a hardware cycles event opens (PMU present) */
	bool raw_tp;
	bool tp_btf;		/* tp_btf/sched_switch loads */
	bool fentry;		/* fentry loads (EPERM under some lockdown setups) */
	bool kprobe_pmu;	/* kprobes available to perf_event_open */
	bool tracefs;		/* tracefs mounted: classic tracepoints attach */
	bool ringbuf;
	bool task_storage;
	bool lock_tracepoints;	/* lock:contention_begin/end in BTF */
	int perf_event_paranoid;
	int kptr_restrict;
	int max_sample_rate;	/* kernel.perf_event_max_sample_rate */
	char kernel[128];	/* uname -r */
	char lockdown[32];	/* none / integrity / confidentiality / ? */
};

/* Fill @f. Never fails: what cannot be probed reads as false. */
void features__probe(struct features *f);
/* The kernel's perf_event_max_sample_rate, or -1 if unreadable. */
int features__max_sample_rate(void);
/* What a command wants from the kernel. */
struct features_want {
	bool offcpu, locks;
	bool btf_file;		/* --btf given: /sys/kernel/btf/vmlinux not needed */
};
/* Print one line saying what this kernel lets kiln collect, then one line
 * per thing it will not collect and why. Returns -1 after one error line
 * when kiln cannot profile here at all, 0 otherwise. */
int features__report(const struct features *f, const struct features_want *w, FILE *out);
void features__print_json(const struct features *f, FILE *out);
void features__print_text(const struct features *f, FILE *out);

#endif
