#!/usr/bin/env bash
# `make bench`: measure RegisterCase (encryption, blind indexes, outbox, durable commits) with
# bin/passage-load against a fresh server and a fresh database, all on this machine.
#
#   deploy/local/bench.sh [passage-load flags...]     e.g. --json, --conns 4, --seed 7
#
# Steps: build bin/passage and bin/passage-load; start the durable dev cluster
# (deploy/local/postgres.sh start dev $BENCH_PG_PORT) unless DATABASE_URL is set; recreate the
# database passage_bench on it, so that runs are comparable and dev data stays untouched;
# migrate it; run `passage serve --dev` on 127.0.0.1:$BENCH_GRPC_PORT (gRPC) and
# 127.0.0.1:$BENCH_HTTP_PORT (HTTP) with its own throwaway development keys; wait for /readyz;
# preload cases and ANALYZE; run the load; stop the server.
#
# BENCH_SERVERS=N (1) runs N `passage serve` processes on the one database, on consecutive
# ports from BENCH_GRPC_PORT and BENCH_HTTP_PORT, and spreads the clients' connections over
# them (at least one connection each); they divide the registration batches in flight
# (PASSAGE_REGISTER_BATCHES_IN_FLIGHT, for the whole database) between them by themselves.
# The CPU line then sums the servers.
#
# Environment: BENCH_CONCURRENCY (32), BENCH_DURATION (20s), BENCH_WARMUP (3s), BENCH_CONNS (1),
# BENCH_PRELOAD (10000: cases registered, and the tables analyzed, before the measured run),
# BENCH_MIN_RATE (1500 cases/s) and BENCH_MAX_P99 (50ms): the targets, "0" for none;
# PASSAGE_DB_MAX_CONNS (16 here) is passed to the server; BENCH_SOCKET=0 reaches the dev
# cluster over loopback TCP rather than its Unix-domain socket (DATABASE_URL is used as
# given); BENCH_PG_PORT (55432), BENCH_GRPC_PORT (7170) and BENCH_HTTP_PORT (7180) move the dev
# cluster and the server, so that two benches on one machine never meet. Exits with
# passage-load's status: non-zero on any error or a missed target.
set -euo pipefail

readonly PG_PORT=${BENCH_PG_PORT:-55432}
readonly GRPC_PORT=${BENCH_GRPC_PORT:-7170}
readonly HTTP_PORT=${BENCH_HTTP_PORT:-7180}
readonly SERVERS=${BENCH_SERVERS:-1}
readonly BENCH_DB=passage_bench
readonly MISSION=NER
readonly READY_TIMEOUT=60

concurrency=${BENCH_CONCURRENCY:-32}
duration=${BENCH_DURATION:-20s}
warmup=${BENCH_WARMUP:-3s}
conns=${BENCH_CONNS:-1}
if ! [[ $SERVERS =~ ^[1-4]$ ]]; then
	printf 'bench.sh: BENCH_SERVERS must be 1 to 4, not %s\n' "$SERVERS" >&2
	exit 64
fi
conns=$((conns > SERVERS ? conns : SERVERS))
min_rate=${BENCH_MIN_RATE:-1500}
max_p99=${BENCH_MAX_P99:-50ms}
preload=${BENCH_PRELOAD:-10000}
# The server's own default pool (the larger of 4 and the core count) leaves 2 cores idle
# waiting on commits at 32 clients; 16 measured best here. Set it to compare.
export PASSAGE_DB_MAX_CONNS=${PASSAGE_DB_MAX_CONNS:-16}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$script_dir/../.." && pwd -P)
readonly REPO_ROOT
cd "$REPO_ROOT"
GO=${GO:-go}

