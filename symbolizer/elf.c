// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Function symbols, loadable segments and build-id of one ELF file (libelf). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libiberty/demangle.h>
#include <zlib.h>
#include "symbolizer_int.h"

#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

/* @file_off: where @name lies in the file, NUL-terminated after @len bytes,
 * or NO_FILE_OFF: the name is copied. */
#define NO_FILE_OFF UINT64_MAX

static int add_sym(struct elf_file *ef, size_t *cap, uint64_t addr, uint64_t size,
		   const char *name, size_t len, uint64_t file_off)
{
	struct elf_sym *es;

	if (ef->nr_syms == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		struct elf_sym *n = realloc(ef->syms, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		ef->syms = n;
		*cap = ncap;
	}
	es = &ef->syms[ef->nr_syms];
	es->demangle = DEMANGLE_UNTRIED;
	es->addr = addr;
	es->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	if (ef->map && file_off < ef->map_len && len < ef->map_len - file_off &&
	    file_off <= UINT32_MAX && !ef->map[file_off + len]) {
		es->in_map = 1;
		es->name = (uint32_t)file_off;
	} else {
		es->in_map = 0;
		if (strtab__add(&ef->strs, name, len, &es->name))
			return -ENOMEM;
	}
	ef->nr_syms++;
	return 0;
}

/* Reading a big table touches its pages: a Go program's .symtab and .strtab
 * are 9 MB, all resident at once if left until the table is built. Every
 * PAGE_OUT_EVERY entries read through kiln's own read-only mapping of the
 * file, the pages touched so far are dropped (a later read faults them back
 * from the page cache), so building a file's tables costs about their own
 * size, not the file's. */
#define PAGE_OUT_EVERY 4096

static void page_out(const struct elf_file *ef)
{
	if (ef->map)
		madvise((void *)ef->map, ef->map_len, MADV_DONTNEED);
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

/* Symbol @i of a table that lies in kiln's mapping in the host's byte order. */
static void sym_at(const unsigned char *ents, bool is64, size_t i, GElf_Sym *sym)
{
	if (is64) {
		Elf64_Sym s;

		memcpy(&s, ents + i * sizeof(s), sizeof(s));
		*sym = (GElf_Sym){ .st_name = s.st_name, .st_info = s.st_info, .st_other = s.st_other,
				   .st_shndx = s.st_shndx, .st_value = s.st_value, .st_size = s.st_size };
	} else {
		Elf32_Sym s;

		memcpy(&s, ents + i * sizeof(s), sizeof(s));
		*sym = (GElf_Sym){ .st_name = s.st_name, .st_info = s.st_info, .st_other = s.st_other,
				   .st_shndx = s.st_shndx, .st_value = s.st_value, .st_size = s.st_size };
	}
}

static int read_symtab(struct elf_file *ef, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	size_t cap = 0, nsyms, esize;
	Elf_Data *data = NULL;
	Elf_Scn *strscn = elf_getscn(elf, sh->sh_link);
	uint64_t str_off = NO_FILE_OFF, str_size = 0;
	const unsigned char *ents = NULL;
	bool is64 = gelf_getclass(elf) == ELFCLASS64;
	const char *ident = elf_getident(elf, NULL);
	GElf_Shdr strsh;

	if (!sh->sh_entsize)
		return -ENOEXEC;
	/* names are read in place unless the string table is compressed */
	if (strscn && gelf_getshdr(strscn, &strsh) && strsh.sh_type == SHT_STRTAB &&
	    !(strsh.sh_flags & SHF_COMPRESSED) && ef->map && strsh.sh_offset < ef->map_len &&
	    strsh.sh_size <= ef->map_len - strsh.sh_offset) {
		str_off = strsh.sh_offset;
		str_size = strsh.sh_size;
	}
	/* the entries too, in the host's byte order; libelf converts others */
	esize = is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	if (ident && ident[EI_DATA] == NATIVE_DATA && !(sh->sh_flags & SHF_COMPRESSED) &&
	    sh->sh_entsize == esize && ef->map && sh->sh_offset < ef->map_len &&
	    sh->sh_size <= ef->map_len - sh->sh_offset)
		ents = (const unsigned char *)ef->map + sh->sh_offset;
	else if (!(data = elf_getdata(scn, NULL)))
		return -ENOEXEC;
	nsyms = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < nsyms; i++) {
		const char *name;
		size_t len;
		GElf_Sym sym;
		int type, err;

		if (ents) {
			sym_at(ents, is64, i, &sym);
			if (i % PAGE_OUT_EVERY == PAGE_OUT_EVERY - 1)
				page_out(ef);
		} else if (!gelf_getsym(data, (int)i, &sym)) {
			break;
		}
		type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		if (str_off != NO_FILE_OFF) {
			if (sym.st_name >= str_size)
				continue;
			name = ef->map + str_off + sym.st_name;
			len = strnlen(name, str_size - sym.st_name);
			if (len == str_size - sym.st_name)
				continue;	/* not terminated inside the table */
		} else {
			name = elf_strptr(elf, sh->sh_link, sym.st_name);
			len = name ? strlen(name) : 0;
		}
		if (!len)
			continue;
		err = add_sym(ef, &cap, sym.st_value, sym.st_size, name, len,
			      str_off == NO_FILE_OFF ? NO_FILE_OFF : str_off + sym.st_name);
		if (err)
			return err;
	}
	return 0;
}

struct go_ctx {
	struct elf_file *ef;
	size_t cap, seen;
	const char *table;	/* the table's bytes ... */
	size_t table_len;
	uint64_t table_off;	/* ... and where they are in the file */
};

static int go_func(void *vctx, uint64_t start, uint64_t end, const char *name, size_t len)
{
	struct go_ctx *c = vctx;
	uint64_t off = NO_FILE_OFF;

	if (name >= c->table && name < c->table + c->table_len)
		off = c->table_off + (uint64_t)(name - c->table);
	if (c->table_off != NO_FILE_OFF && ++c->seen % PAGE_OUT_EVERY == 0)
		page_out(c->ef);	/* the table is read through kiln's mapping */
	return add_sym(c->ef, &c->cap, start, end - start, name, len, off);
}

/* A Go binary without .symtab: its functions from .gopclntab, or from a
 * table found by its header in the read-only data (some PIE links). */
static int read_gopclntab(struct elf_file *ef, Elf *elf)
{
	Elf_Scn *scn = NULL, *table = NULL;
	uint64_t text = 0;
	struct go_ctx c = { ef, ef->nr_syms, 0, NULL, 0, NO_FILE_OFF };
	uint64_t table_off = NO_FILE_OFF;
	size_t shstrndx;
	Elf_Data *data;
	GElf_Shdr sh;
	int n;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(name, ".text")) {
			text = sh.sh_addr;
		} else if (!strcmp(name, ".gopclntab") && sh.sh_type == SHT_PROGBITS) {
			table = scn;
			table_off = sh.sh_flags & SHF_COMPRESSED ? NO_FILE_OFF : sh.sh_offset;
		} else if (!table && !strncmp(name, ".data.rel.ro", 12) && sh.sh_type == SHT_PROGBITS &&
			   (data = elf_getdata(scn, NULL)) && data->d_buf &&
			   gopclntab__version(data->d_buf, data->d_size)) {
			table = scn;
			table_off = sh.sh_flags & SHF_COMPRESSED ? NO_FILE_OFF : sh.sh_offset;
		}
	}
	if (!table)
		return 0;
	if (table_off != NO_FILE_OFF && ef->map && table_off < ef->map_len &&
	    gelf_getshdr(table, &sh) && sh.sh_size <= ef->map_len - table_off) {
		/* in place, through kiln's mapping: paged out as it is read */
		c.table = ef->map + table_off;
		c.table_len = sh.sh_size;
		c.table_off = table_off;
	} else if ((data = elf_getdata(table, NULL)) && data->d_buf) {
		c.table = data->d_buf;
		c.table_len = data->d_size;
	} else {
		return 0;
	}
	ef->go_version = gopclntab__version((const uint8_t *)c.table, c.table_len);
	n = gopclntab__parse((const uint8_t *)c.table, c.table_len, text, go_func, &c);
	return n == -ENOMEM ? n : 0;	/* a malformed table: what was read is kept */
}

