package intake_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
)

// historyServer runs what a case's history is made of: intake, the returns it records, the
// follow-ups the returns' events create and the hand-over service.
type historyServer struct {
	env      *testserver.Env
	intake   intakev1.IntakeServiceClient
	returns  returnsv1.ReturnServiceClient
	handover handoverv1.HandoverServiceClient
}

func startHistory(t *testing.T) *historyServer {
	t.Helper()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{
		intake.Spec(), returns.Spec(), handover.Spec(), followup.Spec(),
	}})
	s := &historyServer{env: env, intake: intakev1.NewIntakeServiceClient(env.Conn),
		returns: returnsv1.NewReturnServiceClient(env.Conn), handover: handoverv1.NewHandoverServiceClient(env.Conn)}
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	must(s.handover.PublishHandoverProfile(hq, &handoverv1.PublishHandoverProfileRequest{RequestId: uuid.NewString(),
		Programme: commonv1.Programme_PROGRAMME_AVRR,
		Fields:    []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX, handoverv1.HandoverField_HANDOVER_FIELD_NAME}}))(t)
	return s
}

// must takes a call's results and returns what, given the test, fails it on the call's error
// or returns the call's result: must(client.Call(ctx, req))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func on(y, m, d int32) *date.Date { return &date.Date{Year: y, Month: m, Day: d} }

// barzani is the family of the history tests: names, a document and a phone that no entry
// may carry.
func barzani(with string) *intakev1.RegisterCaseRequest {
	return &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "DEU",
		Principal: &commonv1.Person{GivenName: "Yusuf", FamilyName: "Barzani", Sex: commonv1.Sex_SEX_MALE,
			DateOfBirth: on(1985, 5, 14), Nationality: "IRQ", Phone: "+49 151 2345 6789",
			Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "A7714202", IssuingCountry: "IRQ"}}},
		HouseholdMembers: []*commonv1.Person{{GivenName: "Nasrin", FamilyName: "Barzani", Sex: commonv1.Sex_SEX_FEMALE,
			DateOfBirth: on(1989, 2, 2), Nationality: "IRQ"}},
		Consents: []*commonv1.Consent{
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: on(2025, 1, 10)},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "IOM-" + with, Date: on(2025, 1, 10)},
		},
		RegistrationDate: on(2025, 1, 10),
	}
}

// history reads every page of the case's history as ctx, size entries a page.
func (s *historyServer) history(t *testing.T, ctx context.Context, caseID string, size int32) []*intakev1.CaseHistoryEntry {
	t.Helper()
	var out []*intakev1.CaseHistoryEntry
	req := &intakev1.GetCaseHistoryRequest{CaseId: caseID, PageSize: size}
	for {
		resp := must(s.intake.GetCaseHistory(ctx, req))(t)
		if len(resp.GetEntries()) > int(max(size, 1)) {
			t.Fatalf("a page of %d entries, asked for %d", len(resp.GetEntries()), size)
		}
		out = append(out, resp.GetEntries()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// awaitHistory reads the case's history until it holds an entry of type typ (the follow-up
// service writes its events in the background).
func (s *historyServer) awaitHistory(t *testing.T, ctx context.Context, caseID, typ string) []*intakev1.CaseHistoryEntry {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		h := s.history(t, ctx, caseID, 100)
		if slices.ContainsFunc(h, func(e *intakev1.CaseHistoryEntry) bool { return e.GetEventType() == typ }) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s in the history", typ)
		}
	}
}

// step is an entry as the tests compare it: who did what, where.
type step struct{ Mission, Service, Type, Actor, Method string }

// steps are the entries of h, but for the follow-ups (the system's, checked apart: their
// number and place depend on when the follow-up service applies each event).
func steps(h []*intakev1.CaseHistoryEntry) []step {
	var out []step
	for _, e := range h {
		if e.GetService() != "followup" {
			out = append(out, step{e.GetMission(), e.GetService(), e.GetEventType(), e.GetActor(), e.GetMethod()})
		}
	}
	return out
}

// eligible finds the return of case id eligible, as ctx, and returns it.
func (s *historyServer) eligible(t *testing.T, ctx context.Context, id string) *returnsv1.Return {
	t.Helper()
	r := must(s.returns.GetReturn(ctx, &returnsv1.GetReturnRequest{CaseId: id}))(t).GetReturn()
	return must(s.returns.RecordEligibility(ctx, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: r.GetVersion(), Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
			CounsellingDate: on(2025, 1, 12), DecisionDate: on(2025, 1, 15)}}))(t).GetReturn()
}

