// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kiln probes: what is probing this host right now. BPF programs with their
 * owners and attach points, BPF links, and, where tracefs is mounted already,
 * kprobe/uprobe events and enabled trace events. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "bpfprogs.h"
#include "probes.h"
#include "util.h"

static const char usage_text[] =
"Usage: kiln probes [--json]\n"
"\n"
"List what probes this host: every loaded BPF program (id, type, name, tag,\n"
"what it is attached to, the processes holding it, run time when BPF stats\n"
"are on), every BPF link, and - only where tracefs is already mounted; kiln\n"
"never mounts it - kprobe and uprobe events and enabled trace events.\n"
"\n"
"Options:\n"
"      --json     print JSON on stdout\n"
"  -h, --help     show this help\n"
"\n"
"Needs root (CAP_SYS_ADMIN to open other programs, CAP_SYS_PTRACE to read\n"
"other processes' file descriptors).\n";

#define TRACEFS_LINES_MAX 512

struct tracefs {
	char dir[4096];			/* "" when not mounted */
	char *kprobes[TRACEFS_LINES_MAX], *uprobes[TRACEFS_LINES_MAX], *events[TRACEFS_LINES_MAX];
	size_t nr_kprobes, nr_uprobes, nr_events;
	size_t dropped;
};

/* The tracing directory of a tracefs (or debugfs/tracing) mount, if any. */
static void find_tracefs(char *dir, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	dir[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char mnt[2048], fstype[64], *sep = strstr(line, " - ");
		struct stat st;

		/* fields: id parent major:minor root mountpoint ... - fstype source */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %2047s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (!strcmp(fstype, "tracefs")) {
			snprintf(dir, len, "%s", mnt);
			break;
		}
		if (!strcmp(fstype, "debugfs") && !dir[0]) {
			snprintf(dir, len, "%s/tracing", mnt);
			if (stat(dir, &st) || !S_ISDIR(st.st_mode))
				dir[0] = '\0';
		}
	}
	fclose(f);
}

static size_t read_lines(const char *dir, const char *file, char **out, size_t *dropped)
{
	char path[4200], line[1024];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		if (n == TRACEFS_LINES_MAX || !(out[n] = strdup(line))) {
			(*dropped)++;
			continue;
		}
		n++;
	}
	fclose(f);
	return n;
}

static void tracefs_read(struct tracefs *t)
{
	find_tracefs(t->dir, sizeof(t->dir));
	if (!t->dir[0])
		return;
	t->nr_kprobes = read_lines(t->dir, "kprobe_events", t->kprobes, &t->dropped);
	t->nr_uprobes = read_lines(t->dir, "uprobe_events", t->uprobes, &t->dropped);
	t->nr_events = read_lines(t->dir, "set_event", t->events, &t->dropped);
}

static void tracefs_free(struct tracefs *t)
{
	for (size_t i = 0; i < t->nr_kprobes; i++)
		free(t->kprobes[i]);
	for (size_t i = 0; i < t->nr_uprobes; i++)
		free(t->uprobes[i]);
	for (size_t i = 0; i < t->nr_events; i++)
		free(t->events[i]);
}


static void print_lines_json(const char *key, char *const *l, size_t n)
{
	printf(",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_str(stdout, l[i]);
	}
	putchar(']');
}

void probes__print_prog_json(const struct bpf_prog_rec *r)
{
	printf("{\"id\":%u,\"type\":", r->id);
	json_str(stdout, r->type);
	printf(",\"name\":");
	json_str(stdout, r->name);
	printf(",\"tag\":\"%s\",\"uid\":%u,\"loaded\":%s,\"btf_target\":", r->tag, r->uid,
	       r->gone ? "false" : "true");
	json_str(stdout, r->btf_target);
	printf(",\"run_time_ns\":%llu,\"run_cnt\":%llu,\"recursion_misses\":%llu,\"attach\":[",
	       (unsigned long long)r->run_time_ns, (unsigned long long)r->run_cnt,
	       (unsigned long long)r->recursion_misses);
	for (uint32_t i = 0; i < r->nr_attach; i++) {
		printf("%s{\"kind\":", i ? "," : "");
		json_str(stdout, r->attach[i].kind);
		printf(",\"target\":");
		json_str(stdout, r->attach[i].target);
		printf(",\"link_id\":%u}", r->attach[i].link_id);
	}
	printf("],\"owners\":[");
	for (uint32_t i = 0; i < r->nr_owners; i++) {
		const struct bpf_owner *o = &r->owners[i];

		printf("%s{\"pid\":%u,\"comm\":", i ? "," : "", o->pid);
		json_str(stdout, o->comm);
		printf(",\"unit\":");
		json_str(stdout, o->unit);
		printf(",\"container\":");
		json_str(stdout, o->container);
		putchar('}');
	}
	printf("],\"owners_dropped\":%u}", r->owners_dropped);
}

