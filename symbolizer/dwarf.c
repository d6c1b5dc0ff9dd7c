// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Source lines and inlined functions from DWARF (libdw): for an address, the
 * chain of functions inlined there, innermost first, each with the file:line
 * it is at. */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "symbolizer_int.h"

struct dwarf_info {
	Dwarf *dw;
	int fd;
	bool refused;		/* bigger than the budget: never parsed */
	size_t bytes;		/* its debug sections, inflated */
	struct dwarf_budget *budget;
	uint64_t used;		/* lookups since it was last released */
	bool batch_used;	/* looked up since the last dwarf_info__idle_ns() */
	uint64_t used_ns;	/* when it was last seen looked up */
};

/* What libdw will hold for the file's debug sections: compressed ones are
 * inflated into the heap at dwarf_begin(), the others are mapped and paged
 * in as read. Read from the section headers (and compression headers) only.
 * Returns 0 when the file has no .debug_info. */
static size_t debug_bytes(int fd)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t shstrndx, total = 0;
	bool info = false;
	Elf_Scn *scn = NULL;

	bool elf64;

	if (!elf)
		return 0;
	elf64 = gelf_getclass(elf) == ELFCLASS64;
	if (elf_getshdrstrndx(elf, &shstrndx)) {
		elf_end(elf);
		return 0;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf64_Chdr ch64;
		Elf32_Chdr ch32;
		unsigned char b[12];
		const char *name;
		size_t size;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || (strncmp(name, ".debug_", 7) && strncmp(name, ".zdebug_", 8)))
			continue;
		size = sh.sh_size;
		/* the headers are read from the file: libelf would load the whole
		 * section to hand them over */
		if (sh.sh_flags & SHF_COMPRESSED) {
			if (elf64 && pread(fd, &ch64, sizeof(ch64), (off_t)sh.sh_offset) ==
					     (ssize_t)sizeof(ch64))
				size = ch64.ch_size;
			else if (!elf64 && pread(fd, &ch32, sizeof(ch32), (off_t)sh.sh_offset) ==
						   (ssize_t)sizeof(ch32))
				size = ch32.ch_size;
		} else if (name[1] == 'z' &&
			   pread(fd, b, sizeof(b), (off_t)sh.sh_offset) == (ssize_t)sizeof(b) &&
			   !memcmp(b, "ZLIB", 4)) {
			/* GNU style: "ZLIB" and the inflated size, big-endian */
			size = 0;
			for (int i = 4; i < 12; i++)
				size = size << 8 | b[i];
		}
		total += size;
		if (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info"))
			info = true;
	}
	elf_end(elf);
	return info ? total : 0;
}

struct dwarf_info *dwarf_info__open(const char *path, struct dwarf_budget *budget)
{
	struct dwarf_info *di;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t bytes;

	if (fd < 0)
		return NULL;
	bytes = debug_bytes(fd);
	if (!bytes) {
		/* no .debug_info here: not an error, just no lines */
		close(fd);
		errno = ENODATA;
		return NULL;
	}
	di = calloc(1, sizeof(*di));
	if (!di) {
		close(fd);
		return NULL;
	}
	di->fd = fd;
	di->bytes = bytes;
	di->budget = budget;
	return di;	/* parsed at the first lookup */
}

void dwarf_info__release(struct dwarf_info *di)
{
	if (!di)
		return;
	if (di->dw) {
		dwarf_end(di->dw);
		di->dw = NULL;
		if (di->budget)
			di->budget->used -= di->bytes;
	}
	di->used = 0;
	di->batch_used = false;
	di->used_ns = 0;
}

void dwarf_info__reset_use(struct dwarf_info *di)
{
	/* decay, not forget: a file busy a while ago (libc) stays ranked for a
	 * few dozen batches in which it is not looked up, rather than being
	 * parsed again (all its compressed sections inflated) at its next new
	 * address */
	di->used -= di->used / 8 + (di->used % 8 != 0 && di->used < 8);
}

uint64_t dwarf_info__idle_ns(struct dwarf_info *di, uint64_t now)
{
	if (!di || !di->dw)
		return UINT64_MAX;
	if (di->batch_used || !di->used_ns) {
		di->batch_used = false;
		di->used_ns = now;
	}
	return now - di->used_ns;
}

uint64_t dwarf_info__used(const struct dwarf_info *di)
{
	return di && di->dw ? di->used : 0;
}

void dwarf_info__free(struct dwarf_info *di)
{
	if (!di)
		return;
	dwarf_info__release(di);
	close(di->fd);
	free(di);
}

/* Parse @di, within its budget. Returns 0, -ENOBUFS when others must be
 * released first, or -ENOENT (too big for the budget, or unreadable). */
