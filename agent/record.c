// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kiln record: sample on-CPU stacks, time off-CPU blocks and kernel lock
 * waits for a while, then write pprof, folded stacks and a flame graph into a
 * directory. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "aggregate.h"
#include "bpfprogs.h"
#include "flagreport.h"
#include "kfeatures.h"
#include "output.h"
#include "record.h"
#include "sampler.h"
#include "symbolizer.h"
#include "util.h"
#include "waits.h"
#include "collect.h"
#include "governor.h"

#define MAX_PIDS 1024
#define TOP_N 10

struct record_opts {
	long freq;
	long duration_s;		/* 0: until stopped */
	uint32_t pids[MAX_PIDS];
	size_t nr_pids;
	char cgroups[KILN_MAX_CGROUPS][512];
	const char *cgroup_ptrs[KILN_MAX_CGROUPS];
	size_t nr_cgroups;
	const char *comms[KILN_MAX_COMMS];
	size_t nr_comms;
	char outdir[4096];
	bool per_thread;
	bool include_idle;
	bool json;
	const char *btf_path;
	long counts_max;
	long stacks_max;
	long drain_ms;
	bool offcpu;
	bool locks;
	bool offcpu_kthreads;
	bool no_stack_cache;
	long offcpu_min_us;
	long lock_stack_min_us;
	bool bpf_stats;
	bool locks_exact, offcpu_exact;
	bool lock_exact_check;		/* hidden: for tests */
	double bpf_budget;		/* fraction of one CPU */
	const char *debug_dir;
	size_t dwarf_bytes;
	bool debuginfod;
	long debuginfod_timeout_s;
	enum kiln_unwind_mode unwind;
	long stack_bytes;
};

static const char usage_text[] =
"Usage: kiln record [OPTIONS]\n"
"\n"
"Sample on-CPU stacks (kernel and user) of the whole host, or of the given\n"
"processes, time where they block off CPU and wait for kernel locks, then\n"
"write into the output directory:\n"
"  cpu.pb.gz, cpu.folded        on-CPU samples (pprof: samples/count, cpu/ns)\n"
"  offcpu.pb.gz, offcpu.folded  off-CPU time (switches/count, offcpu/ns)\n"
"  lock.pb.gz, lock.folded      lock waits (contentions/count, delay/ns)\n"
"  flamegraph.html              self-contained interactive flame graphs\n"
"Samples in spinlock slowpaths, kprobe machinery, BPF trampolines and BPF\n"
"programs carry the pprof label \"flag\"; the summary names the BPF programs\n"
"seen on CPU with what they are attached to and which processes hold them.\n"
"pprof files are gzipped (go tool pprof, Pyroscope, Grafana); folded stacks\n"
"suit flamegraph.pl, inferno and speedscope.\n"
"\n"
"Options:\n"
"  -F, --freq HZ            samples per second on each CPU (default 99, 1-10000,\n"
"                           at most kernel.perf_event_max_sample_rate)\n"
"  -d, --duration SECONDS   stop after SECONDS (default: until Ctrl-C or SIGTERM)\n"
"  -p, --pid PID            profile only process PID (repeat for more); stops\n"
"                           when all of them have exited\n"
"      --cgroup PATH        profile only tasks in cgroup v2 directory PATH and\n"
"                           below (absolute, or under /sys/fs/cgroup; repeat)\n"
"      --comm NAME          profile only processes named NAME (repeat)\n"
"  -o, --output DIR         output directory (default: kiln-YYYYmmdd-HHMMSS)\n"
"      --per-thread         add thread id and thread name to every sample\n"
"      --include-idle       keep samples of the idle task (skipped by default)\n"
"      --json               print the summary as JSON on stdout\n"
"      --btf FILE           kernel BTF to use instead of /sys/kernel/btf/vmlinux\n"
"      --debug-dir DIR      also look for separate debug files (build-id and\n"
"                           .gnu_debuglink layouts) under DIR, after\n"
"                           /usr/lib/debug in the process's root and the host's\n"
"      --debuginfod         fetch debug files not found locally from the servers\n"
"                           in $DEBUGINFOD_URLS, by build-id (off by default)\n"
"      --debuginfod-timeout SECONDS  give up on one file after SECONDS (default 5)\n"
"      --unwind MODE        user stacks: 'auto' walks frame pointers where the\n"
"                           code keeps them and copies the stack for libdw to\n"
"                           unwind with .eh_frame where it does not (default,\n"
"                           x86-64); 'fp' frame pointers only; 'dwarf' copies\n"
"                           every user stack\n"
"      --stack-bytes N      user stack copied per sample for unwinding (default\n"
"                           8192, 512-32768); deeper frames are cut\n"
"      --dwarf-mb N         memory for parsed DWARF (source lines, inlined\n"
"                           frames), all files together (default 0: no bound;\n"
"                           libc's debug info alone takes 55 MiB); files\n"
"                           bigger than N keep their symbols only\n"
"      --count-map-size N   in-kernel aggregation entries (default 16384)\n"
"      --stack-map-size N   in-kernel stack map entries (default 16384)\n"
"      --drain-interval MS  how often the in-kernel maps are drained (default 1000)\n"
"      --no-off-cpu         do not record off-CPU time\n"
"      --no-locks           do not record lock contention\n"
"      --locks MODE         'auto' (default): the lock programs are detached for\n"
"                           part of each second when they would cost more than\n"
"                           their share of the budget, and lock counts are scaled\n"
"                           up to match; 'exact': every contention recorded,\n"
"                           whatever it costs\n"
"      --offcpu MODE        the same for the sched_switch program and off-CPU time\n"
"      --bpf-budget PCT     what kiln's lock and switch programs may cost, in %\n"
"                           of one CPU (default 1)\n"
"      --offcpu-min-us N    ignore blocks shorter than N us (default 1)\n"
"      --offcpu-kernel-threads  include kernel threads in off-CPU (default: not)\n"
"      --lock-stack-min-us N  take stacks only for lock waits of N us or more;\n"
"                           shorter waits are counted without one (default 10)\n"
"      --no-stack-cache     walk the stacks at every switch-out (exact, costly)\n"
"      --bpf-stats          turn on BPF run-time stats while recording and report\n"
"                           each program's run time (costs every BPF program on\n"
"                           the host a little while on)\n"
"  -v, --verbose            more diagnostics (repeat for libbpf's)\n"
"  -h, --help               show this help\n"
"\n"
"Exit status: 0 when the recording ended (also by Ctrl-C/SIGTERM) and every\n"
"file was written; 1 on a runtime error; 2 on a usage error.\n";