#define FP_SAMPLE 256		/* functions looked at */
#define FP_MIN_SAMPLE 1		/* fewer: cannot tell */

/* The C runtime's start files, linked into every program whatever its flags. */
static bool crt_function(const char *name)
{
	static const char *const crt[] = {
		"_start", "_init", "_fini", "deregister_tm_clones", "register_tm_clones",
		"__do_global_dtors_aux", "frame_dummy", "__libc_csu_init", "__libc_csu_fini",
	};

	for (size_t i = 0; i < sizeof(crt) / sizeof(crt[0]); i++)
		if (!strcmp(name, crt[i]))
			return true;
	return false;
}

/* Does function code at @p begin by setting up a frame pointer?
 * [endbr64] push %rbp; mov %rsp,%rbp (either encoding). */
static bool fp_prologue(const unsigned char *p, size_t n)
{
	if (n >= 4 && p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa) {
		p += 4;
		n -= 4;
	}
	return n >= 4 && p[0] == 0x55 && p[1] == 0x48 &&
	       ((p[2] == 0x89 && p[3] == 0xe5) || (p[2] == 0x8b && p[3] == 0xec));
}

static bool has_section(Elf *elf, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;

		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    !strcmp(name, want))
			return true;
	}
	return false;
}

/* Whether the file's functions keep frame pointers, from the prologues of
 * a spread of its functions (x86-64; Go code always keeps them). */
