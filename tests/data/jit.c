// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: a tiny JIT. Copies a countdown loop (x86-64 machine code) into an
 * anonymous executable mapping, names it in /tmp/perf-PID.map the way JITs do
 * (an older name for the same start first, then the current one, plus a line
 * that is not an entry), and runs it for SECONDS. PID is the pid in the
 * process's own pid namespace. Exits 77 on other architectures.
 * Usage: fixture_jit SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
#if defined(__x86_64__)
	/* mov rax, rdi; 1: dec rax; jnz 1b; ret */
	static const unsigned char code[] = { 0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3 };
	double secs = argc > 1 ? atof(argv[1]) : 5.0;
	unsigned long (*fn)(unsigned long);
	struct timespec ts;
	char path[64];
	double end;
	void *mem;
	FILE *f;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	memcpy((char *)mem + 64, code, sizeof(code));
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC))
		return 1;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx %zx kiln_jit_old_name\n", (unsigned long)mem + 64, sizeof(code));
	fprintf(f, "not an entry\n");
	fprintf(f, "%lx %zx LazyCompile:*kiln_jit_spin_loop /app/jit.js:1\n",
		(unsigned long)mem + 64, sizeof(code));
	fclose(f);
	fn = (unsigned long (*)(unsigned long))((char *)mem + 64);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + secs;
	do {
		fn(10000000);
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
	unlink(path);
	return 0;
#else
	(void)argc;
	(void)argv;
	fprintf(stderr, "fixture_jit: x86-64 only\n");
	return 77;
#endif
}
