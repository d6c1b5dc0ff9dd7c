#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_short_lived: processes that exit before the agent drains keep
their frames named (their mappings are read and their code files opened when
they are first sampled) - also one whose binary exists only inside its own
mount namespace."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
out = tmpdir()
# the fixtures start once kiln says it samples (its start-up takes 1-2 s)
k = start_recording(["-d", "4", "--drain-interval", "60000", "-o", out, "--json"])
pids = []
for _ in range(3):
    c = spawn([fixture("fixture_spin"), "0.4"])
    c.wait(timeout=10)
    pids.append(c.pid)
so, se = k.communicate(timeout=60)
check(k.returncode == 0, "kiln record exits 0 (got %s: %s)" % (k.returncode, se.strip()))
samples = samples_of(os.path.join(out, "cpu.pb.gz"))
mine = [s for s in samples if s["labels"].get("pid") in {str(p) for p in pids}]
total = sum(s["values"][0] for s in mine)
named = sum(s["values"][0] for s in mine if "kiln_fixture_leaf" in s["stack"])
print("short-lived pids %s: %d samples, %d with kiln_fixture_leaf named" % (pids, total, named))
check(total >= 40, "the short-lived processes were sampled (%d)" % total)
check(named >= 0.8 * total, "their frames are named after they exited (%d of %d)" % (named, total))

# a binary that exists only in a mount namespace of its own, gone at drain time
out = tmpdir()
hidden = tmpdir()
# the fixtures start once kiln says it samples (its start-up takes 1-2 s)
k = start_recording(["-d", "4", "--drain-interval", "60000", "-o", out, "--json"])
c = spawn(["unshare", "--mount", "--propagation", "private", "sh", "-c",
           "mount -t tmpfs kiln-test \"$1\" && cp \"$2\" \"$1/kiln_ns_spin\" && "
           "exec \"$1/kiln_ns_spin\" 0.8", "sh", hidden, fixture("fixture_spin")])
c.wait(timeout=10)
so, se = k.communicate(timeout=60)
check(k.returncode == 0, "kiln record exits 0 (got %s: %s)" % (k.returncode, se.strip()))
check(not os.path.exists(os.path.join(hidden, "kiln_ns_spin")), "the binary never existed on the host")
samples = samples_of(os.path.join(out, "cpu.pb.gz"))
mine = [s for s in samples if s["labels"].get("comm") == "kiln_ns_spin"]
total = sum(s["values"][0] for s in mine)
named = sum(s["values"][0] for s in mine if "kiln_fixture_leaf" in s["stack"])
print("namespaced short-lived process: %d samples, %d named" % (total, named))
check(total >= 20, "it was sampled (%d)" % total)
check(named >= 0.8 * total, "its frames are named after it and its namespace are gone "
      "(%d of %d)" % (named, total))
done()
