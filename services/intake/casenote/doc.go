// Package casenote is the case notes service (passage.casenote.v1.CaseNoteService): the free
// text caseworkers write on a case, registered from intake's Spec and run with intake's role,
// pool and vault keyring. A note's text is identity-grade, so it is sealed with the data key
// of the person it is about (vault.Keyring.SealRecord, bound to the note, its version and the
// person): erasing that person (intake's ErasePerson deletes their vault row and wrapped key)
// leaves every note about them unreadable at once, and a read then returns the erasure. The
// tables (intake.case_note, intake.case_note_version) hold ciphertext, ids, codes and times;
// events (NoteAdded, NoteEdited) ids and codes; idempotency records the notes without text.
//
// Who reads and writes is intake's to decide (Cases, services/intake/notes.go): the staff who
// may read the case's identity, for the mission's own case or one handed over to it under a
// profile that allows identity, narrowed here by each note's sensitivity (access.go). Writing
// needs the caller to work on the case; reading states a purpose and is audited in the
// reading transaction. Both need the case's ASSISTANCE consent in force. A note is its
// writer's mission's (row-level security by that mission): across a hand-over, each mission
// reads only its own staff's notes. Every edit keeps the earlier versions, each readable as
// history by whoever may read its own sensitivity.
package casenote
