#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_record_kernel_frames: a syscall-heavy child shows kernel frames
(entry_SYSCALL_64...) stacked on top of its user frames (main)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
r, out, pid = record_child([fixture("fixture_syscalls"), "8"], ["-d", "2"])

samples = samples_of(os.path.join(out, "cpu.pb.gz"), pid)
total = sum(s["values"][0] for s in samples)


def kernel_over_user(stack):
    entry = [i for i, f in enumerate(stack) if f.startswith("entry_SYSCALL_64")]
    return bool(entry) and "main" in stack and stack.index("main") > entry[0]


k = sum(s["values"][0] for s in samples if kernel_over_user(s["stack"]))
print("samples: %d, with entry_SYSCALL_64 above main: %d" % (total, k))
check(total > 50, "child was sampled (%d samples)" % total)
check(k >= 0.5 * total, "most samples show entry_SYSCALL_64* above main (%d of %d)" % (k, total))
check(any("do_syscall_64" in s["stack"] for s in samples), "do_syscall_64 appears")
done()
