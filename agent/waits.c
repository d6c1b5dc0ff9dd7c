// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Loads bpf/wait.bpf.c (off-CPU and lock contention) and drains it; the
 * generation switch works as in sampler.c. Stacks are kept for the whole
 * recording (tasks cache stack ids across drains), so only counts are emptied. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include "bpfutil.h"
#include "util.h"
#include "waits.h"
#include "wait.skel.h"

const char *const kiln_wait_drop_names[KILN_WDROP__MAX] = {
	[KILN_WDROP_OFF_STACK_FAILED] = "offcpu_stack_failed",
	[KILN_WDROP_OFF_COUNTS_FULL] = "offcpu_counts_full",
	[KILN_WDROP_TASK_STORAGE] = "task_state_unavailable",
	[KILN_WDROP_NEGATIVE] = "negative_time",
	[KILN_WDROP_LOCK_STACK_FAILED] = "lock_stack_failed",
	[KILN_WDROP_LOCK_COUNTS_FULL] = "lock_counts_full",
	[KILN_WDROP_LOCK_NESTING] = "lock_nesting_too_deep",
	[KILN_WDROP_LOCK_UNMATCHED_END] = "lock_unmatched_end",
	[KILN_WDROP_LOCK_NEGATIVE] = "lock_negative_time",
	[KILN_WDROP_USTACK_EVICTED] = "copied_user_stack_evicted",
	[KILN_WDROP_LOCK_DEFER_FULL] = "lock_waits_held_full",
	[KILN_WDROP_LOCK_UNSELECTED] = "lock_selection_unknown",
};

/* User stacks the programs copied (where frame pointers do not walk), as
 * the agent unwound them, by {tgid, signature}: the ids waits carry in their
 * keys. Direct-mapped: a newcomer evicts its slot's holder, which the
 * programs are told to copy again when next seen. */
#define USTACK_SLOTS 16384

struct ustack_ent {
	uint32_t tgid;			/* 0: empty */
	uint32_t sig;
	uint32_t nr;
	uint64_t *pcs;
};

struct waits {
	struct wait_bpf *skel;
	struct waits_opts opts;
	struct bpf_link *links[6];	/* switch, lock begin, lock end, task exit, exact end, begin */
	bool flush_on_stop;		/* tasks hold summed blocks (tp_btf) */
	const char *switch_attach;
	void *keys;			/* drain scratch, big enough for either key */
	struct kiln_wait_val *vals;	/* their values */
	uint64_t *kframes, *uframes;
	struct ustack_ent *ustacks;	/* USTACK_SLOTS */
	uint64_t ustacks_evicted;	/* waits whose copied stack was no longer held */
	uint64_t *pcs;			/* unwinding scratch */
	struct ring_buffer *rb;		/* delivers the copies (waits__add_ring) */
	bool stopped;			/* detached for good */
};

static struct ustack_ent *ustack_slot(struct waits *w, uint32_t tgid, uint32_t sig)
{
	uint64_t h = ((uint64_t)tgid << 32 | sig) * 0x9e3779b97f4a7c15ULL;

	return &w->ustacks[(h >> 32) % USTACK_SLOTS];
}

/* A copied user stack arrived (sampler__poll): unwind it and keep it. */
static int handle_copy(void *ctx, void *data, size_t size)
{
	struct waits *w = ctx;
	const struct kiln_stack_event *e = data;
	struct ustack_ent *u;
	uint64_t *pcs;
	size_t n;

	if (size < sizeof(*e) || e->stack_len > size - sizeof(*e) ||
	    e->kind != KILN_STACK_EV_WAIT || !w->opts.unwind)
		return 0;
	n = w->opts.unwind(w->opts.unwind_ctx, e, (const uint8_t *)data + sizeof(*e), w->pcs,
			   KILN_STACK_SLOTS);
	pcs = malloc(n * sizeof(*pcs));
	if (!pcs)
		return 0;	/* the waits using it count as evicted */
	memcpy(pcs, w->pcs, n * sizeof(*pcs));
	u = ustack_slot(w, e->tgid, e->usig);
	if (u->tgid && (u->tgid != e->tgid || u->sig != e->usig)) {
		/* evicted: the programs copy it again when they meet it */
		struct { uint32_t tgid, sig; } ck = { u->tgid, u->sig };

		bpf_map_delete_elem(bpf_map__fd(w->skel->maps.copied), &ck);
	}
	free(u->pcs);
	u->tgid = e->tgid;
	u->sig = e->usig;
	u->nr = (uint32_t)n;
	u->pcs = pcs;
	return 0;
}

