// Package projector turns the services' outbox events into HQ's anonymised statistics: it is
// the outbox consumer of the analytics service, connected as passage_analytics_projector.
//
// For every person an event counts (a registration's principal applicant, each traveller of a
// departure, the recipient of an assistance, an identified victim, the principal of a decided
// HASM request) it appends a de-identified fact to analytics.fact and adds one to the matching
// analytics.rollup row, in the consumer's transaction, so the rollup always equals the facts
// and an event is applied exactly once in effect.
//
// Referrals are counted once each, under their current status: the first ReferralChanged
// applied while the referral may be counted appends its fact, and every later change moves
// its one from the old status's rollup row to the new one's (-1, +1) and updates the fact.
// analytics_state.referral keeps the version of the last change applied, so a change
// delivered again, or late, moves nothing. An outbound referral is described by its case's
// principal; an inbound one names no person in Passage and is counted with every person
// dimension UNKNOWN.
//
// Consent: only persons whose in_statistics is true in the latest intake event about their
// case are counted (intake derives it from the STATISTICS consent records, internal/consent).
// A withdrawal acts from then on: what was counted before stays counted, as published figures
// do; nothing recorded after it counts the person (a referral counted before stays under the
// status it had, and its later changes do not move it). A registration is counted when the
// principal is first in statistics (at registration, or when their consent is recorded later).
//
// To know who may be counted and what a person's coded attributes are, the projector keeps a
// pseudonymous state (analytics_state, keyed by case and subject id, under row-level security
// per mission), which the query role cannot read. Nothing it writes to schema analytics
// carries a subject id, case id or mission.
//
// Hand-overs: one journey is counted once, whichever missions work it. The projector records
// the accepted hand-overs (the hand-over service's HandoverAccepted, internal/handoverpart) in
// analytics_state.part. A receiving mission records the steps of its parts under its own
// mission (IOM Iraq's assistance to a returnee IOM Germany registered); such an event is
// applied to the state of the case's own mission (ownCase): the people as intake describes
// them, and the once-per-person records (a person returned once per case, assisted once per
// type and year, a victim identified once), which the events of both missions share. An event
// of a mission that holds no part of the case counts no one.
//
// Persons returned: a person is counted once per case, at the first departure of the case
// that names them, under the host and return countries it names, whichever mission records it
// (the host's, or after a TRANSFER the receiving mission's). In HASM, after a hand-over of
// RECEPTION, the host mission's request and the receiving mission's may each record a
// departure of the same people; the later one counts none of them again
// (analytics_state.member.departed keeps whom a departure of their case named, and a person
// not in statistics at that first departure is not counted at a later one). Persons assisted
// are counted at each assistance, under the host country of the case's registration and the
// return country the assistance names. No dimension is a mission, so a handed-over journey
// counts exactly as one that was not.
package projector