log() { printf 'bench.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# with_database prints URL with its database replaced by NAME (postgres://user@host:port/db?opts).
with_database() {
	local url=$1 name=$2
	[[ $url =~ ^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$ ]] || die "DATABASE_URL is not a postgres:// URL"
	printf '%s/%s%s\n' "${BASH_REMATCH[1]}" "$name" "${BASH_REMATCH[4]}"
}

find_psql() {
	if command -v psql >/dev/null 2>&1; then
		command -v psql
		return
	fi
	local candidate found=""
	while IFS= read -r candidate; do
		[[ -x $candidate/psql ]] && found=$candidate/psql
	done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
	[[ -n $found ]] || die "psql is missing: sudo apt-get install -y postgresql-client"
	printf '%s\n' "$found"
}

# port_open reports whether something accepts connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ready reports whether the /readyz of the server whose HTTP port is $1 answers 200, asked
# by `passage healthcheck` (curl may be missing).
ready() {
	bin/passage healthcheck --http "127.0.0.1:$1" >/dev/null 2>&1
}

# seconds prints a Go duration of whole seconds or minutes ("20s", "1m") as seconds, or
# nothing for other forms (the CPU sampling is then skipped).
seconds() {
	case $1 in
	0) echo 0 ;;
	*[0-9]s) [[ ${1%s} =~ ^[0-9]+$ ]] && echo "${1%s}" ;;
	*[0-9]m) [[ ${1%m} =~ ^[0-9]+$ ]] && echo $((${1%m} * 60)) ;;
	esac
	return 0
}

# cpu_ticks prints the CPU time (user + system, in clock ticks) of process $1 and, with
# "children" as $2, of its children too (Postgres runs a process per connection).
cpu_ticks() {
	local pid=$1 children=${2:-} total=0 f stat
	local -a fields dirs=("/proc/$pid")
	[[ -n $children ]] && dirs=(/proc/[0-9]*)
	for f in "${dirs[@]}"; do
		IFS= read -r stat <"$f/stat" 2>/dev/null || continue
		# After "pid (comm) " come state, ppid, ...; utime and stime are the 12th and 13th.
		read -ra fields <<<"${stat##*) }"
		if [[ $f == "/proc/$pid" || ${fields[1]} == "$pid" ]]; then
			total=$((total + fields[11] + fields[12]))
		fi
	done
	echo "$total"
}

# busy_ticks prints the CPU time (in clock ticks) all processors spent busy, from /proc/stat.
busy_ticks() {
	local user nice system irq softirq steal
	# cpu user nice system idle iowait irq softirq steal ...
	read -r _ user nice system _ _ irq softirq steal _ </proc/stat
	echo $((user + nice + system + irq + softirq + steal))
}

# servers_ticks prints the CPU time (in clock ticks) of the server processes $@, summed.
servers_ticks() {
	local pid total=0
	for pid in "$@"; do
		total=$((total + $(cpu_ticks "$pid")))
	done
	echo "$total"
}

# sample_cpu waits for the measured window, then writes to $1 how many cores the servers (the
# pids in $2, space-separated), Postgres, the load generator and everything else used during
# it: on a shared machine, a large "other" means the numbers are not to be trusted.
sample_cpu() {
	local out=$1 servers=$2 postmaster=$3 load=$4 wait=$5 span=$6 sleeper
	# Sleep in the background so that cleanup's SIGTERM ends this at once.
	trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
	sleep "$wait" &
	sleeper=$!
	wait "$sleeper"
	local s0 p0 l0 b0 s1 p1 l1 b1
	# shellcheck disable=SC2086 # the pids, one word each
	s0=$(servers_ticks $servers) p0=$(cpu_ticks "$postmaster" children) l0=$(cpu_ticks "$load") b0=$(busy_ticks)
	sleep "$span" &
	sleeper=$!
	wait "$sleeper"
	# shellcheck disable=SC2086
	s1=$(servers_ticks $servers) p1=$(cpu_ticks "$postmaster" children) l1=$(cpu_ticks "$load") b1=$(busy_ticks)
	if ((l1 == 0 || s1 == 0)); then
		echo "no CPU figures: the load or the server ended before the measured window did" >"$out"
		return
	fi
	local hz
	hz=$(getconf CLK_TCK)
	awk -v servers="$(wc -w <<<"$servers")" -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v l=$((l1 - l0)) -v b=$((b1 - b0)) -v t="$span" -v hz="$hz" -v n="$(nproc)" 'BEGIN {
		f = hz * t
		printf "CPU in the measured window, in cores of %d: passage (" servers " process(es)) %.2f, postgres %.2f, passage-load %.2f, other %.2f, idle %.2f\n",
			n, s / f, p / f, l / f, (b - s - p - l) / f, n - b / f
		if ((b - s - p - l) / f > 0.15)
			printf "other processes took %.2f cores: the numbers understate this machine; rerun when it is quiet\n", (b - s - p - l) / f
	}' >"$out"
}