int waits__add_ring(struct waits *w, struct ring_buffer *rb)
{
	if (w->opts.unwind_mode == KILN_UNWIND_FP)
		return 0;
	if (ring_buffer__add(rb, bpf_map__fd(w->skel->maps.copies), handle_copy, w))
		return -errno;
	w->rb = rb;
	return 0;
}

int waits__open(const struct waits_opts *opts, struct waits **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .btf_custom_path = opts->btf_path);
	struct wait_bpf *skel;
	struct waits *w;
	int err;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->opts = *opts;
	libbpf_set_print(bpfutil_print);
	w->skel = skel = wait_bpf__open_opts(&oopts);
	if (!skel) {
		err = -errno;
		p_err("failed to open BPF object (off-CPU, locks): %s", strerror(errno));
		goto fail;
	}
	skel->rodata->per_thread = opts->per_thread;
	skel->rodata->filter_pids = opts->filter.nr_pids > 0;
	skel->rodata->filter_cgroups = (__u32)opts->filter.nr_cgroups;
	skel->rodata->filter_comms = opts->filter.nr_comms > 0;
	skel->rodata->keep_kthreads = opts->keep_kthreads;
	skel->rodata->cache_stacks = opts->cache_stacks;
	skel->rodata->self_tgid = (__u32)getpid();
	skel->rodata->offcpu_min_ns = opts->offcpu_min_ns;
	skel->rodata->lock_stack_min_ns = opts->lock_stack_min_ns;
	/* copying needs tp_btf's trusted task pointers */
	if (!opts->use_tp_btf)
		w->opts.unwind_mode = KILN_UNWIND_FP;
	skel->rodata->unwind_mode = (__u32)w->opts.unwind_mode;
	skel->rodata->stack_bytes = opts->stack_bytes ? opts->stack_bytes : 8192;
	if (w->opts.unwind_mode != KILN_UNWIND_FP) {
		int ncpu = libbpf_num_possible_cpus();

		if (ncpu <= 0) {
			err = ncpu ? ncpu : -EINVAL;
			p_err("failed to count possible CPUs: %s", strerror(-err));
			goto fail;
		}
		bpf_map__set_max_entries(skel->maps.scratch, (__u32)ncpu);
		/* one copy per new place: far fewer than samples */
		bpf_map__set_max_entries(skel->maps.copies, opts->copy_ring_bytes ?
							    opts->copy_ring_bytes : 1u << 20);
		skel->rodata->copy_wake_bytes = (opts->copy_ring_bytes ? opts->copy_ring_bytes :
								       1u << 20) / 4;
		err = bpf_map__reuse_fd(skel->maps.unwind_procs, opts->unwind_procs_fd);
		if (err) {
			p_err("failed to share the unwinding map: %s", strerror(-err));
			goto fail;
		}
	} else {
		bpf_map__set_max_entries(skel->maps.copies, 4096);	/* unused */
	}
	bpf_map__set_max_entries(skel->maps.off0, opts->counts_max);
	bpf_map__set_max_entries(skel->maps.off1, opts->counts_max);
	bpf_map__set_max_entries(skel->maps.lock0, opts->counts_max);
	bpf_map__set_max_entries(skel->maps.lock1, opts->counts_max);
	bpf_map__set_max_entries(skel->maps.stacks, opts->stacks_max);
	bpf_map__set_max_entries(skel->maps.stacks_alt, opts->stacks_max / 8 > 256 ?
						      opts->stacks_max / 8 : 256);

	bpf_program__set_autoload(skel->progs.kiln_switch_btf, opts->offcpu && opts->use_tp_btf);
	bpf_program__set_autoload(skel->progs.kiln_switch_raw, opts->offcpu && !opts->use_tp_btf);
	w->flush_on_stop = opts->offcpu && opts->use_tp_btf;
	skel->rodata->offcpu_on = w->flush_on_stop;
	bpf_program__set_autoload(skel->progs.kiln_task_exit, w->flush_on_stop || opts->locks);
	skel->rodata->locks_on = opts->locks;
	bpf_program__set_autoload(skel->progs.kiln_flush_held, w->flush_on_stop || opts->locks);
	bpf_program__set_autoload(skel->progs.kiln_flush_tasks, w->flush_on_stop);
	bpf_program__set_autoload(skel->progs.kiln_snapshot_tasks, w->flush_on_stop);
	if (!w->flush_on_stop)
		skel->rodata->accumulate_max_ns = 0;
	bpf_program__set_autoload(skel->progs.kiln_exact_begin, opts->locks && opts->lock_exact_check);
	bpf_program__set_autoload(skel->progs.kiln_exact_end, opts->locks && opts->lock_exact_check);
	bpf_program__set_autoload(skel->progs.kiln_lock_begin, opts->locks);
	bpf_program__set_autoload(skel->progs.kiln_lock_end, opts->locks);
	if (!opts->use_tp_btf) {
		/* task storage needs kernel BTF: the tid-keyed map stands in */
		bpf_map__set_autocreate(skel->maps.tasks, false);
	}
	err = wait_bpf__load(skel);
	if (err) {
		p_err("failed to load BPF programs (off-CPU, locks): %s%s", strerror(-err),
		      err == -EPERM || err == -EACCES ? " (need root, or CAP_BPF and CAP_PERFMON)" : "");
		goto fail;
	}
	err = bpfutil_fill_filter(&opts->filter, skel->maps.pids, skel->maps.cgroup_filter,
				  skel->maps.comms);
	if (err)
		goto fail;
	if (opts->offcpu) {
		struct bpf_program *prog = opts->use_tp_btf ? skel->progs.kiln_switch_btf :
							      skel->progs.kiln_switch_raw;

		w->switch_attach = opts->use_tp_btf ? "tp_btf" : "raw_tp";
		w->links[0] = bpf_program__attach(prog);
		if (!w->links[0]) {
			err = -errno;
			p_err("failed to attach to sched_switch: %s", strerror(errno));
			goto fail;
		}
	}
	if (w->flush_on_stop || opts->locks) {
		w->links[3] = bpf_program__attach(skel->progs.kiln_task_exit);
		if (!w->links[3]) {
			err = -errno;
			p_err("failed to attach to sched_process_exit: %s", strerror(errno));
			goto fail;
		}
	}
	if (opts->locks && opts->lock_exact_check) {
		w->links[4] = bpf_program__attach(skel->progs.kiln_exact_end);
		w->links[5] = w->links[4] ? bpf_program__attach(skel->progs.kiln_exact_begin) : NULL;
		if (!w->links[5]) {
			err = -errno;
			p_err("failed to attach the exact lock counters: %s", strerror(errno));
			goto fail;
		}
	}
	if (opts->locks) {
		err = waits__attach_locks(w, true);
		if (err) {
			p_err("failed to attach to lock:contention_begin/end: %s", strerror(-err));
			goto fail;
		}
	}
	w->keys = calloc(opts->counts_max, sizeof(struct kiln_lock_key) > sizeof(struct kiln_off_key) ?
			 sizeof(struct kiln_lock_key) : sizeof(struct kiln_off_key));
	w->kframes = calloc(KILN_STACK_SLOTS, sizeof(*w->kframes));
	w->uframes = calloc(KILN_STACK_SLOTS, sizeof(*w->uframes));
	w->pcs = calloc(KILN_STACK_SLOTS, sizeof(*w->pcs));
	w->ustacks = calloc(USTACK_SLOTS, sizeof(*w->ustacks));
	w->vals = calloc(opts->counts_max, sizeof(*w->vals));
	if (!w->keys || !w->vals || !w->kframes || !w->uframes || !w->pcs || !w->ustacks) {
		err = -ENOMEM;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	waits__close(w);
	return err;
}

