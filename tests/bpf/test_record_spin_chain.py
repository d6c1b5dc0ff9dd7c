#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_spin_chain: a child spinning in leaf <- middle <- main, recorded
with -p, shows that chain in >= 80% of its samples, and its sample count is
HZ x seconds within 20%. Checked through go tool pprof, the folded file and
the JSON summary."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
HZ, SECS = 99, 3
r, out, pid = record_child([fixture("fixture_spin"), str(SECS + 6)],
                           ["-F", str(HZ), "-d", str(SECS), "--json"])

summary = load_json(r.stdout, "summary")
for f in ("cpu.pb.gz", "cpu.folded", "flamegraph.html"):
    check(os.path.getsize(os.path.join(out, f)) > 0, "%s written" % f)

samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
total = sum(s["values"][0] for s in samples)
chain = ("main", "kiln_fixture_middle", "kiln_fixture_leaf")
with_chain = sum(s["values"][0] for s in samples if has_chain(s["stack"], chain))
expected = HZ * SECS
print("samples of pid %d: %d (expected %d), with main>middle>leaf: %d" %
      (pid, total, expected, with_chain))
check(abs(total - expected) <= 0.2 * expected, "sample count %d within 20%% of %d" % (total, expected))
check(total and with_chain >= 0.8 * total, "%d of %d samples contain the chain in order" % (with_chain, total))
check(all(s["labels"].get("comm") == "fixture_spin" for s in samples), "comm label is fixture_spin")
check(all(s["values"][1] == s["values"][0] * (10**9 // HZ) for s in samples),
      "cpu/nanoseconds = samples x period")

folded = open(os.path.join(out, "cpu.folded")).read().splitlines()
check(any(l.startswith("fixture_spin;") and ";main;kiln_fixture_middle;kiln_fixture_leaf " in l
          for l in folded), "folded stacks name comm;...;main;middle;leaf")
check(summary.get("samples") == total, "summary samples %s == pprof samples %d" % (summary.get("samples"), total))
check(summary.get("top_functions", [{}])[0].get("name") == "kiln_fixture_leaf",
      "summary's top function is kiln_fixture_leaf")
check(summary.get("drops", {}).get("total") == 0, "no drops")
done()
