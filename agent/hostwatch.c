// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Host-wide figures per interval, their /metrics series, and alert delivery. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "hostwatch.h"
#include "util.h"

#define LOCK_FRAMES 16

struct hw_counters;
static void counter_add(struct hw_counters *t, const char *k1, const char *k2, double seconds);

/* One lock's waits this interval, with the heaviest waiter's kernel stack. */
struct hw_lock {
	char name[48], kind[24];
	uint64_t ns, top_ns;
	uint64_t kframes[LOCK_FRAMES];
	size_t nr_kframes;
};

/* Cumulative seconds per label pair; slots are kept once taken, so every
 * series is monotonic; past HOSTWATCH_TOPK it goes to the last, "other". */
struct hw_counter {
	char k1[96], k2[96];
	double seconds;
};

struct hw_counters {
	struct hw_counter c[HOSTWATCH_TOPK + 1];
	size_t nr;
};

/* Lock waits of one calling function this interval. */
struct hw_caller {
	char name[96];
	uint64_t ns;
};

struct hostwatch {
	struct hostwatch_opts o;
	struct flag_summary cpu, lock;
	struct hw_lock locks[LOCK_TABLE_MAX];
	size_t nr_locks;
	uint64_t locks_other_ns;
	struct hw_caller callers[LOCK_TABLE_MAX];
	size_t nr_callers;
	struct alert_detector det;
	struct hw_counters lock_wait, lock_caller, prog_cpu, spin_cpu;
	double spin_ratio, kprobe_seconds;
	uint64_t fired[ALERT__MAX];
	uint64_t am_unbuilt;		/* alert bodies out of memory */
	struct alert_figure figs[2 + FLAG_PROGS_MAX + LOCK_TABLE_MAX]; /* an interval's */
	/* series resolved this interval: sent once more with endsAt */
	struct alert_series resolved[ALERT_SERIES_MAX];
	size_t nr_resolved;
	int64_t now_ns;
};

struct hostwatch *hostwatch__new(const struct hostwatch_opts *o)
{
	struct hostwatch *hw = calloc(1, sizeof(*hw));

	if (!hw)
		return NULL;
	hw->o = *o;
	alerts__init(&hw->det, &o->alert);
	return hw;
}

void hostwatch__free(struct hostwatch *hw)
{
	free(hw);
}

struct flag_summary *hostwatch__cpu_flags(struct hostwatch *hw)
{
	return hw ? &hw->cpu : NULL;
}

struct flag_summary *hostwatch__lock_flags(struct hostwatch *hw)
{
	return hw ? &hw->lock : NULL;
}

/* The function that asked for the lock: the first kernel frame past the
 * tracepoint's glue and the locking code. */
static void lock_caller_add(struct hostwatch *hw, const struct wait_entry *e)
{
	const char *name = "(no kernel stack)";
	struct hw_caller *c = NULL;
	struct sym_frame f;

	for (size_t i = 0; i < e->nr_kframes; i++) {
		if (symbolizer__kernel(hw->o.sym, e->kframes[i], i > 0, &f) || !f.name)
			continue;
		if (probe_glue_frame(f.name) || lock_internal_frame(f.name))
			continue;
		name = f.name;
		break;
	}
	for (size_t i = 0; i < hw->nr_callers && !c; i++)
		if (!strcmp(hw->callers[i].name, name))
			c = &hw->callers[i];
	if (!c && hw->nr_callers < LOCK_TABLE_MAX) {
		c = &hw->callers[hw->nr_callers++];
		snprintf(c->name, sizeof(c->name), "%s", name);
	}
	if (c)
		c->ns += e->val.total_ns;
	else
		counter_add(&hw->lock_caller, "other", "", (double)e->val.total_ns / 1e9);
}

