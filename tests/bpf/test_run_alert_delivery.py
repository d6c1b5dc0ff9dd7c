#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_alert_delivery: alerts go to Alertmanager from a thread of their
own. A busy BPF program (fixture_hotprog) makes kiln run fire
KilnProbeOverhead; Debian's Alertmanager receives it.

1. Alertmanager answers after 10 s (a proxy on 127.0.0.1 holds each request
   10 s before passing it on): drains and uploads to a real Pyroscope go on
   at their pace meanwhile (kiln_samples_total moves at every 1 s drain,
   never still for over 3 s; an upload lands every 2 s interval), and the
   alert still arrives.
2. Pyroscope does not answer (a port that accepts and never replies): the
   alert reaches Alertmanager within 5 s of kiln logging it."""
import json
import os
import re
import shutil
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402
from pyroscope import free_port  # noqa: E402

DELAY = 10
require_root()
am_bin = shutil.which("prometheus-alertmanager")
if not am_bin:
    skip("Debian's prometheus-alertmanager is not installed (scripts/deps.sh --test installs it)")
try:
    server = pyroscope.Server()
except pyroscope.Unavailable as e:
    skip(str(e))


def slow_proxy(listen, target_port, delay, stop_ev, held):
    """Accept on @listen; read each request whole, hold it @delay s, then
    pass it to 127.0.0.1:@target_port and relay the reply."""
    listen.settimeout(0.2)

    def serve(c):
        try:
            c.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = c.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?i)content-length:\s*(\d+)", head)
            while m and len(body) < int(m.group(1)):
                chunk = c.recv(65536)
                if not chunk:
                    break
                body += chunk
            held.append(time.monotonic())
            if stop_ev.wait(delay):
                return
            head = re.sub(rb"(?i)\r\nconnection:[^\r]*", b"", head) + b"\r\nConnection: close"
            with socket.create_connection(("127.0.0.1", target_port), timeout=10) as up:
                up.sendall(head + b"\r\n\r\n" + body)
                while True:
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    c.sendall(chunk)
        except OSError:
            pass
        finally:
            c.close()

    while not stop_ev.is_set():
        try:
            c, _ = listen.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def blackhole(listen, stop_ev, conns):
    """Accept on @listen and never answer."""
    listen.settimeout(0.2)
    while not stop_ev.is_set():
        try:
            conns.append(listen.accept()[0])
        except socket.timeout:
            continue
        except OSError:
            return


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s, s.getsockname()[1]


def metric(page, pattern):
    m = re.search(pattern + r" (\d+(?:\.\d+)?(?:e[+-]?\d+)?)", page or "")
    return float(m.group(1)) if m else None


def kiln_alert_in_am(am_port, instance):
    body = http_get("http://127.0.0.1:%d/api/v2/alerts" % am_port)
    for a in json.loads(body) if body else []:
        lab = a.get("labels", {})
        if lab.get("alertname") == "KilnProbeOverhead" and lab.get("prog_name") == "hot_sys_enter" \
                and lab.get("instance") == instance:
            return a
    return None


d = tmpdir()
# Alertmanager's own options: checked, one line when wrong, secrets never shown
token = os.path.join(d, "am-token")
with open(token, "w") as f:
    f.write("kiln-am-secret-7731\n")
srv = ["run", "--server", "http://127.0.0.1:1"]
for args, code, want in (
        (["--alertmanager-ca-file", "/etc/hostname"], 2, "need --alertmanager-url"),
        (["--alertmanager-url", "http://127.0.0.1:1", "--alertmanager-timeout", "0"], 2,
         "invalid --alertmanager-timeout"),
        (["--alertmanager-url", "http://127.0.0.1:1", "--alertmanager-bearer-token-file",
          os.path.join(d, "missing")], 1, "failed to read Alertmanager bearer token file")):
    r = kiln(srv + args + ["--check-config"])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    print("%s -> %d %s" % (args, r.returncode, lines))
    check(r.returncode == code and len(lines) == 1 and want in lines[0],
          "%s: exit %d, one line" % (args[0], code))
r = kiln(srv + ["--alertmanager-url", "http://127.0.0.1:1", "--alertmanager-bearer-token-file",
                token, "--check-config"])
print(r.stdout.strip().splitlines()[-3:])
check(r.returncode == 0 and "alertmanager auth: bearer token (file read)" in r.stdout and
      "kiln-am-secret" not in r.stdout + r.stderr, "--check-config names Alertmanager's token, "
      "not its value")

with open(os.path.join(d, "am.yml"), "w") as f:
    f.write("route:\n  receiver: none\n  group_wait: 1s\nreceivers:\n  - name: none\n")
am_port = free_port()
am_log = open(os.path.join(d, "am.log"), "w")
am = spawn([am_bin, "--config.file", os.path.join(d, "am.yml"),
            "--storage.path", os.path.join(d, "am"),
            "--web.listen-address", "127.0.0.1:%d" % am_port,
            "--cluster.listen-address", ""], stdout=am_log, stderr=am_log)
work = spawn([fixture("fixture_syscalls"), "300"])
helper = spawn([fixture("fixture_hotprog"), str(work.pid), "280"], stdout=subprocess.PIPE,
               text=True)
stop_ev = threading.Event()
agent = None
try:
    line = helper.stdout.readline()
    check(re.match(r"hotprog: attached id=\d+ pid=\d+", line), "helper attached: %r" % line)
    check(wait_for(lambda: http_get("http://127.0.0.1:%d/-/ready" % am_port), 30,
                   "Alertmanager is ready"), "Alertmanager up")
    server.start()

    # 1. Alertmanager answers after 10 s
    proxy, proxy_port = listener()
    held = []
    threading.Thread(target=slow_proxy, args=(proxy, am_port, DELAY, stop_ev, held),
                     daemon=True).start()
    kiln_port = free_port()
    err1 = open(os.path.join(d, "kiln1.err"), "w")
    agent = spawn([KILN, "run", "--server", server.url, "--upload-interval", "2",
                   "--drain-interval", "1000", "--metrics-addr", "127.0.0.1:%d" % kiln_port,
                   "--alertmanager-url", "http://127.0.0.1:%d" % proxy_port,
                   "--alertmanager-timeout", "20", "--hostname", "kiln-delivery-1",
                   "-d", "120"],
                  stdout=subprocess.DEVNULL, stderr=err1)
    metrics_url = "http://127.0.0.1:%d/metrics" % kiln_port
    check(wait_for(lambda: held, 60, "kiln's first alert POST reaches the slow proxy"),
          "kiln POSTed an alert to the slow Alertmanager")
    # while that POST is held: watch drains (samples counted) and uploads
    t0 = time.monotonic()
    changes, last, ups = [], None, []
    while time.monotonic() - t0 < DELAY - 1:
        page = http_get(metrics_url, timeout=2)
        s = metric(page, r"kiln_samples_total")
        u = metric(page, r'kiln_uploads_total\{result="ok"\}')
        now = time.monotonic()
        if s is not None and s != last:
            changes.append(now)
            last = s
        if u is not None:
            ups.append(u)
        time.sleep(0.2)
    gaps = [b - a for a, b in zip([t0] + changes, changes + [time.monotonic()])]
    print("while the alert POST was held %.1f s: samples moved %d times, longest still %.1f s; "
          "uploads ok %s -> %s" % (time.monotonic() - t0, len(changes), max(gaps),
                                   ups[0] if ups else None, ups[-1] if ups else None))
    check(max(gaps) <= 3.0, "drains went on (kiln_samples_total never still for over 3 s: %.1f)"
          % max(gaps))
    check(len(ups) >= 2 and ups[-1] - ups[0] >= 3,
          "uploads went on: %s more in %d s" % (ups[-1] - ups[0] if ups else None, DELAY - 1))
    got = wait_for(lambda: kiln_alert_in_am(am_port, "kiln-delivery-1"), 40, "the alert arrives through the proxy")
    check(got is not None, "the alert arrived at Alertmanager after the delay")
    # /metrics is refreshed every second
    ok = wait_for(lambda: metric(http_get(metrics_url), r'kiln_alertmanager_posts_total\{result="ok"\}'),
                  10, "kiln_alertmanager_posts_total{result=\"ok\"} above 0")
    print("kiln_alertmanager_posts_total ok: %s" % ok)
    check(ok is not None and ok >= 1, "kiln counts the delivered POST (%s)" % ok)
    stop(agent, signal.SIGTERM)
    agent = None
    err1.close()
    server.stop()

    # 2. Pyroscope does not answer
    hole, hole_port = listener()
    conns = []
    threading.Thread(target=blackhole, args=(hole, stop_ev, conns), daemon=True).start()
    err2 = os.path.join(d, "kiln2.err")
    with open(err2, "w") as e2:
        agent = spawn([KILN, "run", "--server", "http://127.0.0.1:%d" % hole_port,
                       "--upload-interval", "2", "--drain-interval", "1000",
                       "--upload-timeout", "60", "--metrics-addr", "off",
                       "--hostname", "kiln-delivery-2",
                       "--alertmanager-url", "http://127.0.0.1:%d" % am_port, "-d", "120"],
                      stdout=subprocess.DEVNULL, stderr=e2)

        def fired_at():
            for l in open(err2, errors="replace"):
                if '"alert":"KilnProbeOverhead"' in l and '"status":"firing"' in l:
                    return time.monotonic()
            return None

        t_fire = wait_for(fired_at, 60, "kiln logs KilnProbeOverhead firing")
        check(t_fire is not None, "the second run fired KilnProbeOverhead")
        t_am = wait_for(lambda: kiln_alert_in_am(am_port, "kiln-delivery-2") and time.monotonic(),
                        30, "the second run's alert at Alertmanager")
        print("Pyroscope silent (%d upload connections held): alert at Alertmanager %.1f s after "
              "kiln logged it" % (len(conns), (t_am - t_fire) if t_am and t_fire else -1))
        check(conns, "kiln was trying to upload to the silent server")
        check(t_am and t_fire and t_am - t_fire <= 5,
              "the alert reached Alertmanager within 5 s of firing")
finally:
    stop_ev.set()
    if agent:
        stop(agent, signal.SIGTERM)
    server.close()
    stop(helper, signal.SIGTERM)
    stop(work)
    stop(am, signal.SIGTERM)
    am_log.close()
done()
