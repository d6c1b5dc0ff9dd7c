#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_unwind_no_frame_pointers: stacks of code built without frame pointers
reach main. fixture_nofp (C, -O2 -fomit-frame-pointer) spins in its own
chain, down to functions inlined into kiln_nofp_leaf, and in libc's qsort()
calling back into kiln_nofp_cmp; fixture_nofp_cxx (C++, same flags) spends
its time in libstdc++'s ostream code. With the default --unwind auto at
least 95% of their samples reach main, through libc and libstdc++, with the
inlined frames at their exact lines; with --unwind fp (frame pointers only)
most do not, which is what the copies are for. A program built with frame
pointers (fixture_spin) keeps the in-kernel frame-pointer path: after the
first samples its stacks are no longer copied."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "nofp.c")
marks = {}
for no, text in enumerate(open(SRC), 1):
    for m in ("MIX", "LEAF"):
        if "KILN_LINE_" + m in text:
            marks[m] = no


def record(fx, mode):
    r, out, pid = record_child([fixture(fx), "5"], ["-d", "3", "-F", "499", "--json",
                                                    "--no-off-cpu", "--no-locks",
                                                    "--unwind", mode])
    summary = load_json(r.stdout, "summary")
    return samples_of(os.path.join(out, "cpu.pb.gz"), pid), summary.get("unwind", {})


def share(samples, pred):
    total = sum(s["values"][0] for s in samples)
    return sum(s["values"][0] for s in samples if pred(s)) / total if total else 0.0, total


def reaches_main(s):
    return "main" in s["stack"]


# C without frame pointers, through libc's qsort
samples, unw = record("fixture_nofp", "auto")
frac, total = share(samples, reaches_main)
print("fixture_nofp, auto: %d samples, %.1f%% reach main; %s" % (total, 100 * frac, unw))
check(total > 500 and frac >= 0.95, "at least 95%% of samples reach main (%.1f%%)" % (100 * frac))
check(unw.get("stack_copies", 0) >= 0.9 * total, "its stacks were copied and unwound (%d)" %
      unw.get("stack_copies", 0))
via_qsort = [s for s in samples if s["stack"][:1] == ["kiln_nofp_cmp"]]
qs_frac, qs_total = share(via_qsort, lambda s: reaches_main(s) and any(
    "qsort" in f for f in s["stack"]) and any(f.startswith("msort") for f in s["stack"]))
check(qs_total > 100 and qs_frac >= 0.95,
      "kiln_nofp_cmp <- msort_with_tmp <- qsort (libc) <- main: %.1f%% of %d" %
      (100 * qs_frac, qs_total))
want = [("kiln_nofp_mix", marks["MIX"]), ("kiln_nofp_leaf", marks["LEAF"])]
inl = [s for s in samples if [(f, l) for f, _, l in s["lines"][:2]] == want]
inl_frac, inl_total = share(inl, lambda s: has_chain(s["stack"], ["main", "kiln_nofp_middle",
                                                                 "kiln_nofp_leaf", "kiln_nofp_mix"]))
check(inl_total > 50 and inl_frac >= 0.95,
      "kiln_nofp_mix inlined in kiln_nofp_leaf at nofp.c:%d/%d, under kiln_nofp_middle <- main "
      "(%.1f%% of %d)" % (marks["MIX"], marks["LEAF"], 100 * inl_frac, inl_total))

# the same with frame pointers only: the walk is lost after the leaf
samples, unw = record("fixture_nofp", "fp")
fp_frac, fp_total = share(samples, reaches_main)
print("fixture_nofp, fp: %d samples, %.1f%% reach main" % (fp_total, 100 * fp_frac))
check(fp_total > 500 and fp_frac < 0.5 and unw.get("stack_copies", 1) == 0,
      "frame pointers alone reach main in few samples (%.1f%%), nothing copied" % (100 * fp_frac))

# C++ through libstdc++
samples, unw = record("fixture_nofp_cxx", "auto")
frac, total = share(samples, reaches_main)
print("fixture_nofp_cxx, auto: %d samples, %.1f%% reach main; %s" % (total, 100 * frac, unw))
check(total > 500 and frac >= 0.95, "C++: at least 95%% of samples reach main (%.1f%%)" %
      (100 * frac))
lib = [s for s in samples if any("std::ostream::_M_insert<unsigned long>" in f for f in s["stack"])]
lib_frac, lib_total = share(lib, lambda s: has_chain(s["stack"], [
    "main", "kiln_nofp::run(double)", "kiln_nofp::format_numbers(unsigned long)"]))
check(lib_total > 0.3 * total and lib_frac >= 0.95,
      "libstdc++ frames (std::ostream::_M_insert<unsigned long>, %d samples) sit under "
      "kiln_nofp::format_numbers <- kiln_nofp::run <- main (%.1f%%)" % (lib_total, 100 * lib_frac))

# a frame-pointer program keeps the in-kernel path
samples, unw = record("fixture_spin", "auto")
frac, total = share(samples, lambda s: has_chain(s["stack"], ["main", "kiln_fixture_middle",
                                                              "kiln_fixture_leaf"]))
copies = unw.get("stack_copies", 0)
print("fixture_spin, auto: %d samples, %.1f%% reach main, %d copied" % (total, 100 * frac, copies))
check(total > 500 and frac >= 0.95, "frame-pointer program: main <- middle <- leaf (%.1f%%)" %
      (100 * frac))
check(copies <= 0.2 * total and unw.get("roots_learnt", 0) >= 1,
      "its stacks go through frame pointers once its thread root is known (%d of %d copied, "
      "%d roots)" % (copies, total, unw.get("roots_learnt", 0)))
done()
