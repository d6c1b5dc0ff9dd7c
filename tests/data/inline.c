// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: two always_inline functions inlined into kiln_inl_host, spinning
 * for the number of seconds given. The test finds the lines it expects by the
 * KILN_LINE_* markers. */
#include <stdlib.h>
#include <time.h>

static inline __attribute__((always_inline)) unsigned long kiln_inl_inner(unsigned long x)
{
	for (int i = 0; i < 100000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL; /* KILN_LINE_INNER */
	return x;
}

static inline __attribute__((always_inline)) unsigned long kiln_inl_outer(unsigned long x)
{
	return kiln_inl_inner(x) + 1; /* KILN_LINE_OUTER */
}

__attribute__((noinline)) unsigned long kiln_inl_host(unsigned long x)
{
	return kiln_inl_outer(x) * 3; /* KILN_LINE_HOST */
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5.0;
	struct timespec ts;
	unsigned long acc = 1;
	double end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + secs;
	do {
		acc += kiln_inl_host(acc);
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
	return acc == 42;
}
