# The Vault policy of every Passage service (docs/operators/kubernetes.md): encrypt and
# decrypt with the transit key that encrypts the keyset files, the key PASSAGE_KEK_URI names
# in app/config.yaml (transit/keys/passage), and nothing else: not reading, rotating,
# exporting or deleting the key. Renewing its own token (auth/token/renew-self) comes with
# Vault's default policy, which the roles keep.
path "transit/encrypt/passage" {
  capabilities = ["update"]
}

path "transit/decrypt/passage" {
  capabilities = ["update"]
}
