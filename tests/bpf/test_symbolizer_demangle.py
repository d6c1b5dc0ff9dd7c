#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_symbolizer_demangle: frames of a C++ program with namespaces and
templates come out demangled (kiln_fx::Spinner<int>::spin(int)); so do a Rust
program's where the test build found a rustc. No mangled name is left in
their stacks."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
MANGLED = re.compile(r"^_(Z|R)[A-Za-z0-9_]")

r, out, pid = record_child([fixture("fixture_cxx"), "5"], ["-d", "2", "-F", "499"])
samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
names = [n for s in samples for n in s["stack"]]
check("kiln_fx::Spinner<int>::spin(int)" in names,
      "C++ method of a class template demangled: %s" % sorted(set(names))[:8])
check(not [n for n in names if MANGLED.match(n)], "no mangled C++ name left: %s" %
      [n for n in names if MANGLED.match(n)][:3])
folded = open(os.path.join(out, "cpu.folded")).read()
check("kiln_fx::Spinner<int>::spin(int) " in folded, "folded stacks carry the demangled name")

rust = os.path.join(os.environ.get("KILN_FIXTURES", ""), "fixture_rust")
if not os.path.exists(rust):
    print("note: no rustc when the tests were built: the Rust part is not run")
else:
    r, out, pid = record_child([rust, "5"], ["-d", "2", "-F", "499"])
    samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
    names = [n for s in samples for n in s["stack"]]
    check(any(n.endswith("kiln_rs::Spinner::spin") for n in names),
          "Rust method demangled: %s" % [n for n in set(names) if "kiln_rs" in n][:4])
    check(not [n for n in names if MANGLED.match(n)], "no mangled Rust name left: %s" %
          [n for n in names if MANGLED.match(n)][:3])
done()
