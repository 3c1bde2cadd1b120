#!/usr/bin/env bash
# Refreshes the vendored third-party protobuf files (see README.md beside this script) from
# the pinned upstream versions, through the Go module proxy and the npm registry. Run it
# with `make vendor-protos` and review the diff like any other change.
set -euo pipefail

readonly PROTOVALIDATE_MODULE=github.com/bufbuild/protovalidate
readonly PROTOVALIDATE_VERSION=v1.2.2
readonly PROTO_FILES_PACKAGE=google-proto-files
readonly PROTO_FILES_VERSION=5.0.3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
GO=${GO:-go}

log() { printf 'vendor.sh: %s\n' "$*" >&2; }

for tool in "$GO" npm tar; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		log "$tool is required"
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# protovalidate: the Go module ships the .proto sources under proto/protovalidate/.
# Downloading from a scratch folder, outside any module, leaves go.mod and go.sum alone.
log "fetching $PROTOVALIDATE_MODULE@$PROTOVALIDATE_VERSION"
dir=$(cd "$tmp" && GOWORK=off GOFLAGS=-mod=mod "$GO" mod download -json "$PROTOVALIDATE_MODULE@$PROTOVALIDATE_VERSION" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [[ -z $dir || ! -d $dir ]]; then
	log "could not locate $PROTOVALIDATE_MODULE@$PROTOVALIDATE_VERSION in the module cache"
	exit 1
fi
install -D -m 0644 "$dir/proto/protovalidate/buf/validate/validate.proto" \
	"$here/protovalidate/buf/validate/validate.proto"
install -D -m 0644 "$dir/LICENSE" "$here/protovalidate/LICENSE"

# googleapis: google-proto-files packages the googleapis sources under google/.
log "fetching $PROTO_FILES_PACKAGE@$PROTO_FILES_VERSION"
tarball=$(cd "$tmp" && npm pack --silent --ignore-scripts "$PROTO_FILES_PACKAGE@$PROTO_FILES_VERSION" | tail -n 1)
tar -xzf "$tmp/$tarball" -C "$tmp"
for f in google/type/date.proto google/api/annotations.proto google/api/http.proto \
	google/api/field_behavior.proto; do
	install -D -m 0644 "$tmp/package/$f" "$here/googleapis/$f"
done
install -D -m 0644 "$tmp/package/LICENSE" "$here/googleapis/LICENSE"

log "done: review with 'git diff -- proto/third_party'"
