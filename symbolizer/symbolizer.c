// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE	/* memfd_create */
/* Process snapshots and the ELF file cache behind symbolizer.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elfutils/debuginfod.h>
#include <time.h>
#include "symbolizer.h"
#include "symbolizer_int.h"

#define PROC_BUCKETS 1024
#define REREAD_NS 1000000000ULL		/* at most one maps re-read per second */
#define KALLSYMS_RELOAD_NS 2000000000ULL
#define MODULE_FUNC_MAX (64 * 1024)	/* larger offsets mean a stale kallsyms */
#define JIT_REREAD_NS 1000000000ULL	/* a perf map is checked for changes at most 1/s */
#define JIT_FILE_MAX (64u << 20)	/* perf maps larger than this are not read */
#define JIT_BUDGET (256u << 20)		/* all perf maps read, in file bytes */
#define JIT_ENTRIES_MAX (1u << 20)

struct file_ent {
	struct elf_file *ef;		/* NULL when it could not be read */
	size_t bytes;			/* what it holds, for the cache's bound */
	unsigned int refs;		/* the cache's and each mapping's */
	unsigned int dev_major, dev_minor;
	uint64_t ino;
	uint64_t last_use;
	bool cached;			/* still in the cache table */
	bool used;			/* looked up since the last trim */
};

struct proc {
	struct proc *next;		/* hash chain */
	uint32_t pid;
	char comm[16];
	bool gone;			/* maps could not be read */
	uint8_t exited_batches;		/* batches ended with the process gone */
	bool remapped;			/* maps read again: code may have come (dlopen) */
	uint64_t last_use;
	uint64_t read_ns;
	struct procmaps maps;
	struct file_ent **files;	/* per mapping, looked up lazily */
	bool *looked;
	struct perfmap jit;		/* /tmp/perf-PID.map, read when needed */
	uint64_t jit_read_ns;		/* 0: never looked */
	int64_t jit_mtime_ns;
	size_t jit_bytes;		/* file size counted in the budget */
	size_t bytes;			/* memory held, for the cache's bound */
};

struct symbolizer {
	struct symbolizer_opts opts;
	char proc_root[256];
	bool proc_is_live;		/* proc_root is this pid namespace's /proc */
	char kallsyms_path[300];
	struct ksyms *ks;
	uint64_t ks_loaded_ns;
	bool ks_stale;			/* symbols came or went: reread before the next lookup */
	struct sym_mapping kmap;
	struct kmodule *mods;		/* from /proc/modules, sorted by name */
	size_t nr_mods;
	struct sym_mapping modmap;	/* filled per module frame */
	char modpath[72];
	struct sym_lines lines;		/* DWARF lines of the last user lookup */
	struct sym_src src[SYM_LINES_MAX];
	struct line_ent *line_cache;	/* LINE_CACHE_SLOTS, direct-mapped */
	uint64_t cfi_lookups;		/* since the CFI tables last started over */
	struct strtab line_strs;	/* its names and file names */
	debuginfod_client *dic;		/* begun on first use */
	uint64_t dic_deadline_ns;	/* the current request gives up then */
	char (*dic_failed)[41];		/* build-ids not found: not asked again */
	size_t nr_dic_failed;
	uint64_t file_seq;
	struct sym_mapping umap;	/* filled per user lookup */
	struct proc *procs[PROC_BUCKETS];
	size_t nr_procs;
	struct file_ent **files;
	size_t nr_files;
	uint64_t tick;
	size_t jit_bytes;		/* perf map bytes read, all processes */
	int vdso_fd;			/* our vDSO image in a memfd; -1: none */
	struct elf_file *vdso_ef;
	struct cfi_file *vdso_cfi;
	uint64_t vdso_size;
	bool vdso_tried;
	struct dwarf_budget dwarf;	/* parsed DWARF, all files */
	struct symbolizer_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 3, 4)))
static void slog(struct symbolizer *s, enum sym_log_level lvl, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!s->opts.log || lvl > s->opts.log_level)
		return;		/* not worth formatting */
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->opts.log(s->opts.log_ctx, lvl, buf);
}

#define LINE_CACHE_SLOTS 4096
/* libdw keeps every CFI entry it has parsed until the table is closed: a
 * large library (libLLVM: 10^5 FDEs) unwound for long enough would have
 * them all. Past this many lookups in all files, every table starts over
 * at the end of the batch, keeping what the next lookups parse again. */
#define CFI_LOOKUPS_MAX 16384
#define LINE_STRS_MAX (4u << 20)	/* past this the line cache starts over */

/* DWARF's answer for one address of one file, with the strings copied: libdw
 * is released after every drain. */
struct line_ent {
	uint64_t file_uid;		/* 0: empty */
	uint64_t vaddr;
	uint32_t n;
	uint32_t func[SYM_LINES_MAX], file[SYM_LINES_MAX];	/* line_strs offsets */
	int line[SYM_LINES_MAX];
};

struct kmodule {
	char name[64];
	uint64_t start, size;
};

static int kmodule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kmodule *)a)->name, ((const struct kmodule *)b)->name);
}

/* Module ranges: "name size refs deps state 0xaddr ..." per line. A kernel
 * without modules has no such file; that is not an error. */
