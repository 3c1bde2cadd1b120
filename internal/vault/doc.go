// Package vault is the identity vault's cryptography: every person's identity is sealed with
// a data key of its own (Tink AES256-GCM), wrapped by a key-encryption key (KEK), so
// destroying that one wrapped key erases the person (crypto-shredding, QueueErase); blind
// indexes (keyed HMAC of normalised identifiers) let the same person registered twice be
// found without any identifier stored in clear (BlindIndexes, the duplicate check's), and let
// a caseworker find a person already registered by a tolerant match (SearchIndexes: exact and
// transliteration-folded names with full or partial dates of birth, one name with the date,
// the phone's last digits; see searchindex.go). Free text about a person kept outside their
// identity (a case note) is sealed with the same data key (SealRecord, record.go), so that the
// erasure makes it unreadable too.
//
// The key model, for operators:
//   - The KEK is a Tink keyset of AES256-GCM keys. Its primary key wraps new data keys; every
//     wrap starts with the id of the key that made it (Tink's output prefix), copied into
//     vault.identity.kek_key_id so that "who still depends on key K" is an index look-up.
//   - Rotation (RotateKEK) adds a new primary key; running processes pick it up by reloading
//     the keyset (KeyringFiles.ReloadKEK). Rewrap then moves every data key to the new key
//     online, in short transactions; the data keys themselves and the identity ciphertexts
//     do not change. A write sealed before the reload re-wraps its entries right before it is
//     sent (Keyring.Rewrapped), and Rewrap, once no committed row is left, waits for the
//     transactions still running and counts again, so that when it returns no row is left
//     on the old key. RetireKEK destroys an old key once no row uses it.
//   - Erasure deletes the person's vault row at once. A backup taken before it still holds
//     the wrapped key, but wrapped by a KEK key that the next retirement destroys: from then
//     on the backup cannot be opened for that person (nor, by design, for anyone: restore a
//     backup taken after the last re-wrap).
//   - In production both keysets are stored encrypted under a key manager's key (KeysetFile
//     with a KMS AEAD, see internal/kms); cleartext keysets (LoadOrCreateDevKeyring,
//     LoadKeyring, KeysetFile without KMS) are for development and tests only.
package vault
