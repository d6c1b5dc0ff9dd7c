#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_whole_host: without -p every process is sampled: a spinning
child is among them with its chain, kiln itself is not, and the text summary
names the flame graph."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
out = tmpdir()
child = spawn([fixture("fixture_spin"), "8"])
try:
    settle()
    r = kiln(["record", "-d", "2", "-o", out])
    check(r.returncode == 0, "kiln record exits 0 (got %d: %s)" % (r.returncode, r.stderr.strip()))
finally:
    stop(child)

check("flame graph: %s/flamegraph.html" % out in r.stdout, "summary names the flame graph")
check("fixture_spin" in r.stdout, "summary lists fixture_spin among top processes")
samples = samples_of(os.path.join(out, "cpu.pb.gz"))
comms = {s["labels"].get("comm") for s in samples}
check("fixture_spin" in comms, "fixture_spin sampled")
check("kiln" not in comms, "kiln does not profile itself (%s)" % sorted(c for c in comms if c))
spin = [s for s in samples if s["labels"].get("pid") == str(child.pid)]
check(any(has_chain(s["stack"], ("main", "kiln_fixture_middle", "kiln_fixture_leaf")) for s in spin),
      "chain found in whole-host recording")
done()
