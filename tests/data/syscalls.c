// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: makes cheap system calls for the number of seconds given, from
 * kiln_fixture_syscaller, so its samples carry kernel frames under user ones. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) long kiln_fixture_syscaller(int fd)
{
	volatile char buf[64];
	long n = 0;

	for (int i = 0; i < 1000; i++) {
		n += pread(fd, (char *)buf, sizeof(buf), 0);
		n += syscall(SYS_getppid);
	}
	return n;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 5.0;
	int fd = open("/proc/self/stat", O_RDONLY);
	struct timespec ts;
	double end;
	long n = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + secs;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 >= end)
			break;
		n += kiln_fixture_syscaller(fd);
	}
	return (int)(n & 1);
}
