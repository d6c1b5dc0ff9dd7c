/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Internal pieces of the symbolizer, exposed for unit tests. */
#ifndef KILN_SYMBOLIZER_INT_H
#define KILN_SYMBOLIZER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* --- shared helpers ------------------------------------------------------ */
/* Strings stored back to back; referred to by offset so the buffer can grow. */
struct strtab {
	char *buf;
	size_t len, cap;
};

/* Append @s (@len bytes) and a NUL; *off receives its offset. Returns 0 or -errno. */
int strtab__add(struct strtab *t, const char *s, size_t len, uint32_t *off);
/* Give back the capacity past the strings (a table done growing). */
void strtab__shrink(struct strtab *t);

/* In an array of @nr elements of @stride bytes, sorted by a leading uint64_t
 * address, the index of the last element at or below @addr, or -1. */
long addr_floor(const void *arr, size_t nr, size_t stride, uint64_t addr);

/* --- kallsyms ---------------------------------------------------------- */
/* Held compactly: 122k text symbols take 5 MiB as parsed, ~1.4 MiB here.
 * Addresses are 32-bit offsets from the lowest one (kernel text, modules
 * and BPF programs all lie within 4 GiB), names are deflated in blocks of
 * KSYMS_BLOCK and inflated on lookup, the names looked up kept in a small
 * direct-mapped cache, and modules are runs of consecutive symbols. */
#define KSYMS_BLOCK 64
#define KSYMS_CACHE 2048
#define KSYMS_CACHED_NAME 60

struct ksyms_block {
	uint32_t off;		/* into ksyms.packed */
	uint32_t raw;		/* inflated bytes */
};

struct ksyms_run {
	uint32_t first;		/* symbols from this index on ... */
	uint32_t module;	/* ... are in this module: offset into mods, 0 = core kernel */
};

struct ksyms_name {
	uint32_t idx1;		/* symbol index + 1; 0: empty */
	char name[KSYMS_CACHED_NAME];
};

struct ksyms {
	uint32_t *addrs;	/* sorted; the address is base + addrs[i] */
	size_t nr;
	uint64_t base;
	uint64_t stext, etext;	/* core kernel text, 0 if unknown */
	uint8_t *packed;
	size_t packed_len;
	struct ksyms_block *blocks;
	size_t nr_blocks;
	struct ksyms_run *runs;
	size_t nr_runs;
	struct strtab mods;	/* mods.buf[0] == '\0' */
	uint64_t out_of_range;	/* text symbols past base + 4 GiB, left out */
	char *buf;		/* block buf_block, inflated */
	size_t buf_cap;
	long buf_block;
	struct ksyms_name *cache;
};

/* Parse kallsyms text from @f: text symbols only, sorted by address.
 * Returns NULL with errno set; EPERM when every address reads as zero. */
struct ksyms *ksyms__parse(FILE *f);
void ksyms__free(struct ksyms *ks);
/* Index of the greatest symbol at or below @addr, or -1. */
long ksyms__find(const struct ksyms *ks, uint64_t addr);
static inline uint64_t ksyms__addr(const struct ksyms *ks, size_t i)
{
	return ks->base + ks->addrs[i];
}
/* Name of symbol @i, valid until the next call on @ks; NULL if it cannot be
 * inflated. */
const char *ksyms__name(struct ksyms *ks, size_t i);
/* Module of symbol @i ("bpf" for BPF programs), NULL for the core kernel. */
const char *ksyms__module(const struct ksyms *ks, size_t i);
/* Memory @ks holds. */
size_t ksyms__bytes(const struct ksyms *ks);

/* --- /proc/PID/maps ----------------------------------------------------- */
struct procmap {
	uint64_t start;		/* first: see addr_floor() */
	uint64_t end, offset;
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	char perms[5];
	char *path;		/* "" for anonymous mappings */
};

struct procmaps {
	struct procmap *maps;
	size_t nr;
};

/* Parse maps text from @f; with PROCMAPS_EXEC only the executable mappings
 * are kept (what samples land in and what unwinding looks up: a snapshot
 * of a Python process holds 24 of its 125 lines). Returns 0 or -errno
 * (-EINVAL on a malformed line). */
#define PROCMAPS_EXEC	1u
int procmaps__parse(FILE *f, unsigned int flags, struct procmaps *out);
void procmaps__clear(struct procmaps *pm);
const struct procmap *procmaps__find(const struct procmaps *pm, uint64_t addr);

/* --- ELF files ------------------------------------------------------------ */
enum { DEMANGLE_UNTRIED, DEMANGLE_DONE, DEMANGLE_NONE };

struct elf_sym {
	uint64_t addr;		/* first: see addr_floor() */
	uint32_t size;		/* bytes, capped at 4 GiB; 24 bytes in all */
	uint32_t name;		/* offset into elf_file.map if in_map, else into .strs */
	uint32_t demangled;	/* offset into elf_file.demangled when DEMANGLE_DONE */
	uint8_t demangle;	/* DEMANGLE_*: names are demangled when first looked up */
	uint8_t in_map;
};

