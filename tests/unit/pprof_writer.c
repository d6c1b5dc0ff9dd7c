// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Writes a pprof with known stacks, values and labels through the encoder,
 * and prints what a reader must find, one sample per line:
 *   VALUES|LABELS|leaf;...;root
 * Usage: pprof_writer OUT.pb.gz */
#include <stdio.h>
#include <stdlib.h>
#include "pprof.h"

int main(int argc, char **argv)
{
	static const struct pprof_value_type types[] = {
		{ "samples", "count" }, { "cpu", "nanoseconds" },
	};
	struct pprof_opts o = {
		.sample_types = types, .nr_sample_types = 2,
		.period_type = { "cpu", "nanoseconds" }, .period = 10101010,
		.time_nanos = 1700000000000000000LL, .duration_nanos = 3000000000LL,
		.default_sample_type = "cpu",
	};
	struct pprof_label app[] = { { .key = "pid", .num = 42 }, { .key = "comm", .str = "app" } };
	struct pprof_label other[] = { { .key = "pid", .num = 7 }, { .key = "comm", .str = "other" } };
	struct pprof *p;
	uint8_t *gz = NULL;
	size_t gz_len = 0;
	uint64_t exe, kern, lib, a[3], b[3], c[2], d[2];
	const struct pprof_line inl[] = {
		{ "kiln_inlined", "/src/app.c", 12 }, { "kiln_outer", "/src/app.c", 40 },
	};
	int64_t v3[] = { 3, 30303030 }, v1[] = { 1, 10101010 }, v2[] = { 2, 20202020 };
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.pb.gz\n", argv[0]);
		return 2;
	}
	p = pprof__new(&o);
	if (!p)
		return 1;
	exe = pprof__mapping(p, 0x400000, 0x401000, 0, "/usr/bin/app",
			     "0123456789abcdef0123456789abcdef01234567", false);
	kern = pprof__mapping(p, 0xffffffff81000000ULL, UINT64_MAX, 0, "[kernel.kallsyms]", "", true);
	lib = pprof__mapping(p, 0x7f0000000000ULL, 0x7f0000010000ULL, 0x1000, "/usr/lib/libx.so", "", false);

	a[0] = pprof__location(p, exe, 0x400100, "kiln_leaf");
	a[1] = pprof__location(p, exe, 0x400200, "kiln_middle");
	a[2] = pprof__location(p, exe, 0x400300, "main");
	b[0] = pprof__location(p, kern, 0xffffffff81000100ULL, "do_syscall_64");
	b[1] = pprof__location(p, kern, 0xffffffff81000200ULL, "entry_SYSCALL_64");
	b[2] = a[2];
	c[0] = pprof__location(p, lib, 0x7f0000000abcULL, NULL);
	c[1] = pprof__location(p, 0, 0, "[truncated]");
	/* one address, two functions: kiln_inlined inlined into kiln_outer */
	d[0] = pprof__location_lines(p, exe, 0x400400, inl, 2);
	d[1] = a[2];
	if (pprof__location_lines(p, exe, 0x400400, inl, 2) != d[0] ||
	    pprof__location_lines(p, exe, 0x400400, inl, 1) == d[0]) {
		fprintf(stderr, "multi-line locations interned wrongly\n");
		return 1;
	}
	/* interning: the same mapping and location come back with the same id */
	if (pprof__location(p, exe, 0x400300, "main") != a[2] ||
	    pprof__mapping(p, 0x400000, 0x401000, 0, "/usr/bin/app",
			   "0123456789abcdef0123456789abcdef01234567", false) != exe) {
		fprintf(stderr, "interning returned new ids\n");
		return 1;
	}

	err = pprof__add_sample(p, a, 3, v3, app, 2);
	err = err ?: pprof__add_sample(p, b, 3, v2, app, 2);
	err = err ?: pprof__add_sample(p, c, 2, v1, other, 2);
	err = err ?: pprof__add_sample(p, a, 3, v1, app, 2);	/* merges with the first */
	err = err ?: pprof__add_sample(p, d, 2, v1, other, 2);
	err = err ?: pprof__encode_gz(p, &gz, &gz_len);
	pprof__free(p);
	if (!err) {
		FILE *f = fopen(argv[1], "wb");

		if (!f || fwrite(gz, 1, gz_len, f) != gz_len || fclose(f))
			err = -1;
	}
	free(gz);
	if (err) {
		fprintf(stderr, "failed: %d\n", err);
		return 1;
	}
	printf("4 40404040|comm=app pid=42|kiln_leaf;kiln_middle;main\n");
	printf("2 20202020|comm=app pid=42|do_syscall_64;entry_SYSCALL_64;main\n");
	printf("1 10101010|comm=other pid=7|0x7f0000000abc;[truncated]\n");
	printf("1 10101010|comm=other pid=7|kiln_inlined;kiln_outer;main\n");
	return 0;
}