/* Run a task iterator program once over every task. */
static int run_task_iter(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	char buf[64];
	ssize_t n;
	int fd, err = 0;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
	} else {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n < 0)
			err = -errno;
		close(fd);
	}
	bpf_link__destroy(link);
	return err;
}

int waits__attach_locks(struct waits *w, bool on)
{
	if (!w->opts.locks || w->stopped || on == (w->links[1] != NULL))
		return 0;
	if (!on) {
		/* the begins first: a wait in flight still meets its end */
		bpf_link__destroy(w->links[1]);
		bpf_link__destroy(w->links[2]);
		w->links[1] = w->links[2] = NULL;
		return 0;
	}
	/* waits still open from the last attach never saw their end */
	__atomic_add_fetch(&w->skel->bss->lock_epoch, 1, __ATOMIC_RELAXED);
	/* the ends first: a begin is not left without its end */
	w->links[2] = bpf_program__attach(w->skel->progs.kiln_lock_end);
	w->links[1] = w->links[2] ? bpf_program__attach(w->skel->progs.kiln_lock_begin) : NULL;
	if (!w->links[1]) {
		int err = -errno;

		bpf_link__destroy(w->links[2]);
		w->links[2] = NULL;
		return err;
	}
	return 0;
}

bool waits__locks_attached(const struct waits *w)
{
	return w->links[1] != NULL;
}

