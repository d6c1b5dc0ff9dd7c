/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Addresses to frames: kernel addresses through /proc/kallsyms, user addresses
 * through /proc/PID/maps and the ELF files behind them.
 *
 * The library never prints and never exits: functions return 0 or -errno,
 * and diagnostics go through the log callback set in the options. */
#ifndef KILN_SYMBOLIZER_H
#define KILN_SYMBOLIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbolizer;

enum sym_log_level { SYM_LOG_WARN, SYM_LOG_INFO, SYM_LOG_DEBUG };

struct symbolizer_opts {
	/* Receives one line per diagnostic, without trailing newline. May be NULL. */
	void (*log)(void *ctx, enum sym_log_level level, const char *msg);
	void *log_ctx;
	enum sym_log_level log_level;	/* most verbose level passed to log (default WARN) */
	const char *proc_root;		/* default "/proc" */
	const char *kallsyms_path;	/* default "<proc_root>/kallsyms" */
	size_t max_files;		/* ELF files kept open; default 256 */
	size_t max_processes;		/* process snapshots kept; default 4096 */
	size_t max_file_bytes;		/* symbol tables cached; default 16 MiB */
	size_t max_process_bytes;	/* snapshots and perf maps; default 16 MiB */
	/* Where separate debug files are looked for when a file has no .symtab:
	 * "/usr/lib/debug" inside the process's root and on the host, then
	 * @extra_debug_dir on the host (may be NULL). */
	const char *extra_debug_dir;
	/* Ask the debuginfod servers in $DEBUGINFOD_URLS for debug files not
	 * found locally, by build-id; each request gives up after
	 * debuginfod_timeout_ms (default 5000). A build-id that failed is not
	 * asked for again. */
	bool debuginfod;
	unsigned int debuginfod_timeout_ms;
	/* Files whose parsed DWARF is kept across batches, the busiest of recent
	 * batches, their lookups decaying by 1/8 a batch (0-4; default 0: all released). Parsing a big file again costs
	 * CPU (compressed debug sections are inflated again), keeping it costs
	 * memory (libdw's for a library with full DWARF runs to 100s of MB). */
	unsigned int dwarf_keep;
	/* And those looked up in the last dwarf_hold_ms (0: not kept for that).
	 * A file looked up now and then (libc, by short-lived processes) is
	 * otherwise inflated again at each of its new addresses: ~60 ms for
	 * libc's 55 MB, each time. */
	unsigned int dwarf_hold_ms;
	/* Memory for parsed DWARF, all files together (0: no bound). libdw
	 * inflates a file's compressed debug sections whole (libc's run to
	 * 55 MB): a file bigger than this keeps its symbols but gets no
	 * lines or inlined frames; others are released to make room. */
	size_t max_dwarf_bytes;
};

/* What a mapping is, as pprof's Mapping needs it. */
struct sym_mapping {
	uint64_t start;			/* first address */
	uint64_t limit;			/* one past the last address */
	uint64_t offset;		/* file offset of start */
	const char *path;		/* "/usr/lib/...", "[kernel.kallsyms]", "[vdso]", ... */
	const char *build_id;		/* lowercase hex, "" when the file has none */
	bool kernel;
};

/* One function at a user address, from DWARF. */
struct sym_src {
	const char *func;		/* function name */
	const char *file;		/* source file; NULL when unknown */
	int line;			/* 0 when unknown */
};

struct sym_frame {
	const char *name;		/* function name; NULL when unresolved */
	/* With DWARF: the functions inlined at the address, innermost first;
	 * the last is the function itself (named ->name). 0 without DWARF. */
	const struct sym_src *src;
	size_t nr_src;
	const char *module;		/* kernel module ("bpf" for BPF programs); NULL otherwise */
	const struct sym_mapping *map;	/* NULL when no mapping covers the address */
	uint64_t addr;			/* the address asked for */
	uint64_t file_offset;		/* map offset + (addr - map start), user frames */
};

