// Package intake is the case intake service (passage.intake.v1.IntakeService): it registers a
// migrant's case in a mission, encrypting every person's identity into the vault at the door
// and keeping only a random subject id and coded attributes in its own tables, flags suspected
// duplicates by blind index (naming the matching case only to staff who work on it and to the
// mission's supervisors; to anyone else, only that a match exists: duplicates.go), and keeps
// the case record under optimistic concurrency with an event in the outbox for every change.
// It decides who reads identity: the staff working on a case (its creator and those a
// supervisor assigns, each assignment published as CaseAssignmentChanged for the follow-up
// service), for a stated purpose, or a supervisor under a short-lived, reviewed break-glass
// grant (access.go, breakglass.go). A case is assigned only to an active member of the staff
// directory in the assignment's mission (internal/staffdir.CheckAssignee), and a leaver's
// assignments end in their deactivation's transaction, each as UnassignCase ends one
// (leaver.go; the directory's API is services/intake/staff). It also erases people: ErasePerson on a
// supervisor's request, and EraseDue for the retention job, both through one path that
// records the erasure and crypto-shreds the vault row in the same transaction. Registrations
// that arrive together are written by one transaction, each with every guarantee it has alone
// (registrar.go); PASSAGE_REGISTER_BATCHES_IN_FLIGHT is how many such transactions the
// database sees at once from all of intake's processes together, each live process taking
// its share as it counts them every few seconds (internal/procshare). Registration and a
// correction of the principal's identity also store the person search's blind indexes
// (vault.SearchIndexes), which the duplicate check never looks up; the search itself (services/intake/search) is served from intake's Spec, on intake's
// role, pool and keyring, and finds only the mission's own registrations: a receiving
// mission reads a handed-over case through GetCase, but does not find its people by search.
//
// It serves the case notes (passage.casenote.v1, package casenote) beside itself, with its
// role, pool and keyring: a note is identity-grade, so intake decides who reads and writes a
// case's notes as it decides who reads its identity (NoteAccess, notes.go), and the note is
// sealed with the data key of the person it is about, whom ErasePerson's crypto-shredding
// then makes unreadable in every note at once. The documents (passage.document.v1, package
// document) are served the same way, under the same access rules: each chunk of a file is
// sealed with its person's data key, so erasure shreds their documents too.
//
// A case handed over to another mission (passage.handover.v1) is shared with it: intake's
// outbox consumer keeps the hand-over profiles' fields and each accepted hand-over
// (intake.case_share, shareevents.go), and the receiving mission of a live one (ACCEPTED or
// COMPLETED) then reads the case through GetCase with only the fields the profile allows, and
// identity for its own staff assigned there or under its own break-glass grant, for a stated
// purpose, audited in its own chain with the hand-over's id (share.go, shareview.go). The case
// and each identity stay one row, the owner's: ErasePerson's crypto-shredding reaches the
// receiver's view at once. The sharing needs the hand-over's DATA_SHARING consent in force in
// intake's own consent records, checked at each read (and by the database for the vault row),
// unless the hand-over rests on a legal basis; a withdrawal thus ends it on both sides at once.
// The receiving mission's supervisors assign its own staff, published as CaseAssignmentChanged
// under the receiving mission; each mission's assignments are its own. ListCases lists only
// the mission's own cases: a receiver finds its incoming cases through ListHandovers, and the
// list's filters (host country, registration dates) are over fields a profile may not allow.
// A proposed, declined or withdrawn hand-over shares nothing: the case is NOT_FOUND, as any
// other mission's.
//
// ListCases is the caseload (list.go): the mission's own cases filtered by whose they are
// (the caller's, a colleague's for a supervisor, or nobody's assigned), programme, status,
// vulnerability, host country, registration date and last activity (the case's update_time),
// sorted by registration or last activity, keyset-paged, with counts of every match on the
// first page. Its names view adds each principal's name where the caller may read the case's
// identity (the rule of GetCase's full view), for a stated purpose, with one audit record per
// case named, written in the transaction that opens the vault.
//
// GetCaseHistory tells what happened to a case, oldest first, from what is already kept
// (history.go): the outbox events of every service filed under the case, each with who did it (the staff subject of the audit record that the same
// transaction wrote, or "system" for what a service did on another's event) and its coded
// fields, read from the payload by reflection with every string left out but codes and staff
// subjects (historydetail.go). It holds no identity, so the mission's field staff read it, as
// GetCase's basic view; each read is audited. Row-level security decides what each mission
// sees: a transaction declared for the caller's mission reads only that mission's events,
// follow-ups and audit records of changes (migrations/000035), so across a hand-over the
// sending and the receiving mission each read their own side, and a mission the case is not
// shared with does not find it.
package intake
