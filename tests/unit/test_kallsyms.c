// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kallsyms parser and lookup: a fixture text, then this machine's kallsyms. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "check.h"
#include "symbolizer.h"
#include "symbolizer_int.h"

static const char fixture[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81000000 T startup_64\n"
	"ffffffff81001000 t native_queued_spin_lock_slowpath\n"
	"ffffffff81001400 D some_data_symbol\n"
	"ffffffff81002000 T do_nanosleep\n"
	"ffffffff81003000 W weak_text\n"
	"ffffffff81004000 T _etext\n"
	"ffffffffc0100000 t ext4_readdir\t[ext4]\n"
	"ffffffffc0100800 t ext4_fill_super\t[ext4]\n"
	"ffffffffa0001000 t bpf_prog_6deef7357e7b4530_kiln_sample\t[bpf]\n"
	"garbage line without fields\n";

static struct ksyms *parse(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct ksyms *ks;

	if (!f)
		return NULL;
	ks = ksyms__parse(f);
	fclose(f);
	return ks;
}

static const char *name_at(struct ksyms *ks, unsigned long long addr)
{
	long i = ksyms__find(ks, addr);

	return i >= 0 ? ksyms__name(ks, (size_t)i) : NULL;
}

static const char *module_at(const struct ksyms *ks, unsigned long long addr)
{
	long i = ksyms__find(ks, addr);

	return i >= 0 ? ksyms__module(ks, (size_t)i) : NULL;
}

static void test_fixture(void)
{
	struct ksyms *ks = parse(fixture);

	CHECK(ks != NULL);
	if (!ks)
		return;
	/* data symbols are skipped; everything else that is text is kept */
	CHECK_INT(ks->nr, 9);
	CHECK_INT(ks->stext, 0xffffffff81000000ULL);
	CHECK_INT(ks->etext, 0xffffffff81004000ULL);
	CHECK_STR(name_at(ks, 0xffffffff81001234ULL), "native_queued_spin_lock_slowpath");
	CHECK_STR(name_at(ks, 0xffffffff81001500ULL), "native_queued_spin_lock_slowpath");
	CHECK_STR(name_at(ks, 0xffffffff81002000ULL), "do_nanosleep");
	CHECK_STR(name_at(ks, 0xffffffff81003010ULL), "weak_text");
	CHECK_STR(name_at(ks, 0xffffffffc0100900ULL), "ext4_fill_super");
	CHECK_STR(module_at(ks, 0xffffffffc0100900ULL), "ext4");
	CHECK_STR(name_at(ks, 0xffffffffa0001010ULL), "bpf_prog_6deef7357e7b4530_kiln_sample");
	CHECK_STR(module_at(ks, 0xffffffffa0001010ULL), "bpf");
	CHECK(module_at(ks, 0xffffffff81002000ULL) == NULL);
	CHECK(ksyms__find(ks, 0xffffffff80000000ULL) == -1);
	ksyms__free(ks);
}

static void test_hidden_addresses(void)
{
	struct ksyms *ks = parse("0000000000000000 T _stext\n0000000000000000 T do_nanosleep\n");

	CHECK(ks == NULL);
	CHECK_INT(errno, EPERM);
	ks = parse("");
	CHECK(ks == NULL);
}

struct line_sym {
	unsigned long long addr;
	size_t seq;
	char name[128], module[64];
};

static int line_sym_cmp(const void *a, const void *b)
{
	const struct line_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every text symbol of the live kallsyms, packed and looked up again: same
 * address, name and module as the text says, in every name block. */
static void test_live_packed(void)
{
	FILE *k = fopen("/proc/kallsyms", "r");
	struct line_sym *want = NULL;
	size_t n = 0, cap = 0, bad = 0;
	char line[1024];
	struct ksyms *ks;

	CHECK(k != NULL);
	if (!k)
		return;
	while (fgets(line, sizeof(line), k)) {
		struct line_sym l = { 0 };
		char type;

		if (sscanf(line, "%llx %c %127s [%63[^]]", &l.addr, &type, l.name, l.module) < 3 ||
		    !strchr("tTwW", type))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			want = realloc(want, cap * sizeof(*want));
			if (!want)
				abort();
		}
		l.seq = n;
		want[n++] = l;
	}
	rewind(k);
	ks = ksyms__parse(k);
	fclose(k);
	CHECK(ks != NULL);
	if (!ks) {
		free(want);
		return;
	}
	qsort(want, n, sizeof(*want), line_sym_cmp);
	CHECK_INT(ks->nr + ks->out_of_range, n);
	CHECK_INT(ks->out_of_range, 0);
	CHECK(ks->nr > KSYMS_BLOCK * 2);
	/* in reverse: each block is inflated again, and cached names are hit */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < ks->nr && j < n; j++) {
			size_t i = pass ? j : ks->nr - 1 - j;
			const char *name = ksyms__name(ks, i), *mod = ksyms__module(ks, i);

			if (ksyms__addr(ks, i) != want[i].addr || !name ||
			    strcmp(name, want[i].name) || strcmp(mod ? mod : "", want[i].module))
				bad++;
		}
	}
	CHECK_INT(bad, 0);
	fprintf(stderr, "-- %zu kernel symbols in %zu bytes (%zu name blocks)\n", ks->nr,
		ksyms__bytes(ks), ks->nr_blocks);
	ksyms__free(ks);
	free(want);
}

