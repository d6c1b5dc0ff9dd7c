#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_alerts: kiln run's spike detector, live, with a 2 s interval.
A quiet host for three minutes (warm-up included) raises no alert. Then the
lock-contention generator (fixture_contend: mmap_lock) raises
KilnLockContention for mmap_lock within one interval, with its kind and a
waiter stack, and it resolves after the generator stops. The busy BPF
program of the flags tests (fixture_hotprog on fixture_syscalls) raises
KilnProbeOverhead naming the program and the process holding it. Each alert
is a JSON line on stderr and an active series in /metrics; the figures'
series are there with bounded labels."""
import calendar
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
from pyroscope import free_port  # noqa: E402

require_root()
INTERVAL = 2
QUIET_S = int(os.environ.get("KILN_ALERT_QUIET_S", "180"))
d = tmpdir()
port = free_port()
err_path = os.path.join(d, "kiln.err")


def scrape():
    return http_get("http://127.0.0.1:%d/metrics" % port) or ""


def metric(text, name, labels=None):
    """The value of series @name whose labels include @labels, or None."""
    for line in text.splitlines():
        m = re.match(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), line)
        if not m:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1) or ""))
        if all(got.get(k) == v for k, v in (labels or {}).items()):
            return float(m.group(2))
    return None


def alerts():
    out = []
    with open(err_path) as f:
        for line in f:
            if line.startswith("{\"time\""):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    check(False, "alert line is JSON: %r" % line)
    return out


# an unreachable server: uploads retry and are counted; alerting does not care
errf = open(err_path, "w")
agent = subprocess.Popen([KILN, "run", "--server", "http://127.0.0.1:%d" % free_port(),
                          "--upload-interval", str(INTERVAL), "--drain-interval", "1000",
                          "--metrics-addr", "127.0.0.1:%d" % port, "-d", str(QUIET_S + 120)],
                         stdout=subprocess.DEVNULL, stderr=errf)
try:
    # quiet: warm-up (floors alone), then the baselines; no alert at all
    wait_for(lambda: metric(scrape(), "kiln_alert_baseline_warm") == 1, 60,
             "the detector warms up (8 intervals)")
    time.sleep(max(0, QUIET_S - 20))
    quiet = [a for a in alerts() if a["status"] == "firing"]
    print("quiet host, %d s: %d alert(s) %s" % (QUIET_S, len(quiet), quiet[:3]))
    check(not quiet, "a quiet host raises no alert in %d s" % QUIET_S)

    # locks: one interval after the generator starts
    t0 = time.time()
    gen = spawn([fixture("fixture_contend"), "4", "8"])
    fired = wait_for(lambda: [a for a in alerts() if a["status"] == "firing" and
                              a["alert"] == "KilnLockContention" and
                              a["labels"].get("lock") == "mmap_lock"], 20,
                     "KilnLockContention for mmap_lock")
    if fired:
        a = fired[0]
        t_fire = calendar.timegm(time.strptime(a["time"], "%Y-%m-%dT%H:%M:%SZ"))
        print("fired %.1f s after the generator started: %s" % (t_fire - t0, a))
        check(t_fire - t0 <= 2 * INTERVAL + 1.5,
              "fired within one interval after the generator started (%.1f s)" % (t_fire - t0))
        check(a["labels"].get("kind", "").startswith("rwsem_"), "the alert names the lock kind")
        check(a["warm"] is True, "fired against a warm baseline")
        check(float(a["annotations"]["value"]) > float(a["annotations"]["threshold"]),
              "value above the bar")
        check(re.search(r"munmap|page_fault|mmap|vma", a["annotations"]["stack"]),
              "the alert carries the waiters' kernel stack: %r" % a["annotations"]["stack"])
        time.sleep(1.5)  # the page follows within a second
        page = scrape()
        check((metric(page, "kiln_lock_wait_seconds_total",
                      {"lock": "mmap_lock", "kind": a["labels"]["kind"]}) or 0) > 0,
              "kiln_lock_wait_seconds_total has mmap_lock")
    stop(gen, signal.SIGTERM)
    gen.wait(timeout=20)
    resolved = wait_for(lambda: [a for a in alerts() if a["status"] == "resolved" and
                                 a["alert"] == "KilnLockContention" and
                                 a["labels"].get("lock") == "mmap_lock"], 20,
                        "KilnLockContention for mmap_lock resolves")
    print("resolved: %s" % (resolved[:1] if resolved else None))

    # a busy BPF program: named with its owner
    work = spawn([fixture("fixture_syscalls"), "30"])
    helper = spawn([fixture("fixture_hotprog"), str(work.pid), "25"], stdout=subprocess.PIPE,
                   text=True)
    line = helper.stdout.readline()
    m = re.match(r"hotprog: attached id=(\d+) pid=(\d+)", line)
    check(m, "helper attached its program: %r" % line)
    probe = wait_for(lambda: [a for a in alerts() if a["status"] == "firing" and
                              a["alert"] == "KilnProbeOverhead" and
                              a["labels"].get("prog_name") == "hot_sys_enter"], 20,
                     "KilnProbeOverhead for hot_sys_enter")
    if probe:
        a = probe[0]
        print("probe overhead: %s" % a)
        check(a["labels"].get("owner_comm") == "fixture_hotprog", "owner named: %s" % a["labels"])
        check(m and ("program id %s" % m.group(1)) in a["annotations"]["detail"] and
              ("owner pid %s" % m.group(2)) in a["annotations"]["detail"],
              "program id and owner pid in the alert: %r" % a["annotations"]["detail"])
        # the leaf is the program itself, by its kallsyms name (a stale
        # kallsyms would name the program loaded just below it)
        frames = a["annotations"]["stack"].split(" <- ")
        progs = [f for f in frames if f.startswith("bpf_prog_")]
        check(progs and all(re.match(r"bpf_prog_[0-9a-f]{16}_hot_sys_enter$", f) for f in progs),
              "its stack names hot_sys_enter and no other program: %r" %
              a["annotations"]["stack"])
        # the page follows within a second
        page = wait_for(lambda: (lambda p: p if metric(p, "kiln_alert_active", {
            "alertname": "KilnProbeOverhead", "prog_name": "hot_sys_enter",
            "owner_comm": "fixture_hotprog"}) == 1 else None)(scrape()), 5,
            "kiln_alert_active shows it") or ""
        check((metric(page, "kiln_bpf_prog_cpu_seconds_total",
                      {"prog_name": "hot_sys_enter", "owner_comm": "fixture_hotprog"}) or 0) > 0,
              "kiln_bpf_prog_cpu_seconds_total names program and owner")
        n = len([l for l in page.splitlines()
                 if l.startswith("kiln_lock_wait_seconds_total{")])
        check(n <= 33, "lock series bounded (top 32 + other): %d" % n)
    stop(helper, signal.SIGTERM)
    stop(work)
finally:
    stop(agent, signal.SIGTERM)
    errf.close()
done()
