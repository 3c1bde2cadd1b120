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
// mission for events of the handed-over part; nothing else here assumes a case stays put.
//
// The service has no staff directory and the programmes' events carry no actor; intake's case
// assignments (AssignCase, which grant reading identity) are kept in intake and written to no
// event, and no service reads another's tables. So a new follow-up takes the assignee of its
// case's most recently assigned follow-up, or none: a supervisor assigns a case's first
// follow-up and the case's later ones follow it. Were intake to publish its assignments, the
// consumer would follow them like any programme event.
//
// It holds no identity: intake case ids, staff subjects, codes and dates only.
package followup
