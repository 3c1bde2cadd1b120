package hasm_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// A stranded migrant in Yemen, abandoned by his smuggler, asks the mission for help; HQ
// approves the request against the global HASM fund and he returns home to Ethiopia with
// his younger brother.
func TestStrandedMigrantInYemenReturnsHome(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fund := b.createFund(t, "HASM-GLOBAL", 1_000_000) // USD 10,000.00
	c := b.hasmCase(t, brother())

	// The mission requests assistance: the case is found although intake registered it a
	// moment ago (the projection catches up on a miss).
	requested, err := b.client.RequestAssistance(b.worker, assistance(c.GetCaseId(), "HASM-GLOBAL", 85_000))
	if err != nil {
		t.Fatalf("RequestAssistance: %v", err)
	}
	r := requested.GetRequest()
	want := &hasmv1.AssistanceRequest{
		CaseId:                  c.GetCaseId(),
		Mission:                 "YEM",
		Status:                  hasmv1.RequestStatus_REQUEST_STATUS_REQUESTED,
		Version:                 1,
		SubjectId:               c.GetSubjectId(),
		HostCountry:             "YEM",
		StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
		NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
		EstimatedCost:           85_000,
		Currency:                "USD",
		FundCode:                "HASM-GLOBAL",
		FundYear:                2026,
		RequestedBy:             "staff-caseworker",
	}
	ignoreTimes := protocmp.IgnoreFields(&hasmv1.AssistanceRequest{}, "create_time", "update_time", "decide_time")
	if diff := cmp.Diff(want, r, protocmp.Transform(), ignoreTimes); diff != "" {
		t.Errorf("requested (-want +got):\n%s", diff)
	}

	// HQ sees the request among every mission's pending ones and approves it.
	pending, err := b.client.ListRequests(b.hq, &hasmv1.ListRequestsRequest{Status: hasmv1.RequestStatus_REQUEST_STATUS_REQUESTED})
	if err != nil {
		t.Fatalf("ListRequests at HQ: %v", err)
	}
	if len(pending.GetRequests()) != 1 || pending.GetRequests()[0].GetCaseId() != c.GetCaseId() {
		t.Fatalf("HQ's pending requests = %v, want the Yemen request", pending.GetRequests())
	}
	decided, err := b.client.DecideRequest(b.hq, approval(r))
	if err != nil {
		t.Fatalf("DecideRequest: %v", err)
	}
	r = decided.GetRequest()
	want.Status, want.Version, want.ApprovedAmount, want.DecidedBy = hasmv1.RequestStatus_REQUEST_STATUS_APPROVED, 2, 85_000, "staff-programme_manager"
	if diff := cmp.Diff(want, r, protocmp.Transform(), ignoreTimes); diff != "" {
		t.Errorf("approved (-want +got):\n%s", diff)
	}
	if r.GetDecideTime() == nil {
		t.Error("an approval has no decide_time")
	}
	wantFund := &hasmv1.Fund{FundId: fund.GetFundId(), Code: "HASM-GLOBAL", Year: 2026, Currency: "USD",
		Budget: 1_000_000, Committed: 85_000, Remaining: 915_000, Version: 1}
	ignoreFundTimes := protocmp.IgnoreFields(&hasmv1.Fund{}, "create_time", "update_time")
	if diff := cmp.Diff(wantFund, decided.GetFund(), protocmp.Transform(), ignoreFundTimes); diff != "" {
		t.Errorf("fund after the approval (-want +got):\n%s", diff)
	}
	balance, err := b.client.GetFund(b.admin, &hasmv1.GetFundRequest{Code: "HASM-GLOBAL", Year: 2026})
	if err != nil {
		t.Fatalf("GetFund: %v", err)
	}
	if diff := cmp.Diff(wantFund, balance.GetFund(), protocmp.Transform(), ignoreFundTimes); diff != "" {
		t.Errorf("GetFund (-want +got):\n%s", diff)
	}

	// The mission records the return: both brothers leave for Ethiopia, and arrive.
	departed, err := b.client.RecordDeparture(b.worker, departure(r))
	if err != nil {
		t.Fatalf("RecordDeparture: %v", err)
	}
	r = departed.GetRequest()
	everyone := []string{c.GetSubjectId(), c.GetHouseholdMembers()[0].GetSubjectId()}
	want.Status, want.Version, want.ReturnCountry = hasmv1.RequestStatus_REQUEST_STATUS_DEPARTED, 3, "ETH"
	want.DepartureDate, want.TravellingSubjectIds = &date.Date{Year: 2026, Month: 3, Day: 10}, everyone
	if diff := cmp.Diff(want, r, protocmp.Transform(), ignoreTimes); diff != "" {
		t.Errorf("departed (-want +got):\n%s", diff)
	}
	arrived, err := b.client.RecordArrival(b.worker, arrival(r))
	if err != nil {
		t.Fatalf("RecordArrival: %v", err)
	}
	r = arrived.GetRequest()
	want.Status, want.Version, want.ArrivalDate = hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED, 4, &date.Date{Year: 2026, Month: 3, Day: 11}
	if diff := cmp.Diff(want, r, protocmp.Transform(), ignoreTimes); diff != "" {
		t.Errorf("arrived (-want +got):\n%s", diff)
	}
	got, err := b.client.GetRequest(b.worker, &hasmv1.GetRequestRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatalf("GetRequest: %v", err)
	}
	if diff := cmp.Diff(r, got.GetRequest(), protocmp.Transform()); diff != "" {
		t.Errorf("GetRequest returns another request than RecordArrival (-arrival +get):\n%s", diff)
	}

	// The events the next services consume: analytics counts the approval and both persons
	// returned, through the departure event every programme shares.
	var types []string
	for _, e := range b.events(t) {
		types = append(types, e.Type)
	}
	wantTypes := []string{"passage.hasm.v1.FundCreated", "passage.hasm.v1.AssistanceRequested", "passage.hasm.v1.RequestDecided",
		"passage.common.v1.DepartureRecorded", "passage.hasm.v1.ArrivalRecorded"}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Fatalf("event types (-want +got):\n%s", diff)
	}
	events := b.events(t)
	if e := events[2].Payload.(*hasmv1.RequestDecided); e.GetDecision() != hasmv1.Decision_DECISION_APPROVE ||
		e.GetRequest().GetApprovedAmount() != 85_000 || e.GetRequest().GetFundCode() != "HASM-GLOBAL" || events[2].Mission != "YEM" {
		t.Errorf("RequestDecided = %v in %s, want an approval of 85000 on HASM-GLOBAL in YEM", e, events[2].Mission)
	}
	wantDeparture := &commonv1.DepartureRecorded{
		CaseId:        c.GetCaseId(),
		Mission:       "YEM",
		Programme:     commonv1.Programme_PROGRAMME_HASM,
		DepartureDate: &date.Date{Year: 2026, Month: 3, Day: 10},
		HostCountry:   "YEM",
		ReturnCountry: "ETH",
		Travellers: []*commonv1.TravellingPerson{
			{SubjectId: c.GetSubjectId(), Sex: commonv1.Sex_SEX_MALE, AgeBand: commonv1.AgeBand_AGE_BAND_27_29, Nationality: "ETH", Principal: true},
			{SubjectId: everyone[1], Sex: commonv1.Sex_SEX_MALE, AgeBand: commonv1.AgeBand_AGE_BAND_9_17, Nationality: "ETH"},
		},
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS},
	}
	if diff := cmp.Diff(wantDeparture, events[3].Payload, protocmp.Transform()); diff != "" {
		t.Errorf("DepartureRecorded (-want +got):\n%s", diff)
	}
	if e := events[4].Payload.(*hasmv1.ArrivalRecorded); e.GetRequest().GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_ARRIVED {
		t.Errorf("ArrivalRecorded carries status %v", e.GetRequest().GetStatus())
	}

	// Nothing about the person left the vault: not in the logs, not in a span.
	for _, secret := range []string{"Abebe", "Tesfaye", "EP7654321", "+967"} {
		if strings.Contains(b.env.Logs.String(), secret) || strings.Contains(testserver.SpanText(), secret) {
			t.Errorf("%q appears in the logs or spans", secret)
		}
	}
}