static void read_frame_pointers(struct elf_file *ef, Elf *elf)
{
	size_t size = 0, looked = 0, with = 0, step;
	const unsigned char *raw;
	GElf_Ehdr eh;

	ef->frame_pointers = -1;
	if (!gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64)
		return;
	if (ef->go_version || has_section(elf, ".go.buildinfo") || has_section(elf, ".gopclntab")) {
		ef->frame_pointers = 1;
		return;
	}
	raw = (const unsigned char *)elf_rawfile(elf, &size);
	if (!raw || !ef->nr_syms)
		return;
	step = ef->nr_syms > FP_SAMPLE ? ef->nr_syms / FP_SAMPLE : 1;
	for (size_t i = 0; i < ef->nr_syms && looked < FP_SAMPLE; i += step) {
		const struct elf_sym *sym = &ef->syms[i];

		/* tiny functions (stubs, thunks) set up no frame either way */
		if (sym->size < 16 || crt_function(elf_file__raw_name(ef, sym)))
			continue;
		for (size_t k = 0; k < ef->nr_segs; k++) {
			const struct elf_seg *sg = &ef->segs[k];
			uint64_t off;

			if (sym->addr < sg->vaddr || sym->addr >= sg->vaddr + sg->filesz)
				continue;
			off = sym->addr - sg->vaddr + sg->offset;
			if (off < size) {
				looked++;
				with += fp_prologue(raw + off, size - off);
			}
			break;
		}
	}
	if (looked >= FP_MIN_SAMPLE)
		ef->frame_pointers = with * 2 >= looked;
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

/* .gnu_debuglink: a NUL-terminated file name, padding to 4, a CRC32. */
static void read_debuglink(struct elf_file *ef, Elf *elf, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	const char *buf;
	size_t n, crc_off;

	if (!data || !data->d_buf || data->d_size < 8)
		return;
	buf = data->d_buf;
	n = strnlen(buf, data->d_size);
	crc_off = (n + 4) & ~(size_t)3;
	if (n == 0 || n >= sizeof(ef->debuglink) || crc_off + 4 > data->d_size ||
	    strchr(buf, '/'))
		return;
	memcpy(ef->debuglink, buf, n);
	ef->debuglink[n] = '\0';
	memcpy(&ef->debuglink_crc, buf + crc_off, 4);
	if (elf_getident(elf, NULL)[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ?
						  ELFDATA2LSB : ELFDATA2MSB))
		ef->debuglink_crc = __builtin_bswap32(ef->debuglink_crc);
}

/* The tables grew by doubling: give back what they did not fill. */
static void shrink_tables(struct elf_file *ef)
{
	struct elf_sym *syms;

	if (ef->nr_syms && (syms = realloc(ef->syms, ef->nr_syms * sizeof(*syms))))
		ef->syms = syms;
	strtab__shrink(&ef->strs);
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
	if (st.st_size > 0 && (uint64_t)st.st_size <= SIZE_MAX) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m != MAP_FAILED) {
			ef->map = m;
			ef->map_len = (size_t)st.st_size;
		}
	}

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
		size_t shstrndx;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (!elf_getshdrstrndx(elf, &shstrndx) &&
		    (name = elf_strptr(elf, shstrndx, sh.sh_name)) && !strcmp(name, ".gnu_debuglink"))
			read_debuglink(ef, elf, scn);
		if (sh.sh_type == SHT_SYMTAB) {
			symtab = scn;
			symtab_sh = sh;
		} else if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			dynsym_sh = sh;
		}
	}
	/* .symtab holds .dynsym's functions too; read .dynsym only without it */
	ef->has_symtab = symtab != NULL;
	if (symtab)
		err = read_symtab(ef, elf, symtab, &symtab_sh);
	else if (dynsym)
		err = read_symtab(ef, elf, dynsym, &dynsym_sh);
	if (!err && !symtab)
		err = read_gopclntab(ef, elf);
	if (err)
		goto out;
	if (ef->nr_syms)
		qsort(ef->syms, ef->nr_syms, sizeof(*ef->syms), sym_cmp);
	shrink_tables(ef);
	read_build_id(ef, elf);
	read_frame_pointers(ef, elf);
	/* the whole table was read through the mapping: page it out now, not
	 * at the end of the drain (at start-up, 200 processes' files at once) */
	page_out(ef);
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

