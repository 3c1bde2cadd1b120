// Package handover is passage.handover.v1.HandoverService: the hand-over of a case's next part
// from one mission to another (docs/proposals/handover.md): the hand-over record and its
// negotiation.
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
// of a case is in one open hand-over at most, which the database holds (handover.part). Every
// change goes through internal/mutation: idempotent, versioned, audited in the acting mission's chain, with
// an outbox event of ids, missions, programme, parts and codes.
//
// What an accepted hand-over gives is kept by the services that act on it, each from the
// HandoverAccepted event (filed under the case, mutation.Kind.About, so that a step on the case
// catches up on it as on a consent change): the programme services and the follow-ups keep
// grants of parts (internal/handoverpart) by which the receiving mission works its part and the
// sending mission is refused it; intake keeps the share by which the receiving mission reads
// the identity the profile allows; analytics counts the journey once. This service holds none
// of that, and no identity.
package handover
