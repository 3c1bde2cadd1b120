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
//
// Across missions (FindElsewhere), a supervisor asks which OTHER missions know a person, by
// document or by name with the full date of birth: the exact kinds only (document, name_dob),
// never the folded, partial-date or one-name kinds, since the asker sees no identity that
// could rule out a loose hit, so a loose hit would only tell them that someone like the person
// is there. The answer is, per case, the mission, programme, status and registration year: no
// case id, subject id or identity leaves the other mission, and the server decrypts no
// identity to give it. The transaction declares the criterion's digests
// (database.DeclareSearchElsewhere); migration 000038's policies then show intake's role those
// digests' exact-kind rows in other missions and their cases, and let it add one record to each
// answering mission's chain ("ASKED_ELSEWHERE by=<kind>", the asking mission as the record's
// caller mission) beside the asking mission's own (purpose, kind, number of missions). It
// draws on the same quota bucket as SearchPersons.
package search
