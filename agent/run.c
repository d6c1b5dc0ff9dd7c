// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `kiln run`: profile continuously and upload one pprof per profile type and
 * service every interval to a Pyroscope-compatible server.
 *
 * The main thread samples, drains and encodes; an upload thread sends what is
 * queued (the spool), so sampling never waits for the network. Failed sends
 * that may succeed later (no connection, 408, 429, 5xx) stay at the head of the
 * spool and are retried with exponential backoff and jitter, honouring
 * Retry-After; the spool is bounded in bytes (oldest dropped first, counted)
 * and profiles older than the server accepts are dropped, counted. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "aggregate.h"
#include "cgroup.h"
#include "collect.h"
#include "governor.h"
#include "config.h"
#include "spooldir.h"
#include "hostwatch.h"
#include "metrics.h"
#include "run.h"
#include "upload.h"
#include "util.h"

#define MAX_PIDS 1024
#define MAX_LABELS 16
#define MAX_SERVICES 256		/* per interval; more go to OTHER_SERVICE */
#define OTHER_SERVICE "kiln-other"
#define SVC_CACHE_SLOTS 2048		/* tgid -> service name; a miss reads /proc/PID/cgroup */
#define K8S_ENTRIES 64			/* containers and pods whose names are known */
#define K8S_RETRY_NS (30ULL * 1000000000ULL)	/* a link not there yet: look again after */
#define MAX_AGE_NS (3600ULL * 1000000000ULL)	/* the server's default window */
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS (5 * 60 * 1000)

enum { T_CPU, T_OFFCPU, T_LOCK, NR_TYPES };

/* What each profile type uploads as: __name__, and the pprof it is built as. */
static const struct {
	const char *name;		/* __name__ */
	struct pprof_value_type types[2];
	int period_type;		/* index into types */
} type_desc[NR_TYPES] = {
	[T_CPU] = { "process_cpu", { { "samples", "count" }, { "cpu", "nanoseconds" } }, 1 },
	[T_OFFCPU] = { "offcpu", { { "switches", "count" }, { "offcpu", "nanoseconds" } }, 1 },
	[T_LOCK] = { "block", { { "contentions", "count" }, { "delay", "nanoseconds" } }, 0 },
};

struct run_opts {
	const char *server;
	enum upload_api api;
	long interval_s;
	long duration_s;		/* 0: until SIGTERM */
	long freq;
	const char *app_name;
	const char *hostname;		/* NULL: gethostname() */
	const char *btf_path;		/* NULL: /sys/kernel/btf/vmlinux */
	const char *k8s_logs;		/* the kubelet's log links; NULL: off */
	struct upload_label labels[MAX_LABELS];
	size_t nr_labels;
	uint32_t pids[MAX_PIDS];
	size_t nr_pids;
	char cgroups[KILN_MAX_CGROUPS][512];
	const char *cgroup_ptrs[KILN_MAX_CGROUPS];
	size_t nr_cgroups;
	const char *comms[KILN_MAX_COMMS];
	size_t nr_comms;
	bool offcpu, locks;
	bool pid_labels;
	const char *tenant_id;
	const char *basic_auth_file, *bearer_token_file;
	const char *ca_file, *cert_file, *key_file;
	bool insecure;
	long spool_mb;
	const char *spool_dir;
	long flush_timeout_s;
	long upload_timeout_s;
	long drain_ms;
	const char *metrics_addr;	/* NULL: no endpoint */
	enum kiln_unwind_mode unwind;
	size_t dwarf_bytes;
	bool check_config;
	bool alerts;
	const char *alertmanager_url;
	struct {			/* Alertmanager's own HTTP options */
		const char *basic_auth_file, *bearer_token_file;
		const char *ca_file, *cert_file, *key_file;
		bool insecure;
		long timeout_s;
	} am;
	double alert_floor[ALERT__MAX];	/* < 0: the default */
	double alert_factor;		/* < 0: the default */
	struct alert_opts alert;	/* from the above, after parsing */
	bool locks_exact, offcpu_exact;
	double bpf_budget;		/* fraction of one CPU */
};

/* One service's profiles for the current interval. */
struct service {
	char name[128];
	char labels[448];		/* "k=v" lines: namespace, pod, container */
	struct aggregate cpu;
	struct wait_aggregate *wa;
	struct pprof *profs[NR_TYPES];
};

struct svc_slot {
	uint32_t tgid;
	char comm[16];
	char name[128];
	uint32_t k8s_key;		/* hash of the container or pod it was found in */
	uint8_t k8s;			/* 1 + index in run.k8s; 0: not in Kubernetes */
};

/* The Kubernetes names of one container (or pod) and the labels they give. */
struct k8s_entry {
	uint32_t key;			/* hash of the container id, else the pod UID */
	bool found;
	uint64_t looked_ns;		/* not found: when, to look again later */
	char name[128];			/* service name: namespace/container */
	char labels[448];
};

/* A profile waiting to be sent. */
struct spool_item {
	struct spool_item *next;
	int type;
	char service[128];
	char labels[448];		/* "k=v" lines added to the series (Kubernetes) */
	int64_t from_ns, until_ns;
	size_t len;			/* profile bytes, counted against the spool's bound */
	unsigned int attempts;
	char *path;			/* in --spool-dir: the profile is there, not in data */
	uint8_t data[];
};

struct run_stats {
	uint64_t uploads_ok, uploads_failed, uploads_retried;
	uint64_t bytes_sent;
	uint64_t dropped_spool_full, dropped_too_old, dropped_at_exit;
	uint64_t dropped_unreadable;	/* spooled files gone or damaged */
	uint64_t spool_write_failed;	/* kept in memory instead */
	uint64_t resumed;		/* spooled by an earlier run */
	uint64_t profiles_queued;
	uint64_t services_overflow;	/* samples of services past MAX_SERVICES */
	uint64_t queued_values[NR_TYPES][2];	/* sums of the profiles queued */
};

struct run {
	struct run_opts o;
	struct config_args args;	/* what r->o points into */
	struct collector c;
	char hostname[256];
	struct service *svcs;
	size_t nr_svcs;
	struct svc_slot *svc_cache;
	struct k8s_entry k8s[K8S_ENTRIES];
	unsigned int k8s_next;		/* round robin replacement */
	int64_t interval_start_ns;
	/* the spool, shared with the upload thread */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct spool_item *head, *tail;
	struct spool_item *sending;	/* the head, while the thread sends it */
	size_t spool_bytes, spool_max;
	uint64_t spool_seq;
	bool spool_write_warned;
	bool stopping;			/* no more items: send what is left, then end */
	uint64_t flush_deadline_ns;
	struct run_stats st;
	long last_status_logged;
	struct uploader *up;
	struct upload_label labels[MAX_LABELS + 1];	/* hostname + --label */
	size_t nr_labels;
	struct metrics *metrics;
	uint64_t lock_waits, lock_wait_ns, offcpu_ns;	/* drained so far */
	struct hostwatch *hw;
	struct alertsend *am;		/* NULL: no Alertmanager */
};

