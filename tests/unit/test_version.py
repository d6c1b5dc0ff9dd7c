#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_version: --version prints the version; --version --json adds libbpf,
kernel and the probed features; --help documents record."""
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

r = kiln(["--version"])
check(r.returncode == 0 and r.stdout.startswith("kiln "), "--version: %r" % r.stdout)
r = kiln(["--version", "--json"])
v = load_json(r.stdout, "--version --json")
check(r.returncode == 0, "--version --json exits 0")
check(v.get("version") and v.get("libbpf", "").count(".") == 1, "version and libbpf: %s" % v)
check(v.get("kernel") == platform.release(), "kernel release %s" % v.get("kernel"))
feats = v.get("features", {})
for k in ("btf", "perf_event", "tp_btf", "fentry", "ringbuf", "hw_cycles", "kprobe_pmu",
          "lock_tracepoints", "perf_event_max_sample_rate"):
    check(k in feats, "feature %s reported" % k)
if os.geteuid() == 0:
    check(feats.get("btf") is True and feats.get("perf_event") is True,
          "as root on this kernel, BTF and perf_event programs are available")
r = kiln(["record", "--help"])
check(r.returncode == 0 and "--freq" in r.stdout and "flamegraph.html" in r.stdout, "record --help")
r = kiln([])
check(r.returncode == 2 and "Usage" in r.stderr, "no command: usage on stderr, exit 2")
done()
