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
#include "symbolizer.h"
#include "util.h"

const char *const kiln_drop_names[KILN_DROP__MAX] = {
	[KILN_DROP_KSTACK_COLLISION] = "kernel_stack_collision",
	[KILN_DROP_KSTACK_FAILED] = "kernel_stack_failed",
	[KILN_DROP_USTACK_COLLISION] = "user_stack_collision",
	[KILN_DROP_USTACK_FAILED] = "user_stack_failed",
	[KILN_DROP_COUNTS_FULL] = "counts_map_full",
	[KILN_DROP_EVENTS_FULL] = "process_events_full",
	[KILN_DROP_UNWOUND_FULL] = "unwound_stacks_full",
};

#define UNWOUND_BUCKETS 4096

/* A distinct stack unwound in user space, counted until the next drain. */
struct unwound {
	struct unwound *next;
	uint64_t hash;
	struct kiln_sample_key key;
	uint64_t count;
	uint32_t nr_k, nr_u;
	bool u_truncated;
	uint64_t frames[];		/* nr_k kernel frames, then nr_u user */
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
	uint64_t *counts;		/* their counts */
	uint64_t *frames;		/* KILN_STACK_SLOTS */
	uint64_t *uframes;
	struct unwound **unwound;	/* UNWOUND_BUCKETS chains */
	size_t nr_unwound;
	uint64_t unwound_full;		/* samples lost: table at counts_max */
	struct sampler_unwind_stats ust;
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

/* Count one unwound sample under its key and frames. */
static void add_unwound(struct sampler *s, const struct kiln_sample_key *key,
			const uint64_t *kf, uint32_t nr_k, const uint64_t *uf, uint32_t nr_u,
			bool u_truncated)
{
	uint64_t h = fnv1a(FNV1A_INIT, key, sizeof(*key));
	struct unwound **pp, *u;

	h = fnv1a(h, kf, nr_k * sizeof(*kf));
	h = fnv1a(h, uf, nr_u * sizeof(*uf));
	pp = &s->unwound[h % UNWOUND_BUCKETS];
	for (u = *pp; u; u = u->next) {
		if (u->hash == h && u->nr_k == nr_k && u->nr_u == nr_u &&
		    !memcmp(&u->key, key, sizeof(*key)) &&
		    !memcmp(u->frames, kf, nr_k * sizeof(*kf)) &&
		    !memcmp(u->frames + nr_k, uf, nr_u * sizeof(*uf))) {
			u->count++;
			return;
		}
	}
	if (s->nr_unwound >= s->opts.counts_max) {
		s->unwound_full++;
		return;
	}
	u = malloc(sizeof(*u) + (nr_k + nr_u) * sizeof(uint64_t));
	if (!u) {
		s->unwound_full++;
		return;
	}
	u->hash = h;
	u->key = *key;
	u->count = 1;
	u->nr_k = nr_k;
	u->nr_u = nr_u;
	u->u_truncated = u_truncated;
	memcpy(u->frames, kf, nr_k * sizeof(*kf));
	memcpy(u->frames + nr_k, uf, nr_u * sizeof(*uf));
	u->next = *pp;
	*pp = u;
	s->nr_unwound++;
}

/* Is return address @a (leaf: address) of @up's code without frame pointers? */
static bool in_nofp(const struct kiln_unwind_proc *up, uint64_t a)
{
	for (uint32_t j = 0; j < up->nr && j < KILN_UNWIND_RANGES; j++)
		if (a >= up->start[j] && a < up->end[j])
			return true;
	return false;
}

/* Learn where the threads of a process begin from a stack unwound whole.
 * A frame-pointer walk goes right up to the first return address into code
 * without them and is lost after it; when at most two frames lie outside
 * that address, all such code too but the outermost (_start is in the
 * program), the thread began there (__libc_start_call_main <-
 * __libc_start_main <- _start, start_thread <- clone3) and a walk that ends
 * at it is complete: the program need not copy such stacks.
 * Returns how many frames to keep: up to the root, as a walk would end, so
 * that copied and walked stacks of one place look the same. */
static size_t learn_root(struct sampler *s, uint32_t tgid, const uint64_t *pcs, size_t n)
{
	int fd = bpf_map__fd(s->skel->maps.unwind_procs);
	struct kiln_unwind_proc up;
	size_t k = 0;

	if (n < 2 || n >= KILN_STACK_SLOTS || bpf_map_lookup_elem(fd, &tgid, &up) || up.all ||
	    in_nofp(&up, pcs[0]))
		return n;
	while (++k < n && !in_nofp(&up, pcs[k] - 1))
		;
	if (k >= n)
		return n;	/* frame pointers all the way */
	if (n - 1 - k > 2)
		return n;	/* deeper than a thread's start (_start, clone3) */
	for (size_t i = k + 1; i + 1 < n; i++)
		if (!in_nofp(&up, pcs[i] - 1))
			return n;	/* a callback from such code: not a root */
	for (uint32_t j = 0; j < up.nr_roots; j++)
		if (up.roots[j] == pcs[k])
			return k + 1;
	if (up.nr_roots >= KILN_UNWIND_ROOTS)
		return n;
	up.roots[up.nr_roots++] = pcs[k];
	if (bpf_map_update_elem(fd, &tgid, &up, BPF_EXIST))
		return n;
	s->ust.roots_learnt++;
	return k + 1;
}

static int handle_stack(void *ctx, void *data, size_t size)
{
	struct sampler *s = ctx;
	const struct kiln_stack_event *e = data;
	struct kiln_sample_key key = { 0 };
	uint32_t nr_k;
	size_t nr_u = 0;

	if (size < sizeof(*e) || e->stack_len > size - sizeof(*e) ||
	    e->kind != KILN_STACK_EV_SAMPLE)
		return 0;
	s->ust.copied++;
	s->ust.copied_bytes += e->stack_len;
	nr_k = e->nr_kframes < KILN_STACK_SLOTS ? e->nr_kframes : KILN_STACK_SLOTS;
	if (s->opts.unwind)
		nr_u = s->opts.unwind(s->opts.ctx, e, (const uint8_t *)data + sizeof(*e),
				      s->uframes, KILN_STACK_SLOTS);
	if (nr_u <= 1)
		s->ust.leaf_only++;
	else if (s->opts.unwind_mode == KILN_UNWIND_AUTO)
		nr_u = learn_root(s, e->tgid, s->uframes, nr_u);
	s->ust.frames += nr_u;
	key.tgid = e->tgid;
	key.tid = s->opts.per_thread ? e->tid : 0;
	memcpy(key.comm, e->comm, sizeof(key.comm));
	if (s->opts.per_thread)
		memcpy(key.thread, e->thread, sizeof(key.thread));
	key.kstack = nr_k ? 0 : -EFAULT;
	key.ustack = nr_u ? 0 : -EFAULT;
	add_unwound(s, &key, (const uint64_t *)e->kframes, nr_k, s->uframes, (uint32_t)nr_u,
		    nr_u == KILN_STACK_SLOTS);
	return 0;
}

static void free_unwound(struct sampler *s)
{
	for (size_t b = 0; s->unwound && b < UNWOUND_BUCKETS; b++) {
		while (s->unwound[b]) {
			struct unwound *u = s->unwound[b];

			s->unwound[b] = u->next;
			free(u);
		}
	}
	s->nr_unwound = 0;
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
	s->skel->rodata->filter_pids = opts->filter.nr_pids > 0;
	s->skel->rodata->filter_cgroups = (__u32)opts->filter.nr_cgroups;
	s->skel->rodata->filter_comms = opts->filter.nr_comms > 0;
	s->skel->rodata->self_tgid = (__u32)getpid();
	s->skel->rodata->unwind_mode = (__u32)opts->unwind_mode;
	s->skel->rodata->stack_bytes = opts->stack_bytes ? opts->stack_bytes : 8192;
	if (opts->unwind_mode != KILN_UNWIND_FP) {
		int ncpu = libbpf_num_possible_cpus();
		__u32 base = opts->stacks_ring_bytes ? opts->stacks_ring_bytes : 1u << 20;
		__u32 ring = base;

		if (ncpu <= 0) {
			err = ncpu ? ncpu : -EINVAL;
			p_err("failed to count possible CPUs: %s", strerror(-err));
			goto fail;
		}
		bpf_map__set_max_entries(s->skel->maps.scratch, (__u32)ncpu);
		/* @base per 4 CPUs, a power of two up to 16 MiB: its pages count
		 * in the agent's RSS (twice: the ring is mapped twice) once written */
		while (ring < (16u << 20) && ring / base * 4 < (__u32)ncpu)
			ring <<= 1;
		bpf_map__set_max_entries(s->skel->maps.copies, ring);
		s->skel->rodata->copy_wake_bytes = ring / 4;
	} else {
		bpf_map__set_max_entries(s->skel->maps.copies, 4096);	/* unused */
	}
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
	err = bpfutil_fill_filter(&opts->filter, s->skel->maps.pids, s->skel->maps.cgroup_filter,
				  s->skel->maps.comms);
	if (err)
		goto fail;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), handle_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		p_err("failed to create ring buffer: %s", strerror(errno));
		goto fail;
	}
	if (opts->unwind_mode != KILN_UNWIND_FP &&
	    ring_buffer__add(s->rb, bpf_map__fd(s->skel->maps.copies), handle_stack, s)) {
		err = -errno;
		p_err("failed to add the stack ring buffer: %s", strerror(errno));
		goto fail;
	}
	s->unwound = calloc(UNWOUND_BUCKETS, sizeof(*s->unwound));
	s->keys = calloc(opts->counts_max, sizeof(*s->keys));
	s->counts = calloc(opts->counts_max, sizeof(*s->counts));
	s->frames = calloc(KILN_STACK_SLOTS, sizeof(*s->frames));
	s->uframes = calloc(KILN_STACK_SLOTS, sizeof(*s->uframes));
	if (!s->keys || !s->counts || !s->frames || !s->uframes || !s->unwound) {
		err = -ENOMEM;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sampler__close(s);
	return err;
}

