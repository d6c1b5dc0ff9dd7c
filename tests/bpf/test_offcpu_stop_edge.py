#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_offcpu_stop_edge: a block that ended while kiln ran is counted even when
its task is still on the CPU when kiln stops. kiln ends a block when the task
leaves its CPU again (from the time the kernel noted it got the CPU), so here
the child sleeps 0.5 s in kiln_fixture_sleeper, then spins as SCHED_FIFO on
CPU 0 - nothing switches it out - and kiln is stopped during the spin: the
sleep must still be in offcpu.pb.gz, within 10%, from the flush at stop."""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
if not shutil.which("chrt"):
    skip("chrt (util-linux) is not installed")
SLEEP_MS = 500
out = tmpdir()
child = spawn(["chrt", "-f", "10", "taskset", "-c", "0", fixture("fixture_offcpu"), str(SLEEP_MS),
               "spin"], stdin=subprocess.PIPE)
try:
    k = start_recording(["-p", str(child.pid), "-o", out, "-d", "20", "--json"])
    child.stdin.write(b"ab")     # past the pipe read: straight into the sleep
    child.stdin.flush()
    time.sleep(SLEEP_MS / 1e3 + 0.3)   # the sleep is over, the spin runs
    check(child.poll() is None, "the child still spins when kiln is stopped")
    k.send_signal(signal.SIGINT)
    so, se = k.communicate(timeout=30)
    check(k.returncode == 0, "kiln record exits 0 (got %s: %s)" % (k.returncode, se.strip()))
finally:
    stop(child)
    stop(k)

summary = load_json(so, "kiln record --json")
samples = samples_of(os.path.join(out, "offcpu.pb.gz"), child.pid)
sleep_ns = sum(s["values"][1] for s in samples if "kiln_fixture_sleeper" in s["stack"])
print("sleeper: %.3f s; wait stats: %s" % (sleep_ns / 1e9, summary.get("wait_stats")))
check(abs(sleep_ns - SLEEP_MS * 1e6) <= 0.1 * SLEEP_MS * 1e6,
      "the sleep ended before stop is recorded: %.3f s within 10%% of %.1f s"
      % (sleep_ns / 1e9, SLEEP_MS / 1e3))
done()
