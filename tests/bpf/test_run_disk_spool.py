#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_disk_spool: `kiln run --spool-dir` keeps what it could not send
in files, and the next start sends them.

1. The server is not up: an agent profiles a child for a few intervals and
   exits; its profiles wait in the directory (one file each), none dropped.
2. A damaged file is put beside them.
3. The server (a real Pyroscope) starts; a second agent resumes the
   directory: the damaged file is removed and counted, every spooled profile
   is sent, the directory ends empty, and the server holds exactly what both
   agents queued.
4. A full disk (a 64 KiB tmpfs, filled): one warning, the profiles wait in
   memory instead (counted), the agent runs on."""
import glob
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402

require_root()
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


def agent(url, spool, pid, seconds, extra=()):
    r = subprocess.run([KILN, "run", "--server", url, "--spool-dir", spool, "--upload-interval",
                        "1", "-d", str(seconds), "-p", str(pid), "--no-off-cpu", "--no-locks",
                        "--app-name", "kiln-spool", "--metrics-addr", "off",
                        "--flush-timeout", "5"] + list(extra),
                       capture_output=True, text=True, timeout=120)
    print(r.stderr.strip()[-900:])
    m = re.search(r"queued process_cpu \d+ samples / (\d+) nanoseconds", r.stderr)
    return r, int(m.group(1)) if m else 0


try:
    server = pyroscope.Server()
except pyroscope.Unavailable as e:
    skip(str(e))
spool = os.path.join(tmpdir(), "spool")
spin = spawn([fixture("fixture_spin"), "120"], stdout=subprocess.DEVNULL)
try:
    settle(0.3)
    start_ms = int(time.time() * 1000) - 1000
    # 1: nobody listens at the server's address yet
    r, q1 = agent(server.url, spool, spin.pid, 5)
    files = glob.glob(os.path.join(spool, "*.kspool"))
    check(r.returncode == 0, "the first agent exits 0 with the server down")
    m = re.search(r"(\d+) kept for the next start", r.stderr)
    print("%d files spooled, %d ns queued" % (len(files), q1))
    check(files and m and int(m.group(1)) == len(files), "every unsent profile is a file")
    check(re.search(r"dropped: 0 spool full, 0 too old, 0 unsent at exit", r.stderr),
          "nothing dropped")

    # the previous format (KILNSPL1: no labels after the service name) is
    # still read: one file rewritten in it, as builds before the
    # Kubernetes labels wrote it (header 168 bytes; now 448 of labels follow)
    v2 = open(files[0], "rb").read()
    check(v2[:8] == b"KILNSPL2", "files are written in the current format")
    with open(files[0], "wb") as f:
        f.write(b"KILNSPL1" + v2[8:168] + v2[168 + 448:])

    # 2: a damaged file
    with open(os.path.join(spool, "00000000000000000001-00000001.kspool"), "wb") as f:
        f.write(b"KILNSPL1 but cut short")

    # 3: the server is up; the next agent sends the directory
    server.start()
    r, q2 = agent(server.url, spool, spin.pid, 4)
    check(r.returncode == 0, "the second agent exits 0")
    m = re.search(r"resuming (\d+) profiles .* earlier run; damaged files removed", r.stderr)
    check(m and int(m.group(1)) == len(files),
          "it resumes every spooled profile, one in the previous format, and removes the "
          "damaged file")
    check(re.search(r"(\d+) unreadable", r.stderr) and
          re.search(r"(\d+) unreadable", r.stderr).group(1) == "1", "the damaged file is counted")
    left = glob.glob(os.path.join(spool, "*"))
    check(not left, "the directory ends empty (%s)" % left[:3])
    time.sleep(1.0)
    end_ms = int(time.time() * 1000) + 1000
    _, totals, total = server.flamegraph(CPU, '{service_name="kiln-spool"}', start_ms, end_ms)
    print("queued %d + %d ns, the server holds %d ns" % (q1, q2, total))
    check(q1 > 0 and total == q1 + q2, "the server holds what both agents queued")
    check("kiln_fixture_leaf" in totals, "with the child's function")
finally:
    stop(spin)
    server.close()

# 4: a full disk
full = tmpdir()
mnt = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "kiln-test", full],
                     capture_output=True, text=True)
if mnt.returncode != 0:
    print("full-disk part not run: cannot mount a tmpfs here: %s" % mnt.stderr.strip())
else:
    spin = spawn([fixture("fixture_spin"), "30"], stdout=subprocess.DEVNULL)
    try:
        os.makedirs(os.path.join(full, "spool"))
        with open(os.path.join(full, "filler"), "wb") as f:
            try:
                f.write(b"x" * (1 << 20))
            except OSError:
                pass	# the disk is full now
        r, q = agent("http://127.0.0.1:%d" % pyroscope.free_port(), os.path.join(full, "spool"),
                     spin.pid, 4)
        warn = [l for l in r.stderr.splitlines() if "cannot write to the spool directory" in l]
        check(r.returncode == 0, "a full disk is not an exit")
        check(len(warn) == 1 and "No space left" in warn[0], "one warning says so: %s" % warn)
        m = re.search(r"(\d+) written to memory instead", r.stderr)
        check(m and int(m.group(1)) > 0, "the profiles that could not be written are counted")
    finally:
        stop(spin)
        subprocess.run(["umount", full])
done()
