// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aggregate.h"
#include "util.h"

#define MAX_FRAMES (2 * KILN_STACK_SLOTS + 8)

/* One stack as the kernel handed it out, with the owner's identity. */
struct raw_stack {
	uint32_t tgid;
	const char *comm;
	const uint64_t *kframes, *uframes;
	size_t nr_kframes, nr_uframes;
	bool k_truncated, u_truncated;
	int32_t kstack, ustack;		/* ids: negative means none or lost */
	bool skip_probe_frames;		/* taken inside a tracepoint program */
	bool skip_lock_frames;
};

static uint64_t special(struct aggregate *a, const char *name)
{
	return pprof__location(a->prof, 0, 0, name);
}

#define NAME_ARENA 16384

/* Kernel frame names of one stack, copied (symbolizer strings live only
 * until its next call). */
struct stack_names {
	const char *names[KILN_STACK_SLOTS];
	enum flag_role roles[KILN_STACK_SLOTS];
	uint64_t addrs[KILN_STACK_SLOTS];
	size_t n;
	char arena[NAME_ARENA];
	size_t used;
};

/* flags__role() of kernel frames, remembered by address and the name the
 * symbolizer gave it (a kallsyms reload gives new name pointers): matching
 * names against the rules for every frame of every entry of every drain was
 * a fifth of kiln run's CPU. */
#define ROLE_SLOTS 4096
static struct role_slot {
	uint64_t addr;
	const char *name;
	enum flag_role role;
} role_cache[ROLE_SLOTS];

static enum flag_role role_of(uint64_t addr, const char *name)
{
	struct role_slot *e = &role_cache[(addr * 0x9e3779b97f4a7c15ULL) >> 52];

	if (e->addr != addr || e->name != name || !name) {
		e->addr = addr;
		e->name = name;
		e->role = flags__role(name);
	}
	return e->role;
}

/* Keep a copy of frame @name (NULL: unresolved) at @addr. */
static void names_add(struct stack_names *sn, const char *name, uint64_t addr)
{
	const char *copy = NULL;

	if (sn->n == KILN_STACK_SLOTS)
		return;
	if (name) {
		size_t len = strlen(name) + 1;

		if (sn->used + len <= NAME_ARENA) {
			memcpy(sn->arena + sn->used, name, len);
			copy = sn->arena + sn->used;
			sn->used += len;
		}
	}
	sn->addrs[sn->n] = addr;
	sn->roles[sn->n] = role_of(addr, name);
	sn->names[sn->n++] = copy;
}

/* The program covering @addr: a snapshot of the loaded programs is taken
 * again (at most once a second, whichever profile asks) when a new one shows
 * up. */
static const struct bpf_prog_rec *prog_at(struct aggregate *a, uint64_t addr)
{
	const struct bpf_prog_rec *r;
	uint64_t now;

	if (!a->progs)
		return NULL;
	r = bpfprogs__find_addr(a->progs, addr);
	if (r)
		return r;
	now = now_mono_ns();
	if (now - a->progs->refreshed_ns < 1000000000ULL)
		return NULL;
	a->progs->refreshed_ns = now;
	bpfprogs__snapshot(a->progs, true);
	r = bpfprogs__find_addr(a->progs, addr);
	/* a program loaded since kallsyms was read: until it is read again,
	 * the program's frames take the name of the one below it */
	if (r && a->sym)
		symbolizer__kernel_changed(a->sym);
	return r;
}

/* Count @value for the program of frame @i: by id where a loaded program
 * covers the address (a program and its subprograms are one), else by name. */
static void account_prog(struct aggregate *a, const struct stack_names *sn, size_t i,
			 bool self, uint64_t value, uint32_t *seen, size_t *nr_seen)
{
	struct flag_summary *fs = a->flags;
	const struct bpf_prog_rec *r = prog_at(a, sn->addrs[i]);
	uint32_t id = r ? r->id : 0;
	struct flag_prog *p = NULL;
	bool counted = false;

	for (size_t k = 0; id && k < *nr_seen; k++)
		counted |= seen[k] == id;
	if (id && !counted && *nr_seen < KILN_STACK_SLOTS)
		seen[(*nr_seen)++] = id;
	for (size_t k = 0; k < fs->nr_progs && !p; k++)
		if (id ? fs->progs[k].id == id : !strcmp(fs->progs[k].symbol, sn->names[i]))
			p = &fs->progs[k];
	if (!p && fs->nr_progs < FLAG_PROGS_MAX) {
		p = &fs->progs[fs->nr_progs++];
		p->id = id;
		if (r)
			snprintf(p->symbol, sizeof(p->symbol), "bpf_prog_%s_%s", r->tag, r->name);
		else
			snprintf(p->symbol, sizeof(p->symbol), "%s", sn->names[i]);
	}
	if (!p) {
		fs->progs_other += value;
		return;
	}
	if (!counted)
		p->total += value;
	if (self)
		p->self += value;
}

