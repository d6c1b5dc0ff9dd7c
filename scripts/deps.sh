#!/usr/bin/env bash
# Install what kiln needs to build and test, from Debian's packages. Idempotent:
# packages already present are not fetched again, and apt's index is refreshed only
# when something is missing.
#   scripts/deps.sh          build dependencies (enough for `kiln record`)
#   scripts/deps.sh --test   also what the test suite needs
#   scripts/deps.sh --bench  also what the benchmarks compare against
set -euo pipefail

# libcurl's GnuTLS flavour: libdebuginfod links it already, so one libcurl
# is loaded, and OpenSSL's start-up (3 MiB of touched pages) is not paid
build_pkgs=(
	build-essential cmake pkg-config clang llvm bpftool
	libbpf-dev libelf-dev libdw-dev zlib1g-dev
	libprotobuf-c-dev protobuf-c-compiler golang-github-google-pprof-dev
	libcurl4-gnutls-dev libiberty-dev libdebuginfod-dev libinih-dev
)
# golang-1.19-go: Debian 12's own Go, whose stripped binaries test .gopclntab
# layouts next to the machine's go (it does not go on PATH)
test_pkgs=(
	golang-go golang-1.19-go debuginfod iproute2 chromium linux-perf bpftrace procps util-linux libclang-rt-14-dev python3
	prometheus prometheus-alertmanager openssl
)
# benchmarks compare against these (bench/)
bench_pkgs=(
	linux-perf bpftrace libbpf-tools
)

pkgs=("${build_pkgs[@]}")
case "${1:-}" in
--test) pkgs+=("${test_pkgs[@]}") ;;
--bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	# golang-go is only a fallback: any go toolchain on PATH will do.
	if [ "$p" = golang-go ] && command -v go >/dev/null 2>&1; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
