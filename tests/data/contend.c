// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: THREADS threads map, touch and unmap memory in one process for
 * SECONDS, contending on its mmap_lock (munmap takes it for writing, page
 * faults for reading). Prints "ops N" (mmap/munmap rounds) when done.
 * Usage: fixture_contend THREADS SECONDS */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

__attribute__((noinline)) void kiln_fixture_map_churn(void)
{
	const size_t len = 256 * 1024;

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

static void *worker(void *arg)
{
	(void)arg;
	kiln_fixture_map_churn();
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t t[64];

	if (n < 1 || n > 64)
		return 2;
	end_time = now() + (argc > 2 ? atof(argv[2]) : 3.0);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("ops %lu\n", ops);
	return 0;
}
