// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpfutil.h"
#include "profile.h"
#include "util.h"

int bpfutil_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && kiln_verbose < 3)
		return 0;
	if (level == LIBBPF_INFO && kiln_verbose < 2)
		return 0;
	return vfprintf(stderr, fmt, args);
}

size_t bpfutil_read_stack(int stacks_fd, int32_t id, uint64_t *buf, bool *truncated)
{
	size_t n = 0;

	*truncated = false;
	if (id < 0 || bpf_map_lookup_elem(stacks_fd, &id, buf))
		return 0;
	while (n < KILN_STACK_SLOTS && buf[n])
		n++;
	*truncated = n == KILN_STACK_SLOTS;
	return n;
}

int bpfutil_wait_for_programs(int barrier_fd, int inner_fd)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(barrier_fd, &zero, &inner_fd, BPF_ANY))
		return -errno;
	return 0;
}

/* Iterating from the key just deleted keeps this linear: a hash map restarts
 * at its (new) first element, a stack map continues at the next id. */
int bpfutil_clear_map(int fd, void *key, void *prev, size_t key_size)
{
	const void *from = NULL;

	while (!bpf_map_get_next_key(fd, from, key)) {
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
			return -errno;
		memcpy(prev, key, key_size);
		from = prev;
	}
	return errno == ENOENT ? 0 : -errno;
}

void bpfutil_sum_percpu(int fd, uint64_t *out, uint32_t nr)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	memset(out, 0, nr * sizeof(*out));
	if (ncpu <= 0)
		return;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (uint32_t i = 0; i < nr; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
}

/* The slow way of bpfutil_take(): a key, its value, its deletion. */
static size_t take_one_by_one(int fd, char *keys, char *vals, size_t key_size,
			      size_t val_size, size_t max)
{
	size_t nr = bpfutil_collect_keys(fd, keys, key_size, max), n = 0;

	for (size_t i = 0; i < nr; i++) {
		char *k = keys + n * key_size;

		if (k != keys + i * key_size)
			memcpy(k, keys + i * key_size, key_size);
		if (bpf_map_lookup_elem(fd, k, vals + n * val_size))
			continue;
		bpf_map_delete_elem(fd, k);
		n++;
	}
	return n;
}

size_t bpfutil_take(int fd, void *keys, void *vals, size_t key_size, size_t val_size,
		    size_t max)
{
	char *k = keys, *v = vals;
	__u32 batch = 0;
	size_t n = 0;

	while (n < max) {
		__u32 count = (__u32)(max - n);
		int err = bpf_map_lookup_and_delete_batch(fd, n ? &batch : NULL, &batch,
							  k + n * key_size, v + n * val_size,
							  &count, NULL);

		n += count;
		if (err == -ENOENT || (!err && !count))
			break;		/* the whole map was read */
		if (err && !n && err != -ENOSPC)
			return take_one_by_one(fd, keys, vals, key_size, val_size, max);
		if (err)
			break;		/* -ENOSPC: a bucket larger than the room left */
	}
	return n;
}

size_t bpfutil_collect_keys(int fd, void *keys, size_t key_size, size_t max)
{
	char *k = keys;
	const void *prev = NULL;
	size_t n = 0;

	while (n < max && !bpf_map_get_next_key(fd, prev, k + n * key_size)) {
		prev = k + n * key_size;
		n++;
	}
	return n;
}

int bpfutil_fill_filter(const struct task_filter *f, struct bpf_map *pids,
			struct bpf_map *cgroups, struct bpf_map *comms)
{
	__u8 one = 1;
	int err;

	for (size_t i = 0; i < f->nr_pids; i++) {
		err = bpf_map__update_elem(pids, &f->pids[i], sizeof(f->pids[i]), &one, sizeof(one),
					   BPF_ANY);
		if (err) {
			p_err("failed to add pid %u to the filter: %s", f->pids[i], strerror(-err));
			return err;
		}
	}
	for (size_t i = 0; i < f->nr_cgroups && i < KILN_MAX_CGROUPS; i++) {
		__u32 idx = (__u32)i;
		int fd = open(f->cgroups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			p_err("failed to open cgroup %s: %s", f->cgroups[i], strerror(errno));
			return err;
		}
		err = bpf_map__update_elem(cgroups, &idx, sizeof(idx), &fd, sizeof(fd), BPF_ANY);
		close(fd);	/* the map holds the cgroup */
		if (err) {
			p_err("failed to add cgroup %s to the filter: %s", f->cgroups[i],
			      strerror(-err));
			return err;
		}
	}
	for (size_t i = 0; i < f->nr_comms; i++) {
		char key[16] = { 0 };

		strncpy(key, f->comms[i], sizeof(key) - 1);
		err = bpf_map__update_elem(comms, key, sizeof(key), &one, sizeof(one), BPF_ANY);
		if (err) {
			p_err("failed to add comm %s to the filter: %s", f->comms[i], strerror(-err));
			return err;
		}
	}
	return 0;
}