static int file_crc32(const char *path, uint32_t *out)
{
	unsigned char buf[65536];
	uLong crc = crc32(0L, Z_NULL, 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crc = crc32(crc, buf, (uInt)n);
	close(fd);
	if (n < 0)
		return -EIO;
	*out = (uint32_t)crc;
	return 0;
}

int elf_file__use_debug_file(struct elf_file *ef, const char *path, int check_crc)
{
	struct elf_file *dbg;
	uint32_t crc;
	int err;

	dbg = elf_file__open(path);
	if (!dbg)
		return errno == ENOENT ? -ENOENT : -ENOEXEC;
	if (ef->build_id[0] && dbg->build_id[0]) {
		if (strcmp(ef->build_id, dbg->build_id)) {
			err = -ESTALE;
			goto out;
		}
	} else if (check_crc) {
		err = file_crc32(path, &crc);
		if (err)
			goto out;
		if (crc != ef->debuglink_crc) {
			err = -ESTALE;
			goto out;
		}
	} else {
		err = -ESTALE;	/* nothing ties it to this file */
		goto out;
	}
	if (!dbg->has_symtab || !dbg->nr_syms) {
		err = -ENODATA;
		goto out;
	}
	/* its symbols, our segments: a debug file's program headers are the same */
	free(ef->syms);
	free(ef->strs.buf);
	if (ef->map)
		munmap((void *)ef->map, ef->map_len);
	ef->syms = dbg->syms;
	ef->nr_syms = dbg->nr_syms;
	ef->strs = dbg->strs;
	ef->map = dbg->map;
	ef->map_len = dbg->map_len;
	dbg->syms = NULL;
	dbg->nr_syms = 0;
	dbg->strs = (struct strtab){ 0 };
	dbg->map = NULL;
	dbg->map_len = 0;
	ef->has_symtab = 1;
	ef->from_debug_file = 1;
	free(ef->debug_path);
	ef->debug_path = strdup(path);
	err = 0;
out:
	elf_file__free(dbg);
	return err;
}

int elf_file__debug_candidates(const struct elf_file *ef, const char *path, const char *debug_dir,
			       int (*fn)(void *ctx, const char *candidate, int by_link), void *ctx)
{
	char cand[4608], dir[4096];
	const char *slash;

	if (ef->build_id[0] && strlen(ef->build_id) > 2) {
		snprintf(cand, sizeof(cand), "%s/.build-id/%.2s/%s.debug", debug_dir, ef->build_id,
			 ef->build_id + 2);
		if (!fn(ctx, cand, 0))
			return 0;
	}
	if (!ef->debuglink[0])
		return -ENOENT;
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	snprintf(cand, sizeof(cand), "%s/%s", dir, ef->debuglink);
	if (strcmp(cand, path) && !fn(ctx, cand, 1))
		return 0;
	snprintf(cand, sizeof(cand), "%s/.debug/%s", dir, ef->debuglink);
	if (!fn(ctx, cand, 1))
		return 0;
	snprintf(cand, sizeof(cand), "%s%s/%s", debug_dir, dir, ef->debuglink);
	if (!fn(ctx, cand, 1))
		return 0;
	return -ENOENT;
}

void elf_file__free(struct elf_file *ef)
{
	if (!ef)
		return;
	free(ef->syms);
	free(ef->strs.buf);
	if (ef->map)
		munmap((void *)ef->map, ef->map_len);
	free(ef->demangled.buf);
	free(ef->segs);
	free(ef->debug_path);
	dwarf_info__free(ef->dwarf);
	cfi_file__free(ef->cfi);
	free(ef);
}

char *sym_demangle(const char *name)
{
	/* only what looks mangled: libiberty also "demangles" some plain names */
	if (strncmp(name, "_Z", 2) && strncmp(name, "_R", 2))
		return NULL;
	return cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI);
}

