package intake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

// shareBundle is a case registered in DEU and handed over to IRQ, with NER as the third
// mission that has no part in it. The hand-over service's events are written into the outbox
// as that service writes them; intake's own consumer applies them.
type shareBundle struct {
	env    *testserver.Env
	client intakev1.IntakeServiceClient
	// deuWorker registered the cases; deuChief supervises DEU.
	deuWorker, deuChief context.Context
	// irqWorker is assigned to the shared case by irqChief; irqOther is not.
	irqWorker, irqOther, irqChief context.Context
	nerWorker, nerChief           context.Context
}

const irqWorkerID = "cw-erbil"

func setupShare(t *testing.T) *shareBundle {
	t.Helper()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec()}, Clock: testtime.Ticking(today).Now})
	b := &shareBundle{
		env:       env,
		client:    intakev1.NewIntakeServiceClient(env.Conn),
		deuWorker: env.AsStaff(t, "cw-berlin", auth.RoleCaseworker, "DEU"),
		deuChief:  env.AsStaff(t, "sv-berlin", auth.RoleSupervisor, "DEU"),
		irqWorker: env.AsStaff(t, irqWorkerID, auth.RoleCaseworker, "IRQ"),
		irqOther:  env.AsStaff(t, "cw-basra", auth.RoleCaseworker, "IRQ"),
		irqChief:  env.AsStaff(t, "sv-erbil", auth.RoleSupervisor, "IRQ"),
		nerWorker: env.AsStaff(t, "cw-niamey", auth.RoleCaseworker, "NER"),
		nerChief:  env.AsStaff(t, "sv-niamey", auth.RoleSupervisor, "NER"),
	}
	// HQ's profile for AVRR: the principal's sex and age band, the household, names and phone.
	b.emit(t, "HQ", uuid.New(), &handoverv1.HandoverProfilePublished{Profile: &handoverv1.HandoverProfile{
		Programme: commonv1.Programme_PROGRAMME_AVRR, Version: 1, PublishedBy: "pm-geneva",
		Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX, handoverv1.HandoverField_HANDOVER_FIELD_AGE_BAND,
			handoverv1.HandoverField_HANDOVER_FIELD_HOUSEHOLD, handoverv1.HandoverField_HANDOVER_FIELD_NAME,
			handoverv1.HandoverField_HANDOVER_FIELD_PHONE},
	}})
	// And version 2: coded fields only.
	b.emit(t, "HQ", uuid.New(), &handoverv1.HandoverProfilePublished{Profile: &handoverv1.HandoverProfile{
		Programme: commonv1.Programme_PROGRAMME_AVRR, Version: 2, PublishedBy: "pm-geneva",
		Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX},
	}})
	return b
}

// emit writes one of the hand-over service's events into the outbox under mission, as that
// service files it: a hand-over's events under its case, a profile's under aggregate.
func (b *shareBundle) emit(t *testing.T, mission string, aggregate uuid.UUID, payload proto.Message) {
	t.Helper()
	if e, ok := payload.(interface{ GetCaseId() string }); ok {
		aggregate = uuid.MustParse(e.GetCaseId())
	}
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: "handover", AggregateID: aggregate, Mission: mission, Payload: payload}}); err != nil {
		t.Fatal(err)
	}
	b.env.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		batch := &pgx.Batch{}
		st.Queue(batch)
		if err := conn.SendBatch(ctx, batch).Close(); err != nil {
			t.Fatalf("write %s: %v", proto.MessageName(payload), err)
		}
	})
}

// register registers an AVRR case of Karim's and his son's in DEU, with his ASSISTANCE consent
// and his DATA_SHARING consent for IOM Iraq.
func (b *shareBundle) register(t *testing.T) *intakev1.Case {
	t.Helper()
	d := &date.Date{Year: 2026, Month: 1, Day: 10}
	resp, err := b.client.RegisterCase(b.deuWorker, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
		Principal: karim(), HouseholdMembers: []*commonv1.Person{child("Ali", 2019)},
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS},
		Consents: []*commonv1.Consent{
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: d},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "IOM-IRQ", Date: d},
		},
		RegistrationDate: d,
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	return resp.GetCase()
}

func karim() *commonv1.Person {
	return &commonv1.Person{GivenName: "Karim", FamilyName: "Al-Rawi", DateOfBirth: &date.Date{Year: 1988, Month: 4, Day: 2},
		Sex: commonv1.Sex_SEX_MALE, Nationality: "IRQ", Phone: "+49 151 2345 6789", Address: "Hauptstrasse 5, Berlin",
		Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "A1234567", IssuingCountry: "IRQ"}}}
}

