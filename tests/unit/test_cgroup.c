// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Service names from /proc/PID/cgroup contents as hosts write them: cgroup
 * v2 and v1, systemd services and sessions, docker, containerd (Kubernetes),
 * cri-o. This machine runs no containers, so the contents are fixtures. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "check.h"
#include "cgroup.h"

#define ID64 "4a3c1f0e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988"
#define UID "0f6e2b1a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
#define UID_ "0f6e2b1a_3c4d_4e5f_8a9b_0c1d2e3f4a5b"

static const struct {
	const char *what, *text, *unit, *container, *service, *pod;
} cases[] = {
	{ "v2 systemd service", "0::/system.slice/nginx.service\n",
	  "nginx.service", "", "nginx", NULL },
	{ "v2 user session", "0::/user.slice/user-1000.slice/session-3.scope\n",
	  "session-3.scope", "", "myproc", NULL },
	{ "v2 docker", "0::/system.slice/docker-" ID64 ".scope\n",
	  "docker-" ID64 ".scope", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d", NULL },
	{ "v2 containerd (kubelet, systemd driver)",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/"
	  "cri-containerd-" ID64 ".scope\n",
	  "cri-containerd-" ID64 ".scope", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d", UID },
	{ "v2 cri-o", "0::/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod" UID_ ".slice/crio-" ID64 ".scope\n",
	  "crio-" ID64 ".scope", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d", UID },
	{ "v2 guaranteed pod (no QoS slice)", "0::/kubepods.slice/kubepods-pod" UID_ ".slice/"
	  "cri-containerd-" ID64 ".scope\n",
	  "cri-containerd-" ID64 ".scope", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d", UID },
	{ "not a pod: a slice merely named like one", "0::/kubepods.slice/kubepods-besteffort.slice\n",
	  "", "", "myproc", NULL },
	{ "v1 systemd service",
	  "12:pids:/system.slice/cron.service\n11:memory:/system.slice/cron.service\n"
	  "1:name=systemd:/system.slice/cron.service\n",
	  "cron.service", "", "cron", NULL },
	{ "v1 docker (cgroupfs driver)",
	  "12:pids:/docker/" ID64 "\n4:cpu,cpuacct:/docker/" ID64 "\n"
	  "1:name=systemd:/docker/" ID64 "\n",
	  "", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d", NULL },
	{ "v1 kubernetes (cgroupfs driver), id outside name=systemd",
	  "3:cpu,cpuacct:/kubepods/besteffort/pod" UID "/" ID64 "\n1:name=systemd:/\n",
	  "", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d", UID },
	{ "hybrid: v2 line and v1 lines", "1:name=systemd:/system.slice/sshd.service\n"
	  "0::/system.slice/sshd.service\n", "sshd.service", "", "sshd", NULL },
	{ "no systemd, no container", "0::/\n", "", "", "myproc", NULL },
	{ "empty file", "", "", "", "myproc", NULL },
	{ "garbage", "not a cgroup file\n:::\n", "", "", "myproc", NULL },
	{ "63 hex digits are not an id", "0::/docker/" "4a3c1f0e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998" "\n",
	  "", "", "myproc", NULL },};

/* The kubelet's log links, as a node has them. */
static void k8s_cases(void)
{
	char dir[] = "/tmp/kiln-k8s-XXXXXX", path[512];
	struct k8s_names k;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/containers", dir);
	CHECK(!mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/pods", dir);
	CHECK(!mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/pods/shop_web-7d9f8b-x2k4q_" UID, dir);
	CHECK(!mkdir(path, 0755));
	snprintf(path, sizeof(path), "%s/containers/web-7d9f8b-x2k4q_shop_nginx-proxy-" ID64 ".log",
		 dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	/* a link of another container, and names that are not links */
	snprintf(path, sizeof(path), "%s/containers/other_shop_app-"
		 "ffff1f0e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988.log", dir);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/containers/junk-4a3c1f0e9b8d.log", dir);
	f = fopen(path, "w");
	if (f)
		fclose(f);

	CHECK_INT(k8s_names_find(dir, "4a3c1f0e9b8d", "", &k), 0);
	CHECK_STR(k.ns, "shop");
	CHECK_STR(k.pod, "web-7d9f8b-x2k4q");
	CHECK_STR(k.container, "nginx-proxy");
	/* container not linked (yet): the pod from its UID */
	CHECK_INT(k8s_names_find(dir, "123456789abc", UID, &k), 0);
	CHECK_STR(k.ns, "shop");
	CHECK_STR(k.pod, "web-7d9f8b-x2k4q");
	CHECK_STR(k.container, "");
	CHECK_INT(k8s_names_find(dir, "123456789abc", "", &k), -ENOENT);
	CHECK_STR(k.pod, "");
	CHECK_INT(k8s_names_find("/nonexistent", "4a3c1f0e9b8d", UID, &k), -ENOENT);
	fprintf(stderr, "k8s names from %s: ok\n", dir);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path))
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgroup_id id;
		char svc[128];

		cgroup_parse(cases[i].text, &id);
		cgroup_service_name(&id, "myproc", svc, sizeof(svc));
		fprintf(stderr, "%-55s unit '%s' container '%s' -> %s\n", cases[i].what, id.unit,
			id.container, svc);
		CHECK_STR(id.unit, cases[i].unit);
		CHECK_STR(id.container, cases[i].container);
		CHECK_STR(svc, cases[i].service);
		CHECK_STR(id.pod_uid, cases[i].pod ? cases[i].pod : "");
	}
	k8s_cases();
	CHECK_DONE();
}