int waits__attach_switch(struct waits *w, bool on)
{
	struct bpf_program *prog;

	if (!w->opts.offcpu || w->stopped || on == (w->links[0] != NULL))
		return 0;
	if (!on) {
		bpf_link__destroy(w->links[0]);
		w->links[0] = NULL;
		return 0;
	}
	prog = w->opts.use_tp_btf ? w->skel->progs.kiln_switch_btf : w->skel->progs.kiln_switch_raw;
	w->links[0] = bpf_program__attach(prog);
	return w->links[0] ? 0 : -errno;
}

bool waits__switch_attached(const struct waits *w)
{
	return w->links[0] != NULL;
}

void waits__runs(const struct waits *w, struct waits_runs *out)
{
	int ncpu = libbpf_num_possible_cpus();

	memset(out, 0, sizeof(*out));
	if (ncpu > KILN_RUN_CPUS || ncpu <= 0)
		ncpu = KILN_RUN_CPUS;
	for (int i = 0; i < ncpu; i++) {
		const volatile struct kiln_runs *r = &w->skel->bss->runs[i];

		out->lock_begin += r->lock_begin;
		out->lock_end += r->lock_end;
		out->sched_switch += r->sched_switch;
	}
}

int waits__prog_fds(const struct waits *w, int fds[WAITS_PROG__MAX])
{
	fds[WAITS_PROG_LOCK_BEGIN] = w->opts.locks ? bpf_program__fd(w->skel->progs.kiln_lock_begin) : -1;
	fds[WAITS_PROG_LOCK_END] = w->opts.locks ? bpf_program__fd(w->skel->progs.kiln_lock_end) : -1;
	fds[WAITS_PROG_SWITCH] = !w->opts.offcpu ? -1 :
		bpf_program__fd(w->opts.use_tp_btf ? w->skel->progs.kiln_switch_btf :
						     w->skel->progs.kiln_switch_raw);
	return 0;
}

size_t waits__exact_locks(const struct waits *w, struct kiln_exact_key *keys,
			  struct kiln_exact_val *vals, size_t max, uint64_t *dropped)
{
	int fd = bpf_map__fd(w->skel->maps.exact_locks);
	struct kiln_exact_key key, prev;
	size_t n = 0;
	bool first = true;

	*dropped = 0;
	if (!w->opts.lock_exact_check)
		return 0;
	*dropped = w->skel->bss->exact_dropped;
	while (n < max && !bpf_map_get_next_key(fd, first ? NULL : &prev, &key)) {
		if (!bpf_map_lookup_elem(fd, &key, &vals[n]))
			keys[n++] = key;
		prev = key;
		first = false;
	}
	return n;
}

