#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_symbolizer_unnamed_mapping: frames kiln cannot name (a stripped binary
with no debug file anywhere) still go out right for server-side
symbolization: their pprof Mapping has the binary's hex build-id, the exact
memory_start/memory_limit/file_offset of the process's mapping, and
has_functions false; every such location's address lies inside it."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
exe = os.path.realpath(os.path.join(os.environ.get("KILN_FIXTURES", ""), "dbg", "buildid",
                                    "fixture_dbgid"))
bid = re.search(r"Build ID: ([0-9a-f]+)",
                subprocess.run(["readelf", "-n", exe], capture_output=True, text=True).stdout)
bid = bid.group(1) if bid else None
check(bid, "the stripped fixture has a build-id")

out = tmpdir()
child = spawn([exe, "5"])
try:
    settle(0.5)
    maps = []
    for line in open("/proc/%d/maps" % child.pid):
        f = line.split()
        if len(f) >= 6 and f[5] == exe:
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            maps.append((lo, hi, int(f[2], 16), f[1]))
    r = kiln(["record", "-p", str(child.pid), "-d", "2", "-F", "499", "-o", out])
    check(r.returncode == 0, "kiln record exits 0 (%s)" % r.stderr.strip())
finally:
    stop(child)

header, samples = pprof_raw.load(os.path.join(out, "cpu.pb.gz"))
mine = [m for m in header.get("mappings", []) if m["file"].endswith("fixture_dbgid")]
print("process maps: %s" % [(hex(a), hex(b), hex(c), p) for a, b, c, p in maps])
print("pprof mappings: %s" % mine)
check(mine, "the binary has a pprof mapping")
for m in mine:
    check(m["build_id"] == bid, "build-id is the binary's, hex (%s)" % m["build_id"])
    check((m["start"], m["limit"], m["offset"]) in [(a, b, c) for a, b, c, _ in maps],
          "start/limit/offset are the process's mapping exactly")
    check(not m["has_functions"], "has_functions is false")
own = [s for s in samples if s["labels"].get("pid") == str(child.pid)]
total = sum(s["values"][0] for s in own)
leaf_addr = sum(s["values"][0] for s in own if s["stack"] and s["stack"][0].startswith("0x"))
check(total and leaf_addr >= 0.9 * total,
      "its frames are left unnamed, as addresses (%d of %d leaves)" % (leaf_addr, total))
check(not any(n.startswith("kiln_fixture") for s in own for n in s["stack"]),
      "nothing named without symbols")
done()
