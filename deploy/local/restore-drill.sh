#!/usr/bin/env bash
# The restore drill: back up a running Passage (its database and its keys), lose both, restore
# them elsewhere, and check that what was written before the backup reads back whole: a case,
# its people's identity (which needs the keys as much as the rows), a case note, and every
# mission's audit chain. Then a new registration on the restored system.
#
#   deploy/local/restore-drill.sh      (make restore-drill; make test runs it)
#
# It runs on this machine's throwaway clusters (deploy/local/postgres.sh) with development
# keys, so it needs nothing set. In production the same steps apply with the production
# pieces: the base backup is CloudNativePG's (or pg_basebackup's, or your provider's), and the
# keys are the keyset files (PASSAGE_KEK_KEYSET, PASSAGE_BLIND_INDEX_KEYSET,
# PASSAGE_AUDIT_KEYSET, encrypted under the key manager's key) plus a snapshot of the key
# manager itself (HashiCorp Vault's `vault operator raft snapshot save`): see
# docs/operators.md, "Backup and restore".
#
# Prints each step and how long it took; exits non-zero at the first thing that does not
# read back as it was written.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$script_dir/../.." && pwd -P)
pg=$script_dir/postgres.sh
# Ports follow the test cluster's (TEST_PG_PORT, 55433 by default, CI's 55434), so that a
# developer's run and CI's clone on the same machine do not meet. They sit below Linux's
# ephemeral range (32768-60999), where any outgoing connection may hold a port for a while
# (CI once lost the drill that way); a server port found taken all the same moves on.
offset=$((${TEST_PG_PORT:-55433} - 55400))
readonly PRIMARY=drill-primary PRIMARY_PORT=$((25430 + offset)) RESTORED=drill-restored RESTORED_PORT=$((25460 + offset))
grpc_port=$((27100 + offset)) http_port=$((27200 + offset))
GRPC="" HTTP=""

work=$(mktemp -d)
server_pid=""
started=$SECONDS
step_at=$SECONDS

step() {
	printf 'restore-drill: [%3ds] %s\n' $((SECONDS - started)) "$*" >&2
	step_at=$SECONDS
}
die() {
	printf 'restore-drill: FAILED: %s\n' "$*" >&2
	if [[ -s $work/server.log ]]; then
		printf 'restore-drill: last lines of the server log:\n' >&2
		tail -n 20 "$work/server.log" >&2
	fi
	exit 1
}
cleanup() {
	stop_server
	"$pg" destroy "$PRIMARY" >/dev/null 2>&1 || true
	"$pg" destroy "$RESTORED" >/dev/null 2>&1 || true
	rm -rf -- "$work"
}
trap cleanup EXIT

stop_server() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}

# start_server runs `passage serve --dev` on database url with the keys in dir, and waits
# until it is ready. A server that finds its port taken is started again on the next pair
# (up to five times).
start_server() {
	local url=$1 dir=$2 attempt i log_at
	DATABASE_URL=$url PASSAGE_DEV_DIR=$dir "$passage" migrate up >/dev/null
	for ((attempt = 1; attempt <= 5; attempt++)); do
		GRPC=127.0.0.1:$grpc_port HTTP=127.0.0.1:$http_port
		touch "$work/server.log"
		log_at=$(wc -l <"$work/server.log")
		DATABASE_URL=$url PASSAGE_DEV_DIR=$dir PASSAGE_GRPC_ADDR=$GRPC PASSAGE_HTTP_ADDR=$HTTP \
			PASSAGE_PARTNER_HTTP_ADDR=off PASSAGE_LOG_LEVEL=warn "$passage" serve --dev >>"$work/server.log" 2>&1 &
		server_pid=$!
		for ((i = 0; i < 100; i++)); do
			if "$passage" healthcheck --http "$HTTP" >/dev/null 2>&1; then
				return 0
			fi
			if ! kill -0 "$server_pid" 2>/dev/null; then
				wait "$server_pid" 2>/dev/null || true
				server_pid=""
				tail -n "+$((log_at + 1))" "$work/server.log" | grep -q 'address already in use' ||
					die "the server exited at start"
				printf 'restore-drill: port %s or %s taken, moving on\n' "$grpc_port" "$http_port" >&2
				grpc_port=$((grpc_port + 300)) http_port=$((http_port + 300))
				continue 2
			fi
			sleep 0.2
		done
		die "the server was not ready after 20 s"
	done
	die "five pairs of ports were taken"
}