static void print_json(const struct bpfprogs *p, const struct tracefs *t, bool stats)
{
	printf("{\"bpf_stats_enabled\":%s,\"programs\":[", stats ? "true" : "false");
	for (size_t i = 0; i < p->nr; i++) {
		if (i)
			putchar(',');
		probes__print_prog_json(&p->progs[i]);
	}
	printf("],\"programs_dropped\":%llu,\"links\":[", (unsigned long long)p->progs_dropped);
	for (size_t i = 0; i < p->nr_links; i++) {
		const struct bpf_link_rec *l = &p->links[i];

		printf("%s{\"id\":%u,\"type\":", i ? "," : "", l->id);
		json_str(stdout, l->type);
		printf(",\"prog_id\":%u,\"target\":", l->prog_id);
		json_str(stdout, l->target);
		printf(",\"missing\":");
		json_str(stdout, l->missing);
		putchar('}');
	}
	printf("],\"links_dropped\":%llu,\"tracefs\":{\"mounted\":%s",
	       (unsigned long long)p->links_dropped, t->dir[0] ? "true" : "false");
	if (t->dir[0]) {
		printf(",\"path\":");
		json_str(stdout, t->dir);
		print_lines_json("kprobe_events", t->kprobes, t->nr_kprobes);
		print_lines_json("uprobe_events", t->uprobes, t->nr_uprobes);
		print_lines_json("enabled_events", t->events, t->nr_events);
		printf(",\"lines_dropped\":%zu", t->dropped);
	}
	printf("}}\n");
}

static void print_text(const struct bpfprogs *p, const struct tracefs *t, bool stats)
{
	char owners[512], attach[512];

	printf("BPF programs: %zu%s\n", p->nr,
	       stats ? "" : " (run time: BPF stats are off; 'kiln record --bpf-stats' turns "
			    "them on while it records)");
	if (p->nr)
		printf("  %6s  %-16s %-16s %-16s  %s\n", "ID", "TYPE", "NAME", "TAG",
		       "ATTACHED TO / HELD BY");
	for (size_t i = 0; i < p->nr; i++) {
		const struct bpf_prog_rec *r = &p->progs[i];

		bpfprogs__attach_str(r, attach, sizeof(attach));
		bpfprogs__owners_str(r, owners, sizeof(owners));
		printf("  %6u  %-16s %-16s %-16s  %s\n", r->id, r->type, r->name, r->tag, attach);
		printf("  %6s  %-50s  held by %s\n", "", "", owners);
		if (r->run_cnt)
			printf("  %6s  %-50s  ran %llu times, %.3f ms, %.0f ns/run\n", "", "",
			       (unsigned long long)r->run_cnt, (double)r->run_time_ns / 1e6,
			       (double)r->run_time_ns / (double)r->run_cnt);
	}
	printf("BPF links: %zu\n", p->nr_links);
	for (size_t i = 0; i < p->nr_links; i++) {
		const struct bpf_link_rec *l = &p->links[i];

		printf("  %6u  %-16s prog %-6u %s%s\n", l->id, l->type, l->prog_id,
		       l->target, l->missing[0] ? l->missing : "");
	}
	if (!t->dir[0]) {
		printf("tracefs: not mounted (kprobe/uprobe events and enabled trace events not "
		       "listed; kiln does not mount it)\n");
		return;
	}
	printf("tracefs: %s\n  kprobe events: %zu\n", t->dir, t->nr_kprobes);
	for (size_t i = 0; i < t->nr_kprobes; i++)
		printf("    %s\n", t->kprobes[i]);
	printf("  uprobe events: %zu\n", t->nr_uprobes);
	for (size_t i = 0; i < t->nr_uprobes; i++)
		printf("    %s\n", t->uprobes[i]);
	printf("  enabled trace events: %zu\n", t->nr_events);
	for (size_t i = 0; i < t->nr_events; i++)
		printf("    %s\n", t->events[i]);
}

int cmd_probes(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bpfprogs p = { 0 };
	struct tracefs *t;
	bool json = false;
	int opt, err;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return KILN_EXIT_OK;
		default:
			p_err("unknown option '%s' (see 'kiln probes --help')", argv[optind - 1]);
			return KILN_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		p_err("unexpected argument '%s' (see 'kiln probes --help')", argv[optind]);
		return KILN_EXIT_USAGE;
	}
	err = bpfprogs__snapshot(&p, true);
	if (err) {
		p_err("failed to list BPF programs: %s%s", strerror(-err),
		      err == -EPERM ? " (need root or CAP_SYS_ADMIN)" : "");
		bpfprogs__free(&p);
		return KILN_EXIT_RUNTIME;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		p_err("failed to list probes: %s", strerror(ENOMEM));
		bpfprogs__free(&p);
		return KILN_EXIT_RUNTIME;
	}
	tracefs_read(t);
	if (json)
		print_json(&p, t, bpfprogs__stats_enabled());
	else
		print_text(&p, t, bpfprogs__stats_enabled());
	tracefs_free(t);
	free(t);
	bpfprogs__free(&p);
	return KILN_EXIT_OK;
}
