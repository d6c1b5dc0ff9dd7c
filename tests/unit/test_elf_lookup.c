// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ELF lookup through live processes: a PIE and a non-PIE fixture, each with
 * a shared library (with .symtab, then stripped to .dynsym only), resolved
 * through /proc/PID/maps with the right load bias; frames stay named after
 * the process exits.
 * Usage: test_elf_lookup PIE_EXE NOPIE_EXE LIBDIR STRIPPED_LIBDIR */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "symbolizer.h"
#include "symbolizer_int.h"

struct child {
	pid_t pid;
	int in_fd;
	unsigned long long exe_pc, lib_pc;
};

static int spawn(const char *exe, const char *libdir, struct child *c)
{
	int in[2], out[2];
	char line[128];
	FILE *f;

	if (pipe(in) || pipe(out))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		setenv("LD_LIBRARY_PATH", libdir, 1);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in_fd = in[1];
	f = fdopen(out[0], "r");
	if (!f || !fgets(line, sizeof(line), f) ||
	    sscanf(line, "%llx %llx", &c->exe_pc, &c->lib_pc) != 2) {
		if (f)
			fclose(f);
		return -EIO;
	}
	fclose(f);
	return 0;
}

static void finish(struct child *c)
{
	int status;

	close(c->in_fd);
	waitpid(c->pid, &status, 0);
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* A symbolizer with @o, and the fixture @exe started and noted in it.
 * Returns NULL (checks failed) when either could not be had. */
static struct symbolizer *start_noted(const struct symbolizer_opts *o, const char *exe,
				      const char *libdir, struct child *c, char *comm, size_t len)
{
	struct symbolizer *s = symbolizer__new(o);

	CHECK(s != NULL);
	if (!s || spawn(exe, libdir, c)) {
		CHECK(!"fixture did not start");
		symbolizer__free(s);
		return NULL;
	}
	snprintf(comm, len, "%s", base(exe));
	CHECK_INT(symbolizer__note_process(s, (uint32_t)c->pid, comm), 0);
	return s;
}

static void check_process(const char *exe, const char *libdir, bool expect_build_id)
{
	struct symbolizer *s;
	struct sym_frame f;
	struct child c;
	char comm[16];

	fprintf(stderr, "-- %s with %s\n", exe, libdir);
	s = start_noted(NULL, exe, libdir, &c, comm, sizeof(comm));
	if (!s)
		return;

	CHECK_INT(symbolizer__user(s, (uint32_t)c.pid, comm, c.exe_pc, true, &f), 0);
	CHECK_STR(f.name, "kiln_fixture_exe_func");
	CHECK(f.map && !strcmp(base(f.map->path), base(exe)));
	if (f.map && expect_build_id)
		CHECK(strlen(f.map->build_id) == 40);

	CHECK_INT(symbolizer__user(s, (uint32_t)c.pid, comm, c.lib_pc, true, &f), 0);
	CHECK_STR(f.name, "kiln_fixture_lib_func");
	CHECK(f.map && !strcmp(base(f.map->path), "libkiln_fixture.so"));
	if (f.map)
		CHECK(f.file_offset == f.map->offset + (c.lib_pc - f.map->start));

	/* an address in no mapping stays unresolved, not misnamed */
	CHECK_INT(symbolizer__user(s, (uint32_t)c.pid, comm, 0x10, false, &f), -ENOENT);
	CHECK(f.name == NULL && f.map == NULL);

	finish(&c);
	/* the snapshot taken while it ran keeps its frames named */
	CHECK_INT(symbolizer__user(s, (uint32_t)c.pid, comm, c.exe_pc, true, &f), 0);
	CHECK_STR(f.name, "kiln_fixture_exe_func");
	CHECK_INT(symbolizer__user(s, (uint32_t)c.pid, comm, c.lib_pc, true, &f), 0);
	CHECK_STR(f.name, "kiln_fixture_lib_func");
	symbolizer__free(s);
}

static void check_elf_direct(const char *exe, const char *stripped_lib)
{
	struct elf_file *ef = elf_file__open(exe);

	CHECK(ef != NULL);
	if (ef) {
		CHECK(ef->nr_syms > 0);
		CHECK(strlen(ef->build_id) == 40);
		elf_file__free(ef);
	}
	ef = elf_file__open(stripped_lib);
	CHECK(ef != NULL);
	if (ef) {
		bool found = false;

		/* only .dynsym is left: exported functions, not the static helper */
		for (size_t i = 0; i < ef->nr_syms; i++) {
			if (!strcmp(elf_file__raw_name(ef, &ef->syms[i]), "kiln_fixture_lib_func"))
				found = true;
		}
		CHECK(found);
		elf_file__free(ef);
	}
	/* not ELF, missing: clean errors */
	CHECK(elf_file__open("/proc/self/status") == NULL);
	CHECK(elf_file__open("/nonexistent/kiln") == NULL);
	CHECK_INT(errno, ENOENT);
}

/* test_symbolizer_cache_bytes: with a byte bound smaller than one file, the
 * file cache keeps only the newest (evicting and counting the rest), and the
 * frames of a noted process stay named: its mappings hold their files. */
static void check_cache_bound(const char *exe, const char *libdir)
{
	struct symbolizer_opts o = { .max_file_bytes = 1, .max_process_bytes = 1 };
	struct symbolizer_stats st;
	struct symbolizer *s;
	struct sym_frame f;
	struct child c;
	char comm[16];

	s = start_noted(&o, exe, libdir, &c, comm, sizeof(comm));
	if (!s)
		return;
	CHECK_INT(symbolizer__user(s, (uint32_t)c.pid, comm, c.exe_pc, true, &f), 0);
	CHECK_STR(f.name, "kiln_fixture_exe_func");
	CHECK_INT(symbolizer__user(s, (uint32_t)c.pid, comm, c.lib_pc, true, &f), 0);
	CHECK_STR(f.name, "kiln_fixture_lib_func");
	symbolizer__get_stats(s, &st);
	CHECK(st.files_miss >= 2);
	CHECK(st.files_evicted >= 1);
	CHECK(st.file_bytes > 0);
	CHECK(st.processes_hit >= 2);
	/* a second process evicts the first snapshot: past the byte bound */
	symbolizer__note_process(s, (uint32_t)getpid(), "test_elf_lookup");
	symbolizer__get_stats(s, &st);
	CHECK(st.processes_evicted >= 1);
	finish(&c);
	symbolizer__free(s);
}

/* test_symbolizer_demangle_names: C++ and both Rust manglings, via libiberty */
static void check_demangle(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "_ZN3foo3barIiEEvT_", "void foo::bar<int>(int)" },
		{ "_ZNSt6vectorIiSaIiEE9push_backERKi",
		  "std::vector<int, std::allocator<int> >::push_back(int const&)" },
		{ "_ZN4core3fmt5write17h1234567890abcdefE", "core::fmt::write" },
		{ "_RNvCs1234_7mycrate4main", "mycrate::main" },
	};
	static const char *const plain[] = { "main", "kiln_fixture_leaf", "_start", "Z", "_" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = sym_demangle(cases[i].in);

		CHECK_STR(d, cases[i].out);
		free(d);
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		CHECK(sym_demangle(plain[i]) == NULL);
	/* a broken mangled name stays as it is */
	CHECK(sym_demangle("_ZN3foo") == NULL);
}