static int usage_error(const char *fmt, const char *arg)
{
	return usage_error_cmd("record", fmt, arg);
}

static int parse_args(int argc, char **argv, struct record_opts *o)
{
	enum { OPT_PER_THREAD = 256, OPT_CGROUP, OPT_COMM, OPT_IDLE, OPT_JSON, OPT_BTF, OPT_COUNTS, OPT_STACKS, OPT_DRAIN,
	       OPT_NO_OFFCPU, OPT_NO_LOCKS, OPT_LOCKS_MODE, OPT_OFFCPU_MODE, OPT_BPF_BUDGET, OPT_LOCK_EXACT_CHECK, OPT_OFFCPU_MIN, OPT_OFFCPU_KTHREADS, OPT_LOCK_STACK_MIN,
	       OPT_NO_STACK_CACHE, OPT_BPF_STATS, OPT_DEBUG_DIR, OPT_DEBUGINFOD,
	       OPT_DEBUGINFOD_TIMEOUT, OPT_UNWIND, OPT_STACK_BYTES, OPT_DWARF_MB };
	static const struct option longopts[] = {
		{ "freq", required_argument, NULL, 'F' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "comm", required_argument, NULL, OPT_COMM },
		{ "output", required_argument, NULL, 'o' },
		{ "per-thread", no_argument, NULL, OPT_PER_THREAD },
		{ "include-idle", no_argument, NULL, OPT_IDLE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "count-map-size", required_argument, NULL, OPT_COUNTS },
		{ "stack-map-size", required_argument, NULL, OPT_STACKS },
		{ "drain-interval", required_argument, NULL, OPT_DRAIN },
		{ "no-off-cpu", no_argument, NULL, OPT_NO_OFFCPU },
		{ "no-locks", no_argument, NULL, OPT_NO_LOCKS },
		{ "locks", required_argument, NULL, OPT_LOCKS_MODE },
		{ "offcpu", required_argument, NULL, OPT_OFFCPU_MODE },
		{ "bpf-budget", required_argument, NULL, OPT_BPF_BUDGET },
		/* not in --help: tests compare the governor's estimates with it */
		{ "lock-exact-check", no_argument, NULL, OPT_LOCK_EXACT_CHECK },
		{ "offcpu-min-us", required_argument, NULL, OPT_OFFCPU_MIN },
		{ "offcpu-kernel-threads", no_argument, NULL, OPT_OFFCPU_KTHREADS },
		{ "lock-stack-min-us", required_argument, NULL, OPT_LOCK_STACK_MIN },
		{ "no-stack-cache", no_argument, NULL, OPT_NO_STACK_CACHE },
		{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
		{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
		{ "debuginfod", no_argument, NULL, OPT_DEBUGINFOD },
		{ "debuginfod-timeout", required_argument, NULL, OPT_DEBUGINFOD_TIMEOUT },
		{ "unwind", required_argument, NULL, OPT_UNWIND },
		{ "stack-bytes", required_argument, NULL, OPT_STACK_BYTES },
		{ "dwarf-mb", required_argument, NULL, OPT_DWARF_MB },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":F:d:p:o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (option_freq("record", optarg, &o->freq))
				return KILN_EXIT_USAGE;
			break;
		case 'd':
			if (parse_long(optarg, 1, 7 * 24 * 3600, &o->duration_s))
				return usage_error("invalid duration '%s': expected 1-604800 seconds", optarg);
			break;
		case 'p':
			if (option_pid("record", optarg, o->pids, &o->nr_pids, MAX_PIDS))
				return KILN_EXIT_USAGE;
			break;
		case OPT_CGROUP:
			if (option_cgroup("record", optarg, o->cgroups, &o->nr_cgroups,
					  KILN_MAX_CGROUPS))
				return KILN_EXIT_USAGE;
			o->cgroup_ptrs[o->nr_cgroups - 1] = o->cgroups[o->nr_cgroups - 1];
			break;
		case OPT_COMM:
			if (option_comm("record", optarg, o->comms, &o->nr_comms, KILN_MAX_COMMS))
				return KILN_EXIT_USAGE;
			break;
		case 'o':
			if (!*optarg || strlen(optarg) >= sizeof(o->outdir) - 64)
				return usage_error("invalid output directory '%s'", optarg);
			snprintf(o->outdir, sizeof(o->outdir), "%s", optarg);
			break;
		case OPT_PER_THREAD:
			o->per_thread = true;
			break;
		case OPT_IDLE:
			o->include_idle = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_BTF:
			o->btf_path = optarg;
			break;
		case OPT_COUNTS:
			if (parse_long(optarg, 64, 1 << 22, &o->counts_max))
				return usage_error("invalid --count-map-size '%s': expected 64-4194304", optarg);
			break;
		case OPT_STACKS:
			if (parse_long(optarg, 64, 1 << 22, &o->stacks_max))
				return usage_error("invalid --stack-map-size '%s': expected 64-4194304", optarg);
			break;
		case OPT_DRAIN:
			if (parse_long(optarg, 10, 60000, &o->drain_ms))
				return usage_error("invalid --drain-interval '%s': expected 10-60000 ms", optarg);
			break;
		case OPT_NO_OFFCPU:
			o->offcpu = false;
			break;
		case OPT_NO_LOCKS:
			o->locks = false;
			break;
		case OPT_LOCKS_MODE:
			if (governor__parse_mode(optarg, &o->locks_exact))
				return usage_error("invalid --locks '%s': expected auto or exact", optarg);
			break;
		case OPT_LOCK_EXACT_CHECK:
			o->lock_exact_check = true;
			break;
		case OPT_OFFCPU_MODE:
			if (governor__parse_mode(optarg, &o->offcpu_exact))
				return usage_error("invalid --offcpu '%s': expected auto or exact", optarg);
			break;
		case OPT_BPF_BUDGET:
			if (governor__parse_budget(optarg, &o->bpf_budget))
				return usage_error("invalid --bpf-budget '%s': expected 0.01-100 (%% of one CPU)", optarg);
			break;
		case OPT_OFFCPU_MIN:
			if (parse_long(optarg, 0, 60000000, &o->offcpu_min_us))
				return usage_error("invalid --offcpu-min-us '%s': expected 0-60000000", optarg);
			break;
		case OPT_OFFCPU_KTHREADS:
			o->offcpu_kthreads = true;
			break;
		case OPT_LOCK_STACK_MIN:
			if (parse_long(optarg, 0, 60000000, &o->lock_stack_min_us))
				return usage_error("invalid --lock-stack-min-us '%s': expected 0-60000000", optarg);
			break;
		case OPT_NO_STACK_CACHE:
			o->no_stack_cache = true;
			break;
		case OPT_BPF_STATS:
			o->bpf_stats = true;
			break;
		case OPT_DEBUG_DIR:
			o->debug_dir = optarg;
			break;
		case OPT_DEBUGINFOD:
			o->debuginfod = true;
			break;
		case OPT_DEBUGINFOD_TIMEOUT:
			if (parse_long(optarg, 1, 600, &o->debuginfod_timeout_s))
				return usage_error("invalid --debuginfod-timeout '%s' (1-600 seconds)",
						   optarg);
			break;
		case OPT_UNWIND:
			if (sampler__parse_unwind(optarg, &o->unwind))
				return usage_error("invalid --unwind '%s': expected auto, fp or dwarf",
						   optarg);
			break;
		case OPT_STACK_BYTES:
			if (parse_long(optarg, 512, KILN_STACK_COPY_MAX, &o->stack_bytes) ||
			    o->stack_bytes % 8)
				return usage_error("invalid --stack-bytes '%s': expected a multiple "
						   "of 8 in 512-32768", optarg);
			break;
		case OPT_DWARF_MB:
			if (option_dwarf_mb("record", optarg, &o->dwarf_bytes))
				return KILN_EXIT_USAGE;
			break;
		default: {
			int ret = common_option(c, argv, "record", usage_text);

			if (ret)
				return ret;
			break;
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->debuginfod && !getenv("DEBUGINFOD_URLS"))
		return usage_error("--debuginfod needs the servers in DEBUGINFOD_URLS%s", "");

	return 0;
}

/* Check every -p exists and turn thread ids into their process ids. */
static int check_pids(struct record_opts *o)
{
	for (size_t i = 0; i < o->nr_pids; i++) {
		char path[64], buf[4096], *tgid;
		long v;

		snprintf(path, sizeof(path), "/proc/%u/status", o->pids[i]);
		if (read_file_str(path, buf, sizeof(buf))) {
			p_err("failed to find process %u: no such process", o->pids[i]);
			return KILN_EXIT_RUNTIME;
		}
		tgid = strstr(buf, "\nTgid:");
		if (tgid && sscanf(tgid, "\nTgid: %ld", &v) == 1 && v > 0)
			o->pids[i] = (uint32_t)v;
	}
	return 0;
}

static bool any_alive(const struct record_opts *o)
{
	for (size_t i = 0; i < o->nr_pids; i++) {
		char path[64], buf[512], *rp;

		snprintf(path, sizeof(path), "/proc/%u/stat", o->pids[i]);
		if (read_file_str(path, buf, sizeof(buf)))
			continue;
		rp = strrchr(buf, ')');
		if (rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X')
			return true;
	}
	return false;
}

/* Create the output directory (one level) and prove it is writable. */
static int prepare_outdir(const char *dir)
{
	char probe[4200];
	int fd;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		p_err("failed to create output directory %s: %s", dir, strerror(errno));
		return KILN_EXIT_RUNTIME;
	}
	snprintf(probe, sizeof(probe), "%s/.kiln-write-test.XXXXXX", dir);
	fd = mkstemp(probe);
	if (fd < 0) {
		p_err("failed to write to output directory %s: %s", dir, strerror(errno));
		return KILN_EXIT_RUNTIME;
	}
	close(fd);
	unlink(probe);
	return 0;
}

enum { PROF_CPU, PROF_OFFCPU, PROF_LOCK, NR_PROFS };

static const struct {
	const char *name, *label, *unit;	/* file stem, flame graph view */
	struct pprof_value_type types[2];
	size_t draw;				/* value drawn in the flame graph */
} prof_desc[NR_PROFS] = {
	[PROF_CPU] = { "cpu", "CPU", "samples",
		       { { "samples", "count" }, { "cpu", "nanoseconds" } }, 0 },
	[PROF_OFFCPU] = { "offcpu", "Off-CPU", "nanoseconds",
			  { { "switches", "count" }, { "offcpu", "nanoseconds" } }, 1 },
	[PROF_LOCK] = { "lock", "Locks", "nanoseconds",
			{ { "contentions", "count" }, { "delay", "nanoseconds" } }, 1 },
};

struct results {
	double seconds;
	const char *event;
	const char *switch_attach;	/* NULL: off-CPU off */
	bool locks;
	int cpus;
	uint64_t drops[KILN_DROP__MAX];
	uint64_t stats[KILN_STAT__MAX];
	uint64_t wdrops[KILN_WDROP__MAX];
	uint64_t wstats[KILN_WSTAT__MAX];
	uint64_t lost_user;		/* samples or waits the agent failed to add */
	enum kiln_unwind_mode unwind;
	struct sampler_unwind_stats ust;
	uint64_t pending;		/* blocks still open at stop */
	struct symbolizer_stats sym;
	bool governed;			/* r.gov is set */
	struct kiln_exact_key *exact_key;	/* --lock-exact-check */
	struct kiln_exact_val *exact;
	size_t nr_exact;
	uint64_t exact_dropped;
	struct governor_stats gov;
	char files[2 * NR_PROFS + 1][4200];
	size_t nr_files;
};

static uint64_t total_drops(const struct results *r)
{
	uint64_t t = r->lost_user;

	for (int i = 0; i < KILN_DROP__MAX; i++)
		t += r->drops[i];
	for (int i = 0; i < KILN_WDROP__MAX; i++)
		t += r->wdrops[i];
	return t;
}

static double pct(uint64_t v, uint64_t total)
{
	return total ? 100.0 * (double)v / (double)total : 0.0;
}

static void print_top_text(const char *title, const struct top_entry *t, size_t n,
			   uint64_t total, bool ns)
{
	if (n)
		printf("  %s:\n", title);
	for (size_t i = 0; i < n; i++) {
		if (ns)
			printf("    %6.2f%%  %10.3f ms  %s\n", pct(t[i].value, total),
			       (double)t[i].value / 1e6, t[i].name);
		else
			printf("    %6.2f%%  %8llu  %s\n", pct(t[i].value, total),
			       (unsigned long long)t[i].value, t[i].name);
	}
}

static int lock_total_cmp(const void *a, const void *b)
{
	const struct lock_total *x = a, *y = b;

	return x->total_ns == y->total_ns ? 0 : (x->total_ns < y->total_ns ? 1 : -1);
}

/* The per-lock totals, heaviest first (an empty table is not allocated). */
static void sort_locks(struct wait_aggregate *w)
{
	if (w->nr_locks)
		qsort(w->locks, w->nr_locks, sizeof(w->locks[0]), lock_total_cmp);
}

static const char *const unwind_names[] = {
	[KILN_UNWIND_FP] = "fp", [KILN_UNWIND_AUTO] = "auto", [KILN_UNWIND_ALL] = "dwarf",
};

static void print_unwind_text(const struct results *r)
{
	const struct sampler_unwind_stats *u = &r->ust;

	printf("  unwinding:  %s", unwind_names[r->unwind]);
	if (r->unwind != KILN_UNWIND_FP)
		printf("; %llu samples unwound from stack copies (%.1f frames, %.1f KiB each; "
		       "%llu stopped at the leaf), %llu through frame pointers for want of a "
		       "copy (%llu ring full, %llu stack unreadable)",
		       (unsigned long long)u->copied,
		       u->copied ? (double)u->frames / (double)u->copied : 0.0,
		       u->copied ? (double)u->copied_bytes / 1024.0 / (double)u->copied : 0.0,
		       (unsigned long long)u->leaf_only,
		       (unsigned long long)(r->stats[KILN_STAT_COPY_RING_FULL] +
					    r->stats[KILN_STAT_COPY_FAILED]),
		       (unsigned long long)r->stats[KILN_STAT_COPY_RING_FULL],
		       (unsigned long long)r->stats[KILN_STAT_COPY_FAILED]);
	printf("\n");
}

static void print_unwind_json(const struct results *r)
{
	const struct sampler_unwind_stats *u = &r->ust;

	printf("\"unwind\":{\"mode\":\"%s\",\"stack_copies\":%llu,\"copied_bytes\":%llu,"
	       "\"frames\":%llu,\"leaf_only\":%llu,\"roots_learnt\":%llu,\"copies_ring_full\":%llu,"
	       "\"copies_failed\":%llu,\"cfi_files\":%llu}",
	       unwind_names[r->unwind], (unsigned long long)u->copied,
	       (unsigned long long)u->copied_bytes, (unsigned long long)u->frames,
	       (unsigned long long)u->leaf_only, (unsigned long long)u->roots_learnt,
	       (unsigned long long)r->stats[KILN_STAT_COPY_RING_FULL],
	       (unsigned long long)r->stats[KILN_STAT_COPY_FAILED],
	       (unsigned long long)r->sym.cfi_files);
}

static void print_text(const struct record_opts *o, const struct results *r,
		       struct pprof *const profs[NR_PROFS], const struct aggregate *cpu,
		       struct wait_aggregate *w, const struct flag_report *fr)
{
	struct top_entry top[TOP_N], procs[TOP_N];
	size_t nprocs = 0, n;

	printf("kiln: recorded %.1f s at %ld Hz (%s) on %d CPUs\n", r->seconds, o->freq,
	       r->event, r->cpus);
	n = output__top_processes(profs[PROF_CPU], 0, procs, TOP_N, &nprocs);
	printf("  samples:    %llu in %zu processes (skipped: %llu idle, %llu kiln)\n",
	       (unsigned long long)cpu->samples, nprocs,
	       (unsigned long long)r->stats[KILN_STAT_IDLE],
	       (unsigned long long)r->stats[KILN_STAT_SELF]);
	if (!total_drops(r)) {
		printf("  drops:      none\n");
	} else {
		printf("  drops:     ");
		for (int i = 0; i < KILN_DROP__MAX; i++)
			if (r->drops[i])
				printf(" %s=%llu", kiln_drop_names[i], (unsigned long long)r->drops[i]);
		for (int i = 0; i < KILN_WDROP__MAX; i++)
			if (r->wdrops[i])
				printf(" %s=%llu", kiln_wait_drop_names[i], (unsigned long long)r->wdrops[i]);
		if (r->lost_user)
			printf(" agent_out_of_memory=%llu", (unsigned long long)r->lost_user);
		printf("\n");
	}
	print_top_text("top functions (self)", top, output__top_functions(profs[PROF_CPU], 0, 0,
		       top, TOP_N), cpu->samples, false);
	print_top_text("top processes", procs, n, cpu->samples, false);

	if (profs[PROF_OFFCPU]) {
		printf("  off-CPU:    %.3f s in %llu blocks (%s; %llu shorter than %ld us; "
		       "%llu still blocked at the end)\n", (double)w->offcpu_ns / 1e9,
		       (unsigned long long)r->wstats[KILN_WSTAT_OFF_RECORDED], r->switch_attach,
		       (unsigned long long)r->wstats[KILN_WSTAT_BELOW_MIN], o->offcpu_min_us,
		       (unsigned long long)r->pending);
		n = output__top_processes(profs[PROF_OFFCPU], 1, top, TOP_N, &nprocs);
		print_top_text("top off-CPU processes", top, n, w->offcpu_ns, true);
	}
	if (r->governed) {
		char line[320];
		double cost = 0;

		for (int i = 0; i < WAITS_PROG__MAX; i++)
			cost += r->gov.cost_seconds[i];
		printf("  BPF cost:   kiln's lock and switch programs used %.3f s of CPU (%.2f%% of one "
		       "CPU; budget %.2g%%)\n", cost, r->seconds > 0 ? 100 * cost / r->seconds : 0,
		       100 * r->gov.budget);
		for (int s = 0; s < GOV_SRC__MAX; s++) {
			if (!r->gov.src[s].present)
				continue;
			governor__describe(&r->gov, s, line, sizeof(line));
			printf("              %s\n", line);
		}
	}
	if (profs[PROF_LOCK]) {
		uint64_t total = w->lock_ns;

		sort_locks(w);
		printf("  lock waits: %llu, %.3f ms in total (%llu without stack: < %ld us; "
		       "%llu in interrupts)\n",
		       (unsigned long long)r->wstats[KILN_WSTAT_LOCK_RECORDED], (double)total / 1e6,
		       (unsigned long long)r->wstats[KILN_WSTAT_LOCK_NO_STACK], o->lock_stack_min_us,
		       (unsigned long long)r->wstats[KILN_WSTAT_LOCK_IRQ]);
		if (w->nr_locks)
			printf("  top locks:    total ms     count    max us  lock\n");
		for (size_t i = 0; i < w->nr_locks && i < TOP_N; i++)
			printf("             %10.3f  %8llu  %8.1f  %s (%s)\n",
			       (double)w->locks[i].total_ns / 1e6,
			       (unsigned long long)w->locks[i].count,
			       (double)w->locks[i].max_ns / 1e3, w->locks[i].name, w->locks[i].kind);
		n = output__top_functions(profs[PROF_LOCK], 1, 1, top, TOP_N);
		print_top_text("top lock callers (by wait)", top, n, total, true);
	} else if (o->locks) {
		printf("  lock waits: not recorded (no lock:contention_begin/end on this kernel)\n");
	}
	print_unwind_text(r);
	flagreport__text(fr);
	for (size_t i = 0; i < r->nr_files; i++)
		printf("  %-12s %s\n", i + 1 == r->nr_files ? "flame graph:" : "wrote:", r->files[i]);
}

static void print_top_json(const struct top_entry *t, size_t n, uint64_t total, const char *unit)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, t[i].name);
		printf(",\"%s\":%llu,\"percent\":%.2f}", unit, (unsigned long long)t[i].value,
		       pct(t[i].value, total));
	}
	putchar(']');
}

