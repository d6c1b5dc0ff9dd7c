// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: two threads pinned to one CPU hand a byte back and forth ROUNDS
 * times through two pipes, so each round forces exactly two context switches
 * (each thread blocks once). Starts when a byte arrives on stdin.
 * Usage: fixture_pingpong ROUNDS */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "raw_syscall.h"

static int to_b[2], to_a[2];
static long rounds;

static void pin(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

__attribute__((noinline)) void kiln_fixture_pingpong(int in, int out, int first)
{
	volatile char c = 'x';

	for (long i = 0; i < rounds; i++) {
		if (first)
			raw_syscall3(SYS_write, out, (long)&c, 1);
		raw_syscall3(SYS_read, in, (long)&c, 1);
		if (!first)
			raw_syscall3(SYS_write, out, (long)&c, 1);
	}
}

static void *thread_b(void *arg)
{
	(void)arg;
	pin();
	kiln_fixture_pingpong(to_b[0], to_a[1], 0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t b;
	char c;

	rounds = argc > 1 ? atol(argv[1]) : 10000;
	if (pipe(to_b) || pipe(to_a) || read(0, &c, 1) != 1)
		return 1;
	pin();
	if (pthread_create(&b, NULL, thread_b, NULL))
		return 1;
	kiln_fixture_pingpong(to_a[0], to_b[1], 1);
	pthread_join(b, NULL);
	return 0;
}
