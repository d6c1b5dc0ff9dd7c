// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpfprogs.h"
#include "cgroup.h"
#include "util.h"

/* BTF objects by id, loaded once per snapshot. */
struct btf_cache {
	struct btf *vmlinux;
	bool vmlinux_tried;
};

static struct btf *vmlinux_btf(struct btf_cache *c)
{
	if (!c->vmlinux_tried) {
		c->vmlinux_tried = true;
		c->vmlinux = btf__load_vmlinux_btf();
		if (libbpf_get_error(c->vmlinux))
			c->vmlinux = NULL;
	}
	return c->vmlinux;
}

/* Name of type @type_id in kernel BTF object @obj_id ("btf_trace_" cut). */
static void btf_type_name(struct btf_cache *c, uint32_t obj_id, uint32_t type_id, char *buf,
			  size_t len)
{
	struct bpf_btf_info info = { 0 };
	__u32 info_len = sizeof(info);
	char oname[64] = "";
	struct btf *btf = NULL;
	const struct btf_type *t;
	const char *name;
	bool own = false;
	int fd;

	buf[0] = '\0';
	if (!type_id)
		return;
	if (obj_id) {
		fd = bpf_btf_get_fd_by_id(obj_id);
		if (fd < 0)
			return;
		info.name = (uintptr_t)oname;
		info.name_len = sizeof(oname);
		if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
			oname[0] = '\0';
		close(fd);
	}
	if (!obj_id || !strcmp(oname, "vmlinux")) {
		btf = vmlinux_btf(c);
	} else if (vmlinux_btf(c)) {
		btf = btf__load_from_kernel_by_id_split(obj_id, vmlinux_btf(c));
		own = true;
		if (libbpf_get_error(btf))
			btf = NULL;
	}
	if (!btf)
		return;
	t = btf__type_by_id(btf, type_id);
	name = t ? btf__name_by_offset(btf, t->name_off) : NULL;
	if (name && !strncmp(name, "btf_trace_", 10))
		name += 10;
	if (name)
		snprintf(buf, len, "%s%s%s", name, own && oname[0] ? " in " : "", own ? oname : "");
	if (own)
		btf__free(btf);
}

static struct bpf_prog_rec *find_id(struct bpfprogs *p, uint32_t id)
{
	for (size_t i = 0; i < p->nr; i++)
		if (p->progs[i].id == id)
			return &p->progs[i];
	return NULL;
}

const struct bpf_prog_rec *bpfprogs__find_id(const struct bpfprogs *p, uint32_t id)
{
	return find_id((struct bpfprogs *)p, id);
}

const struct bpf_prog_rec *bpfprogs__find_addr(const struct bpfprogs *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nr; i++) {
		const struct bpf_prog_rec *r = &p->progs[i];

		for (uint32_t k = 0; k < r->nr_ksyms; k++)
			if (addr >= r->ksyms[k] && addr < r->ksyms[k] + r->lens[k])
				return r;
	}
	return NULL;
}

static struct bpf_prog_rec *add_prog(struct bpfprogs *p, uint32_t id)
{
	struct bpf_prog_rec *r = find_id(p, id);

	if (r)
		return r;
	if (p->nr >= BPFPROGS_MAX) {
		p->progs_dropped++;
		return NULL;
	}
	if (p->nr == p->cap) {
		size_t ncap = p->cap ? 2 * p->cap : 64;
		struct bpf_prog_rec *n = realloc(p->progs, ncap * sizeof(*n));

		if (!n)
			return NULL;
		p->progs = n;
		p->cap = ncap;
	}
	r = &p->progs[p->nr++];
	memset(r, 0, sizeof(*r));
	r->id = id;
	return r;
}

