// Package audit records who did what to which case, and why, in a form no service and no
// database owner can quietly change.
//
// What is recorded. Every mutating RPC of every service and every read that returns
// decrypted identity writes one audit.record: the caller's pseudonymous staff subject, role
// and mission, the full gRPC method, the case (or request, or fund) id, the coded reason the
// request states if any, the RPC's request id and the mutation's idempotency key, and the
// time. Records hold no personal data: every field is a pseudonymous id, a random id or a
// code, never free text. A mutation adds its record (Add) to the statement that writes its
// idempotency record, in the same transaction as its change, so a refused call writes none
// and a replayed retry writes no second one; an identity read writes its record (Write) before
// decrypting, so data is never returned unrecorded.
//
// Why it cannot be quietly changed. Service roles may only INSERT records. A Chainer,
// connected as passage_auditor, links the committed records of each mission in commit order
// (the outbox consumer's rule: (tx_id, record_id) below outbox.Horizon) into a chain: link n
// holds HMAC-SHA256(key, canonical(record, n, mac of link n-1)). The key is a Tink keyset
// held by the application (audit.json beside the vault's dev keysets, PASSAGE_AUDIT_KEYSET
// in production) and never stored in the database: with a dump and the owner's rights one
// can change rows, but not compute the MACs that would make the change verify. Verify
// recomputes every link and names the first one that fails: an altered, removed, moved or
// reordered record, a missing link, a forged MAC.
//
// What it does not prove. A record inserted by the owner before the chainer reaches it is
// chained like any other (the chain proves records were not changed after linking, not who
// inserted them). Cutting links off the end of a chain is detected against the chainer's
// cursor, but an owner who also rewinds the cursor has the chainer link the (altered) tail
// again: only a head noted outside the database (Chain.Head, printed by `passage audit
// verify`) exposes that. Requests never wait on a chain head,
// so the chain trails the writes by the poll interval; Verify reports what is not linked yet.
package audit
