// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Attach bench/floor.bpf.c (an empty tp_btf/sched_switch program), print
 * "floor: attached" and hold it until SIGINT/SIGTERM.
 * Usage: bench_floor */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct floor_bpf *skel = floor_bpf__open_and_load();
	int err;

	if (!skel) {
		fprintf(stderr, "bench_floor: failed to load: %s\n", strerror(errno));
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "bench_floor: failed to attach: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: attached\n");
	while (!stop)
		pause();
	floor_bpf__destroy(skel);
	return 0;
}
