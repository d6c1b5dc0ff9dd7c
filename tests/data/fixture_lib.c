// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture shared library: reports a return address inside its own function. */
__attribute__((noinline)) void *kiln_fixture_pc(void)
{
	return __builtin_return_address(0);
}

__attribute__((noinline, visibility("default"))) void *kiln_fixture_lib_func(void)
{
	void *volatile pc = kiln_fixture_pc();

	return pc;
}
