#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_flags_bpf_prog_owner: a helper process loads a test-only raw_tp
program on sys_enter that does heavy work and shared hash-map updates for one
syscall-heavy workload. kiln record attributes the CPU to that program by
name, names the helper's pid and comm as its owner and its attach point;
its samples carry flag=bpf_prog; kiln probes lists it; with --bpf-stats its
run time matches the sampled share within 5 points or 20%; the flame graph
page colours its frames as a BPF program in headless Chromium."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()

work = spawn([fixture("fixture_syscalls"), "20"])
helper = spawn([fixture("fixture_hotprog"), str(work.pid), "25"], stdout=subprocess.PIPE,
               text=True)
try:
    line = helper.stdout.readline()
    m = re.match(r"hotprog: attached id=(\d+) pid=(\d+)", line)
    check(m, "helper attached its program: %r" % line)
    if not m:
        done()
    prog_id, helper_pid = int(m.group(1)), int(m.group(2))

    p = kiln(["probes", "--json"])
    check(p.returncode == 0, "kiln probes --json exits 0 (%s)" % p.stderr.strip())
    inv = load_json(p.stdout, "probes --json")
    mine = [x for x in inv.get("programs", []) if x["id"] == prog_id]
    check(mine and mine[0]["name"] == "hot_sys_enter" and mine[0]["type"] == "raw_tracepoint",
          "probes lists the program by id, name and type: %s" % mine[:1])
    if mine:
        check({"kind": "raw_tracepoint", "target": "sys_enter"} in
              [{"kind": a["kind"], "target": a["target"]} for a in mine[0]["attach"]],
              "probes names its attach point: %s" % mine[0]["attach"])
        check([(o["pid"], o["comm"]) for o in mine[0]["owners"]] == [(helper_pid, "fixture_hotprog")],
              "probes names the helper as owner: %s" % mine[0]["owners"])
    links = [l for l in inv.get("links", []) if l["prog_id"] == prog_id]
    check(links and links[0]["type"] == "raw_tracepoint" and links[0]["target"] == "sys_enter",
          "probes lists its link: %s" % links)
    t = kiln(["probes"])
    check("hot_sys_enter" in t.stdout and "held by %d fixture_hotprog" % helper_pid in t.stdout,
          "text output names program and owner")

    out = tmpdir()
    r = kiln(["record", "-d", "3", "-F", "499", "--bpf-stats", "--json", "-p", str(work.pid),
              "-o", out])
    check(r.returncode == 0, "kiln record --bpf-stats exits 0 (%s)" % r.stderr.strip())
finally:
    stop(helper, signal.SIGTERM)
    stop(work)

d = load_json(r.stdout, "record --json")
progs = [x for x in d.get("bpf_programs", []) if x["id"] == prog_id]
check(progs, "the program is among the BPF programs on CPU")
if progs:
    x = progs[0]
    print("sampled: %.1f%% of the workload's samples, %.1f%% of all CPU time" %
          (x["total_percent"], x["cpu_percent"]))
    check(x["symbol"].startswith("bpf_prog_") and x["symbol"].endswith("_hot_sys_enter"),
          "attributed by name: %s" % x["symbol"])
    check(x["total_percent"] > 30, "it takes most of the workload's CPU (%.1f%%)" % x["total_percent"])
    owners = x["program"]["owners"] if x["program"] else []
    check([(o["pid"], o["comm"]) for o in owners] == [(helper_pid, "fixture_hotprog")],
          "owner is the helper: %s" % owners)
    check(any(a["target"] == "sys_enter" for a in x["program"]["attach"]),
          "attach point named in the record summary")
    stats = [s for s in d.get("bpf_stats", {}).get("programs", []) if s["id"] == prog_id]
    check(stats and stats[0]["run_cnt"] > 1000, "BPF stats counted its runs: %s" %
          [{k: v for k, v in x.items() if k != "program"} for x in stats[:1]])
    check(stats and [o["pid"] for o in stats[0]["program"]["owners"]] == [helper_pid],
          "the program seen in BPF stats is named with its owner")
    if stats:
        a, b = stats[0]["cpu_percent"], stats[0]["sampled_cpu_percent"]
        print("run time %.2f%% of all CPU vs sampled %.2f%%" % (a, b))
        check(abs(a - b) <= max(5.0, 0.2 * a), "run time and sampled share agree within 5 points "
              "or 20%% (%.2f vs %.2f)" % (a, b))

samples = samples_of(os.path.join(out, "cpu.pb.gz"), work.pid)
inprog = [s for s in samples if s["stack"] and re.match(r"bpf_prog_[0-9a-f]{16}_hot_", s["stack"][0])]
check(inprog, "samples land in the program's body")
check(all(s["labels"].get("flag") == "bpf_prog" for s in inprog),
      "every sample in the program carries flag=bpf_prog")
text = kiln(["record", "-d", "1", "-p", str(os.getpid()), "-o", tmpdir()])
check(text.returncode == 0 and "flags (cpu samples" in text.stdout,
      "text summary has a flags section with its source")

chromium = shutil.which("chromium") or shutil.which("chromium-browser")
check(chromium, "chromium is installed (scripts/deps.sh --test installs it)")
if chromium:
    page = os.path.join(out, "flamegraph.html")
    profile = os.path.join(out, "chromium-profile")
    c = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + profile,
                        "--window-size=1280,800", "--virtual-time-budget=5000", "--dump-dom",
                        "file://" + page], capture_output=True, text=True, timeout=120)
    drawn = re.findall(r'<div class="f[^"]*flag"[^>]*data-flag="([a-z_]+)"[^>]*title="([^"]*)"',
                       c.stdout)
    hot = [t for f, t in drawn if f == "bpf_prog" and t.endswith("_hot_sys_enter")]
    check(hot, "the program's frame is drawn highlighted as a BPF program")
    check(all(f == "bpf_prog" for f, t in drawn if t.startswith("bpf_prog_")),
          "every bpf_prog_* frame drawn carries the bpf_prog highlight")
    meta = re.search(r'<span id="meta">([^<]*)</span>', c.stdout)
    check(meta and re.search(r"flagged: .*bpf_prog", meta.group(1)),
          "the view's header gives the flagged share: %s" % (meta.group(1) if meta else None))
    shutil.rmtree(profile, ignore_errors=True)
done()
