#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_run_pyroscope: `kiln run` uploads to a real Pyroscope server (built
from its Go module by scripts/pyroscope.sh, run on 127.0.0.1), through both
APIs. Three children with known functions run under one `kiln run` with a
2 s upload interval: fixture_spin (CPU in kiln_fixture_leaf), fixture_nofp in
sleep mode (off-CPU under kiln_nofp_sleeper, no frame pointers) and
fixture_contend (lock waits from kiln_fixture_map_churn). Pyroscope's query
API must then list the profile types kiln documents, hold each function,
and total within 25% of what kiln says it queued. While the push agent runs,
its /metrics page passes `promtool check metrics` and counts its uploads."""
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import *  # noqa: E402,F403
import pyroscope  # noqa: E402

require_root()

# what each type is listed as, by API: the legacy ingest API names the types
# itself from the pprof's sample types
TYPES = {
    "push": {"cpu": "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
             "offcpu": "offcpu:offcpu:nanoseconds:offcpu:nanoseconds",
             "lock": "block:delay:nanoseconds:contentions:count"},
    "ingest": {"cpu": "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
               "offcpu": "process_cpu:offcpu:nanoseconds:offcpu:nanoseconds",
               "lock": "mutex:delay:nanoseconds:contentions:count"},
}
PUSH_LISTED = ["block:contentions:count:contentions:count",
               "block:delay:nanoseconds:contentions:count",
               "offcpu:offcpu:nanoseconds:offcpu:nanoseconds",
               "offcpu:switches:count:offcpu:nanoseconds",
               "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
               "process_cpu:samples:count:cpu:nanoseconds"]
FUNCS = {"cpu": "kiln_fixture_leaf", "offcpu": "kiln_nofp_sleeper", "lock": "kiln_fixture_map_churn"}

try:
    server = pyroscope.Server()
except pyroscope.Unavailable as e:
    skip(str(e))
try:
    t = time.monotonic()
    server.start()
    print("Pyroscope ready in %.1f s at %s" % (time.monotonic() - t, server.url))
    for api in ("push", "ingest"):
        app = "kiln-test-" + api
        kids = [spawn([fixture("fixture_spin"), "14"], stdout=subprocess.DEVNULL),
                spawn([fixture("fixture_nofp"), "14", "sleep"]),
                spawn([fixture("fixture_contend"), "4", "14"])]
        settle(0.3)
        start_ms = int(time.time() * 1000) - 1000
        mport = pyroscope.free_port()
        args = [KILN, "run", "--server", server.url, "--api", api, "--upload-interval", "2",
                "-d", "12", "--app-name", app, "--metrics-addr", "127.0.0.1:%d" % mport]
        for k in kids:
            args += ["-p", str(k.pid)]
        agent = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if api == "push":
            def uploaded():
                page = http_get("http://127.0.0.1:%d/metrics" % mport, timeout=2) or ""
                ok = re.search(r'^kiln_uploads_total\{result="ok"\} (\d+)$', page, re.M)
                return page if ok and int(ok.group(1)) > 0 else None
            # the first upload leaves one interval after start-up, which is
            # slower on a loaded machine: poll for it while the agent runs
            page = wait_for(uploaded, 11, "/metrics counts an upload while kiln runs") or ""
            if shutil.which("promtool"):
                pc = subprocess.run(["promtool", "check", "metrics"], input=page,
                                    capture_output=True, text=True)
                check(pc.returncode == 0, "promtool check metrics passes (%s)" %
                      (pc.stdout + pc.stderr).strip()[:300])
            else:
                check(False, "promtool installed (scripts/deps.sh --test)")
        _, err = agent.communicate(timeout=60)
        for k in kids:
            stop(k)
        check(agent.returncode == 0, "kiln run --api %s exits 0 (%d: %s)" %
              (api, agent.returncode, err.strip()[-300:]))
        m = re.search(r"uploads ok (\d+), retried (\d+), refused (\d+)", err)
        q = re.search(r"queued process_cpu \d+ samples / (\d+) nanoseconds, offcpu \d+ switches / "
                      r"(\d+) nanoseconds, block \d+ contentions / (\d+) nanoseconds", err)
        check(m and int(m.group(1)) >= 6 and int(m.group(3)) == 0,
              "%s: uploads ok, none refused (%s)" % (api, m.group(0) if m else err[-300:]))
        if not q:
            check(False, "kiln says what it queued: %r" % err[-300:])
            continue
        sent = {"cpu": int(q.group(1)), "offcpu": int(q.group(2)), "lock": int(q.group(3))}
        time.sleep(1.0)
        end_ms = int(time.time() * 1000) + 1000
        listed = server.profile_types(start_ms, end_ms)
        print("%s: queued %s; server lists %s" % (api, sent, listed))
        if api == "push":
            check(all(t in listed for t in PUSH_LISTED),
                  "push: Pyroscope lists kiln's profile types %s" % PUSH_LISTED)
        for kind, type_id in TYPES[api].items():
            selfs, totals, total = server.flamegraph(type_id, '{service_name="%s"}' % app,
                                                     start_ms, end_ms)
            fn = FUNCS[kind]
            print("  %s %s: server total %d, %s total %d" % (api, type_id, total, fn,
                                                            totals.get(fn, 0)))
            check(fn in totals and totals[fn] > 0, "%s: %s holds %s" % (api, type_id, fn))
            check(sent[kind] > 0 and abs(total - sent[kind]) <= 0.25 * sent[kind],
                  "%s: %s total %d within 25%% of the %d kiln queued" %
                  (api, type_id, total, sent[kind]))
finally:
    server.close()
done()
