package handover_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

const (
	avrr = commonv1.Programme_PROGRAMME_AVRR
	vot  = commonv1.Programme_PROGRAMME_VOT

	reception     = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	reintegration = handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION
	monitoring    = handoverv1.HandoverPart_HANDOVER_PART_MONITORING
	closure       = handoverv1.HandoverPart_HANDOVER_PART_CLOSURE
	continuing    = handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE
	transfer      = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER

	proposed  = handoverv1.HandoverStatus_HANDOVER_STATUS_PROPOSED
	accepted  = handoverv1.HandoverStatus_HANDOVER_STATUS_ACCEPTED
	declined  = handoverv1.HandoverStatus_HANDOVER_STATUS_DECLINED
	withdrawn = handoverv1.HandoverStatus_HANDOVER_STATUS_WITHDRAWN
	completed = handoverv1.HandoverStatus_HANDOVER_STATUS_COMPLETED

	incoming = handoverv1.HandoverDirection_HANDOVER_DIRECTION_INCOMING
	outgoing = handoverv1.HandoverDirection_HANDOVER_DIRECTION_OUTGOING
)

// TestNegotiation tells the story: IOM Germany proposes to hand Karim's AVRR case's reception,
// reintegration and monitoring to IOM Iraq before departure; Iraq finds it among its incoming
// hand-overs, accepts it, and completes it once Karim has arrived. Each change is audited in
// the chain of the mission that made it, with an event of ids and codes only.
func TestNegotiation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	h := b.propose(t, proposal(c, reception, reintegration, monitoring))
	if h.GetStatus() != proposed || h.GetVersion() != 1 || h.GetFromMission() != "DEU" || h.GetToMission() != "IRQ" ||
		h.GetSubjectId() != c.GetSubjectId() || h.GetConsentId() != sharingConsent(c) || h.GetProgramme() != avrr {
		t.Fatalf("proposed %v", h)
	}

	list, err := b.ho.ListHandovers(b.irq, &handoverv1.ListHandoversRequest{Direction: incoming})
	if err != nil {
		t.Fatal(err)
	}
	if got := list.GetHandovers(); len(got) != 1 || !proto.Equal(got[0], h) {
		t.Fatalf("IRQ's incoming %v, want the proposal", got)
	}
	for _, dir := range []handoverv1.HandoverDirection{outgoing} {
		list, err := b.ho.ListHandovers(b.irq, &handoverv1.ListHandoversRequest{Direction: dir})
		if err != nil || len(list.GetHandovers()) != 0 {
			t.Fatalf("IRQ's outgoing %v, %v; want none", list.GetHandovers(), err)
		}
	}
	list, err = b.ho.ListHandovers(b.deu, &handoverv1.ListHandoversRequest{Direction: outgoing})
	if err != nil || len(list.GetHandovers()) != 1 {
		t.Fatalf("DEU's outgoing %v, %v; want the proposal", list.GetHandovers(), err)
	}

	got, err := b.ho.GetHandover(b.irq, &handoverv1.GetHandoverRequest{HandoverId: h.GetHandoverId()})
	if err != nil || !proto.Equal(got.GetHandover(), h) {
		t.Fatalf("IRQ reads %v, %v", got.GetHandover(), err)
	}
	h = b.accept(t, h)
	if h.GetStatus() != accepted || h.GetVersion() != 2 {
		t.Fatalf("accepted %v", h)
	}
	done, err := b.ho.CompleteHandover(b.irq, &handoverv1.CompleteHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	if err != nil {
		t.Fatalf("CompleteHandover: %v", err)
	}
	if h = done.GetHandover(); h.GetStatus() != completed || h.GetVersion() != 3 {
		t.Fatalf("completed %v", h)
	}
	// DEU reads the end of it too.
	got, err = b.ho.GetHandover(b.deu, &handoverv1.GetHandoverRequest{HandoverId: h.GetHandoverId()})
	if err != nil || !proto.Equal(got.GetHandover(), h) {
		t.Fatalf("DEU reads %v, %v; want %v", got.GetHandover(), err, h)
	}

	events := b.eventsOf(t, h.GetCaseId(), h.GetHandoverId())
	var shape []string
	for _, e := range events {
		shape = append(shape, e.Type+"@"+e.Mission)
	}
	want := []string{"passage.handover.v1.HandoverProposed@DEU", "passage.handover.v1.HandoverAccepted@IRQ",
		"passage.handover.v1.HandoverCompleted@IRQ"}
	if strings.Join(shape, " ") != strings.Join(want, " ") {
		t.Errorf("events %v, want %v", shape, want)
	}
	wantNoPerson(t, c, events)
	accept := events[1].Payload.(*handoverv1.HandoverAccepted)
	if accept.GetCaseId() != c.GetCaseId() || accept.GetToMission() != "IRQ" || len(accept.GetParts()) != 3 || accept.GetVersion() != 2 ||
		accept.GetConsentId() != h.GetConsentId() || accept.GetLegalBasis() != h.GetLegalBasis() {
		t.Errorf("HandoverAccepted %v", accept)
	}

	var audited []string
	for _, r := range b.env.AuditRecords(t, "") {
		if r.AggregateID == h.GetHandoverId() {
			audited = append(audited, r.Method[strings.LastIndexByte(r.Method, '/')+1:]+"@"+r.Mission)
		}
	}
	if want := "ProposeHandover@DEU AcceptHandover@IRQ CompleteHandover@IRQ"; strings.Join(audited, " ") != want {
		t.Errorf("audited %v, want %s", audited, want)
	}
	b.env.ChainAudit(t)
}

