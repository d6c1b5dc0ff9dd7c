// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/cgroup into a systemd unit and a container id.
 *
 * Lines look like "0::/system.slice/nginx.service" (v2),
 * "1:name=systemd:/system.slice/cron.service" or
 * "4:cpu,cpuacct:/docker/<64 hex>" (v1). Container runtimes put the id in a
 * path component: "/docker/<id>", "docker-<id>.scope",
 * "cri-containerd-<id>.scope", "crio-<id>.scope", "/kubepods/.../<id>".
 * Kubernetes adds the pod's UID: "/kubepods/burstable/pod<uid>/<id>"
 * (cgroupfs driver) or "kubepods-burstable-pod<uid, '_' for '-'>.slice"
 * (systemd driver). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"

/* A pod UID at @s (36 characters, '-' or '_' between the hex groups) into
 * @out with '-'. */
static bool pod_uid(const char *s, size_t len, char out[40])
{
	static const int dash[] = { 8, 13, 18, 23 };

	if (len < 36)
		return false;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-' && s[i] != '_')
				return false;
			out[i] = '-';
			d++;
		} else if (isxdigit((unsigned char)s[i])) {
			out[i] = s[i];
		} else {
			return false;
		}
	}
	out[36] = '\0';
	return true;
}

/* Unit, container and pod of one cgroup path (NUL-terminated). */
static void parse_path(const char *path, struct cgroup_id *out)
{
	const char *comp = path;

	while (*comp) {
		const char *end = strchr(comp, '/');
		size_t len = end ? (size_t)(end - comp) : strlen(comp), run = 0;
		const char *pod = NULL;

		if (len >= 39 && !strncmp(comp, "pod", 3))
			pod = comp + 3;		/* cgroupfs: pod<uid> */
		else if (len > 45 && !strncmp(comp, "kubepods", 8) &&
			 !strncmp(comp + len - 6, ".slice", 6))
			pod = comp + len - 6 - 36;	/* systemd: ...-pod<uid>.slice */
		if (pod && (pod == comp + 3 || !strncmp(pod - 4, "-pod", 4)))
			pod_uid(pod, (size_t)(comp + len - pod), out->pod_uid);

		if ((len > 8 && !strncmp(comp + len - 8, ".service", 8)) ||
		    (len > 6 && !strncmp(comp + len - 6, ".scope", 6)))
			snprintf(out->unit, sizeof(out->unit), "%.*s", (int)len, comp);
		for (size_t i = 0; i < len; i++) {
			run = isxdigit((unsigned char)comp[i]) ? run + 1 : 0;
			if (run == 64 && (i + 1 == len || !isxdigit((unsigned char)comp[i + 1])))
				snprintf(out->container, sizeof(out->container), "%.12s", comp + i - 63);
		}
		if (!end)
			break;
		comp = end + 1;
	}
}

void cgroup_parse(const char *text, struct cgroup_id *out)
{
	const char *line = text, *best = NULL;
	int best_rank = 0;

	memset(out, 0, sizeof(*out));
	/* rank the lines: v2 first, then v1's systemd hierarchy, then any */
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *c1 = strchr(line, ':'), *c2;
		int rank = 1;

		if (c1 && (!nl || c1 < nl) && (c2 = strchr(c1 + 1, ':')) && (!nl || c2 < nl)) {
			if (!strncmp(line, "0::", 3))
				rank = 3;
			else if (!strncmp(c1 + 1, "name=systemd:", 13))
				rank = 2;
			if (rank > best_rank) {
				best = c2 + 1;
				best_rank = rank;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (best) {
		char path[1024];
		const char *nl = strchr(best, '\n');
		size_t len = nl ? (size_t)(nl - best) : strlen(best);

		snprintf(path, sizeof(path), "%.*s", (int)len, best);
		parse_path(path, out);
	}
	if (out->container[0])
		return;
	/* v1 hosts: the container id may sit in another hierarchy only */
	for (line = text; line && *line; ) {
		const char *nl = strchr(line, '\n'), *c;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char path[1024];
		struct cgroup_id one = { 0 };

		/* the path follows the line's second colon */
		c = memchr(line, ':', len);
		c = c ? memchr(c + 1, ':', len - (size_t)(c + 1 - line)) : NULL;
		if (c) {
			snprintf(path, sizeof(path), "%.*s", (int)(line + len - c - 1), c + 1);
			parse_path(path, &one);
			if (one.container[0]) {
				memcpy(out->container, one.container, sizeof(out->container));
				if (!out->pod_uid[0])
					memcpy(out->pod_uid, one.pod_uid, sizeof(out->pod_uid));
				return;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
}

int cgroup_of(pid_t pid, struct cgroup_id *out)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	cgroup_parse(buf, out);
	return 0;
}

/* Split "<a>_<b>_<rest>" (Kubernetes names have no '_'). */
static bool split3(const char *name, char *a, size_t al, char *b, size_t bl, const char **rest)
{
	const char *u1 = strchr(name, '_'), *u2 = u1 ? strchr(u1 + 1, '_') : NULL;

	if (!u2 || u1 == name || u2 == u1 + 1 || (size_t)(u1 - name) >= al ||
	    (size_t)(u2 - u1 - 1) >= bl)
		return false;
	snprintf(a, al, "%.*s", (int)(u1 - name), name);
	snprintf(b, bl, "%.*s", (int)(u2 - u1 - 1), u1 + 1);
	*rest = u2 + 1;
	return true;
}

int k8s_names_find(const char *logdir, const char *id, const char *uid, struct k8s_names *out)
{
	char path[4096];
	struct dirent *de;
	size_t idl = strlen(id);
	int found = -ENOENT;
	DIR *d;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/containers", logdir);
	if (idl && (d = opendir(path))) {
		/* <pod>_<namespace>_<container>-<64 hex>.log */
		while (found && (de = readdir(d))) {
			size_t n = strlen(de->d_name);
			const char *rest, *hex;

			if (n < 5 + 69)		/* "a_b_c-" + 64 hex + ".log" at least */
				continue;
			hex = de->d_name + n - 68;
			if (strcmp(de->d_name + n - 4, ".log") || hex[-1] != '-' ||
			    strncmp(hex, id, idl) ||
			    !split3(de->d_name, out->pod, sizeof(out->pod), out->ns, sizeof(out->ns),
				    &rest) || rest >= hex - 1 || (size_t)(hex - 1 - rest) >= sizeof(out->container))
				continue;
			snprintf(out->container, sizeof(out->container), "%.*s", (int)(hex - 1 - rest),
				 rest);
			found = 0;
		}
		closedir(d);
	}
	snprintf(path, sizeof(path), "%s/pods", logdir);
	if (found && uid[0] && (d = opendir(path))) {
		/* <namespace>_<pod>_<uid> */
		while (found && (de = readdir(d))) {
			const char *rest;

			if (split3(de->d_name, out->ns, sizeof(out->ns), out->pod, sizeof(out->pod),
				   &rest) && !strcmp(rest, uid))
				found = 0;
		}
		closedir(d);
	}
	if (found)
		memset(out, 0, sizeof(*out));
	return found;
}

void cgroup_service_name(const struct cgroup_id *id, const char *comm, char *buf, size_t len)
{
	size_t ul = strlen(id->unit);

	if (id->container[0])
		snprintf(buf, len, "container-%s", id->container);
	else if (ul > 8 && !strcmp(id->unit + ul - 8, ".service"))
		snprintf(buf, len, "%.*s", (int)(ul - 8), id->unit);
	else
		snprintf(buf, len, "%s", comm);
}