// sharingConsentID is the id of c's DATA_SHARING consent record.
func sharingConsentID(c *intakev1.Case) string {
	for _, x := range c.GetConsents() {
		if x.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
			return x.GetConsentId()
		}
	}
	return ""
}

// handOver writes the proposal to IRQ of c's reception and its acceptance, as the hand-over
// service would, resting on c's DATA_SHARING consent (basis unset) or on basis, by profile
// version; it returns the hand-over id.
func (b *shareBundle) handOver(t *testing.T, c *intakev1.Case, basis commonv1.LegalBasis, version int32) uuid.UUID {
	t.Helper()
	id := b.propose(t, c)
	accepted := &handoverv1.HandoverAccepted{HandoverId: id.String(), CaseId: c.GetCaseId(), FromMission: "DEU", ToMission: "IRQ",
		Programme: c.GetProgramme(), Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
		ProfileVersion: version, Version: 2, LegalBasis: basis}
	if basis == commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED {
		accepted.ConsentId = sharingConsentID(c)
	}
	b.emit(t, "IRQ", id, accepted)
	return id
}

// propose writes a proposal to IRQ of c's reception, and returns the hand-over id.
func (b *shareBundle) propose(t *testing.T, c *intakev1.Case) uuid.UUID {
	t.Helper()
	id := uuid.New()
	b.emit(t, "DEU", id, &handoverv1.HandoverProposed{HandoverId: id.String(), CaseId: c.GetCaseId(), FromMission: "DEU",
		ToMission: "IRQ", Programme: c.GetProgramme(), Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
		ProfileVersion: 1, Version: 1})
	return id
}

func (b *shareBundle) assign(t *testing.T, ctx context.Context, c *intakev1.Case, staff string) {
	t.Helper()
	if _, err := b.client.AssignCase(ctx, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		StaffId: staff}); err != nil {
		t.Fatalf("AssignCase: %v", err)
	}
}

func basicRead(id string) *intakev1.GetCaseRequest { return &intakev1.GetCaseRequest{CaseId: id} }

