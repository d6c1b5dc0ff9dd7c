// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The symbolizer, the sampler and the off-CPU/lock programs, together. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collect.h"
#include "caps.h"
#include "kfeatures.h"
#include "util.h"

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
	struct collector *c = ctx;

	symbolizer__note_process(c->sym, tgid, comm);
	if (c->unwind == KILN_UNWIND_AUTO && c->s)
		sampler__note_code(c->s, c->sym, tgid, comm);
}

static size_t unwind_stack(void *ctx, const struct kiln_stack_event *e, const void *stack,
			   uint64_t *pcs, size_t max)
{
	struct collector *c = ctx;
	char comm[KILN_COMM_LEN + 1];

	memcpy(comm, e->comm, KILN_COMM_LEN);
	comm[KILN_COMM_LEN] = '\0';
	return symbolizer__unwind(c->sym, e->tgid, comm, e->tid, (const uint64_t *)e->regs, stack,
				  e->stack_len, pcs, max);
}

/* @feat: the kernel as preflight() found it and reported it. */
static int open_waits(const struct collect_opts *o, const struct features *feat,
		      struct collector *c)
{
	struct waits_opts wopts = { 0 };
	struct governor_opts gopts;
	int err;

	c->offcpu = o->offcpu;
	/* the lock programs are tp_btf and keep their state in task storage;
	 * features__report() said so when they cannot */
	c->locks = o->locks && feat->lock_tracepoints && feat->tp_btf && feat->task_storage;
	if (!c->offcpu && !c->locks)
		return 0;
	if (c->offcpu && !feat->tp_btf)
		fprintf(stderr, "kiln: off-CPU through raw_tp/sched_switch (no tp_btf): "
			"stacks are walked at every switch-out\n");
	if (!c->offcpu && !c->locks)
		return 0;
	wopts.offcpu = c->offcpu;
	wopts.locks = c->locks;
	wopts.per_thread = o->per_thread;
	wopts.copy_ring_bytes = o->copy_ring_bytes;
	wopts.keep_kthreads = o->offcpu_kthreads;
	wopts.use_tp_btf = feat->tp_btf;
	wopts.cache_stacks = !o->no_stack_cache;
	wopts.filter = o->filter;
	wopts.offcpu_min_ns = o->offcpu_min_ns;
	wopts.lock_stack_min_ns = o->lock_stack_min_ns;
	wopts.lock_exact_check = o->lock_exact_check;
	wopts.counts_max = o->counts_max;
	wopts.stacks_max = o->stacks_max;
	wopts.btf_path = o->btf_path;
	wopts.unwind_mode = c->unwind;
	wopts.stack_bytes = o->stack_bytes;
	wopts.unwind_procs_fd = sampler__unwind_procs_fd(c->s);
	wopts.unwind = unwind_stack;
	wopts.unwind_ctx = c;
	err = waits__open(&wopts, &c->w);
	if (err)
		return err;	/* waits printed why */
	err = waits__add_ring(c->w, sampler__ring(c->s));
	if (err) {
		p_err("failed to add the off-CPU stack ring buffer: %s", strerror(-err));
		return err;
	}
	c->switch_attach = c->offcpu ? waits__switch_attach(c->w) : NULL;
	gopts.budget = o->bpf_budget > 0 ? o->bpf_budget : 0.01;
	gopts.locks_exact = o->locks_exact;
	gopts.offcpu_exact = o->offcpu_exact;
	c->gov = governor__new(c->w, &gopts, now_mono_ns());
	if (!c->gov) {
		p_err("failed to start the cost governor: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	return 0;
}

/* Before anything loads: capabilities and the kernel, in one error line
 * when kiln cannot profile here, else one line on what it will and will not
 * collect. Fills @feat. */
static int preflight(const struct collect_opts *o, struct features *feat)
{
	struct features_want want = { .offcpu = o->offcpu, .locks = o->locks,
				      .btf_file = o->btf_path != NULL };

	if (o->btf_path && access(o->btf_path, R_OK)) {
		p_err("failed to read kernel BTF %s: %s", o->btf_path, strerror(errno));
		return -1;
	}
	features__probe(feat);
	/* capabilities first: without CAP_BPF the probes read as "no" */
	if (caps__check(caps__effective(), feat->kptr_restrict, feat->perf_event_paranoid))
		return -1;
	return features__report(feat, &want, stderr);
}

int collector__open(const struct collect_opts *o, struct collector *c)
{
	struct symbolizer_opts sopts = { .log = sym_log };
	struct sampler_opts sopt = { 0 };
	struct features feat;
	int err;

	memset(c, 0, sizeof(*c));
	if (preflight(o, &feat))
		return -EPERM;
	sopts.extra_debug_dir = o->debug_dir;
	sopts.debuginfod = o->debuginfod;
	sopts.debuginfod_timeout_ms = o->debuginfod_timeout_ms;
	sopts.dwarf_keep = o->dwarf_keep;
	sopts.dwarf_hold_ms = o->dwarf_hold_ms;
	sopts.max_dwarf_bytes = o->max_dwarf_bytes;
	sopts.max_file_bytes = o->max_file_bytes;
	sopts.max_process_bytes = o->max_process_bytes;
	sopts.log_level = kiln_verbose >= 2 ? SYM_LOG_DEBUG :
			  kiln_verbose == 1 ? SYM_LOG_INFO : SYM_LOG_WARN;
	c->sym = symbolizer__new(&sopts);
	if (!c->sym) {
		err = -errno;
		p_err("failed to read /proc/kallsyms: %s%s", strerror(errno),
		      errno == EPERM ? " (addresses hidden by kernel.kptr_restrict; need root or CAP_SYSLOG)" : "");
		return err;
	}
	sopt.freq = (int)o->freq;
	sopt.per_thread = o->per_thread;
	sopt.include_idle = o->include_idle;
	sopt.filter = o->filter;
	sopt.counts_max = o->counts_max;
	sopt.stacks_max = o->stacks_max;
	sopt.btf_path = o->btf_path;
	sopt.on_process = on_process;
	sopt.unwind = unwind_stack;
	c->unwind = sampler__unwind_supported(o->unwind);
	sopt.unwind_mode = c->unwind;
	sopt.stack_bytes = o->stack_bytes;
	sopt.stacks_ring_bytes = o->copy_ring_bytes;
	sopt.ctx = c;
	err = sampler__open(&sopt, &c->s);
	if (!err)
		err = open_waits(o, &feat, c);
	if (err) {
		collector__close(c);
		return err;
	}
	/* our own programs appear in stacks taken inside them */
	symbolizer__kernel_changed(c->sym);
	/* programs loaded now, with owners: their symbols vanish on unload */
	err = bpfprogs__snapshot(&c->progs, true);
	if (err)
		fprintf(stderr, "kiln: BPF programs not listed (%s): bpf_prog_* frames keep "
			"their kallsyms names only\n", strerror(-err));
	/* sampling starts last: the time loading the rest took is not recorded,
	 * and nothing fills the copy ring before anyone reads it */
	err = sampler__start(c->s);
	if (err) {
		collector__close(c);
		return err;
	}
	return 0;
}

int collector__poll(struct collector *c, int timeout_ms)
{
	return sampler__poll(c->s, timeout_ms);
}

/* Give the freed heap back, or the high-water mark of a drain stays. Not
 * after every drain: malloc_trim() releases every free page and the next
 * drain faults them in again (7% of kiln's CPU under exec churn), and
 * mallinfo2() to decide walks every free chunk. */
#define TRIM_EVERY_NS	(5 * 1000000000ULL)

static void trim_heap(struct collector *c)
{
	uint64_t now = now_mono_ns();

	if (now - c->trimmed_ns < TRIM_EVERY_NS)
		return;
	malloc_trim(0);
	c->trimmed_ns = now;
}

int collector__drain(struct collector *c, sampler_entry_fn cpu_fn, void *cpu_ctx,
		     wait_entry_fn wait_fn, void *wait_ctx)
{
	int err;

	/* stacks copied so far are unwound before the counts naming them;
	 * poll() would miss those written without a wakeup */
	err = sampler__consume(c->s);
	if (!err)
		err = sampler__drain(c->s, cpu_fn, cpu_ctx);
	/* the governor's estimates: the kernel weighted the counts */
	if (!err && c->w)
		err = waits__drain(c->w, wait_fn, wait_ctx);
	/* code mapped since a process was classified (dlopen): again */
	if (c->unwind == KILN_UNWIND_AUTO) {
		struct sym_process re[64];
		size_t n = symbolizer__take_remapped(c->sym, re, 64);

		for (size_t i = 0; i < n; i++)
			sampler__note_code(c->s, c->sym, re[i].pid, re[i].comm);
	}
	/* what libdw parsed for this drain goes; the lines found stay cached */
	symbolizer__end_batch(c->sym);
	trim_heap(c);
	return err;
}

int collector__stop(struct collector *c)
{
	int err = 0;

	sampler__stop(c->s);
	if (c->gov)
		governor__stop(c->gov, now_mono_ns());
	if (c->w)
		err = waits__stop(c->w);
	sampler__consume(c->s);
	return err;
}

void collector__close(struct collector *c)
{
	governor__free(c->gov);
	waits__close(c->w);
	sampler__close(c->s);
	symbolizer__free(c->sym);
	bpfprogs__free(&c->progs);
	memset(c, 0, sizeof(*c));
}
