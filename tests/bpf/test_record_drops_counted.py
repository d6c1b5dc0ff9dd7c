#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_drops_counted: undersized maps lose nothing silently.
A stack map of 64 slots makes stacks collide: the samples are kept with a
[kernel stack lost] frame and the collisions are counted. An aggregation map of
64 entries (drained only at the end) overflows: every sample the kernel took
is either in the profile or counted as counts_map_full; the same bound holds
for stacks copied and unwound in user space (unwound_stacks_full). The
frame-pointer path (--unwind fp) exercises the in-kernel maps alone: libc's
syscall wrappers have no frame pointers, so by default most of these samples
are copied and unwound."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
HZ, SECS = 999, 2


def record(extra, json=True):
    r, out, pid = record_child([fixture("fixture_syscalls"), str(SECS + 6)],
                               ["-F", str(HZ), "-d", str(SECS)] + (["--json"] if json else []) + extra)
    return out, pid, load_json(r.stdout, "summary") if json else r.stdout


out, pid, s = record(["--stack-map-size", "64", "--unwind", "fp"])
d = s.get("drops", {})
lost_k = d.get("kernel_stack_collision", 0) + d.get("kernel_stack_failed", 0)
samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
marked = sum(x["values"][0] for x in samples if "[kernel stack lost]" in x["stack"])
print("stack map 64: drops %s, samples %s, marked %d" % (d, s.get("samples"), marked))
check(lost_k > 0, "kernel stack collisions counted (%d)" % lost_k)
check(marked > 0, "samples whose stack was lost are kept and marked (%d)" % marked)
check(d.get("total", 0) >= lost_k, "drops total includes them")
check(abs(s.get("samples", 0) - HZ * SECS) <= 0.2 * HZ * SECS,
      "sample count still %s ~ %d: collisions cost stacks, not samples" % (s.get("samples"), HZ * SECS))

for mode, reason in (("fp", "counts_map_full"), ("dwarf", "unwound_stacks_full")):
    out, pid, s = record(["--count-map-size", "64", "--drain-interval", "60000", "--unwind", mode])
    d = s.get("drops", {})
    full = d.get("counts_map_full", 0) + d.get("unwound_stacks_full", 0)
    print("count map 64, --unwind %s: drops %s, samples %s, kernel_samples %s" %
          (mode, d, s.get("samples"), s.get("kernel_samples")))
    check(d.get(reason, 0) > 0, "%s counted (%d)" % (reason, d.get(reason, 0)))
    check(s.get("samples", 0) + full == s.get("kernel_samples"),
          "profile + counts_map_full + unwound_stacks_full == samples the kernel took "
          "(%s + %s == %s)" % (s.get("samples"), full, s.get("kernel_samples")))
_, _, text = record(["--count-map-size", "64", "--drain-interval", "60000", "--unwind", "fp"],
                    json=False)
check("counts_map_full=" in text, "text summary names the drop reason: %r" %
      [l for l in text.splitlines() if "drops" in l])
done()
