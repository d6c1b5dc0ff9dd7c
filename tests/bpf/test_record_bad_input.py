#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_bad_input: bad flags and values exit 2, runtime problems (no
such PID, unwritable output, missing BTF, no privileges) exit 1; each prints
one clear 'kiln: ...' error line and never crashes."""
import os
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
out = tmpdir()


def expect(args, code, words, what, **kw):
    r = kiln(args, timeout=30, **kw)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = r.returncode == code and len(lines) == 1 and lines[0].startswith("kiln: ") and \
        all(w in lines[0] for w in words)
    check(ok, "%s: exit %d with one line naming %s (got %d: %r)" %
          (what, code, words, r.returncode, r.stderr.strip()))
    check(r.returncode >= 0, "%s: no crash" % what)


expect(["record", "--bogus"], 2, ["unknown option", "--bogus"], "unknown flag")
expect(["record", "-F", "0", "-o", out], 2, ["frequency", "'0'"], "-F 0")
expect(["record", "-F", "20000", "-o", out], 2, ["frequency", "1-10000"], "-F 20000")
expect(["record", "-F", "abc", "-o", out], 2, ["frequency", "'abc'"], "-F abc")
expect(["record", "-F"], 2, ["needs a value"], "-F without value")
expect(["record", "-d", "-5", "-o", out], 2, ["duration"], "negative duration")
expect(["record", "-p", "x1", "-o", out], 2, ["pid", "'x1'"], "non-numeric pid")
expect(["record", "extra"], 2, ["unexpected argument"], "stray argument")
expect(["frobnicate"], 2, ["unknown command", "frobnicate"], "unknown command")
expect(["probes", "--bogus"], 2, ["unknown option", "--bogus"], "probes: unknown flag")
expect(["probes", "extra"], 2, ["unexpected argument"], "probes: stray argument")
expect(["record", "--count-map-size", "1", "-o", out], 2, ["count-map-size"], "tiny map")
expect(["record", "--offcpu-min-us", "abc", "-o", out], 2, ["offcpu-min-us", "'abc'"], "bad --offcpu-min-us")
expect(["record", "--lock-stack-min-us", "-1", "-o", out], 2, ["lock-stack-min-us"], "bad --lock-stack-min-us")

# a pid that does not exist: the largest pid the kernel could hand out, plus one
pid_max = int(open("/proc/sys/kernel/pid_max").read())
expect(["record", "-p", str(pid_max + 1), "-d", "1", "-o", out], 1,
       ["process", str(pid_max + 1)], "no such pid")
expect(["record", "-d", "1", "-o", "/etc/hostname/out"], 1, ["output directory"], "output under a file")
expect(["record", "-d", "1", "-o", out, "--btf", "/nonexistent/vmlinux"], 1,
       ["BTF", "/nonexistent/vmlinux"], "missing BTF")

# unprivileged: a writable output directory, but no capabilities
setpriv = shutil.which("setpriv")
if setpriv:
    os.chmod(out, 0o777)
    os.chmod(os.path.dirname(out), os.stat(os.path.dirname(out)).st_mode | stat.S_IXOTH)
    r = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", os.path.abspath(KILN),
                        "record", "-d", "1", "-o", out], capture_output=True, text=True, timeout=30)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 1 and len(lines) == 1 and lines[0].startswith("kiln: ") and
          ("root" in lines[0] or "CAP_" in lines[0]),
          "unprivileged: exit 1 with one line naming the privilege (got %d: %r)" %
          (r.returncode, r.stderr.strip()))
    r = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", "--bounding-set=-all", os.path.abspath(KILN),
                        "probes"], capture_output=True, text=True, timeout=30)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 1 and len(lines) == 1 and "CAP_SYS_ADMIN" in lines[0],
          "probes unprivileged: exit 1 with one line naming the privilege (got %d: %r)" %
          (r.returncode, r.stderr.strip()))
else:
    check(False, "setpriv (util-linux) is installed")

leftovers = [f for f in os.listdir(out) if not f.startswith(".")]
check(leftovers == [], "failed runs leave no files behind (%s)" % leftovers)
done()