int sampler__start(struct sampler *s)
{
	return attach_events(s);
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
	free(s->counts);
	free(s->frames);
	free(s->uframes);
	free_unwound(s);
	free(s->unwound);
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

int sampler__consume(struct sampler *s)
{
	int n = ring_buffer__consume(s->rb);

	return n < 0 ? n : 0;
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

	nr = bpfutil_take(counts_fd, s->keys, s->counts, sizeof(*s->keys), sizeof(*s->counts),
			  s->opts.counts_max);
	for (size_t i = 0; i < nr && !cb_err; i++) {
		struct sampler_entry e = { .key = &s->keys[i], .count = s->counts[i] };

		e.nr_kframes = bpfutil_read_stack(stacks_fd, s->keys[i].kstack, s->frames,
						  &e.k_truncated);
		e.kframes = s->frames;
		e.nr_uframes = bpfutil_read_stack(stacks_fd, s->keys[i].ustack, s->uframes,
						  &e.u_truncated);
		e.uframes = s->uframes;
		cb_err = fn(ctx, &e);
	}

	/* stacks unwound here since the last drain */
	for (size_t b = 0; b < UNWOUND_BUCKETS && !cb_err; b++) {
		for (struct unwound *u = s->unwound[b]; u && !cb_err; u = u->next) {
			struct sampler_entry e = {
				.key = &u->key, .count = u->count,
				.kframes = u->frames, .nr_kframes = u->nr_k,
				.uframes = u->frames + u->nr_k, .nr_uframes = u->nr_u,
				.u_truncated = u->u_truncated,
			};

			cb_err = fn(ctx, &e);
		}
	}
	free_unwound(s);

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
	drops[KILN_DROP_UNWOUND_FULL] += s->unwound_full;
}

struct ring_buffer *sampler__ring(struct sampler *s)
{
	return s->rb;
}

int sampler__unwind_procs_fd(const struct sampler *s)
{
	return bpf_map__fd(s->skel->maps.unwind_procs);
}

void sampler__unwind_stats(const struct sampler *s, struct sampler_unwind_stats *out)
{
	*out = s->ust;
}

int sampler__parse_unwind(const char *s, enum kiln_unwind_mode *out)
{
	if (!strcmp(s, "auto"))
		*out = KILN_UNWIND_AUTO;
	else if (!strcmp(s, "fp"))
		*out = KILN_UNWIND_FP;
	else if (!strcmp(s, "dwarf"))
		*out = KILN_UNWIND_ALL;
	else
		return -EINVAL;
	return 0;
}

enum kiln_unwind_mode sampler__unwind_supported(enum kiln_unwind_mode want)
{
	static const struct { enum bpf_func_id id; const char *name; } need[] = {
		{ BPF_FUNC_loop, "bpf_loop" },
		{ BPF_FUNC_find_vma, "bpf_find_vma" },
		{ BPF_FUNC_task_pt_regs, "bpf_task_pt_regs" },
	};

	if (want == KILN_UNWIND_FP)
		return want;
#if !defined(__x86_64__)
	fprintf(stderr, "kiln: user stacks through frame pointers only: copying stacks for "
		"unwinding is implemented for x86-64\n");
	return KILN_UNWIND_FP;
#endif
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, need[i].id, NULL) != 1) {
			fprintf(stderr, "kiln: user stacks through frame pointers only: this kernel "
				"has no %s (5.17+) for copying stacks to unwind\n", need[i].name);
			return KILN_UNWIND_FP;
		}
	}
	return want;
}