/* Fill @r from the program behind @fd. */
static int read_prog(struct btf_cache *c, int fd, struct bpf_prog_rec *r)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), nk, nl;
	const char *type;
	uint64_t *ksyms = NULL;
	uint32_t *lens = NULL;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	type = libbpf_bpf_prog_type_str(info.type);
	snprintf(r->type, sizeof(r->type), "%s", type ? type : "unknown");
	snprintf(r->name, sizeof(r->name), "%s", info.name);
	for (int i = 0; i < 8; i++)
		snprintf(r->tag + 2 * i, 3, "%02x", info.tag[i]);
	r->uid = info.created_by_uid;
	r->load_time_ns = info.load_time;
	r->run_time_ns = info.run_time_ns;
	r->run_cnt = info.run_cnt;
	r->recursion_misses = info.recursion_misses;
	if (info.attach_btf_id && !r->btf_target[0])
		btf_type_name(c, info.attach_btf_obj_id, info.attach_btf_id, r->btf_target,
			      sizeof(r->btf_target));
	if (r->nr_ksyms)
		return 0;	/* JIT ranges never change */
	nk = info.nr_jited_ksyms;
	nl = info.nr_jited_func_lens;
	if (!nk || nk != nl)
		return 0;	/* interpreted, or addresses hidden */
	ksyms = calloc(nk, sizeof(*ksyms));
	lens = calloc(nl, sizeof(*lens));
	if (!ksyms || !lens)
		goto nomem;
	memset(&info, 0, sizeof(info));
	info.nr_jited_ksyms = nk;
	info.jited_ksyms = (uintptr_t)ksyms;
	info.nr_jited_func_lens = nl;
	info.jited_func_lens = (uintptr_t)lens;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.nr_jited_ksyms != nk) {
		free(ksyms);
		free(lens);
		return 0;	/* changed under us: no ranges this time */
	}
	r->ksyms = ksyms;
	r->lens = lens;
	r->nr_ksyms = nk;
	return 0;
nomem:
	free(ksyms);
	free(lens);
	return -ENOMEM;
}

static void add_attach(struct bpf_prog_rec *r, const char *kind, const char *target,
		       uint32_t link_id)
{
	for (uint32_t i = 0; i < r->nr_attach; i++)
		if (!strcmp(r->attach[i].kind, kind) && !strcmp(r->attach[i].target, target) &&
		    r->attach[i].link_id == link_id)
			return;
	if (r->nr_attach >= BPFPROG_ATTACH_MAX) {
		r->attach_dropped++;
		return;
	}
	snprintf(r->attach[r->nr_attach].kind, sizeof(r->attach[0].kind), "%s", kind);
	snprintf(r->attach[r->nr_attach].target, sizeof(r->attach[0].target), "%s", target);
	r->attach[r->nr_attach++].link_id = link_id;
}

static void read_link(struct bpfprogs *p, struct btf_cache *c, int fd)
{
	struct bpf_link_info info = { 0 };
	char name[160] = "", kind[32], at[48];
	__u32 len = sizeof(info);
	struct bpf_link_rec *l;
	struct bpf_prog_rec *r;
	const char *type, *s;

	info.raw_tracepoint.tp_name = (uintptr_t)name;
	info.raw_tracepoint.tp_name_len = sizeof(name);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	if (info.type == BPF_LINK_TYPE_ITER) {
		/* the union's name buffer sits at another place for iterators */
		memset(&info, 0, sizeof(info));
		info.iter.target_name = (uintptr_t)name;
		info.iter.target_name_len = sizeof(name);
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return;
	}
	if (p->nr_links >= BPFLINKS_MAX) {
		p->links_dropped++;
		return;
	}
	if (p->nr_links == p->cap_links) {
		size_t ncap = p->cap_links ? 2 * p->cap_links : 64;
		struct bpf_link_rec *n = realloc(p->links, ncap * sizeof(*n));

		if (!n)
			return;
		p->links = n;
		p->cap_links = ncap;
	}
	l = &p->links[p->nr_links++];
	memset(l, 0, sizeof(*l));
	l->id = info.id;
	l->prog_id = info.prog_id;
	type = libbpf_bpf_link_type_str(info.type);
	if (type)
		snprintf(l->type, sizeof(l->type), "%s", type);
	else
		snprintf(l->type, sizeof(l->type), "type_%u", info.type);
	snprintf(kind, sizeof(kind), "%s", l->type);
	switch (info.type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		snprintf(l->target, sizeof(l->target), "%s", name);
		break;
	case BPF_LINK_TYPE_TRACING:
		s = libbpf_bpf_attach_type_str(info.tracing.attach_type);
		snprintf(kind, sizeof(kind), "%s", s ? s : "tracing");
		btf_type_name(c, info.tracing.target_obj_id, info.tracing.target_btf_id, l->target,
			      sizeof(l->target));
		break;
	case BPF_LINK_TYPE_CGROUP:
		s = libbpf_bpf_attach_type_str(info.cgroup.attach_type);
		snprintf(kind, sizeof(kind), "%s", s ? s : "cgroup");
		snprintf(l->target, sizeof(l->target), "cgroup id %llu",
			 (unsigned long long)info.cgroup.cgroup_id);
		break;
	case BPF_LINK_TYPE_ITER:
		snprintf(l->target, sizeof(l->target), "%s", name);
		break;
	case BPF_LINK_TYPE_NETNS:
		s = libbpf_bpf_attach_type_str(info.netns.attach_type);
		snprintf(kind, sizeof(kind), "%s", s ? s : "netns");
		snprintf(l->target, sizeof(l->target), "netns inode %u", info.netns.netns_ino);
		break;
	case BPF_LINK_TYPE_XDP:
		if (!if_indextoname(info.xdp.ifindex, at))
			snprintf(at, sizeof(at), "ifindex %u", info.xdp.ifindex);
		snprintf(l->target, sizeof(l->target), "%s", at);
		break;
	default:
		/* perf_event, kprobe_multi, struct_ops and later: their fields
		 * are past the linux/bpf.h kiln was built with */
		snprintf(l->missing, sizeof(l->missing),
			 "attach details not in this build's linux/bpf.h");
		break;
	}
	r = find_id(p, l->prog_id);
	if (r)
		add_attach(r, kind, l->missing[0] ? "(details unknown)" : l->target, l->id);
}

