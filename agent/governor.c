// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The cost governor.
 *
 * What a program costs is the times it ran (its own per-CPU run counters,
 * read from its memory) times what one run costs. The latter is calibrated in
 * short windows with the kernel's BPF run-time stats, which are host-wide and
 * add two clock reads to every program on the host, so they are on for
 * CAL_WINDOW_NS at a time only. The stats see a program's body, not the
 * tracepoint's call into it: DISPATCH_NS, what an empty tp_btf program costs
 * a run on our VMs (bench/floor), is added.
 *
 * In-BPF sampling cannot go below that floor (a program that returns at once
 * still costs DISPATCH_NS a run), so the governor detaches: the lock programs
 * are attached for the first @duty of every PERIOD_NS and detached for the
 * rest. From the runs counted while attached it knows what they would cost
 * attached all the time, and sets the duty so that cost fits the budget;
 * back under budget (with hysteresis) it returns to exact recording. What a
 * drain reads was recorded for the attached part of its span only: its
 * counts are multiplied by span / attached (governor__drain_scale). Waits
 * open at a detach are dropped (the programs count them as cut), so waits
 * much longer than an attached window are undercounted; lock waits are
 * mostly microseconds, windows at least MIN_ON_NS.
 *
 * The switch program is measured but not detached (an off-CPU block spans
 * the detach): its cost comes out of the budget first, and the lock programs
 * get what is left, at least a quarter of the budget. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "governor.h"
#include "util.h"

#define PERIOD_NS 1000000000ULL
#define MIN_ON_NS 10000000ULL		/* shortest attached window */
#define CHECK_NS 50000000ULL		/* recording all: how soon a storm is seen */
#define MIN_DUTY ((double)MIN_ON_NS / PERIOD_NS)
#define CAL_WINDOW_NS 200000000ULL
#define CAL_FIRST_NS 500000000ULL	/* after start: the programs are warm */
#define CAL_EVERY_NS 60000000000ULL
#define CAL_RETRY_NS 5000000000ULL	/* until the lock programs were measured */
#define CAL_MIN_RUNS 1000		/* fewer runs in a window: keep the old figure */
#define DISPATCH_NS 50.0
#define HYSTERESIS 0.8			/* back to exact below this share of the budget */

const char *const governor_prog_names[WAITS_PROG__MAX] = {
	[WAITS_PROG_LOCK_BEGIN] = "kiln_lock_begin",
	[WAITS_PROG_LOCK_END] = "kiln_lock_end",
	[WAITS_PROG_SWITCH] = "kiln_switch",
};

struct governor {
	struct waits *w;
	struct governor_opts o;
	int fds[WAITS_PROG__MAX];
	double ns_per_run[WAITS_PROG__MAX];
	/* calibration window */
	int stats_fd;			/* >= 0: stats on, held by us */
	bool cal_open;
	uint64_t cal_end, next_cal;
	uint64_t cal_cnt0[WAITS_PROG__MAX], cal_time0[WAITS_PROG__MAX];
	unsigned int calibrations;
	bool calibrated;		/* the lock programs measured once */
	/* the current period */
	uint64_t period_start;
	uint64_t period_on_ns;		/* attached so far this period */
	uint64_t runs0[WAITS_PROG__MAX];	/* at period start */
	double duty;
	uint64_t on_since;		/* attached since; 0: detached */
	bool stopped;
	uint64_t stop_ns;
	uint64_t next_check;		/* recording all: look at the cost then */
	/* since the last drain */
	uint64_t span_start, span_on_ns;
	/* whole run */
	uint64_t start, on_ns_total;
	uint64_t mark, mark_on;		/* governor__take_recorded() */
	uint64_t runs[WAITS_PROG__MAX];
	double cost_ns[WAITS_PROG__MAX];
	double full_cost, full_cost_max, switch_cost, scale_max;
	bool engaged;
};

static void read_runs(const struct governor *g, uint64_t out[WAITS_PROG__MAX])
{
	struct waits_runs r;

	waits__runs(g->w, &r);
	out[WAITS_PROG_LOCK_BEGIN] = r.lock_begin;
	out[WAITS_PROG_LOCK_END] = r.lock_end;
	out[WAITS_PROG_SWITCH] = r.sched_switch;
}