/* "name":value pairs, each but the first after a comma */
static void print_counters_json(const char *const *names, const uint64_t *v, int n, bool first)
{
	for (int i = 0; i < n; i++)
		printf("%s\"%s\":%llu", first && !i ? "" : ",", names[i], (unsigned long long)v[i]);
}

static void print_governor_json(const struct governor_stats *g, double seconds)
{
	double cost = 0;

	printf(",\"governor\":{\"budget_cpu_percent\":%.3f,\"calibrations\":%u", 100 * g->budget,
	       g->calibrations);
	for (int s = 0; s < GOV_SRC__MAX; s++) {
		const struct governor_source_stats *o = &g->src[s];

		if (!o->present)
			continue;
		printf(",\"%s\":{\"mode\":\"%s\",\"engaged\":%s,\"recorded_fraction\":%.4f,"
		       "\"duty\":%.4f,\"scale_max\":%.3f,\"full_rate_cpu_percent\":%.3f}",
		       governor_source_names[s], o->exact ? "exact" : "auto",
		       o->engaged ? "true" : "false", o->recorded, o->duty, o->scale_max,
		       100 * o->full_cost_max);
	}
	printf(",\"programs\":[");
	for (int i = 0; i < WAITS_PROG__MAX; i++) {
		cost += g->cost_seconds[i];
		printf("%s{\"name\":\"%s\",\"runs\":%llu,\"ns_per_run\":%.1f,\"cost_seconds\":%.6f}",
		       i ? "," : "", governor_prog_names[i], (unsigned long long)g->runs[i],
		       g->ns_per_run[i], g->cost_seconds[i]);
	}
	printf("],\"cost_seconds\":%.6f,\"cost_cpu_percent\":%.3f}", cost,
	       seconds > 0 ? 100 * cost / seconds : 0);
}