struct symbolizer_stats {
	uint64_t kernel_ok, kernel_unknown;
	uint64_t user_ok, user_unknown;
	uint64_t processes_read, processes_gone, processes_evicted;
	uint64_t processes_exited;	/* dropped a batch after their exit */
	uint64_t files_opened, files_failed, files_evicted;
	uint64_t debug_files_used;	/* files named through a separate debug file */
	uint64_t debug_files_missing;	/* stripped files without one found */
	uint64_t perf_maps_read;	/* JIT perf maps (re)read */
	uint64_t dwarf_files;		/* files with DWARF (lines, inlined functions) */
	uint64_t lines_hit, lines_miss;	/* DWARF lookups answered by the line cache */
	uint64_t debuginfod_found, debuginfod_failed;
	uint64_t perf_maps_skipped;	/* too large for the perf map budget */
	uint64_t kallsyms_reloads;
	uint64_t cfi_files;		/* files whose CFI (.eh_frame) was read to unwind */
	uint64_t cfi_resets;		/* CFI tables whose parsed entries were let go */
	uint64_t dwarf_parses;		/* files' DWARF parsed (again after a release) */
	uint64_t dwarf_too_big;		/* files whose DWARF exceeds max_dwarf_bytes */
	uint64_t dwarf_budget_releases;	/* all parsed DWARF released to make room */
	uint64_t dwarf_bytes;		/* parsed DWARF held now */
	/* caches: lookups that found an entry, that had to read one, and the
	 * bytes held now (least recently used evicted past the bound) */
	uint64_t files_hit, files_miss, processes_hit, processes_miss;
	uint64_t file_bytes, process_bytes;
};

/* Create a symbolizer and load kallsyms. Returns NULL with errno set
 * (EPERM when kallsyms addresses are hidden by kptr_restrict). The caller
 * frees it with symbolizer__free(). Reads /proc: may block briefly. */
struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts);
void symbolizer__free(struct symbolizer *s);

/* Snapshot the mappings of process @pid running image @comm now, so that its
 * frames stay named after it exits. Returns 0, or -ESRCH when it is gone. */
int symbolizer__note_process(struct symbolizer *s, uint32_t pid, const char *comm);

/* Forget every snapshot of @pid (it exec'ed or exited and was symbolized). */
void symbolizer__forget_process(struct symbolizer *s, uint32_t pid);

/* Kernel symbols changed (a module or BPF program was loaded): the next
 * kernel lookup rereads kallsyms first, not after the usual rate limit. */
void symbolizer__kernel_changed(struct symbolizer *s);

/* Resolve one address. @is_return is true for every frame but the leaf: the
 * address is a return address and is looked up one byte earlier. Strings and
 * the mapping in @out stay valid until the next call on @s. Returns 0 when a
 * function was named, -ENOENT when not (out still carries what is known). */
int symbolizer__kernel(struct symbolizer *s, uint64_t addr, bool is_return,
		       struct sym_frame *out);
int symbolizer__user(struct symbolizer *s, uint32_t pid, const char *comm,
		     uint64_t addr, bool is_return, struct sym_frame *out);

/* One executable mapping of a process, and whether the functions of the
 * file behind it keep frame pointers: 1 yes, 0 no, -1 cannot tell.
 * Anonymous code (JITs) and the vDSO read as 1. */
struct sym_code_range {
	uint64_t start, end;
	int frame_pointers;
};

/* The executable mappings of @pid, by address: at most @max into @out, the
 * number there is in *@nr (may exceed @max). Returns 0 or -ESRCH. */
int symbolizer__code_ranges(struct symbolizer *s, uint32_t pid, const char *comm,
			    struct sym_code_range *out, size_t max, size_t *nr);

/* x86-64 user registers in DWARF order: rax rdx rcx rbx rsi rdi rbp rsp
 * r8-r15 rip. */
#define SYM_NR_REGS 17

/* Unwind thread @tid of @pid from its registers and @len bytes of its stack
 * copied from the stack pointer, with the CFI (.eh_frame) of its files.
 * Writes up to @max addresses to @pcs, leaf first, and returns how many
 * (at least the leaf, when @max > 0). */
size_t symbolizer__unwind(struct symbolizer *s, uint32_t pid, const char *comm, uint32_t tid,
			  const uint64_t *regs, const void *stack, size_t len,
			  uint64_t *pcs, size_t max);

/* A batch of lookups (one drain) is over: free what libdw parsed for them,
 * but for the opts.dwarf_keep files it parsed most in this batch and those
 * looked up in the last opts.dwarf_hold_ms, page out
 * the symbol names looked up, and forget processes that were already gone
 * when the batch began. Lines already looked up stay cached. Does not block. */
void symbolizer__end_batch(struct symbolizer *s);

struct sym_process {
	uint32_t pid;
	char comm[16];
};
/* Processes whose maps were read again since the last call (an address
 * outside the snapshot: dlopen, JIT), up to @max; their code may need
 * classifying again (symbolizer__code_ranges). */
size_t symbolizer__take_remapped(struct symbolizer *s, struct sym_process *out, size_t max);

void symbolizer__get_stats(const struct symbolizer *s, struct symbolizer_stats *out);

#endif /* KILN_SYMBOLIZER_H */