void hostwatch__lock_wait(struct hostwatch *hw, const struct wait_entry *e)
{
	const struct kiln_lock_key *k = e->lock;
	const char *kind, *name;
	struct hw_lock *l = NULL;
	char lbuf[40];

	if (!hw || !k)
		return;
	kind = lock_kind_name(k->flags);
	name = lock_label(k, lbuf, sizeof(lbuf));
	for (size_t i = 0; i < hw->nr_locks && !l; i++)
		if (!strcmp(hw->locks[i].name, name) && !strcmp(hw->locks[i].kind, kind))
			l = &hw->locks[i];
	if (!l && hw->nr_locks < LOCK_TABLE_MAX) {
		l = &hw->locks[hw->nr_locks++];
		snprintf(l->name, sizeof(l->name), "%s", name);
		snprintf(l->kind, sizeof(l->kind), "%s", kind);
	}
	lock_caller_add(hw, e);
	if (!l) {
		hw->locks_other_ns += e->val.total_ns;	/* summed, not dropped */
		return;
	}
	l->ns += e->val.total_ns;
	/* the heaviest waiter with a stack: short waits are summed without
	 * one (--lock-stack-min-us) and may outweigh each stack alone */
	if (e->nr_kframes && e->val.total_ns > l->top_ns) {
		l->top_ns = e->val.total_ns;
		l->nr_kframes = e->nr_kframes < LOCK_FRAMES ? e->nr_kframes : LOCK_FRAMES;
		memcpy(l->kframes, e->kframes, l->nr_kframes * sizeof(*l->kframes));
	}
}

static void counter_add(struct hw_counters *t, const char *k1, const char *k2, double seconds)
{
	struct hw_counter *c = NULL;

	for (size_t i = 0; i < t->nr && !c; i++)
		if (!strcmp(t->c[i].k1, k1) && !strcmp(t->c[i].k2, k2))
			c = &t->c[i];
	if (!c && t->nr < HOSTWATCH_TOPK) {
		c = &t->c[t->nr++];
		snprintf(c->k1, sizeof(c->k1), "%s", k1);
		snprintf(c->k2, sizeof(c->k2), "%s", k2);
	}
	if (!c) {
		c = &t->c[HOSTWATCH_TOPK];
		snprintf(c->k1, sizeof(c->k1), "other");
		snprintf(c->k2, sizeof(c->k2), "other");
	}
	c->seconds += seconds;
}

/* The heaviest chain of @flag (or either of two flags), "" if none. */
static const struct flag_chain *top_chain(const struct flag_summary *fs, enum kiln_flag a,
					  enum kiln_flag b)
{
	const struct flag_chain *top = NULL;

	for (size_t i = 0; i < fs->nr_chains; i++) {
		const struct flag_chain *c = &fs->chains[i];

		if ((c->flag == a || c->flag == b) && (!top || c->value > top->value))
			top = c;
	}
	return top;
}

/* The caller in a chain "slowpath <- caller <- ...": its second name. */
static void chain_caller(const char *text, char *out, size_t len)
{
	const char *p = strstr(text, " <- "), *end;

	p = p ? p + 4 : text;
	end = strstr(p, " <- ");
	snprintf(out, len, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
}

static void kernel_stack_text(struct hostwatch *hw, const struct hw_lock *l, char *buf, size_t len)
{
	size_t used = 0, named = 0;
	bool skip = true;

	buf[0] = '\0';
	for (size_t i = 0; i < l->nr_kframes && named < 5; i++) {
		struct sym_frame f;

		if (symbolizer__kernel(hw->o.sym, l->kframes[i], i > 0, &f) || !f.name)
			continue;
		/* from the code that asked for the lock */
		if (skip && (probe_glue_frame(f.name) || lock_internal_frame(f.name)))
			continue;
		skip = false;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s",
					 named ? " <- " : "", f.name);
		named++;
		if (used >= len)
			break;
	}
}

static void set_label(struct alert_figure *f, const char *k, const char *v)
{
	struct alert_label *l;

	if (f->nr_labels >= ALERT_LABELS_MAX)
		return;
	l = &f->labels[f->nr_labels++];
	snprintf(l->key, sizeof(l->key), "%s", k);
	snprintf(l->value, sizeof(l->value), "%s", v);
}