static void account_chain(struct flag_summary *fs, const struct stack_names *sn,
			  const struct flag_match *m, uint64_t value)
{
	struct flag_chain *c = NULL;
	char text[sizeof(c->text)] = "";
	size_t idx[4], nc = flags__chain(sn->names, sn->n, m, idx, 4);

	for (size_t i = 0; i < nc; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s",
			 i ? " <- " : "", sn->names[idx[i]]);
	if (!nc)
		snprintf(text, sizeof(text), "%s", sn->n ? "(no caller in the stack)" :
			 "(no stack taken: a short wait)");
	for (size_t i = 0; i < fs->nr_chains && !c; i++)
		if (fs->chains[i].flag == m->flag && !strcmp(fs->chains[i].text, text))
			c = &fs->chains[i];
	if (!c && fs->nr_chains < FLAG_CHAINS_MAX) {
		c = &fs->chains[fs->nr_chains++];
		c->flag = m->flag;
		memcpy(c->text, text, sizeof(text));
	}
	if (c)
		c->value += value;
	else
		fs->chains_other[m->flag] += value;
}

/* Count one classified stack of @value in the flag summary. */
static void account(struct aggregate *a, const struct stack_names *sn, const struct flag_match *m,
		    uint64_t value)
{
	struct flag_summary *fs = a->flags;

	if (!fs)
		return;
	if (m->flag != KILN_FLAG_NONE) {
		fs->value[m->flag] += value;
		for (unsigned int i = 0; i < KILN_UNDER__COUNT; i++)
			if (m->under & (1u << i))
				fs->under[m->flag][i] += value;
		account_chain(fs, sn, m, value);
	}
	/* every program below the first interrupt boundary, once per stack */
	uint32_t seen[KILN_STACK_SLOTS];
	size_t nr_seen = 0;

	for (size_t i = 0; i < sn->n; i++) {
		enum flag_role r = sn->roles[i];
		bool dup = false;

		if (r == ROLE_BOUNDARY)
			break;
		if (r != ROLE_BPF_PROG)
			continue;
		for (size_t k = 0; k < i && !dup; k++)
			dup = sn->names[k] && !strcmp(sn->names[k], sn->names[i]);
		if (!dup)
			account_prog(a, sn, i, m->flag == KILN_FLAG_BPF_PROG && (int)i == m->frame, value,
				     seen, &nr_seen);
	}
}

/* A user frame with DWARF lines: one location, a line per inlined function. */
static uint64_t user_location(struct aggregate *a, uint64_t mid, uint64_t addr,
			      const struct sym_frame *f)
{
	struct pprof_line lines[PPROF_LINES_MAX];
	size_t n = f->nr_src < PPROF_LINES_MAX ? f->nr_src : PPROF_LINES_MAX;

	for (size_t i = 0; i < n; i++)
		lines[i] = (struct pprof_line){ f->src[i].func, f->src[i].file, f->src[i].line };
	return pprof__location_lines(a->prof, mid, addr, lines, n);
}

/* Append the locations of @rs to @locs (leaf first); returns how many, or 0
 * when one could not be interned. */
