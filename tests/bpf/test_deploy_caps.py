#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_deploy_caps: kiln as user nobody with exactly the capabilities
deploy/systemd/kiln.service grants (setpriv: inheritable, ambient and
bounding sets) records a correct profile of a root process: fixture_spin's
main > kiln_fixture_middle > kiln_fixture_leaf, and fixture_syscalls'
kernel frames named. With
CAP_BPF, CAP_PERFMON or CAP_SYSLOG taken away it exits 1 with one error
line naming the capability (CAP_SYSLOG matters here because this kernel's
perf_event_paranoid or kptr_restrict hides kallsyms without it); without
CAP_SYS_PTRACE it still records and warns that other users' frames stay
unnamed."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
SETPRIV = shutil.which("setpriv")
if not SETPRIV:
    skip("setpriv (util-linux) not installed")
UNIT = os.path.join(os.path.dirname(__file__), "..", "..", "deploy", "systemd", "kiln.service")
NOBODY = 65534


def unit_caps():
    for line in open(UNIT):
        if line.startswith("AmbientCapabilities="):
            return [c.strip() for c in line.split("=", 1)[1].split()]
    return []


CAPS = unit_caps()
check(set(CAPS) >= {"CAP_BPF", "CAP_PERFMON", "CAP_SYSLOG"},
      "the unit grants CAP_BPF, CAP_PERFMON, CAP_SYSLOG (%s)" % " ".join(CAPS))

# nobody must reach the binaries: copy them out of the (possibly private)
# build tree into a directory everyone can traverse
base = tempfile.mkdtemp(prefix="kiln-caps-")
os.chmod(base, 0o755)
kiln_bin = os.path.join(base, "kiln")
spin_bin = os.path.join(base, "fixture_spin")
sys_bin = os.path.join(base, "fixture_syscalls")
shutil.copy2(KILN, kiln_bin)
shutil.copy2(fixture("fixture_spin"), spin_bin)
shutil.copy2(fixture("fixture_syscalls"), sys_bin)
for p in (kiln_bin, spin_bin, sys_bin):
    os.chmod(p, 0o755)


def as_nobody(caps, args):
    """Run kiln as nobody with exactly @caps; returns (CompletedProcess, out dir)."""
    out = os.path.join(base, "out-%d" % len(os.listdir(base)))
    os.mkdir(out)
    os.chown(out, NOBODY, NOBODY)
    names = ",".join("+" + c[4:].lower() for c in caps)
    capset = "-all" + ("," + names if names else "")
    cmd = [SETPRIV, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
           "--inh-caps", capset, "--ambient-caps", capset, "--bounding-set", capset,
           kiln_bin] + args + ["-o", out]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60), out


child = spawn([spin_bin, "20"])
sysc = spawn([sys_bin, "20"])
try:
    settle(0.3)
    rec = ["record", "-p", str(child.pid), "-p", str(sysc.pid), "-F", "99", "-d", "2",
           "--no-off-cpu", "--no-locks"]

    r, out = as_nobody(CAPS, rec)
    check(r.returncode == 0, "nobody + the unit's capabilities: kiln record exits 0 (%d: %s)" %
          (r.returncode, r.stderr.strip()[-400:]))
    check(not re.search(r"missing capability|no CAP_", r.stderr),
          "no capability complaint with the unit's set (%s)" % r.stderr.strip()[:300])
    if r.returncode == 0:
        samples = samples_of(os.path.join(out, "cpu.pb.gz"), child.pid)
        total = sum(s["values"][0] for s in samples)
        chain = ("main", "kiln_fixture_middle", "kiln_fixture_leaf")
        good = sum(s["values"][0] for s in samples if has_chain(s["stack"], chain))
        print("as nobody: %d samples of pid %d, %d with main>middle>leaf" %
              (total, child.pid, good))
        check(total >= 99, "samples recorded (%d; 198 at full speed, half is the floor)" % total)
        check(total and good >= 0.8 * total, "%d of %d samples name main > "
              "kiln_fixture_middle > kiln_fixture_leaf" % (good, total))
        ks = samples_of(os.path.join(out, "cpu.pb.gz"), sysc.pid)
        named = sum(s["values"][0] for s in ks
                    if any(f.startswith("entry_SYSCALL_64") for f in s["stack"]))
        check(named > 0, "kernel frames named: %d of fixture_syscalls' %d samples under "
              "entry_SYSCALL_64" % (named, sum(s["values"][0] for s in ks)))

    for missing in ("CAP_BPF", "CAP_PERFMON", "CAP_SYSLOG"):
        r, _ = as_nobody([c for c in CAPS if c != missing], rec)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        print("without %s: exit %d, stderr %r" % (missing, r.returncode, lines))
        check(r.returncode == 1, "without %s: exit 1 (%d)" % (missing, r.returncode))
        check(len(lines) == 1 and missing in lines[0],
              "without %s: one line naming it (%r)" % (missing, lines))

    r, out = as_nobody([c for c in CAPS if c != "CAP_SYS_PTRACE"], rec)
    print("without CAP_SYS_PTRACE: exit %d, stderr %r" % (r.returncode, r.stderr.strip()[:400]))
    check(r.returncode == 0, "without CAP_SYS_PTRACE: still records (%d)" % r.returncode)
    check("CAP_SYS_PTRACE" in r.stderr, "without CAP_SYS_PTRACE: a warning names it")
finally:
    stop(child)
    stop(sysc)
    shutil.rmtree(base, ignore_errors=True)
done()
