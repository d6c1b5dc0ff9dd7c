// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture for off-CPU tests. Reads one byte from stdin (before the recorder is
 * attached), then blocks in kiln_fixture_pipe_reader reading a second byte, then
 * sleeps MS milliseconds in kiln_fixture_sleeper, then exits - or with "spin",
 * spins on the CPU for up to 10 s first (the recorder stops while it runs).
 * Usage: fixture_offcpu MS [spin] */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "raw_syscall.h"

__attribute__((noinline)) long kiln_fixture_pipe_reader(void)
{
	volatile char buf[64];

	return raw_syscall3(SYS_read, 0, (long)buf, 1);
}

__attribute__((noinline)) long kiln_fixture_sleeper(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	volatile char pad[64];

	pad[0] = 0;
	return raw_syscall3(SYS_nanosleep, (long)&ts, 0, 0) + pad[0];
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 1500;
	char c;

	if (read(0, &c, 1) != 1)
		return 1;
	kiln_fixture_pipe_reader();
	kiln_fixture_sleeper(ms);
	if (argc > 2 && !strcmp(argv[2], "spin")) {
		struct timespec t0, t;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while (t.tv_sec - t0.tv_sec < 10);
	}
	return 0;
}
