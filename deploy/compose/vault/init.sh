#!/bin/sh
# vault-init: initialises the example's Vault once, then sets up what Passage needs:
#   - the transit engine and the key passage-kek (aes256-gcm96), which encrypts Passage's
#     keyset files (PASSAGE_KEK_URI);
#   - a policy "passage" allowing only encrypt and decrypt with that key;
#   - an AppRole "passage" with that policy, whose role_id and secret_id it writes to
#     /vault/approle (the vault-approle volume, read by vault-proxy).
# Run by `docker compose run --rm vault-init`. It prints the five unseal key shares ONCE: hand
# them to five keepers (any three unseal), never keep them on this VM. The root token is used
# for the setup and revoked at the end. On an initialised Vault it only refreshes the AppRole's
# credentials (needing a token with the right to: VAULT_TOKEN from the operator).
set -eu
export VAULT_ADDR=https://vault:8200 VAULT_CACERT=/certs/ca.crt
approle=/vault/approle

# Wait for Vault to answer: `vault status` exits 0 unsealed, 2 sealed, 1 when unreachable.
tries=0
until vault status >/dev/null 2>&1 || [ $? -eq 2 ]; do
	tries=$((tries + 1))
	[ "$tries" -lt 60 ] || { echo "vault-init: Vault does not answer at $VAULT_ADDR" >&2; exit 1; }
	sleep 1
done

if vault status -format=json 2>/dev/null | grep -q '"initialized": false'; then
	out=$(vault operator init -key-shares=5 -key-threshold=3)
	echo "=== Vault initialised. Hand these five key shares to their keepers NOW (any three"
	echo "=== unseal Vault); they are shown once and stored nowhere."
	echo "$out" | grep '^Unseal Key [0-9]*:'
	for key in $(echo "$out" | sed -n 's/^Unseal Key [1-3]: //p'); do
		vault operator unseal "$key" >/dev/null
	done
	VAULT_TOKEN=$(echo "$out" | sed -n 's/^Initial Root Token: //p')
	export VAULT_TOKEN
	revoke=1
else
	: "${VAULT_TOKEN:?Vault is already initialised: set VAULT_TOKEN (an admin token) to refresh the AppRole}"
	revoke=0
fi

vault secrets list -format=json | grep -q '"transit/"' || vault secrets enable transit
vault read transit/keys/passage-kek >/dev/null 2>&1 ||
	vault write -f transit/keys/passage-kek type=aes256-gcm96 derived=false exportable=false
vault policy write passage - <<'POLICY'
path "transit/encrypt/passage-kek" { capabilities = ["update"] }
path "transit/decrypt/passage-kek" { capabilities = ["update"] }
POLICY
vault auth list -format=json | grep -q '"approle/"' || vault auth enable approle
vault write auth/approle/role/passage token_policies=passage token_ttl=1h token_max_ttl=24h \
	secret_id_num_uses=0 secret_id_ttl=0 >/dev/null
umask 077
vault read -field=role_id auth/approle/role/passage/role-id >"$approle/role_id"
vault write -f -field=secret_id auth/approle/role/passage/secret-id >"$approle/secret_id"
chown vault:vault "$approle/role_id" "$approle/secret_id"
echo "=== transit key passage-kek and AppRole passage ready; credentials in the vault-approle volume"

if [ "$revoke" = 1 ]; then
	vault token revoke -self >/dev/null
	echo "=== root token revoked (make a new one with 'vault operator generate-root' when needed)"
fi
