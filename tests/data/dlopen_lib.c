// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture library, built without frame pointers, loaded by fixture_dlopen
 * after its first second: kiln_dl_outer -> kiln_dl_inner -> kiln_dl_leaf. */
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void kiln_dl_leaf(unsigned long n)
{
	/* enough live values that the compiler uses rbp as a general register */
	unsigned long a = n, b = n * 3, c = n ^ 0x55, d = n + 11, e = n * 13, f = n >> 1;

	for (int i = 0; i < 2000; i++) {
		a += b ^ i;
		b += c * 3;
		c += d ^ a;
		d += e + b;
		e += f ^ c;
		f += a + d;
	}
	sink += a + b + c + d + e + f;
}

__attribute__((noinline)) void kiln_dl_inner(unsigned long n)
{
	kiln_dl_leaf(n);
	sink++;
}

__attribute__((noinline)) void kiln_dl_outer(double until)
{
	unsigned long n = 0;

	while (now() < until)
		kiln_dl_inner(n++);
	sink++;
}
