// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: built with -O2 -fomit-frame-pointer, as release builds are.
 * Spins in two ways for the seconds given: through its own call chain down
 * to functions inlined into kiln_nofp_leaf, and through libc's qsort() calling
 * back into kiln_nofp_cmp. Every sample should unwind to main. The test finds
 * the lines by the KILN_LINE_* markers. With "sleep" after the seconds it
 * blocks instead, in usleep() under kiln_nofp_nap <- kiln_nofp_sleeper. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NR_ITEMS 512

static unsigned long items[NR_ITEMS];

static inline __attribute__((always_inline)) unsigned long kiln_nofp_mix(unsigned long x)
{
	for (int i = 0; i < 20000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL; /* KILN_LINE_MIX */
	return x;
}

__attribute__((noinline)) unsigned long kiln_nofp_leaf(unsigned long x)
{
	return kiln_nofp_mix(x) ^ (x >> 7); /* KILN_LINE_LEAF */
}

__attribute__((noinline)) unsigned long kiln_nofp_middle(unsigned long x)
{
	unsigned long a = kiln_nofp_leaf(x);

	return a + kiln_nofp_leaf(a + 1);
}

__attribute__((noinline)) int kiln_nofp_cmp(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	for (int i = 0; i < 40; i++) {
		x = x * 2862933555777941757UL + 3037000493UL;
		y = y * 2862933555777941757UL + 3037000493UL;
	}
	return x < y ? -1 : x > y;
}

__attribute__((noinline)) void kiln_nofp_sort(unsigned long seed)
{
	for (int i = 0; i < NR_ITEMS; i++)
		items[i] = seed = seed * 6364136223846793005UL + 1;
	qsort(items, NR_ITEMS, sizeof(items[0]), kiln_nofp_cmp);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void kiln_nofp_nap(int us)
{
	usleep((useconds_t)us);
}

__attribute__((noinline)) void kiln_nofp_sleeper(double end)
{
	while (now() < end)
		kiln_nofp_nap(2000);
}

int main(int argc, char **argv)
{
	double end = now() + (argc > 1 ? atof(argv[1]) : 5.0);
	unsigned long acc = 1;

	if (argc > 2 && !strcmp(argv[2], "sleep")) {
		kiln_nofp_sleeper(end);
		return 0;
	}
	do {
		acc += kiln_nofp_middle(acc);
		kiln_nofp_sort(acc);
	} while (now() < end);
	return acc == 42;
}
