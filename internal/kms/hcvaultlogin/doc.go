// Package hcvaultlogin logs the HashiCorp Vault client of the key manager (internal/kms) in,
// and keeps its token alive, so that no long-lived token need be handed to a process.
//
// PASSAGE_VAULT_AUTH says how ([Settings]): token (the default) uses VAULT_TOKEN as Vault's
// client reads it, unchanged; kubernetes presents the pod's service account token (a
// projected token with Vault's audience) for a role, PASSAGE_VAULT_ROLE; approle presents a
// role id and secret id read from files. Credentials come from files only, read again at
// every login (Kubernetes rotates its tokens), and appear in no error or log line.
//
// [Login] logs in once, at start, and fails with the setting it needs. [Session.Keep] then
// renews the token with the client's LifetimeWatcher and logs in again when renewal fails
// or the token reaches its maximum lifetime, retrying with backoff and logging each failure;
// told by [Refusals] that Vault refused the token to a call (revoked before its lease ended),
// it logs in again at once.
// A login sets the token on the client itself, so whatever shares the client (Tink's
// hcvault AEAD) uses the current token.
package hcvaultlogin
