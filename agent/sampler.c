// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loads bpf/profile.bpf.c, attaches it to per-CPU sampling events and drains
 * its in-kernel aggregation.
 *
 * Draining without racing the kernel: the program reads `gen` once per sample
 * and writes only to that generation's counts and stacks. The agent flips
 * `gen`, then updates a map-in-map, which returns only after synchronize_rcu():
 * every program that could still see the old `gen` has finished. The old
 * generation then has no writers; it is read whole and emptied. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpfutil.h"
#include "profile.skel.h"
#include "sampler.h"
#include "util.h"

const char *const kiln_drop_names[KILN_DROP__MAX] = {
	[KILN_DROP_KSTACK_COLLISION] = "kernel_stack_collision",
	[KILN_DROP_KSTACK_FAILED] = "kernel_stack_failed",
	[KILN_DROP_USTACK_COLLISION] = "user_stack_collision",
	[KILN_DROP_USTACK_FAILED] = "user_stack_failed",
	[KILN_DROP_COUNTS_FULL] = "counts_map_full",
	[KILN_DROP_EVENTS_FULL] = "process_events_full",
};

struct sampler {
	struct profile_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link **links;
	int *pfds;
	int nr_cpus;			/* events opened */
	int nr_possible;
	const char *event;
	struct sampler_opts opts;
	struct kiln_sample_key *keys;	/* drain scratch */
	uint64_t *frames;		/* KILN_STACK_SLOTS */
	uint64_t *uframes;
};

static int open_event(struct perf_event_attr *attr, int cpu)
{
	return (int)syscall(__NR_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* "0-3,5,7-8" from /sys/devices/system/cpu/online into a bool per CPU. */
static int parse_online_cpus(bool **online, int *nr)
{
	char buf[4096], *p = buf;
	int max = -1, err;

	err = read_file_str("/sys/devices/system/cpu/online", buf, sizeof(buf));
	if (err)
		return err;
	*online = calloc(8192, sizeof(**online));
	if (!*online)
		return -ENOMEM;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p || a < 0 || a >= 8192)
			goto bad;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= 8192)
				goto bad;
			p = end;
		}
		for (long c = a; c <= b; c++)
			(*online)[c] = true;
		if (b > max)
			max = (int)b;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	if (max < 0)
		goto bad;
	*nr = max + 1;
	return 0;
bad:
	free(*online);
	*online = NULL;
	return -EINVAL;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;
	const struct kiln_proc_event *e = data;
	char comm[KILN_COMM_LEN + 1];

	if (size < sizeof(*e))
		return 0;
	memcpy(comm, e->comm, KILN_COMM_LEN);
	comm[KILN_COMM_LEN] = '\0';
	if (s->opts.on_process)
		s->opts.on_process(s->opts.ctx, e->tgid, comm);
	return 0;
}