struct elf_seg {
	uint64_t offset, vaddr, filesz;
};

struct elf_file {
	struct elf_sym *syms;
	size_t nr_syms;
	/* Names stay in the file: a read-only private mapping of the file the
	 * symbols came from, paged in as names are looked up (and dropped
	 * again by elf_file__trim); only names not found there NUL-terminated
	 * are copied into strs. */
	const char *map;
	size_t map_len;
	struct strtab strs;
	struct strtab demangled;	/* names looked up so far, demangled or copied
					 * out of the mapping (strs is shrunk to fit) */
	struct elf_seg *segs;
	size_t nr_segs;
	char build_id[41];	/* hex, "" if none */
	char debuglink[256];	/* .gnu_debuglink file name, "" if none */
	uint32_t debuglink_crc;
	int has_symtab;		/* a full .symtab, not only .dynsym */
	int from_debug_file;	/* symbols came from a separate debug file */
	int go_version;		/* symbols came from .gopclntab of this layout */
	int frame_pointers;	/* functions keep frame pointers: 1 yes, 0 no, -1 unknown */
	char *debug_path;	/* the separate debug file used, or NULL */
	uint64_t uid;		/* set by the symbolizer: unique per opened file */
	struct dwarf_info *dwarf; /* set by the symbolizer; NULL: no DWARF */
	struct cfi_file *cfi;	/* set by the symbolizer on first unwind */
	int cfi_tried;
	dev_t dev;
	ino_t ino;
};

/* Read symbols, loadable segments and build-id of the ELF file at @path.
 * Returns NULL with errno set (ENOEXEC when it is not a usable ELF file). */
struct elf_file *elf_file__open(const char *path);
void elf_file__free(struct elf_file *ef);

/* Take the symbols of the separate debug file at @path when it belongs to
 * @ef: same build-id where both have one, else the CRC of .gnu_debuglink
 * (@check_crc). Returns 0 when taken, -ENOENT/-ENOEXEC when not there or not
 * an ELF file, -ESTALE when it belongs to another build, -ENODATA when it has
 * no symbols. */
int elf_file__use_debug_file(struct elf_file *ef, const char *path, int check_crc);

/* Debug file candidates for @ef mapped from @path, in the order gdb looks:
 * DEBUG_DIR/.build-id/xx/yyyy.debug, then the debuglink name next to the
 * file, in .debug/ beside it and under DEBUG_DIR. Calls @fn until it
 * returns 0; returns that 0, or -ENOENT. */
int elf_file__debug_candidates(const struct elf_file *ef, const char *path, const char *debug_dir,
			       int (*fn)(void *ctx, const char *candidate, int by_link), void *ctx);
/* @sym's name as in the file (mangled). */
static inline const char *elf_file__raw_name(const struct elf_file *ef, const struct elf_sym *sym)
{
	return sym->in_map ? ef->map + sym->name : ef->strs.buf + sym->name;
}
/* Give back the pages of @ef's mapping that lookups paged in, and its CFI
 * (see cfi_file__trim). Returns true when the CFI's parsed entries went. */
bool elf_file__trim(struct elf_file *ef, bool restart_cfi);
/* Memory @ef holds (symbols, names, segments, names looked up); libdw's own
 * not counted. */
size_t elf_file__bytes(const struct elf_file *ef);
/* Link-time address of file offset @off through the PT_LOAD segments.
 * Returns 0 or -ENOENT when no segment holds it. */
int elf_file__vaddr(const struct elf_file *ef, uint64_t off, uint64_t *vaddr);
/* Name of the function covering file offset @off, or NULL. C++ and Rust
 * names come demangled (libiberty), cached in @ef on first use. */
const char *elf_file__lookup(struct elf_file *ef, uint64_t off);

/* Demangled @name (C++ Itanium, Rust legacy and v0), malloc'ed, or NULL when
 * it is not a mangled name. */
char *sym_demangle(const char *name);

/* --- DWARF: lines and inlined functions --------------------------------------- */
#define SYM_LINES_MAX 16

struct sym_line {
	const char *func;	/* NULL: unknown (the ELF symbol's name is used) */
	const char *file;	/* NULL: unknown; points into libdw's data */
	int line;
};

/* Inlined functions at one address, innermost first; the last is the
 * function the code belongs to. */
struct sym_lines {
	struct sym_line lines[SYM_LINES_MAX];
	size_t n;
	char buf[4096];		/* the names */
};

struct dwarf_info;
/* Memory for parsed DWARF, shared by the files of a symbolizer: a file whose
 * debug sections (inflated) exceed @max is never parsed; one that does not
 * fit beside those parsed now waits for them to be released. */
