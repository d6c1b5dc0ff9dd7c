// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "aggregate.h"

#define MAX_FRAMES (2 * KILN_STACK_SLOTS + 4)

static uint64_t special(struct aggregate *a, const char *name)
{
	return pprof__location(a->prof, 0, 0, name);
}

static uint64_t kernel_loc(struct aggregate *a, uint64_t addr, bool is_return)
{
	struct sym_frame f;
	uint64_t mid;

	symbolizer__kernel(a->sym, addr, is_return, &f);
	mid = pprof__mapping(a->prof, f.map->start, f.map->limit, 0, f.map->path, "", true);
	if (!mid)
		return 0;
	return pprof__location(a->prof, mid, addr, f.name);
}

static uint64_t user_loc(struct aggregate *a, const struct kiln_sample_key *k,
			 uint64_t addr, bool is_return)
{
	struct sym_frame f;
	uint64_t mid = 0;

	symbolizer__user(a->sym, k->tgid, k->comm, addr, is_return, &f);
	if (f.map) {
		mid = pprof__mapping(a->prof, f.map->start, f.map->limit, f.map->offset,
				     f.map->path, f.map->build_id, false);
		if (!mid)
			return 0;
	}
	return pprof__location(a->prof, mid, addr, f.name);
}

int aggregate__entry(void *ctx, const struct sampler_entry *e)
{
	struct aggregate *a = ctx;
	const struct kiln_sample_key *k = e->key;
	uint64_t locs[MAX_FRAMES];
	struct pprof_label labels[4];
	char comm[KILN_COMM_LEN + 1], thread[KILN_COMM_LEN + 1];
	size_t n = 0, nl = 0;
	int64_t values[2];

	memcpy(comm, k->comm, KILN_COMM_LEN);
	comm[KILN_COMM_LEN] = '\0';
	memcpy(thread, k->thread, KILN_COMM_LEN);
	thread[KILN_COMM_LEN] = '\0';

	/* leaf first: kernel frames, then user frames */
	for (size_t i = 0; i < e->nr_kframes; i++)
		locs[n++] = kernel_loc(a, e->kframes[i], i > 0);
	if (e->k_truncated)
		locs[n++] = special(a, "[truncated]");
	if (k->kstack < 0 && k->kstack != -EFAULT)
		locs[n++] = special(a, "[kernel stack lost]");
	for (size_t i = 0; i < e->nr_uframes; i++)
		locs[n++] = user_loc(a, k, e->uframes[i], i > 0);
	if (e->u_truncated)
		locs[n++] = special(a, "[truncated]");
	if (k->ustack < 0 && k->ustack != -EFAULT)
		locs[n++] = special(a, "[user stack lost]");
	if (!n)
		locs[n++] = special(a, "[no stack]");
	for (size_t i = 0; i < n; i++) {
		if (!locs[i]) {
			a->lost += e->count;
			return 0;
		}
	}

	labels[nl++] = (struct pprof_label){ .key = "pid", .num = k->tgid };
	labels[nl++] = (struct pprof_label){ .key = "comm", .str = comm };
	if (a->per_thread) {
		labels[nl++] = (struct pprof_label){ .key = "tid", .num = k->tid };
		labels[nl++] = (struct pprof_label){ .key = "thread", .str = thread };
	}
	values[0] = (int64_t)e->count;
	values[1] = (int64_t)e->count * a->period;
	if (pprof__add_sample(a->prof, locs, n, values, labels, nl))
		a->lost += e->count;
	else
		a->samples += e->count;
	return 0;
}
