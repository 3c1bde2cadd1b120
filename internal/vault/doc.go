// Package vault is the identity vault's cryptography: every person's identity is sealed with
// a data key of its own (Tink AES256-GCM), wrapped by a key-encryption key, so destroying that
// one wrapped key erases the person; blind indexes (keyed HMAC of normalised identifiers) let
// the same person registered twice be found without any identifier stored in clear.
//
// Keys come from Tink keysets. LoadOrCreateDevKeyring keeps them as cleartext files and is
// for development only; production keys will come from a KMS-backed loader (a later issue).
package vault
