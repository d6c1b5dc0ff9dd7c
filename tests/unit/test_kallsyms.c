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

static const char *name_at(const struct ksyms *ks, unsigned long long addr)
{
	const struct ksym *s = ksyms__find(ks, addr);

	return s ? ksyms__str(ks, s->name) : NULL;
}

static const char *module_at(const struct ksyms *ks, unsigned long long addr)
{
	const struct ksym *s = ksyms__find(ks, addr);

	return s && s->module ? ksyms__str(ks, s->module) : NULL;
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
	CHECK(ksyms__find(ks, 0xffffffff80000000ULL) == NULL);
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
	CHECK_DONE();
}