/* Frame pointers or not, from the functions' prologues: the fixtures built
 * with them, the one built without, and Debian's libc (built without). */
static void check_frame_pointers(const char *fp_exe, const char *fixture_dir)
{
	char path[4096];
	struct elf_file *ef;

	ef = elf_file__open(fp_exe);
	CHECK(ef != NULL);
	if (ef)
		CHECK_INT(ef->frame_pointers, 1);
	elf_file__free(ef);
	snprintf(path, sizeof(path), "%s/fixture_nofp", fixture_dir);
	ef = elf_file__open(path);
	CHECK(ef != NULL);
	if (ef)
		CHECK_INT(ef->frame_pointers, 0);
	elf_file__free(ef);
	ef = elf_file__open("/lib/x86_64-linux-gnu/libc.so.6");
	if (ef)
		CHECK_INT(ef->frame_pointers, 0);
	elf_file__free(ef);
}

int main(int argc, char **argv)
{
	char stripped[4096];

	if (argc != 5) {
		fprintf(stderr, "usage: %s PIE_EXE NOPIE_EXE LIBDIR STRIPPED_LIBDIR\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	check_process(argv[1], argv[3], true);
	check_process(argv[2], argv[3], true);
	check_process(argv[1], argv[4], true);
	snprintf(stripped, sizeof(stripped), "%s/libkiln_fixture.so", argv[4]);
	check_elf_direct(argv[1], stripped);
	check_demangle();
	check_cache_bound(argv[1], argv[3]);
#if defined(__x86_64__)
	check_frame_pointers(argv[1], argv[3]);
#endif
	CHECK_DONE();
}
