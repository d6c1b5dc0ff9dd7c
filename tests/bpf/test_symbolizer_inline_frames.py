#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_symbolizer_inline_frames: DWARF (libdw) turns one address into the
functions inlined there: kiln_inl_inner inlined into kiln_inl_outer inlined
into kiln_inl_host come out as three frames of one pprof location, each at
its exact file:line (the lines the source marks KILN_LINE_*), and unfold into
three frames in folded stacks."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "inline.c")
marks = {}
for no, text in enumerate(open(SRC), 1):
    for m in ("INNER", "OUTER", "HOST"):
        if "KILN_LINE_" + m in text:
            marks[m] = no
want = [("kiln_inl_inner", marks["INNER"]), ("kiln_inl_outer", marks["OUTER"]),
        ("kiln_inl_host", marks["HOST"])]

r, out, pid = record_child([fixture("fixture_inline"), "5"], ["-d", "2", "-F", "499"])
samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
total = sum(s["values"][0] for s in samples)
exact = 0
for s in samples:
    got = [(f, l) for f, path, l in s["lines"][:3]]
    files_ok = all(path.endswith("tests/data/inline.c") for _, path, _ in s["lines"][:3])
    if got == want and files_ok:
        exact += s["values"][0]
print("%d of %d samples: %s" % (exact, total, " <- ".join("%s:%d" % w for w in want)))
check(total and exact >= 0.8 * total, "inlined frames with exact file:line (%d of %d)" %
      (exact, total))
folded = open(os.path.join(out, "cpu.folded")).read()
check(";kiln_inl_host;kiln_inl_outer;kiln_inl_inner " in folded,
      "folded stacks unfold the inlined functions")
done()
