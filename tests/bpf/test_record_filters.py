#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_filters: --cgroup and --comm select what is recorded, in the
kernel (everything else is counted as filtered, not sampled).

Two spinners run: fixture_spin inside a fresh cgroup v2 directory, and
fixture_deep outside it. --cgroup records only the first (and, as a cgroup
filter includes descendants, a child cgroup works too); --comm fixture_deep
only the second; both together nothing but what matches both. Bad values
are one error line and exit 2."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()


def cgroup2_root():
    """Where cgroup v2 is mounted: /sys/fs/cgroup, or .../unified on hybrid hosts."""
    with open("/proc/self/mounts") as f:
        mounts = [l.split() for l in f]
    for m in mounts:
        if m[2] == "cgroup2" and m[1] in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            return m[1]
    return None


def pids_in(out):
    return {s["labels"].get("pid") for s in samples_of(os.path.join(out, "cpu.pb.gz"))}


root = cgroup2_root()
if not root:
    skip("no cgroup v2 hierarchy mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified")
name = "kiln-test-%d" % os.getpid()
cg = os.path.join(root, name)
sub = os.path.join(cg, "inner")
os.makedirs(sub)
inside = outside = None
try:
    inside = spawn([fixture("fixture_spin"), "30"])
    outside = spawn([fixture("fixture_deep"), "50", "30"])
    with open(os.path.join(sub, "cgroup.procs"), "w") as f:
        f.write(str(inside.pid))
    settle(0.3)

    # --cgroup NAME (relative) selects the directory and everything below it
    out = tmpdir()
    r = kiln(["record", "--cgroup", name, "-d", "2", "-o", out, "--no-off-cpu", "--no-locks",
              "--json"])
    check(r.returncode == 0, "record --cgroup exits 0 (%s)" % r.stderr.strip()[-300:])
    got = pids_in(out)
    print("--cgroup %s: pids %s (inside %d, outside %d)" % (name, sorted(got), inside.pid,
                                                              outside.pid))
    check(got == {str(inside.pid)}, "only the task in the cgroup (a child cgroup) is sampled")
    summary = load_json(r.stdout.strip().splitlines()[-1], "summary")
    filtered = summary.get("filtered_samples", 0)
    print("samples filtered in the kernel: %s" % filtered)
    check(filtered > 0, "the rest is counted as filtered")
    spin = samples_of(os.path.join(out, "cpu.pb.gz"), inside.pid)
    check(any(has_chain(s["stack"], ("main", "kiln_fixture_middle", "kiln_fixture_leaf"))
              for s in spin), "with its known functions")

    # --cgroup ABSOLUTE works the same
    out = tmpdir()
    r = kiln(["record", "--cgroup", sub, "-d", "1", "-o", out, "--no-off-cpu", "--no-locks"])
    check(r.returncode == 0 and pids_in(out) == {str(inside.pid)}, "an absolute path too")

    # --comm
    out = tmpdir()
    r = kiln(["record", "--comm", "fixture_deep", "-d", "2", "-o", out, "--no-off-cpu",
              "--no-locks"])
    got = pids_in(out)
    print("--comm fixture_deep: pids %s" % sorted(got))
    check(r.returncode == 0 and got == {str(outside.pid)}, "--comm selects by process name")

    # both kinds: a task must match each
    out = tmpdir()
    r = kiln(["record", "--comm", "fixture_deep", "--comm", "fixture_spin", "--cgroup", name,
              "-d", "1", "-o", out, "--no-off-cpu", "--no-locks"])
    check(r.returncode == 0 and pids_in(out) == {str(inside.pid)},
          "--comm and --cgroup together narrow to their intersection")

    # off-CPU is filtered the same way
    out = tmpdir()
    r = kiln(["record", "--comm", "fixture_spin", "-d", "1", "-o", out])
    offcpu = samples_of(os.path.join(out, "offcpu.pb.gz")) if os.path.exists(
        os.path.join(out, "offcpu.pb.gz")) else []
    others = {s["labels"].get("comm") for s in offcpu} - {"fixture_spin"}
    check(r.returncode == 0 and not others, "off-CPU of other processes is not recorded (%s)" %
          sorted(c for c in others if c)[:5])
finally:
    for p in (inside, outside):
        if p:
            stop(p)
    for d in (sub, cg):
        try:
            os.rmdir(d)
        except OSError as e:
            print("could not remove %s: %s" % (d, e))

# bad values: one line, exit 2
for args, want in ((["--cgroup", "/sys/fs/cgroup/no-such-kiln-cgroup"], "no such cgroup v2"),
                   (["--cgroup", "/proc"], "not a cgroup v2 directory"),
                   (["--comm", "a-name-longer-than-15"], "invalid --comm")):
    r = kiln(["record", "-d", "1"] + args)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    print("%s -> %d %s" % (args, r.returncode, lines))
    check(r.returncode == 2 and len(lines) == 1 and want in lines[0], "%s: exit 2, one line" % args)
done()
