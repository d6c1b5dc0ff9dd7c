#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_full_disk: output on a full filesystem: exit 1 with one error
line naming the file and ENOSPC, and no partial file left behind."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
mnt = tmpdir()
m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "kiln-test", mnt], capture_output=True,
                   text=True)
if m.returncode != 0:
    skip("cannot mount a small tmpfs here: %s" % m.stderr.strip())
try:
    # first a few KiB left: enough for some files, not for a flame graph; then none
    for what, blocks in (("nearly full", 15), ("full", 64)):
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(mnt, "fill"), "bs=4k",
                        "count=%d" % blocks], capture_output=True)
        out = os.path.join(mnt, "out-" + what.replace(" ", "-"))
        r = kiln(["record", "-d", "1", "-o", out])
        lines = [l for l in r.stderr.splitlines() if l.startswith("kiln: ") and "sampling" not in l]
        print(r.stderr)
        check(r.returncode == 1, "%s: exit 1 (got %d)" % (what, r.returncode))
        check(len(lines) == 1 and "No space left on device" in lines[0] and "failed to write" in lines[0],
              "%s: one error line naming ENOSPC: %r" % (what, lines))
        left = os.listdir(out) if os.path.isdir(out) else []
        check(not [f for f in left if f.endswith(".tmp")], "%s: no temporary files left (%s)" % (what, left))
        for f in left:
            check(bool(lines) and f in lines[0], "%s: %s is named as written in the error line" % (what, f))
        if not left:
            check(bool(lines) and "no file written" in lines[0], "%s: says no file was written" % what)
finally:
    subprocess.run(["umount", mnt])
    os.rmdir(mnt)
done()