static const char usage_text[] =
"Usage: kiln run --server URL [OPTIONS]\n"
"\n"
"Profile continuously (on-CPU, off-CPU, lock contention) and upload one pprof per\n"
"profile type and service every interval to a Pyroscope-compatible server.\n"
"Profile types: process_cpu (samples/count, cpu/nanoseconds), offcpu\n"
"(switches/count, offcpu/nanoseconds), block (contentions/count,\n"
"delay/nanoseconds), as Pyroscope lists them: process_cpu:cpu:nanoseconds:cpu:\n"
"nanoseconds, offcpu:offcpu:nanoseconds:offcpu:nanoseconds,\n"
"block:delay:nanoseconds:contentions:count, ...\n"
"\n"
"Options:\n"
"      --server URL         server base URL (http:// or https://)\n"
"      --api push|ingest    push: Connect POST /push.v1.PusherService/Push\n"
"                           (default); ingest: legacy POST /ingest\n"
"      --upload-interval S  seconds per profile (default 15, 1-3600)\n"
"      --app-name NAME      service_name of every profile; default: per process,\n"
"                           container-<id> in a container, else its systemd\n"
"                           service without .service, else its command name\n"
"      --label K=V          add a label to every profile (repeat, up to 16)\n"
"      --k8s-logs DIR       Kubernetes: name containers from the kubelet's log\n"
"                           links in DIR/containers and DIR/pods (default\n"
"                           /var/log; 'off'): service_name namespace/container,\n"
"                           labels namespace, pod, container\n"
"      --hostname NAME      the hostname label (default: the host's name; in a\n"
"                           pod, set it to the node's name)\n"
"      --upload-pid-labels  keep pid/comm (tid/thread with --per-thread) sample\n"
"                           labels; off by default: each value is a series\n"
"  -p, --pid PID            profile only process PID (repeat)\n"
"      --cgroup PATH        profile only tasks in cgroup v2 directory PATH and\n"
"                           below (absolute, or under /sys/fs/cgroup; repeat)\n"
"      --comm NAME          profile only processes named NAME (repeat)\n"
"  -F, --freq HZ            samples per second on each CPU (default 99)\n"
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
"      --unwind MODE        auto (default), fp or dwarf (see 'kiln record --help')\n"
"      --drain-interval MS  how often the in-kernel maps are read and symbolized\n"
"                           (default 5000, at most the upload interval)\n"
"      --btf FILE           kernel BTF to use instead of /sys/kernel/btf/vmlinux\n"
"      --dwarf-mb N         memory for parsed DWARF (source lines, inlined\n"
"                           frames), all files together (default 1; 0: no\n"
"                           bound); bigger files keep their symbols only.\n"
"                           It is held while a drain runs: RSS rises by\n"
"                           N and libdw's own tables then\n"
"      --tenant-id ID       X-Scope-OrgID header (multi-tenant servers)\n"
"      --basic-auth-file F  'user:password' for basic auth, read from file F\n"
"      --bearer-token-file F  bearer token, read from file F\n"
"      --ca-file F          CA bundle to verify the server with\n"
"      --cert-file F, --key-file F  client certificate and key\n"
"      --insecure           do not verify the server's certificate\n"
"      --spool-mb N         profiles kept while the server is unreachable\n"
"                           (default 16 MiB; oldest dropped first, counted)\n"
"      --spool-dir DIR      keep them in files in DIR instead (bounded by\n"
"                           --spool-mb): what is unsent at exit is sent by\n"
"                           the next start\n"
"      --flush-timeout S    at SIGTERM, seconds to send what is queued (default 10)\n"
"      --upload-timeout S   give up on one request after S seconds (default 30;\n"
"                           retried like a lost connection)\n"
"      --metrics-addr HOST:PORT  serve Prometheus metrics at /metrics (default\n"
"                           127.0.0.1:9741; 'off' for none)\n"
"      --no-alerts          do not look for spikes (the series stay in /metrics)\n"
"      --alertmanager-url URL  also POST alerts to Alertmanager's /api/v2/alerts\n"
"                           (from a thread of its own: a slow Alertmanager\n"
"                           delays neither drains nor uploads)\n"
"      --alertmanager-basic-auth-file F, --alertmanager-bearer-token-file F,\n"
"      --alertmanager-ca-file F, --alertmanager-cert-file F,\n"
"      --alertmanager-key-file F, --alertmanager-insecure  as the options\n"
"                           above, for Alertmanager (Pyroscope's are never\n"
"                           sent to it)\n"
"      --alertmanager-timeout S  give up on one POST after S seconds (default 3;\n"
"                           retried up to 3 times, then dropped, counted)\n"
"      --alert-factor X     a figure alerts above X times its rolling median\n"
"                           (default 3) and above its floor:\n"
"      --alert-spinlock-floor R  CPU share in spinlock slowpaths (default 0.02)\n"
"      --alert-kprobe-floor R    CPU share in kprobe machinery, alerting with no\n"
"                           baseline (default 0.001)\n"
"      --alert-bpf-floor R  CPU share of one BPF program (default 0.02)\n"
"      --alert-lock-floor S seconds waited per second on one lock (default 0.1)\n"
"  -d, --duration S         stop after S seconds (default: until SIGTERM/Ctrl-C)\n"
"      --config FILE        read options from FILE (default $KILN_CONFIG, else\n"
"                           " KILN_CONFIG_DEFAULT " if it exists)\n"
"      --check-config       check the options and files they name, print what\n"
"                           would run, and exit\n"
"  -v, --verbose            more diagnostics\n"
"  -h, --help               show this help\n"
"\n"
"Config file: INI, one 'option = value' per line (long option names without\n"
"the dashes; flags take true or false; repeat 'label' for several), optionally\n"
"under [run]. Environment: KILN_<OPTION>, e.g. KILN_SERVER, KILN_UPLOAD_INTERVAL.\n"
"The command line overrides the environment, which overrides the file;\n"
"repeatable options (label, pid) add up.\n"
"\n"
"Exit status: 0 after a stop (signal or --duration); 1 on a runtime error or an\n"
"unreadable file (config, credentials, TLS); 2 on a usage or config error. An\n"
"unreachable server is not an error: kiln warns and retries.\n";

static int usage_error(const char *fmt, const char *arg)
{
	return usage_error_cmd("run", fmt, arg);
}

enum { OPT_SERVER = 256, OPT_API, OPT_INTERVAL, OPT_APP, OPT_LABEL, OPT_PIDLABELS,
       OPT_NO_OFFCPU, OPT_NO_LOCKS, OPT_LOCKS_MODE, OPT_OFFCPU_MODE, OPT_BPF_BUDGET, OPT_UNWIND, OPT_TENANT, OPT_BASIC, OPT_BEARER,
       OPT_CA, OPT_CERT, OPT_KEY, OPT_INSECURE, OPT_SPOOL, OPT_FLUSH, OPT_METRICS,
       OPT_DWARF_MB, OPT_CONFIG, OPT_CHECK_CONFIG, OPT_UPLOAD_TIMEOUT, OPT_CGROUP, OPT_COMM,
       OPT_SPOOL_DIR, OPT_DRAIN, OPT_NO_ALERTS, OPT_AM_URL, OPT_AM_BASIC, OPT_AM_BEARER,
       OPT_AM_CA, OPT_AM_CERT, OPT_AM_KEY, OPT_AM_INSECURE, OPT_AM_TIMEOUT, OPT_ALERT_FACTOR,
       OPT_FLOOR_SPIN, OPT_FLOOR_KPROBE, OPT_FLOOR_BPF, OPT_FLOOR_LOCK, OPT_HOSTNAME, OPT_BTF, OPT_K8S_LOGS };