struct dwarf_budget {
	size_t max;		/* bytes; 0: no bound */
	size_t used;		/* bytes of the files parsed now */
	uint64_t refused;	/* files too big for @max */
	uint64_t parses;	/* dwarf_begin() calls */
};

/* DWARF of the file at @path, or NULL (errno ENODATA: it has none). Keeps
 * the file open until freed; parses it at the first lookup, within
 * @budget (may be NULL). */
struct dwarf_info *dwarf_info__open(const char *path, struct dwarf_budget *budget);
void dwarf_info__free(struct dwarf_info *di);
/* Free what libdw parsed (its memory grows with every CU touched); the file
 * stays open and is parsed again on the next lookup. */
void dwarf_info__release(struct dwarf_info *di);
/* Lookups since @di was opened or last released; 0 when nothing is parsed. */
uint64_t dwarf_info__used(const struct dwarf_info *di);
/* Nanoseconds since @di was last looked up, as seen at calls of this at
 * @now (the end of each batch); UINT64_MAX when nothing is parsed. */
uint64_t dwarf_info__idle_ns(struct dwarf_info *di, uint64_t now);
/* Count lookups from zero again (a new batch), keeping what is parsed. */
void dwarf_info__reset_use(struct dwarf_info *di);
/* The functions and lines at link-time address @vaddr. Strings stay valid
 * until @di is freed or @out reused. Returns 0, -ENOENT, or -ENOBUFS when
 * parsing @di needs others released first (its budget is full). */
int dwarf_info__lookup(struct dwarf_info *di, uint64_t vaddr, struct sym_lines *out);

/* --- Go function tables (.gopclntab) ------------------------------------------- */
typedef int (*gopclntab_fn)(void *ctx, uint64_t start, uint64_t end, const char *name,
			    size_t len);

/* Layout of the table at @d: 116, 118, 120 (Go 1.16+, 1.18+, 1.20+), or 0
 * when it is none of those. */
int gopclntab__version(const uint8_t *d, size_t len);
/* Call @fn for every function of the table: [start, end) addresses and its
 * name (not NUL-terminated in @len). @text_addr is .text's address, used where
 * the header leaves it out. Returns how many, or -EINVAL on a malformed table
 * (functions already passed to @fn stay valid), or what @fn returned. */
int gopclntab__parse(const uint8_t *d, size_t len, uint64_t text_addr, gopclntab_fn fn,
		     void *ctx);

/* --- JIT perf maps (/tmp/perf-PID.map) -------------------------------------- */
#define PERFMAP_NAME_MAX 1024		/* longer names are cut */

struct perfmap_sym {
	uint64_t addr;		/* first: see addr_floor() */
	uint64_t size;
	uint32_t name;		/* offset into perfmap.strs */
	uint32_t seq;		/* line order: of equal starts, the last wins */
};

struct perfmap {
	struct perfmap_sym *syms;
	size_t nr;
	struct strtab strs;
	uint64_t bad_lines;	/* lines that are not "START SIZE NAME" */
	uint64_t dropped;	/* entries past max_entries */
};

/* Parse a perf map from @f, keeping at most @max_entries entries. Bad lines
 * are skipped and counted. Returns 0 or -errno (-ENOMEM, -EIO). */
int perfmap__parse(FILE *f, struct perfmap *pm, size_t max_entries);
/* Name of the entry covering @addr (the newest of equal starts), or NULL. */
const char *perfmap__lookup(const struct perfmap *pm, uint64_t addr);
void perfmap__clear(struct perfmap *pm);

/* --- unwinding a copied user stack (libdw) -------------------------------------- */
/* x86-64 DWARF registers 0-16: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip */
#define UNWIND_NR_REGS 17
#define UNWIND_REG_SP 7
#define UNWIND_REG_IP 16

/* The CFI (.eh_frame) of one file, shared by every process mapping it. */
struct cfi_file;
/* NULL when the file cannot be read or has no .eh_frame. */
struct cfi_file *cfi_file__open(const char *path);
void cfi_file__free(struct cfi_file *cf);
/* Give back the pages of the file's mapping that unwinding paged in; with
 * @restart, the entries libdw parsed too, which it keeps until the table is
 * closed (returns true when there were any). */
bool cfi_file__trim(struct cfi_file *cf, bool restart);

/* The CFI covering @addr and the load bias of its file (run-time minus
 * link-time address), or NULL: then the frame pointer is followed. */
typedef struct cfi_file *(*unwind_find_fn)(void *ctx, uint64_t addr, uint64_t *bias);
/* Walk a stack from @regs (UNWIND_NR_REGS) and @len bytes copied from
 * regs[UNWIND_REG_SP]: up to @max addresses into @pcs, leaf first, return
 * addresses after it. Always at least the leaf. */
size_t unwind_walk(unwind_find_fn find, void *ctx, const uint64_t *regs, const void *stack,
		   size_t len, uint64_t *pcs, size_t max);

#endif /* KILN_SYMBOLIZER_INT_H */
