// Package intake is the case intake service (passage.intake.v1.IntakeService): it registers a
// migrant's case in a mission, encrypting every person's identity into the vault at the door
// and keeping only a random subject id and coded attributes in its own tables, flags suspected
// duplicates by blind index (naming the matching case only to staff who work on it and to the
// mission's supervisors; to anyone else, only that a match exists: duplicates.go), and keeps
// the case record under optimistic concurrency with an event in the outbox for every change.
// It decides who reads identity: the staff working on a case (its creator and those a
// supervisor assigns, each assignment published as CaseAssignmentChanged for the follow-up
// service), for a stated purpose, or a supervisor under a short-lived, reviewed break-glass
// grant (access.go, breakglass.go). It also erases people: ErasePerson on a
// supervisor's request, and EraseDue for the retention job, both through one path that
// records the erasure and crypto-shreds the vault row in the same transaction. Registrations
// that arrive together are written by one transaction, each with every guarantee it has alone
// (registrar.go).
package intake