static void cgroup_identity(int pid, struct bpf_owner *o)
{
	struct cgroup_id id;

	if (cgroup_of(pid, &id))
		return;
	snprintf(o->unit, sizeof(o->unit), "%s", id.unit);
	snprintf(o->container, sizeof(o->container), "%s", id.container);
}

static void add_owner(struct bpf_prog_rec *r, int pid)
{
	struct bpf_owner *o;
	char path[64];
	int fd, n;

	for (uint32_t i = 0; i < r->nr_owners; i++)
		if (r->owners[i].pid == (uint32_t)pid)
			return;
	if (r->nr_owners >= BPFPROG_OWNERS_MAX) {
		r->owners_dropped++;
		return;
	}
	o = &r->owners[r->nr_owners++];
	memset(o, 0, sizeof(*o));
	o->pid = (uint32_t)pid;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = (int)read(fd, o->comm, sizeof(o->comm) - 1);
		close(fd);
		if (n > 0)
			o->comm[strcspn(o->comm, "\n")] = '\0';
	}
	cgroup_identity(pid, o);
}

/* "prog_id:\tN" from /proc/PID/fdinfo/FD; 0 when absent. */
static uint32_t fdinfo_prog_id(int pid, const char *fd)
{
	char path[320], buf[1024], *at;
	int f, n;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	n = (int)read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	at = strstr(buf, "prog_id:");
	return at ? (uint32_t)strtoul(at + 8, NULL, 10) : 0;
}

static const char *const fd_type_names[] = {
	"raw_tracepoint", "tracepoint", "kprobe", "kretprobe", "uprobe", "uretprobe",
};

/* A perf event fd with a program: ask the kernel what it probes. */
static void perf_fd_attach(struct bpfprogs *p, int pid, int fd)
{
	char buf[256] = "", target[300];
	__u32 len = sizeof(buf), prog_id = 0, type = 0;
	__u64 off = 0, addr = 0;
	struct bpf_prog_rec *r;

	if (bpf_task_fd_query(pid, fd, 0, buf, &len, &prog_id, &type, &off, &addr) || !prog_id)
		return;
	r = find_id(p, prog_id);
	if (!r)
		return;
	add_owner(r, pid);
	if (type >= BPF_FD_TYPE_KPROBE && type <= BPF_FD_TYPE_URETPROBE && buf[0])
		snprintf(target, sizeof(target), "%s+0x%llx", buf, (unsigned long long)off);
	else if (buf[0])
		snprintf(target, sizeof(target), "%s", buf);
	else
		snprintf(target, sizeof(target), "0x%llx", (unsigned long long)addr);
	add_attach(r, type < sizeof(fd_type_names) / sizeof(fd_type_names[0]) ?
		   fd_type_names[type] : "perf_event", target, 0);
}

