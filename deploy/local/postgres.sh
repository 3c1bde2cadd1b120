#!/usr/bin/env bash
# A private, throwaway PostgreSQL cluster for developing and testing Passage.
#
#   deploy/local/postgres.sh start NAME PORT   start (initialising if needed); prints DATABASE_URL
#   deploy/local/postgres.sh stop NAME         stop it (no error if it is not running)
#   deploy/local/postgres.sh crash NAME        stop it as a crash would (immediate mode), for fault tests
#   deploy/local/postgres.sh url NAME PORT     print DATABASE_URL
#   deploy/local/postgres.sh status NAME       say whether it runs; exit 0 if it does, 3 if not
#   deploy/local/postgres.sh destroy NAME      stop it and delete its data
#   deploy/local/postgres.sh backup NAME PORT DIR   a physical base backup of the running cluster
#                                              into the new folder DIR (pg_basebackup, WAL
#                                              included, checked with pg_verifybackup)
#   deploy/local/postgres.sh restore NAME PORT DIR  a new cluster NAME from the base backup DIR,
#                                              started on PORT; prints DATABASE_URL
#   deploy/local/postgres.sh standby NAME PORT PRIMARY_PORT  a new cluster NAME streaming from
#                                              the running cluster on PRIMARY_PORT
#                                              (pg_basebackup -R), started on PORT as a hot
#                                              standby; prints its DATABASE_URL
#
# PG_PROFILE=dev (default) keeps durability on; PG_PROFILE=test turns it off for speed.
# Only the URL goes to stdout, so `url=$(deploy/local/postgres.sh start dev 55432)` works;
# everything else is logged to stderr. See deploy/local/README.md.
set -euo pipefail

readonly DATABASE=passage

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$script_dir/../.." && pwd -P)
readonly REPO_ROOT

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

usage() {
	cat >&2 <<'EOF'
usage: deploy/local/postgres.sh start NAME PORT
       deploy/local/postgres.sh stop NAME
       deploy/local/postgres.sh crash NAME
       deploy/local/postgres.sh url NAME PORT
       deploy/local/postgres.sh status NAME
       deploy/local/postgres.sh destroy NAME
       deploy/local/postgres.sh backup NAME PORT DIR
       deploy/local/postgres.sh restore NAME PORT DIR
       deploy/local/postgres.sh standby NAME PORT PRIMARY_PORT
environment: PG_PROFILE=dev (default, durable) or PG_PROFILE=test (fsync off)
EOF
	exit 64
}

