# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A real Pyroscope server for upload tests: built once by scripts/pyroscope.sh
(cached outside the source tree), started on 127.0.0.1 with its data in a
temp dir, self-profiling and usage reporting off, every component told to
advertise 127.0.0.1 (it would otherwise pick the host's network address and
dial itself there). Queried through its Connect API."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Unavailable(Exception):
    """No Go toolchain to build the server with (and none cached)."""


def binary():
    """Path of the cached server binary (builds it the first time)."""
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "pyroscope.sh")],
                       capture_output=True, text=True, timeout=3000)
    if r.returncode != 0 and "go not found" in r.stderr:
        raise Unavailable("no Go toolchain on PATH to build the Pyroscope server with "
                          "(Go >= 1.22; Debian 12's golang-go is too old)")
    if r.returncode != 0:
        raise RuntimeError("building Pyroscope failed: " + r.stderr[-2000:])
    return r.stdout.strip().splitlines()[-1]


class PortTaken(Exception):
    """A port picked for the server was bound by someone else before it started."""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, multitenancy=False):
        self.bin = binary()
        self.dir = tempfile.mkdtemp(prefix="kiln-pyroscope-")
        self.multitenancy = multitenancy
        self.port = free_port()
        self.grpc = free_port()
        self.gossip = free_port()
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=90, attempts=3):
        """Start the server; when one of its ports was taken in the meantime
        (the ports are picked before start, and ephemeral ports of other
        connections come from the same range), pick new ones and try again.
        The HTTP port is kept unless it is the one taken: callers may have
        handed the URL out already."""
        for attempt in range(attempts):
            try:
                return self._start(timeout)
            except PortTaken as e:
                if attempt + 1 == attempts:
                    raise RuntimeError("Pyroscope exited: " + self.tail()) from e
                if ":%d: bind" % self.port in str(e):
                    self.port = free_port()
                self.grpc = free_port()
                self.gossip = free_port()
                self.log.close()
                shutil.rmtree(self.dir, ignore_errors=True)
                os.makedirs(self.dir)

    def _start(self, timeout):
        d = self.dir
        args = [self.bin,
                "-server.http-listen-address=127.0.0.1", "-server.http-listen-port=%d" % self.port,
                "-server.grpc-listen-address=127.0.0.1", "-server.grpc-listen-port=%d" % self.grpc,
                "-self-profiling.disable-push=true", "-usage-stats.enabled=false",
                "-pyroscopedb.data-path=%s/data" % d, "-compactor.data-dir=%s/compactor" % d,
                "-storage.backend=filesystem", "-storage.filesystem.dir=%s/storage" % d,
                "-memberlist.bind-addr=127.0.0.1", "-memberlist.bind-port=%d" % self.gossip,
                "-memberlist.advertise-addr=127.0.0.1",
                "-memberlist.advertise-port=%d" % self.gossip,
                "-ingester.lifecycler.addr=127.0.0.1",
                "-distributor.ring.instance-addr=127.0.0.1",
                "-compactor.ring.instance-addr=127.0.0.1",
                "-overrides-exporter.ring.instance-addr=127.0.0.1",
                "-query-frontend.instance-addr=127.0.0.1",
                "-query-scheduler.ring.instance-addr=127.0.0.1",
                "-store-gateway.sharding-ring.instance-addr=127.0.0.1"]
        if self.multitenancy:
            args.append("-auth.multitenancy-enabled=true")
        self.log = open(os.path.join(d, "server.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, cwd=d)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                taken = [l for l in self.tail(None).splitlines() if "address already in use" in l]
                if taken:
                    raise PortTaken(taken[0])
                raise RuntimeError("Pyroscope exited: " + self.tail())
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError("Pyroscope not ready after %d s: %s" % (timeout, self.tail()))

    def tail(self, n=2000):
        try:
            text = open(os.path.join(self.dir, "server.log"), errors="replace").read()
            return text if n is None else text[-n:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def connect(self, method, body, tenant=None):
        """POST a Connect JSON request to /<method>; returns the decoded reply."""
        req = urllib.request.Request(self.url + "/" + method, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        if tenant:
            req.add_header("X-Scope-OrgID", tenant)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def profile_types(self, start_ms, end_ms, tenant=None):
        reply = self.connect("querier.v1.QuerierService/ProfileTypes",
                             {"start": start_ms, "end": end_ms}, tenant)
        return sorted(t["ID"] for t in reply.get("profileTypes", []))

    def flamegraph(self, type_id, selector, start_ms, end_ms, tenant=None):
        """{function name: self value} and the total, from SelectMergeStacktraces."""
        reply = self.connect("querier.v1.QuerierService/SelectMergeStacktraces",
                             {"profileTypeID": type_id, "labelSelector": selector,
                              "start": start_ms, "end": end_ms}, tenant)
        fg = reply.get("flamegraph", {})
        names = fg.get("names", [])
        selfs, totals = {}, {}
        for level in fg.get("levels", []):
            v = [int(x) for x in level.get("values", [])]
            # (offset, total, self, name index) per node
            for i in range(0, len(v) - 3, 4):
                name = names[v[i + 3]] if v[i + 3] < len(names) else "?"
                selfs[name] = selfs.get(name, 0) + v[i + 2]
                totals[name] = totals.get(name, 0) + v[i + 1]
        return selfs, totals, int(fg.get("total", 0))
