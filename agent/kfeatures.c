// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel feature probes for `kiln --version` and start-up checks. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kfeatures.h"
#include "util.h"

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

static int read_int(const char *path, int def)
{
	char buf[64];
	long v;

	if (read_file_str(path, buf, sizeof(buf)) || parse_long(buf, -1000000, 100000000, &v))
		return def;
	return (int)v;
}

int features__max_sample_rate(void)
{
	return read_int("/proc/sys/kernel/perf_event_max_sample_rate", -1);
}

/* Load "r0 = 0; exit" as a tracing program attached to BTF id @btf_id. */
static bool load_tracing(enum bpf_attach_type type, int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type,
		    .attach_btf_id = btf_id);
	int fd;

	if (btf_id <= 0)
		return false;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool hw_cycles_opens(void)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_HARDWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_HW_CPU_CYCLES,
		.freq = 1,
		.sample_freq = 99,
		.disabled = 1,
	};
	int fd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void read_lockdown(char *out, size_t len)
{
	char buf[128], *l, *r;

	snprintf(out, len, "unknown");
	if (read_file_str("/sys/kernel/security/lockdown", buf, sizeof(buf))) {
		if (access("/sys/kernel/security/lockdown", F_OK))
			snprintf(out, len, "unknown (no securityfs)");
		return;
	}
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (l && r) {
		*r = '\0';
		snprintf(out, len, "%s", l + 1);
	}
}

void features__probe(struct features *f)
{
	struct btf *vmlinux;
	struct statfs sfs;
	struct utsname u;

	memset(f, 0, sizeof(*f));
	if (!uname(&u))
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
	read_lockdown(f->lockdown, sizeof(f->lockdown));
	f->perf_event_paranoid = read_int("/proc/sys/kernel/perf_event_paranoid", -100);
	f->kptr_restrict = read_int("/proc/sys/kernel/kptr_restrict", -1);
	f->max_sample_rate = features__max_sample_rate();
	f->perf_event = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_PERF_EVENT, NULL) == 1;
	f->raw_tp = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) == 1;
	f->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	f->task_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	f->hw_cycles = hw_cycles_opens();
	f->kprobe_pmu = access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
	f->tracefs = (!statfs("/sys/kernel/tracing", &sfs) && sfs.f_type == TRACEFS_MAGIC) ||
		     (!statfs("/sys/kernel/debug/tracing", &sfs) && sfs.f_type == TRACEFS_MAGIC);

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return;
	f->btf = true;
	f->tp_btf = load_tracing(BPF_TRACE_RAW_TP,
				 btf__find_by_name_kind(vmlinux, "btf_trace_sched_switch",
							BTF_KIND_TYPEDEF));
	f->fentry = load_tracing(BPF_TRACE_FENTRY,
				 btf__find_by_name_kind(vmlinux, "do_nanosleep", BTF_KIND_FUNC));
	f->lock_tracepoints =
		btf__find_by_name_kind(vmlinux, "btf_trace_contention_begin", BTF_KIND_TYPEDEF) > 0 &&
		btf__find_by_name_kind(vmlinux, "btf_trace_contention_end", BTF_KIND_TYPEDEF) > 0;
	btf__free(vmlinux);
}

#define FEATURE_LIST(X)				\
	X(btf)					\
	X(perf_event)				\
	X(hw_cycles)				\
	X(raw_tp)				\
	X(tp_btf)				\
	X(fentry)				\
	X(kprobe_pmu)				\
	X(tracefs)				\
	X(ringbuf)				\
	X(task_storage)				\
	X(lock_tracepoints)

int features__report(const struct features *f, const struct features_want *w, FILE *out)
{
	/* the kernel versions named are where each feature arrived upstream;
	 * distribution kernels backport, so the probe, not the version, decides */
	if (!f->perf_event) {
		fprintf(out, "kiln: error: this kernel cannot load perf_event BPF programs "
			"(Linux 4.9+ with CONFIG_BPF_SYSCALL and CONFIG_BPF_EVENTS; docs/kernels.md)\n");
		return -1;
	}
	if (!f->ringbuf) {
		fprintf(out, "kiln: error: this kernel has no BPF ring buffer (Linux 5.8+; "
			"docs/kernels.md)\n");
		return -1;
	}
	if (!f->btf && !w->btf_file) {
		fprintf(out, "kiln: error: no kernel BTF at /sys/kernel/btf/vmlinux "
			"(CONFIG_DEBUG_INFO_BTF=y, Linux 5.4+): pass --btf FILE with this "
			"kernel's BTF (docs/kernels.md)\n");
		return -1;
	}
	fprintf(out, "kiln: kernel %s: BTF %s, lockdown %s, perf_event_paranoid %d, "
		"kptr_restrict %d; sampling with %s\n", f->kernel,
		f->btf ? "yes" : "from --btf", f->lockdown, f->perf_event_paranoid,
		f->kptr_restrict, f->hw_cycles ? "the CPU's cycles counter (NMI)" :
		"cpu-clock (no hardware PMU: code running with interrupts off is not sampled)");
	if (w->offcpu && !f->tp_btf && !f->raw_tp)
		fprintf(out, "kiln: not collecting off-CPU time: neither tp_btf nor raw_tp "
			"programs load (Linux 4.17+ / 5.5+)\n");
	if (w->locks && !f->lock_tracepoints)
		fprintf(out, "kiln: not collecting lock waits: no lock:contention_begin/end "
			"tracepoints (Linux 5.19+)\n");
	else if (w->locks && (!f->tp_btf || !f->task_storage))
		fprintf(out, "kiln: not collecting lock waits: they need tp_btf programs and "
			"task storage (Linux 5.11+)\n");
	if (!strcmp(f->lockdown, "confidentiality"))
		fprintf(out, "kiln: lockdown=confidentiality: BPF reads of kernel memory are "
			"refused, programs may fail to load (docs/kernels.md)\n");
	return 0;
}

void features__print_json(const struct features *f, FILE *out)
{
	fputs("{", out);
#define X(name) fprintf(out, "\"" #name "\":%s,", f->name ? "true" : "false");
	FEATURE_LIST(X)
#undef X
	fprintf(out, "\"perf_event_paranoid\":%d,\"kptr_restrict\":%d,"
		"\"perf_event_max_sample_rate\":%d,\"lockdown\":",
		f->perf_event_paranoid, f->kptr_restrict, f->max_sample_rate);
	json_str(out, f->lockdown);
	fputs("}", out);
}

void features__print_text(const struct features *f, FILE *out)
{
#define X(name) fprintf(out, "  %-18s %s\n", #name, f->name ? "yes" : "no");
	FEATURE_LIST(X)
#undef X
	fprintf(out, "  %-18s %d\n  %-18s %d\n  %-18s %d\n  %-18s %s\n",
		"perf_event_paranoid", f->perf_event_paranoid, "kptr_restrict",
		f->kptr_restrict, "max_sample_rate", f->max_sample_rate, "lockdown",
		f->lockdown);
}