void waits__set_weights(struct waits *w, double lock_scale, double off_scale)
{
	w->skel->data->lock_weight = (__u32)(lock_scale * KILN_WEIGHT_ONE + 0.5);
	w->skel->data->off_weight = (__u32)(off_scale * KILN_WEIGHT_ONE + 0.5);
}

int waits__stop(struct waits *w)
{
	/* attached, or detached by the governor: tasks hold sums either way */
	bool attached = w->opts.offcpu && !w->stopped;
	bool locks = w->opts.locks && !w->stopped;
	int err = 0;

	/* before the detach: when each task last got a CPU (see the program) */
	if (attached && w->flush_on_stop) {
		err = run_task_iter(w->skel->progs.kiln_snapshot_tasks);
		if (err)
			p_err("failed to note the running tasks at stop: %s", strerror(-err));
	}
	for (size_t i = 0; i < sizeof(w->links) / sizeof(w->links[0]); i++) {
		bpf_link__destroy(w->links[i]);
		w->links[i] = NULL;
	}
	w->stopped = true;
	if (!(attached && w->flush_on_stop) && !locks)
		return 0;
	err = bpfutil_wait_for_programs(bpf_map__fd(w->skel->maps.barrier),
					bpf_map__fd(w->skel->maps.barrier_inner));
	if (!err && attached && w->flush_on_stop) {
		err = run_task_iter(w->skel->progs.kiln_flush_tasks);
		if (err)
			p_err("failed to flush off-CPU time summed per task: %s", strerror(-err));
	}
	if (!err && locks) {
		err = run_task_iter(w->skel->progs.kiln_flush_held);
		if (err)
			p_err("failed to flush the lock waits held per task: %s", strerror(-err));
	}
	return err;
}

void waits__close(struct waits *w)
{
	if (!w)
		return;
	waits__stop(w);
	wait_bpf__destroy(w->skel);
	free(w->keys);
	free(w->vals);
	free(w->kframes);
	free(w->uframes);
	free(w->pcs);
	for (size_t i = 0; w->ustacks && i < USTACK_SLOTS; i++)
		free(w->ustacks[i].pcs);
	free(w->ustacks);
	free(w);
}

const char *waits__switch_attach(const struct waits *w)
{
	return w->switch_attach;
}

/* One stack, from whichever of the two stack maps its id names, or the
 * copied user stack of process @tgid it names. */
static size_t read_stack(struct waits *w, uint32_t tgid, int32_t id, uint64_t *buf,
			 bool *truncated)
{
	if (id >= 0 && !(id & KILN_STACK_ALT) && (id & KILN_USTACK_COPIED)) {
		uint32_t sig = (uint32_t)id & KILN_USTACK_SIG_MASK;
		struct ustack_ent *u = ustack_slot(w, tgid, sig);

		*truncated = false;
		if (u->tgid != tgid || u->sig != sig) {
			w->ustacks_evicted++;
			return 0;
		}
		memcpy(buf, u->pcs, u->nr * sizeof(*buf));
		*truncated = u->nr == KILN_STACK_SLOTS;
		return u->nr;
	}
	if (id >= 0 && (id & KILN_STACK_ALT))
		return bpfutil_read_stack(bpf_map__fd(w->skel->maps.stacks_alt), id & ~KILN_STACK_ALT,
					  buf, truncated);
	return bpfutil_read_stack(bpf_map__fd(w->skel->maps.stacks), id, buf, truncated);
}

