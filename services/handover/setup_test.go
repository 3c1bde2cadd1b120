package handover_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/intake"
)

var day = testtime.Day

// bundle is one running server with intake and handover, and the callers of the tests: field
// staff of DEU (the host mission that sends), IRQ (the origin mission that receives) and NER (a
// third mission), and a programme manager at HQ.
type bundle struct {
	env    *testserver.Env
	intake intakev1.IntakeServiceClient
	ho     handoverv1.HandoverServiceClient
	deu    context.Context // a caseworker of DEU
	boss   context.Context // a supervisor of DEU
	irq    context.Context // a caseworker of IRQ
	ner    context.Context // a caseworker of NER
	hq     context.Context
}

// setup starts intake and handover on one server, the projection of intake's cases following
// its events in the background as in production, and publishes version 1 of every programme's
// hand-over profile.
func setup(t *testing.T) *bundle {
	t.Helper()
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), handover.Spec()},
		// "Today" holds still but moves a millisecond a call, so that "newest first" is defined.
		Clock: testtime.Ticking(testtime.Today).Now,
	})
	b := &bundle{
		env:    env,
		intake: intakev1.NewIntakeServiceClient(env.Conn),
		ho:     handoverv1.NewHandoverServiceClient(env.Conn),
		deu:    env.As(t, auth.RoleCaseworker, "DEU"),
		boss:   env.As(t, auth.RoleSupervisor, "DEU"),
		irq:    env.As(t, auth.RoleCaseworker, "IRQ"),
		ner:    env.As(t, auth.RoleCaseworker, "NER"),
		hq:     env.As(t, auth.RoleProgrammeManager, auth.MissionHQ),
	}
	for _, p := range []commonv1.Programme{commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_VOT,
		commonv1.Programme_PROGRAMME_HASM} {
		if _, err := b.ho.PublishHandoverProfile(b.hq, &handoverv1.PublishHandoverProfileRequest{RequestId: uuid.NewString(),
			Programme: p, Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_NAME,
				handoverv1.HandoverField_HANDOVER_FIELD_SEX, handoverv1.HandoverField_HANDOVER_FIELD_AGE_BAND}}); err != nil {
			t.Fatalf("PublishHandoverProfile: %v", err)
		}
	}
	return b
}

// Karim's particulars, which must never leave the vault.
const (
	givenName  = "Karim"
	familyName = "Al-Rawi-Haddad"
	passport   = "B7731942"
)

// register registers a case of Karim's in DEU under programme p, with his ASSISTANCE consent
// and his DATA_SHARING consent for IOM Iraq.
func (b *bundle) register(t *testing.T, p commonv1.Programme) *intakev1.Case {
	t.Helper()
	resp, err := b.intake.RegisterCase(b.deu, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "DEU", Programme: p, HostCountry: "DEU",
		Principal: &commonv1.Person{GivenName: givenName, FamilyName: familyName, DateOfBirth: day(1988, 4, 2),
			Sex: commonv1.Sex_SEX_MALE, Nationality: "IRQ",
			Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: passport, IssuingCountry: "IRQ"}}},
		Consents: []*commonv1.Consent{
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 1, 10)},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "IOM-IRQ", Date: day(2026, 1, 10)},
		},
		RegistrationDate: day(2026, 1, 10),
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase()
}

// sharingConsent is the id of c's DATA_SHARING consent record.
func sharingConsent(c *intakev1.Case) string {
	for _, x := range c.GetConsents() {
		if x.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
			return x.GetConsentId()
		}
	}
	return ""
}

// proposal is a proposal to IRQ of parts of c, resting on the principal's DATA_SHARING consent,
// with version 1 of the profile.
func proposal(c *intakev1.Case, parts ...handoverv1.HandoverPart) *handoverv1.ProposeHandoverRequest {
	return &handoverv1.ProposeHandoverRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Programme: c.GetProgramme(),
		ToMission: "IRQ", Parts: parts, Purpose: handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION,
		ConsentId: sharingConsent(c), ProfileVersion: 1}
}

// propose proposes req as a caseworker of DEU, which must succeed.
func (b *bundle) propose(t *testing.T, req *handoverv1.ProposeHandoverRequest) *handoverv1.Handover {
	t.Helper()
	resp, err := b.ho.ProposeHandover(b.deu, req)
	if err != nil {
		t.Fatalf("ProposeHandover: %v", err)
	}
	return resp.GetHandover()
}

// accept accepts h as a caseworker of IRQ, which must succeed.
func (b *bundle) accept(t *testing.T, h *handoverv1.Handover) *handoverv1.Handover {
	t.Helper()
	resp, err := b.ho.AcceptHandover(b.irq, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
		HandoverId: h.GetHandoverId(), Version: h.GetVersion()})
	if err != nil {
		t.Fatalf("AcceptHandover: %v", err)
	}
	return resp.GetHandover()
}

// wantReason fails the test unless err is FAILED_PRECONDITION with the ErrorInfo reason.
func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	st := testserver.WantCode(t, err, codes.FailedPrecondition)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == reason {
			return
		}
	}
	t.Fatalf("%v: want reason %s", err, reason)
}

// awaitClosed waits until the projection of intake's cases holds c closed: the consumer
// applies intake's events in the background.
func (b *bundle) awaitClosed(t *testing.T, c *intakev1.Case) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st string
		b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
			err := conn.QueryRow(ctx, `SELECT intake_status FROM handover."case" WHERE case_id = $1`, c.GetCaseId()).Scan(&st)
			if err != nil && err != pgx.ErrNoRows {
				t.Fatal(err)
			}
		})
		if st == "CLOSED" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("case %s not projected closed in time (status %q)", c.GetCaseId(), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventsOf returns the hand-over service's events about one hand-over, in the order they were
// written: they are filed under its case, beside those of the case's other hand-overs.
func (b *bundle) eventsOf(t *testing.T, caseID, handoverID string) []testserver.Event {
	t.Helper()
	var out []testserver.Event
	for _, e := range b.env.AggregateEvents(t, "handover", caseID) {
		if m, ok := e.Payload.(interface{ GetHandoverId() string }); ok && m.GetHandoverId() == handoverID {
			out = append(out, e)
		}
	}
	return out
}