// wantNoPerson fails the test if an event carries anything of the person: a name, a document
// number, or even the pseudonymous subject id.
func wantNoPerson(t *testing.T, c *intakev1.Case, events []testserver.Event) {
	t.Helper()
	for _, e := range events {
		text, err := protojson.Marshal(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{givenName, familyName, passport, c.GetSubjectId()} {
			if strings.Contains(string(text), s) {
				t.Errorf("%s carries %q: %s", e.Type, s, text)
			}
		}
	}
}

// TestDecline: IRQ declines with a coded reason, which the hand-over, its event and the audit
// record keep; a declined hand-over cannot be accepted after all, and the parts are free to be
// proposed again.
func TestDecline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	h := b.propose(t, proposal(c, reception))
	resp, err := b.ho.DeclineHandover(b.irq, &handoverv1.DeclineHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion(), Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_NO_CAPACITY})
	if err != nil {
		t.Fatalf("DeclineHandover: %v", err)
	}
	h = resp.GetHandover()
	if h.GetStatus() != declined || h.GetDeclineReason() != handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_NO_CAPACITY {
		t.Fatalf("declined %v", h)
	}
	events := b.eventsOf(t, h.GetCaseId(), h.GetHandoverId())
	if last, ok := events[len(events)-1].Payload.(*handoverv1.HandoverDeclined); !ok ||
		last.GetReason() != handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_NO_CAPACITY {
		t.Errorf("last event %v, want HandoverDeclined NO_CAPACITY", events[len(events)-1])
	}
	if recs := b.env.AuditRecords(t, handoverv1.HandoverService_DeclineHandover_FullMethodName); len(recs) != 1 ||
		recs[0].Reason != "NO_CAPACITY" || recs[0].Mission != "IRQ" {
		t.Errorf("decline audited as %v", recs)
	}
	_, err = b.ho.AcceptHandover(b.irq, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	wantReason(t, err, "INVALID_TRANSITION")
	again := b.propose(t, proposal(c, reception))
	if again.GetHandoverId() == h.GetHandoverId() || again.GetStatus() != proposed {
		t.Errorf("proposed again %v", again)
	}
}

