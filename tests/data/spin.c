// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: spins in kiln_fixture_leaf <- kiln_fixture_middle <- main for the
 * number of seconds given (default 5). Built with frame pointers; the leaf uses
 * stack so that GCC keeps its frame pointer too. */
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) unsigned long kiln_fixture_leaf(unsigned long seed)
{
	volatile unsigned long buf[16];

	for (int i = 0; i < 16; i++)
		buf[i] = seed + (unsigned long)i;
	for (int r = 0; r < 20000; r++)
		for (int i = 0; i < 16; i++)
			buf[i] = buf[i] * 6364136223846793005UL + 1442695040888963407UL;
	return buf[3];
}

__attribute__((noinline)) unsigned long kiln_fixture_middle(unsigned long seed)
{
	volatile unsigned long acc = seed;

	acc += kiln_fixture_leaf(acc);
	return acc;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5.0, end = now() + secs;
	unsigned long acc = 1;

	/* clock_gettime is a vDSO call: the leaf's loop dominates the samples */
	while (now() < end)
		acc += kiln_fixture_middle(acc);
	return (int)(acc & 1);
}
