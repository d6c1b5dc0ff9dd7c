// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Function symbols, loadable segments and build-id of one ELF file (libelf). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libiberty/demangle.h>
#include "symbolizer_int.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

static int read_symtab(struct elf_file *ef, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	size_t cap = 0, nsyms;
	Elf_Data *data = elf_getdata(scn, NULL);

	if (!data || !sh->sh_entsize)
		return -ENOEXEC;
	nsyms = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < nsyms; i++) {
		struct elf_sym *es;
		const char *name;
		GElf_Sym sym;
		int type, err;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (ef->nr_syms == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct elf_sym *n = realloc(ef->syms, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			ef->syms = n;
			cap = ncap;
		}
		es = &ef->syms[ef->nr_syms];
		es->demangle = DEMANGLE_UNTRIED;
		es->addr = sym.st_value;
		es->size = sym.st_size;
		err = strtab__add(&ef->strs, name, strlen(name), &es->name);
		if (err)
			return err;
		ef->nr_syms++;
	}
	return 0;
}

static void read_build_id(struct elf_file *ef, Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		size_t off = 0, name_off, desc_off;
		Elf_Data *data;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;
			size_t n = nh.n_descsz;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)data->d_buf + name_off, "GNU", 4))
				continue;
			if (n > 20)
				n = 20;
			for (size_t i = 0; i < n; i++)
				snprintf(ef->build_id + 2 * i, 3, "%02x", desc[i]);
			return;
		}
	}
}

static int sym_cmp(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* of aliases at one address, the sized one first */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return 0;
}

struct elf_file *elf_file__open(const char *path)
{
	struct elf_file *ef = NULL;
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr sh, symtab_sh, dynsym_sh;
	size_t nphdr = 0;
	struct stat st;
	Elf *elf = NULL;
	int fd, err = 0;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -ENOEXEC;
		goto out;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto out;
	}
	ef = calloc(1, sizeof(*ef));
	if (!ef) {
		err = -ENOMEM;
		goto out;
	}
	ef->dev = st.st_dev;
	ef->ino = st.st_ino;

	if (elf_getphdrnum(elf, &nphdr)) {
		err = -ENOEXEC;
		goto out;
	}
	if (nphdr) {
		ef->segs = calloc(nphdr, sizeof(*ef->segs));
		if (!ef->segs) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < nphdr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		ef->segs[ef->nr_segs].offset = ph.p_offset;
		ef->segs[ef->nr_segs].vaddr = ph.p_vaddr;
		ef->segs[ef->nr_segs].filesz = ph.p_filesz;
		ef->nr_segs++;
	}

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			symtab = scn;
			symtab_sh = sh;
		} else if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			dynsym_sh = sh;
		}
	}
	/* .symtab holds .dynsym's functions too; read .dynsym only without it */
	if (symtab)
		err = read_symtab(ef, elf, symtab, &symtab_sh);
	else if (dynsym)
		err = read_symtab(ef, elf, dynsym, &dynsym_sh);
	if (err)
		goto out;
	if (ef->nr_syms)
		qsort(ef->syms, ef->nr_syms, sizeof(*ef->syms), sym_cmp);
	read_build_id(ef, elf);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (err) {
		elf_file__free(ef);
		errno = -err;
		return NULL;
	}
	return ef;
}

void elf_file__free(struct elf_file *ef)
{
	if (!ef)
		return;
	free(ef->syms);
	free(ef->strs.buf);
	free(ef->segs);
	free(ef);
}

char *sym_demangle(const char *name)
{
	/* only what looks mangled: libiberty also "demangles" some plain names */
	if (strncmp(name, "_Z", 2) && strncmp(name, "_R", 2))
		return NULL;
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
}

static const char *sym_name(struct elf_file *ef, struct elf_sym *sym)
{
	if (sym->demangle == DEMANGLE_UNTRIED) {
		char *d = sym_demangle(ef->strs.buf + sym->name);

		sym->demangle = DEMANGLE_NONE;
		if (d && !strtab__add(&ef->strs, d, strlen(d), &sym->demangled))
			sym->demangle = DEMANGLE_DONE;
		free(d);
	}
	return ef->strs.buf + (sym->demangle == DEMANGLE_DONE ? sym->demangled : sym->name);
}

const char *elf_file__lookup(struct elf_file *ef, uint64_t off)
{
	struct elf_sym *sym;
	uint64_t vaddr = 0;
	long i;
	bool found = false;

	for (size_t i = 0; i < ef->nr_segs; i++) {
		const struct elf_seg *sg = &ef->segs[i];

		if (off >= sg->offset && off < sg->offset + sg->filesz) {
			vaddr = off - sg->offset + sg->vaddr;
			found = true;
			break;
		}
	}
	if (!found)
		return NULL;
	i = addr_floor(ef->syms, ef->nr_syms, sizeof(*ef->syms), vaddr);
	if (i < 0)
		return NULL;
	/* aliases share an address: step back to the first (sized) one */
	sym = &ef->syms[i];
	while (sym > ef->syms && sym[-1].addr == sym->addr)
		sym--;
	if (sym->size && vaddr >= sym->addr + sym->size)
		return NULL;
	return sym_name(ef, sym);
}
