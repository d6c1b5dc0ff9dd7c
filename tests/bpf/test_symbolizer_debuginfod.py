#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_symbolizer_debuginfod: with --debuginfod, a stripped binary whose debug
file exists nowhere locally is named from a real debuginfod server (Debian's
`debuginfod`, indexing a directory) by build-id; with a dead server the
recording still ends in bounded time, frames unnamed, the failure counted.
Server and kiln run in a network namespace of their own (only its loopback):
nothing listens on the host."""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403

require_root()
server = shutil.which("debuginfod")
check(server, "debuginfod is installed (scripts/deps.sh --test installs it)")
if not server:
    done()
DBG = os.path.join(os.environ.get("KILN_FIXTURES", ""), "dbg")
stripped = os.path.join(DBG, "buildid", "fixture_dbgid")
bid = re.search(r"Build ID: ([0-9a-f]+)",
                subprocess.run(["readelf", "-n", stripped], capture_output=True, text=True).stdout)
bid = bid.group(1) if bid else ""
check(bid, "the fixture has a build-id")
work = tmpdir()
srv = os.path.join(work, "srv")
os.makedirs(srv)
shutil.copy(os.path.join(DBG, "buildid.debug"), os.path.join(srv, "fixture_dbgid.debug"))
script = r'''
set -u
ip link set lo up
"$SERVER" -F -p 18002 -d "$WORK/db.sqlite" "$WORK/srv" > "$WORK/server.log" 2>&1 &
D=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:18002/buildid/$BID/debuginfo"; do
  i=$((i+1)); [ $i -gt 100 ] && { echo "server never served the file"; kill $D; exit 3; }
  sleep 0.2
done
"$FIXTURE" 12 & F=$!
sleep 0.5
DEBUGINFOD_URLS=http://127.0.0.1:18002 DEBUGINFOD_CACHE_PATH="$WORK/cache" \
  "$KILN" record -d 2 -F 499 -p $F --json --debuginfod -o "$WORK/good" > "$WORK/good.json"
echo "good rc=$?"
start=$(date +%s)
DEBUGINFOD_URLS=http://127.0.0.1:1 DEBUGINFOD_CACHE_PATH="$WORK/cache2" \
  "$KILN" record -d 2 -F 499 -p $F --json --debuginfod --debuginfod-timeout 2 -o "$WORK/dead" \
  > "$WORK/dead.json"
echo "dead rc=$? seconds=$(( $(date +%s) - start ))"
kill $D $F 2>/dev/null
wait
'''
env = dict(os.environ, SERVER=server, WORK=work, BID=bid, FIXTURE=stripped, KILN=os.path.abspath(KILN))
r = subprocess.run(["unshare", "--net", "sh", "-c", script], capture_output=True, text=True,
                   env=env, timeout=120)
print(r.stdout.strip())
check("good rc=0" in r.stdout, "kiln record --debuginfod exits 0: %s" % r.stderr.strip()[-300:])
m = re.search(r"dead rc=(\d+) seconds=(\d+)", r.stdout)
check(m and m.group(1) == "0", "with a dead server kiln record still exits 0")
check(m and int(m.group(2)) <= 10, "and ends in bounded time (%s s)" % (m.group(2) if m else "?"))

chain = ["main", "kiln_fixture_middle", "kiln_fixture_leaf"]
good = samples_of(os.path.join(work, "good", "cpu.pb.gz"))
total = sum(s["values"][0] for s in good)
named = sum(s["values"][0] for s in good if has_chain(s["stack"], chain))
check(total and named >= 0.9 * total, "named from the server's debug file (%d of %d)" % (named, total))
gj = load_json(open(os.path.join(work, "good.json")).read(), "good --json")
check(gj.get("symbolizer", {}).get("debuginfod_found") == 1, "one file fetched: %s" %
      gj.get("symbolizer", {}).get("debuginfod_found"))
dead = samples_of(os.path.join(work, "dead", "cpu.pb.gz"))
check(not any("kiln_fixture_leaf" in s["stack"] for s in dead), "dead server: frames stay unnamed")
dj = load_json(open(os.path.join(work, "dead.json")).read(), "dead --json")
check(dj.get("symbolizer", {}).get("debuginfod_failed", 0) >= 1, "dead server: failure counted")
done()
