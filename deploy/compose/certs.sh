#!/usr/bin/env sh
# Makes a throwaway CA and the certificates of the compose example under deploy/compose/certs/
# (ignored by git): one server certificate per service, named for its compose service name,
# and one client certificate, CN "passage-db", with which Passage logs in to Postgres (no
# password: pg_ident.conf maps that CN to the owner and the service roles).
#
# For trying the example on one VM. In production, certificates come from your own CA, and
# the client certificates of gRPC callers from the CA named by PASSAGE_TLS_CLIENT_CA.
#
#   deploy/compose/certs.sh [PUBLIC_NAME]
#
# PUBLIC_NAME (default passage.example.org) is added to the server certificates of passage,
# grafana and prometheus, the name clients use to reach the VM. Existing files are kept:
# remove certs/ to start again. Needs openssl.
set -eu

dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)/certs
public=${1:-passage.example.org}
days=825
mkdir -p "$dir"
cd "$dir"

if [ ! -f ca.key ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
		-subj "/CN=Passage compose example CA" -keyout ca.key -out ca.crt 2>/dev/null
	echo "made the CA: $dir/ca.crt"
fi

# issue NAME KIND SAN: a key and a certificate signed by the CA; KIND is serverAuth or clientAuth.
issue() {
	name=$1 kind=$2 san=$3
	[ -f "$name.crt" ] && return 0
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
		-keyout "$name.key" -out "$name.csr" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\nkeyUsage=digitalSignature\n' "$san" "$kind" >"$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$days" \
		-extfile "$name.ext" -out "$name.crt" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
	echo "made $name.crt ($san)"
}

issue postgres serverAuth "DNS:postgres"
issue vault serverAuth "DNS:vault,DNS:localhost,IP:127.0.0.1"
issue vault-proxy serverAuth "DNS:vault-proxy,DNS:localhost,IP:127.0.0.1"
issue otel-collector serverAuth "DNS:otel-collector"
issue prometheus serverAuth "DNS:prometheus,DNS:localhost,DNS:$public"
issue grafana serverAuth "DNS:grafana,DNS:localhost,DNS:$public"
issue passage serverAuth "DNS:passage,DNS:localhost,DNS:$public"
issue passage-partner serverAuth "DNS:passage,DNS:localhost,DNS:$public"
# Passage's client certificate for Postgres: the CN is the name pg_ident.conf maps.
issue passage-db clientAuth "DNS:passage-db"

# Each container runs as a user of its own image (postgres 999, vault 100, grafana 472, …),
# so the keys are readable by all: keep this directory on the VM only, and use certificates
# from your own CA, delivered to each service alone, in production. Postgres copies its key
# with its own owner and 0600 when it starts (it refuses a key readable by others).
chmod 0644 ./*.crt ./*.key
chmod 0600 ca.key
