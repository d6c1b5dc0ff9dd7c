#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_symbolizer_jit_perf_map: code in an anonymous executable mapping is
named from the process's /tmp/perf-PID.map (the newest entry of a start wins,
a bad line is skipped), on the host and for a process in its own pid and
mount namespaces whose /tmp - and binary - exist only there (read through
/proc/PID/root/tmp/perf-<its namespace pid>.map)."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
NAME = "LazyCompile:*kiln_jit_spin_loop /app/jit.js:1"
jit = fixture("fixture_jit")
probe = subprocess.run([jit, "0"], capture_output=True, text=True)
if probe.returncode == 77:
    skip("the JIT fixture's machine code is x86-64 only: " + probe.stderr.strip())

r, out, pid = record_child([jit, "5"], ["-d", "2", "-F", "499", "--json"], wait=0.5)
try:
    os.unlink("/tmp/perf-%d.map" % pid)
except FileNotFoundError:
    pass
samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
total = sum(s["values"][0] for s in samples)
leaf = sum(s["values"][0] for s in samples if s["stack"] and s["stack"][0] == NAME)
print("host: %d of %d samples in the JIT code's named frame" % (leaf, total))
check(total and leaf >= 0.8 * total, "host: JIT frame named from the perf map (%d of %d)" %
      (leaf, total))
names = set(n for s in samples for n in s["stack"])
check("kiln_jit_old_name" not in names, "the newer entry for the same start wins")
d = load_json(r.stdout, "record --json")

# in its own pid and mount namespaces, with a /tmp of its own
out = tmpdir()
# the binary is read before the mount hides /tmp (the test tree may live there)
# and copied into the private /tmp: it exists only in that namespace too
child = spawn(["unshare", "--pid", "--fork", "--mount", "--propagation", "private", "sh", "-c",
               "exec 3<\"$1\" && mount -t tmpfs kiln-test /tmp && cat <&3 > /tmp/fixture_jit && "
               "chmod +x /tmp/fixture_jit && exec /tmp/fixture_jit 5", "sh", jit])
try:
    settle(0.7)
    r = kiln(["record", "-d", "2", "-F", "499", "-o", out])
    check(r.returncode == 0, "kiln record exits 0 (%s)" % r.stderr.strip()[-200:])
finally:
    stop(child)
samples = [s for s in samples_of(os.path.join(out, "cpu.pb.gz"))
           if s["labels"].get("comm") == "fixture_jit"]
total = sum(s["values"][0] for s in samples)
leaf = sum(s["values"][0] for s in samples if s["stack"] and s["stack"][0] == NAME)
print("namespaced: %d of %d samples named" % (leaf, total))
check(total and leaf >= 0.8 * total, "namespaced: JIT frame named through /proc/PID/root "
      "(%d of %d)" % (leaf, total))
check(not os.path.exists("/tmp/perf-1.map"), "the namespaced map never reached the host's /tmp")
done()