static const struct option longopts[] = {
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "api", required_argument, NULL, OPT_API },
	{ "upload-interval", required_argument, NULL, OPT_INTERVAL },
	{ "app-name", required_argument, NULL, OPT_APP },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "k8s-logs", required_argument, NULL, OPT_K8S_LOGS },
	{ "upload-pid-labels", no_argument, NULL, OPT_PIDLABELS },
	{ "pid", required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "comm", required_argument, NULL, OPT_COMM },
	{ "freq", required_argument, NULL, 'F' },
	{ "no-off-cpu", no_argument, NULL, OPT_NO_OFFCPU },
	{ "no-locks", no_argument, NULL, OPT_NO_LOCKS },
	{ "locks", required_argument, NULL, OPT_LOCKS_MODE },
	{ "offcpu", required_argument, NULL, OPT_OFFCPU_MODE },
	{ "bpf-budget", required_argument, NULL, OPT_BPF_BUDGET },
	{ "unwind", required_argument, NULL, OPT_UNWIND },
	{ "dwarf-mb", required_argument, NULL, OPT_DWARF_MB },
	{ "tenant-id", required_argument, NULL, OPT_TENANT },
	{ "basic-auth-file", required_argument, NULL, OPT_BASIC },
	{ "bearer-token-file", required_argument, NULL, OPT_BEARER },
	{ "ca-file", required_argument, NULL, OPT_CA },
	{ "cert-file", required_argument, NULL, OPT_CERT },
	{ "key-file", required_argument, NULL, OPT_KEY },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "spool-mb", required_argument, NULL, OPT_SPOOL },
	{ "spool-dir", required_argument, NULL, OPT_SPOOL_DIR },
	{ "flush-timeout", required_argument, NULL, OPT_FLUSH },
	{ "upload-timeout", required_argument, NULL, OPT_UPLOAD_TIMEOUT },
	{ "drain-interval", required_argument, NULL, OPT_DRAIN },
	{ "metrics-addr", required_argument, NULL, OPT_METRICS },
	{ "no-alerts", no_argument, NULL, OPT_NO_ALERTS },
	{ "alertmanager-url", required_argument, NULL, OPT_AM_URL },
	{ "alertmanager-basic-auth-file", required_argument, NULL, OPT_AM_BASIC },
	{ "alertmanager-bearer-token-file", required_argument, NULL, OPT_AM_BEARER },
	{ "alertmanager-ca-file", required_argument, NULL, OPT_AM_CA },
	{ "alertmanager-cert-file", required_argument, NULL, OPT_AM_CERT },
	{ "alertmanager-key-file", required_argument, NULL, OPT_AM_KEY },
	{ "alertmanager-insecure", no_argument, NULL, OPT_AM_INSECURE },
	{ "alertmanager-timeout", required_argument, NULL, OPT_AM_TIMEOUT },
	{ "alert-factor", required_argument, NULL, OPT_ALERT_FACTOR },
	{ "alert-spinlock-floor", required_argument, NULL, OPT_FLOOR_SPIN },
	{ "alert-kprobe-floor", required_argument, NULL, OPT_FLOOR_KPROBE },
	{ "alert-bpf-floor", required_argument, NULL, OPT_FLOOR_BPF },
	{ "alert-lock-floor", required_argument, NULL, OPT_FLOOR_LOCK },
	{ "duration", required_argument, NULL, 'd' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Not taken from a config file or the environment. */
static const char *const not_in_config[] = { "config", "check-config", "help", NULL };

static int parse_ratio(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, const char **origin, struct run_opts *o)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:F:d:vh", longopts, NULL)) != -1) {
		kiln_arg_origin = origin[optind - 1];
		switch (c) {
		case OPT_CONFIG:
			break;	/* read before */
		case OPT_CHECK_CONFIG:
			o->check_config = true;
			break;
		case OPT_SERVER:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return usage_error("invalid --server '%s': expected an http:// or "
						   "https:// URL", optarg);
			o->server = optarg;
			break;
		case OPT_API:
			if (!strcmp(optarg, "push"))
				o->api = UPLOAD_PUSH;
			else if (!strcmp(optarg, "ingest"))
				o->api = UPLOAD_INGEST;
			else
				return usage_error("invalid --api '%s': expected push or ingest", optarg);
			break;
		case OPT_INTERVAL:
			if (parse_long(optarg, 1, 3600, &o->interval_s))
				return usage_error("invalid --upload-interval '%s': expected 1-3600 seconds",
						   optarg);
			break;
		case OPT_APP:
			if (!optarg[0] || strlen(optarg) >= sizeof(((struct service *)0)->name))
				return usage_error("invalid --app-name '%s'", optarg);
			o->app_name = optarg;
			break;
		case OPT_K8S_LOGS:
			o->k8s_logs = strcmp(optarg, "off") ? optarg : NULL;
			break;
		case OPT_BTF:
			o->btf_path = optarg;
			break;
		case OPT_HOSTNAME:
			if (!optarg[0] || strlen(optarg) >= sizeof(((struct run *)0)->hostname))
				return usage_error("invalid --hostname '%s'", optarg);
			o->hostname = optarg;
			break;
		case OPT_LABEL: {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg || !eq[1])
				return usage_error("invalid --label '%s': expected KEY=VALUE", optarg);
			if (o->nr_labels == MAX_LABELS)
				return usage_error("too many --label options (at most 16): '%s'", optarg);
			*eq = '\0';
			if (!strcmp(optarg, "service_name") || !strcmp(optarg, "__name__") ||
			    !strcmp(optarg, "hostname"))
				return usage_error("--label cannot set '%s': kiln sets it", optarg);
			o->labels[o->nr_labels++] = (struct upload_label){ optarg, eq + 1 };
			break;
		}
		case OPT_PIDLABELS:
			o->pid_labels = true;
			break;
		case 'p':
			if (option_pid("run", optarg, o->pids, &o->nr_pids, MAX_PIDS))
				return KILN_EXIT_USAGE;
			break;
		case OPT_CGROUP:
			if (option_cgroup("run", optarg, o->cgroups, &o->nr_cgroups, KILN_MAX_CGROUPS))
				return KILN_EXIT_USAGE;
			o->cgroup_ptrs[o->nr_cgroups - 1] = o->cgroups[o->nr_cgroups - 1];
			break;
		case OPT_COMM:
			if (option_comm("run", optarg, o->comms, &o->nr_comms, KILN_MAX_COMMS))
				return KILN_EXIT_USAGE;
			break;
		case 'F':
			if (option_freq("run", optarg, &o->freq))
				return KILN_EXIT_USAGE;
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
		case OPT_OFFCPU_MODE:
			if (governor__parse_mode(optarg, &o->offcpu_exact))
				return usage_error("invalid --offcpu '%s': expected auto or exact", optarg);
			break;
		case OPT_BPF_BUDGET:
			if (governor__parse_budget(optarg, &o->bpf_budget))
				return usage_error("invalid --bpf-budget '%s': expected 0.01-100 (%% of one CPU)", optarg);
			break;
		case OPT_UNWIND:
			if (sampler__parse_unwind(optarg, &o->unwind))
				return usage_error("invalid --unwind '%s': expected auto, fp or dwarf",
						   optarg);
			break;
		case OPT_DWARF_MB:
			if (option_dwarf_mb("run", optarg, &o->dwarf_bytes))
				return KILN_EXIT_USAGE;
			break;
		case OPT_TENANT:
			o->tenant_id = optarg;
			break;
		case OPT_BASIC:
			o->basic_auth_file = optarg;
			break;
		case OPT_BEARER:
			o->bearer_token_file = optarg;
			break;
		case OPT_CA:
			o->ca_file = optarg;
			break;
		case OPT_CERT:
			o->cert_file = optarg;
			break;
		case OPT_KEY:
			o->key_file = optarg;
			break;
		case OPT_INSECURE:
			o->insecure = true;
			break;
		case OPT_SPOOL:
			if (parse_long(optarg, 1, 4096, &o->spool_mb))
				return usage_error("invalid --spool-mb '%s': expected 1-4096", optarg);
			break;
		case OPT_SPOOL_DIR:
			if (!optarg[0] || strlen(optarg) > 4000)
				return usage_error("invalid --spool-dir '%s'", optarg);
			o->spool_dir = optarg;
			break;
		case OPT_FLUSH:
			if (parse_long(optarg, 0, 600, &o->flush_timeout_s))
				return usage_error("invalid --flush-timeout '%s': expected 0-600 seconds",
						   optarg);
			break;
		case OPT_DRAIN:
			if (parse_long(optarg, 100, 60000, &o->drain_ms))
				return usage_error("invalid --drain-interval '%s': expected 100-60000 ms",
						   optarg);
			break;
		case OPT_UPLOAD_TIMEOUT:
			if (parse_long(optarg, 1, 600, &o->upload_timeout_s))
				return usage_error("invalid --upload-timeout '%s': expected 1-600 seconds",
						   optarg);
			break;
		case OPT_METRICS:
			o->metrics_addr = strcmp(optarg, "off") ? optarg : NULL;
			break;
		case OPT_NO_ALERTS:
			o->alerts = false;
			break;
		case OPT_AM_URL:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return usage_error("invalid --alertmanager-url '%s': expected an "
						   "http:// or https:// URL", optarg);
			o->alertmanager_url = optarg;
			break;
		case OPT_AM_BASIC:
			o->am.basic_auth_file = optarg;
			break;
		case OPT_AM_BEARER:
			o->am.bearer_token_file = optarg;
			break;
		case OPT_AM_CA:
			o->am.ca_file = optarg;
			break;
		case OPT_AM_CERT:
			o->am.cert_file = optarg;
			break;
		case OPT_AM_KEY:
			o->am.key_file = optarg;
			break;
		case OPT_AM_INSECURE:
			o->am.insecure = true;
			break;
		case OPT_AM_TIMEOUT:
			if (parse_long(optarg, 1, 60, &o->am.timeout_s))
				return usage_error("invalid --alertmanager-timeout '%s': expected "
						   "1-60 seconds", optarg);
			break;
		case OPT_ALERT_FACTOR:
			if (parse_ratio(optarg, 1, 1000, &o->alert_factor))
				return usage_error("invalid --alert-factor '%s': expected 1-1000",
						   optarg);
			break;
		case OPT_FLOOR_SPIN:
		case OPT_FLOOR_KPROBE:
		case OPT_FLOOR_BPF: {
			int rule = c == OPT_FLOOR_SPIN ? ALERT_SPINLOCK :
				   c == OPT_FLOOR_KPROBE ? ALERT_KPROBE : ALERT_BPF_PROG;

			if (parse_ratio(optarg, 0, 1, &o->alert_floor[rule]))
				return usage_error("invalid alert floor '%s': expected a share of all "
						   "CPUs, 0-1", optarg);
			break;
		}
		case OPT_FLOOR_LOCK:
			if (parse_ratio(optarg, 0, 100000, &o->alert_floor[ALERT_LOCK]))
				return usage_error("invalid --alert-lock-floor '%s': expected seconds "
						   "waited per second, 0-100000", optarg);
			break;
		case 'd':
			if (parse_long(optarg, 1, 365L * 24 * 3600, &o->duration_s))
				return usage_error("invalid duration '%s'", optarg);
			break;
		default: {
			int ret = common_option(c, argv, "run", usage_text);

			if (ret)
				return ret;
			break;
		}
		}
	}
	kiln_arg_origin = NULL;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->server)
		return usage_error("--server URL is required%s", "");
	if ((o->cert_file != NULL) != (o->key_file != NULL))
		return usage_error("--cert-file and --key-file go together%s", "");
	if (!o->am.cert_file != !o->am.key_file)
		return usage_error("--alertmanager-cert-file and --alertmanager-key-file go "
				   "together%s", "");
	if ((o->am.basic_auth_file || o->am.bearer_token_file || o->am.ca_file || o->am.cert_file ||
	     o->am.insecure) && !o->alertmanager_url)
		return usage_error("the --alertmanager-* options need --alertmanager-url%s", "");
	alerts__defaults(&o->alert, (unsigned int)o->interval_s);
	for (int i = 0; i < ALERT__MAX; i++)
		if (o->alert_floor[i] >= 0)
			o->alert.floor[i] = o->alert_floor[i];
	if (o->alert_factor >= 0)
		o->alert.factor = o->alert_factor;
	return 0;
}

/* The first line of @path, without its newline, into a malloc'ed string.
 * Credentials: the caller wipes it. */
static char *read_secret(const char *path, const char *what)
{
	char buf[4096];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		p_err("failed to read %s file %s: %s", what, path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0]) {
		p_err("failed to read %s file %s: it is empty", what, path);
		return NULL;
	}
	return strdup(buf);
}

static int check_readable(const char *path, const char *what)
{
	if (path && access(path, R_OK)) {
		p_err("failed to read %s file %s: %s", what, path, strerror(errno));
		return -1;
	}
	return 0;
}

