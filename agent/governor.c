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
 * still costs DISPATCH_NS a run), so the governor detaches. Two sources are
 * governed: the lock programs (contention_begin/end) and the switch program
 * (sched_switch). Each is attached for the first @duty of every PERIOD_NS and
 * detached for the rest. From the runs counted while attached the governor
 * knows what each would cost attached all the time, and shares the budget
 * out: a source that costs less than an equal share keeps all it needs, the
 * others split what is left. Back under its share (with hysteresis) a source
 * returns to exact recording. Each event that begins in a window is weighted
 * in the kernel by period / window (see KILN_WEIGHT_ONE), so the counts are
 * estimates of all the events, whenever they are drained.
 *
 * Lock waits open at a detach are dropped (the programs count them as cut),
 * so waits much longer than an attached window are undercounted; lock waits
 * are mostly microseconds, windows at least MIN_ON_NS. An off-CPU block that
 * began while attached is recorded with its true length when its task next
 * leaves the CPU, if it got the CPU only once in between (the kernel counts
 * arrivals); else its end went unseen and it is dropped (blocks_cut). */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "governor.h"
#include "util.h"

#define PERIOD_NS 500000000ULL		/* a window in each: more, shorter windows sample better */
#define MIN_ON_NS 10000000ULL		/* shortest attached window */
#define MIN_DUTY ((double)MIN_ON_NS / PERIOD_NS)
#define CHECK_NS 50000000ULL		/* recording all: how soon a storm is seen */
#define CAL_WINDOW_NS 200000000ULL
#define CAL_FIRST_NS 500000000ULL	/* after start: the programs are warm */
#define CAL_EVERY_NS 60000000000ULL
#define CAL_RETRY_NS 5000000000ULL	/* until each source was measured */
#define CAL_MIN_RUNS 1000		/* fewer runs in a window: keep the old figure */
#define DISPATCH_NS 50.0
#define HYSTERESIS 0.8			/* back to exact below this share of the budget */

const char *const governor_prog_names[WAITS_PROG__MAX] = {
	[WAITS_PROG_LOCK_BEGIN] = "kiln_lock_begin",
	[WAITS_PROG_LOCK_END] = "kiln_lock_end",
	[WAITS_PROG_SWITCH] = "kiln_switch",
};

const char *const governor_source_names[GOV_SRC__MAX] = {
	[GOV_SRC_LOCKS] = "locks",
	[GOV_SRC_OFFCPU] = "offcpu",
};

/* The programs of each source. */
static const int source_progs[GOV_SRC__MAX][2] = {
	[GOV_SRC_LOCKS] = { WAITS_PROG_LOCK_BEGIN, WAITS_PROG_LOCK_END },
	[GOV_SRC_OFFCPU] = { WAITS_PROG_SWITCH, -1 },
};

struct source {
	bool present;			/* its programs are loaded */
	bool exact;			/* never detached */
	bool calibrated;
	double duty;
	double weight;			/* of each event in this period's window */
	uint64_t win_start, win_end;	/* this period's window, from its start */
	uint64_t on_since;		/* attached since; 0: detached */
	uint64_t period_on_ns, on_ns_total, mark_on;
	double full_cost, full_cost_max, scale_max;
	bool engaged;
};

struct governor {
	struct waits *w;
	struct governor_opts o;
	int fds[WAITS_PROG__MAX];
	double ns_per_run[WAITS_PROG__MAX];
	struct source src[GOV_SRC__MAX];
	/* calibration window */
	int stats_fd;			/* >= 0: stats on, held by us */
	bool cal_open;
	uint64_t cal_end, next_cal;
	uint64_t cal_cnt0[WAITS_PROG__MAX], cal_time0[WAITS_PROG__MAX];
	unsigned int calibrations;
	/* the current period */
	uint64_t period_start, next_check;
	uint64_t runs0[WAITS_PROG__MAX];	/* at period start */
	bool stopped;
	uint64_t stop_ns;
	uint64_t start, mark;		/* governor__take_recorded() */
	uint64_t runs[WAITS_PROG__MAX];
	double cost_ns[WAITS_PROG__MAX];
	unsigned int seed;		/* where in a period windows fall */
	/* its own thread: a window must end on time, not when a drain is done */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool thread_started;
};

