#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Read a pprof file through `go tool pprof -raw` (which also validates it;
-symbolize=none, so what is shown is what kiln wrote)
and return its samples as dicts: values, labels, and the stack as function
names, leaf first ("0x<address>" where a location has no function; a
location with inlined functions gives one name per function, innermost
first), and, in "lines", the same frames as (function, file, line)."""
import json
import os
import re
import shutil
import subprocess
import sys


def find_go():
    for cand in (os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go",
                 "/usr/lib/go/bin/go"):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise SystemExit("pprof_raw: no go toolchain found (needed for go tool pprof)")


def raw(path):
    env = dict(os.environ, HOME=os.environ.get("HOME", "/tmp"), PPROF_TMPDIR="/tmp")
    out = subprocess.run([find_go(), "tool", "pprof", "-symbolize=none", "-raw", path], capture_output=True,
                         text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise SystemExit("go tool pprof -raw %s failed: %s" % (path, out.stderr.strip()))
    return out.stdout


SAMPLE = re.compile(r"^\s+(-?\d+(?:\s+-?\d+)*):((?:\s+\d+)*)\s*$")
# values may hold one level of brackets themselves (comm:[[irq]])
LABELS = re.compile(r"^\s+(?:[\w.-]+:\[(?:[^\[\]]|\[[^\[\]]*\])*\]\s*)+$")
LABEL = re.compile(r"([\w.-]+):\[((?:[^\[\]]|\[[^\[\]]*\])*)\]")
LOC = re.compile(r"^\s+(\d+): (0x[0-9a-f]+)(?: M=\d+)?\s*(.*)$")
# "<function> <file>:<line>:<column> s=<start line>"; names may hold spaces
LINE = re.compile(r"^(.*) (\S*):-?\d+(?::-?\d+)? s=-?\d+$")


# "1: 0xSTART/0xLIMIT/0xOFFSET FILE [BUILD_ID] [FN]"
MAPPING = re.compile(r"^\d+: (0x[0-9a-f]+)/(0x[0-9a-f]+)/(0x[0-9a-f]+) (\S+)(?: ([0-9a-f]+))?\s*(\[FN\])?\s*$")
FILELINE = re.compile(r"^(.*) (\S*?):(-?\d+)(?::-?\d+)? s=-?\d+$")


def line_of(m):
    """(function, file, line) of a LINE match."""
    full = FILELINE.match(m.group(0))
    return (m.group(1), full.group(2), int(full.group(3))) if full else (m.group(1), "", 0)


def parse(text):
    lines = text.splitlines()
    section, samples, locs, header = None, [], {}, {}
    cur = cur_loc = None
    for line in lines:
        if line == "Samples:":
            section = "samples"
            continue
        if line == "Locations":
            section = "locations"
            continue
        if line == "Mappings":
            section = "mappings"
            continue
        if section is None:
            if ": " in line:
                k, v = line.split(": ", 1)
                header[k] = v
            continue
        if section == "samples":
            m = SAMPLE.match(line)
            if m:
                cur = {"values": [int(v) for v in m.group(1).split()],
                       "locs": [int(x) for x in m.group(2).split()], "labels": {}}
                samples.append(cur)
                continue
            if LABELS.match(line) and cur is not None:
                for k, v in LABEL.findall(line):
                    cur["labels"][k] = v
        elif section == "mappings":
            m = MAPPING.match(line)
            if m:
                header.setdefault("mappings", []).append({
                    "start": int(m.group(1), 16), "limit": int(m.group(2), 16),
                    "offset": int(m.group(3), 16), "file": m.group(4),
                    "build_id": m.group(5) or "", "has_functions": bool(m.group(6))})
        elif section == "locations":
            m = LOC.match(line)
            if m:
                fn = LINE.match(m.group(3).strip())
                cur_loc = int(m.group(1))
                locs[cur_loc] = [line_of(fn) if fn else (m.group(2), "", 0)]
            elif line.strip() and cur_loc is not None:
                # a further line of the same location: the function the one
                # before was inlined into
                fn = LINE.match(line.strip())
                if fn:
                    locs[cur_loc].append(line_of(fn))
    for s in samples:
        frames = [f for i in s.pop("locs") for f in locs.get(i, [("?", "", 0)])]
        s["stack"] = [f[0] for f in frames]
        s["lines"] = frames
    return header, samples


def load(path):
    return parse(raw(path))


if __name__ == "__main__":
    hdr, samples = load(sys.argv[1])
    json.dump({"header": hdr, "samples": samples}, sys.stdout, indent=1)
    print()