static void scan_owners(struct bpfprogs *p)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char path[64], link[64];
		struct dirent *fe;
		DIR *fds;
		int pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;	/* gone, or not ours to read */
		while ((fe = readdir(fds))) {
			struct bpf_prog_rec *r;
			ssize_t n;

			if (!isdigit((unsigned char)fe->d_name[0]))
				continue;
			n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = '\0';
			if (!strcmp(link, "anon_inode:bpf-prog") || !strcmp(link, "anon_inode:bpf_link")) {
				r = find_id(p, fdinfo_prog_id(pid, fe->d_name));
				if (r)
					add_owner(r, pid);
			} else if (!strcmp(link, "anon_inode:[perf_event]")) {
				perf_fd_attach(p, pid, atoi(fe->d_name));
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

int bpfprogs__snapshot(struct bpfprogs *p, bool owners)
{
	struct btf_cache c = { 0 };
	__u32 id = 0;
	int err = 0;

	p->err = 0;
	for (size_t i = 0; i < p->nr; i++)
		p->progs[i].seen = false;
	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_rec *r;
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0) {
			if (errno != ENOENT && !err)
				err = -errno;
			continue;	/* ENOENT: unloaded since */
		}
		r = add_prog(p, id);
		if (r) {
			int e = read_prog(&c, fd, r);

			if (e && !err)
				err = e;
			r->seen = true;
			r->gone = false;
			if (owners) {
				r->nr_owners = r->owners_dropped = 0;
				r->nr_attach = r->attach_dropped = 0;
			}
		}
		close(fd);
	}
	if (errno != ENOENT && !err)
		err = -errno;
	for (size_t i = 0; i < p->nr; i++)
		if (!p->progs[i].seen)
			p->progs[i].gone = true;
	if (owners) {
		p->nr_links = 0;
		id = 0;
		while (!bpf_link_get_next_id(id, &id)) {
			int fd = bpf_link_get_fd_by_id(id);

			if (fd < 0)
				continue;
			read_link(p, &c, fd);
			close(fd);
		}
		scan_owners(p);
	}
	btf__free(c.vmlinux);
	p->snapshots++;
	p->err = err;
	return err;
}

bool bpfprogs__stats_enabled(void)
{
	char buf[16];

	return !read_file_str("/proc/sys/kernel/bpf_stats_enabled", buf, sizeof(buf)) &&
	       buf[0] == '1';
}

bool bpfprogs__owned_by(const struct bpf_prog_rec *r, uint32_t pid)
{
	for (uint32_t i = 0; i < r->nr_owners; i++)
		if (r->owners[i].pid == pid)
			return true;
	return false;
}

void bpfprogs__owners_str(const struct bpf_prog_rec *r, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < r->nr_owners && at < len; i++) {
		const struct bpf_owner *o = &r->owners[i];

		at += (size_t)snprintf(buf + at, len - at, "%s%u %s", i ? ", " : "", o->pid, o->comm);
		if (at < len && o->unit[0])
			at += (size_t)snprintf(buf + at, len - at, " (%s%s%s)", o->unit,
					       o->container[0] ? ", container " : "", o->container);
		else if (at < len && o->container[0])
			at += (size_t)snprintf(buf + at, len - at, " (container %s)", o->container);
	}
	if (at < len && r->owners_dropped)
		snprintf(buf + at, len - at, " and %u more", r->owners_dropped);
	if (!r->nr_owners)
		snprintf(buf, len, "no process holds it (the program or its link is pinned)");
}

void bpfprogs__attach_str(const struct bpf_prog_rec *r, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < r->nr_attach && at < len; i++) {
		const struct bpf_attach *a = &r->attach[i];

		at += (size_t)snprintf(buf + at, len - at, "%s%s %s", i ? ", " : "", a->kind, a->target);
		if (at < len && a->link_id)
			at += (size_t)snprintf(buf + at, len - at, " (link %u)", a->link_id);
	}
	if (!r->nr_attach && r->btf_target[0])
		snprintf(buf, len, "target %s (no link found)", r->btf_target);
	else if (!r->nr_attach)
		snprintf(buf, len, "unknown (no link or perf event names it)");
}

void bpfprogs__free(struct bpfprogs *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr; i++) {
		free(p->progs[i].ksyms);
		free(p->progs[i].lens);
	}
	free(p->progs);
	free(p->links);
	memset(p, 0, sizeof(*p));
}
