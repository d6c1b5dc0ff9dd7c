#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_config_doc: docs/config.md is what scripts/configdoc.py writes from
the built kiln's --help texts, so every option of `kiln run` and
`kiln record` is in the reference and the reference names no option kiln
lacks; and the packaged default config passes `kiln run --check-config`."""
import difflib
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
KILN = os.environ["KILN"]
bad = 0

want = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "configdoc.py"), KILN],
                      capture_output=True, text=True, timeout=60).stdout
have = open(os.path.join(ROOT, "docs", "config.md")).read()
if want != have:
    bad += 1
    print("FAIL docs/config.md differs from `kiln --help` (run: scripts/configdoc.py build/kiln "
          "> docs/config.md):")
    sys.stdout.writelines(list(difflib.unified_diff(have.splitlines(True), want.splitlines(True),
                                                    "docs/config.md", "from --help"))[:40])
else:
    print("ok   docs/config.md matches the --help texts (%d options)" %
          sum(1 for l in have.splitlines() if l.startswith("| `")))

r = subprocess.run([KILN, "run", "--check-config", "--config",
                    os.path.join(ROOT, "deploy", "kiln.conf")],
                   capture_output=True, text=True, timeout=60,
                   env={k: v for k, v in os.environ.items() if not k.startswith("KILN_")})
print(("ok   " if r.returncode == 0 else "FAIL ") +
      "deploy/kiln.conf passes --check-config (%d: %s)" %
      (r.returncode, (r.stdout + r.stderr).strip().splitlines()[-1:]))
bad += r.returncode != 0
sys.exit(1 if bad else 0)