static int prog_stats(int fd, uint64_t *cnt, uint64_t *ns)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return 0;
}

static void cal_start(struct governor *g, uint64_t now)
{
	g->next_cal = now + CAL_EVERY_NS;
	/* the lock programs must run in the window to be measured */
	if (!g->o.locks_exact && !g->on_since && g->fds[WAITS_PROG_SWITCH] < 0)
		return;
	g->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (g->stats_fd < 0) {
		p_debug("governor: BPF stats not available (%s): per-run costs stay estimates",
			strerror(errno));
		return;
	}
	for (int i = 0; i < WAITS_PROG__MAX; i++)
		if (prog_stats(g->fds[i], &g->cal_cnt0[i], &g->cal_time0[i]))
			g->cal_cnt0[i] = UINT64_MAX;
	g->cal_open = true;
	g->cal_end = now + CAL_WINDOW_NS;
}

static void cal_end(struct governor *g)
{
	for (int i = 0; i < WAITS_PROG__MAX; i++) {
		uint64_t cnt, ns;

		if (g->cal_cnt0[i] == UINT64_MAX || prog_stats(g->fds[i], &cnt, &ns) ||
		    cnt < g->cal_cnt0[i] + CAL_MIN_RUNS)
			continue;
		g->ns_per_run[i] = DISPATCH_NS + (double)(ns - g->cal_time0[i]) /
						 (double)(cnt - g->cal_cnt0[i]);
		if (i == WAITS_PROG_LOCK_END)
			g->calibrated = true;
	}
	close(g->stats_fd);
	g->stats_fd = -1;
	g->cal_open = false;
	g->calibrations++;
	/* no lock runs to measure yet: try again soon, not in a minute */
	if (!g->calibrated)
		g->next_cal = g->cal_end + CAL_RETRY_NS;
}

/* Move the open window's time, up to @now, into the sums. */
static void account(struct governor *g, uint64_t now)
{
	uint64_t d;

	if (!g->on_since)
		return;
	d = now - g->on_since;
	g->period_on_ns += d;
	g->span_on_ns += d;
	g->on_ns_total += d;
	g->on_since = now;
}

static void set_attached(struct governor *g, bool on, uint64_t now)
{
	int err;

	if (on == (g->on_since != 0))
		return;
	err = waits__attach_locks(g->w, on);
	if (err) {
		p_warn("governor: failed to %s the lock programs: %s", on ? "attach" : "detach",
		       strerror(-err));
		return;
	}
	if (on) {
		g->on_since = now;
	} else {
		account(g, now);
		g->on_since = 0;
		g->engaged = true;
	}
}

/* What the lock programs may cost, with the switch program's cost out. */
static double lock_budget(const struct governor *g)
{
	double b = g->o.budget - g->switch_cost;

	return b < g->o.budget / 4 ? g->o.budget / 4 : b;
}

/* Recording all of the time, has the cost gone over the budget since the
 * period began? Read at CHECK_NS steps, so that a storm costs its full rate
 * for CHECK_NS at most, not a whole period. */
static bool over_budget_early(struct governor *g, uint64_t now)
{
	uint64_t r[WAITS_PROG__MAX];
	double lock_ns;

	if (g->o.locks_exact || g->duty < 1.0 || !g->on_since || now < g->next_check)
		return false;
	g->next_check = now + CHECK_NS;
	read_runs(g, r);
	lock_ns = (double)(r[WAITS_PROG_LOCK_BEGIN] - g->runs0[WAITS_PROG_LOCK_BEGIN]) *
		  g->ns_per_run[WAITS_PROG_LOCK_BEGIN] +
		  (double)(r[WAITS_PROG_LOCK_END] - g->runs0[WAITS_PROG_LOCK_END]) *
		  g->ns_per_run[WAITS_PROG_LOCK_END];
	return lock_ns > lock_budget(g) * (double)(now - g->period_start);
}