/* Text symbols beyond 4 GiB of the lowest cannot be held: left out, counted. */
static void test_out_of_range(void)
{
	struct ksyms *ks = parse("0000000000001000 T low\nffffffff81000000 T high\n");

	CHECK(ks != NULL);
	if (!ks)
		return;
	CHECK_INT(ks->nr, 1);
	CHECK_INT(ks->out_of_range, 1);
	CHECK_STR(name_at(ks, 0x1010), "low");
	ksyms__free(ks);
}

/* The live kallsyms: look a known symbol up through the public API. */
static void test_live(void)
{
	struct symbolizer *s = symbolizer__new(NULL);
	unsigned long long addr = 0;
	char line[512], name[256], type;
	struct sym_frame f;
	FILE *k;

	CHECK(s != NULL);
	k = fopen("/proc/kallsyms", "r");
	CHECK(k != NULL);
	if (!s || !k)
		goto out;
	while (fgets(line, sizeof(line), k))
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) == 3 &&
		    !strcmp(name, "do_nanosleep"))
			break;
	CHECK(addr != 0);
	/* a return address one past the function's first byte still names it */
	CHECK_INT(symbolizer__kernel(s, addr + 1, true, &f), 0);
	CHECK_STR(f.name, "do_nanosleep");
	CHECK(f.map && f.map->kernel);
	CHECK_STR(f.map->path, "[kernel.kallsyms]");
out:
	if (k)
		fclose(k);
	symbolizer__free(s);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* test_symbolizer_kernel_modules: module frames get a mapping named after
 * the module ("[ext4]", range from /proc/modules); core text and BPF
 * programs stay in [kernel.kallsyms], names verbatim. */
static void test_modules(void)
{
	char dir[] = "/tmp/kiln-kallsyms-XXXXXX";
	struct symbolizer_opts o = { 0 };
	struct symbolizer *s;
	struct sym_frame f;

	CHECK(mkdtemp(dir) != NULL);
	write_file(dir, "kallsyms", fixture);
	write_file(dir, "modules", "ext4 1048576 3 jbd2,mbcache, Live 0xffffffffc0100000\n"
		   "hidden 4096 0 - Live 0x0000000000000000\nbroken line\n");
	o.proc_root = dir;
	s = symbolizer__new(&o);
	CHECK(s != NULL);
	if (s) {
		CHECK_INT(symbolizer__kernel(s, 0xffffffffc0100810ULL, false, &f), 0);
		CHECK_STR(f.name, "ext4_fill_super");
		CHECK_STR(f.module, "ext4");
		CHECK_STR(f.map->path, "[ext4]");
		CHECK_INT(f.map->start, 0xffffffffc0100000ULL);
		CHECK_INT(f.map->limit, 0xffffffffc0100000ULL + 1048576);
		CHECK(f.map->kernel);
		CHECK_INT(symbolizer__kernel(s, 0xffffffff81002010ULL, false, &f), 0);
		CHECK_STR(f.name, "do_nanosleep");
		CHECK_STR(f.map->path, "[kernel.kallsyms]");
		CHECK_INT(symbolizer__kernel(s, 0xffffffffa0001010ULL, false, &f), 0);
		CHECK_STR(f.name, "bpf_prog_6deef7357e7b4530_kiln_sample");
		CHECK_STR(f.map->path, "[kernel.kallsyms]");
		symbolizer__free(s);
	}
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/modules", dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/kallsyms", dir);
		unlink(path);
		rmdir(dir);
	}
}

int main(void)
{
	test_fixture();
	test_modules();
	test_hidden_addresses();
	test_live();
	test_live_packed();
	test_out_of_range();
	CHECK_DONE();
}
