package analytics_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/ctdc"
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
	// The provenance: in the response, and in the columns that end every row.
	p := resp.GetProvenance()
	if p.GetMethod() != analyticsv1.ReleaseMethod_RELEASE_METHOD_SUPPRESSION || p.GetK() != 11 || p.GetEpsilon() != 0 ||
		p.GetDelta() != 0 || p.GetGenerator() != "passage" || p.GetGeneratorVersion() != bootstrap.Version {
		t.Errorf("provenance %v", p)
	}
	released, asOf := p.GetReleaseTime().AsTime(), p.GetDataAsOf().AsTime()
	if !p.GetReleaseTime().IsValid() || !p.GetDataAsOf().IsValid() || asOf.After(released) || time.Since(released) > time.Hour {
		t.Errorf("released %v, data as of %v", released, asOf)
	}
	wantMeta := map[string]string{"#meta+method": "SUPPRESSION", "#meta+k": "11", "#meta+epsilon": "", "#meta+delta": "",
		"#date+released": released.UTC().Format(time.RFC3339), "#date+as_of": asOf.UTC().Format(time.RFC3339),
		"#meta+generator": "passage " + bootstrap.Version}
	checkMeta(t, rows, wantMeta)
}

// checkMeta checks that each hashtag of want heads a column whose every row holds its value.
func checkMeta(t *testing.T, rows [][]string, want map[string]string) {
	t.Helper()
	for tag, value := range want {
		col := slices.Index(rows[1], tag)
		if col < 0 {
			t.Errorf("no column %s in %v", tag, rows[1])
			continue
		}
		for i, r := range rows[2:] {
			if r[col] != value {
				t.Errorf("row %d: %s = %q, want %q", i, tag, r[col], value)
			}
		}
	}
}

// TestExportAggregateDifferentialPrivacy: an HXL export under differential privacy spends the
// caller's budget from the same ledger as Aggregate, writes noisy counts without suppression
// columns and with its provenance, and is refused with RESOURCE_EXHAUSTED, nothing released
// and nothing spent, once the budget would be overspent.
func TestExportAggregateDifferentialPrivacy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.load(t, caseload()[:14])
	b.awaitFacts(t, "PERSONS_RETURNED", 14)
	export := func(eps float64) (*analyticsv1.ExportAggregateResponse, error) {
		return b.analytics.ExportAggregate(b.analyst, &analyticsv1.ExportAggregateRequest{
			Measure:             analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
			GroupBy:             []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY, analyticsv1.Dimension_DIMENSION_SEX},
			DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: eps}})
	}
	resp, err := export(1)
	if err != nil {
		t.Fatal(err)
	}
	budget := privacy.DefaultYearlyEpsilon
	if resp.GetK() != 0 || resp.GetRemainingBudget() != budget-1 {
		t.Errorf("k %d, remaining %v; want 0, %v", resp.GetK(), resp.GetRemainingBudget(), budget-1)
	}
	p := resp.GetProvenance()
	if p.GetMethod() != analyticsv1.ReleaseMethod_RELEASE_METHOD_DIFFERENTIAL_PRIVACY || p.GetK() != 0 || p.GetEpsilon() != 1 ||
		p.GetDelta() != privacy.DefaultDelta || !p.GetReleaseTime().IsValid() || !p.GetDataAsOf().IsValid() {
		t.Errorf("provenance %v", p)
	}
	rows, err := csv.NewReader(bytes.NewReader(resp.GetCsv())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 {
		t.Fatalf("csv %q: want a header row, the HXL row, then at least one row", resp.GetCsv())
	}
	for _, tag := range rows[1] {
		if strings.HasPrefix(tag, "#meta+suppressed") {
			t.Errorf("a noisy table has a suppression column: %v", rows[1])
		}
	}
	if !slices.Contains(rows[1], "#country+code+dest") {
		t.Errorf("tags %v", rows[1])
	}
	checkMeta(t, rows, map[string]string{"#meta+method": "DIFFERENTIAL_PRIVACY", "#meta+k": "", "#meta+epsilon": "1",
		"#meta+delta": "1e-07", "#date+released": p.GetReleaseTime().AsTime().Format(time.RFC3339)})
	// The same ledger as Aggregate's: what the export spent is spent.
	got, err := b.analytics.GetPrivacyBudget(b.analyst, &analyticsv1.GetPrivacyBudgetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetSpent() != 1 {
		t.Errorf("spent %v after one export at 1", got.GetSpent())
	}
	if what := b.env.QueryText(t, `SELECT what FROM analytics.privacy_ledger`); what != "export=hxl;measure=PERSONS_RETURNED;group_by=RETURN_COUNTRY,SEX" {
		t.Errorf("ledger says %q", what)
	}
	// Aggregate spends the rest; the export is then refused as Aggregate would be.
	for range int(budget) - 1 {
		b.aggregate(t, &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
			Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: 1}}})
	}
	resp, err = export(0.5)
	st := testserver.WantCode(t, err, codes.ResourceExhausted)
	if resp != nil || !strings.Contains(st.Message(), "0 left") {
		t.Errorf("response %v, message %q", resp, st.Message())
	}
	var reason, subject string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.GetReason() + " remaining=" + d.GetMetadata()["remaining"]
		case *errdetails.QuotaFailure:
			subject = d.GetViolations()[0].GetSubject()
		}
	}
	if reason != "PRIVACY_BUDGET_EXHAUSTED remaining=0" || subject != "differential_privacy.epsilon" {
		t.Errorf("details: %q, %q", reason, subject)
	}
	if n := b.env.QueryInt(t, `SELECT count(*) FROM analytics.privacy_ledger`); n != int(budget) {
		t.Errorf("%d releases on the ledger, want %d", n, int(budget))
	}
}

