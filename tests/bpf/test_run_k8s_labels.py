#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_k8s_labels: a process in a cgroup laid out as the kubelet lays
out a containerd container (systemd driver: kubepods.slice/
kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/
cri-containerd-<id>.scope, made for real in the cgroup v2 hierarchy) and a
log directory holding the kubelet's links for it
(containers/<pod>_<namespace>_<container>-<id>.log, pods/<ns>_<pod>_<uid>)
is uploaded by `kiln run --k8s-logs DIR` to a real Pyroscope as service
"<namespace>/<container>" with namespace, pod and container labels; its
function is in that series. A second process in a pod whose container has
no link yet gets its namespace and pod from the pod UID alone. No cluster
runs here: the cgroup and the links are what a node would have."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402

require_root()

ID1 = "7e3f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"
UID1 = "5b0c7d1e-2f3a-4b5c-8d6e-7f8091a2b3c4"
ID2 = "1111222233334444555566667777888899990000aaaabbbbccccddddeeeeffff"
UID2 = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f1a2b3c4d"


def find_v2_root():
    for line in open("/proc/self/mounts"):
        f = line.split()
        if f[2] == "cgroup2":
            return f[1]
    return None


root = find_v2_root()
if not root:
    skip("no cgroup v2 hierarchy mounted")


def pod_cgroup(uid, cid):
    return os.path.join(root, "kubepods.slice", "kubepods-besteffort.slice",
                        "kubepods-besteffort-pod%s.slice" % uid.replace("-", "_"),
                        "cri-containerd-%s.scope" % cid)


logs = tmpdir()
os.makedirs(os.path.join(logs, "containers"))
os.makedirs(os.path.join(logs, "pods", "shop_web-7d9f8b-x2k4q_" + UID1))
os.makedirs(os.path.join(logs, "pods", "batch_report-28391-zzt8m_" + UID2))
open(os.path.join(logs, "containers", "web-7d9f8b-x2k4q_shop_nginx-proxy-%s.log" % ID1),
     "w").close()

made = []
kids = []
server = None
try:
    for uid, cid in ((UID1, ID1), (UID2, ID2)):
        path = pod_cgroup(uid, cid)
        os.makedirs(path, exist_ok=True)
        made.append(path)
    kids = [spawn([fixture("fixture_spin"), "30"]), spawn([fixture("fixture_nofp"), "30"])]
    for k, (uid, cid) in zip(kids, ((UID1, ID1), (UID2, ID2))):
        with open(os.path.join(pod_cgroup(uid, cid), "cgroup.procs"), "w") as f:
            f.write(str(k.pid))
    print("pids %s in %s" % ([k.pid for k in kids], made))
    check(open("/proc/%d/cgroup" % kids[0].pid).read().find("cri-containerd-" + ID1) >= 0,
          "the first child is in the container's cgroup")

    try:
        server = pyroscope.Server()
    except pyroscope.Unavailable as e:
        skip(str(e))
    server.start()
    start_ms = int(time.time() * 1000) - 1000
    r = kiln(["run", "--server", server.url, "--upload-interval", "2", "-d", "6",
              "--k8s-logs", logs, "--metrics-addr", "off", "-p", str(kids[0].pid),
              "-p", str(kids[1].pid), "--no-locks"], timeout=60)
    check(r.returncode == 0, "kiln run exits 0 (%d: %s)" % (r.returncode, r.stderr.strip()[-300:]))
    time.sleep(1.0)
    end_ms = int(time.time() * 1000) + 1000
    cpu = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

    def labels(name, selector="{}"):
        reply = server.connect("querier.v1.QuerierService/LabelValues",
                               {"name": name, "matchers": [selector], "start": start_ms,
                                "end": end_ms})
        return sorted(reply.get("names", []))

    services = labels("service_name")
    print("service_name values: %s" % services)
    check("shop/nginx-proxy" in services, "service shop/nginx-proxy (namespace/container)")
    check("batch/report-28391-zzt8m" in services,
          "a container without a link: service namespace/pod from the pod UID")
    sel = '{service_name="shop/nginx-proxy"}'
    got = {n: labels(n, sel) for n in ("namespace", "pod", "container", "hostname")}
    print("labels of shop/nginx-proxy: %s" % got)
    check(got["namespace"] == ["shop"], "namespace label shop")
    check(got["pod"] == ["web-7d9f8b-x2k4q"], "pod label web-7d9f8b-x2k4q")
    check(got["container"] == ["nginx-proxy"], "container label nginx-proxy")
    check(len(got["hostname"]) == 1, "hostname label kept")
    _, totals, total = server.flamegraph(
        cpu, '{service_name="shop/nginx-proxy",pod="web-7d9f8b-x2k4q"}', start_ms, end_ms)
    print("shop/nginx-proxy cpu: total %d, kiln_fixture_leaf %d" %
          (total, totals.get("kiln_fixture_leaf", 0)))
    check(totals.get("kiln_fixture_leaf", 0) > 0.8 * total > 0,
          "the container's series holds its process's function (kiln_fixture_leaf)")
    got2 = {n: labels(n, '{service_name="batch/report-28391-zzt8m"}')
            for n in ("namespace", "pod", "container")}
    print("labels of batch/report-28391-zzt8m: %s" % got2)
    check(got2["namespace"] == ["batch"] and got2["pod"] == ["report-28391-zzt8m"] and
          got2["container"] == [], "pod-only series: namespace and pod, no container label")
finally:
    for k in kids:
        stop(k)
    if server:
        server.close()
    for path in made:
        # the children are gone; remove the scope and the slices above it
        p = path
        while p != root:
            try:
                os.rmdir(p)
            except OSError:
                break
            p = os.path.dirname(p)
done()
