# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Debian's Prometheus for the tests: scrape kiln every second and evaluate
deploy/prometheus's rules, optionally sending alerts to an Alertmanager."""
import os
import shutil
import subprocess

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
RULES = os.path.join(ROOT, "deploy", "prometheus", "kiln-alerts.yml")


def binary():
    return shutil.which("prometheus")


def start(workdir, port, kiln_port, alertmanager_port=None):
    """Start Prometheus on 127.0.0.1:@port with its data and log in
    @workdir; returns the Popen (stop it with kilntest.stop)."""
    alerting = ""
    if alertmanager_port:
        alerting = """alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:%d']
""" % alertmanager_port
    cfg = os.path.join(workdir, "prom.yml")
    with open(cfg, "w") as f:
        f.write("""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
%sscrape_configs:
  - job_name: kiln
    static_configs:
      - targets: ['127.0.0.1:%d']
""" % (RULES, alerting, kiln_port))
    log = open(os.path.join(workdir, "prom.log"), "w")
    return subprocess.Popen([binary(), "--config.file", cfg,
                             "--storage.tsdb.path", os.path.join(workdir, "prom"),
                             "--web.listen-address", "127.0.0.1:%d" % port],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
