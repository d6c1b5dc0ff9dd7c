// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* User stacks from a copy of the stack and the registers, unwound by libdw
 * with the CFI of the mapped files (.eh_frame; libdw's frame-pointer rule
 * where a function has none). One Dwfl per process, its modules reported
 * from the process's mappings; the stack is read from the copy only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include "symbolizer_int.h"

struct unwinder {
	Dwfl *dwfl;
	bool attached;
	uint32_t pid;
	/* the sample being unwound */
	uint32_t tid;
	const uint64_t *regs;
	const uint8_t *stack;
	uint64_t sp;
	size_t len;
	/* what the frame callback collects */
	uint64_t *pcs;
	size_t nr, max;
};

/* No separate debug files: .eh_frame is in the file itself, and loading a
 * whole debug file to reach .debug_frame costs more than a sample is worth. */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	(void)mod; (void)userdata; (void)modname; (void)base; (void)file_name;
	(void)debuglink_file; (void)debuglink_crc; (void)debuginfo_file_name;
	return -1;
}

static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = dwfl_linux_proc_find_elf,	/* unused: modules come with an fd */
	.find_debuginfo = no_debuginfo,
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct unwinder *uw = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = uw;
	return (pid_t)uw->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct unwinder *uw = arg;

	(void)dwfl;
	*thread_argp = uw;
	return (uint32_t)tid == uw->tid;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *uw = arg;

	(void)dwfl;
	if (addr < uw->sp || addr - uw->sp > uw->len || uw->len - (addr - uw->sp) < sizeof(*result))
		return false;	/* outside the copy */
	memcpy(result, uw->stack + (addr - uw->sp), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct unwinder *uw = arg;
	Dwarf_Word regs[UNWIND_NR_REGS];

	for (int i = 0; i < UNWIND_NR_REGS; i++)
		regs[i] = uw->regs[i];
	if (!dwfl_thread_state_registers(thread, 0, UNWIND_NR_REGS, regs))
		return false;
	dwfl_thread_state_register_pc(thread, uw->regs[UNWIND_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_cbs = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

struct unwinder *unwinder__new(uint32_t pid)
{
	struct unwinder *uw = calloc(1, sizeof(*uw));

	if (!uw)
		return NULL;
	uw->pid = pid;
	uw->dwfl = dwfl_begin(&dwfl_cbs);
	if (!uw->dwfl) {
		free(uw);
		errno = ENOMEM;
		return NULL;
	}
	dwfl_report_begin(uw->dwfl);
	return uw;
}

int unwinder__add(struct unwinder *uw, const char *name, int fd, uint64_t bias)
{
	/* the fd is the library's on success */
	if (!dwfl_report_elf(uw->dwfl, name, name, fd, bias, true)) {
		close(fd);
		return -ENOEXEC;
	}
	return 0;
}

int unwinder__ready(struct unwinder *uw)
{
	if (dwfl_report_end(uw->dwfl, NULL, NULL))
		return -EINVAL;
	/* the architecture comes from the first module */
	if (!dwfl_attach_state(uw->dwfl, NULL, (pid_t)uw->pid, &thread_cbs, uw))
		return -ENOEXEC;
	uw->attached = true;
	return 0;
}

bool unwinder__covers(struct unwinder *uw, uint64_t addr)
{
	return dwfl_addrmodule(uw->dwfl, addr) != NULL;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct unwinder *uw = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || !pc)
		return DWARF_CB_ABORT;
	uw->pcs[uw->nr++] = pc;
	return uw->nr < uw->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

size_t unwinder__run(struct unwinder *uw, uint32_t tid, const uint64_t *regs,
		     const void *stack, size_t len, uint64_t *pcs, size_t max)
{
	if (!max)
		return 0;
	uw->tid = tid;
	uw->regs = regs;
	uw->stack = stack;
	uw->sp = regs[UNWIND_REG_SP];
	uw->len = len;
	uw->pcs = pcs;
	uw->max = max;
	uw->nr = 0;
	if (uw->attached)
		dwfl_getthread_frames(uw->dwfl, (pid_t)tid, frame_cb, uw);
	if (!uw->nr)
		pcs[uw->nr++] = regs[UNWIND_REG_IP];	/* the leaf is always known */
	uw->stack = NULL;
	return uw->nr;
}

void unwinder__free(struct unwinder *uw)
{
	if (!uw)
		return;
	dwfl_end(uw->dwfl);
	free(uw);
}