// TestExportAggregateRefusals: one way to release, named; no differential privacy for
// referrals, and nothing spent for a refusal.
func TestExportAggregateRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dp := &analyticsv1.DifferentialPrivacy{Epsilon: 0.5}
	for _, tt := range []struct {
		name  string
		req   *analyticsv1.ExportAggregateRequest
		field string // the field violation's path, or its description's words
	}{
		{"suppression and differential privacy", &analyticsv1.ExportAggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
			Suppression: &analyticsv1.Suppression{}, DifferentialPrivacy: dp}, "only one of suppression, differential_privacy can be set"},
		{"differential privacy for referrals", &analyticsv1.ExportAggregateRequest{Measure: analyticsv1.Measure_MEASURE_REFERRALS,
			DifferentialPrivacy: dp}, "differential_privacy"},
		{"epsilon above the cap", &analyticsv1.ExportAggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
			DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: privacy.MaxEpsilon * 1.5}}, "differential_privacy.epsilon"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.analytics.ExportAggregate(b.analyst, tt.req)
			st := testserver.WantCode(t, err, codes.InvalidArgument)
			named := slices.Contains(testserver.FieldViolations(st), tt.field)
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						named = named || v.GetDescription() == tt.field
					}
				}
			}
			if !named || !strings.Contains(st.Message(), "differential_privacy") {
				t.Errorf("%q %v: want %q named", st.Message(), st.Details(), tt.field)
			}
		})
	}
	if n := b.env.QueryInt(t, `SELECT count(*) FROM analytics.privacy_ledger`); n != 0 {
		t.Errorf("%d releases on the ledger after refusals", n)
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
	p := exp.GetProvenance()
	if p.GetMethod() != analyticsv1.ReleaseMethod_RELEASE_METHOD_K_ANONYMITY || p.GetK() != 11 || p.GetEpsilon() != 0 ||
		!p.GetReleaseTime().IsValid() || !p.GetDataAsOf().IsValid() || p.GetDataAsOf().AsTime().After(p.GetReleaseTime().AsTime()) {
		t.Errorf("provenance %v", p)
	}
	header, _, _ := strings.Cut(string(exp.GetCsv()), "\n")
	if !strings.HasSuffix(header, ",releaseMethod,releaseK,releaseEpsilon,releaseDelta,releaseTime,dataAsOf,generator") {
		t.Errorf("header %q does not end in the provenance columns", header)
	}
	// The release time says this year too: look for the victim's in the records' columns only.
	records, err := csv.NewReader(bytes.NewReader(exp.GetCsv())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records[1:] {
		for _, leak := range []string{"MMR", "THA", "2026", "FORCED_LABOUR"} {
			if strings.Contains(strings.Join(r[:len(ctdc.Columns)], ","), leak) {
				t.Errorf("a lone victim's %s is in the export:\n%s", leak, exp.GetCsv())
			}
		}
	}
}
