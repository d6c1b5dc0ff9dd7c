// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The CFI walker on this process's own stack (built without frame pointers):
 * a copy of the stack and registers taken in kiln_test_inner unwinds through
 * kiln_test_outer to main, and still does after libdw's parsed entries were
 * let go (cfi_file__trim with restart, as the symbolizer's batch end does
 * once CFI_LOOKUPS_MAX lookups were made). */
#define _GNU_SOURCE	/* dladdr, dl_iterate_phdr */
#include <dlfcn.h>
#include <libelf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
#include "symbolizer_int.h"

#define STACK_COPY 8192

struct self {
	struct cfi_file *cf;
	uint64_t bias, lo, hi;	/* the executable's code, run-time addresses */
};

static int find_exe(struct dl_phdr_info *info, size_t size, void *data)
{
	struct self *s = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			s->bias = info->dlpi_addr;
			s->lo = info->dlpi_addr + ph->p_vaddr;
			s->hi = s->lo + ph->p_memsz;
		}
	}
	return 1;	/* the first object is the executable */
}

static struct cfi_file *find(void *ctx, uint64_t addr, uint64_t *bias)
{
	struct self *s = ctx;

	if (addr < s->lo || addr >= s->hi)
		return NULL;	/* libc: its frame pointer, if any */
	*bias = s->bias;
	return s->cf;
}

static uint64_t stack_end(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	struct procmaps pm;
	uint64_t end = 0;

	if (f && !procmaps__parse(f, 0, &pm)) {
		for (size_t i = 0; i < pm.nr; i++)
			if (!strcmp(pm.maps[i].path, "[stack]"))
				end = pm.maps[i].end;
		procmaps__clear(&pm);
	}
	if (f)
		fclose(f);
	return end;
}

static uint64_t regs[UNWIND_NR_REGS];
static uint8_t stack[STACK_COPY];
static size_t stack_len;

/* Other frames' bytes, as the kernel copies them: not ASan's business. */
__attribute__((noinline, no_sanitize_address)) static void copy_stack(const volatile uint8_t *sp,
								   size_t len)
{
	for (size_t i = 0; i < len; i++)
		stack[i] = sp[i];
}

/* Registers as one instruction sees them: rip, rsp and the callee-saved
 * ones the CFI may restore (rbx 3, rbp 6, r12-r15). */
__attribute__((noinline)) void kiln_test_inner(uint64_t end)
{
	uint64_t r[8];

	__asm__ volatile("lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, 0(%0)\n\t"
			 "mov %%rsp, 8(%0)\n\t"
			 "mov %%rbx, 16(%0)\n\t"
			 "mov %%rbp, 24(%0)\n\t"
			 "mov %%r12, 32(%0)\n\t"
			 "mov %%r13, 40(%0)\n\t"
			 "mov %%r14, 48(%0)\n\t"
			 "mov %%r15, 56(%0)\n\t"
			 : : "r"(r) : "rax", "memory");
	regs[UNWIND_REG_IP] = r[0];
	regs[UNWIND_REG_SP] = r[1];
	regs[3] = r[2];
	regs[6] = r[3];
	for (int i = 0; i < 4; i++)
		regs[12 + i] = r[4 + i];
	stack_len = end - r[1] < STACK_COPY ? end - r[1] : STACK_COPY;
	copy_stack((const volatile uint8_t *)(uintptr_t)r[1], stack_len);
}

__attribute__((noinline)) void kiln_test_outer(uint64_t end)
{
	kiln_test_inner(end);
	__asm__ volatile("" ::: "memory");	/* not a tail call */
}

static const char *name_of(uint64_t pc)
{
	Dl_info di;

	return dladdr((void *)(uintptr_t)(pc - 1), &di) && di.dli_sname ? di.dli_sname : "?";
}

/* The walk names inner, outer and main, in that order. */
static void check_walk(struct self *s)
{
	uint64_t pcs[32];
	size_t n = unwind_walk(find, s, regs, stack, stack_len, pcs, 32);

	CHECK(n >= 3);
	if (n < 3)
		return;
	CHECK_STR(name_of(pcs[0] + 1), "kiln_test_inner");
	CHECK_STR(name_of(pcs[1]), "kiln_test_outer");
	CHECK_STR(name_of(pcs[2]), "main");
}

int main(void)
{
	struct self s = { 0 };
	uint64_t end = stack_end();

	CHECK(end != 0);
	dl_iterate_phdr(find_exe, &s);
	elf_version(EV_CURRENT);	/* symbolizer__new's job in kiln */
	s.cf = cfi_file__open("/proc/self/exe");
	CHECK(s.cf != NULL);
	if (!s.cf || !end)
		CHECK_DONE();
	CHECK(!cfi_file__trim(s.cf, true));	/* nothing parsed yet */
	kiln_test_outer(end);
	check_walk(&s);
	CHECK(!cfi_file__trim(s.cf, false));	/* pages only */
	check_walk(&s);
	CHECK(cfi_file__trim(s.cf, true));	/* the parsed entries go */
	CHECK(!cfi_file__trim(s.cf, true));
	for (int i = 0; i < 3; i++) {
		check_walk(&s);			/* parsed again */
		CHECK(cfi_file__trim(s.cf, true));
	}
	cfi_file__free(s.cf);
	CHECK_DONE();
}
