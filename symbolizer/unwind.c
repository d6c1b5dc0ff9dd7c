// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* User stacks from a copy of the stack and the registers, walked with the
 * call frame information (.eh_frame) of the mapped files, read by libdw
 * (dwarf_getcfi_elf, dwarf_cfi_addrframe). One CFI table per file, shared by
 * every process mapping it and kept with the symbolizer's file cache; the
 * rules are evaluated here, against the copy only. Code without CFI (JITs)
 * is walked through its frame pointer, as libdw's own x86-64 unwinder does. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <sys/mman.h>
#include "symbolizer_int.h"

struct cfi_file {
	int fd;
	Elf *elf;
	Dwarf_CFI *cfi;
	bool parsed;			/* looked up since the table was (re)started */
};

struct cfi_file *cfi_file__open(const char *path)
{
	struct cfi_file *cf = calloc(1, sizeof(*cf));

	if (!cf)
		return NULL;
	cf->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (cf->fd < 0)
		goto fail;
	cf->elf = elf_begin(cf->fd, ELF_C_READ_MMAP, NULL);
	if (!cf->elf)
		goto fail;
	cf->cfi = dwarf_getcfi_elf(cf->elf);
	if (!cf->cfi)
		goto fail;
	return cf;
fail:
	cfi_file__free(cf);
	return NULL;
}

void cfi_file__free(struct cfi_file *cf)
{
	if (!cf)
		return;
	if (cf->cfi)
		dwarf_cfi_end(cf->cfi);
	if (cf->elf)
		elf_end(cf->elf);
	if (cf->fd >= 0)
		close(cf->fd);
	free(cf);
}

bool cfi_file__trim(struct cfi_file *cf, bool restart)
{
	size_t n = 0;
	char *raw = cf && cf->elf ? elf_rawfile(cf->elf, &n) : NULL;

	/* libelf maps ELF_C_READ_MMAP files read-only from offset 0: clean
	 * pages, paged in again from the page cache */
	if (raw && n && !((uintptr_t)raw & 4095))
		madvise(raw, n, MADV_DONTNEED);
	if (!cf || !restart || !cf->parsed)
		return false;
	dwarf_cfi_end(cf->cfi);
	cf->cfi = dwarf_getcfi_elf(cf->elf);	/* reads nothing yet: cheap */
	cf->parsed = false;
	return true;
}

#define REG_RBP 6
#define REG_RSP 7
/* what a caller frame needs restored: rbx, rbp, r12-r15, the return address */
static const int callee_saved[] = { 3, 6, 12, 13, 14, 15, UNWIND_REG_IP };

struct walk {
	uint64_t regs[UNWIND_NR_REGS];
	uint32_t known;			/* bit per register */
	const uint8_t *stack;
	uint64_t sp0;
	size_t len;
};

static bool read_word(const struct walk *w, uint64_t addr, uint64_t *out)
{
	if (addr < w->sp0 || addr - w->sp0 > w->len || w->len - (addr - w->sp0) < sizeof(*out))
		return false;	/* outside the copy */
	memcpy(out, w->stack + (addr - w->sp0), sizeof(*out));
	return true;
}

/* Evaluate a CFI expression (the simple stack machine GCC and the assembler
 * emit: registers, constants, arithmetic, dereferences). */
static bool eval(const struct walk *w, const Dwarf_Op *ops, size_t nops, uint64_t cfa,
		 uint64_t *out, bool *is_value)
{
	uint64_t st[16];
	size_t sp = 0;

	*is_value = false;
	for (size_t i = 0; i < nops; i++) {
		uint8_t op = ops[i].atom;
		uint64_t a, b;

		if (sp == 16)
			return false;
		if (op >= DW_OP_lit0 && op <= DW_OP_lit31) {
			st[sp++] = op - DW_OP_lit0;
		} else if (op >= DW_OP_breg0 && op <= DW_OP_breg31) {
			int r = op - DW_OP_breg0;

			if (r >= UNWIND_NR_REGS || !(w->known & (1u << r)))
				return false;
			st[sp++] = w->regs[r] + (uint64_t)(int64_t)ops[i].number;
		} else if (op >= DW_OP_reg0 && op <= DW_OP_reg31) {
			int r = op - DW_OP_reg0;

			if (r >= UNWIND_NR_REGS || !(w->known & (1u << r)))
				return false;
			st[sp++] = w->regs[r];
			*is_value = true;
		} else {
			switch (op) {
			case DW_OP_bregx:	/* libdw's form of "register + offset" */
				if (ops[i].number >= UNWIND_NR_REGS ||
				    !(w->known & (1u << ops[i].number)))
					return false;
				st[sp++] = w->regs[ops[i].number] + ops[i].number2;
				break;
			case DW_OP_regx:
				if (ops[i].number >= UNWIND_NR_REGS ||
				    !(w->known & (1u << ops[i].number)))
					return false;
				st[sp++] = w->regs[ops[i].number];
				*is_value = true;
				break;
			case DW_OP_call_frame_cfa:
				st[sp++] = cfa;
				break;
			case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u:
			case DW_OP_const2s: case DW_OP_const4u: case DW_OP_const4s:
			case DW_OP_const8u: case DW_OP_const8s: case DW_OP_constu: case DW_OP_consts:
				st[sp++] = ops[i].number;
				break;
			case DW_OP_plus_uconst:
				if (!sp)
					return false;
				st[sp - 1] += ops[i].number;
				break;
			case DW_OP_deref:
				if (!sp || !read_word(w, st[sp - 1], &st[sp - 1]))
					return false;
				break;
			case DW_OP_stack_value:
				*is_value = true;
				break;
			case DW_OP_plus: case DW_OP_minus: case DW_OP_and: case DW_OP_or:
			case DW_OP_shl: case DW_OP_shr: case DW_OP_ge: case DW_OP_gt:
			case DW_OP_le: case DW_OP_lt: case DW_OP_eq: case DW_OP_ne:
				if (sp < 2)
					return false;
				b = st[--sp];
				a = st[sp - 1];
				st[sp - 1] = op == DW_OP_plus ? a + b : op == DW_OP_minus ? a - b :
					     op == DW_OP_and ? (a & b) : op == DW_OP_or ? (a | b) :
					     op == DW_OP_shl ? (b < 64 ? a << b : 0) :
					     op == DW_OP_shr ? (b < 64 ? a >> b : 0) :
					     op == DW_OP_ge ? (int64_t)a >= (int64_t)b :
					     op == DW_OP_gt ? (int64_t)a > (int64_t)b :
					     op == DW_OP_le ? (int64_t)a <= (int64_t)b :
					     op == DW_OP_lt ? (int64_t)a < (int64_t)b :
					     op == DW_OP_eq ? a == b : a != b;
				break;
			default:
				return false;	/* not seen in unwind tables */
			}
		}
	}
	if (!sp)
		return false;
	*out = st[sp - 1];
	return true;
}