static size_t build_stack(struct aggregate *a, const struct raw_stack *rs, uint64_t *locs,
			  size_t n, struct stack_names *sn, struct flag_match *fm)
{
	bool skip_glue = rs->skip_probe_frames, skip_lock = rs->skip_lock_frames;
	size_t start = n;
	struct sym_frame f;

	*fm = (struct flag_match){ .frame = -1, .prog_frame = -1 };
	sn->n = 0;
	sn->used = 0;
	if (rs->kstack == KILN_STACK_NOT_TAKEN) {
		locs[n++] = special(a, "[stack not taken: short wait]");
		goto check;
	}
	for (size_t i = 0; i < rs->nr_kframes; i++) {
		uint64_t mid;

		symbolizer__kernel(a->sym, rs->kframes[i], i > 0, &f);
		/* start where the traced code was: the program's own frames and
		 * the tracepoint's glue differ between kernels (static calls or
		 * not, subprograms), so they are dropped by name, not counted in
		 * the kernel */
		if (skip_glue && f.name && probe_glue_frame(f.name))
			continue;
		skip_glue = false;
		names_add(sn, f.name, rs->kframes[i]);	/* the flags see the lock code */
		/* locks: start at the code that asked for the lock */
		if (skip_lock && f.name && lock_internal_frame(f.name))
			continue;
		skip_lock = false;
		mid = pprof__mapping(a->prof, f.map->start, f.map->limit, 0, f.map->path, "", true);
		locs[n++] = mid ? pprof__location(a->prof, mid, rs->kframes[i], f.name) : 0;
	}
	flags__classify_roles(sn->roles, sn->n, fm);
	if (rs->k_truncated)
		locs[n++] = special(a, "[truncated]");
	if (rs->kstack < 0 && rs->kstack != -EFAULT)
		locs[n++] = special(a, "[kernel stack lost]");
	for (size_t i = 0; i < rs->nr_uframes; i++) {
		uint64_t mid = 0;

		symbolizer__user(a->sym, rs->tgid, rs->comm, rs->uframes[i], i > 0, &f);
		if (f.map)
			mid = pprof__mapping(a->prof, f.map->start, f.map->limit, f.map->offset,
					     f.map->path, f.map->build_id, false);
		if (f.map && !mid)
			locs[n++] = 0;
		else if (f.nr_src)
			locs[n++] = user_location(a, mid, rs->uframes[i], &f);
		else
			locs[n++] = pprof__location(a->prof, mid, rs->uframes[i], f.name);
	}
	if (rs->u_truncated)
		locs[n++] = special(a, "[truncated]");
	if (rs->ustack < 0 && rs->ustack != -EFAULT)
		locs[n++] = special(a, "[user stack lost]");
	if (n == start)
		locs[n++] = special(a, "[no stack]");
check:
	for (size_t i = start; i < n; i++)
		if (!locs[i])
			return 0;
	return n;
}

/* Add one sample, labelled with its flag; @flag_value (samples or ns) goes
 * to the flag summary once the sample is in. @labels has room for one more. */
static void add(struct aggregate *a, const uint64_t *locs, size_t n, const int64_t *values,
		uint64_t count, struct pprof_label *labels, size_t nl,
		const struct stack_names *sn, const struct flag_match *fm, uint64_t flag_value)
{
	if (fm->flag != KILN_FLAG_NONE)
		labels[nl++] = (struct pprof_label){ .key = "flag", .str = flags__name(fm->flag) };
	if (!n || pprof__add_sample(a->prof, locs, n, values, labels, nl)) {
		a->lost += count;
		return;
	}
	a->samples += count;
	account(a, sn, fm, flag_value);
}

/* pid, comm and, per thread, tid and thread name, unless @a uploads
 * without them; returns how many. */
static size_t identity_labels(struct pprof_label *l, const struct aggregate *a, uint32_t tgid,
			      const char *comm, uint32_t tid, const char *thread)
{
	size_t n = 0;

	if (a->no_identity)
		return 0;
	l[n++] = (struct pprof_label){ .key = "pid", .num = tgid };
	l[n++] = (struct pprof_label){ .key = "comm", .str = comm };
	if (a->per_thread) {
		l[n++] = (struct pprof_label){ .key = "tid", .num = tid };
		l[n++] = (struct pprof_label){ .key = "thread", .str = thread };
	}
	return n;
}

static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, KILN_COMM_LEN);
	dst[KILN_COMM_LEN] = '\0';
}

