/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The cost governor: keeps what kiln's lock and switch programs cost the host
 * under a budget by attaching them for part of each second, and says by how
 * much the counts recorded so must be multiplied. See docs/design.md. */
#ifndef KILN_GOVERNOR_H
#define KILN_GOVERNOR_H

#include <stdbool.h>
#include <stdint.h>
#include "waits.h"

struct governor;

struct governor_opts {
	double budget;		/* fraction of one CPU for the lock and switch programs */
	bool locks_exact;	/* never detach the lock programs */
	bool offcpu_exact;	/* never detach the switch program */
};

enum { GOV_SRC_LOCKS, GOV_SRC_OFFCPU, GOV_SRC__MAX };
extern const char *const governor_source_names[GOV_SRC__MAX];

struct governor_source_stats {
	bool present;			/* its programs are loaded */
	bool exact;			/* never detached (--locks/--offcpu exact) */
	bool engaged;			/* detached at some point */
	double duty;			/* fraction of each period attached now */
	double recorded;		/* fraction of the time attached, whole run */
	double scale_max;		/* the largest weight a window gave its events */
	double full_cost;		/* cost attached all the time, fraction of
					 * one CPU (last period) */
	double full_cost_max;		/* the highest of those */
};

struct governor_stats {
	double budget;
	unsigned int calibrations;	/* BPF-stats windows taken */
	struct governor_source_stats src[GOV_SRC__MAX];
	uint64_t runs[WAITS_PROG__MAX];		/* times each program ran */
	double ns_per_run[WAITS_PROG__MAX];	/* as calibrated, dispatch included */
	double cost_seconds[WAITS_PROG__MAX];	/* runs x ns per run, summed */
};

/* Names of the programs, as in `kiln probes` and the stats. */
extern const char *const governor_prog_names[WAITS_PROG__MAX];

/* A governor for @w's programs (which must outlive it), starting at @now_ns
 * (monotonic). It runs on a thread of its own (attach and detach at the
 * window edges, calibration windows); the other calls are safe from any
 * thread. NULL with errno set on failure. */
struct governor *governor__new(struct waits *w, const struct governor_opts *o, uint64_t now_ns);
/* The share of the time since the last call source @s's programs were
 * attached (1: all of it). Call for every source in order: the last call
 * starts the next span. */
double governor__take_recorded(struct governor *g, int s, uint64_t now_ns);
/* The programs stay as they are from @now_ns on: stop the clock and the
 * thread (joined). Detaching them is the caller's. */
void governor__stop(struct governor *g, uint64_t now_ns);
void governor__stats(struct governor *g, struct governor_stats *out);
void governor__free(struct governor *g);
/* One sentence on what the governor did with source @s, for summaries and
 * pprof comments. Returns what snprintf() returns. */
size_t governor__describe(const struct governor_stats *st, int s, char *buf, size_t len);
/* --locks/--offcpu MODE: "auto" (governed) or "exact". 0 or -EINVAL. */
int governor__parse_mode(const char *arg, bool *exact);
/* --bpf-budget PCT (0.01-100, percent of one CPU) into a fraction. 0 or -EINVAL. */
int governor__parse_budget(const char *arg, double *fraction);

#endif
