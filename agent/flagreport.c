// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "flagreport.h"
#include "probes.h"
#include "util.h"

#define CHAINS_SHOWN 3
#define PROGS_SHOWN 10

static const char cpu_blind_nmi[] =
	"blind inside kprobe and classic tracepoint BPF programs (bpf_prog_active)";
static const char cpu_blind_timer[] =
	"blind where interrupts are off (timer event, no NMI) and inside kprobe and "
	"classic tracepoint BPF programs (bpf_prog_active)";
static const char lock_source[] =
	"lock tracepoints: contention_begin/end spin waits, seen with interrupts off too; "
	"blind to the qspinlock pending-bit path and virt_spin_lock";
static const char stats_source[] =
	"BPF run-time stats: program bodies only, not the kprobe/trampoline machinery around them";

static double pct(uint64_t v, uint64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

/* Share of expected sampler runs that did not happen (never negative). */
static double missing_pct(const struct flag_report *r)
{
	if (r->sampler_expected <= 0 || (double)r->sampler_runs >= r->sampler_expected)
		return 0.0;
	return 100.0 * (r->sampler_expected - (double)r->sampler_runs) / r->sampler_expected;
}

static const char *cpu_blind(const struct flag_report *r)
{
	return strcmp(r->event, "cpu-clock") ? cpu_blind_nmi : cpu_blind_timer;
}

/* Share of all CPU time (seconds x CPUs) that @samples CPU samples stand for. */
static double cpu_share(const struct flag_report *r, uint64_t samples)
{
	double total = r->seconds * r->cpus * 1e9;

	return total > 0 ? 100.0 * (double)samples * (double)r->period_ns / total : 0.0;
}

static int chain_cmp(const void *a, const void *b)
{
	const struct flag_chain *x = *(const struct flag_chain *const *)a;
	const struct flag_chain *y = *(const struct flag_chain *const *)b;

	return x->value == y->value ? 0 : (x->value < y->value ? 1 : -1);
}

/* The chains of @flag, biggest first, into @out; returns how many. */
static size_t sorted_chains(const struct flag_summary *fs, enum kiln_flag flag,
			    const struct flag_chain **out)
{
	size_t n = 0;

	for (size_t i = 0; i < fs->nr_chains; i++)
		if (fs->chains[i].flag == flag)
			out[n++] = &fs->chains[i];
	qsort(out, n, sizeof(*out), chain_cmp);
	return n;
}

static int prog_cmp(const void *a, const void *b)
{
	const struct flag_prog *x = *(const struct flag_prog *const *)a;
	const struct flag_prog *y = *(const struct flag_prog *const *)b;

	return x->total == y->total ? 0 : (x->total < y->total ? 1 : -1);
}

static size_t sorted_progs(const struct flag_summary *fs, const struct flag_prog **out)
{
	for (size_t i = 0; i < fs->nr_progs; i++)
		out[i] = &fs->progs[i];
	qsort(out, fs->nr_progs, sizeof(*out), prog_cmp);
	return fs->nr_progs;
}

static const struct flag_prog *sampled_prog(const struct flag_report *r, uint32_t id)
{
	const struct flag_summary *fs = r->cpu->flags;

	for (size_t i = 0; i < fs->nr_progs; i++)
		if (fs->progs[i].id == id)
			return &fs->progs[i];
	return NULL;
}

/* Run time of @p during the recording (what it had at the start taken off). */
static void run_delta(const struct flag_report *r, const struct bpf_prog_rec *p, uint64_t *ns,
		      uint64_t *cnt)
{
	*ns = p->run_time_ns;
	*cnt = p->run_cnt;
	for (size_t i = 0; i < r->nr_run0; i++) {
		if (r->run0[i].id != p->id)
			continue;
		*ns = p->run_time_ns >= r->run0[i].run_time_ns ? p->run_time_ns - r->run0[i].run_time_ns : 0;
		*cnt = p->run_cnt >= r->run0[i].run_cnt ? p->run_cnt - r->run0[i].run_cnt : 0;
	}
}

/* Programs that ran during the recording, most run time first. */
static size_t sorted_stats(const struct flag_report *r, const struct bpf_prog_rec **out)
{
	size_t n = 0;

	for (size_t i = 0; i < r->progs->nr; i++) {
		uint64_t ns, cnt;

		run_delta(r, &r->progs->progs[i], &ns, &cnt);
		if (cnt)
			out[n++] = &r->progs->progs[i];
	}
	/* insertion sort: a host runs tens of programs, not thousands */
	for (size_t i = 1; i < n; i++) {
		const struct bpf_prog_rec *x = out[i];
		uint64_t xn, yn, c;
		size_t j = i;

		run_delta(r, x, &xn, &c);
		for (; j > 0; j--) {
			run_delta(r, out[j - 1], &yn, &c);
			if (yn >= xn)
				break;
			out[j] = out[j - 1];
		}
		out[j] = x;
	}
	return n;
}

/* One of kiln's own programs (this process holds it)? */
static bool own_prog(const struct flag_report *r, uint32_t id)
{
	const struct bpf_prog_rec *p = id ? bpfprogs__find_id(r->progs, id) : NULL;

	return p && bpfprogs__owned_by(p, (uint32_t)getpid());
}

static void prog_desc(const struct flag_report *r, uint32_t id, char *buf, size_t len)
{
	const struct bpf_prog_rec *p = id ? bpfprogs__find_id(r->progs, id) : NULL;
	char attach[256], owners[256];

	if (!p) {
		snprintf(buf, len, "program not found in the snapshots (unloaded before kiln saw it)");
		return;
	}
	bpfprogs__attach_str(p, attach, sizeof(attach));
	bpfprogs__owners_str(p, owners, sizeof(owners));
	snprintf(buf, len, "%sid %u %s, %s; held by %s%s",
		 bpfprogs__owned_by(p, (uint32_t)getpid()) ? "kiln's own: " : "", p->id, p->type,
		 attach, owners, p->gone ? " (since unloaded)" : "");
}

static void text_flags(const struct flag_summary *fs, uint64_t total, const char *unit,
		       bool ns, const char *source, const struct flag_report *r)
{
	const struct flag_chain *chains[FLAG_CHAINS_MAX];
	bool any = false;

	for (int f = 1; f < KILN_FLAG__MAX; f++)
		any |= fs->value[f] != 0;
	printf("  flags (%s):\n", source);
	if (!any) {
		printf("    none\n");
		return;
	}
	for (int f = 1; f < KILN_FLAG__MAX; f++) {
		size_t n;

		if (!fs->value[f])
			continue;
		if (ns)
			printf("    %6.2f%% of lock wait time in %s (%.3f ms)\n", pct(fs->value[f], total),
			       flags__title(f), (double)fs->value[f] / 1e6);
		else
			printf("    %6.2f%% of %s in %s (%llu %s, %.2f%% of all CPU time)\n",
			       pct(fs->value[f], total), unit, flags__title(f),
			       (unsigned long long)fs->value[f], unit, cpu_share(r, fs->value[f]));
		for (unsigned int u = 0; u < KILN_UNDER__COUNT; u++)
			if (fs->under[f][u])
				printf("             %5.1f%% of it under %s code\n",
				       pct(fs->under[f][u], fs->value[f]), flags__under_name(u));
		n = sorted_chains(fs, f, chains);
		for (size_t i = 0; i < n && i < CHAINS_SHOWN; i++)
			printf("             %5.1f%% from %s\n", pct(chains[i]->value, fs->value[f]),
			       chains[i]->text);
	}
}

void flagreport__text(const struct flag_report *r)
{
	const struct flag_prog *progs[FLAG_PROGS_MAX];
	const struct bpf_prog_rec **stats;
	char source[256], desc[640];
	const struct bpf_prog_rec *self;
	size_t n;

	snprintf(source, sizeof(source), "cpu samples, %s; %s", r->event, cpu_blind(r));
	text_flags(r->cpu->flags, r->cpu->samples, "samples", false, source, r);
	if (r->lock)
		text_flags(r->lock->flags, r->lock_ns, "wait time", true, lock_source, r);

	n = sorted_progs(r->cpu->flags, progs);
	if (n)
		printf("  BPF programs on CPU (cpu samples; self = in the program, total = with "
		       "what it calls):\n");
	for (size_t i = 0; i < n && i < PROGS_SHOWN; i++) {
		prog_desc(r, progs[i]->id, desc, sizeof(desc));
		printf("    %6.2f%% total %6.2f%% self  %s\n             %s\n",
		       pct(progs[i]->total, r->cpu->samples), pct(progs[i]->self, r->cpu->samples),
		       progs[i]->symbol, desc);
	}
	if (n) {
		uint64_t own = 0;

		for (size_t i = 0; i < n; i++)
			if (own_prog(r, progs[i]->id))
				own += progs[i]->total;
		printf("    kiln's own programs: %.2f%% of cpu samples (%.2f%% of all CPU time); "
		       "the others belong to other tools\n", pct(own, r->cpu->samples),
		       cpu_share(r, own));
	}

	self = r->sampler_prog_id ? bpfprogs__find_id(r->progs, r->sampler_prog_id) : NULL;
	printf("  sampler: %llu samples taken outside idle of ~%.0f expected (freq x busy CPU "
	       "time in /proc/stat): %.1f%% missing\n", (unsigned long long)r->sampler_runs,
	       r->sampler_expected, missing_pct(r));
	printf("             the kernel drops samples that land inside kprobe or classic tracepoint "
	       "BPF programs and counts them nowhere (kiln_sample's miss counter: %llu);%s\n",
	       self ? (unsigned long long)self->recursion_misses : 0ULL,
	       missing_pct(r) > 10.0 ? " a gap this large points at such programs "
				       "('kiln probes' lists them)" : " no large gap here");

	if (!r->bpf_stats) {
		printf("  BPF run time: not measured (--bpf-stats turns BPF stats on while kiln "
		       "records; it costs every program on the host a little)\n");
		return;
	}
	stats = calloc(r->progs->nr ? r->progs->nr : 1, sizeof(*stats));
	if (!stats)
		return;
	n = sorted_stats(r, stats);
	printf("  BPF run time (%s%s):\n", stats_source,
	       r->bpf_stats_already_on ? "; stats were already on" : "");
	for (size_t i = 0; i < n && i < PROGS_SHOWN; i++) {
		const struct flag_prog *sp = sampled_prog(r, stats[i]->id);
		uint64_t ns, cnt;

		run_delta(r, stats[i], &ns, &cnt);
		prog_desc(r, stats[i]->id, desc, sizeof(desc));
		printf("    %6.2f%% of all CPU time  id %u %s (%s): %.3f ms in %llu runs, %.0f ns/run; "
		       "sampled %.2f%%\n             %s\n",
		       100.0 * (double)ns / (r->seconds * r->cpus * 1e9), stats[i]->id, stats[i]->name,
		       stats[i]->type, (double)ns / 1e6, (unsigned long long)cnt,
		       (double)ns / (double)cnt, sp ? cpu_share(r, sp->total) : 0.0, desc);
	}
	free(stats);
}

static void json_flags(const struct flag_summary *fs, uint64_t total, const char *source)
{
	const struct flag_chain *chains[FLAG_CHAINS_MAX];
	bool first = true;

	printf("{\"source\":");
	json_str(stdout, source);
	printf(",\"total\":%llu,\"flags\":[", (unsigned long long)total);
	for (int f = 1; f < KILN_FLAG__MAX; f++) {
		size_t n;

		if (!fs->value[f])
			continue;
		printf("%s{\"flag\":\"%s\",\"value\":%llu,\"percent\":%.3f,\"under\":{",
		       first ? "" : ",", flags__name(f), (unsigned long long)fs->value[f],
		       pct(fs->value[f], total));
		first = false;
		for (unsigned int u = 0; u < KILN_UNDER__COUNT; u++)
			printf("%s\"%s\":%llu", u ? "," : "", flags__under_name(u),
			       (unsigned long long)fs->under[f][u]);
		printf("},\"from\":[");
		n = sorted_chains(fs, f, chains);
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"chain\":", i ? "," : "");
			json_str(stdout, chains[i]->text);
			printf(",\"value\":%llu}", (unsigned long long)chains[i]->value);
		}
		printf("],\"from_other\":%llu}", (unsigned long long)fs->chains_other[f]);
	}
	printf("]}");
}