/* @sym's name as shown: demangled, and kept once looked up. A name left in
 * the mapping would page it in again at every drain after the trim: a busy
 * Go program's hot names alone were 1.2 MiB of it each time. */
static const char *sym_name(struct elf_file *ef, struct elf_sym *sym)
{
	if (sym->demangle == DEMANGLE_UNTRIED) {
		const char *raw = elf_file__raw_name(ef, sym);
		char *d = sym_demangle(raw);

		sym->demangle = DEMANGLE_NONE;
		if (d && !strtab__add(&ef->demangled, d, strlen(d), &sym->demangled))
			sym->demangle = DEMANGLE_DONE;
		else if (!d && sym->in_map &&
			 !strtab__add(&ef->demangled, raw, strlen(raw), &sym->demangled))
			sym->demangle = DEMANGLE_DONE;
		free(d);
	}
	return sym->demangle == DEMANGLE_DONE ? ef->demangled.buf + sym->demangled :
						elf_file__raw_name(ef, sym);
}

bool elf_file__trim(struct elf_file *ef, bool restart_cfi)
{
	page_out(ef);
	return cfi_file__trim(ef->cfi, restart_cfi);
}

size_t elf_file__bytes(const struct elf_file *ef)
{
	return sizeof(*ef) + ef->nr_syms * sizeof(*ef->syms) + ef->strs.cap + ef->demangled.cap +
	       ef->nr_segs * sizeof(*ef->segs);
}

int elf_file__vaddr(const struct elf_file *ef, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; i < ef->nr_segs; i++) {
		const struct elf_seg *sg = &ef->segs[i];

		if (off >= sg->offset && off < sg->offset + sg->filesz) {
			*vaddr = off - sg->offset + sg->vaddr;
			return 0;
		}
	}
	return -ENOENT;
}

const char *elf_file__lookup(struct elf_file *ef, uint64_t off)
{
	struct elf_sym *sym;
	uint64_t vaddr = 0;
	long i;

	if (elf_file__vaddr(ef, off, &vaddr))
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
