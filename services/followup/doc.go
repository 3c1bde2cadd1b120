// Package followup is the follow-up service (passage.followup.v1.FollowUpService): the due
// dates the programmes create and people close. It learns of departures, arrivals,
// reintegration plans, monitoring visits, VoT assistance records and closed cases from the
// programmes' outbox events (returns, trafficking, hasm: projection.go), creates each
// follow-up at the date the mission's schedule gives (schedule.go: defaults per programme,
// seeded by migrations/000022, and the mission's overrides), closes those a later event
// settles, and lets people list, assign and close them (mutate.go: every change through
// internal/mutation). A reminder job (reminders.go) writes FollowUpDue and FollowUpOverdue
// once per follow-up, so that a mission can wire reminders to its own messaging; a missed
// follow-up stays open and overdue until someone closes it.
//
// A follow-up's mission is the mission of the event that created it, today the case's own
// (missionOf in projection.go). The hand-over of a case between missions (issue 17, to be
// built) moves a case's open follow-ups to the receiving mission: that is one UPDATE of
// their mission, declared for the sending mission, and missionOf choosing the receiving
// mission for events of the handed-over part; nothing else here assumes a case stays put,
// but the case's assignees: they are kept under the mission whose intake assigned them, so
// the receiving mission's follow-ups are nobody's there until that mission can assign its part.
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
// assignment): a supervisor assigns the case. The service has no staff directory and the
// programmes' events carry no actor.
//
// It holds no identity: intake case ids, staff subjects, codes and dates only.
package followup