server_pids=() load_pid="" sampler_pid="" tmp=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local pid
	for pid in "$sampler_pid" "$load_pid" "${server_pids[@]}"; do
		if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	if [[ -n $tmp ]]; then
		rm -rf -- "$tmp"
	fi
}
trap cleanup EXIT
# Background jobs of a script ignore SIGINT: pass Ctrl-C on to the load generator.
trap 'log interrupted; exit 130' INT TERM

grpc_addrs=()
for ((i = 0; i < SERVERS; i++)); do
	if port_open $((GRPC_PORT + i)) || port_open $((HTTP_PORT + i)); then
		die "port $((GRPC_PORT + i)) or $((HTTP_PORT + i)) is already taken (another bench still running?)"
	fi
	grpc_addrs+=("127.0.0.1:$((GRPC_PORT + i))")
done
addrs=$(IFS=,; echo "${grpc_addrs[*]}")

log "building bin/passage and bin/passage-load"
"$GO" build -o bin/passage ./cmd/passage
"$GO" build -o bin/passage-load ./cmd/passage-load

admin_url=${DATABASE_URL:-}
psql=$(find_psql)
if [[ -z $admin_url ]]; then
	admin_url=$(deploy/local/postgres.sh start dev "$PG_PORT")
	# Postgres on the same machine is reached through its Unix-domain socket, as a deployment
	# on one host would: loopback TCP costs both sides CPU for nothing (the kernel's TCP send
	# path alone was about 5 % of a profile of the bench). BENCH_SOCKET=0 keeps TCP.
	if [[ ${BENCH_SOCKET:-1} != 0 ]]; then
		socket_dir=$("$psql" "$admin_url" -XtAq -c 'SHOW unix_socket_directories')
		socket_dir=${socket_dir%%,*}
		port=$("$psql" "$admin_url" -XtAq -c 'SHOW port')
		if [[ -n $socket_dir && -S $socket_dir/.s.PGSQL.$port ]]; then
			admin_url="postgres://postgres@/passage?host=$socket_dir&port=$port&sslmode=disable"
		fi
	fi
fi
bench_url=$(with_database "$admin_url" "$BENCH_DB")
log "recreating database $BENCH_DB"
"$psql" "$(with_database "$admin_url" postgres)" -Xq -v ON_ERROR_STOP=1 \
	-c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" >&2
"$psql" "$bench_url" -XtAq -c "SELECT 'postgres ' || current_setting('server_version') || ', synchronous_commit ' ||
	current_setting('synchronous_commit') || ', fsync ' || current_setting('fsync')" | sed 's/^/bench.sh: /' >&2