static void load_modules(struct symbolizer *s)
{
	struct kmodule *mods = NULL;
	size_t nr = 0, cap = 0;
	char path[300], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/modules", s->proc_root);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && nr < 65536) {
		struct kmodule m = { 0 };
		unsigned long long size, addr;

		if (sscanf(line, "%63s %llu %*s %*s %*s %llx", m.name, &size, &addr) != 3 || !addr)
			continue;	/* addresses hidden (kptr_restrict) or a bad line */
		m.start = addr;
		m.size = size;
		if (nr == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct kmodule *n = realloc(mods, ncap * sizeof(*n));

			if (!n)
				break;
			mods = n;
			cap = ncap;
		}
		mods[nr++] = m;
	}
	fclose(f);
	if (nr)
		qsort(mods, nr, sizeof(*mods), kmodule_cmp);
	free(s->mods);
	s->mods = mods;
	s->nr_mods = nr;
}

static int load_kallsyms(struct symbolizer *s)
{
	struct ksyms *ks;
	FILE *f = fopen(s->kallsyms_path, "re");

	if (!f)
		return -errno;
	ks = ksyms__parse(f);
	fclose(f);
	if (!ks)
		return -errno;
	ksyms__free(s->ks);
	s->ks = ks;
	s->ks_loaded_ns = now_ns();
	/* one mapping for core text, modules and BPF programs alike */
	s->kmap.start = ks->stext;
	s->kmap.limit = UINT64_MAX;
	load_modules(s);
	return 0;
}

static int line_str(struct symbolizer *s, const char *str, uint32_t *off);

/* Does /proc show our own pid namespace? Then kill() and /proc agree on pids. */
static bool proc_self_is_us(void)
{
	char link[32], want[32];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);

	if (n <= 0)
		return false;
	link[n] = '\0';
	snprintf(want, sizeof(want), "%d", (int)getpid());
	return !strcmp(link, want);
}

