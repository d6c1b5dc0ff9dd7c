/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The cost governor: keeps what kiln's lock programs cost the host under a
 * budget by attaching them for part of each second, and says by how much the
 * counts recorded so must be multiplied. See docs/design.md. */
#ifndef KILN_GOVERNOR_H
#define KILN_GOVERNOR_H

#include <stdbool.h>
#include <stdint.h>
#include "waits.h"

struct governor;

struct governor_opts {
	double budget;		/* fraction of one CPU for the lock and switch programs */
	bool locks_exact;	/* never detach the lock programs */
};

struct governor_stats {
	double budget;
	bool locks_exact;
	bool engaged;			/* the lock programs were detached at some point */
	double lock_duty;		/* fraction of each period attached now */
	double lock_recorded;		/* fraction of the time attached, whole run */
	double lock_scale_max;		/* the largest scale a drain applied */
	double lock_full_cost;		/* lock programs' cost attached all the time,
					 * fraction of one CPU (last period) */
	double lock_full_cost_max;	/* the highest of those */
	double switch_cost;		/* the switch program's, fraction of one CPU */
	unsigned int calibrations;	/* BPF-stats windows taken */
	uint64_t runs[WAITS_PROG__MAX];		/* times each program ran */
	double ns_per_run[WAITS_PROG__MAX];	/* as calibrated, dispatch included */
	double cost_seconds[WAITS_PROG__MAX];	/* runs x ns per run, summed */
};

/* Names of the programs, as in `kiln probes` and the stats. */
extern const char *const governor_prog_names[WAITS_PROG__MAX];

/* A governor for @w's programs (which must outlive it), starting at @now_ns
 * (monotonic). NULL with errno set on failure. */
struct governor *governor__new(struct waits *w, const struct governor_opts *o, uint64_t now_ns);
/* Advance to @now_ns: attach or detach, end a calibration window. Cheap;
 * never blocks but for the attach and detach system calls. */
void governor__tick(struct governor *g, uint64_t now_ns);
/* When governor__tick() wants to run next (monotonic ns). */
uint64_t governor__next(const struct governor *g);
/* The scale for the lock counts recorded since the last call (elapsed time
 * over attached time, >= 1), and start the next span. */
double governor__drain_scale(struct governor *g, uint64_t now_ns);
/* The share of the time since the last call the lock programs were
 * attached (1: all of it), and start the next span. */
double governor__take_recorded(struct governor *g, uint64_t now_ns);
/* The programs are detached for good at @now_ns: stop the clock. */
void governor__stop(struct governor *g, uint64_t now_ns);
void governor__stats(const struct governor *g, struct governor_stats *out);
void governor__free(struct governor *g);
/* One sentence on what the governor did, for summaries and pprof comments.
 * Returns what snprintf() returns. */
size_t governor__describe(const struct governor_stats *s, char *buf, size_t len);
/* --locks MODE: "auto" (governed) or "exact". 0 or -EINVAL. */
int governor__parse_locks(const char *arg, bool *exact);
/* --bpf-budget PCT (0.01-100, percent of one CPU) into a fraction. 0 or -EINVAL. */
int governor__parse_budget(const char *arg, double *fraction);

#endif
