// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kiln record: sample on-CPU stacks for a while, then write pprof, folded
 * stacks and a flame graph into a directory. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "aggregate.h"
#include "kfeatures.h"
#include "output.h"
#include "record.h"
#include "sampler.h"
#include "symbolizer.h"
#include "util.h"

#define MAX_PIDS 1024
#define TOP_N 10

struct record_opts {
	long freq;
	long duration_s;		/* 0: until stopped */
	uint32_t pids[MAX_PIDS];
	size_t nr_pids;
	char outdir[4096];
	bool per_thread;
	bool include_idle;
	bool json;
	const char *btf_path;
	long counts_max;
	long stacks_max;
	long drain_ms;
};

static const char usage_text[] =
"Usage: kiln record [OPTIONS]\n"
"\n"
"Sample on-CPU stacks (kernel and user) of the whole host, or of the given\n"
"processes, then write into the output directory:\n"
"  cpu.pb.gz        gzipped pprof (go tool pprof, Pyroscope, Grafana)\n"
"  cpu.folded       folded stacks (flamegraph.pl, inferno, speedscope)\n"
"  flamegraph.html  self-contained interactive flame graph\n"
"\n"
"Options:\n"
"  -F, --freq HZ            samples per second on each CPU (default 99, 1-10000,\n"
"                           at most kernel.perf_event_max_sample_rate)\n"
"  -d, --duration SECONDS   stop after SECONDS (default: until Ctrl-C or SIGTERM)\n"
"  -p, --pid PID            profile only process PID (repeat for more); stops\n"
"                           when all of them have exited\n"
"  -o, --output DIR         output directory (default: kiln-YYYYmmdd-HHMMSS)\n"
"      --per-thread         add thread id and thread name to every sample\n"
"      --include-idle       keep samples of the idle task (skipped by default)\n"
"      --json               print the summary as JSON on stdout\n"
"      --btf FILE           kernel BTF to use instead of /sys/kernel/btf/vmlinux\n"
"      --count-map-size N   in-kernel aggregation entries (default 16384)\n"
"      --stack-map-size N   in-kernel stack map entries (default 16384)\n"
"      --drain-interval MS  how often the in-kernel maps are drained (default 1000)\n"
"  -v, --verbose            more diagnostics (repeat for libbpf's)\n"
"  -h, --help               show this help\n"
"\n"
"Exit status: 0 when the recording ended (also by Ctrl-C/SIGTERM) and every\n"
"file was written; 1 on a runtime error; 2 on a usage error.\n";

