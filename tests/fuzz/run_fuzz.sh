#!/usr/bin/env bash
# fuzz_smoke: run each libFuzzer target for a bounded time from its seed corpus
# (real files of this machine). Usage: run_fuzz.sh FUZZ_BIN_DIR SECONDS [RUNS]
# With RUNS, each target runs that many inputs instead (a long campaign).
set -euo pipefail
bin=$1 secs=$2 runs=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/kallsyms" "$work/procmaps" "$work/elf" "$work/perfmap" "$work/gopclntab"
head -c 65536 /proc/kallsyms > "$work/kallsyms/live"
printf 'ffffffff81000000 T _stext\nffffffffc0000000 t f\t[mod]\n' > "$work/kallsyms/small"
cat /proc/self/maps > "$work/procmaps/self"
cp /bin/true "$work/elf/true"
printf '7f0000001000 40 LazyCompile:*main /app/a.js:1\n0x7f0000002000 0x10 Interpreter\nbad line\n' \
	> "$work/perfmap/node"
cp "$bin/../fixtures/libkiln_fixture.so" "$work/elf/lib.so" 2>/dev/null || true
# Go function tables of the stripped Go fixtures (first 256 KiB), where built
for g in "$bin"/../fixtures/go/fixture_*; do
	[ -e "$g" ] || continue
	objcopy -O binary --only-section=.gopclntab "$g" "$work/tab" 2>/dev/null || continue
	head -c 262144 "$work/tab" > "$work/gopclntab/$(basename "$g")"
done
printf '\xf1\xff\xff\xff\x00\x00\x01\x08' > "$work/gopclntab/header"
for t in kallsyms procmaps elf perfmap gopclntab; do
	echo "== fuzz_$t for ${runs:-${secs}s}${runs:+ runs}"
	# a crash makes libFuzzer exit non-zero and leaves its input in $bin
	if [ -n "$runs" ]; then limit="-runs=$runs"; else limit="-max_total_time=$secs"; fi
	if ! "$bin/fuzz_$t" "$limit" -rss_limit_mb=2048 -max_len=262144 \
		-print_final_stats=1 -artifact_prefix="$bin/fuzz_$t-" "$work/$t" > "$work/$t.log" 2>&1; then
		tail -n 40 "$work/$t.log"
		echo "fuzz_$t failed; the input is in $bin"
		exit 1
	fi
	grep -E 'stat::number_of_executed_units' "$work/$t.log"
done
echo "fuzz smoke passed"
