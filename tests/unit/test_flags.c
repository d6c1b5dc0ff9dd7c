// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* test_flags_classifier: every stack of tests/data/flag_stacks.txt gets the
 * flag, the "under" set and the "from" chain the file expects. */
#include <stdlib.h>
#include "check.h"
#include "flags.h"

#define MAX_FRAMES 64

struct fixture {
	char name[1024];
	char expect_flag[64], expect_under[128], expect_chain[512];
	char *frames[MAX_FRAMES];
	size_t n;
};

static void fixture_reset(struct fixture *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->frames[i]);
	memset(f, 0, sizeof(*f));
}

static void join_under(unsigned int under, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned int i = 0; i < KILN_UNDER__COUNT; i++)
		if (under & (1u << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
				 flags__under_name(i));
	if (!buf[0])
		snprintf(buf, len, "-");
}

static int run_fixture(const struct fixture *f)
{
	const char *names[MAX_FRAMES];
	struct flag_match m;
	size_t idx[4], nc;
	char under[128], chain[512] = "";
	const char *flag;

	for (size_t i = 0; i < f->n; i++)
		names[i] = strcmp(f->frames[i], "?") ? f->frames[i] : NULL;
	flags__classify(names, f->n, &m);
	flag = m.flag ? flags__name(m.flag) : "none";
	join_under(m.under, under, sizeof(under));
	nc = flags__chain(names, f->n, &m, idx, 4);
	for (size_t i = 0; i < nc; i++)
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "%s%s",
			 i ? "," : "", names[idx[i]] ? names[idx[i]] : "?");
	if (!nc)
		snprintf(chain, sizeof(chain), "-");
	printf("%-40s flag=%s under=%s chain=%s\n", f->name, flag, under, chain);
	CHECK_STR(flag, f->expect_flag);
	CHECK_STR(under, f->expect_under);
	CHECK_STR(chain, f->expect_chain);
	if (m.flag == KILN_FLAG_BPF_PROG)
		CHECK(m.prog_frame == m.frame);
	return 0;
}

int main(int argc, char **argv)
{
	struct fixture f = { 0 };
	char line[1024];
	int stacks = 0;
	FILE *in;

	if (argc != 2) {
		fprintf(stderr, "usage: test_flags FLAG_STACKS_FILE\n");
		return 2;
	}
	in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (!strncmp(line, "stack ", 6)) {
			fixture_reset(&f);
			snprintf(f.name, sizeof(f.name), "%s", line + 6);
		} else if (!strncmp(line, "expect ", 7)) {
			CHECK_INT(sscanf(line + 7, "%63s under=%127s chain=%511s", f.expect_flag,
					 f.expect_under, f.expect_chain), 3);
		} else if (!strcmp(line, "end")) {
			CHECK(f.name[0] && f.expect_flag[0]);
			run_fixture(&f);
			stacks++;
		} else if (f.n < MAX_FRAMES) {
			f.frames[f.n++] = strdup(line);
		}
	}
	fclose(in);
	fixture_reset(&f);
	CHECK(stacks >= 15);

	/* the table's matching rules on their own */
	CHECK(flags__is_bpf_prog_symbol("bpf_prog_0123456789abcdef_x"));
	CHECK(flags__is_bpf_prog_symbol("bpf_prog_0123456789abcdef"));
	CHECK(!flags__is_bpf_prog_symbol("bpf_prog_0123456789abcdefx"));
	CHECK(!flags__is_bpf_prog_symbol("bpf_prog_run_pin_on_cpu"));
	CHECK(!flags__is_bpf_prog_symbol(NULL));
	CHECK_INT(flags__frame_flag("bpf_trampoline_123"), KILN_FLAG_BPF_TRAMPOLINE);
	CHECK_INT(flags__frame_flag("bpf_trampoline_"), KILN_FLAG_NONE);
	CHECK_INT(flags__frame_flag("bpf_trampoline_12a"), KILN_FLAG_NONE);
	CHECK_INT(flags__frame_flag("__pv_queued_spin_lock_slowpath"), KILN_FLAG_SPINLOCK_SLOWPATH);
	CHECK_INT(flags__frame_flag("_raw_spin_lock_irqsave"), KILN_FLAG_NONE);
	CHECK_STR(flags__name(KILN_FLAG_KPROBE), "kprobe");
	CHECK_STR(flags__name(KILN_FLAG__MAX), "");
	CHECK_DONE();
}
