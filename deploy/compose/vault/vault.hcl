# HashiCorp Vault for the compose example: file storage on the vault-data volume, TLS 1.3 only.
# Sealed at every start: unseal with three of the five key shares (docs/operators/compose.md).
storage "file" {
  path = "/vault/file"
}

listener "tcp" {
  address         = "0.0.0.0:8200"
  tls_cert_file   = "/certs/vault.crt"
  tls_key_file    = "/certs/vault.key"
  tls_min_version = "tls13"
}

api_addr = "https://vault:8200"
ui       = false
