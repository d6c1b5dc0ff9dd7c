#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_alertmanager: end to end with Debian's Prometheus and
Alertmanager on 127.0.0.1. A busy BPF program (fixture_hotprog) runs; kiln
run POSTs its KilnProbeOverhead alert to Alertmanager (--alertmanager-url);
Prometheus scrapes kiln's /metrics and evaluates deploy/prometheus's rules,
whose KilnProbeOverhead fires for the same program and owner and goes to
the same Alertmanager. Both are asserted through Alertmanager's v2 API."""
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
from pyroscope import free_port  # noqa: E402
import promtest  # noqa: E402

require_root()
am_bin = shutil.which("prometheus-alertmanager")
if not promtest.binary() or not am_bin:
    skip("Debian's prometheus and prometheus-alertmanager are not installed "
         "(scripts/deps.sh --test installs them)")

d = tmpdir()
am_port, prom_port, kiln_port = free_port(), free_port(), free_port()
with open(os.path.join(d, "am.yml"), "w") as f:
    f.write("route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n")


logs = [open(os.path.join(d, n), "w") for n in ("am.log", "kiln.err")]
am = spawn([am_bin, "--config.file", os.path.join(d, "am.yml"),
            "--storage.path", os.path.join(d, "am"),
            "--web.listen-address", "127.0.0.1:%d" % am_port,
            "--cluster.listen-address", ""], stdout=logs[0], stderr=logs[0])
prom = promtest.start(d, prom_port, kiln_port, am_port)
work = spawn([fixture("fixture_syscalls"), "90"])
helper = spawn([fixture("fixture_hotprog"), str(work.pid), "80"], stdout=subprocess.PIPE,
               text=True)
agent = None
seen = {}
try:
    line = helper.stdout.readline()
    check(re.match(r"hotprog: attached id=\d+ pid=\d+", line), "helper attached: %r" % line)
    check(wait_for(lambda: http_get("http://127.0.0.1:%d/-/ready" % am_port), 30,
                   "Alertmanager is ready"), "Alertmanager up")
    check(wait_for(lambda: http_get("http://127.0.0.1:%d/-/ready" % prom_port), 60,
                   "Prometheus is ready"), "Prometheus up")
    agent = subprocess.Popen([KILN, "run", "--server", "http://127.0.0.1:%d" % free_port(),
                              "--upload-interval", "2", "--drain-interval", "1000",
                              "--metrics-addr", "127.0.0.1:%d" % kiln_port,
                              "--alertmanager-url", "http://127.0.0.1:%d/" % am_port,
                              "-d", "120"], stdout=subprocess.DEVNULL, stderr=logs[1])

    def both():
        body = http_get("http://127.0.0.1:%d/api/v2/alerts" % am_port)
        for a in json.loads(body) if body else []:
            lab = a.get("labels", {})
            if lab.get("alertname") != "KilnProbeOverhead" or lab.get("prog_name") != "hot_sys_enter":
                continue
            # Prometheus adds the rule's severity; kiln's own carries its annotations
            src = "prometheus" if lab.get("severity") == "warning" else "kiln"
            seen.setdefault(src, a)
        return len(seen) == 2

    wait_for(both, 60, "Alertmanager has KilnProbeOverhead from kiln and from the rule")
    for src in ("kiln", "prometheus"):
        a = seen.get(src)
        print("%s: %s" % (src, json.dumps(a)[:600] if a else None))
        check(a is not None, "Alertmanager received %s's KilnProbeOverhead" % src)
        if a:
            check(a["labels"].get("owner_comm") == "fixture_hotprog" and
                  a["labels"].get("job") == "kiln",
                  "%s's alert names program and owner: %s" % (src, a["labels"]))
            check(a["status"]["state"] == "active", "%s's alert is active" % src)
    if seen.get("kiln"):
        ann = seen["kiln"]["annotations"]
        check("hot_sys_enter" in ann.get("detail", "") and "bpf_prog_" in ann.get("stack", ""),
              "kiln's alert carries program, owner pid and stack: %s" % ann)
    page = http_get("http://127.0.0.1:%d/metrics" % kiln_port) or ""
    m = re.search(r'kiln_alertmanager_posts_total\{result="ok"\} (\d+)', page)
    check(m and int(m.group(1)) >= 1, "kiln counts its POSTs: %s" % (m.group(0) if m else None))
    rules = http_get("http://127.0.0.1:%d/api/v1/rules" % prom_port) or "{}"
    check(not [r for g in json.loads(rules).get("data", {}).get("groups", [])
               for r in g.get("rules", []) if r.get("health") not in ("ok", None)],
          "Prometheus evaluates every kiln rule without error")
finally:
    if agent:
        stop(agent, signal.SIGTERM)
    stop(helper, signal.SIGTERM)
    stop(work)
    stop(prom, signal.SIGTERM)
    stop(am, signal.SIGTERM)
    for f in logs:
        f.close()
done()
