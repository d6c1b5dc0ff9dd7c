#!/usr/bin/env bash
# Install what the tests need, build, and run the whole test suite (unit, bpf,
# the ASan+UBSan unit build) through ctest. Benchmarks are not run: see bench/.
# BPF tests need root; run as root (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/deps.sh --test
bash scripts/build.sh -DBUILD_TESTING=ON
echo "build ready after $(( $(date +%s) - start )) s"
ctest --test-dir "${KILN_BUILD_DIR:-build}" --output-on-failure --timeout 900 -j "$(nproc)" -LE bench
echo "tests finished after $(( $(date +%s) - start )) s"