/* A period ended at @now: what did it cost, what duty comes next. */
static void end_period(struct governor *g, uint64_t now)
{
	uint64_t r[WAITS_PROG__MAX], d[WAITS_PROG__MAX];
	double wall = (double)(now - g->period_start), on, lock_ns, budget_locks;

	account(g, now);
	on = (double)g->period_on_ns;
	read_runs(g, r);
	for (int i = 0; i < WAITS_PROG__MAX; i++) {
		d[i] = r[i] - g->runs0[i];
		g->runs[i] += d[i];
		g->cost_ns[i] += (double)d[i] * g->ns_per_run[i];
		g->runs0[i] = r[i];
	}
	if (wall <= 0)
		return;
	g->switch_cost = (double)d[WAITS_PROG_SWITCH] * g->ns_per_run[WAITS_PROG_SWITCH] / wall;
	if (on >= (double)MIN_ON_NS / 2) {
		lock_ns = (double)d[WAITS_PROG_LOCK_BEGIN] * g->ns_per_run[WAITS_PROG_LOCK_BEGIN] +
			  (double)d[WAITS_PROG_LOCK_END] * g->ns_per_run[WAITS_PROG_LOCK_END];
		g->full_cost = lock_ns / on;	/* as if attached the whole period */
		if (g->full_cost > g->full_cost_max)
			g->full_cost_max = g->full_cost;
	}
	if (g->o.locks_exact)
		return;
	budget_locks = lock_budget(g);
	if (g->duty >= 1.0 && g->full_cost <= budget_locks)
		return;
	if (g->duty < 1.0 && g->full_cost < budget_locks * HYSTERESIS)
		g->duty = 1.0;
	else
		g->duty = g->full_cost > 0 ? budget_locks / g->full_cost : 1.0;
	if (g->duty > 1.0)
		g->duty = 1.0;
	if (g->duty < MIN_DUTY)
		g->duty = MIN_DUTY;
	p_debug("governor: locks %.0f+%.0f runs in %.0f ms attached (%.0f/%.0f ns a run): "
		"%.2f%% of a CPU attached all the time, switch %.2f%%; duty now %.3f",
		(double)d[WAITS_PROG_LOCK_BEGIN], (double)d[WAITS_PROG_LOCK_END], on / 1e6,
		g->ns_per_run[WAITS_PROG_LOCK_BEGIN], g->ns_per_run[WAITS_PROG_LOCK_END],
		100 * g->full_cost, 100 * g->switch_cost, g->duty);
}

struct governor *governor__new(struct waits *w, const struct governor_opts *o, uint64_t now)
{
	struct governor *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->w = w;
	g->o = *o;
	waits__prog_fds(w, g->fds);
	/* until the first calibration: what they cost on our VMs */
	g->ns_per_run[WAITS_PROG_LOCK_BEGIN] = DISPATCH_NS + 60;
	g->ns_per_run[WAITS_PROG_LOCK_END] = DISPATCH_NS + 40;
	g->ns_per_run[WAITS_PROG_SWITCH] = DISPATCH_NS + 150;
	g->stats_fd = -1;
	g->duty = 1.0;
	g->start = g->period_start = g->span_start = g->mark = now;
	g->on_since = waits__locks_attached(w) ? now : 0;
	g->next_cal = now + CAL_FIRST_NS;
	g->next_check = now + CHECK_NS;
	g->scale_max = 1.0;
	read_runs(g, g->runs0);
	return g;
}

uint64_t governor__next(const struct governor *g)
{
	uint64_t next = g->period_start + PERIOD_NS;
	uint64_t off = g->period_start + (uint64_t)(g->duty * PERIOD_NS);

	if (g->stopped)
		return UINT64_MAX;
	if (g->on_since && g->duty < 1.0 && off < next)
		next = off;
	if (g->on_since && g->duty >= 1.0 && !g->o.locks_exact && g->next_check < next)
		next = g->next_check;
	if (g->cal_open && g->cal_end < next)
		next = g->cal_end;
	if (!g->cal_open && g->next_cal < next)
		next = g->next_cal;
	return next;
}

void governor__tick(struct governor *g, uint64_t now)
{
	if (g->stopped)
		return;
	if (g->cal_open && now >= g->cal_end)
		cal_end(g);
	if (now >= g->period_start + PERIOD_NS || over_budget_early(g, now)) {
		end_period(g, now);
		g->period_start = now;
		g->period_on_ns = 0;
		g->next_check = now + CHECK_NS;
		set_attached(g, true, now);
	}
	if (g->on_since && g->duty < 1.0 &&
	    now >= g->period_start + (uint64_t)(g->duty * PERIOD_NS))
		set_attached(g, false, now);
	if (!g->cal_open && now >= g->next_cal)
		cal_start(g, now);
}