static void print_json(const struct record_opts *o, const struct results *r,
		       struct pprof *const profs[NR_PROFS], const struct aggregate *cpu,
		       struct wait_aggregate *w, const struct flag_report *fr)
{
	static const char *const wstat_names[KILN_WSTAT__MAX] = {
		"switch_outs", "switch_ins", "blocks_recorded", "blocks_below_min",
		"unmatched_switch_ins", "stacks_cached", "stacks_walked", "lock_begins",
		"lock_waits_recorded", "lock_waits_without_stack", "lock_rebegins",
		"user_stacks_copied", "user_stacks_reused", "user_stack_copy_fallbacks",
		"lock_waits_in_interrupts", "lock_waits_cut", "lock_stacks_from_blocks", "blocks_cut",
	};
	struct top_entry top[TOP_N], procs[TOP_N];
	size_t nprocs = 0, nt = output__top_functions(profs[PROF_CPU], 0, 0, top, TOP_N);
	size_t np = output__top_processes(profs[PROF_CPU], 0, procs, TOP_N, &nprocs);

	printf("{\"duration_s\":%.3f,\"freq\":%ld,\"event\":\"%s\",\"cpus\":%d,"
	       "\"samples\":%llu,\"kernel_samples\":%llu,\"processes\":%zu,\"idle_samples\":%llu,"
	       "\"self_samples\":%llu,\"filtered_samples\":%llu,\"drops\":{", r->seconds, o->freq,
	       r->event, r->cpus, (unsigned long long)cpu->samples,
	       (unsigned long long)r->stats[KILN_STAT_SAMPLES], nprocs,
	       (unsigned long long)r->stats[KILN_STAT_IDLE],
	       (unsigned long long)r->stats[KILN_STAT_SELF],
	       (unsigned long long)r->stats[KILN_STAT_FILTERED]);
	print_counters_json(kiln_drop_names, r->drops, KILN_DROP__MAX, true);
	print_counters_json(kiln_wait_drop_names, r->wdrops, KILN_WDROP__MAX, false);
	printf(",\"agent_out_of_memory\":%llu,\"total\":%llu},\"top_functions\":",
	       (unsigned long long)r->lost_user, (unsigned long long)total_drops(r));
	print_top_json(top, nt, cpu->samples, "samples");
	printf(",\"top_processes\":");
	print_top_json(procs, np, cpu->samples, "samples");

