#!/usr/bin/env bash
# Newcomer's first run: install dependencies, build, and profile this host for
# 10 seconds into ./kiln-out (or the directory given), then say where the flame
# graph is. Extra arguments after the directory go to `kiln record`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-kiln-out}
shift || true
bash scripts/deps.sh
bash scripts/build.sh -DBUILD_TESTING=OFF
sudo=
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo	# BPF and perf_event need root (or CAP_BPF + CAP_PERFMON)
fi
$sudo ./build/kiln record -d 10 -o "$out" "$@"
echo
echo "Open the flame graph: $(cd "$out" && pwd)/flamegraph.html"