double governor__drain_scale(struct governor *g, uint64_t now)
{
	uint64_t span;
	double scale = 1.0;

	if (g->stopped)
		now = g->stop_ns;	/* nothing was recorded after */
	else
		account(g, now);
	span = now > g->span_start ? now - g->span_start : 0;
	if (g->span_on_ns && g->span_on_ns < span)
		scale = (double)span / (double)g->span_on_ns;
	if (scale > g->scale_max)
		g->scale_max = scale;
	g->span_start = now;
	g->span_on_ns = 0;
	return scale;
}

double governor__take_recorded(struct governor *g, uint64_t now)
{
	uint64_t on, span;

	if (g->stopped)
		now = g->stop_ns;
	else
		account(g, now);
	on = g->on_ns_total - g->mark_on;
	span = now - g->mark;
	g->mark = now;
	g->mark_on = g->on_ns_total;
	return span && on < span ? (double)on / (double)span : 1.0;
}

void governor__stop(struct governor *g, uint64_t now)
{
	if (g->stopped)
		return;
	if (g->cal_open)
		cal_end(g);
	end_period(g, now);
	g->on_since = 0;
	g->stopped = true;
	g->stop_ns = now;
}

void governor__stats(const struct governor *g, struct governor_stats *s)
{
	uint64_t end = g->stopped ? g->stop_ns : now_mono_ns();
	uint64_t on = g->on_ns_total + (g->on_since ? end - g->on_since : 0);

	memset(s, 0, sizeof(*s));
	s->budget = g->o.budget;
	s->locks_exact = g->o.locks_exact;
	s->engaged = g->engaged;
	s->lock_duty = g->duty;
	s->lock_recorded = end > g->start ? (double)on / (double)(end - g->start) : 1.0;
	if (s->lock_recorded > 1.0)
		s->lock_recorded = 1.0;
	s->lock_scale_max = g->scale_max;
	s->lock_full_cost = g->full_cost;
	s->lock_full_cost_max = g->full_cost_max;
	s->switch_cost = g->switch_cost;
	s->calibrations = g->calibrations;
	for (int i = 0; i < WAITS_PROG__MAX; i++) {
		s->runs[i] = g->runs[i];
		s->ns_per_run[i] = g->ns_per_run[i];
		s->cost_seconds[i] = g->cost_ns[i] / 1e9;
	}
}

void governor__free(struct governor *g)
{
	if (!g)
		return;
	if (g->stats_fd >= 0)
		close(g->stats_fd);
	free(g);
}

int governor__parse_locks(const char *arg, bool *exact)
{
	if (!strcmp(arg, "auto"))
		*exact = false;
	else if (!strcmp(arg, "exact"))
		*exact = true;
	else
		return -EINVAL;
	return 0;
}

int governor__parse_budget(const char *arg, double *fraction)
{
	char *end;
	double pct;

	errno = 0;
	pct = strtod(arg, &end);
	if (errno || end == arg || *end || !(pct >= 0.01 && pct <= 100))
		return -EINVAL;
	*fraction = pct / 100;
	return 0;
}

size_t governor__describe(const struct governor_stats *s, char *buf, size_t len)
{
	if (s->locks_exact)
		return (size_t)snprintf(buf, len, "lock programs attached all the time (--locks exact), "
					"costing up to %.2f%% of a CPU", 100 * s->lock_full_cost_max);
	if (!s->engaged)
		return (size_t)snprintf(buf, len, "lock programs attached all the time (exact: under "
					"the %.2g%% budget)", 100 * s->budget);
	return (size_t)snprintf(buf, len, "lock programs attached %.1f%% of the time to stay under "
				"%.2g%% of a CPU (all the time they would cost %.1f%%); lock counts "
				"and delays are estimates, scaled up by up to %.1fx",
				100 * s->lock_recorded, 100 * s->budget, 100 * s->lock_full_cost_max,
				s->lock_scale_max);
}