	printf(",\"offcpu\":{\"enabled\":%s", profs[PROF_OFFCPU] ? "true" : "false");
	if (profs[PROF_OFFCPU]) {
		np = output__top_processes(profs[PROF_OFFCPU], 1, procs, TOP_N, &nprocs);
		printf(",\"attach\":\"%s\",\"total_ns\":%llu,\"blocks\":%llu,\"pending_at_stop\":%llu,"
		       "\"top_processes\":", r->switch_attach, (unsigned long long)w->offcpu_ns,
		       (unsigned long long)w->off.samples,
		       (unsigned long long)r->pending);
		print_top_json(procs, np, w->offcpu_ns, "ns");
	}
	printf("},\"locks\":{\"enabled\":%s", profs[PROF_LOCK] ? "true" : "false");
	if (profs[PROF_LOCK]) {
		uint64_t total = w->lock_ns;

		sort_locks(w);
		printf(",\"waits\":%llu,\"total_ns\":%llu,\"top_locks\":[",
		       (unsigned long long)w->lock.samples, (unsigned long long)total);
		for (size_t i = 0; i < w->nr_locks && i < TOP_N; i++) {
			printf("%s{\"lock\":", i ? "," : "");
			json_str(stdout, w->locks[i].name);
			printf(",\"kind\":\"%s\",\"count\":%llu,\"total_ns\":%llu,\"max_ns\":%llu}",
			       w->locks[i].kind, (unsigned long long)w->locks[i].count,
			       (unsigned long long)w->locks[i].total_ns,
			       (unsigned long long)w->locks[i].max_ns);
		}
		nt = output__top_functions(profs[PROF_LOCK], 1, 1, top, TOP_N);
		printf("],\"top_callers\":");
		print_top_json(top, nt, total, "ns");
	}
	printf("},");
	print_unwind_json(r);
	if (r->governed)
		print_governor_json(&r->gov, r->seconds);
	if (r->exact) {
		printf(",\"exact_dropped\":%llu,\"exact_locks\":[",
		       (unsigned long long)r->exact_dropped);
		for (size_t i = 0; i < r->nr_exact; i++) {
			const struct kiln_exact_key *e = &r->exact_key[i];
			struct kiln_lock_key k = { .lock = e->lock, .name = r->exact[i].name };
			char lb[40], thread[KILN_COMM_LEN + 1] = { 0 };

			memcpy(thread, r->exact[i].thread, KILN_COMM_LEN);
			printf("%s{\"lock\":\"%s\",\"tid\":%u,\"thread\":", i ? "," : "",
			       lock_label(&k, lb, sizeof(lb)), e->tid);
			json_str(stdout, thread);
			printf(",\"syscall\":%d,\"count\":%llu,\"total_ns\":%llu}", e->syscall,
			       (unsigned long long)r->exact[i].count,
			       (unsigned long long)r->exact[i].total_ns);
		}
		putchar(']');
	}
	putchar(',');
	flagreport__json(fr);
	printf(",\"wait_stats\":{");
	print_counters_json(wstat_names, r->wstats, KILN_WSTAT__MAX, true);
	{
		const struct symbolizer_stats *y = &r->sym;
		const char *const names[] = {
			"kernel_ok", "kernel_unknown", "user_ok", "user_unknown", "processes_gone",
			"debug_files_used", "debug_files_missing", "dwarf_files", "perf_maps_read",
			"perf_maps_skipped", "files_hit", "files_miss", "files_evicted",
			"file_bytes", "processes_hit", "processes_miss", "processes_evicted",
			"process_bytes", "kallsyms_reloads", "lines_hit", "lines_miss",
			"debuginfod_found", "debuginfod_failed", "dwarf_parses", "dwarf_too_big",
			"dwarf_budget_releases", "cfi_resets",
		};
		const uint64_t v[] = {
			y->kernel_ok, y->kernel_unknown, y->user_ok, y->user_unknown,
			y->processes_gone, y->debug_files_used, y->debug_files_missing,
			y->dwarf_files, y->perf_maps_read, y->perf_maps_skipped, y->files_hit,
			y->files_miss, y->files_evicted, y->file_bytes, y->processes_hit,
			y->processes_miss, y->processes_evicted, y->process_bytes,
			y->kallsyms_reloads, y->lines_hit, y->lines_miss, y->debuginfod_found,
			y->debuginfod_failed, y->dwarf_parses, y->dwarf_too_big,
			y->dwarf_budget_releases, y->cfi_resets,
		};

		printf("},\"symbolizer\":{");
		print_counters_json(names, v, (int)(sizeof(v) / sizeof(v[0])), true);
		printf("},\"files\":[");
	}
	for (size_t i = 0; i < r->nr_files; i++) {
		if (i)
			putchar(',');
		json_str(stdout, r->files[i]);
	}
	printf("]}\n");
}

