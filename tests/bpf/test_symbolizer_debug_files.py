#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_symbolizer_debug_files: stripped binaries (no .symtab) are named from
their separate debug files: through .gnu_debuglink beside the binary and in
.debug/ beside it, and by build-id under a --debug-dir laid out as
.build-id/xx/yyyy.debug. A debuglink file of another build is refused
(build-id and CRC differ): its frames stay unnamed. The control: the stripped binary with no debug
file is not named either."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
DBG = os.path.join(os.environ.get("KILN_FIXTURES", ""), "dbg")
CHAIN = ["main", "kiln_fixture_middle", "kiln_fixture_leaf"]


def build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    return m.group(1) if m else None


def record(binary, extra=()):
    r, out, pid = record_child([binary, "5"], ["-d", "2", "-F", "499", "--json"] + list(extra))
    samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
    return load_json(r.stdout, "record --json"), samples


def named(samples):
    return sum(s["values"][0] for s in samples if has_chain(s["stack"], CHAIN))


for name, binary in (("debuglink beside it", "link/fixture_dbglink"),
                     ("debuglink in .debug/", "dotdebug/fixture_dbgdot")):
    d, samples = record(os.path.join(DBG, binary))
    total = sum(s["values"][0] for s in samples)
    check(total and named(samples) >= 0.9 * total, "%s: %d of %d samples name main -> "
          "kiln_fixture_middle -> kiln_fixture_leaf" % (name, named(samples), total))
    check(d.get("symbolizer", {}).get("debug_files_used", 0) >= 1,
          "%s: counted as named from a debug file" % name)

# by build-id, under a directory given with --debug-dir
stripped = os.path.join(DBG, "buildid", "fixture_dbgid")
bid = build_id(stripped)
check(bid and len(bid) > 2, "the fixture has a build-id (%s)" % bid)
root = tmpdir()
os.makedirs(os.path.join(root, ".build-id", bid[:2]))
shutil.copy(os.path.join(DBG, "buildid.debug"), os.path.join(root, ".build-id", bid[:2],
                                                            bid[2:] + ".debug"))
d, samples = record(stripped)
total = sum(s["values"][0] for s in samples)
check(named(samples) == 0, "control: without the debug file the stripped binary is not named")
d, samples = record(stripped, ["--debug-dir", root])
total = sum(s["values"][0] for s in samples)
check(total and named(samples) >= 0.9 * total, "build-id: %d of %d samples named" %
      (named(samples), total))

# a debug file of another build is refused
stale = os.path.join(DBG, "stale", "fixture_dbgstale")
d, samples = record(stale)
names = set(n for s in samples for n in s["stack"])
check(not names & set(CHAIN[1:]), "stale debug file refused: %s" % sorted(names)[:6])
check(d.get("symbolizer", {}).get("debug_files_missing", 0) >= 1, "counted as missing")
done()
