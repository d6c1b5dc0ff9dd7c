#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_unwind_offcpu_locks: off-CPU and lock stacks of code built without
frame pointers are unwound too. fixture_nofp in "sleep" mode blocks in
usleep() under kiln_nofp_sleeper <- main: its off-CPU time sits on that
whole user stack. fixture_contend_nofp (threads contending on their mmap_lock,
-fomit-frame-pointer) waits on the lock from kiln_fixture_map_churn, run by
threads libc started: its lock delay with a user stack reaches start_thread.
With --unwind fp neither does. Each place is copied once and reused: copies
stay far below the waits."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()


def record(args, mode, profile, wait=0.3):
    r, out, pid = record_child([fixture(args[0])] + args[1:],
                               ["-d", "3", "--json", "--unwind", mode], wait=wait)
    summary = load_json(r.stdout, "summary")
    return samples_of(os.path.join(out, profile), pid), summary


def delay_share(samples, pred, among=lambda s: True):
    pool = [s for s in samples if among(s)]
    total = sum(s["values"][1] for s in pool)
    return (sum(s["values"][1] for s in pool if pred(s)) / total if total else 0.0), total


SLEEP = ["main", "kiln_nofp_sleeper", "usleep"]
for mode in ("auto", "fp"):
    samples, summary = record(["fixture_nofp", "6", "sleep"], mode, "offcpu.pb.gz")
    share, total = delay_share(samples, lambda s: has_chain(s["stack"], SLEEP))
    ws = summary.get("wait_stats", {})
    print("off-CPU, --unwind %s: %.3f s, %.1f%% under main <- kiln_nofp_sleeper <- usleep; "
          "copied %d, reused %d" % (mode, total / 1e9, 100 * share, ws.get("user_stacks_copied", 0),
                                    ws.get("user_stacks_reused", 0)))
    if mode == "auto":
        check(total > 1e9 and share >= 0.95,
              "off-CPU time on the whole user stack: %.1f%% of %.2f s" % (100 * share, total / 1e9))
        check(0 < ws.get("user_stacks_copied", 0) <= 20,
              "one copy per place, not per block (%d copies)" % ws.get("user_stacks_copied", 0))
    else:
        check(total > 1e9 and share < 0.05,
              "frame pointers alone do not get there (%.1f%%)" % (100 * share))

CHURN = "kiln_fixture_map_churn"
for mode in ("auto", "fp"):
    samples, summary = record(["fixture_contend_nofp", "4", "8"], mode, "lock.pb.gz", wait=0.5)
    share, total = delay_share(samples, lambda s: "start_thread" in s["stack"],
                               among=lambda s: CHURN in s["stack"])
    ws = summary.get("wait_stats", {})
    drops = summary.get("drops", {})
    print("locks, --unwind %s: %.1f ms with %s on the stack, %.1f%% of it reaching start_thread; "
          "copied %d, reused %d, evicted %d" % (mode, total / 1e6, CHURN, 100 * share,
                                                ws.get("user_stacks_copied", 0),
                                                ws.get("user_stacks_reused", 0),
                                                drops.get("copied_user_stack_evicted", 0)))
    if mode == "auto":
        check(total > 0 and share >= 0.95,
              "lock waits unwound through the thread: %.1f%% reach start_thread" % (100 * share))
        check(ws.get("user_stacks_copied", 0) < ws.get("lock_waits_recorded", 0) / 10,
              "copies (%d) far fewer than waits (%d)" % (ws.get("user_stacks_copied", 0),
                                                        ws.get("lock_waits_recorded", 0)))
    else:
        check(share < 0.05, "frame pointers alone do not reach start_thread (%.1f%%)" %
              (100 * share))
done()