// TestWithdraw: DEU withdraws its proposal before IRQ answers; IRQ can no longer accept it,
// and the parts are free to be proposed again.
func TestWithdraw(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	h := b.propose(t, proposal(c, reception, reintegration))
	resp, err := b.ho.WithdrawHandover(b.boss, &handoverv1.WithdrawHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	if err != nil {
		t.Fatalf("WithdrawHandover: %v", err)
	}
	if h = resp.GetHandover(); h.GetStatus() != withdrawn || h.GetVersion() != 2 {
		t.Fatalf("withdrawn %v", h)
	}
	_, err = b.ho.AcceptHandover(b.irq, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	wantReason(t, err, "INVALID_TRANSITION")
	b.propose(t, proposal(c, reception))
	if events := b.eventsOf(t, h.GetCaseId(), h.GetHandoverId()); len(events) != 2 ||
		events[1].Type != "passage.handover.v1.HandoverWithdrawn" || events[1].Mission != "DEU" {
		t.Errorf("events %v, want the proposal and the withdrawal in DEU", events)
	}
}

// TestMovesAreEachSidesOwn: the transition table decides who may move a hand-over: DEU may not
// answer its own proposal, IRQ may not withdraw it, nobody completes it before it is accepted,
// a stale version changes nothing, and a third mission finds nothing at all.
func TestMovesAreEachSidesOwn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	h := b.propose(t, proposal(c, reception))
	id, v := h.GetHandoverId(), h.GetVersion()
	accept := func(ctx context.Context, version int64) error {
		_, err := b.ho.AcceptHandover(ctx, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(), HandoverId: id, Version: version})
		return err
	}
	wantReason(t, accept(b.deu, v), "INVALID_TRANSITION")
	_, err := b.ho.DeclineHandover(b.deu, &handoverv1.DeclineHandoverRequest{RequestId: uuid.NewString(), HandoverId: id, Version: v,
		Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_DUPLICATE})
	wantReason(t, err, "INVALID_TRANSITION")
	_, err = b.ho.WithdrawHandover(b.irq, &handoverv1.WithdrawHandoverRequest{RequestId: uuid.NewString(), HandoverId: id, Version: v})
	wantReason(t, err, "INVALID_TRANSITION")
	_, err = b.ho.CompleteHandover(b.irq, &handoverv1.CompleteHandoverRequest{RequestId: uuid.NewString(), HandoverId: id, Version: v})
	wantReason(t, err, "INVALID_TRANSITION")
	wantReason(t, accept(b.irq, v+1), "STALE_VERSION")

	// NER, a third mission: not found, for every read and every move.
	_, err = b.ho.GetHandover(b.ner, &handoverv1.GetHandoverRequest{HandoverId: id})
	testserver.WantCode(t, err, codes.NotFound)
	testserver.WantCode(t, accept(b.ner, v), codes.NotFound)
	_, err = b.ho.WithdrawHandover(b.ner, &handoverv1.WithdrawHandoverRequest{RequestId: uuid.NewString(), HandoverId: id, Version: v})
	testserver.WantCode(t, err, codes.NotFound)
	list, err := b.ho.ListHandovers(b.ner, &handoverv1.ListHandoversRequest{})
	if err != nil || len(list.GetHandovers()) != 0 {
		t.Fatalf("NER lists %v, %v; want nothing", list.GetHandovers(), err)
	}
	// Nothing of the refused moves was written: the proposal alone.
	if n := len(b.eventsOf(t, c.GetCaseId(), id)); n != 1 {
		t.Errorf("%d events, want the proposal's alone", n)
	}
	got, err := b.ho.GetHandover(b.irq, &handoverv1.GetHandoverRequest{HandoverId: id})
	if err != nil || got.GetHandover().GetStatus() != proposed || got.GetHandover().GetVersion() != 1 {
		t.Fatalf("after the refusals: %v, %v", got.GetHandover(), err)
	}
	// And once accepted, the sender completes it as well as the receiver could.
	h = b.accept(t, h)
	if _, err := b.ho.CompleteHandover(b.deu, &handoverv1.CompleteHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: id, Version: h.GetVersion()}); err != nil {
		t.Fatalf("DEU completes: %v", err)
	}
}

