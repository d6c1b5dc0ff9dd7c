#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_drain_exact: draining every 10 ms (hundreds of generation
swaps) neither loses nor double-counts samples: a spinning child at 999 Hz
gets HZ x seconds within 10%, the summary equals the pprof, nothing dropped.
Also checks --per-thread labels."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
HZ, SECS = 999, 3
r, out, pid = record_child([fixture("fixture_spin"), str(SECS + 6)],
                           ["-F", str(HZ), "-d", str(SECS), "--drain-interval", "10",
                            "--per-thread", "--json"])

summary = load_json(r.stdout, "summary")
samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
total = sum(s["values"][0] for s in samples)
expected = HZ * SECS
print("samples: %d (expected %d); summary: %s" % (total, expected, summary.get("samples")))
check(abs(total - expected) <= 0.1 * expected, "count %d within 10%% of %d" % (total, expected))
check(summary.get("samples") == total, "summary equals pprof")
check(summary.get("drops", {}).get("total") == 0, "no drops: %s" % summary.get("drops"))
check(all(s["labels"].get("tid") == str(pid) for s in samples), "tid label = the thread's id")
check(all(s["labels"].get("thread") == "fixture_spin" for s in samples), "thread label = its name")
done()