DATABASE_URL=$bench_url bin/passage migrate up >&2
# The cluster's postmaster, to count its CPU apart from other clusters on this machine (none
# when the server is elsewhere or its data directory is not readable).
postmaster=""
data_dir=$("$psql" "$bench_url" -XtAq -c 'SHOW data_directory' 2>/dev/null || true)
if [[ -n $data_dir && -r $data_dir/postmaster.pid ]]; then
	read -r postmaster <"$data_dir/postmaster.pid" || true
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/passage-bench.XXXXXX")
# One after the other: the first creates the development keys the others then read.
for ((n = 0; n < SERVERS; n++)); do
	log "starting passage serve --dev on ${grpc_addrs[n]} (PASSAGE_DB_MAX_CONNS=$PASSAGE_DB_MAX_CONNS); log: $tmp/server.log"
	# PASSAGE_QUOTA=off: the load is one caseworker's token, far over any person's quota; the
	# bench measures the server.
	env DATABASE_URL="$bench_url" PASSAGE_GRPC_ADDR="${grpc_addrs[n]}" PASSAGE_HTTP_ADDR="127.0.0.1:$((HTTP_PORT + n))" \
		PASSAGE_PARTNER_HTTP_ADDR=off PASSAGE_DEV_DIR="$tmp/dev" PASSAGE_LOG_LEVEL=warn PASSAGE_QUOTA=off \
		bin/passage serve --dev 2>>"$tmp/server.log" &
	server_pids+=($!)
	for ((i = 0; ; i++)); do
		if ! kill -0 "${server_pids[n]}" 2>/dev/null; then
			tail -n 20 "$tmp/server.log" >&2
			die "a server exited before it was ready"
		fi
		ready $((HTTP_PORT + n)) && break
		((i < READY_TIMEOUT * 5)) || die "a server was not ready after $READY_TIMEOUT s"
		sleep 0.2
	done
done

token=$(bin/passage dev-token --role caseworker --mission "$MISSION" --dir "$tmp/dev")

# Measure a mission that already holds cases, with planner statistics, as in production. On
# a fresh database autovacuum would analyze the tables only after its first minute's nap,
# and until then Postgres plans the duplicate search blind: some connections keep a generic
# plan that scans a whole table, and runs vary by a factor of two or more.
if ((preload > 0)); then
	log "preloading $preload cases, then ANALYZE"
	PASSAGE_TOKEN=$token bin/passage-load --addr "$addrs" --conns "$SERVERS" --mission "$MISSION" \
		--concurrency "$concurrency" --warmup 0s --duration 5m --requests "$preload" --json >"$tmp/preload.json" ||
		die "preloading failed: $(cat "$tmp/preload.json")"
	"$psql" "$bench_url" -Xq -c ANALYZE >&2
fi
log "running $concurrency clients on $conns connection(s) to $SERVERS server(s) for $warmup + $duration"
rc=0
PASSAGE_TOKEN=$token bin/passage-load --addr "$addrs" --mission "$MISSION" \
	--concurrency "$concurrency" --conns "$conns" --warmup "$warmup" --duration "$duration" \
	--min-rate "$min_rate" --max-p99 "$max_p99" "$@" &
load_pid=$!

warm_s=$(seconds "$warmup") span_s=$(seconds "$duration")
if [[ -z $postmaster ]]; then
	log "no CPU figures: the cluster's postmaster.pid is not readable from here"
elif [[ -n $warm_s && -n $span_s ]] && ((span_s >= 4)); then
	# A second in from each end of the window: the load generator must still be running at
	# the second sample.
	sample_cpu "$tmp/cpu.txt" "${server_pids[*]}" "$postmaster" "$load_pid" "$((warm_s + 1))" "$((span_s - 2))" &
	sampler_pid=$!
fi

wait "$load_pid" || rc=$?
load_pid=""
if [[ -n $sampler_pid ]]; then
	wait "$sampler_pid" 2>/dev/null || true
	sampler_pid=""
	if [[ -s $tmp/cpu.txt ]]; then
		while IFS= read -r line; do log "$line"; done <"$tmp/cpu.txt"
	fi
fi
for pid in "${server_pids[@]}"; do
	if ! kill -0 "$pid" 2>/dev/null; then
		server_rc=0
		wait "$pid" || server_rc=$?
		log "a server exited during the run (status $server_rc): every later call to it failed"
		rc=1
	fi
done
# The server logs at warn and above only; anything but the development-mode notice is news.
grep -v '"msg":"development mode' "$tmp/server.log" >"$tmp/server-news.log" || true
if [[ -s $tmp/server-news.log ]]; then
	log "the server logged $(wc -l <"$tmp/server-news.log") lines at warn or above; the last ones:"
	tail -n 5 "$tmp/server-news.log" >&2
fi
exit "$rc"
