#!/usr/bin/env bash
# `make bench-analytics`: load synthetic persons into HQ analytics with `passage demo load`,
# run `passage serve --dev` on it, and measure random Aggregate calls over at most three
# dimensions with `passage demo bench` (p50/p95/p99, and the server's memory).
#
#   deploy/local/bench-analytics.sh [passage demo bench flags...]     e.g. --json, --concurrency 8
#
# Environment: BENCH_PERSONS (1000000; the issue's figure is 10000000), BENCH_SEED (1),
# BENCH_FACTS (0: the rollup only, which is what Aggregate reads; 1: the facts as well),
# BENCH_REUSE (0; 1 keeps the database of an earlier run with its data and loads nothing),
# BENCH_DURATION (30s), BENCH_CONCURRENCY (4). The database passage_bench_analytics lives on the
# durable dev cluster (deploy/local/postgres.sh start dev 55432) unless DATABASE_URL is set (any
# database of the cluster to use: the script creates its own beside it).
# BENCH_GRPC_ADDR (127.0.0.1:7172) and BENCH_HTTP_ADDR (127.0.0.1:7182) are where the server
# listens: give each concurrent bench its own (and its own cluster), so that none measures
# another's server. BENCH_PROFILE=DIR also serves the profiler on BENCH_PPROF_ADDR
# (127.0.0.1:7192) and writes a CPU profile of the server over the measured calls to
# DIR/cpu.pprof and its heap to DIR/heap.pprof (go tool pprof -top bin/passage DIR/cpu.pprof).
set -euo pipefail

readonly GRPC_ADDR=${BENCH_GRPC_ADDR:-127.0.0.1:7172}
readonly HTTP_ADDR=${BENCH_HTTP_ADDR:-127.0.0.1:7182}
readonly PPROF_ADDR=${BENCH_PPROF_ADDR:-127.0.0.1:7192}
readonly BENCH_DB=passage_bench_analytics
profile=${BENCH_PROFILE:-}

persons=${BENCH_PERSONS:-1000000}
seed=${BENCH_SEED:-1}
facts=${BENCH_FACTS:-0}
reuse=${BENCH_REUSE:-0}
duration=${BENCH_DURATION:-30s}
concurrency=${BENCH_CONCURRENCY:-4}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
cd "$script_dir/../.."
GO=${GO:-go}
log() { printf 'bench-analytics.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}
with_database() {
	[[ $1 =~ ^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$ ]] || die "DATABASE_URL is not a postgres:// URL"
	printf '%s/%s%s\n' "${BASH_REMATCH[1]}" "$2" "${BASH_REMATCH[4]}"
}
psql=$(command -v psql || compgen -G '/usr/lib/postgresql/*/bin/psql' | sort -V | tail -n 1) || true
[[ -x $psql ]] || die "psql is missing: sudo apt-get install -y postgresql-client"

server_pid="" tmp="" profiler_pid=""
cleanup() {
	if [[ -n $profiler_pid ]] && kill -0 "$profiler_pid" 2>/dev/null; then
		kill -TERM "$profiler_pid" 2>/dev/null || true
	fi
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	[[ -z $tmp ]] || rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

log "building bin/passage"
"$GO" build -o bin/passage ./cmd/passage
admin_url=${DATABASE_URL:-$(deploy/local/postgres.sh start dev 55432)}
url=$(with_database "$admin_url" "$BENCH_DB")
if [[ $reuse != 1 ]]; then
	log "recreating database $BENCH_DB"
	"$psql" "$(with_database "$admin_url" postgres)" -Xq -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" >&2
fi
# A kept database may predate migrations the server now needs.
DATABASE_URL=$url bin/passage migrate up >&2
if [[ $reuse != 1 ]]; then
	skip=(--skip-facts)
	[[ $facts == 1 ]] && skip=()
	log "loading $persons persons (seed $seed)"
	DATABASE_URL=$url bin/passage demo load --persons "$persons" --seed "$seed" "${skip[@]}" >&2
	"$psql" "$url" -Xq -c 'VACUUM ANALYZE analytics.rollup' >&2
fi
"$psql" "$url" -XtAq -c "SELECT 'rollup: ' || count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('analytics.rollup')) FROM analytics.rollup" | sed 's/^/bench-analytics.sh: /' >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/passage-bench-analytics.XXXXXX")
log "starting passage serve --dev on $GRPC_ADDR; log: $tmp/server.log"
serve=(--dev)
[[ -z $profile ]] || serve+=(--pprof "$PPROF_ADDR")
# PASSAGE_QUOTA=off: one analyst's token asks far more than an analyst's quota allows; the
# bench measures the server.
env DATABASE_URL="$url" PASSAGE_GRPC_ADDR="$GRPC_ADDR" PASSAGE_HTTP_ADDR="$HTTP_ADDR" PASSAGE_PARTNER_HTTP_ADDR=off \
	PASSAGE_DEV_DIR="$tmp/dev" PASSAGE_LOG_LEVEL=warn PASSAGE_QUOTA=off bin/passage serve "${serve[@]}" 2>"$tmp/server.log" &
server_pid=$!
for ((i = 0; i < 600; i++)); do
	kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$tmp/server.log" >&2; die "the server exited"; }
	# The development keys exist once the server has started.
	bin/passage dev-token --role analyst --mission HQ --dir "$tmp/dev" >/dev/null 2>&1 && break
	sleep 0.2
done
token=$(bin/passage dev-token --role analyst --mission HQ --dir "$tmp/dev")
log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench=(--addr "$GRPC_ADDR" --insecure --concurrency "$concurrency" --duration "$duration" --server-pid "$server_pid")
if [[ -n $profile ]]; then
	mkdir -p "$profile"
	# Wait for the loaded copy first, then profile exactly the measured window (the bench's
	# warm-up is 3 s).
	PASSAGE_TOKEN=$token bin/passage demo bench "${bench[@]}" --wait-loaded 10m --duration 1s --warmup 0s >/dev/null
	seconds=$(( $(sed -E 's/^([0-9]+)s$/\1/;t;s/.*/30/' <<<"$duration") ))
	(sleep 3 && curl -fsS -o "$profile/cpu.pprof" "http://$PPROF_ADDR/debug/pprof/profile?seconds=$seconds") &
	profiler_pid=$!
	PASSAGE_TOKEN=$token bin/passage demo bench "${bench[@]}" "$@"
	wait "$profiler_pid" || log "the CPU profile failed"
	profiler_pid=""
	curl -fsS -o "$profile/heap.pprof" "http://$PPROF_ADDR/debug/pprof/heap" || log "the heap profile failed"
	log "profiles in $profile: go tool pprof -top bin/passage $profile/cpu.pprof"
else
	PASSAGE_TOKEN=$token bin/passage demo bench "${bench[@]}" --wait-loaded 10m "$@"
fi
