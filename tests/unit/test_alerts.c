// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The spike detector: floor during warm-up, floor and factor x median after,
 * hysteresis, resolve, the kprobe rule without a baseline, bounded series. */
#include <stdio.h>
#include <string.h>
#include "alerts.h"
#include "check.h"

struct log {
	int fired, resolved;
	char last[160];
};

static void on_alert(void *ctx, const struct alert_series *s, bool firing)
{
	struct log *l = ctx;

	if (firing)
		l->fired++;
	else
		l->resolved++;
	snprintf(l->last, sizeof(l->last), "%s %s", alerts__name(s->last.rule),
		 s->last.nr_labels ? s->last.labels[0].value : "");
}

static struct alert_figure fig(enum alert_rule r, const char *lock, double v)
{
	struct alert_figure f;

	memset(&f, 0, sizeof(f));
	f.rule = r;
	if (lock) {
		snprintf(f.labels[0].key, sizeof(f.labels[0].key), "lock");
		snprintf(f.labels[0].value, sizeof(f.labels[0].value), "%s", lock);
		f.nr_labels = 1;
	}
	f.value = v;
	return f;
}

static void feed(struct alert_detector *d, struct log *l, enum alert_rule r, const char *lock,
		 double v)
{
	struct alert_figure f = fig(r, lock, v);

	alerts__interval(d, &f, 1, 0, on_alert, l);
}

static void test_defaults(void)
{
	struct alert_opts o;

	alerts__defaults(&o, 15);
	CHECK_INT(o.warmup, 8);		/* 2 minutes at 15 s */
	alerts__defaults(&o, 2);
	CHECK_INT(o.warmup, 8);		/* 16 s */
	alerts__defaults(&o, 60);
	CHECK_INT(o.warmup, 2);		/* never longer than 2 minutes */
	alerts__defaults(&o, 600);
	CHECK_INT(o.warmup, 1);
}

static void test_floor_then_baseline(void)
{
	struct alert_detector d;
	struct alert_opts o;
	struct log l = { 0 };

	alerts__defaults(&o, 2);
	alerts__init(&d, &o);
	/* warming up: the floor alone */
	feed(&d, &l, ALERT_LOCK, "mmap_lock", 0.05);
	CHECK_INT(l.fired, 0);
	feed(&d, &l, ALERT_LOCK, "mmap_lock", 0.2);
	CHECK_INT(l.fired, 1);
	CHECK_STR(l.last, "KilnLockContention mmap_lock");
	/* hysteresis: half the threshold, twice, resolves */
	feed(&d, &l, ALERT_LOCK, "mmap_lock", 0.06);
	CHECK_INT(l.resolved, 0);	/* above half of 0.1 */
	feed(&d, &l, ALERT_LOCK, "mmap_lock", 0.04);
	CHECK_INT(l.resolved, 0);
	feed(&d, &l, ALERT_LOCK, "mmap_lock", 0.01);
	CHECK_INT(l.resolved, 1);
	/* a busy lock whose normal is 0.5 s/s: above the floor while warming
	 * up; once it is the median, 3x the median is the bar and it resolves */
	for (int i = 0; i < 20; i++)
		feed(&d, &l, ALERT_LOCK, "mmap_lock", 0.5);
	CHECK(alerts__warm(&d));
	CHECK_INT(l.fired, 2);
	CHECK_INT(l.resolved, 2);
	for (int i = 0; i < 10; i++)
		feed(&d, &l, ALERT_LOCK, "mmap_lock", 0.5);
	CHECK_INT(l.fired, 2);		/* its normal: no alert */
	feed(&d, &l, ALERT_LOCK, "mmap_lock", 1.4);
	CHECK_INT(l.fired, 2);		/* under 3 x 0.5 */
	feed(&d, &l, ALERT_LOCK, "mmap_lock", 1.6);
	CHECK_INT(l.fired, 3);
	/* a spike shorter than half the window does not become the baseline */
	for (int i = 0; i < 10; i++)
		feed(&d, &l, ALERT_LOCK, "mmap_lock", 1.6);
	CHECK_INT(l.resolved, 2);
	CHECK_INT(d.series[0].n, 30);
	/* a series not fed reads zero, which resolves it */
	alerts__interval(&d, NULL, 0, 0, on_alert, &l);
	alerts__interval(&d, NULL, 0, 0, on_alert, &l);
	CHECK_INT(l.resolved, 3);
}

static void test_kprobe_no_baseline(void)
{
	struct alert_detector d;
	struct alert_opts o;
	struct log l = { 0 };

	alerts__defaults(&o, 2);
	alerts__init(&d, &o);
	for (int i = 0; i < 20; i++)
		feed(&d, &l, ALERT_KPROBE, NULL, 0.0005);
	CHECK_INT(l.fired, 0);
	/* always a little kprobe CPU: it still alerts above the floor */
	for (int i = 0; i < 20; i++)
		feed(&d, &l, ALERT_KPROBE, NULL, 0.002);
	CHECK_INT(l.fired, 1);
	CHECK_STR(l.last, "KilnProbeOverhead ");
	CHECK_INT(l.resolved, 0);
}

static void test_bounded(void)
{
	struct alert_figure f[ALERT_SERIES_MAX + 10];
	char names[ALERT_SERIES_MAX + 10][16];
	struct alert_detector d;
	struct alert_opts o;
	struct log l = { 0 };

	alerts__defaults(&o, 2);
	alerts__init(&d, &o);
	for (int i = 0; i < ALERT_SERIES_MAX + 10; i++) {
		snprintf(names[i], sizeof(names[i]), "0x%x", i);
		f[i] = fig(ALERT_LOCK, names[i], 1.0);
	}
	alerts__interval(&d, f, ALERT_SERIES_MAX + 10, 0, on_alert, &l);
	CHECK_INT(d.nr, ALERT_SERIES_MAX);
	CHECK_INT(l.fired, ALERT_SERIES_MAX);
	CHECK_INT(d.series_dropped, 10);	/* all followed ones fire: none can go */
	/* once quiet, new locks take the place of the least recently seen */
	for (int i = 0; i < 3; i++)
		alerts__interval(&d, NULL, 0, 0, on_alert, &l);
	CHECK_INT(l.resolved, ALERT_SERIES_MAX);
	alerts__interval(&d, &f[ALERT_SERIES_MAX], 10, 0, on_alert, &l);
	CHECK_INT(d.nr, ALERT_SERIES_MAX);
	CHECK_INT(l.fired, ALERT_SERIES_MAX + 10);
}

int main(void)
{
	test_defaults();
	test_floor_then_baseline();
	test_kprobe_no_baseline();
	test_bounded();
	CHECK_DONE();
}
