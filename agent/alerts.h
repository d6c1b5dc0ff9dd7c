/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Spike detection for kiln run: each interval's figures (CPU share in
 * spinlock slowpaths, in kprobe/BPF machinery per program, lock wait per
 * lock) against an absolute floor and a multiple of their own rolling
 * median, with hysteresis and a resolve event. See docs/alerts.md. */
#ifndef KILN_ALERTS_H
#define KILN_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum alert_rule {
	ALERT_SPINLOCK,		/* KilnSpinlockSlowpath: CPU share, host */
	ALERT_KPROBE,		/* KilnProbeOverhead: kprobe machinery, floor only */
	ALERT_BPF_PROG,		/* KilnProbeOverhead: one BPF program (with trampolines) */
	ALERT_LOCK,		/* KilnLockContention: one lock's wait, seconds per second */
	ALERT__MAX,
};

#define ALERT_WINDOW 30		/* intervals in a series' baseline */
#define ALERT_SERIES_MAX 64	/* series followed; the least recently seen quiet one goes */
#define ALERT_LABELS_MAX 3

struct alert_label {
	char key[16];
	char value[96];
};

/* One figure of one interval. */
struct alert_figure {
	enum alert_rule rule;
	struct alert_label labels[ALERT_LABELS_MAX];	/* identify the series */
	size_t nr_labels;
	double value;		/* CPU share (0..1) or wait seconds per second */
	char stack[480];	/* the top stack behind it, "" if none */
	char detail[256];	/* more context: the program under a kprobe, ... */
};

struct alert_series {
	struct alert_figure last;	/* labels, this interval's value and stack */
	double window[ALERT_WINDOW];	/* values while not firing */
	unsigned int n, pos;
	bool active;
	unsigned int quiet;		/* intervals under the resolve level while active */
	double threshold;		/* this interval's bar: floor, or factor x baseline */
	double baseline;		/* median of the window, this interval */
	int64_t starts_ns;		/* wall clock, when it fired */
	uint64_t seen;			/* interval it was last fed */
};

struct alert_opts {
	double floor[ALERT__MAX];
	double factor;			/* × the baseline, once warm */
	unsigned int warmup;		/* intervals before the baseline counts */
	double resolve_ratio;		/* active until under ratio × threshold ... */
	unsigned int resolve_after;	/* ... for this many intervals */
};

struct alert_detector {
	struct alert_opts o;
	struct alert_series series[ALERT_SERIES_MAX];
	size_t nr;
	uint64_t intervals;
	uint64_t series_dropped;	/* figures not followed: table full of active series */
};

/* Defaults for an interval of @interval_s seconds: warm-up 8 intervals, at
 * most 2 minutes. */
void alerts__defaults(struct alert_opts *o, unsigned int interval_s);
void alerts__init(struct alert_detector *d, const struct alert_opts *o);

/* Called for a series that fires (@firing) or resolves. */
typedef void (*alert_fn)(void *ctx, const struct alert_series *s, bool firing);

/* One interval's figures; followed series without a figure read 0. */
void alerts__interval(struct alert_detector *d, const struct alert_figure *f, size_t n,
		      int64_t now_ns, alert_fn fn, void *ctx);

bool alerts__warm(const struct alert_detector *d);
const char *alerts__name(enum alert_rule r);

#endif /* KILN_ALERTS_H */