int aggregate__entry(void *ctx, const struct sampler_entry *e)
{
	struct aggregate *a = ctx;
	const struct kiln_sample_key *k = e->key;
	char comm[KILN_COMM_LEN + 1], thread[KILN_COMM_LEN + 1];
	struct raw_stack rs = {
		.tgid = k->tgid, .comm = comm, .kframes = e->kframes, .uframes = e->uframes,
		.nr_kframes = e->nr_kframes, .nr_uframes = e->nr_uframes,
		.k_truncated = e->k_truncated, .u_truncated = e->u_truncated,
		.kstack = k->kstack, .ustack = k->ustack,
	};
	uint64_t locs[MAX_FRAMES];
	struct pprof_label labels[5];
	int64_t values[2] = { (int64_t)e->count, (int64_t)e->count * a->period };
	struct stack_names sn;
	struct flag_match fm;
	size_t nl, n;

	copy_comm(comm, k->comm);
	copy_comm(thread, k->thread);
	nl = identity_labels(labels, a, k->tgid, comm, k->tid, thread);
	n = build_stack(a, &rs, locs, 0, &sn, &fm);
	add(a, locs, n, values, e->count, labels, nl, &sn, &fm, e->count);
	return 0;
}

const char *lock_kind_name(uint32_t f)
{
	if (f & KILN_LCB_PERCPU)
		return f & KILN_LCB_WRITE ? "percpu_rwsem_write" : "percpu_rwsem_read";
	if (f & KILN_LCB_MUTEX)
		return "mutex";
	if (f & KILN_LCB_RT)
		return "rt_mutex";
	if (f & KILN_LCB_SPIN) {
		if (f & KILN_LCB_READ)
			return "rwlock_read";
		if (f & KILN_LCB_WRITE)
			return "rwlock_write";
		return "spinlock";
	}
	if (f & KILN_LCB_READ)
		return "rwsem_read";
	if (f & KILN_LCB_WRITE)
		return "rwsem_write";
	return "semaphore";
}

const char *task_state_name(uint32_t state)
{
	static const char *const names[] = {
		[KILN_STATE_RUNNABLE] = "runnable",
		[KILN_STATE_SLEEPING] = "sleeping",
		[KILN_STATE_UNINTERRUPTIBLE] = "uninterruptible",
		[KILN_STATE_IDLE] = "idle",
		[KILN_STATE_STOPPED] = "stopped",
		[KILN_STATE_OTHER] = "other",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "other";
}

bool probe_glue_frame(const char *name)
{
	enum flag_role r = flags__role(name);

	/* a program, what ran it, and the tracepoint's iterator */
	return r == ROLE_BPF_PROG || r == ROLE_BPF_TRAMPOLINE ||
	       (name && !strncmp(name, "__traceiter_", 12));
}

bool lock_internal_frame(const char *name)
{
	/* families: every function starting so belongs to the locking code */
	static const char *const prefixes[] = {
		"__mutex_lock", "mutex_lock", "__rt_mutex", "rt_mutex", "rt_spin_lock",
		"__down", "down_read", "down_write", "rwsem_down_", "rwsem_optimistic_spin",
		"__percpu_down", "percpu_down_", "_raw_spin_lock", "_raw_read_lock",
		"_raw_write_lock", "do_raw_spin_lock", "queued_", "native_queued_",
		"__pv_queued_", "pv_queued_", "osq_lock", "mutex_optimistic_spin",
	};
	/* single functions, also as compiler clones (".constprop.0", ".isra.0") */
	static const char *const exact[] = {
		"down", "schedule", "__schedule", "schedule_preempt_disabled", "io_schedule",
		"schedule_timeout",
	};

	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		size_t n = strlen(exact[i]);

		if (!strncmp(name, exact[i], n) && (name[n] == '\0' || name[n] == '.'))
			return true;
	}
	return false;
}

const char *lock_label(const struct kiln_lock_key *k, char *buf, size_t len)
{
	switch (k->name) {
	case KILN_LOCK_MMAP: return "mmap_lock";
	case KILN_LOCK_SIGLOCK: return "siglock";
	case KILN_LOCK_RQ: return "rq_lock";
	default:
		snprintf(buf, len, "0x%llx", (unsigned long long)k->lock);
		return buf;
	}
}

void wait_aggregate__release(struct wait_aggregate *w)
{
	if (!w)
		return;
	free(w->locks);
	w->locks = NULL;
	w->nr_locks = w->locks_cap = 0;
}