static int drain_map(struct waits *w, int fd, size_t key_size, bool lock, wait_entry_fn fn,
		     void *ctx)
{
	size_t nr = bpfutil_take(fd, w->keys, w->vals, key_size, sizeof(*w->vals),
				 w->opts.counts_max);
	char *keys = w->keys;
	int err = 0;

	for (size_t i = 0; i < nr && !err; i++) {
		const void *k = keys + i * key_size;
		struct wait_entry e = { .val = w->vals[i] };
		int32_t ks, us;
		uint32_t tgid;

		/* weighted in the kernel (KILN_WEIGHT_ONE): the governor's estimate */
		e.val.count = (e.val.count + KILN_WEIGHT_ONE / 2) / KILN_WEIGHT_ONE;
		e.val.total_ns = (e.val.total_ns + KILN_WEIGHT_ONE / 2) / KILN_WEIGHT_ONE;
		if (!e.val.count)
			e.val.count = 1;	/* at least the one seen */
		if (lock) {
			e.lock = k;
			ks = e.lock->kstack;
			us = e.lock->ustack;
			tgid = e.lock->tgid;
		} else {
			e.off = k;
			ks = e.off->kstack;
			us = e.off->ustack;
			tgid = e.off->tgid;
		}
		e.nr_kframes = read_stack(w, tgid, ks, w->kframes, &e.k_truncated);
		e.nr_uframes = read_stack(w, tgid, us, w->uframes, &e.u_truncated);
		e.kframes = w->kframes;
		e.uframes = w->uframes;
		err = fn(ctx, &e);
	}
	if (!err)
		err = bpfutil_clear_map(fd, keys, keys + key_size, key_size);
	return err;
}

int waits__drain(struct waits *w, wait_entry_fn fn, void *ctx)
{
	volatile __u32 *gen = &w->skel->bss->gen;
	__u32 old = *gen;
	int err;

	/* what tasks hold goes into the generation drained now */
	if ((w->opts.locks || w->flush_on_stop) && !w->stopped) {
		err = run_task_iter(w->skel->progs.kiln_flush_held);
		if (err) {
			p_err("failed to flush the waits and blocks held per task: %s", strerror(-err));
			return err;
		}
	}
	*gen = old ^ 1;
	err = bpfutil_wait_for_programs(bpf_map__fd(w->skel->maps.barrier),
					bpf_map__fd(w->skel->maps.barrier_inner));
	if (err) {
		p_err("failed to wait for BPF programs in flight: %s", strerror(-err));
		return err;
	}
	/* every copy the drained counts name is in the ring now */
	if (w->rb)
		ring_buffer__consume(w->rb);
	err = drain_map(w, bpf_map__fd(old & 1 ? w->skel->maps.off1 : w->skel->maps.off0),
			sizeof(struct kiln_off_key), false, fn, ctx);
	if (!err)
		err = drain_map(w, bpf_map__fd(old & 1 ? w->skel->maps.lock1 : w->skel->maps.lock0),
				sizeof(struct kiln_lock_key), true, fn, ctx);
	if (err)
		p_err("failed to drain off-CPU and lock maps: %s", strerror(-err));
	return err;
}

void waits__counters(const struct waits *w, uint64_t drops[KILN_WDROP__MAX],
		     uint64_t stats[KILN_WSTAT__MAX])
{
	bpfutil_sum_percpu(bpf_map__fd(w->skel->maps.drops), drops, KILN_WDROP__MAX);
	bpfutil_sum_percpu(bpf_map__fd(w->skel->maps.stats), stats, KILN_WSTAT__MAX);
	drops[KILN_WDROP_USTACK_EVICTED] += w->ustacks_evicted;
	/* not counted per switch, to keep switches cheap: every switch-out
	 * reused stacks or walked; every ended block was recorded (after the
	 * flush at stop; sums still held by tasks before it), was too short, or
	 * went back in time */
	stats[KILN_WSTAT_STACK_CACHED] = stats[KILN_WSTAT_SWITCH_OUT] > stats[KILN_WSTAT_STACK_WALKED] ?
		stats[KILN_WSTAT_SWITCH_OUT] - stats[KILN_WSTAT_STACK_WALKED] : 0;
	stats[KILN_WSTAT_SWITCH_IN] = stats[KILN_WSTAT_OFF_RECORDED] + stats[KILN_WSTAT_BELOW_MIN] +
				      drops[KILN_WDROP_NEGATIVE] + stats[KILN_WSTAT_OFF_CUT];
}
