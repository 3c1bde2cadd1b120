#!/usr/bin/env bash
# A private MinIO server, a real S3-compatible object store, for the tests of the S3 document
# store and for running Passage with PASSAGE_DOCUMENT_STORE=s3 on a developer's machine.
#
#   deploy/local/minio.sh build             build MinIO once into .cache/minio/minio (cached); prints its path
#   deploy/local/minio.sh start NAME PORT   start it on 127.0.0.1:PORT (building it if need be), with a
#                                           bucket "passage"; prints the PASSAGE_* settings to export
#   deploy/local/minio.sh stop NAME         stop it (no error if it is not running)
#   deploy/local/minio.sh destroy NAME      stop it and delete its data
#
# MinIO is built from its Go module at a pinned version (MINIO_VERSION) with the Go toolchain,
# as any Go module is fetched: nothing else is downloaded. The build takes minutes on two
# cores, once: .cache/minio/VERSION records what was built, and a later build of the same
# version does nothing. The tests (internal/objectstore/miniotest) run the binary themselves,
# with TLS; `start` is for a developer's server, over plain http (allowed with --dev only).
# Data and log live in .passage/minio/NAME (git-ignored).
set -euo pipefail

readonly MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$script_dir/../.." && pwd -P)
readonly REPO_ROOT
readonly CACHE=$REPO_ROOT/.cache/minio
readonly BIN=$CACHE/minio

log() { printf 'minio.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

usage() {
	cat >&2 <<'USAGE'
usage: deploy/local/minio.sh build
       deploy/local/minio.sh start NAME PORT
       deploy/local/minio.sh stop NAME
       deploy/local/minio.sh destroy NAME
USAGE
	exit 64
}

check_name() {
	[[ $1 =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "invalid server name '$1' (use lower-case letters, digits, - and _)"
}

check_port() {
	if ! [[ $1 =~ ^[0-9]{4,5}$ ]] || ((10#$1 < 1024 || 10#$1 > 65535)); then
		die "invalid port '$1' (1024-65535)"
	fi
}

build() {
	if [[ -x $BIN && $(cat "$CACHE/VERSION" 2>/dev/null) == "$MINIO_VERSION" ]]; then
		printf '%s\n' "$BIN"
		return
	fi
	mkdir -p "$CACHE"
	local tmp start
	tmp=$(mktemp -d "$CACHE/build.XXXXXX")
	start=$(date +%s)
	log "building MinIO $MINIO_VERSION (once; minutes on two cores)"
	# go install with a version builds the module as it is published, outside this module.
	if ! GOBIN=$tmp GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION" >&2; then
		rm -rf "$tmp"
		die "the MinIO build failed"
	fi
	mv "$tmp/minio" "$BIN"
	rm -rf "$tmp"
	printf '%s\n' "$MINIO_VERSION" >"$CACHE/VERSION"
	log "built in $(($(date +%s) - start))s: $BIN"
	printf '%s\n' "$BIN"
}

datadir() { printf '%s\n' "$REPO_ROOT/.passage/minio/$1"; }

running() {
	local pid
	pid=$(cat "$(datadir "$1")/minio.pid" 2>/dev/null) || return 1
	kill -0 "$pid" 2>/dev/null
}

start() {
	local name=$1 port=$2 dir
	check_name "$name"
	check_port "$port"
	build >/dev/null
	dir=$(datadir "$name")
	mkdir -p "$dir/data"
	chmod 700 "$dir"
	# The credentials are made once, kept in files as the server reads them.
	[[ -s $dir/access-key ]] || printf 'passage-%s\n' "$name" >"$dir/access-key"
	[[ -s $dir/secret-key ]] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/secret-key"
	chmod 600 "$dir/access-key" "$dir/secret-key"
	local user pass
	user=$(cat "$dir/access-key")
	pass=$(cat "$dir/secret-key")
	if ! running "$name"; then
		MINIO_ROOT_USER=$user MINIO_ROOT_PASSWORD=$pass MINIO_BROWSER=off MINIO_UPDATE=off \
			nohup "$BIN" server "$dir/data" --address "127.0.0.1:$port" --quiet >"$dir/minio.log" 2>&1 &
		echo $! >"$dir/minio.pid"
		local i
		for ((i = 0; i < 100; i++)); do
			curl -fsS "http://127.0.0.1:$port/minio/health/live" >/dev/null 2>&1 && break
			sleep 0.1
		done
		curl -fsS "http://127.0.0.1:$port/minio/health/live" >/dev/null 2>&1 ||
			die "MinIO did not start; see $dir/minio.log"
		log "started $name on 127.0.0.1:$port (log: $dir/minio.log)"
	fi
	# The bucket Passage uses; the server never creates one. 409: it exists already.
	local code
	code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$user:$pass" \
		"http://127.0.0.1:$port/passage")
	[[ $code == 200 || $code == 409 ]] || die "could not create the bucket (HTTP $code)"
	cat <<SETTINGS
PASSAGE_DOCUMENT_STORE=s3
PASSAGE_S3_ENDPOINT=http://127.0.0.1:$port
PASSAGE_S3_BUCKET=passage
PASSAGE_S3_ACCESS_KEY_FILE=$dir/access-key
PASSAGE_S3_SECRET_KEY_FILE=$dir/secret-key
SETTINGS
}

stop() {
	local name=$1 dir pid
	check_name "$name"
	dir=$(datadir "$name")
	if ! running "$name"; then
		rm -f "$dir/minio.pid"
		return
	fi
	pid=$(cat "$dir/minio.pid")
	kill "$pid"
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$dir/minio.pid"
	log "stopped $name"
}

main() {
	(($# >= 1)) || usage
	local cmd=$1
	shift
	case $cmd in
	build) (($# == 0)) || usage && build ;;
	start) (($# == 2)) || usage && start "$1" "$2" ;;
	stop) (($# == 1)) || usage && stop "$1" ;;
	destroy)
		(($# == 1)) || usage
		stop "$1"
		rm -rf "$(datadir "$1")"
		;;
	*) usage ;;
	esac
}

main "$@"
