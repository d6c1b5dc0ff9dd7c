#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_lock_governor: on a lock storm (fixture_contend: 4 threads mapping
and unmapping, contending on their mmap_lock) the cost governor detaches the
lock programs for part of each second to stay under a small budget, says so
(summary JSON, the lock profile's comment), and its estimates stay near the
exact counts of the same run (--lock-exact-check counts every contention
beside it): mmap_lock's total delay within 15%, its count is printed, not checked (1.2-1.5x:
the programs add contention while attached, a known gap). The budget is set from a first run recording all, so
that the lock programs get about half of what they need. The end
program does no map work: the maps its instructions reference (bpftool prog
show: map_ids) are the task storage and its own global data (array maps),
no hash, stack or ring buffer map, where the exact counter's include a hash."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

TOL = 0.15
require_root()
# what the storm's lock programs cost recording everything, on this host now
r, out, pid = record_child([fixture("fixture_contend"), "4", "5"],
                           ["-d", "3", "--json", "--locks", "exact", "--no-off-cpu"], wait=0.5)
shutil.rmtree(out, ignore_errors=True)
g0 = load_json(r.stdout, "summary").get("governor", {})
full0 = g0.get("locks", {}).get("full_rate_cpu_percent", 0)
print("recording all: lock programs %.3f%% of a CPU" % full0)
check(full0 > 0.1, "the storm makes the lock programs cost over 0.1%% of a CPU (%.3f%%)" % full0)
# a budget that leaves the lock programs about half of what they need; no
# switch program (its cost varies 10x between runs here) to share it with
budget = max(full0 / 2, 0.02)
# the storm's intensity differs from run to run (its threads share CPUs or
# not): a run where it stayed under the budget did not test the governor
for attempt in range(3):
    r, out, pid = record_child([fixture("fixture_contend"), "4", "11"],
                               ["-d", "8", "--json", "--lock-exact-check", "--no-off-cpu",
                                "--bpf-budget", "%.3f" % budget], wait=0.5)
    summary = load_json(r.stdout, "summary")
    gov = summary.get("governor", {})
    lk = gov.get("locks", {})
    if lk.get("engaged"):
        break
    print("attempt %d: the storm cost %.3f%%, within the budget: again" %
          (attempt + 1, lk.get("full_rate_cpu_percent", 0)))
    shutil.rmtree(out, ignore_errors=True)
try:
    print("budget %.3f%%, governor: %s" % (budget, {k: v for k, v in gov.items() if k != "programs"}))
    check(lk.get("engaged") is True, "the governor engaged on the storm")
    # governing costs kiln itself little: start-up and drains are ~15% of
    # a core in this 8 s run (a governor thread spinning between windows,
    # as it once did for the switch program, would add up to 100%)
    own = r.cpu_seconds / summary["duration_s"]
    check(own < 0.35, "kiln used %.0f%% of a core, start-up included (%.2f s)" %
          (100 * own, r.cpu_seconds))
    frac = lk.get("recorded_fraction", 1)
    full = lk.get("full_rate_cpu_percent", 0)
    # (what it is follows the storm's rate period by period: the cost
    # check below is the one that counts)
    check(0 < frac < 1, "lock programs attached part of the time only (%.3f)" % frac)
    lock_s = sum(p["cost_seconds"] for p in gov.get("programs", []) if p["name"].startswith("kiln_lock"))
    lock_pct = 100 * lock_s / summary["duration_s"]
    # a period's duty is set from the last one's rate, and the storm's rate
    # varies: within 1.5x of the budget, and under the full rate
    check(lock_pct <= 1.5 * budget and lock_pct < full,
          "the lock programs cost %.3f%% of a CPU (budget %.3f%%, full rate %.3f%%)" %
          (lock_pct, budget, full))

    est = [t for t in summary["locks"]["top_locks"] if t["lock"] == "mmap_lock"]
    exact = [e for e in summary.get("exact_locks", []) if e["lock"] == "mmap_lock"]
    est_n, est_ns = sum(t["count"] for t in est), sum(t["total_ns"] for t in est)
    ex_n, ex_ns = sum(e["count"] for e in exact), sum(e["total_ns"] for e in exact)
    print("mmap_lock: estimated %d waits %.3f s, exact %d waits %.3f s" %
          (est_n, est_ns / 1e9, ex_n, ex_ns / 1e9))
    check(ex_n > 1000, "the exact counter saw the storm (%d)" % ex_n)
    # not held: while the lock programs are attached, more contentions
    # happen (measured: 1.34x the exact counter's rate while detached), so
    # the count runs 1.2-1.5x high at a duty near 0.5 (a known gap)
    print("count ratio %.3f (not checked: observer effect, docs/offcpu-locks.md)" %
          (est_n / ex_n if ex_n else 0))
    check(ex_ns and abs(est_ns / ex_ns - 1) <= TOL,
          "scaled delay within 15%% of exact (%.3f)" % (est_ns / ex_ns if ex_ns else 0))

    # the comment says the values are estimates
    prof = subprocess.run(["go", "tool", "pprof", "-raw", os.path.join(out, "lock.pb.gz")],
                          capture_output=True, text=True)
    check("scaled up" in prof.stdout and "lock programs attached" in prof.stdout,
          "lock.pb.gz's comment says the values are scaled (%s)" %
          [l for l in prof.stdout.splitlines() if "governor" in l or "attached" in l][:1])
finally:
    shutil.rmtree(out, ignore_errors=True)

# exact mode: never detached
r, out, pid = record_child([fixture("fixture_contend"), "4", "5"],
                           ["-d", "2", "--json", "--locks", "exact", "--bpf-budget", "0.2"],
                           wait=0.3)
shutil.rmtree(out, ignore_errors=True)
gov = load_json(r.stdout, "summary").get("governor", {})
lk = gov.get("locks", {})
check(lk.get("mode") == "exact" and lk.get("engaged") is False and
      lk.get("recorded_fraction") == 1.0, "--locks exact never detaches (%s)" % lk)

def map_types(prog_name):
    progs = json.loads(subprocess.run([BPFTOOL, "prog", "show", "--json"], capture_output=True,
                                      text=True, check=True).stdout)
    for p in progs:
        if p.get("name") == prog_name:
            return sorted(json.loads(subprocess.run(
                [BPFTOOL, "map", "show", "id", str(m), "--json"], capture_output=True, text=True,
                check=True).stdout)["type"] for m in p.get("map_ids", []))
    return None


BPFTOOL = shutil.which("bpftool") or "/usr/sbin/bpftool"
out = tmpdir()
rec = spawn([KILN, "record", "-d", "4", "--lock-exact-check", "-o", out],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    end_maps = wait_for(lambda: map_types("kiln_lock_end"), 10, "kiln_lock_end loaded")
    exact_maps = map_types("kiln_exact_end")
finally:
    stop(rec)
    shutil.rmtree(out, ignore_errors=True)
print("kiln_lock_end maps: %s; kiln_exact_end maps: %s" % (end_maps, exact_maps))
check(end_maps and set(end_maps) <= {"task_storage", "array"},
      "the end program references only task storage and array maps (%s)" % end_maps)
check(exact_maps and "hash" in exact_maps, "while the exact counter uses a hash map (%s)" % exact_maps)

bad = kiln(["record", "--locks", "sometimes", "-d", "1"])
check(bad.returncode == 2 and "invalid --locks" in bad.stderr, "a bad --locks is a usage error")
done()
