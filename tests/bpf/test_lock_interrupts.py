#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_lock_interrupts: lock waits taken by interrupts are not charged to the
task they interrupted. fixture_udpflood's senders deliver loopback datagrams in
the NET_RX softirq, on the interrupt stack, in the middle of sendto(); waking
the reader there contends on runqueue locks. Recording the whole host, those
waits belong to process [irq] (pid 0): kernel frames only, entered through the
softirq, and the fixture's own waits never run through the softirq. Recording
the fixture by name, the interrupt waits are left out and counted."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
COMM = "fixture_udpfloo"	# the kernel keeps 15 characters of fixture_udpflood
ENTRY = ("handle_softirqs", "__do_softirq", "do_softirq", "net_rx_action", "irq_exit_rcu",
         "__irq_exit_rcu", "common_interrupt", "asm_common_interrupt")


def entered_by_interrupt(frames):
    return any(f in ENTRY or f.startswith(("sysvec_", "asm_sysvec_", "__sysvec_")) for f in frames)


def folded(path):
    """(comm, frames root first, value) per line of a .folded file"""
    rows = []
    with open(path) as f:
        for line in f:
            stack, _, value = line.rstrip("\n").rpartition(" ")
            parts = stack.split(";")
            rows.append((parts[0], parts[1:], int(value)))
    return rows


def record(kiln_args):
    out = tmpdir()
    child = spawn([fixture("fixture_udpflood"), "2", "8"])
    try:
        settle(0.5)
        r = kiln(["record", "-o", out, "-d", "2", "--json"] + kiln_args)
        check(r.returncode == 0, "kiln record %s exits 0 (got %d: %s)" %
              (" ".join(kiln_args), r.returncode, r.stderr.strip()))
    finally:
        stop(child)
    return load_json(r.stdout, "summary"), out


# the whole host
summary, out = record([])
samples = samples_of(os.path.join(out, "lock.pb.gz"))
irq = [s for s in samples if s["labels"].get("comm") == "[irq]"]
n_irq = sum(s["values"][0] for s in irq)
print("whole host: %d lock waits, %d in interrupts (%d counted in the summary)" %
      (sum(s["values"][0] for s in samples), n_irq,
       summary.get("wait_stats", {}).get("lock_waits_in_interrupts", -1)))
check(n_irq > 0, "waits in interrupts recorded as process [irq]")
# pid 0: pprof leaves a numeric label of 0 out
check(all(s["labels"].get("pid", "0") == "0" for s in irq), "[irq] waits have pid 0")
rows = folded(os.path.join(out, "lock.folded"))
irq_rows = [r for r in rows if r[0] == "[irq]"]
walked = [r for r in irq_rows if not any(f.startswith("[stack not taken") for f in r[1])]
print("[irq] stacks: %d, e.g. %s" % (len(walked), ";".join(walked[0][1][-8:]) if walked else "-"))
check(walked, "some [irq] waits were long enough for a stack")
check(all(all(f.endswith("_[k]") or f.startswith("[") for f in r[1]) for r in irq_rows),
      "[irq] stacks have kernel frames only")
not_irq = [r for r in walked if not entered_by_interrupt([f[:-4] for f in r[1]])]
check(not not_irq, "every [irq] stack enters through an interrupt or softirq (%d do not, e.g. %s)" %
      (len(not_irq), ";".join(not_irq[0][1][-8:]) + " %d" % not_irq[0][2] if not_irq else "-"))
check(any("__sys_sendto_[k]" in r[1] and "net_rx_action_[k]" in r[1] for r in walked),
      "an [irq] stack is the fixture's loopback delivery (sendto -> net_rx_action)")
own = [r for r in rows if r[0] == COMM]
check(not any("net_rx_action_[k]" in r[1] for r in own),
      "no wait charged to the fixture runs through the softirq")

# the fixture by name: interrupts are not its waits
summary, out = record(["--comm", COMM])
samples = samples_of(os.path.join(out, "lock.pb.gz"))
left_out = summary.get("wait_stats", {}).get("lock_waits_in_interrupts", 0)
print("--comm: %d lock waits recorded, %d in interrupts left out" %
      (sum(s["values"][0] for s in samples), left_out))
check(left_out > 0, "waits in interrupts counted when processes are selected")
check(not any(s["labels"].get("comm") == "[irq]" for s in samples), "and not recorded")
done()