# cli runs the passage command line against the drill's server with a token of role in NER
# (the keys in dir sign it).
cli() {
	local dir=$1 role=$2
	shift 2
	local token
	token=$("$passage" dev-token --dir "$dir" --role "$role" --mission NER --subject "drill-$role")
	PASSAGE_ADDR=$GRPC PASSAGE_TOKEN=$token "$passage" "$@" 2>>"$work/cli.log"
}

step "building passage"
passage=$work/passage
(cd "$repo" && go build -o "$passage" ./cmd/passage)

step "a Passage with a case, a person's identity and a note"
keys=$work/keys
url=$(PG_PROFILE=dev "$pg" start "$PRIMARY" "$PRIMARY_PORT" 2>/dev/null)
start_server "$url" "$keys"
case_id=$(cli "$keys" caseworker case register --json --mission NER --programme avrr --host-country NER \
	--given-name Drill --family-name Restoré --dob 1990-01-02 --document passport:MLI:DRILL0001 |
	sed -n 's/^ *"caseId": *"\([^"]*\)".*/\1/p' | head -1)
[[ -n $case_id ]] || die "the registration printed no case id"
note="restore drill note $(date -u +%s)"
note_id=$(cli "$keys" caseworker note add "$case_id" --text "$note" --json |
	sed -n 's/^ *"noteId": *"\([^"]*\)".*/\1/p' | head -1)
[[ -n $note_id ]] || die "the note add printed no note id"
stop_server
DATABASE_URL=$url PASSAGE_DEV_DIR=$keys "$passage" audit verify --dev >/dev/null || die "the audit chains do not verify before the backup"

step "backing up the database (base backup) and the keys"
"$pg" backup "$PRIMARY" "$PRIMARY_PORT" "$work/backup/database" 2>/dev/null
cp -a "$keys" "$work/backup/keys"
backup_at=$SECONDS
printf 'restore-drill: backup: %s database, %s keys\n' "$(du -sh "$work/backup/database" | cut -f1)" \
	"$(du -sh "$work/backup/keys" | cut -f1)" >&2

step "losing both: the cluster destroyed, the keys deleted"
"$pg" destroy "$PRIMARY" 2>/dev/null
rm -rf -- "$keys"

step "restoring the database and the keys elsewhere"
restored_keys=$work/restored-keys
cp -a "$work/backup/keys" "$restored_keys"
url=$(PG_PROFILE=dev "$pg" restore "$RESTORED" "$RESTORED_PORT" "$work/backup/database" 2>/dev/null)
start_server "$url" "$restored_keys"
restore_seconds=$((SECONDS - backup_at))

step "checking what was written before the backup"
full=$(cli "$restored_keys" caseworker case get "$case_id" --full --purpose case_management)
grep -q "Restoré" <<<"$full" || die "the restored case's identity does not read back"
grep -q "$note" <<<"$(cli "$restored_keys" caseworker note get "$note_id" --purpose case_management)" ||
	die "the restored note does not read back"
found=$(cli "$restored_keys" caseworker search --document passport:MLI:DRILL0001 --purpose case_management)
grep -q "$case_id" <<<"$found" || die "the restored blind indexes do not find the person"

step "writing on the restored system"
cli "$restored_keys" caseworker case register --mission NER --programme hasm --host-country NER \
	--given-name After --family-name Restore >/dev/null || die "a registration after the restore failed"
stop_server
DATABASE_URL=$url PASSAGE_DEV_DIR=$restored_keys "$passage" audit verify --dev >/dev/null ||
	die "the audit chains do not verify after the restore"

step "passed: restored and checked in ${restore_seconds}s"