static int parse(struct dwarf_info *di)
{
	struct dwarf_budget *b = di->budget;

	if (di->dw)
		return 0;
	if (di->refused)
		return -ENOENT;
	if (b && b->max && di->bytes > b->max) {
		di->refused = true;
		b->refused++;
		return -ENOENT;
	}
	if (b && b->max && b->used + di->bytes > b->max)
		return -ENOBUFS;
	di->dw = dwarf_begin(di->fd, DWARF_C_READ);	/* released after a drain */
	if (!di->dw) {
		di->refused = true;
		return -ENOENT;
	}
	if (b) {
		b->used += di->bytes;
		b->parses++;
	}
	return 0;
}

/* The CU covering @pc: through .debug_aranges, else by asking every CU. */
static int find_cu(Dwarf *dw, Dwarf_Addr pc, Dwarf_Die *cu)
{
	Dwarf_Off off = 0, next;
	size_t hsize;

	if (dwarf_addrdie(dw, pc, cu))
		return 0;
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(dw, off + hsize, cu) && dwarf_haspc(cu, pc) > 0)
			return 0;
		off = next;
	}
	return -ENOENT;
}

/* A function DIE's name: its linkage name demangled, else DW_AT_name,
 * following abstract origins and specifications. Copied into @buf. */
static const char *die_name(Dwarf_Die *die, char *buf, size_t len)
{
	Dwarf_Attribute attr;
	const char *name = NULL;
	char *dem = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr)) {
		name = dwarf_formstring(&attr);
		dem = name ? sym_demangle(name) : NULL;
		if (dem)
			name = dem;
	}
	if (!dem && dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	snprintf(buf, len, "%s", name ? name : "[inlined]");
	free(dem);
	return buf;
}

static const char *call_file(Dwarf_Die *cu, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word idx;
	size_t n;

	if (!dwarf_attr(die, DW_AT_call_file, &attr) || dwarf_formudata(&attr, &idx) ||
	    dwarf_getsrcfiles(cu, &files, &n) || idx >= n)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static int call_line(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Word line;

	if (!dwarf_attr(die, DW_AT_call_line, &attr) || dwarf_formudata(&attr, &line))
		return 0;
	return (int)line;
}

#define DIE_DEPTH_MAX 64

/* Under @parent, the concrete function containing @pc and the chain of
 * inlined subroutines in it, outermost first: chain[0] is the function.
 * Looks through namespaces and classes (C++ definitions live there), and
 * lexical blocks inside functions. Returns the chain length. */
static int die_chain(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *chain, int n, int max,
		     int depth)
{
	Dwarf_Die child;

	if (depth > DIE_DEPTH_MAX || dwarf_child(parent, &child) != 0)
		return n;
	do {
		int tag = dwarf_tag(&child);

		switch (tag) {
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
			if (!n) {
				int m = die_chain(&child, pc, chain, n, max, depth + 1);

				if (m)
					return m;
			}
			break;
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_lexical_block:
			/* a function at the top, inlines and blocks inside it */
			if ((tag == DW_TAG_subprogram) == (n > 0))
				break;
			if (dwarf_haspc(&child, pc) <= 0)
				break;
			if (tag != DW_TAG_lexical_block && n < max)
				chain[n++] = child;
			return die_chain(&child, pc, chain, n, max, depth + 1);
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return n;
}

int dwarf_info__lookup(struct dwarf_info *di, uint64_t vaddr, struct sym_lines *out)
{
	Dwarf_Die cu, chain[SYM_LINES_MAX];
	Dwarf_Line *line;
	const char *file = NULL;
	int n, err, lineno = 0;
	size_t used = 0;

	out->n = 0;
	err = parse(di);
	if (err)
		return err;
	di->used++;
	di->batch_used = true;
	if (find_cu(di->dw, vaddr, &cu))
		return -ENOENT;
	line = dwarf_getsrc_die(&cu, vaddr);
	if (line) {
		file = dwarf_linesrc(line, NULL, NULL);
		dwarf_lineno(line, &lineno);
	}
	n = die_chain(&cu, vaddr, chain, 0, SYM_LINES_MAX, 0);
	/* innermost first: each function's line is where the one inside it was
	 * inlined (its call site), the innermost's is the line table's */
	for (int i = n - 1; i >= 0; i--) {
		struct sym_line *l = &out->lines[out->n];
		char name[512];
		size_t len;

		die_name(&chain[i], name, sizeof(name));
		len = strlen(name) + 1;
		if (used + len > sizeof(out->buf))
			break;
		memcpy(out->buf + used, name, len);
		l->func = out->buf + used;
		used += len;
		l->file = file;
		l->line = lineno;
		out->n++;
		file = call_file(&cu, &chain[i]);
		lineno = call_line(&chain[i]);
	}
	if (!out->n && line) {
		/* lines but no function DIE (assembly): the line alone */
		out->lines[0] = (struct sym_line){ NULL, file, lineno };
		out->n = 1;
	}
	return out->n ? 0 : -ENOENT;
}
