// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/maps parser on fixture text and on this process. */
#include <errno.h>
#include <stdlib.h>
#include "check.h"
#include "symbolizer_int.h"

static const char fixture[] =
	"55d0b4c00000-55d0b4c02000 r--p 00000000 fd:01 1312 /usr/bin/cat\n"
	"55d0b4c02000-55d0b4c07000 r-xp 00002000 fd:01 1312 /usr/bin/cat\n"
	"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
	"7f1000000000-7f1000010000 r-xp 00001000 08:11 99 /opt/my app/lib with spaces.so\n"
	"7f2000000000-7f2000001000 r-xp 00000000 00:1c 4242 /tmp/jit.so (deleted)\n"
	"7ffd1a7f2000-7ffd1a7f4000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";

static int parse_flags(const char *text, unsigned int flags, struct procmaps *pm)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int err;

	if (!f)
		return -errno;
	err = procmaps__parse(f, flags, pm);
	fclose(f);
	return err;
}

static int parse(const char *text, struct procmaps *pm)
{
	return parse_flags(text, 0, pm);
}

static void test_fixture(void)
{
	struct procmaps pm;
	const struct procmap *m;

	CHECK_INT(parse(fixture, &pm), 0);
	CHECK_INT(pm.nr, 7);
	if (pm.nr != 7)
		return;
	CHECK_STR(pm.maps[1].path, "/usr/bin/cat");
	CHECK_STR(pm.maps[1].perms, "r-xp");
	CHECK_INT(pm.maps[1].offset, 0x2000);
	CHECK_INT(pm.maps[1].dev_major, 0xfd);
	CHECK_INT(pm.maps[1].dev_minor, 1);
	CHECK_INT(pm.maps[1].inode, 1312);
	CHECK_STR(pm.maps[2].path, "");
	CHECK_STR(pm.maps[3].path, "/opt/my app/lib with spaces.so");
	CHECK_STR(pm.maps[4].path, "/tmp/jit.so (deleted)");
	CHECK_STR(pm.maps[5].path, "[vdso]");

	m = procmaps__find(&pm, 0x55d0b4c03456ULL);
	CHECK(m == &pm.maps[1]);
	m = procmaps__find(&pm, 0x55d0b4c07000ULL);	/* end is exclusive */
	CHECK(m == NULL);
	m = procmaps__find(&pm, 0x7ffd1a7f2fffULL);
	CHECK(m == &pm.maps[5]);
	CHECK(procmaps__find(&pm, 0x1000) == NULL);
	procmaps__clear(&pm);
}

/* The symbolizer's snapshots: the code mappings only, still in order. */
static void test_exec_only(void)
{
	struct procmaps pm;

	CHECK_INT(parse_flags(fixture, PROCMAPS_EXEC, &pm), 0);
	CHECK_INT(pm.nr, 5);
	if (pm.nr != 5)
		return;
	CHECK_STR(pm.maps[0].path, "/usr/bin/cat");
	CHECK_STR(pm.maps[0].perms, "r-xp");
	CHECK_STR(pm.maps[1].path, "/opt/my app/lib with spaces.so");
	CHECK_STR(pm.maps[3].path, "[vdso]");
	CHECK_STR(pm.maps[4].perms, "--xp");
	CHECK(procmaps__find(&pm, 0x55d0b4c03456ULL) == &pm.maps[0]);
	CHECK(procmaps__find(&pm, 0x55d0b4c00010ULL) == NULL);	/* r--p: dropped */
	CHECK(procmaps__find(&pm, 0x7f0000000100ULL) == NULL);
	procmaps__clear(&pm);
	CHECK_INT(parse_flags("1000-2000 rw-p 0 00:00 0\n", PROCMAPS_EXEC, &pm), 0);
	CHECK_INT(pm.nr, 0);
	CHECK_INT(parse_flags("1000-2000 r-xp zz 00:00 0\n", PROCMAPS_EXEC, &pm), -EINVAL);
}

static void test_malformed(void)
{
	struct procmaps pm;

	CHECK_INT(parse("55d0b4c00000-55d0b4c02000 r--p zz fd:01 1312 /x\n", &pm), -EINVAL);
	CHECK_INT(parse("not a maps line\n", &pm), -EINVAL);
	CHECK_INT(parse("2000-1000 r--p 0 fd:01 1 /x\n", &pm), -EINVAL);
	CHECK_INT(parse("", &pm), 0);
	CHECK_INT(pm.nr, 0);
}

static void test_self(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	struct procmaps pm;
	const struct procmap *m;

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(procmaps__parse(f, 0, &pm), 0);
	fclose(f);
	m = procmaps__find(&pm, (unsigned long long)(uintptr_t)&test_self);
	CHECK(m != NULL);
	if (m) {
		CHECK(strstr(m->path, "test_procmaps") != NULL);
		CHECK(m->perms[2] == 'x');
	}
	procmaps__clear(&pm);
}

int main(void)
{
	test_fixture();
	test_exec_only();
	test_malformed();
	test_self();
	CHECK_DONE();
}
