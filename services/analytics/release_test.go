package analytics_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/privacy"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// TestDifferentialPrivacySpendsTheBudget: each release spends its epsilon from the caller's
// yearly budget, the response and GetPrivacyBudget say what is left, and a release that would
// overspend is RESOURCE_EXHAUSTED with nothing spent.
func TestDifferentialPrivacySpendsTheBudget(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.load(t, caseload()[:14])
	b.awaitFacts(t, "PERSONS_RETURNED", 14)
	dp := func(eps float64) *analyticsv1.AggregateRequest {
		return &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY},
			Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: eps}}}
	}
	budget := privacy.DefaultYearlyEpsilon
	spent := 0.0
	for spent+1 <= budget {
		resp := b.aggregate(t, dp(1))
		spent++
		if resp.GetEpsilon() != 1 || resp.GetRemainingBudget() != budget-spent || resp.GetK() != 0 {
			t.Fatalf("epsilon %v remaining %v k %v, want 1, %v, 0", resp.GetEpsilon(), resp.GetRemainingBudget(), resp.GetK(), budget-spent)
		}
		for _, c := range resp.GetCells() {
			if c.GetCount() < 0 || c.GetSuppressed() {
				t.Fatalf("noisy cell %v", c)
			}
		}
	}
	_, err := b.analytics.Aggregate(b.analyst, dp(0.5))
	st := testserver.WantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(st.Message(), "0 left") {
		t.Errorf("message %q does not say what is left", st.Message())
	}
	got, err := b.analytics.GetPrivacyBudget(b.analyst, &analyticsv1.GetPrivacyBudgetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetSpent() != budget || got.GetRemaining() != 0 || got.GetBudget() != budget || int(got.GetYear()) != time.Now().UTC().Year() {
		t.Errorf("budget %v", got)
	}
	// Another analyst's budget is their own.
	other := b.env.AsStaff(t, "analyst-2", auth.RoleAnalyst, auth.MissionHQ)
	if _, err := b.analytics.Aggregate(other, dp(1)); err != nil {
		t.Errorf("another analyst: %v", err)
	}
}

// TestExportAggregate: the suppressed table as CSV with the HXL hashtag row.
func TestExportAggregate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.load(t, caseload()[:14])
	b.awaitFacts(t, "PERSONS_RETURNED", 14)
	resp, err := b.analytics.ExportAggregate(b.analyst, &analyticsv1.ExportAggregateRequest{
		Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetContentType() != "text/csv" || resp.GetK() != 11 {
		t.Errorf("content type %q, k %d", resp.GetContentType(), resp.GetK())
	}
	rows, err := csv.NewReader(bytes.NewReader(resp.GetCsv())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 || !strings.HasPrefix(rows[1][0], "#") {
		t.Fatalf("csv %q: want a header row, the HXL row, then the rows", resp.GetCsv())
	}
	text := string(resp.GetCsv())
	// 13 returned to Iraq (released), 1 to Albania (suppressed, and so Iraq with it: the total
	// of 14 is in no row, but the export's cells follow Aggregate's).
	if !strings.Contains(text, "#country+code+dest") || !strings.Contains(text, "#reached+ind+returnees") {
		t.Errorf("csv lacks the HXL tags:\n%s", text)
	}
	if strings.Contains(text, ",13,") || strings.Contains(text, ",1,") {
		t.Errorf("a suppressed count is written:\n%s", text)
	}
}

// TestVictimsIdentified: a victim identified through the trafficking RPCs is counted by type of
// exploitation, moves when the exploitation details are recorded later, and is exported in the
// CTDC layout, anonymised: a lone victim is never released as themself.
func TestVictimsIdentified(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{
		Services: []bootstrap.Service{intake.Spec(), returns.Spec(), trafficking.Spec(), analytics.Spec()},
	})
	in := intakev1.NewIntakeServiceClient(env.Conn)
	vot := traffickingv1.NewTraffickingServiceClient(env.Conn)
	an := analyticsv1.NewAnalyticsServiceClient(env.Conn)
	analyst := env.As(t, auth.RoleAnalyst, auth.MissionHQ)
	worker := env.As(t, auth.RoleCaseworker, "THA")
	reg, err := in.RegisterCase(worker, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "THA", Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "THA",
		Principal: person("Thida", female, "MMR"), RegistrationDate: day(2026, 1, 5),
		Consents: []*commonv1.Consent{
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 1, 5)},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true, Date: day(2026, 1, 5)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := reg.GetCase().GetCaseId()
	var v *traffickingv1.VictimCase
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := vot.GetVictimCase(worker, &traffickingv1.GetVictimCaseRequest{CaseId: id})
		if err == nil {
			v = resp.GetVictimCase()
			break
		}
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			t.Fatalf("GetVictimCase: %v", err)
		}
	}
	s, err := vot.RecordScreening(worker, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: v.GetVersion(), Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM,
		IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: day(2026, 1, 20)})
	if err != nil {
		t.Fatalf("RecordScreening: %v", err)
	}
	byType := func() []string {
		var keys []string
		resp, err := an.Aggregate(analyst, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range resp.GetCells() {
			if !c.GetSuppressed() {
				t.Errorf("a lone victim's cell released: %v", c)
			}
			keys = append(keys, c.GetKeys()[0])
		}
		return keys
	}
	await := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			got := byType()
			if len(got) == 1 && got[0] == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("victims identified by type: %v, want [%s]", got, want)
			}
		}
	}
	await("UNKNOWN")
	if _, err := vot.RecordExploitation(worker, &traffickingv1.RecordExploitationRequest{RequestId: uuid.NewString(), CaseId: id,
		Version: s.GetVictimCase().GetVersion(), Exploitation: &traffickingv1.Exploitation{
			Types:                   []traffickingv1.ExploitationType{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR},
			MeansOfControl:          []traffickingv1.MeansOfControl{traffickingv1.MeansOfControl_MEANS_OF_CONTROL_DEBT_BONDAGE},
			RecruiterRelationship:   traffickingv1.RecruiterRelationship_RECRUITER_RELATIONSHIP_FRIEND,
			CountriesOfExploitation: []string{"THA"}, StartYear: 2024}}); err != nil {
		t.Fatalf("RecordExploitation: %v", err)
	}
	await("FORCED_LABOUR")
	if n := env.QueryInt(t, `SELECT count(*) FROM analytics.victim_record WHERE exploitation_types = '{FORCED_LABOUR}'
AND means_of_control = '{DEBT_BONDAGE}' AND country_of_exploitation = 'THA' AND citizenship = 'MMR' AND year = 2026`); n != 1 {
		t.Errorf("victim records as expected: %d, want 1", n)
	}

	exp, err := an.ExportVictimRecords(analyst, &analyticsv1.ExportVictimRecordsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if exp.GetK() != 11 || exp.GetContentType() != "text/csv" || exp.GetRecords()+exp.GetWithheld() != 1 {
		t.Errorf("export: k %d, %d records, %d withheld", exp.GetK(), exp.GetRecords(), exp.GetWithheld())
	}
	for _, leak := range []string{"MMR", "THA", "2026", "FORCED_LABOUR"} {
		if strings.Contains(string(exp.GetCsv()), leak) {
			t.Errorf("a lone victim's %s is in the export:\n%s", leak, exp.GetCsv())
		}
	}
}
