package trafficking_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

const (
	presumed   = traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM
	identified = traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM
	notVictim  = traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_NOT_A_VICTIM
	unscreened = traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_UNSPECIFIED
)

// fact is one mutating call against a case at a version; it returns the case after it.
type fact struct {
	name string
	call func(b *bundle, ctx context.Context, c *traffickingv1.VictimCase) (*traffickingv1.VictimCase, error)
}

func exploitation() *traffickingv1.Exploitation {
	return &traffickingv1.Exploitation{
		Types:                   []traffickingv1.ExploitationType{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR},
		RecruiterRelationship:   traffickingv1.RecruiterRelationship_RECRUITER_RELATIONSHIP_UNKNOWN,
		CountriesOfExploitation: []string{"THA"},
	}
}

// facts are the victim facts: each needs a presumed or identified victim.
var facts = []fact{
	{"exploitation", func(b *bundle, ctx context.Context, c *traffickingv1.VictimCase) (*traffickingv1.VictimCase, error) {
		r, err := b.vot.RecordExploitation(ctx, &traffickingv1.RecordExploitationRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: c.GetVersion(), Exploitation: exploitation()})
		return r.GetVictimCase(), err
	}},
	{"assistance", func(b *bundle, ctx context.Context, c *traffickingv1.VictimCase) (*traffickingv1.VictimCase, error) {
		r, err := b.vot.RecordAssistance(ctx, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: c.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_MEDICAL, StartDate: day(2026, 3, 1), Provider: "IOM"})
		return r.GetVictimCase(), err
	}},
	{"cooperation", func(b *bundle, ctx context.Context, c *traffickingv1.VictimCase) (*traffickingv1.VictimCase, error) {
		r, err := b.vot.RecordLawEnforcementCooperation(ctx, &traffickingv1.RecordLawEnforcementCooperationRequest{RequestId: uuid.NewString(),
			CaseId: c.GetCaseId(), Version: c.GetVersion(), Status: traffickingv1.CooperationStatus_COOPERATION_STATUS_DECLINED, Date: day(2026, 3, 1)})
		return r.GetVictimCase(), err
	}},
	{"risk", func(b *bundle, ctx context.Context, c *traffickingv1.VictimCase) (*traffickingv1.VictimCase, error) {
		r, err := b.vot.AssessRisk(ctx, &traffickingv1.AssessRiskRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: c.GetVersion(), Level: traffickingv1.RiskLevel_RISK_LEVEL_LOW, Date: day(2026, 3, 1)})
		return r.GetVictimCase(), err
	}},
}

func screening(s traffickingv1.IdentificationStatus) fact {
	return fact{"screen " + s.String(), func(b *bundle, ctx context.Context, c *traffickingv1.VictimCase) (*traffickingv1.VictimCase, error) {
		r, err := b.vot.RecordScreening(ctx, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: c.GetVersion(), Status: s, IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_NGO, Date: day(2026, 3, 1)})
		return r.GetVictimCase(), err
	}}
}

func closing(reason traffickingv1.ClosureReason) fact {
	return fact{"close " + reason.String(), func(b *bundle, ctx context.Context, c *traffickingv1.VictimCase) (*traffickingv1.VictimCase, error) {
		r, err := b.vot.CloseVictimCase(ctx, &traffickingv1.CloseVictimCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
			Version: c.GetVersion(), Reason: reason})
		return r.GetVictimCase(), err
	}}
}