static void read_runs(const struct governor *g, uint64_t out[WAITS_PROG__MAX])
{
	struct waits_runs r;

	waits__runs(g->w, &r);
	out[WAITS_PROG_LOCK_BEGIN] = r.lock_begin;
	out[WAITS_PROG_LOCK_END] = r.lock_end;
	out[WAITS_PROG_SWITCH] = r.sched_switch;
}

/* Nanoseconds the programs of source @s cost for runs @d. */
static double source_ns(const struct governor *g, int s, const uint64_t d[WAITS_PROG__MAX])
{
	double ns = 0;

	for (int k = 0; k < 2; k++)
		if (source_progs[s][k] >= 0)
			ns += (double)d[source_progs[s][k]] * g->ns_per_run[source_progs[s][k]];
	return ns;
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
	bool all = true;

	for (int i = 0; i < WAITS_PROG__MAX; i++) {
		uint64_t cnt, ns;

		if (g->cal_cnt0[i] == UINT64_MAX || prog_stats(g->fds[i], &cnt, &ns) ||
		    cnt < g->cal_cnt0[i] + CAL_MIN_RUNS)
			continue;
		g->ns_per_run[i] = DISPATCH_NS + (double)(ns - g->cal_time0[i]) /
						 (double)(cnt - g->cal_cnt0[i]);
		for (int s = 0; s < GOV_SRC__MAX; s++)
			if (source_progs[s][0] == i)
				g->src[s].calibrated = true;
	}
	close(g->stats_fd);
	g->stats_fd = -1;
	g->cal_open = false;
	g->calibrations++;
	for (int s = 0; s < GOV_SRC__MAX; s++)
		all = all && (!g->src[s].present || g->src[s].calibrated);
	/* a source not measured yet (no runs): try again soon, not in a minute */
	if (!all)
		g->next_cal = g->cal_end + CAL_RETRY_NS;
}

static int attach(struct governor *g, int s, bool on)
{
	return s == GOV_SRC_LOCKS ? waits__attach_locks(g->w, on) : waits__attach_switch(g->w, on);
}

/* Move source @s's open window, up to @now, into its sums. */
static void account(struct source *src, uint64_t now)
{
	uint64_t d;

	if (!src->on_since)
		return;
	d = now - src->on_since;
	src->period_on_ns += d;
	src->on_ns_total += d;
	src->on_since = now;
}

static void set_attached(struct governor *g, int s, bool on, uint64_t now)
{
	struct source *src = &g->src[s];
	int err;

	if (on == (src->on_since != 0))
		return;
	err = attach(g, s, on);
	if (err) {
		p_warn("governor: failed to %s the %s programs: %s", on ? "attach" : "detach",
		       governor_source_names[s], strerror(-err));
		return;
	}
	if (on) {
		src->on_since = now;
		if (src->weight > src->scale_max)
			src->scale_max = src->weight;
	} else {
		account(src, now);
		src->on_since = 0;
		src->engaged = true;
	}
}

/* Share the budget out by the sources' full costs (@cost, fraction of a CPU):
 * the exact ones first, then the cheapest, each its equal share of what is
 * left at most. Into @share. */
static void share_budget(const struct governor *g, const double cost[GOV_SRC__MAX],
			 double share[GOV_SRC__MAX])
{
	double left = g->o.budget;
	bool done[GOV_SRC__MAX] = { false };
	int n = 0;

	for (int s = 0; s < GOV_SRC__MAX; s++) {
		share[s] = 0;
		if (!g->src[s].present)
			done[s] = true;
		else if (g->src[s].exact)
			left -= cost[s], done[s] = true;
		else
			n++;
	}
	if (left < g->o.budget / 4)
		left = g->o.budget / 4;	/* what exact sources leave, at least a quarter */
	while (n > 0) {
		int cheapest = -1;

		for (int s = 0; s < GOV_SRC__MAX; s++)
			if (!done[s] && (cheapest < 0 || cost[s] < cost[cheapest]))
				cheapest = s;
		share[cheapest] = left / n;
		if (cost[cheapest] < share[cheapest])
			share[cheapest] = cost[cheapest];
		left -= share[cheapest];
		done[cheapest] = true;
		n--;
	}
}

/* What each source needs: its full cost, and a governed one must fit with
 * room to spare to go back to exact recording (hysteresis). */
static double need(const struct source *src)
{
	return src->duty < 1.0 ? src->full_cost / HYSTERESIS : src->full_cost;
}