// TestSharedCase: IRQ reads the case DEU handed over to it only once the hand-over is
// accepted, with the profile's fields only, identity for its assigned caseworker alone, each
// such read audited in IRQ's chain with the hand-over's id; NER never sees it; DEU's own view
// and assignments are as they were; and DEU's consent withdrawal ends IRQ's reads at once.
func TestSharedCase(t *testing.T) {
	t.Parallel()
	b := setupShare(t)
	c := b.register(t)

	// Proposed, not accepted: nothing for IRQ.
	b.propose(t, c)
	testserver.WantCode(t, get(b.irqWorker, b.client, basicRead(c.GetCaseId())), codes.NotFound)
	_, err := b.client.AssignCase(b.irqChief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), StaffId: irqWorkerID})
	testserver.WantCode(t, err, codes.NotFound)

	handover := b.handOver(t, c, commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED, 1)
	b.assign(t, b.irqChief, c, irqWorkerID)
	b.env.Provision(t, "cw-hamburg", auth.RoleCaseworker, "DEU")
	b.assign(t, b.deuChief, c, "cw-hamburg")

	// The coded record, as the profile allows.
	basic, err := b.client.GetCase(b.irqOther, basicRead(c.GetCaseId()))
	if err != nil {
		t.Fatalf("IRQ's basic read: %v", err)
	}
	want := &intakev1.Case{CaseId: c.GetCaseId(), Mission: "DEU", Programme: c.GetProgramme(), Status: c.GetStatus(),
		Version: c.GetVersion(), SubjectId: c.GetSubjectId(),
		Principal: &intakev1.CaseMember{SubjectId: c.GetSubjectId(), Sex: c.GetPrincipal().GetSex(), AgeBand: c.GetPrincipal().GetAgeBand()},
		HouseholdMembers: []*intakev1.CaseMember{{SubjectId: c.GetHouseholdMembers()[0].GetSubjectId(),
			Sex: c.GetHouseholdMembers()[0].GetSex(), AgeBand: c.GetHouseholdMembers()[0].GetAgeBand()}}}
	if diff := cmp.Diff(want, basic.GetCase(), protocmp.Transform()); diff != "" {
		t.Errorf("IRQ's view of the case (-want +got):\n%s", diff)
	}

	// Identity: for IRQ's assigned caseworker, the profile's fields only.
	testserver.WantCode(t, get(b.irqOther, b.client, fullRead(c.GetCaseId(), caseManagement)), codes.PermissionDenied)
	full, err := b.client.GetCase(b.irqWorker, fullRead(c.GetCaseId(), caseManagement))
	if err != nil {
		t.Fatalf("IRQ's assigned caseworker reads identity: %v", err)
	}
	k := karim()
	wantPerson := &commonv1.Person{GivenName: k.GivenName, FamilyName: k.FamilyName, Sex: k.Sex, Phone: k.Phone}
	if diff := cmp.Diff(wantPerson, full.GetIdentity().GetPrincipal().GetPerson(), protocmp.Transform()); diff != "" {
		t.Errorf("IRQ's view of the principal's identity (-want +got):\n%s", diff)
	}
	if son := full.GetIdentity().GetHouseholdMembers(); len(son) != 1 || son[0].GetPerson().GetGivenName() != "Ali" ||
		son[0].GetPerson().GetDateOfBirth() != nil {
		t.Errorf("IRQ's view of the household's identity: %v", son)
	}
	// DEU's own caseworker still reads everything.
	own, err := b.client.GetCase(b.deuWorker, fullRead(c.GetCaseId(), caseManagement))
	if err != nil || !proto.Equal(own.GetIdentity().GetPrincipal().GetPerson(), k) || len(own.GetCase().GetConsents()) != 2 {
		t.Fatalf("DEU's own read: %v, %v", own, err)
	}

	// The read is IRQ's, in IRQ's chain, naming the hand-over; DEU's in DEU's.
	var irqReads, deuReads []testserver.AuditRecord
	for _, r := range b.env.AuditRecords(t, intakev1.IntakeService_GetCase_FullMethodName) {
		switch r.Mission {
		case "IRQ":
			irqReads = append(irqReads, r)
		case "DEU":
			deuReads = append(deuReads, r)
		}
		if strings.Contains(r.Reason, "Karim") || strings.Contains(r.Reason, "Al-Rawi") {
			t.Errorf("an audit record names the person: %+v", r)
		}
	}
	if len(irqReads) != 1 || irqReads[0].Actor != irqWorkerID || irqReads[0].AggregateID != c.GetCaseId() ||
		irqReads[0].Reason != "ACCESS_PURPOSE_CASE_MANAGEMENT handovers/"+handover.String() {
		t.Errorf("IRQ's audit of identity reads: %+v", irqReads)
	}
	if len(deuReads) != 1 || deuReads[0].CallerMission != "DEU" {
		t.Errorf("DEU's audit of identity reads: %+v", deuReads)
	}
	b.env.ChainAudit(t)

	// Each mission's assignments are its own, published under its own mission.
	var assignments []string
	for _, e := range b.env.AggregateEvents(t, "intake", c.GetCaseId()) {
		if a, ok := e.Payload.(*intakev1.CaseAssignmentChanged); ok {
			assignments = append(assignments, e.Mission+":"+a.GetMission()+":"+strings.Join(a.GetAssignees(), ","))
		}
	}
	if diff := cmp.Diff([]string{"IRQ:IRQ:" + irqWorkerID, "DEU:DEU:cw-hamburg"}, assignments); diff != "" {
		t.Errorf("CaseAssignmentChanged events (-want +got):\n%s", diff)
	}
	if _, err := b.client.UnassignCase(b.irqChief, &intakev1.UnassignCaseRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), StaffId: "cw-hamburg"}); err != nil {
		t.Fatalf("IRQ unassigns someone it never assigned: %v", err)
	}
	if n := b.env.QueryInt(t, `SELECT count(*) FROM intake.case_assignment WHERE case_id = $1 AND mission = 'DEU'`, c.GetCaseId()); n != 1 {
		t.Errorf("IRQ's unassignment touched DEU's assignment: %d left", n)
	}

	// NER has no part in it.
	testserver.WantCode(t, get(b.nerWorker, b.client, basicRead(c.GetCaseId())), codes.NotFound)
	_, err = b.client.AssignCase(b.nerChief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), StaffId: "cw-niamey"})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.BreakGlass(b.nerChief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Reason: "probing a case of another mission"})
	testserver.WantCode(t, err, codes.NotFound)

	// IRQ's supervisor works by its own break-glass grant as in its own mission.
	if _, err := b.client.BreakGlass(b.irqChief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Reason: "medical emergency on arrival"}); err != nil {
		t.Fatalf("IRQ's break-glass: %v", err)
	}
	if _, err := b.client.GetCase(b.irqChief, fullRead(c.GetCaseId(), commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS)); err != nil {
		t.Fatalf("IRQ's supervisor reads under a grant: %v", err)
	}

	// DEU withdraws the consent the hand-over rests on: IRQ's next read is refused, in the
	// database too.
	current, err := b.client.GetCase(b.deuWorker, basicRead(c.GetCaseId()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.WithdrawConsent(b.deuWorker, &intakev1.WithdrawConsentRequest{RequestId: uuid.NewString(),
		CaseId: c.GetCaseId(), Version: current.GetCase().GetVersion(), ConsentId: sharingConsentID(c),
		Date: &date.Date{Year: 2026, Month: 2, Day: 1}}); err != nil {
		t.Fatalf("WithdrawConsent: %v", err)
	}
	testserver.WantMissingConsent(t, get(b.irqWorker, b.client, fullRead(c.GetCaseId(), caseManagement)), "DATA_SHARING")
	testserver.WantMissingConsent(t, get(b.irqOther, b.client, basicRead(c.GetCaseId())), "DATA_SHARING")
	if n := b.selectAs(t, "IRQ", `SELECT count(*) FROM vault.identity WHERE subject_id = $1`, c.GetSubjectId()); n != 0 {
		t.Errorf("IRQ's transaction reads %d identities after the withdrawal", n)
	}
}

// TestSharedCaseErased: a person DEU erases is erased in IRQ's view too, on a hand-over that
// rests on a legal basis and was completed; a profile without identity fields gives no identity.
func TestSharedCaseErased(t *testing.T) {
	t.Parallel()
	b := setupShare(t)
	c := b.register(t)
	handover := b.handOver(t, c, commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS, 1)
	b.emit(t, "IRQ", handover, &handoverv1.HandoverCompleted{HandoverId: handover.String(), CaseId: c.GetCaseId(),
		FromMission: "DEU", ToMission: "IRQ", Programme: c.GetProgramme(), Version: 3})
	b.assign(t, b.irqChief, c, irqWorkerID)
	if _, err := b.client.GetCase(b.irqWorker, fullRead(c.GetCaseId(), caseManagement)); err != nil {
		t.Fatalf("IRQ reads on a completed hand-over: %v", err)
	}
	if status := b.env.QueryText(t, `SELECT status FROM intake.case_share WHERE handover_id = $1`, handover); status != "COMPLETED" {
		t.Errorf("share %s, want COMPLETED", status)
	}
	if _, err := b.client.ErasePerson(b.deuChief, &intakev1.ErasePersonRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}); err != nil {
		t.Fatalf("ErasePerson: %v", err)
	}
	full, err := b.client.GetCase(b.irqWorker, fullRead(c.GetCaseId(), caseManagement))
	if err != nil {
		t.Fatalf("IRQ's read after the erasure: %v", err)
	}
	p := full.GetIdentity().GetPrincipal()
	if p.GetPerson() != nil || p.GetErasure().GetReason() != intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST {
		t.Errorf("IRQ sees the erased principal as %v", p)
	}
	if son := full.GetIdentity().GetHouseholdMembers(); len(son) != 1 || son[0].GetPerson().GetGivenName() != "Ali" {
		t.Errorf("IRQ sees the son as %v", son)
	}

	// A second case, handed over by the coded profile: no identity to read.
	coded := b.register(t)
	b.handOver(t, coded, commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS, 2)
	b.assign(t, b.irqChief, coded, irqWorkerID)
	got, err := b.client.GetCase(b.irqWorker, basicRead(coded.GetCaseId()))
	if err != nil || got.GetCase().GetPrincipal().GetSex() != commonv1.Sex_SEX_MALE || got.GetCase().GetPrincipal().GetAgeBand() != 0 ||
		len(got.GetCase().GetHouseholdMembers()) != 0 {
		t.Errorf("IRQ's coded view: %v, %v", got.GetCase(), err)
	}
	testserver.WantCode(t, get(b.irqWorker, b.client, fullRead(coded.GetCaseId(), caseManagement)), codes.PermissionDenied)
	if n := b.selectAs(t, "IRQ", `SELECT count(*) FROM vault.identity WHERE subject_id = $1`, coded.GetSubjectId()); n != 0 {
		t.Errorf("IRQ's transaction reads %d identities a coded profile does not allow", n)
	}
}