static int attach_events(struct sampler *s)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = (__u64)s->opts.freq,
	};
	bool *online = NULL;
	int nr = 0, err;

	err = parse_online_cpus(&online, &nr);
	if (err) {
		p_err("failed to read online CPUs: %s", strerror(-err));
		return err;
	}
	s->links = calloc((size_t)nr, sizeof(*s->links));
	s->pfds = calloc((size_t)nr, sizeof(*s->pfds));
	if (!s->links || !s->pfds) {
		free(online);
		return -ENOMEM;
	}
	for (int i = 0; i < nr; i++)
		s->pfds[i] = -1;
	s->nr_possible = nr;	/* close() walks every slot */

	/* cycles is NMI-driven where a PMU exists; else the cpu-clock hrtimer */
	attr.type = PERF_TYPE_HARDWARE;
	attr.config = PERF_COUNT_HW_CPU_CYCLES;
	s->event = "cycles";
	for (int cpu = 0; cpu < nr; cpu++) {
		int fd;

		if (!online[cpu])
			continue;
		fd = open_event(&attr, cpu);
		if (fd < 0 && attr.type == PERF_TYPE_HARDWARE &&
		    (errno == ENOENT || errno == EOPNOTSUPP || errno == ENODEV ||
		     errno == EINVAL) && s->nr_cpus == 0) {
			attr.type = PERF_TYPE_SOFTWARE;
			attr.config = PERF_COUNT_SW_CPU_CLOCK;
			s->event = "cpu-clock";
			fd = open_event(&attr, cpu);
		}
		if (fd < 0) {
			err = -errno;
			p_err("failed to open %s event on CPU %d: %s%s", s->event, cpu,
			      strerror(errno), errno == EACCES || errno == EPERM ?
			      " (need root or CAP_PERFMON)" : "");
			goto out;
		}
		s->pfds[cpu] = fd;
		s->links[cpu] = bpf_program__attach_perf_event(s->skel->progs.kiln_sample, fd);
		if (!s->links[cpu]) {
			err = -errno;
			p_err("failed to attach BPF program to CPU %d: %s", cpu, strerror(errno));
			goto out;
		}
		s->nr_cpus++;
	}
	err = 0;
out:
	free(online);
	return err;
}

int sampler__open(const struct sampler_opts *opts, struct sampler **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts);
	struct sampler *s;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->opts = *opts;
	libbpf_set_print(bpfutil_print);

	if (opts->btf_path) {
		if (access(opts->btf_path, R_OK)) {
			err = -errno;
			p_err("failed to read kernel BTF %s: %s", opts->btf_path, strerror(errno));
			goto fail;
		}
		oopts.btf_custom_path = opts->btf_path;
	} else if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		err = -ENOENT;
		p_err("failed to find kernel BTF: /sys/kernel/btf/vmlinux is missing "
		      "(kernel built without CONFIG_DEBUG_INFO_BTF; pass --btf FILE)");
		goto fail;
	}

	s->skel = profile_bpf__open_opts(&oopts);
	if (!s->skel) {
		err = -errno;
		p_err("failed to open BPF object: %s", strerror(errno));
		goto fail;
	}
	s->skel->rodata->per_thread = opts->per_thread;
	s->skel->rodata->include_idle = opts->include_idle;
	s->skel->rodata->filter_pids = opts->pids != NULL;
	s->skel->rodata->self_tgid = (__u32)getpid();
	bpf_map__set_max_entries(s->skel->maps.counts0, opts->counts_max);
	bpf_map__set_max_entries(s->skel->maps.counts1, opts->counts_max);
	bpf_map__set_max_entries(s->skel->maps.stacks0, opts->stacks_max);
	bpf_map__set_max_entries(s->skel->maps.stacks1, opts->stacks_max);

	err = profile_bpf__load(s->skel);
	if (err) {
		p_err("failed to load BPF programs: %s%s", strerror(-err),
		      err == -EPERM || err == -EACCES ?
		      " (need root, or CAP_BPF and CAP_PERFMON)" : "");
		goto fail;
	}
	for (size_t i = 0; i < opts->nr_pids; i++) {
		__u8 one = 1;

		err = bpf_map__update_elem(s->skel->maps.pids, &opts->pids[i],
					   sizeof(opts->pids[i]), &one, sizeof(one), BPF_ANY);
		if (err) {
			p_err("failed to add pid %u to the filter: %s", opts->pids[i], strerror(-err));
			goto fail;
		}
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), handle_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		p_err("failed to create ring buffer: %s", strerror(errno));
		goto fail;
	}
	s->keys = calloc(opts->counts_max, sizeof(*s->keys));
	s->frames = calloc(KILN_STACK_SLOTS, sizeof(*s->frames));
	s->uframes = calloc(KILN_STACK_SLOTS, sizeof(*s->uframes));
	if (!s->keys || !s->frames || !s->uframes) {
		err = -ENOMEM;
		goto fail;
	}
	err = attach_events(s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	sampler__close(s);
	return err;
}