static int usage_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	p_err("%s (see 'kiln record --help')", msg);
	return KILN_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct record_opts *o)
{
	enum { OPT_PER_THREAD = 256, OPT_IDLE, OPT_JSON, OPT_BTF, OPT_COUNTS, OPT_STACKS, OPT_DRAIN };
	static const struct option longopts[] = {
		{ "freq", required_argument, NULL, 'F' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "per-thread", no_argument, NULL, OPT_PER_THREAD },
		{ "include-idle", no_argument, NULL, OPT_IDLE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "count-map-size", required_argument, NULL, OPT_COUNTS },
		{ "stack-map-size", required_argument, NULL, OPT_STACKS },
		{ "drain-interval", required_argument, NULL, OPT_DRAIN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, max_rate;
	long v;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":F:d:p:o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (parse_long(optarg, 1, 10000, &o->freq))
				return usage_error("invalid frequency '%s': expected 1-10000 Hz", optarg);
			break;
		case 'd':
			if (parse_long(optarg, 1, 7 * 24 * 3600, &o->duration_s))
				return usage_error("invalid duration '%s': expected 1-604800 seconds", optarg);
			break;
		case 'p':
			if (parse_long(optarg, 1, 0x7fffffff, &v))
				return usage_error("invalid pid '%s'", optarg);
			if (o->nr_pids == MAX_PIDS)
				return usage_error("too many pids (at most %s)", "1024");
			o->pids[o->nr_pids++] = (uint32_t)v;
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
		case 'v':
			kiln_verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);

	max_rate = features__max_sample_rate();
	if (max_rate > 0 && o->freq > max_rate) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%ld", o->freq);
		p_err("frequency %s Hz is above kernel.perf_event_max_sample_rate (%d) "
		      "(see 'kiln record --help')", buf, max_rate);
		return KILN_EXIT_USAGE;
	}
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

static void sym_log(void *ctx, enum sym_log_level level, const char *msg)
{
	(void)ctx;
	if (level == SYM_LOG_WARN)
		p_warn("%s", msg);
	else if (level == SYM_LOG_INFO)
		p_info("%s", msg);
	else
		p_debug("%s", msg);
}

static void on_process(void *ctx, uint32_t tgid, const char *comm)
{
	symbolizer__note_process(ctx, tgid, comm);
}

struct results {
	double seconds;
	const char *event;
	int cpus;
	uint64_t drops[KILN_DROP__MAX];
	uint64_t stats[KILN_STAT__MAX];
	uint64_t lost_user;		/* samples the agent failed to add */
	struct symbolizer_stats sym;
	char files[3][4200];
	bool written[3];
};

static uint64_t total_drops(const struct results *r)
{
	uint64_t t = r->lost_user;

	for (int i = 0; i < KILN_DROP__MAX; i++)
		t += r->drops[i];
	return t;
}

static void print_text(const struct record_opts *o, const struct results *r,
		       const struct pprof *p, uint64_t samples)
{
	struct top_entry top[TOP_N], procs[TOP_N];
	size_t nprocs = 0, nt = output__top_functions(p, 0, top, TOP_N);
	size_t np = output__top_processes(p, 0, procs, TOP_N, &nprocs);

	printf("kiln: recorded %.1f s at %ld Hz (%s) on %d CPUs\n", r->seconds, o->freq,
	       r->event, r->cpus);
	printf("  samples:    %llu in %zu processes (skipped: %llu idle, %llu kiln)\n",
	       (unsigned long long)samples, nprocs,
	       (unsigned long long)r->stats[KILN_STAT_IDLE],
	       (unsigned long long)r->stats[KILN_STAT_SELF]);
	if (!total_drops(r)) {
		printf("  drops:      none\n");
	} else {
		printf("  drops:     ");
		for (int i = 0; i < KILN_DROP__MAX; i++)
			if (r->drops[i])
				printf(" %s=%llu", kiln_drop_names[i], (unsigned long long)r->drops[i]);
		if (r->lost_user)
			printf(" agent_out_of_memory=%llu", (unsigned long long)r->lost_user);
		printf("\n");
	}
	if (nt)
		printf("  top functions (self):\n");
	for (size_t i = 0; i < nt; i++)
		printf("    %6.2f%%  %8llu  %s\n", samples ? 100.0 * (double)top[i].value / (double)samples : 0,
		       (unsigned long long)top[i].value, top[i].name);
	if (np)
		printf("  top processes:\n");
	for (size_t i = 0; i < np; i++)
		printf("    %6.2f%%  %8llu  %s\n", samples ? 100.0 * (double)procs[i].value / (double)samples : 0,
		       (unsigned long long)procs[i].value, procs[i].name);
	printf("  pprof:       %s\n  folded:      %s\n  flame graph: %s\n",
	       r->files[0], r->files[1], r->files[2]);
}

static void print_top_json(const struct top_entry *t, size_t n, uint64_t samples)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, t[i].name);
		printf(",\"samples\":%llu,\"percent\":%.2f}", (unsigned long long)t[i].value,
		       samples ? 100.0 * (double)t[i].value / (double)samples : 0.0);
	}
	putchar(']');
}