check_name() {
	[[ $1 =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "invalid cluster name '$1' (use lower-case letters, digits, - and _)"
}

check_port() {
	if ! [[ $1 =~ ^[0-9]{4,5}$ ]] || ((10#$1 < 1024 || 10#$1 > 65535)); then
		die "invalid port '$1' (1024-65535)"
	fi
}

database_url() {
	printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable\n' "$1" "$DATABASE"
}

# find_bindir sets BINDIR to the server binaries: pg_config's bindir when it holds a server
# (Debian's pg_config may come from libpq-dev alone), else the newest /usr/lib/postgresql/*/bin.
find_bindir() {
	BINDIR=""
	if command -v pg_config >/dev/null 2>&1; then
		local dir
		dir=$(pg_config --bindir 2>/dev/null || true)
		if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
			BINDIR=$dir
			return
		fi
	fi
	local candidate
	while IFS= read -r candidate; do
		if [[ -x $candidate/initdb && -x $candidate/pg_ctl ]]; then
			BINDIR=$candidate
		fi
	done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
	if [[ -z $BINDIR ]]; then
		log "PostgreSQL server packages are missing: sudo apt-get install -y postgresql"
		exit 2
	fi
}

find_psql() {
	if [[ -x $BINDIR/psql ]]; then
		PSQL=$BINDIR/psql
	elif command -v psql >/dev/null 2>&1; then
		PSQL=$(command -v psql)
	else
		log "the PostgreSQL client is missing: sudo apt-get install -y postgresql-client"
		exit 2
	fi
	if [[ -x $BINDIR/pg_isready ]]; then
		PG_ISREADY=$BINDIR/pg_isready
	elif command -v pg_isready >/dev/null 2>&1; then
		PG_ISREADY=$(command -v pg_isready)
	else
		log "pg_isready is missing: sudo apt-get install -y postgresql-client"
		exit 2
	fi
}

# choose_user sets PG_USER, the account that owns and runs the cluster. initdb and the
# server refuse to run as root, so root hands them to an unprivileged account.
choose_user() {
	PG_USER=""
	if ((EUID != 0)); then
		return
	fi
	if id -u postgres >/dev/null 2>&1; then
		PG_USER=postgres
		return
	fi
	PG_USER=passage-pg
	if ! id -u "$PG_USER" >/dev/null 2>&1; then
		log "creating system user $PG_USER to run PostgreSQL (initdb refuses root)"
		useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
	fi
}

# as_pg runs a command as the cluster's owner, from / so that an unreadable working
# directory (for example root's home) does not upset initdb or pg_ctl.
as_pg() {
	if [[ -z $PG_USER ]]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u "$PG_USER" -- "$@")
	else
		(cd / && su -s /bin/sh -c "$(printf '%q ' "$@")" "$PG_USER")
	fi
}

repo_datadir() { printf '%s/.passage/postgres/%s' "$REPO_ROOT" "$1"; }

# fallback_root is where root keeps clusters when PG_USER cannot reach the repository
# (a checkout inside a 0700 home directory): one folder per invoking user and checkout.
fallback_root() {
	local hash
	hash=$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)
	printf '/tmp/passage-pg-%s-%s' "$EUID" "$hash"
}

# find_datadir sets DATADIR to the cluster's existing data directory, or to where a new
# one would go in the repository when there is none.
find_datadir() {
	local name=$1
	DATADIR=$(repo_datadir "$name")
	if [[ ! -e $DATADIR/PG_VERSION && -n $PG_USER ]]; then
		local fallback
		fallback=$(fallback_root)/$name
		if [[ -e $fallback/PG_VERSION ]]; then
			DATADIR=$fallback
		fi
	fi
}

# make_datadir creates DATADIR for a new cluster, owned by PG_USER and reachable by it.
make_datadir() {
	local name=$1
	if [[ -z $PG_USER ]]; then
		mkdir -p "$DATADIR"
		chmod 0700 "$DATADIR"
		return
	fi
	local parent=$REPO_ROOT/.passage/postgres
	mkdir -p "$parent"
	# Search permission only (no listing): PG_USER must pass through to its own folder.
	chmod a+x "$REPO_ROOT/.passage" "$parent" 2>/dev/null || true
	if as_pg test -x "$parent" 2>/dev/null; then
		DATADIR=$parent/$name
	else
		local root
		root=$(fallback_root)
		log "$PG_USER cannot reach $parent (is a parent folder private?); keeping cluster '$name' in $root/$name instead"
		if [[ ! -d $root ]]; then
			mkdir -m 0711 "$root"
		fi
		# /tmp is shared: refuse a folder that someone else planted there.
		[[ -d $root && ! -L $root && -O $root ]] || die "$root exists but is not a folder owned by $(id -un); remove it"
		chmod 0711 "$root"
		DATADIR=$root/$name
	fi
	mkdir -p "$DATADIR"
	chown "$PG_USER:" "$DATADIR"
	chmod 0700 "$DATADIR"
}

locale_option() {
	if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
		printf '%s' '--locale=C.UTF-8'
	else
		printf '%s' '--locale=C'
	fi
}

init_cluster() {
	local name=$1
	make_datadir "$name"
	log "initialising cluster '$name' in $DATADIR"
	local initlog
	initlog=$(mktemp)
	# shellcheck disable=SC2064 # expand now: initlog is local
	trap "rm -f '$initlog'" EXIT
	# The test profile does not wait for the new files to reach the disk (fsync is off there anyway).
	local sync=()
	if [[ ${PG_PROFILE:-dev} == test ]]; then
		sync=(--no-sync)
	fi
	if ! as_pg "$BINDIR/initdb" -D "$DATADIR" -U postgres --auth=trust -E UTF8 "$(locale_option)" "${sync[@]}" >"$initlog" 2>&1; then
		cat "$initlog" >&2
		die "initdb failed for cluster '$name'"
	fi
	rm -f "$initlog"
	trap - EXIT
	# Our settings live in passage.conf, rewritten on every start so the profile can change.
	printf "\n# Passage: settings for this throwaway cluster, rewritten by deploy/local/postgres.sh.\ninclude_if_exists = 'passage.conf'\n" |
		as_pg tee -a "$DATADIR/postgresql.conf" >/dev/null
}

# write_settings writes passage.conf for PROFILE and PORT.
write_settings() {
	local port=$1 profile=$2
	local socket_dir=$DATADIR
	# A Unix socket path must fit in 107 bytes; everything here connects over TCP anyway.
	if ((${#DATADIR} + 20 > 107)); then
		socket_dir=""
	fi
	{
		printf '# Written by deploy/local/postgres.sh (profile %s). Edits are overwritten.\n' "$profile"
		printf "listen_addresses = '127.0.0.1'\n"
		printf 'port = %s\n' "$port"
		printf "unix_socket_directories = '%s'\n" "$socket_dir"
		case $profile in
		dev)
			# Durable like production: the benchmarks measure commit latency.
			printf 'fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n'
			printf 'shared_buffers = 256MB\nmax_connections = 200\n'
			;;
		test)
			# Throwaway: trade crash safety for speed.
			printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
			printf 'max_connections = 300\n'
			;;
		esac
	} | as_pg tee "$DATADIR/passage.conf" >/dev/null
}

is_running() {
	[[ -e $DATADIR/PG_VERSION ]] && as_pg "$BINDIR/pg_ctl" status -D "$DATADIR" >/dev/null 2>&1
}

# running_port prints the port of the running server, from postmaster.pid's fourth line.
running_port() {
	sed -n 4p "$DATADIR/postmaster.pid" 2>/dev/null || true
}

wait_ready() {
	local port=$1 i
	for ((i = 0; i < 30; i++)); do
		if "$PG_ISREADY" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres -t 1; then
			return 0
		fi
		sleep 1
	done
	return 1
}

log_tail() {
	log "last lines of $DATADIR/postgres.log:"
	tail -n 30 "$DATADIR/postgres.log" >&2 2>/dev/null || true
}

create_database() {
	local port=$1
	local conn="host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=disable"
	local exists
	exists=$("$PSQL" "$conn" -XtAq -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")
	if [[ $exists != 1 ]]; then
		log "creating database $DATABASE"
		"$PSQL" "$conn" -Xq -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DATABASE" >&2
	fi
}

cmd_start() {
	local name=$1 port=$2
	local profile=${PG_PROFILE:-dev}
	case $profile in
	dev | test) ;;
	*) die "PG_PROFILE must be dev or test, not '$profile'" ;;
	esac
	find_bindir
	find_psql
	choose_user
	find_datadir "$name"

	if [[ -e $DATADIR/PG_VERSION ]]; then
		local have want
		have=$(<"$DATADIR/PG_VERSION")
		want=$("$BINDIR/pg_ctl" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')
		if [[ $have != "$want" ]]; then
			die "cluster '$name' in $DATADIR was made by PostgreSQL $have but $BINDIR is $want: remove it with 'deploy/local/postgres.sh destroy $name'"
		fi
	fi

	if is_running; then
		local actual
		actual=$(running_port)
		if [[ $actual != "$port" ]]; then
			die "cluster '$name' is already running on port $actual, not $port: stop it first"
		fi
		log "cluster '$name' is already running on port $port ($DATADIR)"
	else
		# Fail clearly rather than with a bind error in the log: often another checkout's cluster.
		local rc=0
		"$PG_ISREADY" -q -h 127.0.0.1 -p "$port" -t 1 || rc=$?
		if ((rc == 0 || rc == 1)); then
			die "port $port is taken by another PostgreSQL (another checkout's cluster?): stop it or choose another port"
		fi
		if [[ ! -e $DATADIR/PG_VERSION ]]; then
			if [[ -d $DATADIR && -n $(ls -A "$DATADIR") ]]; then
				die "$DATADIR is neither empty nor a cluster: remove it with 'deploy/local/postgres.sh destroy $name'"
			fi
			init_cluster "$name"
		fi
		write_settings "$port" "$profile"
		log "starting cluster '$name' (profile $profile) on 127.0.0.1:$port; log: $DATADIR/postgres.log"
		if ! as_pg "$BINDIR/pg_ctl" start -D "$DATADIR" -l "$DATADIR/postgres.log" -w -t 30 >/dev/null 2>&1; then
			log_tail
			die "cluster '$name' did not start"
		fi
	fi
	if ! wait_ready "$port"; then
		log_tail
		die "cluster '$name' is not accepting connections on port $port after 30 s"
	fi
	create_database "$port"
	database_url "$port"
}

cmd_stop() {
	local name=$1
	find_bindir
	choose_user
	find_datadir "$name"
	if ! is_running; then
		log "cluster '$name' is not running"
		return 0
	fi
	log "stopping cluster '$name'"
	as_pg "$BINDIR/pg_ctl" stop -D "$DATADIR" -m fast -w -t 60 >/dev/null
}

# cmd_crash stops the cluster in immediate mode: every backend is killed, nothing is written
# at shutdown, and the next start recovers from the WAL, as after a crash. The fault tests use
# it, followed by start, as `pg_ctl restart -m immediate`.
cmd_crash() {
	local name=$1
	find_bindir
	choose_user
	find_datadir "$name"
	if ! is_running; then
		die "cluster '$name' is not running"
	fi
	log "stopping cluster '$name' in immediate mode"
	as_pg "$BINDIR/pg_ctl" stop -D "$DATADIR" -m immediate -w -t 60 >/dev/null
}

cmd_status() {
	local name=$1
	find_bindir
	choose_user
	find_datadir "$name"
	if [[ ! -e $DATADIR/PG_VERSION ]]; then
		echo "cluster '$name': not initialised"
		return 3
	fi
	if is_running; then
		echo "cluster '$name': running on 127.0.0.1:$(running_port) ($DATADIR)"
		return 0
	fi
	echo "cluster '$name': stopped ($DATADIR)"
	return 3
}

cmd_destroy() {
	local name=$1
	# Without server binaries nothing can be running: just remove the files.
	if (find_bindir) 2>/dev/null; then
		cmd_stop "$name"
	fi
	local dir
	for dir in "$(repo_datadir "$name")" "$(fallback_root)/$name"; do
		if [[ -d $dir ]]; then
			log "removing $dir"
			rm -rf -- "$dir"
		fi
	done
	rmdir "$(fallback_root)" 2>/dev/null || true
}

# cmd_backup takes a base backup of the running cluster on port into dir, which must not
# exist: plain format (pg_verifybackup checks it against its manifest), the WAL needed to
# make it consistent streamed alongside, a fast checkpoint so it starts at once.
cmd_backup() {
	local name=$1 port=$2 dir=$3
	find_bindir
	choose_user
	find_datadir "$name"
	is_running || die "cluster '$name' is not running"
	[[ ! -e $dir ]] || die "$dir exists: a backup goes into a new folder"
	log "base backup of cluster '$name' into $dir"
	"$BINDIR/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$dir" -Fp -X stream \
		--checkpoint=fast --manifest-checksums=SHA256 -l "passage $(date -u +%FT%TZ)" >&2 ||
		die "pg_basebackup failed"
	"$BINDIR/pg_verifybackup" -q "$dir" >&2 || die "the backup in $dir does not match its manifest"
}

# cmd_restore makes a new cluster name from the base backup dir (left as it is) and starts it
# on port with the current profile's settings.
cmd_restore() {
	local name=$1 port=$2 dir=$3
	find_bindir
	find_psql
	choose_user
	find_datadir "$name"
	[[ -e $dir/PG_VERSION && -e $dir/backup_manifest ]] || die "$dir is not a base backup"
	[[ ! -e $DATADIR/PG_VERSION ]] || die "cluster '$name' exists: restore into a new name, or destroy it first"
	make_datadir "$name"
	log "restoring cluster '$name' from $dir into $DATADIR"
	cp -a "$dir/." "$DATADIR/"
	rm -f "$DATADIR/backup_manifest"
	if [[ -n $PG_USER ]]; then
		chown -R "$PG_USER:" "$DATADIR"
	fi
	chmod 0700 "$DATADIR"
	cmd_start "$name" "$port"
}

# cmd_standby makes a new cluster name, a streaming replica of the running cluster on
# primary_port: a base backup taken straight into its data directory, with -R writing
# standby.signal and the primary_conninfo that streams from the primary (the local clusters
# trust replication connections from loopback), then started on port as a hot standby, which
# answers read-only queries. Stop and destroy it as any cluster; stopping the primary leaves
# it running, retrying the connection.
cmd_standby() {
	local name=$1 port=$2 primary_port=$3
	find_bindir
	find_psql
	choose_user
	find_datadir "$name"
	[[ ! -e $DATADIR/PG_VERSION ]] || die "cluster '$name' exists: a standby is a new cluster, destroy it first"
	"$PG_ISREADY" -q -h 127.0.0.1 -p "$primary_port" -t 1 || die "no PostgreSQL accepts connections on port $primary_port"
	make_datadir "$name"
	log "standby '$name' of the cluster on port $primary_port, into $DATADIR"
	# As the cluster's owner, so that the files are its own; the application name is what
	# pg_stat_replication shows on the primary.
	local sync=()
	if [[ ${PG_PROFILE:-dev} == test ]]; then
		sync=(--no-sync)
	fi
	if ! as_pg "$BINDIR/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$DATADIR" -Fp -X stream \
		--checkpoint=fast -R -d "application_name=$name" "${sync[@]}" >&2; then
		die "pg_basebackup from port $primary_port failed"
	fi
	cmd_start "$name" "$port"
}

main() {
	(($# >= 1)) || usage
	local cmd=$1
	shift
	case $cmd in
	start | url)
		(($# == 2)) || usage
		check_name "$1"
		check_port "$2"
		if [[ $cmd == start ]]; then cmd_start "$1" "$2"; else database_url "$2"; fi
		;;
	backup | restore)
		(($# == 3)) || usage
		check_name "$1"
		check_port "$2"
		"cmd_$cmd" "$1" "$2" "$3"
		;;
	standby)
		(($# == 3)) || usage
		check_name "$1"
		check_port "$2"
		check_port "$3"
		cmd_standby "$1" "$2" "$3"
		;;
	stop | crash | status | destroy)
		(($# == 1)) || usage
		check_name "$1"
		"cmd_$cmd" "$1"
		;;
	*) usage ;;
	esac
}

main "$@"
