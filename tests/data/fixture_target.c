// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture executable (built PIE and non-PIE): prints a return address inside
 * kiln_fixture_exe_func and one inside the library's kiln_fixture_lib_func,
 * then waits for its stdin to close so a test can symbolize it alive. */
#include <stdio.h>
#include <unistd.h>

void *kiln_fixture_lib_func(void);

__attribute__((noinline)) static void *exe_pc(void)
{
	return __builtin_return_address(0);
}

__attribute__((noinline)) void *kiln_fixture_exe_func(void)
{
	void *volatile pc = exe_pc();

	return pc;
}

int main(void)
{
	char buf[16];

	printf("%p %p\n", kiln_fixture_exe_func(), kiln_fixture_lib_func());
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
