#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Build the Pyroscope server the upload tests run against, once, from its Go
# module, and print the path of the binary. The binary is cached outside the
# source tree ($KILN_CACHE, default ~/.cache/kiln); later calls only print it.
#
# `go install github.com/grafana/pyroscope/cmd/pyroscope@VERSION` refuses the
# module's `replace` lines, so this makes a throwaway module (under
# $KILN_BUILD_DIR or a temp dir) that requires it and repeats them. Its
# `./api` replace names a directory the published module does not carry: the
# api module it requires is used as published instead.
#
# Usage: scripts/pyroscope.sh            print the binary's path (building it)
# Env:   PYROSCOPE_VERSION (default v1.12.0), KILN_CACHE, KILN_BUILD_DIR
set -euo pipefail

ver=${PYROSCOPE_VERSION:-v1.12.0}
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
modfile=$(go mod download -json "github.com/grafana/pyroscope@$ver" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
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
go mod edit -require="github.com/grafana/pyroscope@$ver"
# the command is built by path, with this module's requirements and replaces
go get "github.com/grafana/pyroscope/cmd/pyroscope@$ver" >&2
mkdir -p "$(dirname "$bin")"
go build -trimpath -o "$bin.tmp" github.com/grafana/pyroscope/cmd/pyroscope >&2
mv "$bin.tmp" "$bin"
echo "$bin"
