// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Spike detection: floor AND factor × rolling median, with hysteresis. */
#include <stdlib.h>
#include <string.h>
#include "alerts.h"

static const struct {
	const char *name;
	bool baseline;		/* false: the floor alone, warm or not */
} rules[ALERT__MAX] = {
	[ALERT_SPINLOCK] = { "KilnSpinlockSlowpath", true },
	[ALERT_KPROBE] = { "KilnProbeOverhead", false },
	[ALERT_BPF_PROG] = { "KilnProbeOverhead", true },
	[ALERT_LOCK] = { "KilnLockContention", true },
};

const char *alerts__name(enum alert_rule r)
{
	return r < ALERT__MAX ? rules[r].name : "";
}

void alerts__defaults(struct alert_opts *o, unsigned int interval_s)
{
	unsigned int warm = interval_s ? 120 / interval_s : 8;

	memset(o, 0, sizeof(*o));
	o->floor[ALERT_SPINLOCK] = 0.02;	/* 2% of all CPUs */
	o->floor[ALERT_KPROBE] = 0.001;		/* any kretprobe spinning shows */
	o->floor[ALERT_BPF_PROG] = 0.02;
	o->floor[ALERT_LOCK] = 0.1;		/* 0.1 s waited per second */
	o->factor = 3;
	o->warmup = warm > 8 ? 8 : warm ? warm : 1;
	o->resolve_ratio = 0.5;
	o->resolve_after = 2;
}

void alerts__init(struct alert_detector *d, const struct alert_opts *o)
{
	memset(d, 0, sizeof(*d));
	d->o = *o;
}

bool alerts__warm(const struct alert_detector *d)
{
	return d->intervals >= d->o.warmup;
}

static bool same_series(const struct alert_figure *a, const struct alert_figure *b)
{
	if (a->rule != b->rule || a->nr_labels != b->nr_labels)
		return false;
	for (size_t i = 0; i < a->nr_labels; i++)
		if (strcmp(a->labels[i].key, b->labels[i].key) ||
		    strcmp(a->labels[i].value, b->labels[i].value))
			return false;
	return true;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const struct alert_series *s)
{
	double v[ALERT_WINDOW];

	if (!s->n)
		return 0;
	memcpy(v, s->window, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), dbl_cmp);
	return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

/* The series of @f, new if need be (NULL: the table is full of firing ones). */
static struct alert_series *series_for(struct alert_detector *d, const struct alert_figure *f)
{
	struct alert_series *s, *victim = NULL;

	for (size_t i = 0; i < d->nr; i++)
		if (same_series(&d->series[i].last, f))
			return &d->series[i];
	if (d->nr < ALERT_SERIES_MAX) {
		s = &d->series[d->nr++];
	} else {
		for (size_t i = 0; i < d->nr; i++) {
			s = &d->series[i];
			if (!s->active && (!victim || s->seen < victim->seen))
				victim = s;
		}
		if (!victim)
			return NULL;
		s = victim;
	}
	memset(s, 0, sizeof(*s));
	s->last = *f;
	return s;
}

static void evaluate(struct alert_detector *d, struct alert_series *s, int64_t now_ns,
		     alert_fn fn, void *ctx)
{
	double floor = d->o.floor[s->last.rule], v = s->last.value, threshold = floor;

	/* against the intervals before this one */
	s->baseline = median(s);
	if (rules[s->last.rule].baseline && alerts__warm(d) && d->o.factor * s->baseline > floor)
		threshold = d->o.factor * s->baseline;
	s->threshold = threshold;
	if (!s->active && v > threshold) {
		s->active = true;
		s->quiet = 0;
		s->starts_ns = now_ns;
		fn(ctx, s, true);
	} else if (s->active) {
		/* hysteresis: well under the bar for a while; a level that lasts
		 * half the window becomes the baseline and resolves too */
		if (v < d->o.resolve_ratio * threshold) {
			if (++s->quiet >= d->o.resolve_after) {
				s->active = false;
				fn(ctx, s, false);
			}
		} else {
			s->quiet = 0;
		}
	}
	s->window[s->pos] = v;
	s->pos = (s->pos + 1) % ALERT_WINDOW;
	if (s->n < ALERT_WINDOW)
		s->n++;
}

void alerts__interval(struct alert_detector *d, const struct alert_figure *f, size_t n,
		      int64_t now_ns, alert_fn fn, void *ctx)
{
	uint64_t now = ++d->intervals;

	for (size_t i = 0; i < n; i++) {
		struct alert_series *s = series_for(d, &f[i]);

		if (!s) {
			d->series_dropped++;
			continue;
		}
		s->last = f[i];
		s->seen = now;
		evaluate(d, s, now_ns, fn, ctx);
	}
	/* quiet this interval: a zero, which also resolves */
	for (size_t i = 0; i < d->nr; i++) {
		struct alert_series *s = &d->series[i];

		if (s->seen == now)
			continue;
		s->last.value = 0;
		s->last.stack[0] = '\0';
		s->last.detail[0] = '\0';
		evaluate(d, s, now_ns, fn, ctx);
	}
}
