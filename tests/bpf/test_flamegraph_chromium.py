#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_flamegraph_chromium: the flame graph of a recorded child opens in
headless Chromium from a file (offline), draws the child's known function as
a frame, and logs no console messages or errors."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    check(False, "chromium is installed (scripts/deps.sh --test installs it)")
    done()

r, out, pid = record_child([fixture("fixture_spin"), "6"], ["-d", "2"])

page = os.path.join(out, "flamegraph.html")
html = open(page).read()
check(not re.search(r"<(script|link|img)[^>]+(src|href)=\"?https?:", html), "page loads nothing remote")
profile = os.path.join(out, "chromium-profile")
cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--no-first-run", "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
       "--window-size=1280,800", "--virtual-time-budget=5000", "--dump-dom", "file://" + page]
c = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
dom = c.stdout
# the same page opened with a search in its URL marks the matching frames
s = subprocess.run(cmd[:-1] + ["file://" + page + "#search=fixture_.*leaf"], capture_output=True,
                   text=True, timeout=120)
hits = re.findall(r'<div class="f hit"[^>]*title="([^"]*)"', s.stdout)
check(hits == ["kiln_fixture_leaf"], "search marks exactly the matching frame: %s" % hits)
m = re.search(r'<div id="info">match: ([\d,]+) samples \(([\d.]+)%\)</div>', s.stdout)
check(m and float(m.group(2)) > 50, "search reports the share of matching samples: %s" %
      (m.group(0) if m else None))
check(c.returncode == 0, "chromium exits 0 (got %d)" % c.returncode)
check('data-ready="1"' in dom, "page script ran to the end")
check('data-errors="0"' in dom, "no uncaught errors")
frames = re.findall(r'<div class="f[^"]*"[^>]*title="([^"]*)"', dom)
print("frames drawn: %d" % len(frames))
check("kiln_fixture_leaf" in frames, "kiln_fixture_leaf drawn as a frame")
check("kiln_fixture_middle" in frames and "main" in frames, "its callers drawn too")
views = re.findall(r'<span id="views">(.*?)</span>', dom)
buttons = re.findall(r"<button[^>]*>([^<]*)</button>", views[0]) if views else []
check(buttons == ["CPU", "Off-CPU", "Locks"], "views offered: %s" % buttons)
# the off-CPU view opened by link: durations, and the child's frames
o = subprocess.run(cmd[:-1] + ["file://" + page + "#view=offcpu"], capture_output=True, text=True,
                   timeout=120)
meta = re.search(r'<span id="meta">([^<]*)</span>', o.stdout)
check(meta and re.match(r"[\d.]+ (s|ms|us|ns) ", meta.group(1)), "off-CPU view totals a duration: %s" %
      (meta.group(1) if meta else None))
check('title="fixture_spin"' in o.stdout, "off-CPU view draws the child")
console = [l for l in c.stderr.splitlines() + o.stderr.splitlines() if "CONSOLE" in l]
check(not console, "no console messages: %s" % console[:3])
shutil.rmtree(profile, ignore_errors=True)
done()
