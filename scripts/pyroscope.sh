#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Build the Pyroscope server the upload tests run against, once, from its Go
# module, and print the path of the binary. The binary is cached outside the
# source tree ($KILN_CACHE, default ~/.cache/kiln); later calls only print it.
#
# `go install github.com/grafana/pyroscope/cmd/pyroscope@VERSION` refuses the
# module's `replace` lines, so this makes a throwaway module (under
# $KILN_BUILD_DIR or a temp dir) that requires it and repeats them, with its
# go.sum (some of its pseudo-versions are not in the checksum database). Its
# `./api` replace names a directory the published module does not carry: the
# api module as published at PYROSCOPE_API_VERSION stands in (v1.12.0's needs
# the otlp/profiles/v1development package, which api v1.1.0-v1.2.0 have).
#
# Usage: scripts/pyroscope.sh            print the binary's path (building it)
# Env:   PYROSCOPE_VERSION (default v1.12.0), PYROSCOPE_API_VERSION (v1.2.0),
#        KILN_CACHE, KILN_BUILD_DIR
set -euo pipefail

ver=${PYROSCOPE_VERSION:-v1.12.0}
api=${PYROSCOPE_API_VERSION:-v1.2.0}
cache=${KILN_CACHE:-$HOME/.cache/kiln}
bin=$cache/pyroscope-$ver/pyroscope
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
command -v go >/dev/null || { echo "pyroscope.sh: go not found" >&2; exit 1; }

work=$(mktemp -d "${KILN_BUILD_DIR:-${TMPDIR:-/tmp}}/kiln-pyroscope.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
go mod init kiln.local/pyroscope-build >/dev/null 2>&1
info=$(go mod download -json "github.com/grafana/pyroscope@$ver")
modfile=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])' <<<"$info")
moddir=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])' <<<"$info")
cp "$moddir/go.sum" go.sum
chmod u+w go.sum
# the replace lines, but for local directories (not in the published module)
python3 - "$modfile" >>go.mod <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
lines = []
for block in re.findall(r"^replace\s*\((.*?)^\)", text, re.S | re.M):
    lines += block.splitlines()
lines += re.findall(r"^replace\s+([^(\n].*)$", text, re.M)
for l in lines:
    l = l.split("//")[0].strip()
    if "=>" in l and not l.split("=>")[1].strip().startswith("."):
        print("replace " + l)
EOF
go mod edit -require="github.com/grafana/pyroscope@$ver" \
	-replace="github.com/grafana/pyroscope/api=github.com/grafana/pyroscope/api@$api"
# the command is built by path, with this module's requirements and replaces
go get "github.com/grafana/pyroscope/cmd/pyroscope@$ver" >&2
mkdir -p "$(dirname "$bin")"
go build -trimpath -o "$bin.tmp" github.com/grafana/pyroscope/cmd/pyroscope >&2
mv "$bin.tmp" "$bin"
echo "$bin"