// depart records the departure of return r to Iraq on 3 February 2025, as ctx.
func (s *historyServer) depart(t *testing.T, ctx context.Context, r *returnsv1.Return) *returnsv1.Return {
	t.Helper()
	return must(s.returns.RecordDeparture(ctx, &returnsv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(),
		Version: r.GetVersion(), DepartureDate: on(2025, 2, 3), ReturnCountry: "IRQ"}))(t).GetReturn()
}

// arrive records the arrival of return r on 4 February 2025, as ctx.
func (s *historyServer) arrive(t *testing.T, ctx context.Context, r *returnsv1.Return) {
	t.Helper()
	must(s.returns.RecordArrival(ctx, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: r.GetCaseId(),
		Version: r.GetVersion(), Arrival: &returnsv1.Arrival{ArrivalDate: on(2025, 2, 4)}}))(t)
}

// propose proposes to Iraq the reception, the reintegration and the monitoring of a case of
// Germany, as ctx.
func (s *historyServer) propose(t *testing.T, ctx context.Context, kase *intakev1.Case) *handoverv1.Handover {
	t.Helper()
	var sharing string
	for _, x := range kase.GetConsents() {
		if x.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
			sharing = x.GetConsentId()
		}
	}
	return must(s.handover.ProposeHandover(ctx, &handoverv1.ProposeHandoverRequest{RequestId: uuid.NewString(), CaseId: kase.GetCaseId(),
		Programme: commonv1.Programme_PROGRAMME_AVRR, ToMission: "IRQ", ConsentId: sharing, ProfileVersion: 1,
		Purpose: handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION,
		Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION, handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION,
			handoverv1.HandoverPart_HANDOVER_PART_MONITORING}}))(t).GetHandover()
}

// wantSystemFollowUps checks that h has follow-up entries and that each is the system's, of
// mission.
func wantSystemFollowUps(t *testing.T, h []*intakev1.CaseHistoryEntry, mission string) {
	t.Helper()
	n := 0
	for _, e := range h {
		if e.GetService() == "followup" {
			n++
			if e.GetActor() != "system" || e.GetMethod() != "" || e.GetMission() != mission {
				t.Errorf("follow-up entry %v; want the system's, of %s", e, mission)
			}
		}
	}
	if n == 0 {
		t.Errorf("no follow-up entry in %v", h)
	}
}

// wantNoIdentity fails when any entry carries a name, a document or phone number, a subject id
// or the case's subject ids.
func wantNoIdentity(t *testing.T, h []*intakev1.CaseHistoryEntry, c *intakev1.Case) {
	t.Helper()
	text := string(must(protojson.Marshal(&intakev1.GetCaseHistoryResponse{Entries: h}))(t))
	planted := []string{"Yusuf", "Barzani", "Nasrin", "A7714202", "2345 6789", "1985", c.GetPrincipal().GetSubjectId()}
	for _, m := range c.GetHouseholdMembers() {
		planted = append(planted, m.GetSubjectId())
	}
	for _, p := range planted {
		if strings.Contains(text, p) {
			t.Errorf("the history holds %q", p)
		}
	}
}

func detail(e *intakev1.CaseHistoryEntry, field string) string {
	for _, d := range e.GetDetails() {
		if d.GetField() == field {
			return d.GetValue()
		}
	}
	return ""
}

const (
	registerCase   = "/passage.intake.v1.IntakeService/RegisterCase"
	assignCase     = "/passage.intake.v1.IntakeService/AssignCase"
	recordElig     = "/passage.returns.v1.ReturnService/RecordEligibility"
	recordDepart   = "/passage.returns.v1.ReturnService/RecordDeparture"
	recordArrival  = "/passage.returns.v1.ReturnService/RecordArrival"
	proposeHO      = "/passage.handover.v1.HandoverService/ProposeHandover"
	acceptHO       = "/passage.handover.v1.HandoverService/AcceptHandover"
	registeredType = "passage.intake.v1.CaseRegistered"
	departureType  = "passage.common.v1.DepartureRecorded"
	arrivalType    = "passage.returns.v1.ArrivalRecorded"
	createdType    = "passage.followup.v1.FollowUpCreated"
)