void sampler__stop(struct sampler *s)
{
	for (int i = 0; s->links && i < s->nr_possible; i++) {
		bpf_link__destroy(s->links[i]);
		s->links[i] = NULL;
	}
}

void sampler__close(struct sampler *s)
{
	if (!s)
		return;
	sampler__stop(s);
	for (int i = 0; s->pfds && i < s->nr_possible; i++)
		if (s->pfds[i] >= 0)
			close(s->pfds[i]);
	free(s->links);
	free(s->pfds);
	ring_buffer__free(s->rb);
	profile_bpf__destroy(s->skel);
	free(s->keys);
	free(s->frames);
	free(s->uframes);
	free(s);
}

const char *sampler__event(const struct sampler *s)
{
	return s->event;
}

int sampler__nr_cpus(const struct sampler *s)
{
	return s->nr_cpus;
}

uint32_t sampler__prog_id(const struct sampler *s)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(s->skel->progs.kiln_sample), &info, &len))
		return 0;
	return info.id;
}

int sampler__poll(struct sampler *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms);

	return n == -EINTR ? 0 : (n < 0 ? n : 0);
}

int sampler__drain(struct sampler *s, sampler_entry_fn fn, void *ctx)
{
	volatile __u32 *gen = &s->skel->bss->gen;
	__u32 old = *gen, sid, sid_prev;
	int counts_fd, stacks_fd, err, cb_err = 0;
	size_t nr;

	if (old & 1) {
		counts_fd = bpf_map__fd(s->skel->maps.counts1);
		stacks_fd = bpf_map__fd(s->skel->maps.stacks1);
	} else {
		counts_fd = bpf_map__fd(s->skel->maps.counts0);
		stacks_fd = bpf_map__fd(s->skel->maps.stacks0);
	}
	*gen = old ^ 1;
	err = bpfutil_wait_for_programs(bpf_map__fd(s->skel->maps.barrier),
					bpf_map__fd(s->skel->maps.barrier_inner));
	if (err) {
		p_err("failed to wait for BPF programs in flight: %s", strerror(-err));
		return err;
	}

	nr = bpfutil_collect_keys(counts_fd, s->keys, sizeof(*s->keys), s->opts.counts_max);
	for (size_t i = 0; i < nr && !cb_err; i++) {
		struct sampler_entry e = { .key = &s->keys[i] };

		if (bpf_map_lookup_elem(counts_fd, &s->keys[i], &e.count))
			continue;
		e.nr_kframes = bpfutil_read_stack(stacks_fd, s->keys[i].kstack, s->frames,
						  &e.k_truncated);
		e.kframes = s->frames;
		e.nr_uframes = bpfutil_read_stack(stacks_fd, s->keys[i].ustack, s->uframes,
						  &e.u_truncated);
		e.uframes = s->uframes;
		cb_err = fn(ctx, &e);
	}

	for (size_t i = 0; i < nr; i++)
		bpf_map_delete_elem(counts_fd, &s->keys[i]);
	/* whatever the key array could not hold (a full map) goes too */
	err = bpfutil_clear_map(counts_fd, &s->keys[0], &s->keys[1], sizeof(s->keys[0]));
	if (!err)
		err = bpfutil_clear_map(stacks_fd, &sid, &sid_prev, sizeof(sid));
	if (err) {
		p_err("failed to empty drained maps: %s", strerror(-err));
		return err;
	}
	return cb_err;
}

void sampler__counters(const struct sampler *s, uint64_t drops[KILN_DROP__MAX],
		       uint64_t stats[KILN_STAT__MAX])
{
	bpfutil_sum_percpu(bpf_map__fd(s->skel->maps.drops), drops, KILN_DROP__MAX);
	bpfutil_sum_percpu(bpf_map__fd(s->skel->maps.stats), stats, KILN_STAT__MAX);
}