func TestEveryStatusAllowsOnlyItsFacts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	closeDone := closing(traffickingv1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED)
	closeNotVictim := closing(traffickingv1.ClosureReason_CLOSURE_REASON_NOT_A_VICTIM)

	// Each case: how to reach the status, then which facts it takes and which it refuses.
	for _, tt := range []struct {
		name    string
		reach   []fact
		allowed []fact
		refused []fact
	}{
		{"awaiting screening", nil,
			[]fact{screening(presumed), screening(identified), screening(notVictim), closeDone},
			append(slices.Clone(facts), closeNotVictim)},
		{"presumed victim", []fact{screening(presumed)},
			append(slices.Clone(facts), screening(identified), screening(notVictim), closeDone),
			[]fact{screening(presumed), closeNotVictim}},
		{"identified victim", []fact{screening(identified)},
			append(slices.Clone(facts), closeDone),
			[]fact{screening(presumed), screening(identified), screening(notVictim), closeNotVictim}},
		{"not a victim", []fact{screening(notVictim)},
			[]fact{closeNotVictim, closeDone},
			append(slices.Clone(facts), screening(presumed), screening(identified), screening(notVictim))},
		{"closed", []fact{screening(presumed), closeDone},
			nil,
			append(slices.Clone(facts), screening(identified), screening(notVictim), closeDone)},
	} {
		reach := func() *traffickingv1.VictimCase {
			c := b.newVictim(t, unscreened)
			for _, f := range tt.reach {
				var err error
				if c, err = f.call(b, b.worker, c); err != nil {
					t.Fatalf("%s: reaching it with %s: %v", tt.name, f.name, err)
				}
			}
			return c
		}
		c := reach()
		before := b.stored(t)
		for _, f := range tt.refused {
			_, err := f.call(b, b.worker, c)
			testserver.WantCode(t, err, codes.FailedPrecondition)
			if reason := errorReason(err); reason != "INVALID_TRANSITION" {
				t.Errorf("%s: %s refused with reason %q, want INVALID_TRANSITION", tt.name, f.name, reason)
			}
		}
		if diff := cmp.Diff(before, b.stored(t)); diff != "" {
			t.Errorf("%s: refused facts changed the database (-before +after):\n%s", tt.name, diff)
		}
		for _, f := range tt.allowed {
			got, err := f.call(b, b.worker, reach())
			if err != nil {
				t.Errorf("%s: %s refused: %v", tt.name, f.name, err)
				continue
			}
			if got.GetVersion() != c.GetVersion()+1 {
				t.Errorf("%s: %s left version %d, want %d", tt.name, f.name, got.GetVersion(), c.GetVersion()+1)
			}
		}
	}
}

// TestPresumedVictimFoundNotAVictim: assistance given while presumed ends, but no new
// assistance is given, and the case closes as not a victim.
func TestPresumedVictimFoundNotAVictim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newVictim(t, presumed)
	r, err := b.vot.RecordAssistance(b.worker, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
		Version: c.GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, StartDate: day(2026, 3, 1), Provider: "IOM"})
	if err != nil {
		t.Fatal(err)
	}
	c = b.screen(t, r.GetVictimCase(), notVictim)
	if c.GetIdentification().GetStatus() != notVictim || c.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_NOT_A_VICTIM {
		t.Fatalf("after screening: %v %v", c.GetStatus(), c.GetIdentification())
	}
	if _, err := facts[1].call(b, b.worker, c); err == nil {
		t.Fatal("a person found not a victim was assisted")
	}
	end := &traffickingv1.EndAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(),
		AssistanceId: r.GetAssistance().GetAssistanceId(), EndDate: day(2026, 3, 14)}
	ended, err := b.vot.EndAssistance(b.worker, end)
	if err != nil {
		t.Fatalf("EndAssistance: %v", err)
	}
	c = ended.GetVictimCase()
	// Ending it again, or ending one that does not exist, is refused.
	again := proto.CloneOf(end)
	again.RequestId, again.Version = uuid.NewString(), c.GetVersion()
	_, err = b.vot.EndAssistance(b.worker, again)
	if testserver.WantCode(t, err, codes.FailedPrecondition); errorReason(err) != "ASSISTANCE_ENDED" {
		t.Errorf("ending twice: reason %q, want ASSISTANCE_ENDED", errorReason(err))
	}
	again.AssistanceId = uuid.NewString()
	_, err = b.vot.EndAssistance(b.worker, again)
	testserver.WantCode(t, err, codes.NotFound)

	c, err = closing(traffickingv1.ClosureReason_CLOSURE_REASON_NOT_A_VICTIM).call(b, b.worker, c)
	if err != nil {
		t.Fatal(err)
	}
	if c.GetStatus() != traffickingv1.VictimCaseStatus_VICTIM_CASE_STATUS_CLOSED || c.GetIdentification().GetStatus() != notVictim {
		t.Errorf("closed case = %v, identification %v; the screening outcome must stay", c.GetStatus(), c.GetIdentification())
	}
}

func TestStaleVersionAndRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newVictim(t, presumed) // version 2
	before := b.stored(t)
	_, err := facts[0].call(b, b.worker, &traffickingv1.VictimCase{CaseId: c.GetCaseId(), Version: 1})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	if errorReason(err) != "STALE_VERSION" {
		t.Errorf("stale version reason = %q", errorReason(err))
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a stale write changed the database (-before +after):\n%s", diff)
	}

	// A retry returns the first result, and eight racing retries all get it.
	req := &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(),
		Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_LEGAL, StartDate: day(2026, 3, 2), Provider: "LAWYERS-TH"}
	results := make([]*traffickingv1.RecordAssistanceResponse, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = b.vot.RecordAssistance(b.worker, proto.CloneOf(req)) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("racing retry %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(results[0], results[i], protocmp.Transform()); diff != "" {
			t.Errorf("racing retry %d returned another result (-first +this):\n%s", i, diff)
		}
	}
	later, err := b.vot.RecordAssistance(b.worker, proto.CloneOf(req))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(results[0], later, protocmp.Transform()); diff != "" {
		t.Errorf("a later retry returned another result (-first +retry):\n%s", diff)
	}
	want := map[string]int{"trafficking.victim_case": 1, "trafficking.assistance": 1, "trafficking.idempotency": 2,
		"outbox.event": before["outbox.event"] + 1, "versions": 3}
	if diff := cmp.Diff(want, b.stored(t)); diff != "" {
		t.Errorf("rows after retries (-want +got):\n%s", diff)
	}

	// The same request id for another request is refused, naming request_id.
	reused := proto.CloneOf(req)
	reused.Provider = "OTHER"
	reused.Version = 3
	_, err = b.vot.RecordAssistance(b.worker, reused)
	if diff := cmp.Diff([]string{"request_id"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("reused request id violations (-want +got):\n%s", diff)
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newVictim(t, presumed)
	minor := registration(&commonv1.Person{GivenName: "Mya", DateOfBirth: day(2012, 6, 1), Sex: commonv1.Sex_SEX_FEMALE, Nationality: "MMR"})
	child := b.screen(t, b.get(t, b.register(t, minor).GetCaseId()), presumed)
	if child.GetPrincipal().GetAgeBand() != commonv1.AgeBand_AGE_BAND_9_17 {
		t.Fatalf("the child's age band is %v", child.GetPrincipal().GetAgeBand())
	}
	before := b.stored(t)

	exploit := func(c *traffickingv1.VictimCase, edit func(*traffickingv1.Exploitation)) func() error {
		return func() error {
			e := exploitation()
			edit(e)
			_, err := b.vot.RecordExploitation(b.worker, &traffickingv1.RecordExploitationRequest{RequestId: uuid.NewString(),
				CaseId: c.GetCaseId(), Version: c.GetVersion(), Exploitation: e})
			return err
		}
	}
	assist := func(edit func(*traffickingv1.RecordAssistanceRequest)) func() error {
		return func() error {
			r := &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: c.GetVersion(),
				Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_MEDICAL, StartDate: day(2026, 3, 1), Provider: "IOM"}
			edit(r)
			_, err := b.vot.RecordAssistance(b.worker, r)
			return err
		}
	}
	for _, tt := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"no type of exploitation", exploit(c, func(e *traffickingv1.Exploitation) { e.Types = nil }), "exploitation.types"},
		{"a type twice", exploit(c, func(e *traffickingv1.Exploitation) { e.Types = append(e.Types, e.Types[0]) }), "exploitation.types"},
		{"unassigned country", exploit(c, func(e *traffickingv1.Exploitation) { e.CountriesOfExploitation = []string{"THA", "XYZ"} }),
			"exploitation.countries_of_exploitation[1]"},
		{"lower-case country", exploit(c, func(e *traffickingv1.Exploitation) { e.CountriesOfExploitation = []string{"tha"} }),
			"exploitation.countries_of_exploitation[0]"},
		{"no recruiter relationship", exploit(c, func(e *traffickingv1.Exploitation) { e.RecruiterRelationship = 0 }),
			"exploitation.recruiter_relationship"},
		{"end before start", exploit(c, func(e *traffickingv1.Exploitation) { e.StartYear, e.EndYear = 2024, 2022 }), "exploitation.end_year"},
		{"start in the future", exploit(c, func(e *traffickingv1.Exploitation) { e.StartYear = 2027 }), "exploitation.start_year"},
		{"a year before 1900", exploit(c, func(e *traffickingv1.Exploitation) { e.EndYear = 1850 }), "exploitation.end_year"},
		{"a child exploited as an adult", exploit(child, func(e *traffickingv1.Exploitation) {}), "exploitation.child_at_exploitation"},
		{"assistance in the future", assist(func(r *traffickingv1.RecordAssistanceRequest) { r.StartDate = day(2026, 3, 15) }), "start_date"},
		{"assistance on a partial date", assist(func(r *traffickingv1.RecordAssistanceRequest) { r.StartDate = day(2026, 3, 0) }), "start_date"},
		{"assistance ending before it starts", assist(func(r *traffickingv1.RecordAssistanceRequest) { r.EndDate = day(2026, 2, 1) }), "end_date"},
		{"a provider in free text", assist(func(r *traffickingv1.RecordAssistanceRequest) { r.Provider = "Dr Somchai's clinic" }), "provider"},
		{"no assistance type", assist(func(r *traffickingv1.RecordAssistanceRequest) { r.Type = 0 }), "type"},
		{"a high risk without factors", func() error {
			_, err := b.vot.AssessRisk(b.worker, &traffickingv1.AssessRiskRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
				Version: c.GetVersion(), Level: traffickingv1.RiskLevel_RISK_LEVEL_HIGH, Date: day(2026, 3, 1)})
			return err
		}, "factors"},
		{"screening without an authority", func() error {
			_, err := b.vot.RecordScreening(b.worker, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(),
				Version: c.GetVersion(), Status: identified, Date: day(2026, 3, 1)})
			return err
		}, "identified_by"},
		{"cooperation without a date", func() error {
			_, err := b.vot.RecordLawEnforcementCooperation(b.worker, &traffickingv1.RecordLawEnforcementCooperationRequest{RequestId: uuid.NewString(),
				CaseId: c.GetCaseId(), Version: c.GetVersion(), Status: traffickingv1.CooperationStatus_COOPERATION_STATUS_TESTIFIED})
			return err
		}, "date"},
		{"a case id that is not a UUID", func() error {
			_, err := b.vot.GetVictimCase(b.worker, &traffickingv1.GetVictimCaseRequest{CaseId: "case-1"})
			return err
		}, "case_id"},
	} {
		st := testserver.WantCode(t, tt.call(), codes.InvalidArgument)
		if diff := cmp.Diff([]string{tt.field}, testserver.FieldViolations(st)); diff != "" {
			t.Errorf("%s: field violations (-want +got):\n%s", tt.name, diff)
		}
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refused requests changed the database (-before +after):\n%s", diff)
	}

	// A child exploited as a child is recorded.
	if err := exploit(child, func(e *traffickingv1.Exploitation) { e.ChildAtExploitation = true })(); err != nil {
		t.Errorf("a child exploited as a child: %v", err)
	}
}
