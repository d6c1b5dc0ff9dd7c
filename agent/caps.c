// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Capability checks at start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "caps.h"
#include "util.h"

/* numbers from linux/capability.h (older headers lack the newest) */
enum {
	KCAP_SYS_PTRACE = 19,
	KCAP_SYS_ADMIN = 21,
	KCAP_SYSLOG = 34,
	KCAP_PERFMON = 38,
	KCAP_BPF = 39,
	KCAP_CHECKPOINT_RESTORE = 40,
};

uint64_t caps__effective(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t eff = 0;

	if (!f)
		return ~0ULL;	/* cannot tell: let the kernel decide */
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7)) {
			eff = strtoull(line + 7, NULL, 16);
			break;
		}
	fclose(f);
	return eff;
}

static bool has(uint64_t eff, int cap)
{
	return eff & (1ULL << cap);
}

int caps__check(uint64_t eff, int kptr_restrict, int perf_event_paranoid)
{
	/* CAP_SYS_ADMIN covers BPF and perf on every kernel, including those
	 * before 5.8 that have no CAP_BPF/CAP_PERFMON */
	bool admin = has(eff, KCAP_SYS_ADMIN);

	if (!admin && !has(eff, KCAP_BPF)) {
		p_err("missing capability CAP_BPF: needed to load the BPF programs and maps "
		      "(run as root, or grant CAP_BPF and CAP_PERFMON: docs/deploy.md)");
		return -1;
	}
	if (!admin && !has(eff, KCAP_PERFMON)) {
		p_err("missing capability CAP_PERFMON: needed to open the sampling events and "
		      "attach the tracing programs (docs/deploy.md)");
		return -1;
	}
	/* /proc/kallsyms shows addresses at kptr_restrict 0 when perf is open
	 * to all (paranoid <= 1), else at 0 or 1 with CAP_SYSLOG, never at 2 */
	if (kptr_restrict >= 2) {
		p_err("kernel.kptr_restrict=2 hides kernel addresses from every process: set "
		      "it to 1 and grant CAP_SYSLOG (docs/deploy.md)");
		return -1;
	}
	if (!has(eff, KCAP_SYSLOG) && (kptr_restrict == 1 || perf_event_paranoid > 1)) {
		p_err("missing capability CAP_SYSLOG: kernel.kptr_restrict=%d and "
		      "perf_event_paranoid=%d hide kernel addresses from kiln without it "
		      "(docs/deploy.md)", kptr_restrict, perf_event_paranoid);
		return -1;
	}
	if (!has(eff, KCAP_SYS_PTRACE))
		p_warn("no CAP_SYS_PTRACE: other users' processes cannot be read, their user "
		       "frames stay unnamed");
	if (!admin && !has(eff, KCAP_CHECKPOINT_RESTORE))
		p_warn("no CAP_CHECKPOINT_RESTORE: deleted or replaced binaries are not read "
		       "through /proc/PID/map_files");
	if (!admin)
		p_info("no CAP_SYS_ADMIN: BPF programs are not listed by id, so BPF frames keep "
		       "their kallsyms names and no owner");
	return 0;
}