void flagreport__json(const struct flag_report *r)
{
	const struct flag_prog *progs[FLAG_PROGS_MAX];
	const struct bpf_prog_rec **stats, *self;
	uint64_t own = 0;
	char source[256];
	size_t n;

	snprintf(source, sizeof(source), "cpu samples, %s; %s", r->event, cpu_blind(r));
	printf("\"flags\":{\"cpu\":");
	json_flags(r->cpu->flags, r->cpu->samples, source);
	if (r->lock) {
		printf(",\"lock\":");
		json_flags(r->lock->flags, r->lock_ns, lock_source);
	}
	printf("},\"bpf_programs\":[");
	n = sorted_progs(r->cpu->flags, progs);
	for (size_t i = 0; i < n; i++) {
		const struct bpf_prog_rec *p = progs[i]->id ? bpfprogs__find_id(r->progs, progs[i]->id) : NULL;

		printf("%s{\"symbol\":", i ? "," : "");
		json_str(stdout, progs[i]->symbol);
		printf(",\"id\":%u,\"kiln_own\":%s,\"self_samples\":%llu,\"total_samples\":%llu,"
		       "\"self_percent\":%.3f,\"total_percent\":%.3f,\"cpu_percent\":%.3f,\"program\":",
		       progs[i]->id, own_prog(r, progs[i]->id) ? "true" : "false",
		       (unsigned long long)progs[i]->self, (unsigned long long)progs[i]->total,
		       pct(progs[i]->self, r->cpu->samples), pct(progs[i]->total, r->cpu->samples),
		       cpu_share(r, progs[i]->total));
		own += own_prog(r, progs[i]->id) ? progs[i]->total : 0;
		if (p)
			probes__print_prog_json(p);
		else
			printf("null");
		putchar('}');
	}
	self = r->sampler_prog_id ? bpfprogs__find_id(r->progs, r->sampler_prog_id) : NULL;
	printf("],\"kiln_own_programs\":{\"samples\":%llu,\"percent\":%.3f,\"cpu_percent\":%.3f}",
	       (unsigned long long)own, pct(own, r->cpu->samples), cpu_share(r, own));
	printf(",\"bpf_programs_other_samples\":%llu,\"sampler\":{\"runs\":%llu,"
	       "\"expected\":%.0f,\"missing_percent\":%.2f},\"sampler_recursion_misses\":",
	       (unsigned long long)r->cpu->flags->progs_other, (unsigned long long)r->sampler_runs,
	       r->sampler_expected, missing_pct(r));
	if (self)
		printf("%llu", (unsigned long long)self->recursion_misses);
	else
		printf("null");
	printf(",\"bpf_stats\":{\"enabled\":%s", r->bpf_stats ? "true" : "false");
	if (r->bpf_stats) {
		printf(",\"source\":");
		json_str(stdout, stats_source);
		printf(",\"already_on\":%s,\"programs\":[", r->bpf_stats_already_on ? "true" : "false");
		stats = calloc(r->progs->nr ? r->progs->nr : 1, sizeof(*stats));
		n = stats ? sorted_stats(r, stats) : 0;
		for (size_t i = 0; i < n; i++) {
			const struct flag_prog *sp = sampled_prog(r, stats[i]->id);
			uint64_t ns, cnt;

			run_delta(r, stats[i], &ns, &cnt);
			printf("%s{\"id\":%u,\"name\":", i ? "," : "", stats[i]->id);
			json_str(stdout, stats[i]->name);
			printf(",\"type\":");
			json_str(stdout, stats[i]->type);
			printf(",\"run_time_ns\":%llu,\"run_cnt\":%llu,\"cpu_percent\":%.3f,"
			       "\"sampled_cpu_percent\":%.3f,\"program\":", (unsigned long long)ns,
			       (unsigned long long)cnt, 100.0 * (double)ns / (r->seconds * r->cpus * 1e9),
			       sp ? cpu_share(r, sp->total) : 0.0);
			probes__print_prog_json(stats[i]);
			putchar('}');
		}
		free(stats);
		putchar(']');
	}
	putchar('}');
}
