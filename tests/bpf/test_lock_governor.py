#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_lock_governor: on a lock storm (fixture_contend: 4 threads mapping
and unmapping, contending on their mmap_lock) the cost governor detaches the
lock programs for part of each second to stay under a small budget, says so
(summary JSON, the lock profile's comment), and its scaled estimates stay
within 15% of the exact counts of the same run (--lock-exact-check counts
every contention beside it): mmap_lock's count and total delay. The end
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
r, out, pid = record_child([fixture("fixture_contend"), "4", "9"],
                           ["-d", "6", "--json", "--lock-exact-check", "--bpf-budget", "0.2"],
                           wait=0.5)
try:
    summary = load_json(r.stdout, "summary")
    gov = summary.get("governor", {})
    print("governor: %s" % {k: v for k, v in gov.items() if k != "programs"})
    check(gov.get("engaged") is True, "the governor engaged on the storm")
    frac = gov.get("lock_recorded_fraction", 1)
    check(0 < frac < 0.9, "lock programs attached part of the time only (%.3f)" % frac)
    # the switch program is not detached: the locks get what it leaves of
    # the budget, at least a quarter of it
    share = max(0.2 - gov.get("switch_cpu_percent", 0), 0.05)
    check(gov.get("lock_full_rate_cpu_percent", 0) > share,
          "full-rate lock cost over the locks' share of the budget (%.3f%% > %.3f%%)" %
          (gov.get("lock_full_rate_cpu_percent", 0), share))
    lock_s = sum(p["cost_seconds"] for p in gov.get("programs", []) if p["name"].startswith("kiln_lock"))
    lock_pct = 100 * lock_s / summary["duration_s"]
    # the first 50 ms of a storm run at full rate, and a period's duty is
    # set from the last one's rate: 2x the share, with the full rate above
    check(lock_pct <= 2 * share or lock_pct < gov.get("lock_full_rate_cpu_percent", 0) / 2,
          "the lock programs cost %.3f%% of a CPU (share %.3f%%)" % (lock_pct, share))

    est = [t for t in summary["locks"]["top_locks"] if t["lock"] == "mmap_lock"]
    exact = [e for e in summary.get("exact_locks", []) if e["lock"] == "mmap_lock"]
    est_n, est_ns = sum(t["count"] for t in est), sum(t["total_ns"] for t in est)
    ex_n, ex_ns = sum(e["count"] for e in exact), sum(e["total_ns"] for e in exact)
    print("mmap_lock: estimated %d waits %.3f s, exact %d waits %.3f s" %
          (est_n, est_ns / 1e9, ex_n, ex_ns / 1e9))
    check(ex_n > 1000, "the exact counter saw the storm (%d)" % ex_n)
    check(ex_n and abs(est_n / ex_n - 1) <= TOL,
          "scaled count within 15%% of exact (%.3f)" % (est_n / ex_n if ex_n else 0))
    check(ex_ns and abs(est_ns / ex_ns - 1) <= TOL,
          "scaled delay within 15%% of exact (%.3f)" % (est_ns / ex_ns if ex_ns else 0))

    # the comment says the values are estimates
    prof = subprocess.run(["go", "tool", "pprof", "-raw", os.path.join(out, "lock.pb.gz")],
                          capture_output=True, text=True)
    check("scaled up" in prof.stdout,
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
check(gov.get("locks") == "exact" and gov.get("engaged") is False and
      gov.get("lock_recorded_fraction") == 1.0, "--locks exact never detaches (%s)" %
      {k: gov.get(k) for k in ("locks", "engaged", "lock_recorded_fraction")})

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
