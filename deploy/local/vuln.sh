#!/usr/bin/env bash
# `make vuln`: govulncheck, offline, against the Go vulnerability database built from the
# golang.org/x/vulndb snapshot pinned in internal/tools/go.mod.
#
# Why offline: vuln.go.dev is not reachable from CI; the Go module proxy is, and it serves
# golang.org/x/vulndb, whose data/osv folder holds every Go advisory as OSV JSON. vulndb's own
# cmd/indexdb writes that folder out in the layout govulncheck reads with -db file://. The
# result is cached in .cache/vulndb, keyed by the snapshot's version, so only the first run
# after a bump spends the ~10 s to build it. Bump with
#   (cd internal/tools && GOWORK=off go get golang.org/x/vulndb@master && GOWORK=off go mod tidy)
#
# The scan is at package level (-scan package): every advisory for a package we import,
# called or not. It is stricter than the default symbol level and runs in seconds where the
# call-graph analysis takes minutes on two cores.
#
# A finding in a module we require fails the run: go.mod fixes it. A finding in the standard
# library is fixed by the Go toolchain, which this machine pins (GOTOOLCHAIN=local in the
# toolchain's go.env); it is printed with the release that fixes it and fails the run only with
# VULN_STRICT=1 (set it in CI once the builders run that release).
set -euo pipefail

GO=${GO:-go}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="$root/.cache"
db="$cache/vulndb"
bin="$cache/bin"

cd "$root/internal/tools"
GOWORK=off "$GO" build -o "$bin/" golang.org/x/vuln/cmd/govulncheck golang.org/x/vulndb/cmd/indexdb
version=$(GOWORK=off "$GO" list -m -f '{{.Version}}' golang.org/x/vulndb)
if [ "$(cat "$db/.version" 2>/dev/null)" != "$version" ]; then
	src=$(GOWORK=off "$GO" mod download -json golang.org/x/vulndb | jq -r .Dir)
	echo "building the vulnerability database from golang.org/x/vulndb@$version"
	rm -rf "$db"
	"$bin/indexdb" -vulns "$src/data/osv" -out "$db"
	echo "$version" >"$db/.version"
fi

cd "$root"
report="$cache/vuln.json"
"$bin/govulncheck" -db "file://$db" -scan package -format json ./... ./proto/... >"$report"
# One line per advisory and imported package: module, advisory, package, fixed version.
findings=$(jq -r 'select(.finding != null and .finding.trace[0].package != null)
	| .finding | [.trace[0].module, .osv, .trace[0].package, (.fixed_version // "none")] | @tsv' "$report" | sort -u)
modules=$(printf '%s\n' "$findings" | awk -F'\t' 'NF && $1 != "stdlib"')
stdlib=$(printf '%s\n' "$findings" | awk -F'\t' 'NF && $1 == "stdlib"')
goversion=$(jq -r 'select(.config != null) | .config.go_version' "$report")

status=0
if [ -n "$modules" ]; then
	echo "vulnerable modules (module, advisory, package, fixed in):"
	printf '%s\n' "$modules" | sed 's/^/  /'
	status=1
fi
if [ -n "$stdlib" ]; then
	echo "standard library of $goversion (advisory, package, fixed in): upgrade the Go toolchain"
	printf '%s\n' "$stdlib" | cut -f2- | sed 's/^/  /'
	if [ "${VULN_STRICT:-0}" = 1 ]; then status=1; fi
fi
if [ "$status" = 0 ]; then
	echo "no vulnerable module among $(jq -r 'select(.SBOM != null) | .SBOM.modules | length' "$report") (database golang.org/x/vulndb@$version)"
fi
exit "$status"