/* One frame up through the CFI at @fr. Returns false at the end. */
static bool step_cfi(struct walk *w, Dwarf_Frame *fr)
{
	uint64_t cfa, val, regs[UNWIND_NR_REGS];
	uint32_t known = w->known;
	Dwarf_Op mem[3], *ops;
	size_t nops;
	bool is_value;

	if (dwarf_frame_cfa(fr, &ops, &nops) || !nops || !eval(w, ops, nops, 0, &cfa, &is_value))
		return false;
	memcpy(regs, w->regs, sizeof(regs));
	for (size_t i = 0; i < sizeof(callee_saved) / sizeof(callee_saved[0]); i++) {
		int r = callee_saved[i];

		if (dwarf_frame_register(fr, r, mem, &ops, &nops))
			return false;
		if (!nops) {
			if (ops == mem)
				known &= ~(1u << r);	/* undefined */
			continue;			/* same value */
		}
		if (!eval(w, ops, nops, cfa, &val, &is_value) ||
		    (!is_value && !read_word(w, val, &val))) {
			known &= ~(1u << r);
			continue;
		}
		regs[r] = val;
		known |= 1u << r;
	}
	if (!(known & (1u << UNWIND_REG_IP)))
		return false;	/* the outermost frame: its return address is undefined */
	regs[REG_RSP] = cfa;
	known |= 1u << REG_RSP;
	memcpy(w->regs, regs, sizeof(regs));
	w->known = known;
	return true;
}

/* One frame up through the frame pointer (code without CFI). */
static bool step_fp(struct walk *w)
{
	uint64_t fp = w->regs[REG_RBP], next, ra;

	if (!(w->known & (1u << REG_RBP)) || !read_word(w, fp, &next) || !read_word(w, fp + 8, &ra))
		return false;
	w->regs[REG_RSP] = fp + 16;
	w->regs[REG_RBP] = next;
	w->regs[UNWIND_REG_IP] = ra;
	w->known |= (1u << REG_RSP) | (1u << REG_RBP) | (1u << UNWIND_REG_IP);
	return true;
}

size_t unwind_walk(unwind_find_fn find, void *ctx, const uint64_t *regs, const void *stack,
		   size_t len, uint64_t *pcs, size_t max)
{
	struct walk w = { .stack = stack, .sp0 = regs[UNWIND_REG_SP], .len = len,
			  .known = (1u << UNWIND_NR_REGS) - 1 };
	size_t n = 0;

	if (!max)
		return 0;
	memcpy(w.regs, regs, sizeof(w.regs));
	pcs[n++] = regs[UNWIND_REG_IP];
	while (n < max) {
		uint64_t pc = w.regs[UNWIND_REG_IP], sp = w.regs[REG_RSP], bias = 0;
		/* past the leaf, the call is the byte before the return address */
		uint64_t at = n == 1 ? pc : pc - 1;
		struct cfi_file *cf = find(ctx, at, &bias);
		Dwarf_Frame *fr = NULL;
		int err = -1;
		bool ok;

		if (cf && cf->cfi) {
			cf->parsed = true;
			err = dwarf_cfi_addrframe(cf->cfi, at - bias, &fr);
		}
		if (!err) {
			ok = step_cfi(&w, fr);
			free(fr);
		} else {
			ok = step_fp(&w);
		}
		if (!ok || !w.regs[UNWIND_REG_IP] || w.regs[REG_RSP] <= sp)
			break;	/* the end, or no progress: a loop would follow */
		pcs[n++] = w.regs[UNWIND_REG_IP];
	}
	return n;
}
