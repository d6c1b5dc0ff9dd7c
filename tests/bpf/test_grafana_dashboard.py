#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_grafana_dashboard: every panel of deploy/grafana/dashboards/kiln.json
asks for something kiln really emits. One `kiln run` uploads to a real
Pyroscope and is scraped by a real Prometheus (Debian's) loaded with
deploy/prometheus's rules, while children burn CPU, sleep and fight over a
lock. Then:
- each panel's data source is one deploy/grafana/provisioning defines;
- each Prometheus expression (Grafana's $__rate_interval and variables
  filled in) is evaluated by that Prometheus without error, every kiln_*
  metric it names is in kiln's /metrics, every label it groups by or shows
  is on that metric; the plain series (no comparison) return data;
- each Pyroscope query's profile type is one Pyroscope lists after the
  upload, and its flame graph, with the dashboard's default service
  selector, is not empty.
Grafana itself is not run (Debian does not package it)."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402
from pyroscope import free_port  # noqa: E402
import promtest  # noqa: E402

require_root()
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GRAFANA = os.path.join(ROOT, "deploy", "grafana")
if not promtest.binary():
    skip("Debian's prometheus is not installed (scripts/deps.sh --test installs it)")

dash = json.load(open(os.path.join(GRAFANA, "dashboards", "kiln.json")))
sources = yaml.safe_load(open(os.path.join(GRAFANA, "provisioning", "datasources", "kiln.yaml")))
uids = {d["uid"]: d["type"] for d in sources["datasources"]}
panels = [p for p in dash["panels"] if p["type"] != "row"]
print("dashboard %s: %d panels, data sources %s" % (dash["uid"], len(panels), uids))
check(len({p["id"] for p in dash["panels"]}) == len(dash["panels"]), "panel ids are unique")
for p in panels:
    for t in p["targets"]:
        ds = t.get("datasource", p["datasource"])
        check(uids.get(ds["uid"]) == ds["type"], "%s: data source %s is provisioned as %s" %
              (p["title"], ds["uid"], ds["type"]))

# Grafana's variables, as a user with the defaults would have them
VARS = {"$__rate_interval": "1m", "$instance": ".*", "$service": ".+"}


def fill(s):
    for k, v in VARS.items():
        s = s.replace(k, v)
    return s


def scrape_labels(page):
    """{metric: set of label names} from a /metrics page."""
    out = {}
    for line in page.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ", line)
        if m and not line.startswith("#"):
            names = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', m.group(3) or ""))
            out.setdefault(m.group(1), set()).update(names)
    return out


d = tmpdir()
prom_port, kiln_port = free_port(), free_port()
server = None
procs = []
agent = None
try:
    server = pyroscope.Server()
except pyroscope.Unavailable as e:
    skip(str(e))
try:
    server.start()
    procs.append(promtest.start(d, prom_port, kiln_port))
    check(wait_for(lambda: http_get("http://127.0.0.1:%d/-/ready" % prom_port), 60,
                   "Prometheus is ready"), "Prometheus up")
    kids = [spawn([fixture("fixture_spin"), "40"], stdout=subprocess.DEVNULL),
            spawn([fixture("fixture_nofp"), "40", "sleep"]),
            spawn([fixture("fixture_contend"), "4", "40"])]
    procs += kids
    start_ms = int(time.time() * 1000) - 1000
    agent = subprocess.Popen([KILN, "run", "--server", server.url, "--upload-interval", "2",
                              "--drain-interval", "1000", "-d", "20",
                              "--metrics-addr", "127.0.0.1:%d" % kiln_port],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def scraped_twice():
        body = http_get("http://127.0.0.1:%d/api/v1/query?query=%s" %
                   (prom_port, urllib.parse.quote("count_over_time(kiln_cpus[1m])")))
        res = json.loads(body)["data"]["result"] if body else []
        return res and int(float(res[0]["value"][1])) >= 8
    check(wait_for(scraped_twice, 30, "Prometheus scraped kiln 8 times"), "Prometheus scrapes kiln")
    page = http_get("http://127.0.0.1:%d/metrics" % kiln_port) or ""
    metrics = scrape_labels(page)
    print("kiln /metrics: %d series names" % len(metrics))
    # the panels on lock waits need one interval with waits and the
    # Prometheus rate() two scrapes after it
    time.sleep(4)

    for p in panels:
        for t in p["targets"]:
            if "expr" not in t:
                continue
            expr = fill(t["expr"])
            body = http_get("http://127.0.0.1:%d/api/v1/query?query=%s" %
                       (prom_port, urllib.parse.quote(expr)), timeout=10)
            reply = json.loads(body) if body else {}
            res = reply.get("data", {}).get("result", [])
            check(reply.get("status") == "success", "%s: Prometheus evaluates %s (%s)" %
                  (p["title"], expr, reply.get("error", "%d series" % len(res))))
            named = set(re.findall(r"\b(kiln_[a-z_]+)\b", expr))
            for m in named:
                check(m in metrics, "%s: %s is in kiln's /metrics" % (p["title"], m))
            used = set()
            for grp in re.findall(r"by \(([^)]*)\)", expr):
                used.update(x.strip() for x in grp.split(","))
            used.update(re.findall(r"\{\{(\w+)\}\}", t.get("legendFormat", "")))
            have = set().union(*(metrics.get(m, set()) for m in named)) | {"instance", "job"}
            if named:
                check(used <= have, "%s: labels %s are on %s (%s)" %
                      (p["title"], sorted(used), sorted(named), sorted(have)))
            plain = not re.search(r"(==|>|<)", expr) and named
            if plain:
                check(len(res) > 0, "%s: %s returns data" % (p["title"], expr))

    agent.wait(timeout=60)
    check(agent.returncode == 0, "kiln run exits 0 (%s)" % agent.stderr.read().strip()[-300:])
    time.sleep(1.0)
    end_ms = int(time.time() * 1000) + 1000
    listed = server.profile_types(start_ms, end_ms)
    print("Pyroscope lists %s" % listed)
    for p in panels:
        for t in p["targets"]:
            if "profileTypeId" not in t:
                continue
            check(t["profileTypeId"] in listed, "%s: profile type %s is listed" %
                  (p["title"], t["profileTypeId"]))
            _, _, total = server.flamegraph(t["profileTypeId"], fill(t["labelSelector"]),
                                            start_ms, end_ms)
            check(total > 0, "%s: %s %s has data (total %d)" %
                  (p["title"], t["profileTypeId"], fill(t["labelSelector"]), total))
    var = [v for v in dash["templating"]["list"] if v["name"] == "instance"][0]
    m = re.search(r"label_values\((\w+), (\w+)\)", var["definition"])
    check(m and m.group(1) in metrics, "variable instance reads %s, which kiln emits" %
          (m.group(1) if m else var["definition"]))
finally:
    if agent and agent.poll() is None:
        agent.kill()
        agent.wait()
    for p in procs:
        stop(p)
    if server:
        server.close()
done()
