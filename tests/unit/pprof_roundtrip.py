#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_pprof_roundtrip: what pprof_writer encodes, `go tool pprof -raw`
reads back exactly: same stacks, same values, same labels, merged duplicates."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import pprof_raw  # noqa: E402

writer = sys.argv[1]
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "rt.pb.gz")
    expected = subprocess.run([writer, out], check=True, capture_output=True,
                              text=True).stdout.split("\n")
    expected = sorted(line for line in expected if line)
    header, samples = pprof_raw.load(out)

got = []
for s in samples:
    labels = " ".join("%s=%s" % kv for kv in sorted(s["labels"].items()))
    got.append("%s|%s|%s" % (" ".join(map(str, s["values"])), labels, ";".join(s["stack"])))
got.sort()

ok = True
if got != expected:
    print("samples differ\nexpected:\n  %s\ngot:\n  %s" % ("\n  ".join(expected), "\n  ".join(got)))
    ok = False
for key, want in (("PeriodType", "cpu nanoseconds"), ("Period", "10101010")):
    if header.get(key) != want:
        print("%s: expected %r, got %r" % (key, want, header.get(key)))
        ok = False
print("round trip %s: %d samples" % ("ok" if ok else "FAILED", len(got)))
sys.exit(0 if ok else 1)
