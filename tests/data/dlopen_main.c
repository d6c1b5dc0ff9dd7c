// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: a program built with frame pointers that spins in main for a
 * second, then dlopen()s a library built without them (dlopen_lib.c) and
 * spins there for the rest of SECONDS. Usage: fixture_dlopen LIB SECONDS */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile unsigned long sink;

__attribute__((noinline)) static void kiln_dlopen_warmup(double until)
{
	while (now() < until)
		for (int i = 0; i < 1000; i++)
			sink += (unsigned long)i * 7;
}

int main(int argc, char **argv)
{
	double start = now(), seconds = argc > 2 ? atof(argv[2]) : 5;
	void (*outer)(double);
	void *h;

	if (argc < 2) {
		fprintf(stderr, "usage: fixture_dlopen LIB SECONDS\n");
		return 2;
	}
	kiln_dlopen_warmup(start + 1.0);
	h = dlopen(argv[1], RTLD_NOW);
	if (!h || !(outer = (void (*)(double))dlsym(h, "kiln_dl_outer"))) {
		fprintf(stderr, "fixture_dlopen: %s\n", dlerror());
		return 1;
	}
	printf("dlopened\n");
	fflush(stdout);
	outer(start + seconds);
	return 0;
}
