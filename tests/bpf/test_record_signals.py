#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_signals: without -d, SIGINT and SIGTERM end the recording with
exit 0 and every file written and valid; with -p, the recording ends by
itself when the process exits."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
for sig in (signal.SIGINT, signal.SIGTERM):
    out = tmpdir()
    child = spawn([fixture("fixture_spin"), "10"])
    # a second of sampling, however long start-up took on this host
    k = start_recording(["-p", str(child.pid), "-o", out])
    time.sleep(1)
    k.send_signal(sig)
    try:
        so, se = k.communicate(timeout=30)
    finally:
        stop(child)
    name = signal.Signals(sig).name
    check(k.returncode == 0, "%s: exit 0 (got %s: %s)" % (name, k.returncode, se.strip()))
    for f in ("cpu.pb.gz", "cpu.folded", "flamegraph.html"):
        p = os.path.join(out, f)
        check(os.path.exists(p) and os.path.getsize(p) > 0, "%s: %s written" % (name, f))
    check(not [f for f in os.listdir(out) if f.endswith(".tmp")], "%s: no temporary files left" % name)
    n = sum(s["values"][0] for s in samples_of(os.path.join(out, "cpu.pb.gz"), child.pid))
    check(n > 50, "%s: %d samples recorded before the signal" % (name, n))

out = tmpdir()
child = spawn([fixture("fixture_spin"), "2"])
t0 = time.time()
r = kiln(["record", "-p", str(child.pid), "-o", out], timeout=30)
stop(child)
check(r.returncode == 0, "-p of a process that exits: exit 0 (got %d)" % r.returncode)
check(time.time() - t0 < 6, "recording ended when the process exited (%.1f s)" % (time.time() - t0))
check(os.path.getsize(os.path.join(out, "cpu.pb.gz")) > 0, "files written after the process exited")
done()