// TestUnacceptedHandoversShareNothing: a declined and a withdrawn hand-over grant IRQ nothing,
// nor do acceptances that do not fit intake's records (a sender that does not own the case, a
// profile never published, a case intake does not hold), which the consumer passes without
// stopping; and a third mission's transaction sees no share, no case and no identity of a live
// one.
func TestUnacceptedHandoversShareNothing(t *testing.T) {
	t.Parallel()
	b := setupShare(t)
	declined, withdrawn, live := b.register(t), b.register(t), b.register(t)
	for _, forged := range []*handoverv1.HandoverAccepted{
		{CaseId: declined.GetCaseId(), FromMission: "NER", ProfileVersion: 1},
		{CaseId: withdrawn.GetCaseId(), FromMission: "DEU", ProfileVersion: 9},
		{CaseId: uuid.NewString(), FromMission: "DEU", ProfileVersion: 1},
	} {
		id := uuid.New()
		forged.HandoverId, forged.ToMission, forged.Programme = id.String(), "IRQ", commonv1.Programme_PROGRAMME_AVRR
		forged.Parts, forged.LegalBasis = []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION}, commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS
		b.emit(t, "IRQ", id, forged)
	}
	id := b.propose(t, declined)
	b.emit(t, "IRQ", id, &handoverv1.HandoverDeclined{HandoverId: id.String(), CaseId: declined.GetCaseId(), FromMission: "DEU",
		ToMission: "IRQ", Programme: declined.GetProgramme(), Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_NO_CAPACITY, Version: 2})
	id = b.propose(t, withdrawn)
	b.emit(t, "DEU", id, &handoverv1.HandoverWithdrawn{HandoverId: id.String(), CaseId: withdrawn.GetCaseId(), FromMission: "DEU",
		ToMission: "IRQ", Programme: withdrawn.GetProgramme(), Version: 2})
	b.handOver(t, live, commonv1.LegalBasis_LEGAL_BASIS_UNSPECIFIED, 1)
	b.assign(t, b.irqChief, live, irqWorkerID) // the live one is applied, and so is everything before it

	for _, c := range []*intakev1.Case{declined, withdrawn} {
		testserver.WantCode(t, get(b.irqWorker, b.client, basicRead(c.GetCaseId())), codes.NotFound)
		_, err := b.client.AssignCase(b.irqChief, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), StaffId: irqWorkerID})
		testserver.WantCode(t, err, codes.NotFound)
	}
	if n := b.selectAs(t, "IRQ", `SELECT count(*) FROM intake.case_share`); n != 4 {
		t.Errorf("IRQ sees %d shares, want the live one and the three that grant nothing", n)
	}

	// Direct reads, past the server: IRQ's transaction sees the live share's case and identity;
	// NER's sees none of it, and DEU's its own case with the share it made.
	for _, tt := range []struct {
		sql           string
		arg           string
		irq, ner, deu int
	}{
		{`SELECT count(*) FROM intake.case_share WHERE case_id = $1`, live.GetCaseId(), 1, 0, 1},
		{`SELECT count(*) FROM intake."case" WHERE case_id = $1`, live.GetCaseId(), 1, 0, 1},
		{`SELECT count(*) FROM intake.case_member WHERE case_id = $1`, live.GetCaseId(), 2, 0, 2},
		{`SELECT count(*) FROM intake.consent WHERE case_id = $1`, live.GetCaseId(), 2, 0, 2},
		{`SELECT count(*) FROM vault.identity WHERE subject_id = $1`, live.GetSubjectId(), 1, 0, 1},
		{`SELECT count(*) FROM intake."case" WHERE case_id = $1`, declined.GetCaseId(), 0, 0, 1},
		{`SELECT count(*) FROM vault.identity WHERE subject_id = $1`, withdrawn.GetSubjectId(), 0, 0, 1},
		{`SELECT count(*) FROM intake.case_assignment WHERE case_id = $1`, live.GetCaseId(), 1, 0, 0},
	} {
		for mission, want := range map[string]int{"IRQ": tt.irq, "NER": tt.ner, "DEU": tt.deu} {
			if got := b.selectAs(t, mission, tt.sql, tt.arg); got != want {
				t.Errorf("%s as %s: %d rows, want %d", tt.sql, mission, got, want)
			}
		}
	}
}

// selectAs runs a count as intake's role, in a transaction declared for mission.
func (b *shareBundle) selectAs(t *testing.T, mission, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := database.NewDB(b.env.Pool(t, intake.Role)).Mission(mission).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s as %s: %v", sql, mission, err)
	}
	return n
}

// get is GetCase's error alone.
func get(ctx context.Context, c intakev1.IntakeServiceClient, req *intakev1.GetCaseRequest) error {
	_, err := c.GetCase(ctx, req)
	return err
}
