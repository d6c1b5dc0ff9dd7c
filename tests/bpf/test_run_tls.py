#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_tls: `kiln run` over HTTPS to a real Pyroscope, through a TLS
terminator written here (server certificate from a test CA, client
certificates required), with certificates made by openssl for the test.

- --ca-file plus --cert-file/--key-file: uploads land; the server holds the
  child's profile.
- No --ca-file: the server's certificate is not trusted (verification is on
  by default): warned, retried, counted, nothing sent, exit 0.
- --insecure: sent without verifying.
- No client certificate where one is required: retried, nothing sent."""
import http.server
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402

require_root()
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
if not shutil.which("openssl"):
    skip("no openssl command to make the test certificates with")
d = tmpdir()


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, cwd=d,
                       timeout=60)
    if r.returncode != 0:
        raise SystemExit("openssl %s failed: %s" % (args[0], r.stderr))


# a CA, a server certificate for 127.0.0.1 and a client certificate
openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "1", "-subj", "/CN=kiln test CA")
for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                  ("client", "extendedKeyUsage=clientAuth\n")):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
            name + ".csr", "-subj", "/CN=kiln test " + name)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "1", "-extfile", name + ".ext")
path = lambda n: os.path.join(d, n)  # noqa: E731


class Forward(http.server.BaseHTTPRequestHandler):
    upstream = None
    clients = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Forward.clients.append(self.connection.getpeercert().get("subject"))
        req = urllib.request.Request(self.upstream + self.path, data=body, method="POST")
        for h in ("Content-Type", "Connect-Protocol-Version", "X-Scope-OrgID"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            with urllib.request.urlopen(req, timeout=20) as up:
                status, data = up.status, up.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def run_agent(url, args, seconds=5):
    r = subprocess.run([KILN, "run", "--server", url, "--upload-interval", "1", "-d",
                        str(seconds), "-p", str(spin.pid), "--no-off-cpu", "--no-locks",
                        "--metrics-addr", "off", "--flush-timeout", "2"] + args,
                       capture_output=True, text=True, timeout=120)
    print(r.stderr.strip()[-700:])
    m = re.search(r"uploads ok (\d+), retried (\d+), refused (\d+)", r.stderr)
    q = re.search(r"queued process_cpu \d+ samples / (\d+) nanoseconds", r.stderr)
    return r, (tuple(int(x) for x in m.groups()) if m else (0, 0, 0)), int(q.group(1)) if q else 0


try:
    server = pyroscope.Server()
except pyroscope.Unavailable as e:
    skip(str(e))
httpd = None
spin = spawn([fixture("fixture_spin"), "120"], stdout=subprocess.DEVNULL)
try:
    server.start()
    Forward.upstream = server.url
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=path("ca.pem"))
    ctx.load_cert_chain(path("server.pem"), path("server.key"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d" % httpd.server_address[1]
    client = ["--cert-file", path("client.pem"), "--key-file", path("client.key")]

    start_ms = int(time.time() * 1000) - 1000
    r, (ok, retried, refused), queued = run_agent(
        url, ["--ca-file", path("ca.pem"), "--app-name", "kiln-tls"] + client)
    check(r.returncode == 0 and ok > 0 and retried == 0 and refused == 0,
          "with the CA and a client certificate every upload succeeds (ok %d)" % ok)
    check(Forward.clients and all(c and "kiln test client" in str(c) for c in Forward.clients),
          "the server saw kiln's client certificate")
    time.sleep(1.0)
    _, totals, total = server.flamegraph(CPU, '{service_name="kiln-tls"}', start_ms,
                                         int(time.time() * 1000) + 1000)
    print("queued %d ns, the server holds %d ns" % (queued, total))
    check(queued > 0 and total == queued and "kiln_fixture_leaf" in totals,
          "the server holds the child's profile")

    r, (ok, retried, refused), _ = run_agent(url, ["--app-name", "kiln-untrusted"] + client, 3)
    warn = [l for l in r.stderr.splitlines() if "retrying" in l]
    check(r.returncode == 0 and ok == 0 and retried > 0, "an untrusted server gets nothing, "
          "retried (ok %d, retried %d), exit %d" % (ok, retried, r.returncode))
    check(warn and re.search(r"(?i)certificate", warn[0]), "the warning says why: %s" % warn[:1])

    r, (ok, retried, refused), _ = run_agent(url, ["--insecure", "--app-name", "kiln-insecure"] +
                                             client, 3)
    check(r.returncode == 0 and ok > 0, "--insecure sends without verifying (ok %d)" % ok)

    r, (ok, retried, refused), _ = run_agent(url, ["--ca-file", path("ca.pem"),
                                                   "--app-name", "kiln-nocert"], 3)
    check(r.returncode == 0 and ok == 0 and retried > 0,
          "without the client certificate the server refuses the handshake (ok %d, retried %d)"
          % (ok, retried))
finally:
    stop(spin)
    if httpd:
        httpd.shutdown()
    server.close()
done()