static int write_outputs(const struct record_opts *o, struct results *r,
			 struct pprof *const profs[NR_PROFS])
{
	struct flame_view views[NR_PROFS];
	char title[128], subtitle[256], host[64] = "", done[512] = "";
	size_t nv = 0, failed_at = SIZE_MAX;
	int err, first_err = 0;

	gethostname(host, sizeof(host) - 1);
	snprintf(title, sizeof(title), "kiln: %s", host);
	snprintf(subtitle, sizeof(subtitle), "%.1f s at %ld Hz (%s)", r->seconds, o->freq, r->event);

	r->nr_files = 0;
	for (int i = 0; i < NR_PROFS; i++) {
		if (!profs[i])
			continue;
		views[nv++] = (struct flame_view){ prof_desc[i].name, prof_desc[i].label,
						   prof_desc[i].unit, profs[i], prof_desc[i].draw };
		for (int k = 0; k < 2; k++) {
			char *path = r->files[r->nr_files];

			snprintf(path, sizeof(r->files[0]), "%s/%s.%s", o->outdir, prof_desc[i].name,
				 k ? "folded" : "pb.gz");
			err = k ? output__folded(profs[i], prof_desc[i].draw, path) :
				  output__pprof_gz(profs[i], path);
			if (err && !first_err) {
				first_err = err;
				failed_at = r->nr_files;
			} else if (!err) {
				snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%s",
					 done[0] ? ", " : "", strrchr(path, '/') + 1);
			}
			r->nr_files++;
		}
	}
	snprintf(r->files[r->nr_files], sizeof(r->files[0]), "%s/flamegraph.html", o->outdir);
	err = output__flamegraph(views, nv, title, subtitle, r->files[r->nr_files]);
	if (err && !first_err) {
		first_err = err;
		failed_at = r->nr_files;
	} else if (!err) {
		snprintf(done + strlen(done), sizeof(done) - strlen(done), "%sflamegraph.html",
			 done[0] ? ", " : "");
	}
	r->nr_files++;
	if (first_err) {
		/* one line: what failed and why, and which files are complete */
		p_err("failed to write %s: %s (%s)", r->files[failed_at], strerror(-first_err),
		      done[0] ? done : "no file written");
		return KILN_EXIT_RUNTIME;
	}
	return 0;
}

