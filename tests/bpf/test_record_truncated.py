#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_truncated: a stack deeper than the 127 stack-map slots keeps its
leaf frames and ends in a [truncated] frame instead of a fake root."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
r, out, pid = record_child([fixture("fixture_deep"), "200", "8"], ["-d", "2"], wait=0.5)

samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
total = sum(s["values"][0] for s in samples)
trunc = [s for s in samples if s["stack"] and s["stack"][-1] == "[truncated]"]
ntrunc = sum(s["values"][0] for s in trunc)
print("samples %d, ending in [truncated] %d" % (total, ntrunc))
check(total > 50, "deep child sampled (%d)" % total)
check(ntrunc >= 0.8 * total, "%d of %d samples end in [truncated]" % (ntrunc, total))
check(all("main" not in s["stack"] for s in trunc), "no truncated stack claims to reach main")
check(all(s["stack"].count("kiln_fixture_recurse") >= 100 for s in trunc),
      "truncated stacks keep their leaf side (>= 100 recursion frames)")
check(any("kiln_fixture_deep_leaf" in s["stack"][:3] for s in trunc), "leaf function kept")
folded = open(os.path.join(out, "cpu.folded")).read()
check("fixture_deep;[truncated];kiln_fixture_recurse" in folded, "folded root side shows [truncated]")
done()
