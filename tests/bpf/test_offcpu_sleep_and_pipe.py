#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_offcpu_sleep_and_pipe: a child blocked reading a pipe for ~0.5 s and
then sleeping 1.5 s in a known function shows both in offcpu.pb.gz: the sleep
on main > kiln_fixture_sleeper > ... do_nanosleep within 10% of 1.5 s, state
"sleeping"; the pipe wait on kiln_fixture_pipe_reader > ... anon_pipe_read."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
SLEEP_MS = 1500
out = tmpdir()
child = spawn([fixture("fixture_offcpu"), str(SLEEP_MS)], stdin=subprocess.PIPE)
try:
    k = start_recording(["-p", str(child.pid), "-o", out, "-d", "20", "--drain-interval", "200"])
    child.stdin.write(b"a")
    child.stdin.flush()          # now blocked in kiln_fixture_pipe_reader
    t0 = time.monotonic()
    time.sleep(0.5)
    child.stdin.write(b"b")
    child.stdin.flush()          # now sleeping in kiln_fixture_sleeper
    pipe_wait = time.monotonic() - t0
    so, se = k.communicate(timeout=30)
    check(k.returncode == 0, "kiln record exits 0 (got %s: %s)" % (k.returncode, se.strip()))
finally:
    stop(child)
    stop(k)

samples = samples_of(os.path.join(out, "offcpu.pb.gz"), child.pid)
sleeper = [s for s in samples if "kiln_fixture_sleeper" in s["stack"]]
reader = [s for s in samples if "kiln_fixture_pipe_reader" in s["stack"]]
sleep_ns = sum(s["values"][1] for s in sleeper)
pipe_ns = sum(s["values"][1] for s in reader)
print("sleeper: %.3f s in %d blocks; pipe reader: %.3f s (waited %.3f s)" %
      (sleep_ns / 1e9, sum(s["values"][0] for s in sleeper), pipe_ns / 1e9, pipe_wait))
check(abs(sleep_ns - SLEEP_MS * 1e6) <= 0.1 * SLEEP_MS * 1e6,
      "off-CPU on the sleeper's stack %.3f s within 10%% of %.1f s" % (sleep_ns / 1e9, SLEEP_MS / 1e3))
check(all(has_chain(s["stack"], ("main", "kiln_fixture_sleeper")) for s in sleeper) and sleeper,
      "sleep stack: main > kiln_fixture_sleeper")
check(any("do_nanosleep" in s["stack"] or "hrtimer_nanosleep" in s["stack"] for s in sleeper),
      "sleep stack names the kernel's nanosleep path")
check(all(s["labels"].get("state") == "sleeping" for s in sleeper), "state label: sleeping")
check(reader and all(has_chain(s["stack"], ("main", "kiln_fixture_pipe_reader")) for s in reader),
      "pipe stack: main > kiln_fixture_pipe_reader")
check(any(any(f in ("anon_pipe_read", "pipe_read") for f in s["stack"]) for s in reader),
      "pipe stack names the kernel's pipe read")
check(0.8 * pipe_wait * 1e9 <= pipe_ns <= 1.2 * pipe_wait * 1e9 + 50e6,
      "pipe wait %.3f s matches the %.3f s the test waited" % (pipe_ns / 1e9, pipe_wait))
check(all(s["values"][1] > 0 for s in samples), "no zero or negative off-CPU time")
glue = ("bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_")
check(not [f for s in samples for f in s["stack"] if f.startswith(glue)],
      "no frames of kiln's program or the tracepoint glue in the stacks")
check(all(s["stack"][0] == "__schedule" for s in sleeper),
      "the kernel leaf of the sleep is __schedule (got %s)" % sorted({s["stack"][0] for s in sleeper}))
folded = open(os.path.join(out, "offcpu.folded")).read()
check("fixture_offcpu;" in folded and "kiln_fixture_sleeper" in folded, "offcpu.folded written")
done()