/* Recording all of the time, have the costs gone over the budget since the
 * period began? Read at CHECK_NS steps, so that a storm costs its full rate
 * for CHECK_NS at most, not a whole period. */
static bool over_budget_early(struct governor *g, uint64_t now)
{
	uint64_t r[WAITS_PROG__MAX], d[WAITS_PROG__MAX];
	double ns = 0;
	bool any = false;

	if (now < g->next_check)
		return false;
	g->next_check = now + CHECK_NS;
	for (int s = 0; s < GOV_SRC__MAX; s++)
		any = any || (g->src[s].present && !g->src[s].exact && g->src[s].duty >= 1.0);
	if (!any)
		return false;
	read_runs(g, r);
	for (int i = 0; i < WAITS_PROG__MAX; i++)
		d[i] = r[i] - g->runs0[i];
	/* the governed sources recording all: what they cost since the period began */
	for (int s = 0; s < GOV_SRC__MAX; s++)
		if (g->src[s].present && !g->src[s].exact && g->src[s].duty >= 1.0)
			ns += source_ns(g, s, d);
	return ns > g->o.budget * (double)(now - g->period_start);
}

/* A period ended at @now: what did it cost, what duty comes next. */
static void end_period(struct governor *g, uint64_t now)
{
	uint64_t r[WAITS_PROG__MAX], d[WAITS_PROG__MAX];
	double cost[GOV_SRC__MAX], share[GOV_SRC__MAX];

	read_runs(g, r);
	for (int i = 0; i < WAITS_PROG__MAX; i++) {
		d[i] = r[i] - g->runs0[i];
		g->runs[i] += d[i];
		g->cost_ns[i] += (double)d[i] * g->ns_per_run[i];
		g->runs0[i] = r[i];
	}
	for (int s = 0; s < GOV_SRC__MAX; s++) {
		struct source *src = &g->src[s];

		account(src, now);
		if (!src->present || src->period_on_ns < MIN_ON_NS / 2)
			continue;	/* too short a look: keep the last figure */
		/* as if attached the whole period */
		src->full_cost = source_ns(g, s, d) / (double)src->period_on_ns;
		if (src->full_cost > src->full_cost_max)
			src->full_cost_max = src->full_cost;
	}
	for (int s = 0; s < GOV_SRC__MAX; s++)
		cost[s] = need(&g->src[s]);
	share_budget(g, cost, share);
	for (int s = 0; s < GOV_SRC__MAX; s++) {
		struct source *src = &g->src[s];

		if (!src->present || src->exact)
			continue;
		if (need(src) <= share[s])
			src->duty = 1.0;
		else
			src->duty = share[s] / src->full_cost;
		if (src->duty > 1.0)
			src->duty = 1.0;
		if (src->duty < MIN_DUTY)
			src->duty = MIN_DUTY;
	}
	p_debug("governor: locks %.2f%% of a CPU attached all the time (duty %.3f), switch %.2f%% "
		"(duty %.3f); %.0f/%.0f/%.0f ns a run", 100 * g->src[GOV_SRC_LOCKS].full_cost,
		g->src[GOV_SRC_LOCKS].duty, 100 * g->src[GOV_SRC_OFFCPU].full_cost,
		g->src[GOV_SRC_OFFCPU].duty, g->ns_per_run[WAITS_PROG_LOCK_BEGIN],
		g->ns_per_run[WAITS_PROG_LOCK_END], g->ns_per_run[WAITS_PROG_SWITCH]);
}

/* Place source @s's window in the period that starts now: anywhere in it, by
 * chance. A window always at the start would see a burst that begins with
 * the period and ends before its end at its full rate, and estimate all of
 * the period from that. */
static void place_window(struct governor *g, struct source *src)
{
	uint64_t len = (uint64_t)(src->duty * PERIOD_NS);

	src->win_start = 0;
	if (src->duty < 1.0 && len < PERIOD_NS)
		src->win_start = (uint64_t)((double)rand_r(&g->seed) / ((double)RAND_MAX + 1) *
					    (double)(PERIOD_NS - len));
	src->win_end = src->duty < 1.0 ? src->win_start + len : UINT64_MAX;
	/* each event that begins in the window stands for 1/duty of them */
	src->weight = src->duty < 1.0 && len ? (double)PERIOD_NS / (double)len : 1.0;
}

static void *governor_thread(void *arg);

