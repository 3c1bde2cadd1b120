// Package subjectaccess exports everything Passage holds about one person, for a data
// protection request (the IOM Data Protection Principles' right of access): the operator's
// `passage export` (docs/operators/subject-access.md).
//
// An Exporter gathers, for a person (a subject id) of a mission: their identity, opened from
// the vault; every intake case they are a member of, and what each service keeps about those
// cases in each mission that holds part of them (the person's own, then every mission a case
// was handed over to, and on from there): the case and the person's coded member row, their
// consents and withdrawals, assignments, break-glass grants, hand-overs and their profiles,
// the receiving missions' shares and assignments, the returns, trafficking and HASM rows,
// follow-ups, referrals with their transitions, partner and data profile (what was shared);
// each case's history as GetCaseHistory shows it to each mission; the person's notes with the
// text of every version; their documents' metadata and bytes; their erasure; and the audit
// records about all of these. Rows are kept whole (to_jsonb, columns as in the migrations)
// but for sealed text, digests and partner secrets; rows about the case's other people are
// left out (their member rows, their own consents, notes and documents).
//
// Each table is read by the database role of the service that keeps it (Source), declared for
// the mission whose rows it reads, under the same row-level security as that service: the
// export needs no grant a service lacks, and no role of its own. Audit records are read by the
// auditor's role, which reads every mission's by design.
//
// The bundle is one new file (mode 0600; an existing file is refused): a tar archive of
// documents/<document id>/<kind><extension> (each document's bytes, decrypted chunk by
// chunk as the store streams them, so memory holds one chunk whatever the document's size,
// and checked against its sealed SHA-256), record.json (the structured record), then
// manifest.json (format and version, generation time, mission, subject, request reference,
// who ran it, whether the person is erased, and every other entry's size and SHA-256). A
// person already erased is exported with what remains: coded rows, note and document
// metadata, the erasure record; no identity, note text or document bytes (none can be read).
//
// The export is audited in the mission's chain (Method, by the staff id who ran it, about the
// subject id, with the request reference as the record's request id; never what the bundle
// holds) once the file is written and synced, and before Export returns; if the record cannot
// be written the file is removed. Errors name tables, ids and counts, never what the rows hold.
//
// The tables are read in one transaction per service and mission, not in one snapshot: a
// change made while the export runs may show in one table and not yet in another. Run it on a
// person whose cases are at rest, or export again.
package subjectaccess