static void print_json(const struct record_opts *o, const struct results *r,
		       const struct pprof *p, uint64_t samples)
{
	struct top_entry top[TOP_N], procs[TOP_N];
	size_t nprocs = 0, nt = output__top_functions(p, 0, top, TOP_N);
	size_t np = output__top_processes(p, 0, procs, TOP_N, &nprocs);
	static const char *file_keys[3] = { "pprof", "folded", "flamegraph" };

	printf("{\"duration_s\":%.3f,\"freq\":%ld,\"event\":\"%s\",\"cpus\":%d,"
	       "\"samples\":%llu,\"kernel_samples\":%llu,\"processes\":%zu,\"idle_samples\":%llu,"
	       "\"self_samples\":%llu,\"drops\":{", r->seconds, o->freq, r->event, r->cpus,
	       (unsigned long long)samples, (unsigned long long)r->stats[KILN_STAT_SAMPLES], nprocs,
	       (unsigned long long)r->stats[KILN_STAT_IDLE],
	       (unsigned long long)r->stats[KILN_STAT_SELF]);
	for (int i = 0; i < KILN_DROP__MAX; i++)
		printf("\"%s\":%llu,", kiln_drop_names[i], (unsigned long long)r->drops[i]);
	printf("\"agent_out_of_memory\":%llu,\"total\":%llu},\"top_functions\":",
	       (unsigned long long)r->lost_user, (unsigned long long)total_drops(r));
	print_top_json(top, nt, samples);
	printf(",\"top_processes\":");
	print_top_json(procs, np, samples);
	printf(",\"symbolizer\":{\"kernel_ok\":%llu,\"kernel_unknown\":%llu,\"user_ok\":%llu,"
	       "\"user_unknown\":%llu,\"processes_gone\":%llu},\"files\":{",
	       (unsigned long long)r->sym.kernel_ok, (unsigned long long)r->sym.kernel_unknown,
	       (unsigned long long)r->sym.user_ok, (unsigned long long)r->sym.user_unknown,
	       (unsigned long long)r->sym.processes_gone);
	for (int i = 0; i < 3; i++) {
		printf("%s\"%s\":", i ? "," : "", file_keys[i]);
		json_str(stdout, r->files[i]);
	}
	printf("}}\n");
}

static int write_outputs(const struct record_opts *o, struct results *r, struct pprof *prof)
{
	static const char *names[3] = { "cpu.pb.gz", "cpu.folded", "flamegraph.html" };
	struct flame_view view = { "cpu", "CPU", "samples", prof, 0 };
	char title[128], subtitle[256], host[64] = "";
	int err, errs[3], failed = 0;

	for (int i = 0; i < 3; i++)
		snprintf(r->files[i], sizeof(r->files[i]), "%s/%s", o->outdir, names[i]);
	gethostname(host, sizeof(host) - 1);
	snprintf(title, sizeof(title), "kiln: %s", host);
	snprintf(subtitle, sizeof(subtitle), "%.1f s at %ld Hz (%s)", r->seconds, o->freq, r->event);

	for (int i = 0; i < 3; i++) {
		if (i == 0)
			err = output__pprof_gz(prof, r->files[0]);
		else if (i == 1)
			err = output__folded(prof, 0, r->files[1]);
		else
			err = output__flamegraph(&view, 1, title, subtitle, r->files[2]);
		r->written[i] = !err;
		errs[i] = err;
		if (err)
			failed++;
	}
	if (failed) {
		/* one line: what failed and why, and which files are complete */
		char done[128] = "";

		for (int i = 0; i < 3; i++)
			if (r->written[i])
				snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%s",
					 done[0] ? ", " : "", names[i]);
		for (int i = 0; i < 3; i++)
			if (errs[i]) {
				p_err("failed to write %s: %s (%s)", r->files[i], strerror(-errs[i]),
				      done[0] ? done : "no file written");
				break;
			}
		return KILN_EXIT_RUNTIME;
	}
	return 0;
}

