#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_flags_blind_tracepoint: CPU samples are blind inside classic
tracepoint (and kprobe) BPF programs: the kernel skips a perf_event program
while one of them runs on the CPU (bpf_prog_active) and counts the skipped
sample nowhere. The same heavy program as a raw_tp is sampled. kiln reports
the gap: samples taken against freq x busy CPU time, and the kernel's miss
counter (0). tracefs is mounted only inside a private mount namespace of the
helper, never on the host; kiln probes still names the program's tracepoint
through the helper's perf event fd."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()


def run_with(kind):
    """Start the workload and the helper's program of @kind; record 3 s of
    the whole host. Returns (record JSON, probes JSON, prog id, helper pid)."""
    work = spawn([fixture("fixture_syscalls"), "15"])
    cmd = [fixture("fixture_hotprog"), str(work.pid), "12", kind]
    if kind == "tracepoint":
        cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               "mount -t tracefs nodev /sys/kernel/tracing && exec \"$@\"", "sh"] + cmd
    helper = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = helper.stdout.readline()
        m = re.match(r"hotprog: attached id=(\d+) pid=(\d+)", line)
        if not m:
            err = helper.stderr.read() if helper.poll() is not None else ""
            skip("cannot attach a classic tracepoint program here: %r %r" % (line, err[-200:]))
        settle(0.5)
        probes = load_json(kiln(["probes", "--json"]).stdout, "probes --json")
        r = kiln(["record", "-d", "3", "-F", "499", "--json", "-o", tmpdir()])
        check(r.returncode == 0, "kiln record exits 0 with the %s program (%s)" %
              (kind, r.stderr.strip()[-200:]))
        return load_json(r.stdout, "record --json"), probes, int(m.group(1)), int(m.group(2))
    finally:
        stop(helper, signal.SIGTERM)
        stop(work)


host_tracefs = [l for l in open("/proc/self/mounts") if " tracefs " in l]

rec, probes, pid_raw, _ = run_with("raw_tp")
raw = rec.get("sampler", {})
seen_raw = [p for p in rec.get("bpf_programs", []) if p["id"] == pid_raw]
print("raw_tp: sampler %s; program sampled: %s" %
      (raw, [(p["symbol"], p["total_samples"]) for p in seen_raw]))
check(seen_raw and seen_raw[0]["total_samples"] > 100, "a raw_tp program is sampled")
check(raw.get("missing_percent", 100) < 15, "few samples missing with a raw_tp program (%.1f%%)" %
      raw.get("missing_percent", 100))

rec, probes, prog_id, helper_pid = run_with("tracepoint")
tp = rec.get("sampler", {})
seen_tp = [p for p in rec.get("bpf_programs", []) if p["id"] == prog_id]
print("tracepoint: sampler %s; program sampled: %s" % (tp, seen_tp))
check(not seen_tp, "no sample lands in the classic tracepoint program")
check(tp.get("missing_percent", 0) > 30, "the gap shows: %.1f%% of expected samples missing" %
      tp.get("missing_percent", 0))
check(rec.get("sampler_recursion_misses") == 0,
      "the kernel's miss counter of our perf_event program stays 0: %s" %
      rec.get("sampler_recursion_misses"))
mine = [x for x in probes.get("programs", []) if x["id"] == prog_id]
check(mine and {"kind": "tracepoint", "target": "sys_enter"} in
      [{"kind": a["kind"], "target": a["target"]} for a in mine[0]["attach"]],
      "kiln probes names its tracepoint: %s" % (mine[0]["attach"] if mine else None))
check(mine and [o["pid"] for o in mine[0]["owners"]] == [helper_pid],
      "kiln probes names the helper as owner")
# where tracefs is mounted, kiln probes reads its events (here: in a namespace
# of our own; kiln itself never mounts it)
t = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    "mount -t tracefs nodev /sys/kernel/tracing && exec \"$@\"", "sh", KILN,
                    "probes", "--json"], capture_output=True, text=True, timeout=60)
tj = load_json(t.stdout, "probes --json with tracefs").get("tracefs", {})
check(tj.get("mounted") is True and tj.get("path") == "/sys/kernel/tracing" and
      isinstance(tj.get("kprobe_events"), list) and isinstance(tj.get("enabled_events"), list),
      "kiln probes reads a mounted tracefs: %s" % {k: tj.get(k) for k in ("mounted", "path")})
check([l for l in open("/proc/self/mounts") if " tracefs " in l] == host_tracefs,
      "the host's mounts are unchanged")
done()
