package handover_test

import (
	"testing"

	"github.com/passage-cm/passage/internal/testserver"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// proposeCall is a ProposeHandover of req by a caseworker of DEU, for testserver.Race.
func (b *bundle) proposeCall(req *handoverv1.ProposeHandoverRequest) func() (*handoverv1.ProposeHandoverResponse, error) {
	return func() (*handoverv1.ProposeHandoverResponse, error) { return b.ho.ProposeHandover(b.deu, req) }
}

// TestRacingProposalsOfOnePart: two proposals of the same part of a case, each past its checks
// before either writes, cannot both hold it: the database's one open hand-over per part lets
// one through and refuses the other HANDOVER_OPEN, with nothing of it written.
func TestRacingProposalsOfOnePart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	_, errs := testserver.Race(t, b.env, "handover.part", b.proposeCall(proposal(c, reception)), b.proposeCall(proposal(c, reception, closure)))
	through := 0
	for _, err := range errs {
		if err == nil {
			through++
			continue
		}
		wantReason(t, err, "HANDOVER_OPEN")
	}
	if through != 1 {
		t.Fatalf("%d proposals went through, want 1 (%v)", through, errs)
	}
	if n := b.env.Count(t, "handover.handover"); n != 1 {
		t.Errorf("%d hand-overs written, want 1", n)
	}
}

// TestRacingRetriesOfAProposal: retries of one proposal racing for its request id are answered
// alike, and one hand-over is written.
func TestRacingRetriesOfAProposal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := proposal(b.register(t, avrr), reception)
	results, errs := testserver.Race(t, b.env, "handover.idempotency", b.proposeCall(req), b.proposeCall(req))
	testserver.WantAlike(t, results, errs)
	if n := b.env.Count(t, "handover.handover"); n != 1 {
		t.Errorf("%d hand-overs written, want 1", n)
	}
}
