package handover_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// withdrawSharing withdraws c's DATA_SHARING consent in intake, as DEU.
func (b *bundle) withdrawSharing(t *testing.T, c *intakev1.Case) *intakev1.Case {
	t.Helper()
	resp, err := b.intake.WithdrawConsent(b.deu, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: c.GetVersion(), ConsentId: sharingConsent(c), Date: day(2026, 2, 1)})
	if err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	return resp.GetCase()
}

// closeCase closes c in intake, as DEU, and waits until the projection holds it closed.
func (b *bundle) closeCase(t *testing.T, c *intakev1.Case) {
	t.Helper()
	if _, err := b.intake.CloseCase(b.deu, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_LOST_CONTACT}); err != nil {
		t.Fatalf("CloseCase: %v", err)
	}
	b.awaitClosed(t, c)
}

func (b *bundle) acceptErr(h *handoverv1.Handover) error {
	_, err := b.ho.AcceptHandover(b.irq, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	return err
}

func (b *bundle) completeErr(ctx context.Context, h *handoverv1.Handover) error {
	_, err := b.ho.CompleteHandover(ctx, &handoverv1.CompleteHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	return err
}

// wantUnmoved fails the test unless h is still as it was, with no event beside the ones it
// had: a refused move writes nothing.
func (b *bundle) wantUnmoved(t *testing.T, h *handoverv1.Handover, events int) {
	t.Helper()
	got, err := b.ho.GetHandover(b.deu, &handoverv1.GetHandoverRequest{HandoverId: h.GetHandoverId()})
	if err != nil || got.GetHandover().GetStatus() != h.GetStatus() || got.GetHandover().GetVersion() != h.GetVersion() {
		t.Errorf("after a refused move: %v, %v; want %v at version %d", got.GetHandover(), err, h.GetStatus(), h.GetVersion())
	}
	if n := len(b.eventsOf(t, h.GetCaseId(), h.GetHandoverId())); n != events {
		t.Errorf("%d events after a refused move, want %d", n, events)
	}
}

// TestMovesRecheckTheCase: accepting and completing re-check, at the moment of the move, what
// the proposal checked: a case closed in intake since, or a DATA_SHARING consent withdrawn
// since, is refused with its reason and nothing is written. The hand-over stays where it was:
// a proposal may still be withdrawn or declined, freeing its parts. A hand-over resting on a
// legal basis does not depend on the consent.
func TestMovesRecheckTheCase(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("consent withdrawn before the acceptance", func(t *testing.T) {
		c := b.register(t, avrr)
		h := b.propose(t, proposal(c, reception))
		// Not awaited: the move applies a withdrawal made a moment ago first.
		b.withdrawSharing(t, c)
		wantReason(t, b.acceptErr(h), "CONSENT_WITHDRAWN")
		b.wantUnmoved(t, h, 1)
		resp, err := b.ho.DeclineHandover(b.irq, &handoverv1.DeclineHandoverRequest{RequestId: uuid.NewString(),
			HandoverId: h.GetHandoverId(), Version: h.GetVersion(),
			Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_INCOMPLETE_INFORMATION})
		if err != nil || resp.GetHandover().GetStatus() != declined {
			t.Fatalf("IRQ declines: %v, %v", resp.GetHandover(), err)
		}
	})

	t.Run("case closed before the acceptance", func(t *testing.T) {
		c := b.register(t, avrr)
		h := b.propose(t, proposal(c, reception, reintegration))
		b.closeCase(t, c)
		wantReason(t, b.acceptErr(h), "CASE_CLOSED")
		b.wantUnmoved(t, h, 1)
		resp, err := b.ho.WithdrawHandover(b.deu, &handoverv1.WithdrawHandoverRequest{RequestId: uuid.NewString(),
			HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
		if err != nil || resp.GetHandover().GetStatus() != withdrawn {
			t.Fatalf("DEU withdraws: %v, %v", resp.GetHandover(), err)
		}
	})

	t.Run("consent withdrawn before the completion", func(t *testing.T) {
		c := b.register(t, avrr)
		h := b.accept(t, b.propose(t, proposal(c, reception)))
		b.withdrawSharing(t, c)
		wantReason(t, b.completeErr(b.irq, h), "CONSENT_WITHDRAWN")
		wantReason(t, b.completeErr(b.deu, h), "CONSENT_WITHDRAWN")
		b.wantUnmoved(t, h, 2)
	})

	t.Run("a legal basis outlives the consent, not the case", func(t *testing.T) {
		c := b.register(t, avrr)
		req := proposal(c, reception)
		req.ConsentId, req.LegalBasis = "", commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS
		h := b.propose(t, req)
		c = b.withdrawSharing(t, c)
		h = b.accept(t, h)
		b.closeCase(t, c)
		wantReason(t, b.completeErr(b.irq, h), "CASE_CLOSED")
		b.wantUnmoved(t, h, 2)
	})
}

// TestAttemptsOnAHandover: the attack attempts of issue 17 that the hand-over service answers,
// beside those TestMovesAreEachSidesOwn, TestDecline, TestWithdraw and TestProposalRefusals
// make: a third mission declining or completing, any move of a completed hand-over, the
// receiving mission proposing the case it is offered onward, and a profile version forged
// from another programme's or out of range.
func TestAttemptsOnAHandover(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	h := b.propose(t, proposal(c, reception))

	// IRQ reads the case's projection while it is offered the hand-over, yet only the case's
	// own mission proposes: IRQ finds no case to hand to NER.
	onward := proposal(c, monitoring)
	onward.ToMission = "NER"
	_, err := b.ho.ProposeHandover(b.irq, onward)
	testserver.WantCode(t, err, codes.NotFound)

	_, err = b.ho.DeclineHandover(b.ner, &handoverv1.DeclineHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion(), Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_DUPLICATE})
	testserver.WantCode(t, err, codes.NotFound)
	h = b.accept(t, h)
	testserver.WantCode(t, b.completeErr(b.ner, h), codes.NotFound)
	_, err = b.ho.WithdrawHandover(b.deu, &handoverv1.WithdrawHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	wantReason(t, err, "INVALID_TRANSITION")

	done, err := b.ho.CompleteHandover(b.irq, &handoverv1.CompleteHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	if err != nil {
		t.Fatalf("CompleteHandover: %v", err)
	}
	h = done.GetHandover()
	wantReason(t, b.acceptErr(h), "INVALID_TRANSITION")
	_, err = b.ho.DeclineHandover(b.irq, &handoverv1.DeclineHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion(), Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_DUPLICATE})
	wantReason(t, err, "INVALID_TRANSITION")
	wantReason(t, b.completeErr(b.deu, h), "INVALID_TRANSITION")
	b.wantUnmoved(t, h, 3)
	_, err = b.ho.GetHandover(b.ner, &handoverv1.GetHandoverRequest{HandoverId: h.GetHandoverId()})
	testserver.WantCode(t, err, codes.NotFound)

	// Version 2 of AVRR's profile is published; no version 2 of VoT's is, and no version 0 of
	// any.
	if _, err := b.ho.PublishHandoverProfile(b.hq, &handoverv1.PublishHandoverProfileRequest{RequestId: uuid.NewString(),
		Programme: avrr, Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX}}); err != nil {
		t.Fatalf("PublishHandoverProfile: %v", err)
	}
	v := b.register(t, vot)
	forged := proposal(v, continuing)
	forged.ProfileVersion = 2
	_, err = b.ho.ProposeHandover(b.deu, forged)
	wantReason(t, err, "PROFILE_NOT_PUBLISHED")
	for _, version := range []int32{0, -1} {
		forged.RequestId, forged.ProfileVersion = uuid.NewString(), version
		_, err = b.ho.ProposeHandover(b.deu, forged)
		st := testserver.WantCode(t, err, codes.InvalidArgument)
		if got := testserver.FieldViolations(st); len(got) != 1 || got[0] != "profile_version" {
			t.Errorf("profile version %d: fields %v, want profile_version", version, got)
		}
	}
	if n := b.env.Count(t, "handover.handover"); n != 1 {
		t.Errorf("%d hand-overs written, want the one accepted and completed", n)
	}
}
