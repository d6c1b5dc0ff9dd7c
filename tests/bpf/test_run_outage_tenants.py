#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_outage_tenants: `kiln run` against a real Pyroscope with
multi-tenancy on.

Tenants: two agents upload the same child's CPU profile with different
--tenant-id; each tenant's server view holds its own service and not the
other's.

Outage: an agent uploading every 2 s loses its server for several intervals
(stopped, then started again on the same port and data); the agent warns,
retries, keeps running, and once the server is back every interval arrives:
the server's total equals what the agent queued, nothing was dropped."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402

require_root()
CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


def queued_cpu(stderr):
    m = re.search(r"queued process_cpu \d+ samples / (\d+) nanoseconds", stderr)
    return int(m.group(1)) if m else 0


def services(server, tenant, start_ms, end_ms):
    reply = server.connect("querier.v1.QuerierService/LabelValues",
                           {"name": "service_name", "start": start_ms, "end": end_ms}, tenant)
    return reply.get("names", [])


try:
    server = pyroscope.Server(multitenancy=True)
except pyroscope.Unavailable as e:
    skip(str(e))
try:
    server.start()
    spin = spawn([fixture("fixture_spin"), "60"], stdout=subprocess.DEVNULL)
    settle(0.3)

    # two tenants, side by side
    start_ms = int(time.time() * 1000) - 1000
    runs = [subprocess.Popen([KILN, "run", "--server", server.url, "--upload-interval", "2",
                              "-d", "5", "-p", str(spin.pid), "--no-off-cpu", "--no-locks",
                              "--tenant-id", t, "--app-name", "kiln-" + t,
                              "--metrics-addr", "off"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for t in ("tenant-a", "tenant-b")]
    outs = [r.communicate(timeout=60) for r in runs]
    check(all(r.returncode == 0 for r in runs), "both agents exit 0 (%s)" %
          [o[1].strip()[-200:] for o in outs])
    time.sleep(1.0)
    end_ms = int(time.time() * 1000) + 1000
    a = services(server, "tenant-a", start_ms, end_ms)
    b = services(server, "tenant-b", start_ms, end_ms)
    print("tenant-a sees %s, tenant-b sees %s" % (a, b))
    check(a == ["kiln-tenant-a"] and b == ["kiln-tenant-b"],
          "each tenant sees its own service only")

    # an outage of several intervals
    start_ms = int(time.time() * 1000) - 1000
    agent = subprocess.Popen([KILN, "run", "--server", server.url, "--upload-interval", "2",
                              "-d", "40", "-p", str(spin.pid), "--no-off-cpu", "--no-locks",
                              "--tenant-id", "tenant-o", "--app-name", "kiln-outage",
                              "--metrics-addr", "off"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(5)
    server.stop()
    down = time.monotonic()
    time.sleep(8)
    check(agent.poll() is None, "the agent keeps running while the server is down")
    server.start()
    print("server down for %.1f s (restart included)" % (time.monotonic() - down))
    out, err = agent.communicate(timeout=120)
    stop(spin)
    check(agent.returncode == 0, "agent exits 0 after the outage (%d)" % agent.returncode)
    warned = [l for l in err.splitlines() if "retrying" in l]
    check(warned, "the outage is a warning with retries: %s" % (warned[:1],))
    m = re.search(r"uploads ok (\d+), retried (\d+), refused (\d+); \d+ bytes sent; dropped: "
                  r"(\d+) spool full, (\d+) too old, (\d+) unsent at exit", err)
    print(m.group(0) if m else err[-400:])
    check(m and int(m.group(2)) > 0 and int(m.group(3)) == 0 and
          int(m.group(4)) + int(m.group(5)) + int(m.group(6)) == 0,
          "retried, nothing refused or dropped")
    time.sleep(1.0)
    end_ms = int(time.time() * 1000) + 1000
    sent = queued_cpu(err)
    _, totals, total = server.flamegraph(CPU, '{service_name="kiln-outage"}', start_ms, end_ms,
                                         tenant="tenant-o")
    print("outage: kiln queued %d ns, the server holds %d ns" % (sent, total))
    check(sent > 0 and total == sent, "every interval arrived: server total == queued total")
    check("kiln_fixture_leaf" in totals, "with the child's function")
finally:
    server.close()
done()
