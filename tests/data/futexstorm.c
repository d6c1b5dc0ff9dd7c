// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: a futex storm. THREADS threads call FUTEX_WAIT on one futex word
 * whose value never matches, for SECONDS: each call takes the futex hash
 * bucket's spin lock and returns at once, so the threads contend on that lock
 * with interrupts on (samples land in the spinlock slowpath).
 * Prints "ops N" (futex calls made) when done.
 * Usage: fixture_futexstorm THREADS SECONDS */
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int word;
static double end_at;
static unsigned long ops;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void *kiln_fixture_futex_storm(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (now() < end_at)
		for (int i = 0; i < 1000; i++, n++)
			syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	__atomic_fetch_add(&ops, n, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t tid[64];

	if (threads < 1 || threads > 64)
		return 2;
	end_at = now() + (argc > 2 ? atof(argv[2]) : 5.0);
	for (int i = 1; i < threads; i++)
		pthread_create(&tid[i], NULL, kiln_fixture_futex_storm, NULL);
	kiln_fixture_futex_storm(NULL);
	for (int i = 1; i < threads; i++)
		pthread_join(tid[i], NULL);
	printf("ops %lu\n", ops);
	return 0;
}