// TestProposalRefusals: every proposal the rules refuse, refused with its own status, and
// nothing written.
func TestProposalRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	with := func(edit func(r *handoverv1.ProposeHandoverRequest)) *handoverv1.ProposeHandoverRequest {
		r := proposal(c, reception)
		edit(r)
		return r
	}
	for _, tc := range []struct {
		name   string
		req    *handoverv1.ProposeHandoverRequest
		code   codes.Code
		reason string // FAILED_PRECONDITION's reason, or the field of INVALID_ARGUMENT
	}{
		{"own mission", with(func(r *handoverv1.ProposeHandoverRequest) { r.ToMission = "DEU" }), codes.InvalidArgument, "to_mission"},
		{"a part of another programme", with(func(r *handoverv1.ProposeHandoverRequest) { r.Parts = []handoverv1.HandoverPart{continuing} }),
			codes.InvalidArgument, "parts"},
		{"a transfer beside a part", with(func(r *handoverv1.ProposeHandoverRequest) { r.Parts = []handoverv1.HandoverPart{transfer, reception} }),
			codes.InvalidArgument, "parts"},
		{"not the case's programme", with(func(r *handoverv1.ProposeHandoverRequest) {
			r.Programme, r.Parts = vot, []handoverv1.HandoverPart{continuing}
		}), codes.InvalidArgument, "programme"},
		{"neither consent nor legal basis", with(func(r *handoverv1.ProposeHandoverRequest) { r.ConsentId = "" }),
			codes.InvalidArgument, ""},
		{"both consent and legal basis", with(func(r *handoverv1.ProposeHandoverRequest) {
			r.LegalBasis = commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS
		}), codes.InvalidArgument, ""},
		{"a consent that is not the principal's sharing consent", with(func(r *handoverv1.ProposeHandoverRequest) {
			r.ConsentId = c.GetConsents()[0].GetConsentId() // ASSISTANCE
		}), codes.FailedPrecondition, "CONSENT_NOT_IN_FORCE"},
		{"an unpublished profile", with(func(r *handoverv1.ProposeHandoverRequest) { r.ProfileVersion = 9 }),
			codes.FailedPrecondition, "PROFILE_NOT_PUBLISHED"},
		{"a case that does not exist", with(func(r *handoverv1.ProposeHandoverRequest) { r.CaseId = uuid.NewString() }),
			codes.NotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.ho.ProposeHandover(b.deu, tc.req)
			st := testserver.WantCode(t, err, tc.code)
			switch {
			case tc.code == codes.FailedPrecondition:
				wantReason(t, err, tc.reason)
			case tc.reason != "":
				if got := testserver.FieldViolations(st); len(got) == 0 || got[0] != tc.reason {
					t.Errorf("fields %v, want %s", got, tc.reason)
				}
			}
		})
	}
	// Another mission's case is not found, as one that does not exist.
	req := proposal(c, reception)
	req.ToMission = "IRQ"
	_, err := b.ho.ProposeHandover(b.ner, req)
	testserver.WantCode(t, err, codes.NotFound)
	if n := b.env.Count(t, "handover.handover"); n != 0 {
		t.Fatalf("%d hand-overs written by refused proposals", n)
	}

	// A legal basis instead of consent is a proposal like any other.
	lb := proposal(c, reception)
	lb.ConsentId, lb.LegalBasis = "", commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS
	if h := b.propose(t, lb); h.GetLegalBasis() != commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS || h.GetConsentId() != "" {
		t.Errorf("proposed on a legal basis: %v", h)
	}
	// A part already in an open hand-over, alone or under a transfer, is refused; another part
	// of the case is not.
	_, err = b.ho.ProposeHandover(b.deu, proposal(c, reception, monitoring))
	wantReason(t, err, "HANDOVER_OPEN")
	_, err = b.ho.ProposeHandover(b.deu, proposal(c, transfer))
	wantReason(t, err, "HANDOVER_OPEN")
	b.propose(t, proposal(c, closure))
}

// TestIntakeChanges: a case closed in intake is handed over to no one, and a DATA_SHARING
// consent withdrawn in intake allows no proposal after the withdrawal (which the proposal
// applies first if the projection has not yet).
func TestIntakeChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	closed, unshared := b.register(t, avrr), b.register(t, avrr)
	if _, err := b.intake.CloseCase(b.deu, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: closed.GetCaseId(),
		Version: closed.GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_LOST_CONTACT}); err != nil {
		t.Fatalf("CloseCase: %v", err)
	}
	if _, err := b.intake.WithdrawConsent(b.deu, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(), CaseId: unshared.GetCaseId(),
		Version: unshared.GetVersion(), ConsentId: sharingConsent(unshared), Date: day(2026, 2, 1)}); err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	_, err := b.ho.ProposeHandover(b.deu, proposal(unshared, reception))
	wantReason(t, err, "CONSENT_NOT_IN_FORCE")
	b.awaitClosed(t, closed)
	_, err = b.ho.ProposeHandover(b.deu, proposal(closed, reception))
	wantReason(t, err, "CASE_CLOSED")
}

// TestTransferAndOtherProgrammes: a victim of trafficking's continuing assistance, and a
// transfer of the whole case, which then holds every part of it.
func TestTransferAndOtherProgrammes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := b.register(t, vot)
	h := b.propose(t, proposal(v, continuing))
	b.accept(t, h)

	c := b.register(t, avrr)
	tr := proposal(c, transfer)
	tr.Purpose = handoverv1.HandoverPurpose_HANDOVER_PURPOSE_ONWARD_MOVEMENT
	b.propose(t, tr)
	for _, p := range []handoverv1.HandoverPart{reception, reintegration, monitoring, closure} {
		_, err := b.ho.ProposeHandover(b.deu, proposal(c, p))
		wantReason(t, err, "HANDOVER_OPEN")
	}
}

