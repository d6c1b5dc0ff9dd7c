#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_config: `kiln run` options from a config file, KILN_* variables
and flags (the command line wins, then the environment, then the file);
--check-config; bad input: a bad config is one error line naming the file
(and line) with exit 2, an unreadable config, credential or TLS file one
line with exit 1; an unreachable server is a warning, retried and counted,
never an exit."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402

require_root()
d = tmpdir()


def write(name, text, mode=0o600):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def run(args, env=None, timeout=60):
    e = dict(os.environ)
    e.pop("KILN_CONFIG", None)
    e.update(env or {})
    return subprocess.run([KILN, "run"] + args, capture_output=True, text=True, timeout=timeout,
                          env=e)


def one_error(r, code, want):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    print("exit %d: %s" % (r.returncode, lines))
    check(r.returncode == code and len(lines) == 1 and re.search(want, lines[0]),
          "exit %d with one line matching %r" % (code, want))


token = write("token", "s3cret-token-value\n")
conf = write("kiln.conf", """# kiln run settings
[run]
server = http://127.0.0.1:4040
upload-interval = 5
label = env=test
label = team=infra
no-locks = true
bearer-token-file = %s
""" % token)

# the file alone, then the environment over it, then a flag over both
r = run(["--config", conf, "--check-config"])
print(r.stdout)
check(r.returncode == 0 and "configuration OK" in r.stdout, "--check-config accepts the file")
check("server: http://127.0.0.1:4040 (push API)" in r.stdout and "label: env=test" in r.stdout
      and "label: team=infra" in r.stdout and "upload interval: 5 s" in r.stdout,
      "values from the file are used")
check("off-CPU" in r.stdout and "locks" not in r.stdout.split("profiles:")[1].split("\n")[0],
      "a flag set to true in the file applies")
check("s3cret" not in r.stdout + r.stderr, "the token is never printed")
r = run(["--config", conf, "--check-config"], env={"KILN_UPLOAD_INTERVAL": "7"})
check("upload interval: 7 s" in r.stdout, "KILN_UPLOAD_INTERVAL overrides the file")
r = run(["--config", conf, "--check-config", "--upload-interval", "9"],
        env={"KILN_UPLOAD_INTERVAL": "7"})
check("upload interval: 9 s" in r.stdout, "the command line overrides the environment")
r = run(["--check-config"], env={"KILN_CONFIG": conf, "KILN_API": "ingest"})
check(r.returncode == 0 and "(ingest API)" in r.stdout, "KILN_CONFIG names the file")

# bad config: exit 2, one line naming where
one_error(run(["--config", write("bad1.conf", "server = http://x\nbogus = 1\n")]), 2,
          r"bad1\.conf:2: unknown option 'bogus'")
one_error(run(["--config", write("bad2.conf", "server = http://x\nupload-interval = soon\n")]),
          2, r"bad2\.conf: invalid --upload-interval 'soon'")
one_error(run(["--config", write("bad3.conf", "[record]\nfreq = 9\n")]), 2,
          r"bad3\.conf:2: unknown section \[record\]")
one_error(run(["--config", write("bad4.conf", "server = http://x\ninsecure = maybe\n")]), 2,
          r"bad4\.conf:2: invalid insecure 'maybe'")
one_error(run(["--server", "http://x"], env={"KILN_FREQ": "fast"}), 2,
          r"KILN_FREQ: invalid frequency 'fast'")
one_error(run(["--server", "ftp://x"]), 2, r"invalid --server 'ftp://x'")
one_error(run(["--upload-interval", "5"]), 2, r"--server URL is required")

# unreadable files: exit 1
one_error(run(["--config", os.path.join(d, "missing.conf")]), 1,
          r"failed to read config file .*missing\.conf")
for flag, what in (("--bearer-token-file", "bearer token"), ("--basic-auth-file", "basic auth"),
                   ("--ca-file", "CA")):
    one_error(run(["--server", "https://127.0.0.1:1", flag, os.path.join(d, "nope")]), 1,
              r"failed to read %s file .*nope" % what)
one_error(run(["--server", "https://127.0.0.1:1", "--cert-file", token, "--key-file",
               os.path.join(d, "nokey")]), 1, r"failed to read client key file")
one_error(run(["--server", "http://x", "--basic-auth-file", write("basic", "no-colon\n")]), 1,
          r"expected 'user:password'")

# an unreachable server: warnings, retries, counted; the agent runs on.
# A spinning child gives every interval samples to upload: an idle host has
# none (kiln's own and idle samples are not profiled), and nothing is sent.
port = pyroscope.free_port()	# nothing listens there
spinner = spawn([fixture("fixture_spin"), "10"])
try:
    r = run(["--server", "http://127.0.0.1:%d" % port, "--upload-interval", "1", "-d", "5",
             "--no-off-cpu", "--no-locks", "--metrics-addr", "off", "--flush-timeout", "1"],
            timeout=90)
finally:
    stop(spinner)
print(r.stderr.strip()[-800:])
check(r.returncode == 0, "an unreachable server is not an error (exit %d)" % r.returncode)
warn = [l for l in r.stderr.splitlines() if "retrying" in l]
check(warn and re.search(r"(?i)connect", warn[0]),
      "a warning says the upload could not connect: %s" % warn[:1])
m = re.search(r"uploads ok (\d+), retried (\d+), refused (\d+); \d+ bytes sent; dropped: "
              r"(\d+) spool full, (\d+) too old, (\d+) unsent at exit", r.stderr)
check(m and int(m.group(1)) == 0 and int(m.group(2)) > 0 and int(m.group(6)) > 0,
      "the retries and the profiles left unsent are counted (%s)" % (m.group(0) if m else None))
done()
