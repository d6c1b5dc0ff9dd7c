# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Helpers for kiln's end-to-end tests: run kiln and fixtures with bounded
waits, assert with a message, skip (exit 77) only with a printed reason."""
import atexit
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import pprof_raw  # noqa: E402,F401

KILN = os.environ.get("KILN", "kiln")
FIXTURES = os.environ.get("KILN_FIXTURES", ".")
FAILURES = []


def fixture(name):
    return os.path.join(FIXTURES, name)


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        FAILURES.append(msg)
    return cond


def done():
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        sys.exit(1)
    print("all checks passed")
    sys.exit(0)


def skip(reason):
    print("SKIP: " + reason, flush=True)
    sys.exit(77)


def require_root():
    if os.geteuid() != 0:
        skip("needs root for BPF and perf_event (running as uid %d)" % os.geteuid())


TMPDIRS = []


def tmpdir():
    """A new temporary directory, removed when the test exits however it
    exits (KILN_TEST_KEEP=1 keeps them, and prints where they are)."""
    d = tempfile.mkdtemp(prefix="kiln-test-")
    TMPDIRS.append(d)
    return d


@atexit.register
def _remove_tmpdirs():
    for d in TMPDIRS:
        if os.environ.get("KILN_TEST_KEEP"):
            print("kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)


def spawn(args, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.Popen(args, **kw)


def start_recording(args, timeout=30):
    """Start `kiln record ARGS` (text mode) and return once it says it is
    sampling; raises after @timeout seconds."""
    import select
    k = spawn([KILN, "record"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    seen = ""
    while time.time() < deadline:
        r, _, _ = select.select([k.stderr], [], [], max(0.0, deadline - time.time()))
        if not r:
            break
        line = k.stderr.readline()
        if not line:
            break
        seen += line
        if "kiln: sampling" in line:
            return k
    stop(k)
    raise SystemExit("kiln record did not start: %r" % seen)


def kiln(args, timeout=60, **kw):
    """Run kiln to completion; returns CompletedProcess (text)."""
    return subprocess.run([KILN] + args, capture_output=True, text=True, timeout=timeout, **kw)


def stop(proc, sig=signal.SIGKILL):
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def record_child(child_args, kiln_args, wait=0.3):
    """Start a fixture, let it run @wait seconds, run `kiln record -p` on it
    with @kiln_args into a new directory, then stop the fixture. Returns
    (CompletedProcess with kiln's CPU time in .cpu_seconds, output dir, child
    pid) after checking kiln exited 0."""
    out = tmpdir()
    child = spawn(child_args)
    try:
        settle(wait)
        # kiln is the only child reaped meanwhile: its CPU time, in r.cpu_seconds
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = kiln(["record", "-p", str(child.pid), "-o", out] + kiln_args)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        r.cpu_seconds = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
        check(r.returncode == 0, "kiln record %s exits 0 (got %d: %s)" %
              (" ".join(kiln_args), r.returncode, r.stderr.strip()))
    finally:
        stop(child)
    return r, out, child.pid


def samples_of(pprof_path, pid=None):
    _, samples = pprof_raw.load(pprof_path)
    if pid is None:
        return samples
    return [s for s in samples if s["labels"].get("pid") == str(pid)]


def has_chain(stack, chain):
    """True when the names in chain (root to leaf) appear in stack (leaf first)
    in that order, each directly calling the next."""
    rev = list(reversed(stack))
    for i in range(len(rev) - len(chain) + 1):
        if rev[i:i + len(chain)] == list(chain):
            return True
    return False


def load_json(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        check(False, "%s is JSON (%s): %r" % (what, e, text[:200]))
        return {}


def settle(seconds=0.3):
    time.sleep(seconds)


def http_get(url, timeout=5):
    """The body of GET @url as text, or None when it cannot be had."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read().decode()
    except OSError:
        return None


def wait_for(pred, timeout, what):
    """Poll @pred every 0.5 s for at most @timeout seconds; its first truthy
    result, or None after a failed check naming @what."""
    end = time.time() + timeout
    while time.time() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.5)
    check(False, "within %d s: %s" % (timeout, what))
    return None
