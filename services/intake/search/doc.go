// Package search is the person search (passage.search.v1.PersonSearchService): it finds the
// people a mission already registered, by document, by name and date of birth, or by phone,
// and returns their cases, with the matched person's identity only to staff who may read the
// case's identity.
//
// Nothing is compared in clear: a criterion is turned into the blind indexes that
// registration stores (internal/vault: the duplicate check's document index, and the search
// kinds of searchindex.go), and the mission's vault.blind_index rows are looked up by digest.
// People registered before migration 000034 have no search index until the operator's
// backfill (Reindex, `passage search reindex`) or a correction of their identity computes
// them; until then they are found by document (the duplicate check's index) only.
//
// The service is intake's: registered from intake's Spec, it runs with intake's database
// role, pool and vault keyring. Every search writes one audit record with its purpose and the
// kinds of criterion used (never their values) and how many cases matched; each identity it
// returns writes the record GetCase's full view writes, in the same transaction that reads
// it. Searches are the quota class "search" (internal/quota), limited per caller well below
// reads.
package search