// TestCaseHistory follows an AVRR case registered, assigned, found eligible, departed and
// arrived in one mission, and a case handed over from Germany to Iraq: each reads who did
// what, in order, with no identity; each mission its own side of the hand-over.
func TestCaseHistory(t *testing.T) {
	t.Parallel()
	s := startHistory(t)
	registrar := s.env.AsStaff(t, "deu-registrar", auth.RoleCaseworker, "DEU")
	boss := s.env.AsStaff(t, "deu-supervisor", auth.RoleSupervisor, "DEU")
	worker := s.env.AsStaff(t, "deu-caseworker", auth.RoleCaseworker, "DEU")
	colleague := s.env.AsStaff(t, "deu-colleague", auth.RoleCaseworker, "DEU")
	iraqi := s.env.AsStaff(t, "irq-caseworker", auth.RoleCaseworker, "IRQ")

	t.Run("one mission", func(t *testing.T) {
		kase := must(s.intake.RegisterCase(registrar, barzani("IRQ")))(t).GetCase()
		id := kase.GetCaseId()
		must(s.intake.AssignCase(boss, &intakev1.AssignCaseRequest{RequestId: uuid.NewString(), CaseId: id, StaffId: "deu-caseworker"}))(t)
		r := s.eligible(t, worker, id)
		r = s.depart(t, worker, r)
		s.arrive(t, worker, r)

		h := s.awaitHistory(t, worker, id, createdType)
		want := []step{
			{"DEU", "intake", registeredType, "deu-registrar", registerCase},
			{"DEU", "intake", "passage.intake.v1.CaseAssignmentChanged", "deu-supervisor", assignCase},
			{"DEU", "returns", "passage.returns.v1.EligibilityDecided", "deu-caseworker", recordElig},
			{"DEU", "returns", departureType, "deu-caseworker", recordDepart},
			{"DEU", "returns", arrivalType, "deu-caseworker", recordArrival},
		}
		if diff := cmp.Diff(want, steps(h)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		wantSystemFollowUps(t, h, "DEU")
		wantNoIdentity(t, h, kase)
		// Entries are in commit order; an event's time is its transaction's start, so the
		// steps people took one after another are in time order too (a consumer's transaction,
		// begun before a step that commits first, may not be).
		var last time.Time
		for i, e := range h {
			if e.GetActor() == "system" {
				continue
			}
			if at := e.GetTime().AsTime(); at.Before(last) {
				t.Errorf("entry %d at %v, before the step before it (%v)", i, at, last)
			} else {
				last = at
			}
		}
		for _, e := range h {
			switch e.GetEventType() {
			case registeredType:
				if got := detail(e, "case.programme") + " " + detail(e, "case.status"); got != "AVRR REGISTERED" {
					t.Errorf("registration details %v; want programme AVRR, status REGISTERED", e.GetDetails())
				}
			case "passage.intake.v1.CaseAssignmentChanged":
				if detail(e, "staff_id") != "deu-caseworker" || detail(e, "assigned") != "true" {
					t.Errorf("assignment details %v; want deu-caseworker assigned", e.GetDetails())
				}
			case "passage.returns.v1.EligibilityDecided":
				if detail(e, "decision.eligibility") != "ELIGIBLE" || detail(e, "decision.decision_date") != "2025-01-15" {
					t.Errorf("eligibility details %v; want ELIGIBLE on 2025-01-15", e.GetDetails())
				}
			case arrivalType:
				if detail(e, "arrival.arrival_date") != "2025-02-04" || detail(e, "return_country") != "IRQ" {
					t.Errorf("arrival details %v; want 2025-02-04 in IRQ", e.GetDetails())
				}
			}
		}

		// A colleague of the mission reads it as the assigned caseworker does; the read is
		// audited as a read of the case, in the mission's chain.
		if diff := cmp.Diff(steps(h), steps(s.history(t, colleague, id, 100))); diff != "" {
			t.Errorf("a colleague's history (-assigned +colleague):\n%s", diff)
		}
		records := s.env.AuditRecords(t, intakev1.IntakeService_GetCaseHistory_FullMethodName)
		if !slices.ContainsFunc(records, func(r testserver.AuditRecord) bool {
			return r.Actor == "deu-colleague" && r.Mission == "DEU" && r.AggregateID == id && r.ClientRequestID == ""
		}) {
			t.Errorf("no audit record of the colleague's read among %v", records)
		}

		// Page by page, the same entries in the same order.
		paged := s.history(t, worker, id, 2)
		if diff := cmp.Diff(steps(h), steps(paged)); diff != "" || len(paged) < len(h) {
			t.Errorf("paged history (-whole +paged):\n%s", diff)
		}
		first := must(s.intake.GetCaseHistory(worker, &intakev1.GetCaseHistoryRequest{CaseId: id, PageSize: 1}))(t)
		if len(first.GetEntries()) != 1 || first.GetEntries()[0].GetEventType() != registeredType || first.GetNextPageToken() == "" {
			t.Errorf("first page of one: %v", first)
		}

		// Another mission does not find the case; a page token is for its own case only.
		_, err := s.intake.GetCaseHistory(iraqi, &intakev1.GetCaseHistoryRequest{CaseId: id})
		testserver.WantCode(t, err, codes.NotFound)
		other := must(s.intake.RegisterCase(registrar, barzani("IRQ")))(t).GetCase()
		_, err = s.intake.GetCaseHistory(worker, &intakev1.GetCaseHistoryRequest{CaseId: other.GetCaseId(), PageToken: first.GetNextPageToken()})
		if st := testserver.WantCode(t, err, codes.InvalidArgument); !slices.Equal(testserver.FieldViolations(st), []string{"page_token"}) {
			t.Errorf("another case's token: violations %v; want page_token", testserver.FieldViolations(st))
		}
		_, err = s.intake.GetCaseHistory(worker, &intakev1.GetCaseHistoryRequest{CaseId: "not-a-case"})
		if st := testserver.WantCode(t, err, codes.InvalidArgument); !slices.Equal(testserver.FieldViolations(st), []string{"case_id"}) {
			t.Errorf("a bad case id: violations %v; want case_id", testserver.FieldViolations(st))
		}
		_, err = s.intake.GetCaseHistory(s.env.As(t, auth.RoleAnalyst, auth.MissionHQ), &intakev1.GetCaseHistoryRequest{CaseId: id})
		testserver.WantCode(t, err, codes.PermissionDenied)
	})

	t.Run("handed over", func(t *testing.T) {
		kase := must(s.intake.RegisterCase(registrar, barzani("IRQ")))(t).GetCase()
		id := kase.GetCaseId()
		r := s.eligible(t, worker, id)
		h := s.propose(t, worker, kase)

		// Proposed, not accepted: Iraq does not find the case's history yet.
		_, err := s.intake.GetCaseHistory(iraqi, &intakev1.GetCaseHistoryRequest{CaseId: id})
		testserver.WantCode(t, err, codes.NotFound)

		must(s.handover.AcceptHandover(iraqi, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
			HandoverId: h.GetHandoverId(), Version: h.GetVersion()}))(t)
		s.depart(t, worker, r)
		r = must(s.returns.GetReturn(iraqi, &returnsv1.GetReturnRequest{CaseId: id}))(t).GetReturn()
		s.arrive(t, iraqi, r)

		// Germany reads its own side: the registration, its decision, its proposal and the
		// departure; not Iraq's acceptance nor Iraq's arrival.
		deu := s.history(t, worker, id, 100)
		wantDEU := []step{
			{"DEU", "intake", registeredType, "deu-registrar", registerCase},
			{"DEU", "returns", "passage.returns.v1.EligibilityDecided", "deu-caseworker", recordElig},
			{"DEU", "handover", "passage.handover.v1.HandoverProposed", "deu-caseworker", proposeHO},
			{"DEU", "returns", departureType, "deu-caseworker", recordDepart},
		}
		if diff := cmp.Diff(wantDEU, steps(deu)); diff != "" {
			t.Errorf("Germany's history (-want +got):\n%s", diff)
		}
		for _, e := range deu {
			if e.GetEventType() == "passage.handover.v1.HandoverProposed" && detail(e, "to_mission") != "IRQ" {
				t.Errorf("the proposal's details %v; want to_mission IRQ", e.GetDetails())
			}
		}

		// Iraq reads its own: its acceptance, its arrival and the follow-ups the arrival
		// created for it; nothing Germany recorded.
		irq := s.awaitHistory(t, iraqi, id, createdType)
		wantIRQ := []step{
			{"IRQ", "handover", "passage.handover.v1.HandoverAccepted", "irq-caseworker", acceptHO},
			{"IRQ", "returns", arrivalType, "irq-caseworker", recordArrival},
		}
		if diff := cmp.Diff(wantIRQ, steps(irq)); diff != "" {
			t.Errorf("Iraq's history (-want +got):\n%s", diff)
		}
		wantSystemFollowUps(t, irq, "IRQ")
		wantNoIdentity(t, append(deu, irq...), kase)

		// A third mission finds nothing.
		_, err = s.intake.GetCaseHistory(s.env.As(t, auth.RoleCaseworker, "TUR"), &intakev1.GetCaseHistoryRequest{CaseId: id})
		testserver.WantCode(t, err, codes.NotFound)
	})

	// Handed over after the departure: the arrival confirmation the departure made open in
	// Germany moves to Iraq with the reception. Iraq reads the move, the system's, and the
	// follow-up's events from then on; Germany no longer lists the follow-up's events, which
	// were recorded about a follow-up that is now Iraq's, and keeps the rest of its side.
	t.Run("follow-up moved", func(t *testing.T) {
		kase := must(s.intake.RegisterCase(registrar, barzani("IRQ")))(t).GetCase()
		id := kase.GetCaseId()
		r := s.eligible(t, worker, id)
		s.depart(t, worker, r)
		before := s.awaitHistory(t, worker, id, createdType)
		wantSystemFollowUps(t, before, "DEU")

		h := s.propose(t, worker, kase)
		must(s.handover.AcceptHandover(iraqi, &handoverv1.AcceptHandoverRequest{RequestId: uuid.NewString(),
			HandoverId: h.GetHandoverId(), Version: h.GetVersion()}))(t)
		irq := s.awaitHistory(t, iraqi, id, "passage.followup.v1.FollowUpMoved")
		if diff := cmp.Diff([]step{{"IRQ", "handover", "passage.handover.v1.HandoverAccepted", "irq-caseworker", acceptHO}}, steps(irq)); diff != "" {
			t.Errorf("Iraq's history (-want +got):\n%s", diff)
		}
		wantSystemFollowUps(t, irq, "IRQ")
		for _, e := range irq {
			if e.GetEventType() == "passage.followup.v1.FollowUpMoved" &&
				(detail(e, "from_mission") != "DEU" || detail(e, "follow_up.kind") != "ARRIVAL_CONFIRMATION") {
				t.Errorf("the move's details %v; want the arrival confirmation from DEU", e.GetDetails())
			}
		}

		deu := s.history(t, worker, id, 100)
		want := append(steps(before), step{"DEU", "handover", "passage.handover.v1.HandoverProposed", "deu-caseworker", proposeHO})
		if diff := cmp.Diff(want, steps(deu)); diff != "" {
			t.Errorf("Germany's history after the move (-want +got):\n%s", diff)
		}
		// Germany keeps what it recorded (the follow-up created by its departure), not the
		// move, which Iraq's grant recorded under Iraq.
		if slices.ContainsFunc(deu, func(e *intakev1.CaseHistoryEntry) bool {
			return e.GetEventType() == "passage.followup.v1.FollowUpMoved" || e.GetMission() != "DEU"
		}) || !slices.ContainsFunc(deu, func(e *intakev1.CaseHistoryEntry) bool { return e.GetEventType() == createdType }) {
			t.Errorf("Germany's history after the move: %v; want its own follow-up created, no move", deu)
		}
		wantNoIdentity(t, append(deu, irq...), kase)
	})

	// Intake's role reads, of its declared mission's audit records, those of changes, and only
	// the columns the history shows: not the records of reads (the history reads above wrote
	// some), nor another mission's, nor a record's role or request id.
	t.Run("audit records intake reads", func(t *testing.T) {
		owner := s.env.QueryInt(t, `SELECT count(*) FROM audit.record WHERE mission = 'DEU' AND client_request_id IS NOT NULL`)
		reads := s.env.QueryInt(t, `SELECT count(*) FROM audit.record WHERE mission = 'DEU' AND client_request_id IS NULL`)
		if owner == 0 || reads == 0 {
			t.Fatalf("DEU has %d records of changes and %d of reads; want both", owner, reads)
		}
		ctx := context.Background()
		tx := must(s.env.Pool(t, intake.Role).Begin(ctx))(t)
		defer func() { _ = tx.Rollback(ctx) }()
		must(tx.Exec(ctx, `SELECT set_config('passage.mission', 'DEU', true)`))(t)
		var seen, ofReads, ofIraq int
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE client_request_id IS NULL),
  count(*) FILTER (WHERE mission <> 'DEU') FROM audit.record`).Scan(&seen, &ofReads, &ofIraq); err != nil {
			t.Fatal(err)
		}
		if seen != owner || ofReads != 0 || ofIraq != 0 {
			t.Errorf("intake sees %d records (%d of reads, %d of other missions); want DEU's %d of changes alone", seen, ofReads, ofIraq, owner)
		}
		var role string
		err := tx.QueryRow(ctx, `SELECT role FROM audit.record LIMIT 1`).Scan(&role)
		if code := pgCode(err); code != "42501" {
			t.Errorf("intake reading a record's role: %v; want permission denied (42501)", err)
		}
	})
}

// pgCode is err's Postgres error code, or "" when it is not a Postgres error.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
