package analytics_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
)

// TestHASMDecisionsAndReturns: a HASM request approved at HQ and its return, through the hasm
// RPCs, are counted as an approval and as a person returned by HASM, alike with AVRR's.
func TestHASMDecisionsAndReturns(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec(), hasm.Spec(), analytics.Spec()}})
	in := intakev1.NewIntakeServiceClient(env.Conn)
	hs := hasmv1.NewStrandedMigrantServiceClient(env.Conn)
	an := analyticsv1.NewAnalyticsServiceClient(env.Conn)
	worker := env.As(t, auth.RoleCaseworker, "YEM")
	pm := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	if _, err := hs.CreateFund(pm, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-GLOBAL", Year: 2026,
		Currency: "USD", Budget: 1_000_000}); err != nil {
		t.Fatalf("CreateFund: %v", err)
	}
	reg, err := in.RegisterCase(worker, &intakev1.RegisterCaseRequest{
		RequestId: uuid.NewString(), Mission: "YEM", Programme: commonv1.Programme_PROGRAMME_HASM, HostCountry: "YEM",
		Principal: person("Abebe", male, "ETH"), RegistrationDate: day(2026, 3, 1),
		Consents: []*commonv1.Consent{
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 3, 1)},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true, Date: day(2026, 3, 1)},
		},
	})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	req, err := hs.RequestAssistance(worker, &hasmv1.RequestAssistanceRequest{
		RequestId: uuid.NewString(), CaseId: reg.GetCase().GetCaseId(),
		StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
		NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
		EstimatedCost:           90_000, Currency: "USD", FundCode: "HASM-GLOBAL", FundYear: 2026})
	if err != nil {
		t.Fatalf("RequestAssistance: %v", err)
	}
	dec, err := hs.DecideRequest(pm, &hasmv1.DecideRequestRequest{RequestId: uuid.NewString(), CaseId: req.GetRequest().GetCaseId(),
		Version: req.GetRequest().GetVersion(), Decision: hasmv1.Decision_DECISION_APPROVE})
	if err != nil {
		t.Fatalf("DecideRequest: %v", err)
	}
	if _, err := hs.RecordDeparture(worker, &hasmv1.RecordDepartureRequest{RequestId: uuid.NewString(),
		CaseId: dec.GetRequest().GetCaseId(), Version: dec.GetRequest().GetVersion(),
		DepartureDate: day(2026, 3, 10), ReturnCountry: "ETH"}); err != nil {
		t.Fatalf("RecordDeparture: %v", err)
	}
	analyst := env.As(t, auth.RoleAnalyst, auth.MissionHQ)
	for _, tt := range []struct {
		measure analyticsv1.Measure
		dim     analyticsv1.Dimension
		key     string
	}{
		{analyticsv1.Measure_MEASURE_HASM_REQUESTS_APPROVED, analyticsv1.Dimension_DIMENSION_NATIONALITY, "ETH"},
		{analyticsv1.Measure_MEASURE_PERSONS_RETURNED, analyticsv1.Dimension_DIMENSION_PROGRAMME, "HASM"},
		{analyticsv1.Measure_MEASURE_PERSONS_RETURNED, analyticsv1.Dimension_DIMENSION_RETURN_REGION, "EHoA"},
	} {
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			resp, err := an.Aggregate(analyst, &analyticsv1.AggregateRequest{Measure: tt.measure, GroupBy: []analyticsv1.Dimension{tt.dim}})
			if err != nil {
				t.Fatal(err)
			}
			if c := resp.GetCells(); len(c) == 1 && c[0].GetKeys()[0] == tt.key && c[0].GetSuppressed() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v by %v: %v, want one suppressed cell %s", tt.measure, tt.dim, resp.GetCells(), tt.key)
			}
		}
	}
	if n := env.QueryInt(t, `SELECT count(*) FROM analytics.fact WHERE measure = 'HASM_REQUESTS_REJECTED'`); n != 0 {
		t.Errorf("rejections counted: %d", n)
	}
}
