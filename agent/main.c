// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kiln: continuous profiling agent. Command-line entry point. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kfeatures.h"
#include "probes.h"
#include "record.h"
#include "run.h"
#include "util.h"

int kiln_verbose;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char usage_text[] =
"Usage: kiln COMMAND [OPTIONS]\n"
"\n"
"kiln samples on-CPU stacks (kernel and user) with eBPF, aggregated in the\n"
"kernel, and writes pprof, folded stacks and flame graphs.\n"
"\n"
"Commands:\n"
"  record       profile for a while and write files (see 'kiln record --help')\n"
"  run          profile continuously and upload to a Pyroscope server\n"
"               (see 'kiln run --help')\n"
"  probes       list BPF programs, links and probes with their owners\n"
"\n"
"Options:\n"
"  --version    print the version; with --json, also libbpf, kernel and the\n"
"               kernel features kiln detected\n"
"  -h, --help   show this help\n";

static int print_version(bool json)
{
	struct features f;

	if (!json) {
		printf("kiln %s\n", KILN_VERSION);
		return KILN_EXIT_OK;
	}
	features__probe(&f);
	printf("{\"version\":\"%s\",\"libbpf\":\"%u.%u\",\"kernel\":", KILN_VERSION,
	       libbpf_major_version(), libbpf_minor_version());
	json_str(stdout, f.kernel);
	printf(",\"features\":");
	features__print_json(&f, stdout);
	printf("}\n");
	return KILN_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	bool version = false, json = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return KILN_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "record") || !strcmp(argv[1], "run")) {
		/* A fixed mmap threshold: big buffers (inflated debug sections,
		 * symbol tables, encoded profiles) get their own mappings and
		 * go back to the system when freed, instead of glibc raising the
		 * threshold after the first free and leaving them to fragment
		 * the heap. Two arenas: the agent has three threads. */
		mallopt(M_MMAP_THRESHOLD, 64 << 10);
		mallopt(M_ARENA_MAX, 2);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		if (argv[1][1] == 'u')
			return cmd_run(argc - 1, argv + 1, &stop_requested);
		return cmd_record(argc - 1, argv + 1, &stop_requested);
	}
	if (!strcmp(argv[1], "probes"))
		return cmd_probes(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "version")) {
			version = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "help")) {
			fputs(usage_text, stdout);
			return KILN_EXIT_OK;
		} else {
			p_err("unknown %s '%s' (see 'kiln --help')",
			      argv[i][0] == '-' ? "option" : "command", argv[i]);
			return KILN_EXIT_USAGE;
		}
	}
	if (version)
		return print_version(json);
	p_err("missing command (see 'kiln --help')");
	return KILN_EXIT_USAGE;
}
