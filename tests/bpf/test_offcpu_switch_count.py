#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_offcpu_switch_count: two threads pinned to one CPU hand a byte back and
forth ROUNDS times, forcing 2 x ROUNDS context switches; the off-CPU profile
counts that many blocks on their stack (within 5%), whether the stacks were
walked or reused from the per-task cache, and with the cache off too.
Recorded exactly (--offcpu exact: the governor would sample this switch
storm) and whatever the blocks' length (--offcpu-min-us 0: on some hosts of
our kind most of the ping-pong's blocks last under 1 us)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
ROUNDS = 20000

for extra in ([], ["--no-stack-cache"]):
    out = tmpdir()
    child = spawn([fixture("fixture_pingpong"), str(ROUNDS)], stdin=subprocess.PIPE)
    try:
        k = start_recording(["-p", str(child.pid), "-o", out, "-d", "30", "--drain-interval", "200",
                                 "--offcpu", "exact", "--offcpu-min-us", "0"]
                            + extra)
        child.stdin.write(b"go")
        child.stdin.flush()
        child.wait(timeout=60)
        so, se = k.communicate(timeout=30)
        check(k.returncode == 0, "%s: kiln record exits 0 (got %s: %s)" % (extra, k.returncode, se))
    finally:
        stop(child)
        stop(k)
    samples = samples_of(os.path.join(out, "offcpu.pb.gz"), child.pid)
    blocks = sum(s["values"][0] for s in samples if "kiln_fixture_pingpong" in s["stack"])
    print("%s: %d blocks on kiln_fixture_pingpong (expected %d)" % (extra, blocks, 2 * ROUNDS))
    check(abs(blocks - 2 * ROUNDS) <= 0.05 * 2 * ROUNDS,
          "%s: %d blocks within 5%% of %d" % (extra, blocks, 2 * ROUNDS))
done()
