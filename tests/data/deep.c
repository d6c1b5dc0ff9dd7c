// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: recurses DEPTH frames deep through kiln_fixture_recurse, then spins
 * for SECONDS, so its user stacks exceed the 127-frame stack map slots.
 * Usage: fixture_deep DEPTH SECONDS */
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) unsigned long kiln_fixture_deep_leaf(double end)
{
	volatile unsigned long x[4] = { 1, 2, 3, 4 };

	while (now() < end)
		for (int i = 0; i < 100000; i++)
			x[i & 3] = x[i & 3] * 6364136223846793005UL + 1;
	return x[0];
}

__attribute__((noinline)) unsigned long kiln_fixture_recurse(int depth, double end)
{
	volatile char pad[32];
	unsigned long r;

	pad[0] = (char)depth;
	if (depth <= 1)
		r = kiln_fixture_deep_leaf(end);
	else
		r = kiln_fixture_recurse(depth - 1, end) + (unsigned long)pad[0];
	return r;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 200;
	double secs = argc > 2 ? atof(argv[2]) : 5.0;

	return (int)(kiln_fixture_recurse(depth, now() + secs) & 1);
}