struct governor *governor__new(struct waits *w, const struct governor_opts *o, uint64_t now)
{
	struct governor *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->w = w;
	g->o = *o;
	waits__prog_fds(w, g->fds);
	/* until the first calibration: what they cost on our VMs */
	g->ns_per_run[WAITS_PROG_LOCK_BEGIN] = DISPATCH_NS + 110;
	g->ns_per_run[WAITS_PROG_LOCK_END] = DISPATCH_NS + 100;
	g->ns_per_run[WAITS_PROG_SWITCH] = DISPATCH_NS + 150;
	g->src[GOV_SRC_LOCKS].present = g->fds[WAITS_PROG_LOCK_BEGIN] >= 0;
	g->src[GOV_SRC_LOCKS].exact = o->locks_exact;
	g->src[GOV_SRC_OFFCPU].present = g->fds[WAITS_PROG_SWITCH] >= 0;
	g->src[GOV_SRC_OFFCPU].exact = o->offcpu_exact;
	g->seed = (unsigned int)now ^ (unsigned int)getpid();
	for (int s = 0; s < GOV_SRC__MAX; s++) {
		g->src[s].duty = 1.0;
		g->src[s].scale_max = 1.0;
		g->src[s].weight = 1.0;
		g->src[s].win_end = UINT64_MAX;
	}
	g->src[GOV_SRC_LOCKS].on_since = waits__locks_attached(w) ? now : 0;
	g->src[GOV_SRC_OFFCPU].on_since = waits__switch_attached(w) ? now : 0;
	g->stats_fd = -1;
	g->start = g->period_start = g->mark = now;
	g->next_cal = now + CAL_FIRST_NS;
	g->next_check = now + CHECK_NS;
	read_runs(g, g->runs0);
	{
		pthread_condattr_t ca;
		int err;

		pthread_mutex_init(&g->mu, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&g->cond, &ca);
		pthread_condattr_destroy(&ca);
		err = pthread_create(&g->thread, NULL, governor_thread, g);
		if (err) {
			pthread_cond_destroy(&g->cond);
			pthread_mutex_destroy(&g->mu);
			free(g);
			errno = err;
			return NULL;
		}
		g->thread_started = true;
	}
	return g;
}

/* When tick() has something to do next (@now: monotonic). */
static uint64_t next_tick(const struct governor *g, uint64_t now)
{
	uint64_t next = g->period_start + PERIOD_NS, t = now - g->period_start;

	if (g->stopped)
		return UINT64_MAX;
	for (int s = 0; s < GOV_SRC__MAX; s++) {
		const struct source *src = &g->src[s];
		uint64_t at;

		/* attached: its window's end; detached: its window's start, if
		 * still to come (one whose window is over waits for the period's
		 * end: waking for a start gone by would spin until then) */
		if (src->on_since)
			at = src->win_end;
		else
			at = src->win_start != UINT64_MAX && t < src->win_start ? src->win_start :
										    UINT64_MAX;
		if (src->present && at != UINT64_MAX && g->period_start + at < next)
			next = g->period_start + at;
		if (src->present && !src->exact && src->duty >= 1.0 && g->next_check < next)
			next = g->next_check;
	}
	if (g->cal_open && g->cal_end < next)
		next = g->cal_end;
	if (!g->cal_open && g->next_cal < next)
		next = g->next_cal;
	return next;
}

static void tick(struct governor *g, uint64_t now)
{
	bool new_period, in[GOV_SRC__MAX];

	if (g->stopped)
		return;
	if (g->cal_open && now >= g->cal_end)
		cal_end(g);
	new_period = now >= g->period_start + PERIOD_NS || over_budget_early(g, now);
	if (new_period) {
		end_period(g, now);
		g->period_start = now;
		g->next_check = now + CHECK_NS;
		for (int s = 0; s < GOV_SRC__MAX; s++) {
			g->src[s].period_on_ns = 0;
			place_window(g, &g->src[s]);
		}
	}
	/* attached exactly while in the window: out first, then the new
	 * weights, then in, so no event gets another window's weight */
	for (int s = 0; s < GOV_SRC__MAX; s++) {
		uint64_t t = now - g->period_start;

		in[s] = g->src[s].present && t >= g->src[s].win_start && t < g->src[s].win_end;
		if (!in[s] && g->src[s].on_since)
			set_attached(g, s, false, now);
	}
	if (new_period)
		waits__set_weights(g->w, g->src[GOV_SRC_LOCKS].weight, g->src[GOV_SRC_OFFCPU].weight);
	for (int s = 0; s < GOV_SRC__MAX; s++)
		if (in[s] && !g->src[s].on_since)
			set_attached(g, s, true, now);
	if (!g->cal_open && now >= g->next_cal)
		cal_start(g, now);
}