// TestIdempotentReplay: a proposal and a move sent twice under one request id are applied
// once and answered alike; the same request id with another body is refused.
func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, avrr)
	req := proposal(c, reception)
	first := b.propose(t, req)
	second := b.propose(t, req)
	if !proto.Equal(first, second) {
		t.Fatalf("replayed proposal %v, want %v", second, first)
	}
	if n := b.env.Count(t, "handover.handover"); n != 1 {
		t.Fatalf("%d hand-overs, want 1", n)
	}
	acc := &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(), HandoverId: first.GetHandoverId(), Version: 1}
	a1, err := b.ho.AcceptHandover(b.irq, acc)
	if err != nil {
		t.Fatal(err)
	}
	// The retry names version 1, which is no longer current: a replay is answered before the
	// version check.
	a2, err := b.ho.AcceptHandover(b.irq, acc)
	if err != nil || !proto.Equal(a1, a2) {
		t.Fatalf("replayed accept %v, %v; want %v", a2, err, a1)
	}
	if n := len(b.eventsOf(t, first.GetCaseId(), first.GetHandoverId())); n != 2 {
		t.Errorf("%d events, want the proposal's and the acceptance's", n)
	}
	other := proposal(c, closure)
	other.RequestId = req.GetRequestId()
	_, err = b.ho.ProposeHandover(b.deu, other)
	st := testserver.WantCode(t, err, codes.InvalidArgument)
	if got := testserver.FieldViolations(st); len(got) != 1 || got[0] != "request_id" {
		t.Errorf("fields %v, want request_id", got)
	}
}

// TestListPages: ListHandovers pages newest first, by status and direction, and a token
// works only with the filters it was made for.
func TestListPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string
	for range 3 {
		c := b.register(t, avrr)
		ids = append(ids, b.propose(t, proposal(c, reception)).GetHandoverId())
	}
	var seen []string
	req := &handoverv1.ListHandoversRequest{Direction: incoming, Status: proposed, PageSize: 2}
	for {
		resp, err := b.ho.ListHandovers(b.irq, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range resp.GetHandovers() {
			seen = append(seen, h.GetHandoverId())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if want := []string{ids[2], ids[1], ids[0]}; strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("pages %v, want newest first %v", seen, want)
	}
	_, err := b.ho.ListHandovers(b.irq, &handoverv1.ListHandoversRequest{Direction: outgoing, PageToken: req.GetPageToken()})
	testserver.WantCode(t, err, codes.InvalidArgument)
	resp, err := b.ho.ListHandovers(b.irq, &handoverv1.ListHandoversRequest{Status: accepted})
	if err != nil || len(resp.GetHandovers()) != 0 {
		t.Errorf("accepted: %v, %v; want none", resp.GetHandovers(), err)
	}
}

// TestProfiles: HQ publishes versions, which never change and anyone on the staff lists; a
// mission may not publish.
func TestProfiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := b.ho.PublishHandoverProfile(b.hq, &handoverv1.PublishHandoverProfileRequest{RequestId: uuid.NewString(),
		Programme: avrr, Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX}})
	if err != nil || resp.GetProfile().GetVersion() != 2 {
		t.Fatalf("PublishHandoverProfile: %v, %v; want version 2", resp.GetProfile(), err)
	}
	_, err = b.ho.PublishHandoverProfile(b.env.As(t, auth.RoleProgrammeManager, "DEU"), &handoverv1.PublishHandoverProfileRequest{
		RequestId: uuid.NewString(), Programme: avrr, Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX}})
	testserver.WantCode(t, err, codes.PermissionDenied)
	list, err := b.ho.ListHandoverProfiles(b.irq, &handoverv1.ListHandoverProfilesRequest{Programme: avrr})
	if err != nil {
		t.Fatal(err)
	}
	if got := list.GetProfiles(); len(got) != 2 || got[0].GetVersion() != 2 || got[1].GetVersion() != 1 || len(got[1].GetFields()) != 3 {
		t.Errorf("AVRR profiles %v, want versions 2 and 1 as published", got)
	}
}