static void rfc3339(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000LL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The alert's labels and annotations as JSON members. */
static void json_alert_body(FILE *f, const struct hostwatch *hw, const struct alert_series *s)
{
	fprintf(f, "\"labels\":{\"alertname\":");
	json_str(f, alerts__name(s->last.rule));
	fprintf(f, ",\"job\":\"kiln\",\"instance\":");
	json_str(f, hw->o.hostname);
	for (size_t i = 0; i < s->last.nr_labels; i++) {
		fputc(',', f);
		json_str(f, s->last.labels[i].key);
		fputc(':', f);
		json_str(f, s->last.labels[i].value);
	}
	fprintf(f, "},\"annotations\":{\"value\":\"%.6g\",\"threshold\":\"%.6g\","
		"\"baseline\":\"%.6g\",\"stack\":", s->last.value, s->threshold, s->baseline);
	json_str(f, s->last.stack);
	fprintf(f, ",\"detail\":");
	json_str(f, s->last.detail);
	fprintf(f, ",\"source\":\"%s\"}", s->last.rule == ALERT_LOCK ?
		"lock waits (lock:contention_begin/end)" : "CPU samples (cpu-clock)");
}

static void on_alert(void *ctx, const struct alert_series *s, bool firing)
{
	struct hostwatch *hw = ctx;
	char ts[40];

	rfc3339(hw->now_ns, ts, sizeof(ts));
	if (firing)
		hw->fired[s->last.rule]++;
	else if (hw->nr_resolved < ALERT_SERIES_MAX)
		hw->resolved[hw->nr_resolved++] = *s;
	/* one line, machine-readable, on the log */
	fprintf(stderr, "{\"time\":\"%s\",\"alert\":\"%s\",\"status\":\"%s\",", ts,
		alerts__name(s->last.rule), firing ? "firing" : "resolved");
	json_alert_body(stderr, hw, s);
	fprintf(stderr, ",\"warm\":%s}\n", alerts__warm(&hw->det) ? "true" : "false");
	fflush(stderr);
}

/* Hand every active alert (again: Alertmanager needs them re-sent) and the
 * ones resolved now, with endsAt, to the sender's thread. */
static void post_alertmanager(struct hostwatch *hw)
{
	char starts[40], ends[40], now[40];
	size_t len = 0, nr = 0;
	char *body = NULL;
	FILE *f;

	for (size_t i = 0; i < hw->det.nr; i++)
		nr += hw->det.series[i].active;
	if (!hw->o.am || (!nr && !hw->nr_resolved))
		return;
	f = open_memstream(&body, &len);
	if (!f) {
		hw->am_unbuilt++;
		return;
	}
	rfc3339(hw->now_ns, now, sizeof(now));
	/* active ones expire by themselves if kiln stops sending: after 4
	 * intervals of at least a minute (Prometheus' rule, with its 1 m resend
	 * delay), so that a body the sender had to retry or wait on does not
	 * arrive expired */
	rfc3339(hw->now_ns + 4LL * (hw->o.interval_s > 60 ? hw->o.interval_s : 60) * 1000000000LL,
		ends, sizeof(ends));
	fputc('[', f);
	nr = 0;
	for (size_t i = 0; i < hw->det.nr; i++) {
		const struct alert_series *s = &hw->det.series[i];

		if (!s->active)
			continue;
		rfc3339(s->starts_ns, starts, sizeof(starts));
		fprintf(f, "%s{", nr++ ? "," : "");
		json_alert_body(f, hw, s);
		fprintf(f, ",\"startsAt\":\"%s\",\"endsAt\":\"%s\"}", starts, ends);
	}
	for (size_t i = 0; i < hw->nr_resolved; i++) {
		const struct alert_series *s = &hw->resolved[i];

		rfc3339(s->starts_ns, starts, sizeof(starts));
		fprintf(f, "%s{", nr++ ? "," : "");
		json_alert_body(f, hw, s);
		fprintf(f, ",\"startsAt\":\"%s\",\"endsAt\":\"%s\"}", starts, now);
	}
	fputc(']', f);
	if (fclose(f)) {
		free(body);
		hw->am_unbuilt++;
		return;
	}
	alertsend__push(hw->o.am, body, len, nr);
}

void hostwatch__interval(struct hostwatch *hw, int64_t now_ns, double seconds)
{
	const struct flag_prog *top_prog = NULL;
	struct alert_figure *figs;
	const struct flag_chain *c;
	double cap, per;
	size_t n = 0;

	if (!hw)
		return;
	figs = hw->figs;
	cap = seconds * (hw->o.ncpus > 0 ? hw->o.ncpus : 1);
	per = hw->o.period_ns / 1e9;
	hw->now_ns = now_ns;
	hw->nr_resolved = 0;
	if (seconds <= 0)
		return;

	/* spinlock slowpaths: host, and per caller in /metrics */
	{
		struct alert_figure *f = &figs[n++];
		double spin = (double)hw->cpu.value[KILN_FLAG_SPINLOCK_SLOWPATH] * per;

		memset(f, 0, sizeof(*f));
		f->rule = ALERT_SPINLOCK;
		f->value = spin / cap;
		hw->spin_ratio = f->value;
		if ((c = top_chain(&hw->cpu, KILN_FLAG_SPINLOCK_SLOWPATH, KILN_FLAG_SPINLOCK_SLOWPATH)))
			snprintf(f->stack, sizeof(f->stack), "%s", c->text);
		for (size_t i = 0; i < hw->cpu.nr_chains; i++) {
			char caller[96];

			c = &hw->cpu.chains[i];
			if (c->flag != KILN_FLAG_SPINLOCK_SLOWPATH)
				continue;
			chain_caller(c->text, caller, sizeof(caller));
			counter_add(&hw->spin_cpu, caller, "", (double)c->value * per);
		}
		if (hw->cpu.chains_other[KILN_FLAG_SPINLOCK_SLOWPATH])
			counter_add(&hw->spin_cpu, "other", "",
				    (double)hw->cpu.chains_other[KILN_FLAG_SPINLOCK_SLOWPATH] * per);
	}

	/* BPF programs, each with its owner */
	for (size_t i = 0; i < hw->cpu.nr_progs; i++) {
		const struct flag_prog *p = &hw->cpu.progs[i];
		const struct bpf_prog_rec *r = p->id && hw->o.progs ?
					       bpfprogs__find_id(hw->o.progs, p->id) : NULL;
		const char *owner = r && r->nr_owners ? r->owners[0].comm : "unknown";
		const char *name = r ? r->name : p->symbol;
		struct alert_figure *f;

		counter_add(&hw->prog_cpu, name, owner, (double)p->total * per);
		if (r && r->nr_owners && (pid_t)r->owners[0].pid == hw->o.self)
			continue;	/* kiln's own */
		if (!top_prog || p->total > top_prog->total)
			top_prog = p;
		f = &figs[n++];
		memset(f, 0, sizeof(*f));
		f->rule = ALERT_BPF_PROG;
		f->value = (double)p->total * per / cap;
		set_label(f, "prog_name", name);
		set_label(f, "owner_comm", owner);
		c = NULL;
		for (size_t k = 0; k < hw->cpu.nr_chains; k++) {
			const struct flag_chain *ck = &hw->cpu.chains[k];

			/* its own heaviest chain, else the heaviest of any program */
			if ((ck->flag == KILN_FLAG_BPF_PROG || ck->flag == KILN_FLAG_BPF_TRAMPOLINE) &&
			    strstr(ck->text, p->symbol) && (!c || ck->value > c->value))
				c = ck;
		}
		if (c || (c = top_chain(&hw->cpu, KILN_FLAG_BPF_PROG, KILN_FLAG_BPF_TRAMPOLINE)))
			snprintf(f->stack, sizeof(f->stack), "%s", c->text);
		snprintf(f->detail, sizeof(f->detail), "program id %u (%s), owner pid %u",
			 p->id, p->symbol, r && r->nr_owners ? r->owners[0].pid : 0);
	}
	if (hw->cpu.progs_other)
		counter_add(&hw->prog_cpu, "other", "other", (double)hw->cpu.progs_other * per);

	/* kprobe machinery: any of it above the floor */
	{
		struct alert_figure *f = &figs[n++];
		double kp = (double)hw->cpu.value[KILN_FLAG_KPROBE] * per;

		memset(f, 0, sizeof(*f));
		f->rule = ALERT_KPROBE;
		f->value = kp / cap;
		hw->kprobe_seconds += kp;
		set_label(f, "machinery", "kprobe");
		if ((c = top_chain(&hw->cpu, KILN_FLAG_KPROBE, KILN_FLAG_KPROBE)))
			snprintf(f->stack, sizeof(f->stack), "%s", c->text);
		if (top_prog) {
			const struct bpf_prog_rec *r = top_prog->id && hw->o.progs ?
				bpfprogs__find_id(hw->o.progs, top_prog->id) : NULL;

			snprintf(f->detail, sizeof(f->detail), "top program %s, owner %s (pid %u)",
				 top_prog->symbol, r && r->nr_owners ? r->owners[0].comm : "unknown",
				 r && r->nr_owners ? r->owners[0].pid : 0);
		}
	}

	/* lock waits, per lock */
	for (size_t i = 0; i < hw->nr_locks; i++) {
		const struct hw_lock *l = &hw->locks[i];
		struct alert_figure *f = &figs[n++];

		counter_add(&hw->lock_wait, l->name, l->kind, (double)l->ns / 1e9);
		memset(f, 0, sizeof(*f));
		f->rule = ALERT_LOCK;
		f->value = (double)l->ns / 1e9 / seconds;
		set_label(f, "lock", l->name);
		set_label(f, "kind", l->kind);
		kernel_stack_text(hw, l, f->stack, sizeof(f->stack));
	}
	if (hw->locks_other_ns)
		counter_add(&hw->lock_wait, "other", "other", (double)hw->locks_other_ns / 1e9);
	for (size_t i = 0; i < hw->nr_callers; i++)
		counter_add(&hw->lock_caller, hw->callers[i].name, "",
			    (double)hw->callers[i].ns / 1e9);

	if (hw->o.alerts) {
		alerts__interval(&hw->det, figs, n, now_ns, on_alert, hw);
		post_alertmanager(hw);
	}
	memset(&hw->cpu, 0, sizeof(hw->cpu));
	memset(&hw->lock, 0, sizeof(hw->lock));
	hw->nr_locks = 0;
	hw->locks_other_ns = 0;
	hw->nr_callers = 0;
}

/* @s with \, " and newlines escaped for a label value. */
static const char *esc(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 2 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[o++] = '\\';
			buf[o++] = *s == '\n' ? 'n' : *s;
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* One counter series per slot of @t (labels @l1, and @l2 unless NULL), with
 * "other" last when it was used. */
static void counters_metric(struct mbuf *b, const char *name, const char *help,
			    const struct hw_counters *t, const char *l1, const char *l2, int digits)
{
	char e1[200], e2[200];

	mbuf_header(b, name, "counter", help);
	if (!t->nr && !t->c[HOSTWATCH_TOPK].k1[0]) {
		/* nothing yet: the series exists from the start, at 0 */
		mbuf_printf(b, "%s{%s=\"other\"%s%s%s} 0\n", name, l1, l2 ? "," : "", l2 ? l2 : "",
			    l2 ? "=\"other\"" : "");
		return;
	}
	for (size_t i = 0; i < HOSTWATCH_TOPK + 1; i++) {
		const struct hw_counter *c = &t->c[i];

		if (i >= t->nr && !(i == HOSTWATCH_TOPK && c->k1[0]))
			continue;
		mbuf_printf(b, "%s{%s=\"%s\"", name, l1, esc(c->k1, e1, sizeof(e1)));
		if (l2)
			mbuf_printf(b, ",%s=\"%s\"", l2, esc(c->k2, e2, sizeof(e2)));
		mbuf_printf(b, "} %.*f\n", digits, c->seconds);
	}
}

void hostwatch__metrics(const struct hostwatch *hw, struct mbuf *b)
{
	static const enum alert_rule names[] = { ALERT_SPINLOCK, ALERT_BPF_PROG, ALERT_LOCK };
	struct alertsend_stats am = { 0 };
	char e1[200];

	if (!hw)
		return;

	mbuf_header(b, "kiln_cpus", "gauge", "CPUs sampled.");
	mbuf_printf(b, "kiln_cpus %d\n", hw->o.ncpus);
	mbuf_header(b, "kiln_spinlock_slowpath_cpu_ratio", "gauge",
		    "Share of all CPUs' time in spinlock slowpaths, last interval.");
	mbuf_printf(b, "kiln_spinlock_slowpath_cpu_ratio %.6f\n", hw->spin_ratio);
	counters_metric(b, "kiln_spinlock_slowpath_cpu_seconds_total",
			"CPU time in spinlock slowpaths, by calling function.", &hw->spin_cpu,
			"caller", NULL, 6);
	mbuf_header(b, "kiln_kprobe_cpu_seconds_total", "counter",
		    "CPU time in kprobe/kretprobe machinery.");
	mbuf_printf(b, "kiln_kprobe_cpu_seconds_total %.6f\n", hw->kprobe_seconds);
	counters_metric(b, "kiln_bpf_prog_cpu_seconds_total",
			"CPU time in BPF programs (with their trampolines and helpers), by program "
			"and the process holding it.", &hw->prog_cpu, "prog_name", "owner_comm", 6);
	counters_metric(b, "kiln_lock_wait_seconds_total",
			"Time spent waiting for kernel locks, by lock and kind.", &hw->lock_wait,
			"lock", "kind", 9);
	counters_metric(b, "kiln_lock_wait_by_caller_seconds_total",
			"Time spent waiting for kernel locks, by the function asking for the lock.",
			&hw->lock_caller, "caller", NULL, 9);
	mbuf_header(b, "kiln_alert_baseline_warm", "gauge",
		    "1 once the detector's baselines count (before: floors alone).");
	mbuf_printf(b, "kiln_alert_baseline_warm %d\n", alerts__warm(&hw->det) ? 1 : 0);
	mbuf_header(b, "kiln_alert_active", "gauge", "Alerts firing now, as kiln's detector sees them.");
	for (size_t i = 0; i < hw->det.nr; i++) {
		const struct alert_series *s = &hw->det.series[i];

		if (!s->active)
			continue;
		mbuf_printf(b, "kiln_alert_active{alertname=\"%s\"", alerts__name(s->last.rule));
		for (size_t k = 0; k < s->last.nr_labels; k++)
			mbuf_printf(b, ",%s=\"%s\"", s->last.labels[k].key,
				    esc(s->last.labels[k].value, e1, sizeof(e1)));
		mbuf_printf(b, "} 1\n");
	}
	mbuf_header(b, "kiln_alerts_fired_total", "counter", "Alerts fired, by name.");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t v = hw->fired[names[i]];

		if (names[i] == ALERT_BPF_PROG)
			v += hw->fired[ALERT_KPROBE];	/* one alertname */
		mbuf_printf(b, "kiln_alerts_fired_total{alertname=\"%s\"} %llu\n",
			    alerts__name(names[i]), (unsigned long long)v);
	}
	mbuf_header(b, "kiln_alert_series_dropped_total", "counter",
		    "Figures not followed by the detector: its table was full of firing series.");
	mbuf_printf(b, "kiln_alert_series_dropped_total %llu\n",
		    (unsigned long long)hw->det.series_dropped);
	if (hw->o.am)
		alertsend__stats(hw->o.am, &am);
	mbuf_header(b, "kiln_alertmanager_posts_total", "counter",
		    "POSTs of alerts to Alertmanager, by result (retries included).");
	mbuf_printf(b, "kiln_alertmanager_posts_total{result=\"ok\"} %llu\n"
		    "kiln_alertmanager_posts_total{result=\"failed\"} %llu\n",
		    (unsigned long long)am.ok, (unsigned long long)am.failed);
	mbuf_header(b, "kiln_alertmanager_retries_total", "counter",
		    "POSTs of alerts that were retries of a failed one.");
	mbuf_printf(b, "kiln_alertmanager_retries_total %llu\n", (unsigned long long)am.retried);
	mbuf_header(b, "kiln_alertmanager_dropped_total", "counter",
		    "Alert bodies never delivered: given up after retries, pushed out of the "
		    "full queue, or not built (out of memory).");
	mbuf_printf(b, "kiln_alertmanager_dropped_total %llu\n",
		    (unsigned long long)(am.dropped + hw->am_unbuilt));
	mbuf_header(b, "kiln_alertmanager_queued", "gauge",
		    "Alert bodies waiting for the sender's thread.");
	mbuf_printf(b, "kiln_alertmanager_queued %llu\n", (unsigned long long)am.queued);
}