static void *governor_thread(void *arg)
{
	struct governor *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->stopped) {
		uint64_t now = now_mono_ns(), next = next_tick(g, now);
		struct timespec ts = { (time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL) };

		if (next > now)
			pthread_cond_timedwait(&g->cond, &g->mu, &ts);
		if (!g->stopped)
			tick(g, now_mono_ns());
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

double governor__take_recorded(struct governor *g, int s, uint64_t now)
{
	struct source *src = &g->src[s];
	uint64_t on, span;

	pthread_mutex_lock(&g->mu);
	if (g->stopped)
		now = g->stop_ns;
	else
		account(src, now);
	on = src->on_ns_total - src->mark_on;
	span = now - g->mark;
	src->mark_on = src->on_ns_total;
	if (s == GOV_SRC__MAX - 1)
		g->mark = now;
	pthread_mutex_unlock(&g->mu);
	return span && on < span ? (double)on / (double)span : 1.0;
}

void governor__stop(struct governor *g, uint64_t now)
{
	pthread_mutex_lock(&g->mu);
	if (g->stopped) {
		pthread_mutex_unlock(&g->mu);
		return;
	}
	if (g->cal_open)
		cal_end(g);
	end_period(g, now);
	for (int s = 0; s < GOV_SRC__MAX; s++)
		g->src[s].on_since = 0;
	g->stopped = true;
	g->stop_ns = now;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->mu);
	if (g->thread_started) {
		pthread_join(g->thread, NULL);
		g->thread_started = false;
	}
}

void governor__stats(struct governor *g, struct governor_stats *s)
{
	uint64_t end;

	pthread_mutex_lock(&g->mu);
	end = g->stopped ? g->stop_ns : now_mono_ns();
	memset(s, 0, sizeof(*s));
	s->budget = g->o.budget;
	s->calibrations = g->calibrations;
	for (int i = 0; i < GOV_SRC__MAX; i++) {
		const struct source *src = &g->src[i];
		struct governor_source_stats *o = &s->src[i];
		uint64_t on = src->on_ns_total + (src->on_since ? end - src->on_since : 0);

		o->present = src->present;
		o->exact = src->exact;
		o->engaged = src->engaged;
		o->duty = src->duty;
		o->recorded = end > g->start ? (double)on / (double)(end - g->start) : 1.0;
		if (o->recorded > 1.0 || !src->present)
			o->recorded = 1.0;
		o->scale_max = src->scale_max;
		o->full_cost = src->full_cost;
		o->full_cost_max = src->full_cost_max;
	}
	for (int i = 0; i < WAITS_PROG__MAX; i++) {
		s->runs[i] = g->runs[i];
		s->ns_per_run[i] = g->ns_per_run[i];
		s->cost_seconds[i] = g->cost_ns[i] / 1e9;
	}
	pthread_mutex_unlock(&g->mu);
}

void governor__free(struct governor *g)
{
	if (!g)
		return;
	governor__stop(g, now_mono_ns());
	if (g->stats_fd >= 0)
		close(g->stats_fd);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int governor__parse_mode(const char *arg, bool *exact)
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

size_t governor__describe(const struct governor_stats *st, int s, char *buf, size_t len)
{
	const struct governor_source_stats *o = &st->src[s];
	const char *what = s == GOV_SRC_LOCKS ? "lock" : "sched_switch";
	const char *values = s == GOV_SRC_LOCKS ? "lock counts and delays" : "off-CPU counts and times";

	if (o->exact)
		return (size_t)snprintf(buf, len, "%s programs attached all the time (exact), costing "
					"up to %.2f%% of a CPU", what, 100 * o->full_cost_max);
	if (!o->engaged)
		return (size_t)snprintf(buf, len, "%s programs attached all the time (exact: within "
					"the %.2g%% budget)", what, 100 * st->budget);
	return (size_t)snprintf(buf, len, "%s programs attached %.1f%% of the time to stay within "
				"%.2g%% of a CPU (all the time they would cost up to %.1f%%); %s are "
				"estimates, scaled up by up to %.1fx", what, 100 * o->recorded,
				100 * st->budget, 100 * o->full_cost_max, values, o->scale_max);
}