// A second request is refused at HQ because the fund is spent: the approval fails with
// FAILED_PRECONDITION naming the fund and what remains, writes nothing, and HQ then rejects
// the request for insufficient funds.
func TestApprovalRefusedWhenFundIsSpent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-YEM", 100_000)
	first := b.requestFor(t, "HASM-YEM", 80_000)
	if _, err := b.client.DecideRequest(b.hq, approval(first)); err != nil {
		t.Fatalf("first approval: %v", err)
	}
	second := b.requestFor(t, "HASM-YEM", 30_000)

	before := b.stored(t)
	_, err := b.client.DecideRequest(b.hq, approval(second))
	st := testserver.WantCode(t, err, codes.FailedPrecondition)
	wantMeta := map[string]string{"fund_code": "HASM-YEM", "fund_year": "2026", "currency": "USD", "remaining": "20000", "amount": "30000"}
	if info := errorInfo(st); info.GetReason() != "FUND_INSUFFICIENT" || !cmp.Equal(wantMeta, info.GetMetadata()) {
		t.Errorf("refusal details = %v, want FUND_INSUFFICIENT with %v", info, wantMeta)
	}
	if !strings.Contains(st.Message(), "HASM-YEM/2026") || !strings.Contains(st.Message(), "20000") {
		t.Errorf("refusal message %q names neither the fund nor what remains", st.Message())
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a refused approval changed the database (-before +after):\n%s", diff)
	}

	rejected, err := b.client.DecideRequest(b.hq, rejection(second, hasmv1.RejectionReason_REJECTION_REASON_INSUFFICIENT_FUNDS))
	if err != nil {
		t.Fatalf("rejection: %v", err)
	}
	if r := rejected.GetRequest(); r.GetStatus() != hasmv1.RequestStatus_REQUEST_STATUS_REJECTED ||
		r.GetRejectionReason() != hasmv1.RejectionReason_REJECTION_REASON_INSUFFICIENT_FUNDS || r.GetApprovedAmount() != 0 {
		t.Errorf("rejected request = %v", r)
	}
	if f := rejected.GetFund(); f.GetCommitted() != 80_000 || f.GetRemaining() != 20_000 {
		t.Errorf("fund after the rejection = %v, want 80000 committed, 20000 remaining", f)
	}
	events := b.events(t)
	last := events[len(events)-1].Payload.(*hasmv1.RequestDecided)
	if last.GetDecision() != hasmv1.Decision_DECISION_REJECT || last.GetRequest().GetRejectionReason() != hasmv1.RejectionReason_REJECTION_REASON_INSUFFICIENT_FUNDS {
		t.Errorf("last event = %v, want the rejection", last)
	}

	// Raising the budget lets HQ approve other requests again.
	fund, err := b.client.GetFund(b.hq, &hasmv1.GetFundRequest{Code: "HASM-YEM", Year: 2026})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.SetFundBudget(b.hq, &hasmv1.SetFundBudgetRequest{RequestId: uuid.NewString(), Code: "HASM-YEM", Year: 2026,
		Version: fund.GetFund().GetVersion(), Budget: 200_000}); err != nil {
		t.Fatalf("SetFundBudget: %v", err)
	}
	third := b.requestFor(t, "HASM-YEM", 30_000)
	if _, err := b.client.DecideRequest(b.hq, approval(third)); err != nil {
		t.Errorf("approval after the budget was raised: %v", err)
	}
}