static void wipe(char *secret)
{
	if (secret)
		explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* A server's CA and client files, checked readable, and its secrets, read
 * (@who: "" for Pyroscope, "Alertmanager " for it). Returns 0 or -1 after
 * printing why; the caller wipes *basic and *bearer either way. */
static int read_credentials(const char *who, const char *ca, const char *cert, const char *key,
			    const char *basic_file, const char *bearer_file, char **basic,
			    char **bearer)
{
	char what[3][64];

	snprintf(what[0], sizeof(what[0]), "%sCA", who);
	snprintf(what[1], sizeof(what[1]), "%sclient certificate", who);
	snprintf(what[2], sizeof(what[2]), "%sclient key", who);
	if (check_readable(ca, what[0]) || check_readable(cert, what[1]) ||
	    check_readable(key, what[2]))
		return -1;
	snprintf(what[0], sizeof(what[0]), "%sbasic auth", who);
	snprintf(what[1], sizeof(what[1]), "%sbearer token", who);
	if (basic_file && !(*basic = read_secret(basic_file, what[0])))
		return -1;
	if (bearer_file && !(*bearer = read_secret(bearer_file, what[1])))
		return -1;
	if (*basic && !strchr(*basic, ':')) {
		p_err("failed to use basic auth file %s: expected 'user:password'", basic_file);
		return -1;
	}
	return 0;
}

/* Alertmanager's own credentials and files, checked as --check-config does;
 * then, unless @check, its sender's thread. Returns 0 or -1 (printed). */
static int open_alertmanager(struct run *r, bool check)
{
	const struct run_opts *o = &r->o;
	struct alertsend_opts ao = { .attempts = 4 };
	char *basic = NULL, *bearer = NULL;
	int ret = -1;

	if (!o->alertmanager_url || !o->alerts)
		return 0;
	if (read_credentials("Alertmanager ", o->am.ca_file, o->am.cert_file, o->am.key_file,
			     o->am.basic_auth_file, o->am.bearer_token_file, &basic, &bearer))
		goto out;
	ret = 0;
	if (check)
		goto out;
	ao.http = (struct upload_opts){ .url = o->alertmanager_url, .basic_auth = basic,
					.bearer_token = bearer, .ca_file = o->am.ca_file,
					.cert_file = o->am.cert_file, .key_file = o->am.key_file,
					.insecure = o->am.insecure, .timeout_ms = o->am.timeout_s * 1000 };
	ret = alertsend__new(&ao, &r->am) ? -1 : 0;	/* the uploader keeps copies */
out:
	wipe(basic);
	wipe(bearer);
	return ret;
}

/* --check-config: what kiln would run with. Secrets are never printed. */
static void print_config(const struct run *r)
{
	const struct run_opts *o = &r->o;

	printf("config: %s\n", r->args.config_path ? r->args.config_path : "(no config file)");
	printf("server: %s (%s API)\n", o->server, o->api == UPLOAD_PUSH ? "push" : "ingest");
	printf("upload interval: %ld s; timeout: %ld s; spool: %ld MiB; flush timeout: %ld s\n",
	       o->interval_s, o->upload_timeout_s, o->spool_mb, o->flush_timeout_s);
	printf("service name: %s; hostname label: %s\n", o->app_name ? o->app_name : "per process",
	       o->hostname ? o->hostname : "this host's name");
	if (o->alerts)
		printf("alerts: factor %g over the rolling median, warm after %u intervals; floors: "
		       "spinlock %g, kprobe %g, bpf program %g (CPU share), lock %g s/s%s%s\n",
		       o->alert.factor, o->alert.warmup, o->alert.floor[ALERT_SPINLOCK],
		       o->alert.floor[ALERT_KPROBE], o->alert.floor[ALERT_BPF_PROG],
		       o->alert.floor[ALERT_LOCK], o->alertmanager_url ? "; Alertmanager " : "",
		       o->alertmanager_url ? o->alertmanager_url : "");
	else
		printf("alerts: off\n");
	for (size_t i = 0; i < o->nr_labels; i++)
		printf("label: %s=%s\n", o->labels[i].name, o->labels[i].value);
	printf("profiles: cpu at %ld Hz%s%s; unwind: %s\n", o->freq,
	       o->offcpu ? ", off-CPU" : "", o->locks ? ", locks" : "",
	       o->unwind == KILN_UNWIND_FP ? "fp" : o->unwind == KILN_UNWIND_ALL ? "dwarf" : "auto");
	printf("auth: %s%s%s\n", o->tenant_id ? "tenant id, " : "",
	       o->basic_auth_file ? "basic auth (file read)" :
	       o->bearer_token_file ? "bearer token (file read)" : "none",
	       o->insecure ? "; TLS verification OFF" : "");
	if (o->alertmanager_url && o->alerts)
		printf("alertmanager auth: %s%s%s\n",
		       o->am.basic_auth_file ? "basic auth (file read)" :
		       o->am.bearer_token_file ? "bearer token (file read)" : "none",
		       o->am.cert_file ? ", client certificate" : "",
		       o->am.insecure ? "; TLS verification OFF" : "");
	printf("metrics: %s\n", o->metrics_addr ? o->metrics_addr : "off");
	if (o->spool_dir)
		printf("spool directory: %s (writable)\n", o->spool_dir);
	printf("kiln run: configuration OK\n");
}

/* --- services ----------------------------------------------------------------- */

static int new_profile(int t, int64_t period, int64_t start_ns, struct pprof **out)
{
	struct pprof_opts popts = {
		.sample_types = type_desc[t].types, .nr_sample_types = 2,
		.period_type = type_desc[t].types[type_desc[t].period_type],
		.period = period, .time_nanos = start_ns,
		.default_sample_type = type_desc[t].types[1].type,
	};

	*out = pprof__new(&popts);
	return *out ? 0 : -ENOMEM;
}

static void service_free(struct service *v)
{
	for (int t = 0; t < NR_TYPES; t++)
		pprof__free(v->profs[t]);
	wait_aggregate__release(v->wa);
	free(v->wa);
}

/* The entry for the container or pod in @id, its names looked up in the
 * kubelet's log links once per container, and again K8S_RETRY_NS after a
 * miss (the link comes a little after the container starts). */
static const struct k8s_entry *k8s_of(struct run *r, const struct cgroup_id *id)
{
	const char *name = id->container[0] ? id->container : id->pod_uid;
	uint32_t key = (uint32_t)fnv1a(FNV1A_INIT, name, strlen(name)) | 1;	/* 0: a free entry */
	uint64_t now = now_mono_ns();
	struct k8s_names k;
	struct k8s_entry *e = NULL;

	for (int i = 0; i < K8S_ENTRIES; i++)
		if (r->k8s[i].key == key) {
			e = &r->k8s[i];
			break;
		}
	if (e && (e->found || now - e->looked_ns < K8S_RETRY_NS))
		return e;
	if (!e) {
		e = &r->k8s[r->k8s_next++ % K8S_ENTRIES];
		memset(e, 0, sizeof(*e));
		e->key = key;
	}
	e->looked_ns = now;
	if (k8s_names_find(r->o.k8s_logs, id->container, id->pod_uid, &k))
		return e;
	e->found = true;
	if (k.container[0]) {
		snprintf(e->name, sizeof(e->name), "%s/%s", k.ns, k.container);
		snprintf(e->labels, sizeof(e->labels), "namespace=%s\npod=%s\ncontainer=%s", k.ns,
			 k.pod, k.container);
	} else {
		snprintf(e->name, sizeof(e->name), "%s/%.63s", k.ns, k.pod);
		snprintf(e->labels, sizeof(e->labels), "namespace=%s\npod=%s", k.ns, k.pod);
	}
	return e;
}

/* The service name of process @tgid running @comm (cached by tgid), and
 * in *@labels the labels its series carry beyond the run's ("" for none). */
static const char *service_name(struct run *r, uint32_t tgid, const char *comm,
				const char **labels)
{
	struct svc_slot *s = &r->svc_cache[tgid % SVC_CACHE_SLOTS];
	const struct k8s_entry *k;
	struct cgroup_id id = { 0 };

	*labels = "";
	if (r->o.app_name)
		return r->o.app_name;
	if (s->tgid == tgid && !strncmp(s->comm, comm, sizeof(s->comm))) {
		k = s->k8s ? &r->k8s[s->k8s - 1] : NULL;
		if (!k)
			return s->name;
		if (k->key == s->k8s_key && k->found) {
			*labels = k->labels;
			return k->name;
		}
		/* not named yet: the cgroup again once the retry time is up */
		if (k->key == s->k8s_key && now_mono_ns() - k->looked_ns < K8S_RETRY_NS)
			return s->name;
	}
	cgroup_of((pid_t)tgid, &id);	/* gone: "" and "", the command name */
	s->tgid = tgid;
	snprintf(s->comm, sizeof(s->comm), "%s", comm);
	cgroup_service_name(&id, comm, s->name, sizeof(s->name));
	s->k8s = 0;
	if (!r->o.k8s_logs || (!id.container[0] && !id.pod_uid[0]))
		return s->name;
	k = k8s_of(r, &id);
	s->k8s = (uint8_t)(k - r->k8s + 1);
	s->k8s_key = k->key;
	if (!k->found)
		return s->name;
	*labels = k->labels;
	return k->name;
}

static struct service *service_get(struct run *r, uint32_t tgid, const char *comm)
{
	const char *labels, *name = service_name(r, tgid, comm, &labels);
	struct service *v;

	for (size_t i = 0; i < r->nr_svcs; i++)
		if (!strcmp(r->svcs[i].name, name) && !strcmp(r->svcs[i].labels, labels))
			return &r->svcs[i];
	if (r->nr_svcs == MAX_SERVICES - 1 && strcmp(name, OTHER_SERVICE)) {
		/* the last slot is the rest's: no named service loses its samples */
		r->st.services_overflow++;
		name = OTHER_SERVICE;
		labels = "";
		for (size_t i = 0; i < r->nr_svcs; i++)
			if (!strcmp(r->svcs[i].name, name))
				return &r->svcs[i];
	}
	if (r->nr_svcs == MAX_SERVICES) {
		r->st.services_overflow++;
		return &r->svcs[r->nr_svcs - 1];	/* OTHER_SERVICE */
	}
	v = &r->svcs[r->nr_svcs];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->labels, sizeof(v->labels), "%s", labels);
	v->wa = calloc(1, sizeof(*v->wa));
	if (!v->wa || new_profile(T_CPU, 1000000000LL / r->o.freq, r->interval_start_ns,
				  &v->profs[T_CPU]) ||
	    (r->c.offcpu && new_profile(T_OFFCPU, 1, r->interval_start_ns, &v->profs[T_OFFCPU])) ||
	    (r->c.locks && new_profile(T_LOCK, 1, r->interval_start_ns, &v->profs[T_LOCK]))) {
		service_free(v);
		return NULL;
	}
	v->cpu = (struct aggregate){ .prof = v->profs[T_CPU], .sym = r->c.sym,
				     .period = 1000000000LL / r->o.freq, .progs = &r->c.progs,
				     .no_identity = !r->o.pid_labels,
				     .flags = hostwatch__cpu_flags(r->hw) };
	v->wa->off = (struct aggregate){ .prof = v->profs[T_OFFCPU], .sym = r->c.sym,
					 .progs = &r->c.progs, .no_identity = !r->o.pid_labels };
	v->wa->lock = (struct aggregate){ .prof = v->profs[T_LOCK], .sym = r->c.sym,
					  .progs = &r->c.progs, .no_identity = !r->o.pid_labels,
					  .flags = hostwatch__lock_flags(r->hw) };
	r->nr_svcs++;
	return v;
}