int cmd_record(int argc, char **argv, volatile sig_atomic_t *stop)
{
	struct record_opts o = {
		.freq = 99, .counts_max = 16384, .stacks_max = 16384, .drain_ms = 1000,
	};
	struct symbolizer_opts sopts = { .log = sym_log };
	struct value_types { struct pprof_value_type t[2]; } vt = { {
		{ "samples", "count" }, { "cpu", "nanoseconds" } } };
	struct pprof_opts popts = { 0 };
	struct sampler_opts sampler_opts = { 0 };
	struct aggregate agg = { 0 };
	struct symbolizer *sym = NULL;
	struct sampler *s = NULL;
	struct pprof *prof = NULL;
	struct results r = { 0 };
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
	sopts.log_level = kiln_verbose >= 2 ? SYM_LOG_DEBUG :
			  kiln_verbose == 1 ? SYM_LOG_INFO : SYM_LOG_WARN;
	sym = symbolizer__new(&sopts);
	if (!sym) {
		p_err("failed to read /proc/kallsyms: %s%s", strerror(errno),
		      errno == EPERM ? " (addresses hidden by kernel.kptr_restrict; need root or CAP_SYSLOG)" : "");
		goto out;
	}

	popts.sample_types = vt.t;
	popts.nr_sample_types = 2;
	popts.period_type = vt.t[1];
	popts.period = 1000000000LL / o.freq;
	popts.time_nanos = now_real_ns();
	popts.default_sample_type = "cpu";
	prof = pprof__new(&popts);
	if (!prof) {
		p_err("failed to create profile: %s", strerror(errno));
		goto out;
	}

	sampler_opts.freq = (int)o.freq;
	sampler_opts.per_thread = o.per_thread;
	sampler_opts.include_idle = o.include_idle;
	sampler_opts.pids = o.nr_pids ? o.pids : NULL;
	sampler_opts.nr_pids = o.nr_pids;
	sampler_opts.counts_max = (uint32_t)o.counts_max;
	sampler_opts.stacks_max = (uint32_t)o.stacks_max;
	sampler_opts.btf_path = o.btf_path;
	sampler_opts.on_process = on_process;
	sampler_opts.ctx = sym;
	err = sampler__open(&sampler_opts, &s);
	if (err)
		goto out;	/* sampler printed why */

	agg.prof = prof;
	agg.sym = sym;
	agg.period = popts.period;
	agg.per_thread = o.per_thread;
	r.event = sampler__event(s);
	r.cpus = sampler__nr_cpus(s);
	if (!o.json)
		fprintf(stderr, "kiln: sampling %s at %ld Hz with %s on %d CPUs%s\n",
			o.nr_pids ? "the given processes" : "all processes", o.freq, r.event, r.cpus,
			o.duration_s ? "" : "; Ctrl-C to stop");

	start = now_mono_ns();
	end = o.duration_s ? start + (uint64_t)o.duration_s * 1000000000ULL : UINT64_MAX;
	next_drain = start + (uint64_t)o.drain_ms * 1000000ULL;
	while (!*stop) {
		uint64_t now = now_mono_ns();
		uint64_t wake = next_drain < end ? next_drain : end;
		int timeout = wake > now ? (int)((wake - now) / 1000000ULL) : 0;

		if (now >= end)
			break;
		/* sleeps until the next drain; a signal or a process event wakes it */
		err = sampler__poll(s, timeout);
		if (err) {
			p_err("failed to read process events: %s", strerror(-err));
			goto out;
		}
		if (now_mono_ns() >= next_drain) {
			err = sampler__drain(s, aggregate__entry, &agg);
			if (err)
				goto out;
			next_drain += (uint64_t)o.drain_ms * 1000000ULL;
			if (o.nr_pids && !any_alive(&o)) {
				if (!o.json)
					fprintf(stderr, "kiln: every profiled process has exited\n");
				break;
			}
		}
	}
	sampler__stop(s);
	sampler__poll(s, 0);
	err = sampler__drain(s, aggregate__entry, &agg);
	if (err)
		goto out;
	r.seconds = (double)(now_mono_ns() - start) / 1e9;
	pprof__set_duration(prof, (int64_t)(now_mono_ns() - start));
	sampler__counters(s, r.drops, r.stats);
	r.lost_user = agg.lost;
	symbolizer__get_stats(sym, &r.sym);
	snprintf(comment, sizeof(comment), "kiln %s; event %s at %ld Hz; drops %llu",
		 KILN_VERSION, r.event, o.freq, (unsigned long long)total_drops(&r));
	pprof__add_comment(prof, comment);

	ret = write_outputs(&o, &r, prof);
	if (ret)
		goto out;
	if (o.json)
		print_json(&o, &r, prof, agg.samples);
	else
		print_text(&o, &r, prof, agg.samples);
	ret = KILN_EXIT_OK;
out:
	sampler__close(s);
	pprof__free(prof);
	symbolizer__free(sym);
	return ret;
}
