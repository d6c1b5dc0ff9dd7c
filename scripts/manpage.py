#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Write kiln(1) from the binary's own --help texts, so the man page never
disagrees with the program: scripts/manpage.py KILN OUT.1"""
import datetime
import os
import subprocess
import sys


def run(kiln, *args):
    r = subprocess.run([kiln] + list(args), capture_output=True, text=True, timeout=30)
    return r.stdout


def roff(text):
    """Preformatted lines, escaped for troff."""
    out = []
    for line in text.rstrip("\n").splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def main():
    kiln, dest = sys.argv[1], sys.argv[2]
    version = (run(kiln, "--version").split() or ["?"])[-1]
    # reproducible: the build's SOURCE_DATE_EPOCH when set
    when = os.environ.get("SOURCE_DATE_EPOCH")
    day = datetime.datetime.fromtimestamp(int(when), datetime.timezone.utc).date() \
        if when else datetime.date.today()
    date = day.strftime("%Y-%m-%d")
    parts = [
        '.TH KILN 1 "%s" "kiln %s" "User Commands"' % (date, version),
        ".SH NAME",
        "kiln \\- continuous profiling agent (eBPF): on-CPU, off-CPU and lock stacks",
        ".SH SYNOPSIS",
        ".B kiln record\n[\\fIOPTIONS\\fR]",
        ".br\n.B kiln run\n\\-\\-server \\fIURL\\fR [\\fIOPTIONS\\fR]",
        ".br\n.B kiln probes\n[\\fIOPTIONS\\fR]",
        ".SH DESCRIPTION",
        ".nf\n" + roff(run(kiln, "--help")) + "\n.fi",
    ]
    for cmd in ("record", "run", "probes"):
        parts += [".SH \"kiln %s\"" % cmd, ".nf\n" + roff(run(kiln, cmd, "--help")) + "\n.fi"]
    parts += [
        ".SH FILES",
        ".TP\n.I /etc/kiln/kiln.conf\nOptions for kiln run (INI: name = value under [run]).",
        ".TP\n.I /var/lib/kiln/spool\nProfiles not yet uploaded (the packaged service's --spool-dir).",
        ".SH \"SEE ALSO\"",
        "The documentation in /usr/share/doc/kiln: install, configuration reference, kernel",
        "requirements and troubleshooting.",
    ]
    with open(dest, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
