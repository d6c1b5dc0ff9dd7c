#!/usr/bin/env bash
# fuzz_smoke: run each libFuzzer target for a bounded time from its seed corpus
# (real files of this machine). Usage: run_fuzz.sh FUZZ_BIN_DIR SECONDS
set -euo pipefail
bin=$1 secs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/kallsyms" "$work/procmaps" "$work/elf" "$work/perfmap"
head -c 65536 /proc/kallsyms > "$work/kallsyms/live"
printf 'ffffffff81000000 T _stext\nffffffffc0000000 t f\t[mod]\n' > "$work/kallsyms/small"
cat /proc/self/maps > "$work/procmaps/self"
cp /bin/true "$work/elf/true"
printf '7f0000001000 40 LazyCompile:*main /app/a.js:1\n0x7f0000002000 0x10 Interpreter\nbad line\n' \
	> "$work/perfmap/node"
cp "$bin/../fixtures/libkiln_fixture.so" "$work/elf/lib.so" 2>/dev/null || true
for t in kallsyms procmaps elf perfmap; do
	echo "== fuzz_$t for ${secs}s"
	# a crash makes libFuzzer exit non-zero and leaves its input in $bin
	if ! "$bin/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=262144 \
		-print_final_stats=1 -artifact_prefix="$bin/fuzz_$t-" "$work/$t" > "$work/$t.log" 2>&1; then
		tail -n 40 "$work/$t.log"
		echo "fuzz_$t failed; the input is in $bin"
		exit 1
	fi
	grep -E 'stat::number_of_executed_units' "$work/$t.log"
done
echo "fuzz smoke passed"
