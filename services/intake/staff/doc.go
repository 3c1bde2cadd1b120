// Package staff serves passage.staff.v1.StaffService, the staff directory's API, on intake's
// role, pool and keyring (intake's Spec registers it, as it does the case notes): supervisors
// list and read their own mission's team, administrators any mission's, and administrators
// alone provision a member ahead of their first sign-in, deactivate one and reactivate one.
//
// The directory itself (intake.staff_member, migration 000039) and how every process admits
// or refuses a member's calls by it are internal/staffdir's. Here are its changes:
//
//   - Each is a mutation (internal/mutation): idempotent by request_id, versioned (the version
//     the caller read), audited and published (StaffMemberChanged: ids and codes, never the
//     display name). A member's changes run in a transaction declared for the mission the
//     member is in, where they are audited with the administrator as the actor: an
//     administrator at HQ deactivating a caseworker of NER leaves the record in NER's chain.
//     (The record's caller mission is then NER too: the one mission the mutation knows.)
//   - ProvisionStaff with version 0 adds a member (ALREADY_EXISTS if there is one), with a
//     version changes their mission, role or name; either way the member is the
//     administrator's from then on, which a token does not move (staffdir's rules).
//   - DeactivateStaff makes a leaver: the same transaction unassigns them from every case of
//     their mission (intake's EndAssignments: each case's assignment lock, its
//     CaseAssignmentChanged event and audit record, as UnassignCase), so their cases appear in
//     the mission's unassigned caseload and follow-up, which follows those events, releases
//     the follow-ups that were theirs as the case's assignee. The member's row's notification
//     reaches every process at commit; the call answers once its own process has it (or after
//     2 s), so the answer means "refused here already".
//   - ReactivateStaff makes them active again; their assignments do not come back.
//
// The display name is the member's own name for team lists: read by intake's role only,
// never logged, audited, published nor put in an error.
package staff