static int cpu_entry(void *ctx, const struct sampler_entry *e)
{
	struct run *r = ctx;
	char comm[17];
	struct service *v;

	snprintf(comm, sizeof(comm), "%.16s", e->key->comm);
	v = service_get(r, e->key->tgid, comm);
	if (!v)
		return 0;	/* out of memory: the samples are lost, not the run */
	return aggregate__entry(&v->cpu, e);
}

static int wait_entry(void *ctx, const struct wait_entry *e)
{
	struct run *r = ctx;
	uint32_t tgid = e->off ? e->off->tgid : e->lock->tgid;
	char comm[17];
	struct service *v;

	snprintf(comm, sizeof(comm), "%.16s", e->off ? e->off->comm : e->lock->comm);
	if (e->lock) {
		r->lock_waits += e->val.count;
		r->lock_wait_ns += e->val.total_ns;
		hostwatch__lock_wait(r->hw, e);
	} else {
		r->offcpu_ns += e->val.total_ns;
	}
	v = service_get(r, tgid, comm);
	if (!v)
		return 0;
	return aggregate__wait_entry(v->wa, e);
}

/* --- the spool ---------------------------------------------------------------- */

/* Free @it (not counted in the spool), removing its file unless @keep_file. */
static void spool_discard(struct spool_item *it, bool keep_file)
{
	if (it->path && !keep_file)
		unlink(it->path);
	free(it->path);
	free(it);
}

static void spool_free(struct run *r, struct spool_item *it, bool keep_file)
{
	r->spool_bytes -= it->len;
	spool_discard(it, keep_file);
}

static void spool_drop_head(struct run *r)
{
	struct spool_item *it = r->head;

	r->head = it->next;
	if (!r->head)
		r->tail = NULL;
	spool_free(r, it, false);
}

/* Make room for @bytes: the oldest go first (counted), never the one being
 * sent. Under r->mu. Returns whether it fits now. */
static bool spool_make_room(struct run *r, size_t bytes)
{
	while (r->head && r->spool_bytes + bytes > r->spool_max) {
		struct spool_item *victim = r->head;

		if (victim == r->sending) {
			/* being sent: the next oldest goes */
			victim = victim->next;
			if (!victim)
				break;
			r->head->next = victim->next;
			if (r->tail == victim)
				r->tail = r->head;
			spool_free(r, victim, false);
		} else {
			spool_drop_head(r);
		}
		r->st.dropped_spool_full++;
	}
	return r->spool_bytes + bytes <= r->spool_max;
}