static int new_profile(int which, int64_t period, struct pprof **out)
{
	struct pprof_opts popts = {
		.sample_types = prof_desc[which].types, .nr_sample_types = 2,
		.period_type = prof_desc[which].types[which == PROF_LOCK ? 0 : 1],
		.period = period, .time_nanos = now_real_ns(),
		.default_sample_type = prof_desc[which].types[1].type,
	};

	*out = pprof__new(&popts);
	if (!*out) {
		p_err("failed to create %s profile: %s", prof_desc[which].name, strerror(errno));
		return -errno;
	}
	return 0;
}

static int wait_entry(void *ctx, const struct wait_entry *e)
{
	return aggregate__wait_entry(ctx, e);
}

int cmd_record(int argc, char **argv, volatile sig_atomic_t *stop)
{
	struct record_opts o = {
		.freq = 99, .counts_max = 16384, .stacks_max = 16384, .drain_ms = 1000,
		.offcpu = true, .locks = true, .offcpu_min_us = 1, .lock_stack_min_us = 10, .bpf_budget = 0.01,
		.unwind = KILN_UNWIND_AUTO, .stack_bytes = 8192,
	};
	struct collect_opts copts;
	struct collector c = { 0 };
	bool opened = false;
	struct pprof *profs[NR_PROFS] = { 0 };
	struct aggregate cpu = { 0 };
	struct wait_aggregate *wa = NULL;
	struct flag_summary *flag_sums = NULL;
	struct results r = { 0 };
	struct flag_report fr;
	struct prog_run0 *run0 = NULL;
	size_t nr_run0 = 0;
	uint32_t sampler_prog_id = 0;
	bool stats_were_on = false;
	double busy0 = 0, busy1 = 0;
	int stats_fd = -1;
	uint64_t start, end, next_drain;
	char comment[256];
	int ret, err;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? KILN_EXIT_OK : ret;
	if (!o.outdir[0]) {
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(o.outdir, sizeof(o.outdir), "kiln-%Y%m%d-%H%M%S", &tm);
	}
	ret = check_pids(&o);
	if (ret)
		return ret;
	ret = prepare_outdir(o.outdir);
	if (ret)
		return ret;

	ret = KILN_EXIT_RUNTIME;
	copts = (struct collect_opts){
		.freq = o.freq, .per_thread = o.per_thread, .include_idle = o.include_idle,
		.filter = { .pids = o.pids, .nr_pids = o.nr_pids, .cgroups = o.cgroup_ptrs,
			    .nr_cgroups = o.nr_cgroups, .comms = o.comms, .nr_comms = o.nr_comms },
		.counts_max = (uint32_t)o.counts_max, .stacks_max = (uint32_t)o.stacks_max,
		.btf_path = o.btf_path, .offcpu = o.offcpu, .locks = o.locks,
		.offcpu_kthreads = o.offcpu_kthreads, .no_stack_cache = o.no_stack_cache,
		.offcpu_min_ns = (uint64_t)o.offcpu_min_us * 1000,
		.lock_stack_min_ns = (uint64_t)o.lock_stack_min_us * 1000,
		.debug_dir = o.debug_dir, .debuginfod = o.debuginfod,
		.debuginfod_timeout_ms = (unsigned int)(o.debuginfod_timeout_s ?
							o.debuginfod_timeout_s : 5) * 1000,
		.unwind = o.unwind, .stack_bytes = (uint32_t)o.stack_bytes,
		/* a recording is short: keep the busiest DWARF parsed, for CPU */
		.dwarf_keep = 2, .dwarf_hold_ms = DWARF_HOLD_MS, .max_dwarf_bytes = o.dwarf_bytes,
		.bpf_budget = o.bpf_budget, .locks_exact = o.locks_exact,
		.offcpu_exact = o.offcpu_exact,
		.lock_exact_check = o.lock_exact_check,
	};
	if (collector__open(&copts, &c))
		goto out;	/* it printed why */
	opened = true;
	o.offcpu = c.offcpu;
	o.locks = c.locks;
	r.switch_attach = c.switch_attach;
	wa = calloc(1, sizeof(*wa));
	flag_sums = calloc(3, sizeof(*flag_sums));	/* CPU, off-CPU, locks */
	if (!wa || !flag_sums || new_profile(PROF_CPU, 1000000000LL / o.freq, &profs[PROF_CPU]) ||
	    (o.offcpu && new_profile(PROF_OFFCPU, 1, &profs[PROF_OFFCPU])) ||
	    (o.locks && new_profile(PROF_LOCK, 1, &profs[PROF_LOCK])))
		goto out;
	if (o.bpf_stats) {
		stats_were_on = bpfprogs__stats_enabled();
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			p_err("failed to enable BPF stats: %s", strerror(errno));
			goto out;
		}
		/* the programs' run time from now on */
		bpfprogs__snapshot(&c.progs, true);
		run0 = calloc(c.progs.nr ? c.progs.nr : 1, sizeof(*run0));
		if (!run0)
			goto out;
		for (size_t i = 0; i < c.progs.nr; i++)
			run0[nr_run0++] = (struct prog_run0){ c.progs.progs[i].id,
				c.progs.progs[i].run_time_ns, c.progs.progs[i].run_cnt };
	}
	sampler_prog_id = sampler__prog_id(c.s);
	cpu.prof = profs[PROF_CPU];
	cpu.sym = c.sym;
	cpu.period = 1000000000LL / o.freq;
	cpu.per_thread = o.per_thread;
	cpu.progs = &c.progs;
	cpu.flags = &flag_sums[0];
	wa->off = (struct aggregate){ .prof = profs[PROF_OFFCPU], .sym = c.sym,
				      .per_thread = o.per_thread, .progs = &c.progs,
				      .flags = &flag_sums[1] };
	wa->lock = (struct aggregate){ .prof = profs[PROF_LOCK], .sym = c.sym,
				       .per_thread = o.per_thread, .progs = &c.progs,
				       .flags = &flag_sums[2] };
	r.event = sampler__event(c.s);
	r.cpus = sampler__nr_cpus(c.s);
	/* status on stderr in --json mode too: stdout stays pure JSON */
	fprintf(stderr, "kiln: sampling %s at %ld Hz with %s on %d CPUs%s%s%s\n",
			o.nr_pids || o.nr_cgroups || o.nr_comms ? "the selected processes" :
								  "all processes", o.freq, r.event, r.cpus,
			o.offcpu ? ", off-CPU" : "", o.locks ? ", lock waits" : "",
			o.duration_s ? "" : "; Ctrl-C to stop");

	start = now_mono_ns();
	cpu_busy_seconds(&busy0);
	end = o.duration_s ? start + (uint64_t)o.duration_s * 1000000000ULL : UINT64_MAX;
	next_drain = start + (uint64_t)o.drain_ms * 1000000ULL;
	while (!*stop) {
		uint64_t now = now_mono_ns();
		uint64_t wake = next_drain < end ? next_drain : end;
		int timeout = wake > now ? (int)((wake - now) / 1000000ULL) : 0;

		if (now >= end)
			break;
		/* sleeps until the next drain; a signal or a process event wakes it */
		err = collector__poll(&c, timeout);
		if (err) {
			p_err("failed to read process events: %s", strerror(-err));
			goto out;
		}
		if (now_mono_ns() >= next_drain) {
			err = collector__drain(&c, aggregate__entry, &cpu, wait_entry, wa);
			if (err)
				goto out;
			next_drain += (uint64_t)o.drain_ms * 1000000ULL;
			if (o.nr_pids && !any_alive(&o)) {
				fprintf(stderr, "kiln: every profiled process has exited\n");
				break;
			}
		}
	}
	/* the programs as they end the recording: run time, owners */
	bpfprogs__snapshot(&c.progs, true);
	if (cpu_busy_seconds(&busy1))
		busy1 = busy0;
	/* detach first: whatever was counted is then read by the last drain */
	if (collector__stop(&c))
		goto out;
	err = collector__drain(&c, aggregate__entry, &cpu, wait_entry, wa);
	if (err)
		goto out;
	r.seconds = (double)(now_mono_ns() - start) / 1e9;
	sampler__counters(c.s, r.drops, r.stats);
	sampler__unwind_stats(c.s, &r.ust);
	r.unwind = c.unwind;
	if (c.w) {
		uint64_t ended;

		waits__counters(c.w, r.wdrops, r.wstats);
		/* every switch-out ends as a matched switch-in or is still open */
		ended = r.wstats[KILN_WSTAT_SWITCH_IN];
		r.pending = r.wstats[KILN_WSTAT_SWITCH_OUT] > ended ?
			    r.wstats[KILN_WSTAT_SWITCH_OUT] - ended : 0;
	}
	r.locks = o.locks;
	if (c.gov) {
		governor__stats(c.gov, &r.gov);
		r.governed = true;
	}
	if (c.w && o.lock_exact_check) {
		r.exact_key = calloc(KILN_EXACT_MAX, sizeof(*r.exact_key));
		r.exact = calloc(KILN_EXACT_MAX, sizeof(*r.exact));
		if (!r.exact_key || !r.exact) {
			p_err("out of memory reading the exact lock counts");
			ret = KILN_EXIT_RUNTIME;
			goto out;
		}
		r.nr_exact = waits__exact_locks(c.w, r.exact_key, r.exact, KILN_EXACT_MAX,
						&r.exact_dropped);
	}
	r.lost_user = cpu.lost + wa->off.lost + wa->lock.lost;
	symbolizer__get_stats(c.sym, &r.sym);
	snprintf(comment, sizeof(comment), "kiln %s; event %s at %ld Hz; drops %llu",
		 KILN_VERSION, r.event, o.freq, (unsigned long long)total_drops(&r));
	for (int i = 0; i < NR_PROFS; i++) {
		if (!profs[i])
			continue;
		pprof__set_duration(profs[i], (int64_t)(now_mono_ns() - start));
		pprof__add_comment(profs[i], comment);
	}
	/* a comment, not a label: a label whose value changes is a new series */
	for (int s = 0; s < GOV_SRC__MAX && r.governed; s++) {
		struct pprof *p = profs[s == GOV_SRC_LOCKS ? PROF_LOCK : PROF_OFFCPU];
		char line[320];

		if (!p || !r.gov.src[s].engaged)
			continue;
		governor__describe(&r.gov, s, line, sizeof(line));
		pprof__add_comment(p, line);
	}

	ret = write_outputs(&o, &r, profs);
	if (ret)
		goto out;
	fr = (struct flag_report){
		.cpu = &cpu, .lock = profs[PROF_LOCK] ? &wa->lock : NULL,
		.off = profs[PROF_OFFCPU] ? &wa->off : NULL, .lock_ns = wa->lock_ns,
		.progs = &c.progs, .event = r.event,
		.seconds = r.seconds, .cpus = r.cpus, .period_ns = cpu.period,
		.sampler_prog_id = sampler_prog_id, .bpf_stats = stats_fd >= 0,
		.sampler_runs = r.stats[KILN_STAT_SAMPLES] + r.stats[KILN_STAT_SELF] +
				r.stats[KILN_STAT_FILTERED],
		.sampler_expected = (double)o.freq * (busy1 - busy0),
		.bpf_stats_already_on = stats_were_on, .run0 = run0, .nr_run0 = nr_run0,
	};
	if (o.json)
		print_json(&o, &r, profs, &cpu, wa, &fr);
	else
		print_text(&o, &r, profs, &cpu, wa, &fr);
	ret = KILN_EXIT_OK;
out:
	if (opened)
		collector__close(&c);
	for (int i = 0; i < NR_PROFS; i++)
		pprof__free(profs[i]);
	wait_aggregate__release(wa);
	free(wa);
	free(flag_sums);
	free(run0);
	free(r.exact_key);
	free(r.exact);
	if (stats_fd >= 0)
		close(stats_fd);
	return ret;
}