static void lock_total_add(struct wait_aggregate *w, const char *name, const char *kind,
			   const struct kiln_wait_val *v)
{
	struct lock_total *t = NULL;

	for (size_t i = 0; i < w->nr_locks; i++)
		if (!strcmp(w->locks[i].name, name) && !strcmp(w->locks[i].kind, kind))
			t = &w->locks[i];
	if (!t && w->nr_locks == w->locks_cap && w->locks_cap < LOCK_TABLE_MAX) {
		/* most services wait on a few locks: a table per service of
		 * LOCK_TABLE_MAX was 24 KiB each, every interval */
		size_t ncap = w->locks_cap ? w->locks_cap * 2 : 8;
		struct lock_total *n = realloc(w->locks, ncap * sizeof(*n));

		if (n) {
			w->locks = n;
			w->locks_cap = ncap;
		}
	}
	if (!t && w->nr_locks < w->locks_cap) {
		t = &w->locks[w->nr_locks++];
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", name);
		snprintf(t->kind, sizeof(t->kind), "%s", kind);
	}
	if (!t) {
		t = &w->other;	/* bounded: the rest is summed, not dropped */
		snprintf(t->name, sizeof(t->name), "other");
	}
	t->count += v->count;
	t->total_ns += v->total_ns;
	if (v->max_ns > t->max_ns)
		t->max_ns = v->max_ns;
}

int aggregate__wait_entry(void *ctx, const struct wait_entry *e)
{
	struct wait_aggregate *w = ctx;
	char comm[KILN_COMM_LEN + 1], thread[KILN_COMM_LEN + 1], frame[96], lbuf[40];
	struct pprof_label labels[6];
	uint64_t locs[MAX_FRAMES];
	int64_t values[2] = { (int64_t)e->val.count, (int64_t)e->val.total_ns };
	struct stack_names sn;
	struct flag_match fm;
	struct raw_stack rs = {
		.comm = comm, .kframes = e->kframes, .uframes = e->uframes,
		.nr_kframes = e->nr_kframes, .nr_uframes = e->nr_uframes,
		.k_truncated = e->k_truncated, .u_truncated = e->u_truncated,
		.skip_probe_frames = true,	/* every wait stack is taken in a tracepoint */
	};
	size_t nl, n = 0;

	if (e->off) {
		const struct kiln_off_key *k = e->off;

		copy_comm(comm, k->comm);
		copy_comm(thread, k->thread);
		rs.tgid = k->tgid;
		rs.kstack = k->kstack;
		rs.ustack = k->ustack;
		nl = identity_labels(labels, &w->off, k->tgid, comm, k->tid, thread);
		labels[nl++] = (struct pprof_label){ .key = "state", .str = task_state_name(k->state) };
		w->offcpu_ns += e->val.total_ns;
		n = build_stack(&w->off, &rs, locs, 0, &sn, &fm);
		add(&w->off, locs, n, values, e->val.count, labels, nl, &sn, &fm, e->val.total_ns);
	} else {
		const struct kiln_lock_key *k = e->lock;
		const char *kind = lock_kind_name(k->flags), *name = lock_label(k, lbuf, sizeof(lbuf));

		copy_comm(comm, k->comm);
		copy_comm(thread, k->thread);
		rs.tgid = k->tgid;
		rs.kstack = k->kstack;
		rs.ustack = k->ustack;
		rs.skip_lock_frames = true;
		/* the lock itself is the leaf: waiter stacks, block-profile style */
		snprintf(frame, sizeof(frame), "[lock %s %s]", name, kind);
		locs[n++] = special(&w->lock, frame);
		nl = identity_labels(labels, &w->lock, k->tgid, comm, k->tid, thread);
		labels[nl++] = (struct pprof_label){ .key = "kind", .str = kind };
		lock_total_add(w, name, kind, &e->val);
		w->lock_ns += e->val.total_ns;
		fm = (struct flag_match){ .frame = -1, .prog_frame = -1 };
		sn.n = 0;
		n = locs[0] ? build_stack(&w->lock, &rs, locs, n, &sn, &fm) : 0;
		/* a spin wait is a slowpath even when its stack was not taken */
		if (fm.flag == KILN_FLAG_NONE && (k->flags & KILN_LCB_SPIN) &&
		    !(k->flags & (KILN_LCB_MUTEX | KILN_LCB_RT)))
			fm.flag = KILN_FLAG_SPINLOCK_SLOWPATH;
		add(&w->lock, locs, n, values, e->val.count, labels, nl, &sn, &fm, e->val.total_ns);
	}
	return 0;
}
