// Package kmstest gives tests a key manager: Tink's fake KMS, registered once for the
// process, and a fresh key URI per call; and Vault, an HTTP server that speaks HashiCorp
// Vault's login, token renewal and transit endpoints, with tokens that expire for real.
// Test code only: the fake KMS keeps its key in the URI.
package kmstest
