// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixed CPU work for the overhead benchmark: ITERATIONS rounds of integer
 * arithmetic in one process per CPU, all at once. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static unsigned long work(unsigned long n)
{
	volatile unsigned long x = 1;

	for (unsigned long i = 0; i < n; i++)
		x = x * 2862933555777941757UL + 3037000493UL;
	return x;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 300000000UL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	for (long c = 0; c < cpus; c++) {
		if (fork() == 0) {
			work(n);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
