#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_symbolizer_go_pclntab: stripped Go binaries (-ldflags='-s -w', no
.symtab) are named from .gopclntab: main.kilnGoLeaf under main.main and
runtime.main, for every Go toolchain the test build found (the machine's and
Debian's), as executables and PIE. Prints which table layouts were covered."""
import glob
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
LAYOUTS = {0xfffffffa: "Go 1.16-1.17", 0xfffffff0: "Go 1.18-1.19", 0xfffffff1: "Go 1.20+"}


def pclntab_magic(path):
    """The magic of the Go function table, read with a minimal ELF64 parser."""
    data = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sh = lambda i: struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    stroff = sh(shstrndx)[4]
    for i in range(shnum):
        name, _, _, _, off, _ = sh(i)
        end = data.index(b"\0", stroff + name)
        sname = data[stroff + name:end]
        magic = struct.unpack_from("<I", data, off)[0] if off + 4 <= len(data) else None
        # PIE links may put the table at the start of a .data.rel.ro section
        if sname == b".gopclntab" or (sname.startswith(b".data.rel.ro") and magic in LAYOUTS):
            return magic
    return None


fixtures = sorted(glob.glob(os.path.join(os.environ.get("KILN_FIXTURES", ""), "go", "fixture_*")))
check(fixtures, "the test build made Go fixtures (a go toolchain is installed)")
covered = set()
for f in fixtures:
    magic = pclntab_magic(f)
    r, out, pid = record_child([f, "5"], ["-d", "2", "-F", "499"], wait=0.5)
    samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
    total = sum(s["values"][0] for s in samples)
    named = sum(s["values"][0] for s in samples
                if has_chain(s["stack"], ["runtime.main", "main.main", "main.kilnGoLeaf"]))
    print("%s: layout %s, %d of %d samples name runtime.main -> main.main -> main.kilnGoLeaf" %
          (os.path.basename(f), LAYOUTS.get(magic, hex(magic or 0)), named, total))
    check(total and named >= 0.8 * total, "%s named from .gopclntab" % os.path.basename(f))
    if named:
        covered.add(LAYOUTS.get(magic, hex(magic or 0)))
print("layouts covered here: %s; not covered: %s" %
      (sorted(covered), sorted(set(LAYOUTS.values()) - covered)))
done()