int sampler__note_code(struct sampler *s, struct symbolizer *sym, uint32_t tgid,
		       const char *comm)
{
	struct sym_code_range cr[256];
	struct kiln_unwind_proc up = { 0 };
	bool fp_since = false;
	size_t n;
	int err;

	err = symbolizer__code_ranges(sym, tgid, comm, cr, 256, &n);
	if (err)
		return err;
	if (n > 256)
		up.all = 1;
	for (size_t i = 0; i < n && !up.all; i++) {
		if (cr[i].frame_pointers == 1) {
			fp_since = true;
			continue;
		}
		/* one range over neighbours without frame-pointer code between */
		if (up.nr && !fp_since) {
			up.end[up.nr - 1] = cr[i].end;
		} else if (up.nr == KILN_UNWIND_RANGES) {
			up.all = 1;
		} else {
			up.start[up.nr] = cr[i].start;
			up.end[up.nr] = cr[i].end;
			up.nr++;
		}
		fp_since = false;
	}
	/* an entry with no range too: the program copies stacks of processes
	 * it has no entry for until they are classified */
	return sampler__set_unwind(s, tgid, &up);
}

int sampler__set_unwind(struct sampler *s, uint32_t tgid, const struct kiln_unwind_proc *p)
{
	int fd = bpf_map__fd(s->skel->maps.unwind_procs);

	if (!p)
		return bpf_map_delete_elem(fd, &tgid) && errno != ENOENT ? -errno : 0;
	return bpf_map_update_elem(fd, &tgid, p, BPF_ANY) ? -errno : 0;
}
