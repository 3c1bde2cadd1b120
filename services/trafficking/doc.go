// Package trafficking is the service for assistance to victims of trafficking
// (passage.trafficking.v1.TraffickingService): it keeps, for every VoT case registered
// through intake, the screening outcome, the exploitation details in the CTDC / HTCDS
// vocabulary, direct assistance, law-enforcement cooperation and risk assessment, under
// optimistic concurrency with an outbox event for every fact. It learns of cases from intake's
// outbox and holds subject ids and codes only: no identity, no free text.
//
// A victim identified by one mission and assisted home (Thailand to Myanmar) is worked in part
// by the mission of origin once a hand-over is accepted (issue 17, services/handover). The
// same consumer that reads intake's events reads HandoverAccepted and keeps the grants of VoT
// cases in trafficking.part (internal/handoverpart; migration 000026). A case stays one row,
// one status and one version sequence; each step belongs to a part of it (parts.go, partOf):
//   - CONTINUING_ASSISTANCE, the support after return: RecordAssistance and CloseVictimCase.
//   - Identification and what comes before return (RecordScreening, RecordExploitation,
//     RecordLawEnforcementCooperation, AssessRisk) stay with the identifying mission; only the
//     whole case (TRANSFER) moves them.
//   - EndAssistance is no part's: each mission ends the assistance records it made.
//
// The mission holding a step's part now (the receiving mission of its newest grant, else the
// case's own) takes it (handoverpart.Check); the case's own mission is refused
// FAILED_PRECONDITION PART_HANDED_OVER, another part holder PART_NOT_HELD, both naming the part
// and its holder's mission; a mission with no part of the case does not find it. A step is written under the acting mission: its
// outbox event, audit record and idempotency record are that mission's.
//
// Row-level security holds it underneath: a part holder reads and moves the victim case
// (part_holder_reads, part_holder_moves), and an assistance record carries the mission that
// recorded it and is seen by that mission alone (recorder_only), so the identifying mission sees
// the outcome of the part it handed over (status, closure reason, version) and never the
// receiving mission's assistance, nor the receiver the sender's. A grant is seen by its two
// missions (the case lists its parts and their holders) and by no third.
//
// A request that finds no case catches up on the consumer's events before answering NOT_FOUND,
// so a receiving mission's first request after the acceptance finds the case. A step the
// case's own mission takes before the consumer has applied an acceptance is taken as before
// it: the hand-over's part begins when its grant is applied.
package trafficking
