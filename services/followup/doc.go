// Package followup is the follow-up service (passage.followup.v1.FollowUpService): the due
// dates the programmes create and people close. It learns of departures, arrivals,
// reintegration plans, monitoring visits, VoT assistance records and closed cases from the
// programmes' outbox events (returns, trafficking, hasm: projection.go), creates each
// follow-up at the date the mission's schedule gives (schedule.go: defaults per programme,
// seeded by migrations/000022, and the mission's overrides), closes those a later event
// settles, and lets people list, assign and close them (mutate.go: every change through
// internal/mutation). A reminder job (reminders.go) writes FollowUpDue and FollowUpOverdue
// once per follow-up, so that a mission can wire reminders to its own messaging; a missed
// follow-up stays open and overdue until someone closes it. Every event about a follow-up is
// filed in the outbox under its case (caseOf), as every service files its events about a case.
//
// A follow-up is one mission's, and a case's follow-ups may be two missions'. The hand-over of
// a case between missions (issue 17) gives the receiving mission parts of it; each follow-up
// kind belongs to a part (parts.go, partOf): AVRR's arrival confirmation to the reception, its
// reintegration plan to the reintegration, its monitoring visits (the Reintegration
// Sustainability Survey among them) to the monitoring; a VoT assistance review to the
// continuing assistance; a HASM arrival confirmation (the disbursement's) to the reception; a
// TRANSFER gives every part. The same consumer reads the hand-over service's HandoverAccepted
// into followup.part (internal/handoverpart, migrations/000029: seen by the two missions, by
// no third) and, in the same transaction and declared for the receiving mission, takes the
// case's open follow-ups of the parts granted from the sending mission: the same rows (id,
// dates, reminders already written, events), unassigned (their assignee was the sender's
// staff), at their next version, with a FollowUpMoved under the receiving mission. The
// consumer's move is no person's request: like its other changes, it writes an event and no
// audit record. A grant read again moves nothing; closed follow-ups stay where they were
// closed. Only the consumer's transaction may take them (grant_receiver_takes_open_follow_ups);
// no request of one mission reads another's.
//
// From then on a programme event's follow-ups of each kind are the mission's that holds the
// kind's part (missionsOf in parts.go: handoverpart.Holder over the grants the event's
// mission sees), or else the case's own mission's, which is the event's unless a receiving
// mission wrote it: DEU's departure after it handed over the reception creates IRQ's arrival
// confirmation, IRQ's arrival closes it and creates IRQ's visits if IRQ holds the monitoring
// and DEU's reintegration plan if DEU kept the reintegration. Each kind's follow-ups are closed
// and created under their mission's declaration, and their events written under it, so that
// a follow-up created by one mission and closed by the other's event (DEU's closing of the
// return closing IRQ's visits) closes. The reminder job writes a moved follow-up's reminders
// under its new mission, each once: the marks move with the row. The case's assignees are
// kept under the mission whose intake assigned them (case_assignee), so a moved follow-up is
// in the receiving mission's unassigned list until that mission assigns it or the case.
//
// Whose a follow-up is (assignees.go, store.go): its own assignee's when a supervisor set one
// (AssignFollowUp), and otherwise its case's assignees' in intake. Intake publishes every
// AssignCase and UnassignCase as CaseAssignmentChanged, with the case's assignees after the
// change; the same consumer reads it into followup.case_assignee (one row per case and staff
// member, under row-level security like the follow-ups), replacing the case's assignees, and
// ListFollowUps' "mine" and a named colleague's join it (two branches merged in due order:
// the follow-ups assigned to the person, and the unassigned ones of their cases). Intake serialises one case's
// assignment changes, so their events are read in the order they were made. The caseworker
// who registered a case is not among its assignees (intake lets them read it without an
// assignment): a supervisor assigns the case. The programmes' events carry no actor.
//
// The staff directory (internal/staffdir): AssignFollowUp refuses an assignee who is not an
// active member of the follow-up's mission (FAILED_PRECONDITION on assignee). When an
// administrator deactivates a member, intake unassigns their cases (CaseAssignmentChanged
// releases the follow-ups they had as the case's assignee) and publishes StaffMemberChanged,
// which the consumer also reads (000040): the open follow-ups a supervisor assigned to the
// leaver lose their assignee, at a new version, each with a FollowUpAssigned event naming
// the leaver as the previous assignee (assignees.go).
//
// It holds no identity: intake case ids, staff subjects, codes and dates only.
package followup
