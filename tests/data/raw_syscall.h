/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* System calls issued from the calling function itself (x86-64), so that its
 * frame is the one the frame-pointer walk starts from: glibc's wrappers keep
 * no frame pointer and would hide their caller. */
#ifndef KILN_RAW_SYSCALL_H
#define KILN_RAW_SYSCALL_H

static inline __attribute__((always_inline)) long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
