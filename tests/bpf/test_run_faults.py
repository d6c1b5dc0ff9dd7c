#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_faults: `kiln run` through a loopback fault proxy in front of a
real Pyroscope (ingest API, so the proxy can read what it refuses).

The proxy answers the agent's first requests with, in order: 500, 429 with
Retry-After: 3, a hang (no reply; the agent's --upload-timeout of 2 s gives
up), a connection reset, and 413; every later request goes through to the
server. Checked: the 500, 429, hang and reset are retried (the request after
the 429 waits the 3 s asked for); the 413 is dropped, logged once with the
server's reply and counted as refused; the agent stays up, its RSS stays
bounded; the server holds exactly what the agent queued minus the refused
profile."""
import os
import re
import socket
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pprof_raw  # noqa: E402
import pyroscope  # noqa: E402

require_root()
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
FAULTS = ["500", "429", "hang", "reset", "413"]
REFUSAL = b"kiln-test: profile too large for this proxy"


def read_request(conn):
    """(head bytes, body bytes) of one HTTP request, or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    want = int(m.group(1)) if m else 0
    while len(body) < want:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head, body


def reply(conn, status, reason, body=b"", extra=""):
    conn.sendall(("HTTP/1.1 %d %s\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n" %
                  (status, reason, len(body), extra)).encode() + body)


class Proxy:
    def __init__(self, upstream):
        self.upstream = upstream
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.log = []		# (time, what) per request
        self.refused_body = None
        self.hang_closed = None
        self.running = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        conn.settimeout(30)
        try:
            req = read_request(conn)
            if req is None:
                return
            head, body = req
            with self.lock:
                n = len(self.log)
                what = FAULTS[n] if n < len(FAULTS) else "pass"
                self.log.append((time.monotonic(), what))
            if what == "500":
                reply(conn, 500, "Internal Server Error", b"kiln-test: upstream on fire")
            elif what == "429":
                reply(conn, 429, "Too Many Requests", b"slow down", "Retry-After: 3\r\n")
            elif what == "hang":
                # say nothing until the client gives up (bounded by the timeout)
                try:
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass
                self.hang_closed = time.monotonic()
            elif what == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            elif what == "413":
                self.refused_body = body
                reply(conn, 413, "Payload Too Large", REFUSAL)
            else:
                path = head.split(b" ", 2)[1].decode()
                ctype = re.search(rb"(?i)\r\ncontent-type:\s*([^\r]*)", head)
                r = urllib.request.Request(self.upstream + path, data=body, method="POST")
                if ctype:
                    r.add_header("Content-Type", ctype.group(1).decode())
                try:
                    with urllib.request.urlopen(r, timeout=20) as up:
                        reply(conn, up.status, "OK", up.read())
                except urllib.error.HTTPError as e:
                    reply(conn, e.code, "Upstream", e.read())
        finally:
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


try:
    server = pyroscope.Server()
except pyroscope.Unavailable as e:
    skip(str(e))
proxy = None
try:
    server.start()
    proxy = Proxy(server.url)
    spin = spawn([fixture("fixture_spin"), "60"], stdout=subprocess.DEVNULL)
    settle(0.3)
    port = pyroscope.free_port()
    start_ms = int(time.time() * 1000) - 1000
    agent = subprocess.Popen([KILN, "run", "--server", proxy.url, "--api", "ingest",
                              "--upload-interval", "2", "--upload-timeout", "2", "-d", "30",
                              "-p", str(spin.pid), "--no-off-cpu", "--no-locks",
                              "--app-name", "kiln-faults",
                              "--metrics-addr", "127.0.0.1:%d" % port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    page = ""
    for _ in range(60):	# bounded: the agent runs 30 s
        time.sleep(0.5)
        if agent.poll() is not None:
            break
        if sum(1 for _, w in proxy.log if w == "pass") >= 3:
            page = http_get("http://127.0.0.1:%d/metrics" % port) or page
            if 'result="refused"} 1' in page:
                break
    check(agent.poll() is None, "the agent is still up after every fault")
    out, err = agent.communicate(timeout=120)
    stop(spin)
    print(err.strip()[-1500:])
    check(agent.returncode == 0, "the agent exits 0 (%d)" % agent.returncode)

    whats = [w for _, w in proxy.log]
    print("proxy saw: %s" % whats[:10])
    check(whats[:len(FAULTS)] == FAULTS, "the proxy played every fault in order")
    times = {w: t for t, w in proxy.log if w in FAULTS}
    gap = min(t for t, _ in proxy.log if t > times["429"]) - times["429"]
    print("request after the 429 came %.2f s later (Retry-After: 3)" % gap)
    check(gap >= 2.9, "Retry-After is honoured")
    hang = (proxy.hang_closed or 0) - times["hang"]
    print("the hung request was given up after %.2f s (--upload-timeout 2)" % hang)
    check(1.5 <= hang <= 6, "a hung request times out and is retried")

    retrying = [l for l in err.splitlines() if "retrying" in l]
    refused = [l for l in err.splitlines() if "refused" in l and "HTTP 413" in l]
    check(any("HTTP 500" in l for l in retrying), "the 500 is a warning and a retry")
    check(len(refused) == 1 and REFUSAL.decode() in refused[0],
          "the 413 is logged once, with the server's reply: %s" % refused[:1])
    m = re.search(r"uploads ok (\d+), retried (\d+), refused (\d+)", err)
    check(m and int(m.group(2)) >= 4 and int(m.group(3)) == 1,
          "4 faults retried, 1 refused (%s)" % (m.group(0) if m else "no summary"))
    check(page and metric(page, 'kiln_uploads_total{result="retried"}') >= 4 and
          metric(page, 'kiln_uploads_total{result="refused"}') == 1,
          "/metrics counts the retries and the refusal")
    rss = metric(page, "kiln_process_resident_memory_bytes") or 0
    print("agent RSS during the faults: %.1f MiB" % (rss / 2**20))
    check(0 < rss < 200 * 2**20, "memory stays bounded")

    # what the server holds: all that was queued but the refused profile
    path = os.path.join(tmpdir(), "refused.pb.gz")
    with open(path, "wb") as f:
        f.write(proxy.refused_body or b"")
    _, samples = pprof_raw.load(path)
    lost = sum(s["values"][1] for s in samples)
    m = re.search(r"queued process_cpu \d+ samples / (\d+) nanoseconds", err)
    sent = int(m.group(1)) if m else 0
    time.sleep(1.0)
    end_ms = int(time.time() * 1000) + 1000
    _, totals, total = server.flamegraph(CPU, '{service_name="kiln-faults"}', start_ms, end_ms)
    print("kiln queued %d ns, the proxy refused %d ns, the server holds %d ns" %
          (sent, lost, total))
    check(lost > 0 and sent > 0 and total == sent - lost,
          "the server holds everything but the refused profile")
    check("kiln_fixture_leaf" in totals, "with the child's function")
finally:
    if proxy:
        proxy.close()
    server.close()
done()