struct symbolizer *symbolizer__new(const struct symbolizer_opts *opts)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->vdso_fd = -1;
	if (opts)
		s->opts = *opts;
	if (!s->opts.max_files)
		s->opts.max_files = 256;
	if (!s->opts.max_processes)
		s->opts.max_processes = 4096;
	if (!s->opts.max_file_bytes)
		s->opts.max_file_bytes = 16u << 20;
	if (!s->opts.debuginfod_timeout_ms)
		s->opts.debuginfod_timeout_ms = 5000;
	if (!s->opts.max_process_bytes)
		s->opts.max_process_bytes = 16u << 20;
	s->dwarf.max = s->opts.max_dwarf_bytes;
	snprintf(s->proc_root, sizeof(s->proc_root), "%s",
		 s->opts.proc_root ? s->opts.proc_root : "/proc");
	s->proc_is_live = !strcmp(s->proc_root, "/proc") && proc_self_is_us();
	if (s->opts.kallsyms_path)
		snprintf(s->kallsyms_path, sizeof(s->kallsyms_path), "%s", s->opts.kallsyms_path);
	else
		snprintf(s->kallsyms_path, sizeof(s->kallsyms_path), "%s/kallsyms", s->proc_root);
	s->files = calloc(s->opts.max_files, sizeof(*s->files));
	if (!s->files) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->line_cache = calloc(LINE_CACHE_SLOTS, sizeof(*s->line_cache));
	if (!s->line_cache || line_str(s, "", &(uint32_t){ 0 })) {
		free(s->line_cache);
		free(s->files);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	s->kmap.path = "[kernel.kallsyms]";
	s->kmap.build_id = "";
	s->kmap.kernel = true;
	err = load_kallsyms(s);
	if (err) {
		free(s->files);
		free(s->line_cache);
		free(s->line_strs.buf);
		free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

static void file_put(struct file_ent *fe)
{
	if (fe && --fe->refs == 0) {
		elf_file__free(fe->ef);
		free(fe);
	}
}

static void proc_free(struct symbolizer *s, struct proc *p)
{
	s->jit_bytes -= p->jit_bytes;
	s->st.process_bytes -= p->bytes;
	perfmap__clear(&p->jit);
	for (size_t i = 0; i < p->maps.nr; i++)
		file_put(p->files[i]);
	free(p->files);
	free(p->looked);
	procmaps__clear(&p->maps);
	free(p);
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t b = 0; b < PROC_BUCKETS; b++) {
		struct proc *p = s->procs[b], *next;

		for (; p; p = next) {
			next = p->next;
			proc_free(s, p);
		}
	}
	for (size_t i = 0; i < s->nr_files; i++)
		file_put(s->files[i]);
	free(s->files);
	ksyms__free(s->ks);
	free(s->mods);
	free(s->line_cache);
	free(s->line_strs.buf);
	if (s->dic)
		debuginfod_end(s->dic);
	free(s->dic_failed);
	if (s->vdso_fd >= 0)
		close(s->vdso_fd);
	elf_file__free(s->vdso_ef);
	cfi_file__free(s->vdso_cfi);
	free(s);
}

/* --- processes ------------------------------------------------------------ */

/* Is @pid still there? kill(0) answers for the live /proc without a path
 * lookup: under exec churn most lookups are of gone processes, and a
 * negative procfs lookup costs more than the signal check. */
static bool proc_alive(const struct symbolizer *s, uint32_t pid)
{
	char path[300];

	/* kill() of 0 or of a negative pid would ask about a process group */
	if (s->proc_is_live && pid && pid <= INT_MAX)
		return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
	snprintf(path, sizeof(path), "%s/%u", s->proc_root, pid);
	return access(path, F_OK) == 0 || errno != ENOENT;
}

static int proc_read_maps(struct symbolizer *s, struct proc *p)
{
	struct procmaps pm;
	char path[300];
	FILE *f;
	int err;

	/* under exec churn most are gone by now: a failed open of their maps
	 * walks procfs for nothing */
	if (s->proc_is_live && !proc_alive(s, p->pid))
		return -ESRCH;
	snprintf(path, sizeof(path), "%s/%u/maps", s->proc_root, p->pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = procmaps__parse(f, PROCMAPS_EXEC, &pm);
	fclose(f);
	if (err)
		return err;
	if (!pm.nr)
		return -ESRCH;	/* a zombie or a kernel thread */

	for (size_t i = 0; i < p->maps.nr; i++)
		file_put(p->files[i]);
	free(p->files);
	free(p->looked);
	procmaps__clear(&p->maps);
	p->files = calloc(pm.nr, sizeof(*p->files));
	p->looked = calloc(pm.nr, sizeof(*p->looked));
	if (!p->files || !p->looked) {
		procmaps__clear(&pm);
		return -ENOMEM;
	}
	p->maps = pm;
	if (p->read_ns)
		p->remapped = true;
	p->read_ns = now_ns();
	s->st.processes_read++;
	return 0;
}

size_t symbolizer__take_remapped(struct symbolizer *s, struct sym_process *out, size_t max)
{
	size_t n = 0;

	for (size_t b = 0; b < PROC_BUCKETS && n < max; b++)
		for (struct proc *p = s->procs[b]; p && n < max; p = p->next) {
			if (!p->remapped)
				continue;
			p->remapped = false;
			out[n].pid = p->pid;
			memcpy(out[n].comm, p->comm, sizeof(out[n].comm));
			n++;
		}
	return n;
}

/* Memory a snapshot holds: its mappings and the perf map read for it. */
static size_t proc_bytes(const struct proc *p)
{
	size_t b = sizeof(*p) + p->maps.nr * (sizeof(struct procmap) + sizeof(*p->files) +
					     sizeof(*p->looked));

	for (size_t i = 0; i < p->maps.nr; i++)
		b += strlen(p->maps.maps[i].path) + 1;
	return b + p->jit.nr * sizeof(*p->jit.syms) + p->jit.strs.cap;
}

/* Account @p's size again after it changed. */
static void proc_resize(struct symbolizer *s, struct proc *p)
{
	size_t b = proc_bytes(p);

	s->st.process_bytes = s->st.process_bytes - p->bytes + b;
	p->bytes = b;
}

static struct proc **proc_slot(struct symbolizer *s, uint32_t pid, const char *comm)
{
	struct proc **pp = &s->procs[pid % PROC_BUCKETS];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->pid == pid && !strncmp((*pp)->comm, comm, sizeof((*pp)->comm)))
			return pp;
	return pp;
}

static void evict_oldest_proc(struct symbolizer *s)
{
	struct proc **victim = NULL;

	for (size_t b = 0; b < PROC_BUCKETS; b++)
		for (struct proc **pp = &s->procs[b]; *pp; pp = &(*pp)->next)
			if (!victim || (*pp)->last_use < (*victim)->last_use)
				victim = pp;
	if (victim) {
		struct proc *p = *victim;

		*victim = p->next;
		proc_free(s, p);
		s->nr_procs--;
		s->st.processes_evicted++;
	}
}

static struct proc *proc_get(struct symbolizer *s, uint32_t pid, const char *comm, bool fresh)
{
	struct proc **pp = proc_slot(s, pid, comm), *p = *pp;
	int err;

	if (p) {
		s->st.processes_hit++;
		p->last_use = ++s->tick;
		if (fresh && !p->gone) {
			proc_read_maps(s, p);	/* keep the old snapshot on failure */
			proc_resize(s, p);
		}
		return p;
	}
	s->st.processes_miss++;
	while (s->nr_procs && (s->nr_procs >= s->opts.max_processes ||
			       s->st.process_bytes > s->opts.max_process_bytes)) {
		evict_oldest_proc(s);
		pp = proc_slot(s, pid, comm);
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->last_use = ++s->tick;
	err = proc_read_maps(s, p);
	if (err) {
		p->gone = true;
		s->st.processes_gone++;
		slog(s, SYM_LOG_DEBUG, "cannot read maps of pid %u (%s): %s",
		     pid, comm, strerror(-err));	/* most often: it already exited */
	}
	*pp = p;
	s->nr_procs++;
	proc_resize(s, p);
	return p;
}

static struct file_ent *file_get(struct symbolizer *s, uint32_t pid, const struct procmap *m);

/* The ELF file behind mapping @i of @p, opened on first use (NULL: none). */
static struct elf_file *proc_file(struct symbolizer *s, struct proc *p, size_t i)
{
	const struct procmap *m = &p->maps.maps[i];

	if (m->path[0] != '/' || !m->inode)
		return NULL;
	if (!p->looked[i]) {
		p->looked[i] = true;
		p->files[i] = file_get(s, p->pid, m);
	}
	if (!p->files[i])
		return NULL;
	p->files[i]->used = true;
	return p->files[i]->ef;
}

int symbolizer__note_process(struct symbolizer *s, uint32_t pid, const char *comm)
{
	struct proc *p = proc_get(s, pid, comm, true);

	if (!p)
		return -ENOMEM;
	if (p->gone)
		return -ESRCH;
	/* open its code files now, while /proc/PID/map_files and its mount
	 * namespace exist: a short-lived process, or one in a container, is
	 * gone by the time its samples are drained */
	for (size_t i = 0; i < p->maps.nr; i++)
		if (p->maps.maps[i].perms[2] == 'x')
			proc_file(s, p, i);
	return 0;
}

void symbolizer__forget_process(struct symbolizer *s, uint32_t pid)
{
	struct proc **pp = &s->procs[pid % PROC_BUCKETS];

	while (*pp) {
		struct proc *p = *pp;

		if (p->pid == pid) {
			*pp = p->next;
			proc_free(s, p);
			s->nr_procs--;
		} else {
			pp = &p->next;
		}
	}
}

/* --- ELF files -------------------------------------------------------------- */

static struct file_ent *file_cache_find(struct symbolizer *s, const struct procmap *m)
{
	for (size_t i = 0; i < s->nr_files; i++) {
		struct file_ent *fe = s->files[i];

		if (fe->ino == m->inode && fe->dev_major == m->dev_major &&
		    fe->dev_minor == m->dev_minor) {
			fe->last_use = ++s->tick;
			s->st.files_hit++;
			return fe;
		}
	}
	s->st.files_miss++;
	return NULL;
}

/* Drop the least recently used file from the cache (mappings still using it
 * keep it until their process goes). */
static void evict_oldest_file(struct symbolizer *s)
{
	size_t victim = 0;

	for (size_t i = 1; i < s->nr_files; i++)
		if (s->files[i]->last_use < s->files[victim]->last_use)
			victim = i;
	s->st.file_bytes -= s->files[victim]->bytes;
	s->files[victim]->cached = false;
	file_put(s->files[victim]);
	s->files[victim] = s->files[--s->nr_files];
	s->st.files_evicted++;
}

static struct elf_file *open_mapped_file(struct symbolizer *s, uint32_t pid,
					 const struct procmap *m, char *path, size_t len)
{
	struct elf_file *ef;

	/* map_files names the mapped inode itself: deleted and container files too */
	snprintf(path, len, "%s/%u/map_files/%llx-%llx", s->proc_root, pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	ef = elf_file__open(path);
	if (ef)
		return ef;
	snprintf(path, len, "%s/%u/root%s", s->proc_root, pid, m->path);
	ef = elf_file__open(path);
	if (!ef) {
		snprintf(path, len, "%s", m->path);
		ef = elf_file__open(m->path);
	}
	if (ef && ef->ino != m->inode) {
		/* replaced on disk since it was mapped: its symbols would lie */
		elf_file__free(ef);
		errno = ESTALE;
		return NULL;
	}
	return ef;
}

#define DEBUGINFOD_FAILED_MAX 4096

/* libdebuginfod calls this while it transfers: non-zero cancels. */
static int debuginfod_progress(debuginfod_client *c, long a, long b)
{
	struct symbolizer *s = debuginfod_get_user_data(c);

	(void)a;
	(void)b;
	return now_ns() > s->dic_deadline_ns;
}

/* The debug file of @ef from a debuginfod server, by build-id. */
static int from_debuginfod(struct symbolizer *s, struct elf_file *ef)
{
	char *path = NULL;
	int fd, err;

	if (!ef->build_id[0])
		return -ENOENT;
	for (size_t i = 0; i < s->nr_dic_failed; i++)
		if (!strcmp(s->dic_failed[i], ef->build_id))
			return -ENOENT;
	if (!s->dic) {
		s->dic = debuginfod_begin();
		if (!s->dic)
			return -ENOMEM;
		debuginfod_set_user_data(s->dic, s);
		debuginfod_set_progressfn(s->dic, debuginfod_progress);
	}
	s->dic_deadline_ns = now_ns() + (uint64_t)s->opts.debuginfod_timeout_ms * 1000000ULL;
	fd = debuginfod_find_debuginfo(s->dic, (const unsigned char *)ef->build_id, 0, &path);
	err = fd < 0 ? fd : elf_file__use_debug_file(ef, path, 0);
	if (fd >= 0)
		close(fd);
	if (err) {
		s->st.debuginfod_failed++;
		slog(s, SYM_LOG_INFO, "debuginfod: no debug file for build-id %s: %s", ef->build_id,
		     strerror(-err));
		if (!s->dic_failed)
			s->dic_failed = calloc(DEBUGINFOD_FAILED_MAX, sizeof(*s->dic_failed));
		if (s->dic_failed && s->nr_dic_failed < DEBUGINFOD_FAILED_MAX)
			snprintf(s->dic_failed[s->nr_dic_failed++], 41, "%s", ef->build_id);
	} else {
		s->st.debuginfod_found++;
	}
	free(path);
	return err;
}

struct debug_try {
	struct elf_file *ef;
	const char *prefix;
};

static int try_debug_file(void *ctx, const char *candidate, int by_link)
{
	struct debug_try *t = ctx;
	char path[4900];

	snprintf(path, sizeof(path), "%s%s", t->prefix, candidate);
	return elf_file__use_debug_file(t->ef, path, by_link);
}

/* A file without .symtab: take the symbols of its separate debug file,
 * looked for inside the process's root first, then on the host. */
static void find_debug_file(struct symbolizer *s, uint32_t pid, const struct procmap *m,
			    struct elf_file *ef)
{
	char root[300];
	struct debug_try t = { .ef = ef, .prefix = root };

	snprintf(root, sizeof(root), "%s/%u/root", s->proc_root, pid);
	if (!elf_file__debug_candidates(ef, m->path, "/usr/lib/debug", try_debug_file, &t))
		goto found;
	t.prefix = "";
	if (!elf_file__debug_candidates(ef, m->path, "/usr/lib/debug", try_debug_file, &t))
		goto found;
	if (s->opts.extra_debug_dir &&
	    !elf_file__debug_candidates(ef, m->path, s->opts.extra_debug_dir, try_debug_file, &t))
		goto found;
	if (s->opts.debuginfod && !from_debuginfod(s, ef))
		goto found;
	s->st.debug_files_missing++;
	return;
found:
	s->st.debug_files_used++;
	slog(s, SYM_LOG_DEBUG, "symbols of %s from a separate debug file", m->path);
}

static struct file_ent *file_get(struct symbolizer *s, uint32_t pid, const struct procmap *m)
{
	struct file_ent *fe = file_cache_find(s, m);
	char path[4352];

	if (fe) {
		fe->refs++;
		return fe;
	}
	fe = calloc(1, sizeof(*fe));
	if (!fe)
		return NULL;
	fe->ef = open_mapped_file(s, pid, m, path, sizeof(path));
	if (fe->ef && !fe->ef->has_symtab)
		find_debug_file(s, pid, m, fe->ef);
	if (fe->ef) {
		/* DWARF for lines and inlined functions: in the debug file, else in
		 * the file itself; opened now, while the path still leads to it */
		if (fe->ef->debug_path)
			fe->ef->dwarf = dwarf_info__open(fe->ef->debug_path, &s->dwarf);
		if (!fe->ef->dwarf)
			fe->ef->dwarf = dwarf_info__open(path, &s->dwarf);
		if (fe->ef->dwarf)
			s->st.dwarf_files++;
		fe->ef->uid = ++s->file_seq;
	}
	if (fe->ef) {
		s->st.files_opened++;
	} else {
		s->st.files_failed++;
		slog(s, SYM_LOG_DEBUG, "cannot read symbols of %s: %s", m->path, strerror(errno));
	}
	fe->dev_major = m->dev_major;
	fe->dev_minor = m->dev_minor;
	fe->ino = m->inode;
	fe->last_use = ++s->tick;
	fe->refs = 2;		/* the cache's and the caller's */
	fe->bytes = sizeof(*fe) + (fe->ef ? elf_file__bytes(fe->ef) : 0);
	while (s->nr_files && (s->nr_files == s->opts.max_files ||
			       s->st.file_bytes + fe->bytes > s->opts.max_file_bytes))
		evict_oldest_file(s);
	fe->cached = true;
	s->files[s->nr_files++] = fe;
	s->st.file_bytes += fe->bytes;
	return fe;
}

/* --- lookups ------------------------------------------------------------------ */

void symbolizer__kernel_changed(struct symbolizer *s)
{
	s->ks_stale = true;
}

int symbolizer__kernel(struct symbolizer *s, uint64_t addr, bool is_return,
		       struct sym_frame *out)
{
	uint64_t a = is_return ? addr - 1 : addr;
	long ks = -1;

	memset(out, 0, sizeof(*out));
	out->addr = addr;
	out->map = &s->kmap;
	/* a BPF program loaded since the last read sits next to older ones:
	 * the nearest symbol below it names another program */
	if (s->ks_stale && !load_kallsyms(s))
		s->st.kallsyms_reloads++;
	s->ks_stale = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		bool core = s->ks->stext && a >= s->ks->stext && a < s->ks->etext;

		ks = ksyms__find(s->ks, a);
		if (ks >= 0 && (core || a - ksyms__addr(s->ks, (size_t)ks) < MODULE_FUNC_MAX))
			break;
		ks = -1;
		/* a module or BPF program loaded after kallsyms was read */
		if (attempt || now_ns() - s->ks_loaded_ns < KALLSYMS_RELOAD_NS)
			break;
		if (load_kallsyms(s))
			break;
		s->st.kallsyms_reloads++;
	}
	if (ks >= 0)
		out->name = ksyms__name(s->ks, (size_t)ks);
	if (!out->name) {
		s->st.kernel_unknown++;
		return -ENOENT;
	}
	out->module = ksyms__module(s->ks, (size_t)ks);
	if (out->module && s->nr_mods) {
		/* a module's frames get its own mapping, named like perf's "[ext4]" */
		struct kmodule key = { 0 }, *m;

		snprintf(key.name, sizeof(key.name), "%s", out->module);
		m = bsearch(&key, s->mods, s->nr_mods, sizeof(*s->mods), kmodule_cmp);
		if (m && a >= m->start && a < m->start + m->size) {
			snprintf(s->modpath, sizeof(s->modpath), "[%s]", m->name);
			s->modmap = (struct sym_mapping){ .start = m->start, .limit = m->start + m->size,
							  .path = s->modpath, .build_id = "",
							  .kernel = true };
			out->map = &s->modmap;
		}
	}
	s->st.kernel_ok++;
	return 0;
}

#define DWARF_KEEP_MAX 4	/* files whose parsed DWARF may outlive a batch */

/* Release @di unless it is one of the @nkeep busiest of this batch in @keep
 * or, with @hold_ns, was looked up in the last @hold_ns: libc's compressed
 * debug sections cost more to parse again than to keep. */
static void release_dwarf(struct dwarf_info *di, struct dwarf_info **keep, size_t nkeep,
			  uint64_t now, uint64_t hold_ns)
{
	/* asked first: a kept file's lookups of this batch count as its last use */
	bool held = hold_ns && dwarf_info__idle_ns(di, now) < hold_ns;

	for (size_t k = 0; k < nkeep; k++)
		if (keep[k] == di)
			return;
	if (!held)
		dwarf_info__release(di);
}

static void rank_dwarf(struct dwarf_info *di, struct dwarf_info **keep, size_t nkeep)
{
	uint64_t u = dwarf_info__used(di);

	if (!u || !nkeep)
		return;
	for (size_t k = 0; k < nkeep; k++) {
		if (keep[k] == di)
			return;
		if (!keep[k] || u > dwarf_info__used(keep[k])) {
			for (size_t j = nkeep - 1; j > k; j--)
				keep[j] = keep[j - 1];
			keep[k] = di;
			return;
		}
	}
}

/* Release the parsed DWARF of every file but the @nkeep in @keep and, with
 * @hold_ns, those looked up in the last @hold_ns. */
static void release_all_dwarf(struct symbolizer *s, struct dwarf_info **keep, size_t nkeep,
			      uint64_t hold_ns)
{
	uint64_t now = hold_ns ? now_ns() : 0;

	for (size_t i = 0; i < s->nr_files; i++)
		if (s->files[i]->ef)
			release_dwarf(s->files[i]->ef->dwarf, keep, nkeep, now, hold_ns);
	/* files evicted from the cache but still mapped by a snapshot */
	for (size_t b = 0; b < PROC_BUCKETS; b++)
		for (struct proc *p = s->procs[b]; p; p = p->next)
			for (size_t i = 0; i < p->maps.nr; i++)
				if (p->files[i] && p->files[i]->ef)
					release_dwarf(p->files[i]->ef->dwarf, keep, nkeep, now,
						      hold_ns);
}

/* Drop processes that had exited before this batch began: its drain took
 * whatever samples they left. */
static void forget_exited(struct symbolizer *s)
{
	for (size_t b = 0; b < PROC_BUCKETS; b++) {
		struct proc **pp = &s->procs[b];

		while (*pp) {
			struct proc *p = *pp;

			if (proc_alive(s, p->pid)) {
				p->exited_batches = 0;
			} else if (++p->exited_batches >= 2) {
				*pp = p->next;
				proc_free(s, p);
				s->nr_procs--;
				s->st.processes_exited++;
				continue;
			}
			pp = &p->next;
		}
	}
}

/* Page out what lookups paged in of @fe's file; with @restart, its CFI
 * entries go too (counted). */
static void trim_file(struct symbolizer *s, struct file_ent *fe, bool restart)
{
	if (elf_file__trim(fe->ef, restart))
		s->st.cfi_resets++;
	fe->used = false;
}

void symbolizer__end_batch(struct symbolizer *s)
{
	struct dwarf_info *keep[DWARF_KEEP_MAX] = { 0 };
	size_t nkeep = s->opts.dwarf_keep < DWARF_KEEP_MAX ? s->opts.dwarf_keep : DWARF_KEEP_MAX;
	bool restart = s->cfi_lookups >= CFI_LOOKUPS_MAX;

	if (restart)
		s->cfi_lookups = 0;
	for (size_t i = 0; i < s->nr_files; i++) {
		struct file_ent *fe = s->files[i];
		size_t bytes;

		if (!fe->ef)
			continue;
		/* what lookups paged in goes out of our RSS again */
		trim_file(s, fe, restart);
		if (nkeep)
			rank_dwarf(fe->ef->dwarf, keep, nkeep);
		/* the names kept by lookups count against the cache's bound */
		bytes = sizeof(*fe) + elf_file__bytes(fe->ef);
		s->st.file_bytes += bytes - fe->bytes;
		fe->bytes = bytes;
	}
	while (s->nr_files > 1 && s->st.file_bytes > s->opts.max_file_bytes)
		evict_oldest_file(s);
	/* and those of files evicted from the cache that a process still maps */
	for (size_t b = 0; b < PROC_BUCKETS; b++)
		for (struct proc *p = s->procs[b]; p; p = p->next)
			for (size_t i = 0; i < p->maps.nr; i++) {
				struct file_ent *fe = p->files[i];

				if (fe && !fe->cached && fe->ef && (fe->used || restart))
					trim_file(s, fe, restart);
			}
	release_all_dwarf(s, keep, nkeep, (uint64_t)s->opts.dwarf_hold_ms * 1000000ULL);
	forget_exited(s);
	for (size_t k = 0; k < nkeep; k++)
		if (keep[k])
			dwarf_info__reset_use(keep[k]);
}

/* DWARF's view of the address: inlined functions and file:line. The
 * outermost function keeps the ELF symbol's name, as frames without DWARF. */
static int line_str(struct symbolizer *s, const char *str, uint32_t *off)
{
	str = str ? str : "";
	return strtab__add(&s->line_strs, str, strlen(str), off);
}

/* Look @vaddr up in DWARF and keep the answer in @e. Returns 0 or -errno. */
static int line_fill(struct symbolizer *s, struct elf_file *ef, uint64_t vaddr,
		     struct line_ent *e)
{
	int err = dwarf_info__lookup(ef->dwarf, vaddr, &s->lines);

	if (err == -ENOBUFS) {
		/* the DWARF budget is full: let the others go, parse this one */
		release_all_dwarf(s, NULL, 0, 0);
		s->st.dwarf_budget_releases++;
		err = dwarf_info__lookup(ef->dwarf, vaddr, &s->lines);
	}
	if (err)
		return -ENOENT;
	if (s->line_strs.len > LINE_STRS_MAX) {
		/* names outgrew their bound: start the cache over */
		memset(s->line_cache, 0, LINE_CACHE_SLOTS * sizeof(*s->line_cache));
		s->line_strs.len = 1;
	}
	e->file_uid = 0;
	for (size_t i = 0; i < s->lines.n; i++) {
		if (line_str(s, s->lines.lines[i].func, &e->func[i]) ||
		    line_str(s, s->lines.lines[i].file, &e->file[i]))
			return -ENOMEM;
		e->line[i] = s->lines.lines[i].line;
	}
	e->n = (uint32_t)s->lines.n;
	e->vaddr = vaddr;
	e->file_uid = ef->uid;
	return 0;
}

/* DWARF's view of the address: inlined functions and file:line, from the line
 * cache or libdw. The outermost function keeps the ELF symbol's name, as
 * frames without DWARF. */
static void add_source_lines(struct symbolizer *s, struct elf_file *ef, uint64_t off,
			     struct sym_frame *out)
{
	struct line_ent *e;
	uint64_t vaddr;

	if (!s->line_cache || elf_file__vaddr(ef, off, &vaddr))
		return;
	e = &s->line_cache[(vaddr * 0x9e3779b97f4a7c15ULL ^ ef->uid) % LINE_CACHE_SLOTS];
	if (e->file_uid == ef->uid && e->vaddr == vaddr) {
		s->st.lines_hit++;
	} else {
		s->st.lines_miss++;
		if (line_fill(s, ef, vaddr, e)) {
			/* remembered too: no DWARF there, or too big for the budget */
			e->n = 0;
			e->vaddr = vaddr;
			e->file_uid = ef->uid;
		}
	}
	if (!e->n)
		return;
	for (size_t i = 0; i < e->n; i++) {
		const char *func = s->line_strs.buf + e->func[i];
		const char *file = s->line_strs.buf + e->file[i];

		s->src[i].func = *func ? func : out->name;
		s->src[i].file = *file ? file : NULL;
		s->src[i].line = e->line[i];
	}
	s->src[e->n - 1].func = out->name;
	out->src = s->src;
	out->nr_src = e->n;
}

/* The pid of @pid inside its own pid namespace (the number in its perf map's
 * name), from the last NSpid field; @pid itself on kernels without NSpid. */
static uint32_t ns_pid(struct symbolizer *s, uint32_t pid)
{
	char path[300], line[256];
	uint32_t nspid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/status", s->proc_root, pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f)) {
		char *last;

		if (strncmp(line, "NSpid:", 6))
			continue;
		line[strcspn(line, "\n")] = '\0';
		last = strrchr(line, '\t');
		if (last)
			nspid = (uint32_t)strtoul(last + 1, NULL, 10);
		break;
	}
	fclose(f);
	return nspid;
}

/* (Re)read @p's perf map when it is new or changed, within the budget. */
static void jit_refresh(struct symbolizer *s, struct proc *p)
{
	char path[320];
	struct perfmap pm;
	struct stat st;
	int64_t mtime;
	FILE *f;
	int err;

	if (p->jit_read_ns && now_ns() - p->jit_read_ns < JIT_REREAD_NS)
		return;
	p->jit_read_ns = now_ns();
	/* inside the process's root: a container's /tmp is its own */
	snprintf(path, sizeof(path), "%s/%u/root/tmp/perf-%u.map", s->proc_root, p->pid,
		 ns_pid(s, p->pid));
	if (stat(path, &st))
		return;
	mtime = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	if (p->jit_bytes && mtime == p->jit_mtime_ns && (size_t)st.st_size == p->jit_bytes)
		return;
	if ((size_t)st.st_size > JIT_FILE_MAX ||
	    s->jit_bytes - p->jit_bytes + (size_t)st.st_size > JIT_BUDGET) {
		s->st.perf_maps_skipped++;
		slog(s, SYM_LOG_WARN, "perf map %s not read: %lld bytes past the %u MiB budget",
		     path, (long long)st.st_size, JIT_BUDGET >> 20);
		return;
	}
	f = fopen(path, "re");
	if (!f)
		return;
	err = perfmap__parse(f, &pm, JIT_ENTRIES_MAX);
	fclose(f);
	if (err) {
		slog(s, SYM_LOG_INFO, "cannot read perf map %s: %s", path, strerror(-err));
		return;
	}
	perfmap__clear(&p->jit);
	p->jit = pm;
	proc_resize(s, p);
	s->jit_bytes = s->jit_bytes - p->jit_bytes + (size_t)st.st_size;
	p->jit_bytes = (size_t)st.st_size;
	p->jit_mtime_ns = mtime;
	s->st.perf_maps_read++;
	if (pm.bad_lines || pm.dropped)
		slog(s, SYM_LOG_INFO, "perf map %s: %llu bad lines skipped, %llu entries past %u",
		     path, (unsigned long long)pm.bad_lines, (unsigned long long)pm.dropped,
		     JIT_ENTRIES_MAX);
}

/* Every process maps the one vDSO image of the running kernel: a copy of
 * ours, in a memfd, names their vDSO frames and gives its CFI to their
 * unwinders. Returns the memfd, or -1. */
static int vdso_open(struct symbolizer *s)
{
	struct procmaps pm = { 0 };
	const struct procmap *m = NULL;
	char path[64];
	FILE *f;
	int fd;

	if (s->vdso_tried)
		return s->vdso_fd;
	s->vdso_tried = true;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	if (!procmaps__parse(f, PROCMAPS_EXEC, &pm))
		for (size_t i = 0; i < pm.nr && !m; i++)
			if (!strcmp(pm.maps[i].path, "[vdso]"))
				m = &pm.maps[i];
	fclose(f);
	fd = m ? memfd_create("kiln-vdso", MFD_CLOEXEC) : -1;
	if (fd >= 0 && write(fd, (const void *)(uintptr_t)m->start, m->end - m->start) !=
		       (ssize_t)(m->end - m->start)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0) {
		s->vdso_size = m->end - m->start;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		s->vdso_ef = elf_file__open(path);
	}
	procmaps__clear(&pm);
	s->vdso_fd = fd;
	return fd;
}

/* Is @m the vDSO, and is it ours (same size: not a 32-bit process's)? */
static bool is_vdso(struct symbolizer *s, const struct procmap *m)
{
	return !strcmp(m->path, "[vdso]") && vdso_open(s) >= 0 &&
	       m->end - m->start == s->vdso_size;
}

int symbolizer__user(struct symbolizer *s, uint32_t pid, const char *comm,
		     uint64_t addr, bool is_return, struct sym_frame *out)
{
	uint64_t a = is_return ? addr - 1 : addr;
	const struct procmap *m;
	struct proc *p;
	size_t idx;

	memset(out, 0, sizeof(*out));
	out->addr = addr;
	p = proc_get(s, pid, comm, false);
	if (!p)
		return -ENOMEM;
	m = procmaps__find(&p->maps, a);
	if (!m && !p->gone && now_ns() - p->read_ns > REREAD_NS) {
		/* mapped after the snapshot (dlopen, JIT) */
		proc_read_maps(s, p);
		proc_resize(s, p);
		m = procmaps__find(&p->maps, a);
	}
	if (!m) {
		s->st.user_unknown++;
		return -ENOENT;
	}
	idx = (size_t)(m - p->maps.maps);
	s->umap.start = m->start;
	s->umap.limit = m->end;
	s->umap.offset = m->offset;
	s->umap.path = m->path[0] ? m->path : "[anon]";
	s->umap.build_id = "";
	s->umap.kernel = false;
	out->map = &s->umap;
	out->file_offset = m->offset + (addr - m->start);

	if (m->path[0] == '/' && m->inode) {
		struct elf_file *ef = proc_file(s, p, idx);

		if (ef) {
			s->umap.build_id = ef->build_id;
			out->name = elf_file__lookup(ef, m->offset + (a - m->start));
			if (out->name && ef->dwarf)
				add_source_lines(s, ef, m->offset + (a - m->start), out);
		}
	} else if (is_vdso(s, m)) {
		if (s->vdso_ef) {
			s->umap.build_id = s->vdso_ef->build_id;
			out->name = elf_file__lookup(s->vdso_ef, a - m->start);
		}
	} else if (!m->inode && !p->gone) {
		/* anonymous code: a JIT's, named in its perf map if it keeps one */
		jit_refresh(s, p);
		out->name = perfmap__lookup(&p->jit, a);
		if (out->name)
			s->umap.path = "[jit]";
	}
	if (!out->name) {
		s->st.user_unknown++;
		return -ENOENT;
	}
	s->st.user_ok++;
	return 0;
}

/* --- unwinding -------------------------------------------------------------- */

int symbolizer__code_ranges(struct symbolizer *s, uint32_t pid, const char *comm,
			    struct sym_code_range *out, size_t max, size_t *nr)
{
	struct proc *p = proc_get(s, pid, comm, false);
	size_t n = 0;

	*nr = 0;
	if (!p)
		return -ENOMEM;
	if (p->gone)
		return -ESRCH;
	for (size_t i = 0; i < p->maps.nr; i++) {
		const struct procmap *m = &p->maps.maps[i];
		struct elf_file *ef;
		int fp = 1;

		if (m->perms[2] != 'x')
			continue;
		if (m->path[0] == '/' && m->inode) {
			ef = proc_file(s, p, i);
			fp = ef ? ef->frame_pointers : -1;
		}
		if (n < max)
			out[n] = (struct sym_code_range){ m->start, m->end, fp };
		n++;
	}
	*nr = n;
	return 0;
}

struct unwind_ctx {
	struct symbolizer *s;
	struct proc *p;
};

/* The CFI of the file mapped at @addr in the process being unwound, opened
 * on first use (through map_files: deleted and container files too). */
static struct cfi_file *unwind_find(void *vctx, uint64_t addr, uint64_t *bias)
{
	struct unwind_ctx *c = vctx;
	struct symbolizer *s = c->s;
	const struct procmap *m = procmaps__find(&c->p->maps, addr);
	struct elf_file *ef;
	uint64_t vaddr;
	char path[4352];

	if (!m || m->perms[2] != 'x')
		return NULL;
	if (is_vdso(s, m)) {
		if (!s->vdso_cfi && s->vdso_fd >= 0) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", s->vdso_fd);
			s->vdso_cfi = cfi_file__open(path);
		}
		*bias = m->start;
		return s->vdso_cfi;
	}
	ef = proc_file(s, c->p, (size_t)(m - c->p->maps.maps));
	if (!ef || elf_file__vaddr(ef, m->offset, &vaddr))
		return NULL;
	if (!ef->cfi_tried) {
		ef->cfi_tried = 1;
		snprintf(path, sizeof(path), "%s/%u/map_files/%llx-%llx", s->proc_root, c->p->pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
		ef->cfi = cfi_file__open(path);
		if (!ef->cfi) {
			snprintf(path, sizeof(path), "%s/%u/root%s", s->proc_root, c->p->pid, m->path);
			ef->cfi = cfi_file__open(path);
		}
		if (ef->cfi)
			s->st.cfi_files++;
	}
	*bias = m->start - vaddr;
	s->cfi_lookups += ef->cfi != NULL;
	return ef->cfi;
}

size_t symbolizer__unwind(struct symbolizer *s, uint32_t pid, const char *comm, uint32_t tid,
			  const uint64_t *regs, const void *stack, size_t len,
			  uint64_t *pcs, size_t max)
{
	struct unwind_ctx c = { s, proc_get(s, pid, comm, false) };

	(void)tid;
	if (!max)
		return 0;
	if (!c.p) {
		pcs[0] = regs[UNWIND_REG_IP];
		return 1;
	}
	if (!procmaps__find(&c.p->maps, regs[UNWIND_REG_IP]) && !c.p->gone &&
	    now_ns() - c.p->read_ns > REREAD_NS) {
		/* code mapped after the snapshot (dlopen) */
		proc_read_maps(s, c.p);
		proc_resize(s, c.p);
	}
	return unwind_walk(unwind_find, &c, regs, stack, len, pcs, max);
}

void symbolizer__get_stats(const struct symbolizer *s, struct symbolizer_stats *out)
{
	*out = s->st;
	out->dwarf_bytes = s->dwarf.used;
	out->dwarf_too_big = s->dwarf.refused;
	out->dwarf_parses = s->dwarf.parses;
}
