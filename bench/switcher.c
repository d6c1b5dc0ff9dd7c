// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Paced context switches for the off-CPU benchmark: sleeps PERIOD_US
 * microseconds in a loop for SECONDS (each sleep is one switch out and in).
 * Usage: bench_switcher SECONDS PERIOD_US */
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	long period = argc > 2 ? atol(argv[2]) : 100;
	struct timespec ts = { 0, period * 1000 }, now, end;

	prctl(PR_SET_TIMERSLACK, 1UL);	/* wake on time, not up to 50 us late */
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)secs;
	do {
		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	return 0;
}