/* Queue @it after making room (or drop it, counted); *@queued counts it. */
static void spool_enqueue(struct run *r, struct spool_item *it, uint64_t *queued)
{
	pthread_mutex_lock(&r->mu);
	if (!spool_make_room(r, it->len)) {
		spool_discard(it, false);
		r->st.dropped_spool_full++;
	} else {
		if (r->tail)
			r->tail->next = it;
		else
			r->head = it;
		r->tail = it;
		r->spool_bytes += it->len;
		(*queued)++;
		pthread_cond_signal(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
}

/* Queue one encoded profile; past the bound the oldest go first. With
 * --spool-dir it goes to a file, and only what describes it stays here. */
static void spool_add(struct run *r, int type, const struct service *v, int64_t from,
		      int64_t until, uint8_t *data, size_t len)
{
	struct spooled meta = { .type = type, .from_ns = from, .until_ns = until, .len = len };
	struct spool_item *it;
	char path[4352];
	int err = -ENOENT;

	snprintf(meta.service, sizeof(meta.service), "%s", v->name);
	snprintf(meta.labels, sizeof(meta.labels), "%s", v->labels);
	if (r->o.spool_dir) {
		err = spooldir__write(r->o.spool_dir, ++r->spool_seq, &meta, data, path,
				      sizeof(path));
		if (err) {
			/* a full or broken disk: this one waits in memory */
			r->st.spool_write_failed++;
			if (!r->spool_write_warned)
				p_warn("cannot write to the spool directory %s: %s; keeping profiles "
				       "in memory meanwhile (counted)", r->o.spool_dir, strerror(-err));
			r->spool_write_warned = true;
		}
	}
	it = calloc(1, sizeof(*it) + (err ? len : 0));
	if (it && !err && !(it->path = strdup(path))) {
		free(it);
		it = NULL;
	}
	if (!it) {
		if (!err)
			unlink(path);
		r->st.dropped_spool_full++;
		return;
	}
	it->type = type;
	snprintf(it->service, sizeof(it->service), "%s", v->name);
	snprintf(it->labels, sizeof(it->labels), "%s", v->labels);
	it->from_ns = from;
	it->until_ns = until;
	it->len = len;
	if (err)
		memcpy(it->data, data, len);
	spool_enqueue(r, it, &r->st.profiles_queued);
}

/* A profile an earlier run spooled to disk: queued as it was. */
static int spool_resume(void *ctx, const char *path, const struct spooled *meta)
{
	struct run *r = ctx;
	struct spool_item *it = calloc(1, sizeof(*it));

	if (!it || !(it->path = strdup(path))) {
		free(it);
		return -ENOMEM;
	}
	it->type = meta->type < NR_TYPES ? meta->type : T_CPU;
	snprintf(it->service, sizeof(it->service), "%s", meta->service);
	snprintf(it->labels, sizeof(it->labels), "%s", meta->labels);
	it->from_ns = meta->from_ns;
	it->until_ns = meta->until_ns;
	it->len = meta->len;
	spool_enqueue(r, it, &r->st.resumed);
	return 0;
}

/* Encode every service's profiles of the interval now ending, queue them,
 * and start the next interval. */
static void finish_interval(struct run *r, int64_t now_ns)
{
	char gov_line[GOV_SRC__MAX][200] = { "" };

	for (int s = 0; s < GOV_SRC__MAX && r->c.gov; s++) {
		double recorded = governor__take_recorded(r->c.gov, s, now_mono_ns());

		if (recorded < 1.0)
			snprintf(gov_line[s], sizeof(gov_line[s]), "kiln governor: %s programs attached "
				 "%.1f%% of this interval; values scaled up to estimate all of it",
				 governor_source_names[s], 100 * recorded);
	}
	/* host-wide figures and alerts: before the services' profiles go */
	hostwatch__interval(r->hw, now_ns, (double)(now_ns - r->interval_start_ns) / 1e9);
	for (size_t i = 0; i < r->nr_svcs; i++) {
		struct service *v = &r->svcs[i];

		for (int t = 0; t < NR_TYPES; t++) {
			uint8_t *gz = NULL;
			size_t len = 0;

			if (!v->profs[t] || !pprof__nr_samples(v->profs[t]))
				continue;
			for (size_t k = 0; k < pprof__nr_samples(v->profs[t]); k++) {
				const uint64_t *locs;
				const int64_t *val;
				size_t nl;

				pprof__sample(v->profs[t], k, &locs, &nl, &val);
				r->st.queued_values[t][0] += (uint64_t)val[0];
				r->st.queued_values[t][1] += (uint64_t)val[1];
			}
			pprof__set_duration(v->profs[t], now_ns - r->interval_start_ns);
			/* a comment, not a label: a label whose value changes is a new series */
			if (t == T_LOCK && gov_line[GOV_SRC_LOCKS][0])
				pprof__add_comment(v->profs[t], gov_line[GOV_SRC_LOCKS]);
			if (t == T_OFFCPU && gov_line[GOV_SRC_OFFCPU][0])
				pprof__add_comment(v->profs[t], gov_line[GOV_SRC_OFFCPU]);
			if (pprof__encode_gz(v->profs[t], &gz, &len)) {
				p_warn("failed to encode the %s profile of %s: out of memory",
				       type_desc[t].name, v->name);
				continue;
			}
			spool_add(r, t, v, r->interval_start_ns, now_ns, gz, len);
			free(gz);
		}
		service_free(v);
	}
	r->nr_svcs = 0;
	r->interval_start_ns = now_ns;
	malloc_trim(0);		/* the interval's profiles: back to the system */
}

/* --- the upload thread -------------------------------------------------------- */

static uint64_t backoff_ms(unsigned int attempts, long retry_after_s)
{
	uint64_t ms = BACKOFF_MIN_MS;

	for (unsigned int i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	ms = ms * (80 + (uint64_t)(random() % 41)) / 100;	/* jitter: 0.8-1.2 */
	if (retry_after_s >= 0 && (uint64_t)retry_after_s * 1000 > ms)
		ms = (uint64_t)retry_after_s * 1000;
	return ms;
}

static void wait_until(struct run *r, uint64_t deadline_mono_ns)
{
	struct timespec ts;
	uint64_t now = now_mono_ns(), rt;

	if (deadline_mono_ns <= now)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	rt = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + (deadline_mono_ns - now);
	ts.tv_sec = (time_t)(rt / 1000000000ULL);
	ts.tv_nsec = (long)(rt % 1000000000ULL);
	pthread_cond_timedwait(&r->cond, &r->mu, &ts);
}

/* The run's labels, then those of @extra ("k=v" lines, copied to @buf and
 * split there) into @out; returns how many. */
static size_t series_labels(const struct run *r, const char *extra, char *buf,
			    struct upload_label *out)
{
	size_t n = 0;
	char *line, *save = NULL;

	for (size_t i = 0; i < r->nr_labels; i++)
		out[n++] = r->labels[i];
	strcpy(buf, extra);	/* both sizeof(spool_item.labels) */
	for (line = strtok_r(buf, "\n", &save); line && n < MAX_LABELS + 1 + 3;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq) {
			*eq = '\0';
			out[n++] = (struct upload_label){ line, eq + 1 };
		}
	}
	return n;
}

static void *upload_thread(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct upload_label labels[MAX_LABELS + 1 + 3];
		char lbuf[sizeof(((struct spool_item *)0)->labels)];
		struct upload_item it = { 0 };
		struct upload_result res;
		uint8_t *file_data = NULL;
		struct spool_item *head;
		int64_t now;
		int err;

		while (!r->head && !r->stopping)
			pthread_cond_wait(&r->cond, &r->mu);
		if (!r->head || (r->stopping && now_mono_ns() >= r->flush_deadline_ns))
			break;
		head = r->head;
		now = now_real_ns();
		if (now > head->until_ns && (uint64_t)(now - head->until_ns) > MAX_AGE_NS) {
			spool_drop_head(r);
			r->st.dropped_too_old++;
			continue;
		}
		r->sending = head;	/* spool_add drops others, not this one */
		pthread_mutex_unlock(&r->mu);

		/* the head stays queued (and bounded) while it is sent */
		it.name = type_desc[head->type].name;
		it.service = head->service;
		it.labels = labels;
		it.nr_labels = series_labels(r, head->labels, lbuf, labels);
		it.from_ns = head->from_ns;
		it.until_ns = head->until_ns;
		it.pprof = head->data;
		it.len = head->len;
		it.sample_rate = (uint32_t)r->o.freq;
		if (head->path) {
			struct spooled meta;

			err = spooldir__read(head->path, &meta, &file_data);
			if (err) {
				pthread_mutex_lock(&r->mu);
				r->st.dropped_unreadable++;
				p_warn("dropped spooled profile %s: %s", head->path, strerror(-err));
				r->sending = NULL;
				spool_drop_head(r);
				continue;
			}
			it.pprof = file_data;
		}
		err = uploader__send(r->up, &it, &res);
		free(file_data);
		file_data = NULL;

		pthread_mutex_lock(&r->mu);
		if (!err) {
			r->st.uploads_ok++;
			r->st.bytes_sent += res.bytes_sent;
		} else if (err == -EAGAIN) {
			r->st.uploads_retried++;
			head->attempts++;
			if (head->attempts == 1 || kiln_verbose) {
				if (res.status)
					p_warn("upload of %s for %s failed, retrying: HTTP %ld: %s",
					       it.name, it.service, res.status, res.error);
				else
					p_warn("upload of %s for %s failed, retrying: %s", it.name,
					       it.service, res.error);
			}
			{
				uint64_t until = now_mono_ns() +
					backoff_ms(head->attempts, res.retry_after_s) * 1000000ULL;

				while (now_mono_ns() < until &&
				       !(r->stopping && now_mono_ns() >= r->flush_deadline_ns))
					wait_until(r, r->stopping && r->flush_deadline_ns < until ?
						   r->flush_deadline_ns : until);
			}
			r->sending = NULL;
			continue;
		} else {
			r->st.uploads_failed++;
			if (res.status != r->last_status_logged) {
				p_warn("server refused the %s profile of %s: HTTP %ld: %s (dropped; "
				       "such refusals are counted, not logged again)", it.name,
				       it.service, res.status, res.error);
				r->last_status_logged = res.status;
			}
		}
		r->sending = NULL;
		spool_drop_head(r);	/* still the head: only this thread drops it */
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* --- metrics ------------------------------------------------------------------- */

static void own_usage(double *cpu_s, uint64_t *rss_bytes)
{
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f;

	*cpu_s = 0;
	*rss_bytes = 0;
	if (!getrusage(RUSAGE_SELF, &ru))
		*cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) == 2)
			*rss_bytes = (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}

static void counter(struct mbuf *b, const char *name, const char *help, uint64_t v)
{
	mbuf_header(b, name, "counter", help);
	mbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* The page /metrics serves, from the counters as they are now. */
static void publish_metrics(struct run *r)
{
	uint64_t drops[KILN_DROP__MAX] = { 0 }, stats[KILN_STAT__MAX] = { 0 };
	uint64_t wdrops[KILN_WDROP__MAX] = { 0 }, wstats[KILN_WSTAT__MAX] = { 0 };
	struct symbolizer_stats sy;
	struct sampler_unwind_stats us;
	struct run_stats st;
	struct mbuf b = { 0 };
	size_t spool_bytes, spool_items = 0;
	uint64_t rss;
	double cpu;

	if (!r->metrics)
		return;
	sampler__counters(r->c.s, drops, stats);
	sampler__unwind_stats(r->c.s, &us);
	if (r->c.w)
		waits__counters(r->c.w, wdrops, wstats);
	symbolizer__get_stats(r->c.sym, &sy);
	pthread_mutex_lock(&r->mu);
	st = r->st;
	spool_bytes = r->spool_bytes;
	for (struct spool_item *it = r->head; it; it = it->next)
		spool_items++;
	pthread_mutex_unlock(&r->mu);
	own_usage(&cpu, &rss);

	counter(&b, "kiln_samples_total", "CPU samples taken.", stats[KILN_STAT_SAMPLES]);
	mbuf_header(&b, "kiln_dropped_total", "counter",
		    "Samples, events and waits lost, by reason.");
	for (int i = 0; i < KILN_DROP__MAX; i++)
		mbuf_printf(&b, "kiln_dropped_total{reason=\"%s\"} %llu\n", kiln_drop_names[i],
			    (unsigned long long)drops[i]);
	for (int i = 0; i < KILN_WDROP__MAX; i++)
		mbuf_printf(&b, "kiln_dropped_total{reason=\"%s\"} %llu\n", kiln_wait_drop_names[i],
			    (unsigned long long)wdrops[i]);
	counter(&b, "kiln_stacks_copied_total", "User stacks copied for unwinding.", us.copied);
	mbuf_header(&b, "kiln_stack_copy_fallbacks_total", "counter",
		    "User stacks not copied (the sample kept its frame-pointer stack), by reason.");
	mbuf_printf(&b, "kiln_stack_copy_fallbacks_total{source=\"cpu\",reason=\"ring_full\"} %llu\n"
		    "kiln_stack_copy_fallbacks_total{source=\"cpu\",reason=\"read_failed\"} %llu\n"
		    "kiln_stack_copy_fallbacks_total{source=\"waits\",reason=\"any\"} %llu\n",
		    (unsigned long long)stats[KILN_STAT_COPY_RING_FULL],
		    (unsigned long long)stats[KILN_STAT_COPY_FAILED],
		    (unsigned long long)wstats[KILN_WSTAT_USTACK_COPY_FALLBACK]);
	mbuf_header(&b, "kiln_offcpu_seconds_total", "counter", "Off-CPU time recorded, in seconds.");
	mbuf_printf(&b, "kiln_offcpu_seconds_total %.9f\n", (double)r->offcpu_ns / 1e9);
	counter(&b, "kiln_lock_contentions_total", "Kernel lock waits recorded.", r->lock_waits);
	counter(&b, "kiln_lock_contentions_in_interrupts_total",
		"Kernel lock waits seen on an interrupt stack: recorded as process [irq] (pid 0), "
		"or left out when processes are selected.", wstats[KILN_WSTAT_LOCK_IRQ]);
	if (r->c.gov) {
		struct governor_stats gs;

		governor__stats(r->c.gov, &gs);
		mbuf_header(&b, "kiln_bpf_cost_seconds_total", "counter",
			    "CPU time kiln's own lock and switch programs took: their runs times "
			    "the calibrated cost of one run.");
		for (int i = 0; i < WAITS_PROG__MAX; i++)
			mbuf_printf(&b, "kiln_bpf_cost_seconds_total{program=\"%s\"} %.6f\n",
				    governor_prog_names[i], gs.cost_seconds[i]);
		mbuf_header(&b, "kiln_governor_recorded_ratio", "gauge",
			    "Share of each second the source's programs are attached (1: exact; "
			    "below 1, its counts are scaled up by 1/ratio).");
		for (int s = 0; s < GOV_SRC__MAX; s++)
			mbuf_printf(&b, "kiln_governor_recorded_ratio{source=\"%s\"} %.4f\n",
				    governor_source_names[s], gs.src[s].duty);
		mbuf_header(&b, "kiln_governor_full_rate_cpu_ratio", "gauge",
			    "What the source's programs would cost attached all the time, in CPUs.");
		for (int s = 0; s < GOV_SRC__MAX; s++)
			mbuf_printf(&b, "kiln_governor_full_rate_cpu_ratio{source=\"%s\"} %.6f\n",
				    governor_source_names[s], gs.src[s].full_cost);
	}
	hostwatch__metrics(r->hw, &b);
	mbuf_header(&b, "kiln_uploads_total", "counter",
		    "Profile uploads by result (retried: attempts that will be repeated).");
	mbuf_printf(&b, "kiln_uploads_total{result=\"ok\"} %llu\n"
		    "kiln_uploads_total{result=\"retried\"} %llu\n"
		    "kiln_uploads_total{result=\"refused\"} %llu\n",
		    (unsigned long long)st.uploads_ok, (unsigned long long)st.uploads_retried,
		    (unsigned long long)st.uploads_failed);
	counter(&b, "kiln_upload_bytes_total", "Request bytes the server took.", st.bytes_sent);
	mbuf_header(&b, "kiln_profiles_dropped_total", "counter",
		    "Profiles never uploaded, by reason.");
	mbuf_printf(&b, "kiln_profiles_dropped_total{reason=\"spool_full\"} %llu\n"
		    "kiln_profiles_dropped_total{reason=\"too_old\"} %llu\n"
		    "kiln_profiles_dropped_total{reason=\"unreadable\"} %llu\n",
		    (unsigned long long)st.dropped_spool_full, (unsigned long long)st.dropped_too_old,
		    (unsigned long long)st.dropped_unreadable);
	counter(&b, "kiln_spool_write_failures_total",
		"Profiles kept in memory because the spool directory could not be written.",
		st.spool_write_failed);
	mbuf_header(&b, "kiln_spool_bytes", "gauge", "Bytes of profiles waiting to be sent.");
	mbuf_printf(&b, "kiln_spool_bytes %zu\n", spool_bytes);
	mbuf_header(&b, "kiln_spool_profiles", "gauge", "Profiles waiting to be sent.");
	mbuf_printf(&b, "kiln_spool_profiles %zu\n", spool_items);
	mbuf_header(&b, "kiln_symbolizer_cache_lookups_total", "counter",
		    "Symbolizer cache lookups by cache and result.");
	mbuf_printf(&b, "kiln_symbolizer_cache_lookups_total{cache=\"files\",result=\"hit\"} %llu\n"
		    "kiln_symbolizer_cache_lookups_total{cache=\"files\",result=\"miss\"} %llu\n"
		    "kiln_symbolizer_cache_lookups_total{cache=\"processes\",result=\"hit\"} %llu\n"
		    "kiln_symbolizer_cache_lookups_total{cache=\"processes\",result=\"miss\"} %llu\n"
		    "kiln_symbolizer_cache_lookups_total{cache=\"lines\",result=\"hit\"} %llu\n"
		    "kiln_symbolizer_cache_lookups_total{cache=\"lines\",result=\"miss\"} %llu\n",
		    (unsigned long long)sy.files_hit, (unsigned long long)sy.files_miss,
		    (unsigned long long)sy.processes_hit, (unsigned long long)sy.processes_miss,
		    (unsigned long long)sy.lines_hit, (unsigned long long)sy.lines_miss);
	mbuf_header(&b, "kiln_symbolizer_cache_evictions_total", "counter",
		    "Symbolizer cache entries evicted.");
	mbuf_printf(&b, "kiln_symbolizer_cache_evictions_total{cache=\"files\"} %llu\n"
		    "kiln_symbolizer_cache_evictions_total{cache=\"processes\"} %llu\n"
		    "kiln_symbolizer_cache_evictions_total{cache=\"dwarf\"} %llu\n"
		    "kiln_symbolizer_cache_evictions_total{cache=\"cfi\"} %llu\n",
		    (unsigned long long)sy.files_evicted, (unsigned long long)sy.processes_evicted,
		    (unsigned long long)sy.dwarf_budget_releases, (unsigned long long)sy.cfi_resets);
	counter(&b, "kiln_symbolizer_processes_exited_total",
		"Processes dropped from the symbolizer's cache after they exited.",
		sy.processes_exited);
	counter(&b, "kiln_symbolizer_dwarf_too_big_total",
		"Files whose DWARF exceeds the DWARF budget: symbols only, no lines.",
		sy.dwarf_too_big);
	mbuf_header(&b, "kiln_symbolizer_cache_bytes", "gauge", "Bytes the symbolizer caches hold.");
	mbuf_printf(&b, "kiln_symbolizer_cache_bytes{cache=\"files\"} %llu\n"
		    "kiln_symbolizer_cache_bytes{cache=\"processes\"} %llu\n"
		    "kiln_symbolizer_cache_bytes{cache=\"dwarf\"} %llu\n",
		    (unsigned long long)sy.file_bytes, (unsigned long long)sy.process_bytes,
		    (unsigned long long)sy.dwarf_bytes);
	mbuf_header(&b, "kiln_process_cpu_seconds_total", "counter", "The agent's own CPU time.");
	mbuf_printf(&b, "kiln_process_cpu_seconds_total %.3f\n", cpu);
	mbuf_header(&b, "kiln_process_resident_memory_bytes", "gauge", "The agent's RSS.");
	mbuf_printf(&b, "kiln_process_resident_memory_bytes %llu\n", (unsigned long long)rss);
	if (!b.failed)
		metrics__publish(r->metrics, b.buf, b.len);
	free(b.buf);
}

/* --- the command -------------------------------------------------------------- */

static void print_stats(struct run *r)
{
	struct run_stats st;
	size_t queued = 0, kept = 0;

	pthread_mutex_lock(&r->mu);
	st = r->st;
	for (struct spool_item *it = r->head; it; it = it->next) {
		if (it->path)
			kept++;
		else
			queued++;
	}
	pthread_mutex_unlock(&r->mu);
	if (kept || st.resumed || st.spool_write_failed || st.dropped_unreadable)
		fprintf(stderr, "kiln: spool directory %s: %llu profiles resumed from an earlier "
			"run, %zu kept for the next start, %llu written to memory instead "
			"(write failed), %llu unreadable\n", r->o.spool_dir,
			(unsigned long long)st.resumed, kept,
			(unsigned long long)st.spool_write_failed,
			(unsigned long long)st.dropped_unreadable);
	fprintf(stderr, "kiln: uploads ok %llu, retried %llu, refused %llu; %llu bytes sent; "
		"dropped: %llu spool full, %llu too old, %zu unsent at exit; %llu samples of "
		"services past %d\n", (unsigned long long)st.uploads_ok,
		(unsigned long long)st.uploads_retried, (unsigned long long)st.uploads_failed,
		(unsigned long long)st.bytes_sent, (unsigned long long)st.dropped_spool_full,
		(unsigned long long)st.dropped_too_old, queued,
		(unsigned long long)st.services_overflow, MAX_SERVICES);
	fprintf(stderr, "kiln: queued %s %llu %s / %llu %s, %s %llu %s / %llu %s, %s %llu %s / %llu %s\n",
		type_desc[T_CPU].name,
		(unsigned long long)st.queued_values[T_CPU][0], type_desc[T_CPU].types[0].type,
		(unsigned long long)st.queued_values[T_CPU][1], type_desc[T_CPU].types[1].unit,
		type_desc[T_OFFCPU].name,
		(unsigned long long)st.queued_values[T_OFFCPU][0], type_desc[T_OFFCPU].types[0].type,
		(unsigned long long)st.queued_values[T_OFFCPU][1], type_desc[T_OFFCPU].types[1].unit,
		type_desc[T_LOCK].name,
		(unsigned long long)st.queued_values[T_LOCK][0], type_desc[T_LOCK].types[0].type,
		(unsigned long long)st.queued_values[T_LOCK][1], type_desc[T_LOCK].types[1].unit);
}

int cmd_run(int argc, char **argv, volatile sig_atomic_t *stop)
{
	struct run *r;
	struct collect_opts copts;
	struct upload_opts uopts = { 0 };
	char *basic = NULL, *bearer = NULL;
	pthread_t thread;
	bool opened = false, started = false;
	uint64_t end, next_drain, next_upload, next_metrics, drain_ns;
	int ret, err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return KILN_EXIT_RUNTIME;
	r->o = (struct run_opts){ .api = UPLOAD_PUSH, .interval_s = 15, .freq = 99, .k8s_logs = "/var/log",
				  .offcpu = true, .locks = true, .unwind = KILN_UNWIND_AUTO, .bpf_budget = 0.01,
				  .spool_mb = 16, .flush_timeout_s = 10, .dwarf_bytes = 1u << 20,
				  .upload_timeout_s = 30, .drain_ms = 5000,
				  .metrics_addr = "127.0.0.1:9741", .alerts = true,
				  .alert_floor = { -1, -1, -1, -1 }, .alert_factor = -1,
				  .am.timeout_s = 3 };
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	ret = config__args("run", longopts, not_in_config, argc, argv, &r->args);
	if (!ret)
		ret = parse_args(r->args.argc, r->args.argv, r->args.origin, &r->o);
	if (ret) {
		ret = ret < 0 ? KILN_EXIT_OK : ret;
		goto out;
	}
	ret = KILN_EXIT_RUNTIME;
	if (read_credentials("", r->o.ca_file, r->o.cert_file, r->o.key_file, r->o.basic_auth_file,
			     r->o.bearer_token_file, &basic, &bearer))
		goto out;
	if (open_alertmanager(r, true))
		goto out;
	if (r->o.spool_dir && (err = spooldir__open(r->o.spool_dir))) {
		p_err("failed to use spool directory %s: %s", r->o.spool_dir, strerror(-err));
		goto out;
	}
	if (r->o.check_config) {
		print_config(r);
		ret = KILN_EXIT_OK;
		goto out;
	}
	uopts = (struct upload_opts){ .url = r->o.server, .api = r->o.api,
				      .tenant_id = r->o.tenant_id, .basic_auth = basic,
				      .bearer_token = bearer, .ca_file = r->o.ca_file,
				      .cert_file = r->o.cert_file, .key_file = r->o.key_file,
				      .insecure = r->o.insecure,
				      .timeout_ms = r->o.upload_timeout_s * 1000 };
	r->up = uploader__new(&uopts);
	if (!r->up) {
		p_err("failed to set up uploads to %s: %s", r->o.server, strerror(errno));
		goto out;
	}
	r->svcs = calloc(MAX_SERVICES, sizeof(*r->svcs));
	r->svc_cache = calloc(SVC_CACHE_SLOTS, sizeof(*r->svc_cache));
	if (!r->svcs || !r->svc_cache)
		goto out;
	r->spool_max = (size_t)r->o.spool_mb << 20;
	if (r->o.spool_dir) {
		uint64_t bad = 0;

		err = spooldir__scan(r->o.spool_dir, spool_resume, r, &bad);
		if (err) {
			p_err("failed to read spool directory %s: %s", r->o.spool_dir, strerror(-err));
			goto out;
		}
		r->st.dropped_unreadable += bad;
		if (r->st.resumed || bad)
			fprintf(stderr, "kiln: resuming %llu profiles (%zu bytes) spooled in %s by an "
				"earlier run%s\n", (unsigned long long)r->st.resumed, r->spool_bytes,
				r->o.spool_dir, bad ? "; damaged files removed (counted)" : "");
	}
	if (r->o.hostname)
		snprintf(r->hostname, sizeof(r->hostname), "%s", r->o.hostname);
	else if (gethostname(r->hostname, sizeof(r->hostname) - 1))
		snprintf(r->hostname, sizeof(r->hostname), "unknown");
	r->labels[r->nr_labels++] = (struct upload_label){ "hostname", r->hostname };
	for (size_t i = 0; i < r->o.nr_labels; i++)
		r->labels[r->nr_labels++] = r->o.labels[i];

	copts = (struct collect_opts){
		.freq = r->o.freq,
		.filter = { .pids = r->o.pids, .nr_pids = r->o.nr_pids, .cgroups = r->o.cgroup_ptrs,
			    .nr_cgroups = r->o.nr_cgroups, .comms = r->o.comms,
			    .nr_comms = r->o.nr_comms },
		.counts_max = 16384, .stacks_max = 16384, .offcpu = r->o.offcpu,
		.locks = r->o.locks, .offcpu_min_ns = 1000, .lock_stack_min_ns = 10000,
		.bpf_budget = r->o.bpf_budget, .locks_exact = r->o.locks_exact,
		.offcpu_exact = r->o.offcpu_exact,
		.debuginfod_timeout_ms = 5000, .unwind = r->o.unwind, .stack_bytes = 8192,
		.max_dwarf_bytes = r->o.dwarf_bytes, .dwarf_hold_ms = DWARF_HOLD_MS,
		.btf_path = r->o.btf_path,
		/* an always-on agent: smaller symbolizer caches than a recording's
		 * (200 processes: 3 MiB of symbol tables, 1 MiB of snapshots) */
		.max_file_bytes = 6u << 20, .max_process_bytes = 2u << 20,
		/* copies are read as they come: ring-full drops are counted
		 * (each ring's pages count twice in RSS: it is mapped twice) */
		.copy_ring_bytes = 256u << 10,
	};
	if (collector__open(&copts, &r->c))
		goto out;	/* it printed why */
	opened = true;
	if (open_alertmanager(r, false))
		goto out;
	{
		struct hostwatch_opts ho = {
			.interval_s = (unsigned int)r->o.interval_s,
			.ncpus = sampler__nr_cpus(r->c.s), .period_ns = 1000000000LL / r->o.freq,
			.hostname = r->hostname, .am = r->am, .alerts = r->o.alerts,
			.alert = r->o.alert, .sym = r->c.sym, .progs = &r->c.progs,
			.self = getpid(),
		};

		r->hw = hostwatch__new(&ho);
		if (!r->hw) {
			p_err("failed to set up alerting: %s", strerror(ENOMEM));
			goto out;
		}
	}
	if (r->o.metrics_addr && !(r->metrics = metrics__start(r->o.metrics_addr)))
		goto out;	/* it printed why */
	publish_metrics(r);
	if (pthread_create(&thread, NULL, upload_thread, r)) {
		p_err("failed to start the upload thread: %s", strerror(errno));
		goto out;
	}
	started = true;
	fprintf(stderr, "kiln: profiling %s at %ld Hz with %s%s%s; uploading every %ld s to %s "
		"(%s)\n", r->o.nr_pids || r->o.nr_cgroups || r->o.nr_comms ? "the selected processes" :
								      "all processes", r->o.freq,
		sampler__event(r->c.s), r->c.offcpu ? ", off-CPU" : "",
		r->c.locks ? ", lock waits" : "", r->o.interval_s, r->o.server,
		r->o.api == UPLOAD_PUSH ? "push" : "ingest");

	/* each drain symbolizes every distinct stack it reads: fewer drains,
	 * less work for stacks that repeat */
	if (r->o.drain_ms > r->o.interval_s * 1000)
		r->o.drain_ms = r->o.interval_s * 1000;
	drain_ns = (uint64_t)r->o.drain_ms * 1000000ULL;
	r->interval_start_ns = now_real_ns();
	next_drain = now_mono_ns() + drain_ns;
	next_upload = now_mono_ns() + (uint64_t)r->o.interval_s * 1000000000ULL;
	end = r->o.duration_s ? now_mono_ns() + (uint64_t)r->o.duration_s * 1000000000ULL :
				UINT64_MAX;
	next_metrics = now_mono_ns() + 1000000000ULL;
	while (!*stop) {
		uint64_t now = now_mono_ns(), wake = next_drain < end ? next_drain : end;

		if (next_metrics < wake)
			wake = next_metrics;
		if (now >= end)
			break;
		err = collector__poll(&r->c, wake > now ? (int)((wake - now) / 1000000ULL) : 0);
		if (err) {
			p_err("failed to read process events: %s", strerror(-err));
			goto out;
		}
		/* the page follows uploads every second, drains or not */
		if (now_mono_ns() >= next_metrics) {
			publish_metrics(r);
			next_metrics += 1000000000ULL;
		}
		if (now_mono_ns() < next_drain)
			continue;
		err = collector__drain(&r->c, cpu_entry, r, wait_entry, r);
		if (err)
			goto out;
		next_drain += drain_ns;
		if (now_mono_ns() >= next_upload) {
			finish_interval(r, now_real_ns());
			next_upload += (uint64_t)r->o.interval_s * 1000000000ULL;
		}
	}
	/* what was counted until now, then send it within the flush deadline */
	collector__stop(&r->c);
	if (!collector__drain(&r->c, cpu_entry, r, wait_entry, r))
		finish_interval(r, now_real_ns());
	ret = KILN_EXIT_OK;
out:
	if (started) {
		pthread_mutex_lock(&r->mu);
		r->stopping = true;
		r->flush_deadline_ns = now_mono_ns() + (uint64_t)r->o.flush_timeout_s * 1000000000ULL;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->mu);
		pthread_join(thread, NULL);
		print_stats(r);
	}
	metrics__stop(r->metrics);
	while (r->head) {
		struct spool_item *it = r->head;

		r->head = it->next;
		if (!it->path)
			r->st.dropped_at_exit++;
		spool_free(r, it, true);	/* spooled files wait for the next start */
	}
	r->tail = NULL;
	for (size_t i = 0; r->svcs && i < r->nr_svcs; i++)
		service_free(&r->svcs[i]);
	if (opened)
		collector__close(&r->c);
	uploader__free(r->up);
	hostwatch__free(r->hw);
	alertsend__free(r->am);	/* after the last interval's alerts: one more try */
	wipe(basic);
	wipe(bearer);
	free(r->svcs);
	free(r->svc_cache);
	config__free(&r->args);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
	free(r);
	return ret;
}
