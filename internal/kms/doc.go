// Package kms gives the vault the key manager's key that encrypts its keyset files, through
// Tink's KMS integration: a key URI (PASSAGE_KEK_URI) names the key, and the Tink KMS client
// registered for the URI's scheme returns an AEAD whose key never leaves the key manager.
// HashiCorp Vault's transit engine (hcvault://) is built in, so a mission or region can keep
// its key manager on its own premises; its client logs in as PASSAGE_VAULT_AUTH says (a static
// VAULT_TOKEN, or Kubernetes or AppRole auth, whose token is kept alive: hcvaultlogin).
// Tests register a fake KMS under a test URI, or run kmstest's Vault server.
package kms
