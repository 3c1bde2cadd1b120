# Vault Proxy: logs in with the AppRole credentials vault-init wrote (files on the
# vault-approle volume, never environment values) and forwards Passage's transit calls with
# that token, so Passage holds no Vault token. Only Passage shares its network (kek).
vault {
  address = "https://vault:8200"
  ca_cert = "/certs/ca.crt"
}

auto_auth {
  method "approle" {
    config = {
      role_id_file_path                   = "/vault/approle/role_id"
      secret_id_file_path                 = "/vault/approle/secret_id"
      remove_secret_id_file_after_reading = false
    }
  }
}

api_proxy {
  use_auto_auth_token = "force"
}

listener "tcp" {
  address         = "0.0.0.0:8100"
  tls_cert_file   = "/certs/vault-proxy.crt"
  tls_key_file    = "/certs/vault-proxy.key"
  tls_min_version = "tls13"
}
