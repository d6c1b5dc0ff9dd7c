/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The "flags" part of the record summary: where CPU went into spinlock
 * slowpaths, kprobe machinery, BPF trampolines and programs, who owns those
 * programs, and each figure's source. Text or JSON on stdout. */
#ifndef KILN_FLAGREPORT_H
#define KILN_FLAGREPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "aggregate.h"
#include "bpfprogs.h"

/* Run time of one program when BPF stats were turned on. */
struct prog_run0 {
	uint32_t id;
	uint64_t run_time_ns, run_cnt;
};

struct flag_report {
	const struct aggregate *cpu;	/* on-CPU samples */
	const struct aggregate *lock;	/* lock waits; NULL when not recorded */
	const struct aggregate *off;	/* off-CPU; NULL when not recorded */
	uint64_t lock_ns;		/* all lock wait time, flagged or not */
	const struct bpfprogs *progs;
	const char *event;		/* "cpu-clock" or "cycles" */
	double seconds;
	int cpus;
	int64_t period_ns;		/* one CPU sample */
	uint32_t sampler_prog_id;	/* our perf_event program */
	uint64_t sampler_runs;		/* times it ran outside idle, kept or skipped */
	double sampler_expected;	/* freq x busy CPU seconds (/proc/stat) */
	bool bpf_stats;			/* --bpf-stats was on */
	bool bpf_stats_already_on;	/* kernel.bpf_stats_enabled was 1 before */
	const struct prog_run0 *run0;	/* run time at the start, by id */
	size_t nr_run0;
};

void flagreport__text(const struct flag_report *r);
/* Writes `"flags":{...},"bpf_programs":[...],"bpf_stats":{...}` (no braces
 * around, no leading comma). */
void flagreport__json(const struct flag_report *r);

#endif
