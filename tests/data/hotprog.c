// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test helper: load tests/data/hotprog.bpf.c for process TGID, attach it to
 * raw_tp/sys_enter (or, with "tracepoint", the classic tracepoint
 * raw_syscalls/sys_enter), print "hotprog: attached id=N pid=P" on stdout and
 * hold it until SIGTERM/SIGINT or SECONDS have passed.
 * Usage: fixture_hotprog TGID SECONDS [raw_tp|tracepoint] */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hotprog.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct hotprog_bpf *skel;
	struct bpf_program *prog;
	bool tracepoint;
	time_t end;
	int err;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: fixture_hotprog TGID SECONDS [raw_tp|tracepoint]\n");
		return 2;
	}
	tracepoint = argc == 4 && !strcmp(argv[3], "tracepoint");
	skel = hotprog_bpf__open();
	if (!skel) {
		fprintf(stderr, "hotprog: failed to open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_tgid = (__u32)atoi(argv[1]);
	bpf_program__set_autoload(tracepoint ? skel->progs.hot_sys_enter : skel->progs.hot_tp_enter,
				  false);
	prog = tracepoint ? skel->progs.hot_tp_enter : skel->progs.hot_sys_enter;
	end = time(NULL) + atoi(argv[2]);
	err = hotprog_bpf__load(skel);
	if (!err)
		err = hotprog_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "hotprog: failed to load or attach: %s\n", strerror(-err));
		hotprog_bpf__destroy(skel);
		return 1;
	}
	bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("hotprog: attached id=%u pid=%d\n", info.id, (int)getpid());
	fflush(stdout);
	while (!stop && time(NULL) < end)
		usleep(100000);
	hotprog_bpf__destroy(skel);
	return 0;
}
