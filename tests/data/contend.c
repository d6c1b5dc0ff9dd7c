// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: THREADS threads map, touch and unmap memory in one process for
 * SECONDS, contending on its mmap_lock (munmap takes it for writing, page
 * faults for reading). Prints "ops N" (mmap/munmap rounds) when done.
 * With "split", the odd threads map a quarter as much through another
 * function (kiln_fixture_small_churn) and are named "churn-small", the even
 * ones "churn-big": two places that wait on the same lock, for tests that
 * check figures per stack.
 * Usage: fixture_contend THREADS SECONDS [split] */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double end_time;
static unsigned long ops;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void churn(size_t len)
{
	while (now() < end_time) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			continue;
		for (size_t off = 0; off < len; off += 4096)
			p[off] = 1;
		munmap(p, len);
		__atomic_fetch_add(&ops, 1, __ATOMIC_RELAXED);
	}
}

__attribute__((noinline)) void kiln_fixture_map_churn(void)
{
	churn(256 * 1024);
	__asm__ volatile("" ::: "memory");	/* not a tail call: keep the frame */
}

__attribute__((noinline)) void kiln_fixture_small_churn(void)
{
	churn(64 * 1024);
	__asm__ volatile("" ::: "memory");	/* not a tail call: keep the frame */
}

struct role {
	const char *name;		/* NULL: keep the process's */
	void (*churn)(void);
};

static const struct role plain = { NULL, kiln_fixture_map_churn };
static const struct role big = { "churn-big", kiln_fixture_map_churn };
static const struct role small = { "churn-small", kiln_fixture_small_churn };

static void *worker(void *arg)
{
	const struct role *r = arg;

	if (r->name)
		pthread_setname_np(pthread_self(), r->name);
	r->churn();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	int split = argc > 3 && !strcmp(argv[3], "split");
	pthread_t t[64];

	if (n < 1 || n > 64)
		return 2;
	end_time = now() + (argc > 2 ? atof(argv[2]) : 3.0);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker,
			       (void *)(!split ? &plain : i & 1 ? &small : &big));
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("ops %lu\n", ops);
	return 0;
}
