// Package handover is passage.handover.v1.HandoverService: the hand-over of a case's next part
// from one mission to another (docs/proposals/handover.md), the first slice of issue 17: the
// hand-over record and its negotiation.
//
// It keeps the programmes' hand-over data profiles (HQ's, versioned, immutable once
// published), a projection of intake's cases (built from intake's outbox events: mission,
// programme, status, principal subject id and the principal's DATA_SHARING consents in force,
// never identity), and the hand-overs. A hand-over is proposed by the mission whose case it is,
// for parts the programme has (parts.go), accepted or declined with a coded reason by the
// receiving mission, withdrawn by the sender before an answer, and completed by either once
// accepted (transition.go decides which move is whose). Accepting and completing re-check, at
// the moment of the move and in its transaction, what the proposal checked of the case: still
// open in intake (CASE_CLOSED otherwise) and, unless the hand-over rests on a legal basis, its
// DATA_SHARING consent still in force (CONSENT_WITHDRAWN; a withdrawal intake committed a
// moment ago is applied first). A hand-over so refused stays where it was, holding its parts:
// a proposal is then withdrawn by the sender or declined by the receiver; an accepted one is
// not completed. Its row is visible to both missions and to no third one (migrations/000023's
// sender_and_receiver policies), and the case's projection row to the receiving mission while
// a hand-over of it is open (000030), which only the case's own mission may propose; one part
// of a case is in one open hand-over at most, which the database holds (handover.part). Every change goes
// through internal/mutation: idempotent, versioned, audited in the acting mission's chain, with
// an outbox event of ids, missions, programme, parts and codes.
//
// Not in this slice, and next, as the proposal describes them:
//   - The programme services consume HandoverAccepted and create the receiving mission's part
//     of the case (for AVRR, returns."return" keyed by case and mission, the host's part ending
//     at HANDED_OVER and the origin's starting at AWAITING_ARRIVAL), and the sending mission's
//     part applies only the outcome events of the part it handed over.
//   - The receiving mission reads identity through intake as the hand-over's profile allows it
//     (intake.case_share), audited in its own chain with the hand-over's id; declined,
//     withdrawn and completed hand-overs grant nothing. A consent withdrawal then ends the
//     sharing on both sides at once.
//   - The follow-up service moves the open follow-ups of the parts handed over when it reads
//     HandoverAccepted.
//   - Analytics counts one journey once across the two missions' parts.
package handover
