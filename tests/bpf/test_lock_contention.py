#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_lock_contention: threads mapping and unmapping memory in one process
contend on its mmap_lock: lock.pb.gz has waits for that process with delay > 0,
the lock named mmap_lock with an rwsem kind (also as the `kind` label), the
mmap/munmap system call path below the lock, and no locking-code frames between
the lock and its caller. A CPU-only child produces (almost) no lock waits, and
those only on spinlocks, from interrupts."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
r, out, pid = record_child([fixture("fixture_contend"), "4", "8"], ["-d", "3", "--json"], wait=0.5)
summary = load_json(r.stdout, "summary")
samples = samples_of(os.path.join(out, "lock.pb.gz"), pid)
count = sum(s["values"][0] for s in samples)
delay = sum(s["values"][1] for s in samples)
mmap = [s for s in samples if s["stack"] and s["stack"][0].startswith("[lock mmap_lock rwsem_")]
print("lock waits: %d, delay %.3f ms; on mmap_lock: %d" %
      (count, delay / 1e6, sum(s["values"][0] for s in mmap)))
check(count > 0 and delay > 0, "lock waits recorded with delay > 0")
check(mmap, "waits on mmap_lock (rwsem) recorded")
check(all(s["labels"].get("kind") in ("rwsem_read", "rwsem_write") for s in mmap),
      "kind label matches the rwsem lock")
syscall_path = ("__x64_sys_munmap", "__vm_munmap", "__x64_sys_mmap", "vm_mmap_pgoff")
check(any(any(f in syscall_path for f in s["stack"]) for s in mmap),
      "a waiter stack names the mmap/munmap system call path")
internal = ("rwsem_down_write_slowpath", "rwsem_down_read_slowpath", "down_write", "down_read",
            "down_write_killable", "down_read_killable")
walked = [s for s in mmap if len(s["stack"]) > 1 and not s["stack"][1].startswith("[stack not taken")]
check(walked and all(s["stack"][1] not in internal for s in walked),
      "locking-code frames are skipped: the caller follows the lock (%s)" %
      sorted({s["stack"][1] for s in walked})[:5])
top = summary.get("locks", {}).get("top_locks", [])
check(any(t.get("lock") == "mmap_lock" and t.get("max_ns", 0) > 0 for t in top),
      "summary lists mmap_lock with its maximum wait")

# quiet: a CPU-bound child takes no locks. Interrupts that hit it in user mode
# run on its stack and their spinlock waits (the tick's runqueue and hrtimer
# locks) are charged to it: 0-25 in 2 s here, against thousands for
# fixture_contend, and never a sleeping lock.
r, out, pid = record_child([fixture("fixture_spin"), "6"], ["-d", "2"])
quiet = samples_of(os.path.join(out, "lock.pb.gz"), pid)
nquiet = sum(s["values"][0] for s in quiet)
print("quiet child lock waits: %d (%s)" % (nquiet, sorted({s["labels"].get("kind") for s in quiet})))
check(nquiet * 100 < count, "a CPU-only child has (almost) no lock waits (%d)" % nquiet)
check(all(s["labels"].get("kind") == "spinlock" for s in quiet),
      "a CPU-only child waits on spinlocks only (interrupts), never on a sleeping lock")
done()
