package catalog_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// followUpsFor sends the AVRR and HASM cases of ids on their way (the HASM request approved at
// HQ), so that each departure makes a follow-up, and assigns one to the caseworker and one to
// the supervisor: each then lists a follow-up of their own.
func followUpsFor(t *testing.T, env *testserver.Env, worker, supervisor context.Context, ids map[commonv1.Programme]string) {
	t.Helper()
	day := func(d int32) *date.Date { return &date.Date{Year: 2026, Month: 3, Day: d} }
	ret := returnsv1.NewReturnServiceClient(env.Conn)
	avrr := ids[commonv1.Programme_PROGRAMME_AVRR]
	var version int64
	eventually(t, func() error {
		resp, err := ret.RecordEligibility(worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: avrr, Version: 1,
			Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE, DecisionDate: day(2)}})
		version = resp.GetReturn().GetVersion()
		return err
	})
	for _, step := range []*returnsv1.PreDepartureStep{
		{Date: day(3), Step: &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT}},
		{Date: day(3), Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}},
	} {
		resp, err := ret.RecordPreDepartureStep(worker, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(), CaseId: avrr,
			Version: version, Step: step})
		if err != nil {
			t.Fatalf("RecordPreDepartureStep: %v", err)
		}
		version = resp.GetReturn().GetVersion()
	}
	if _, err := ret.RecordDeparture(worker, &returnsv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: avrr, Version: version,
		DepartureDate: day(5), ReturnCountry: "NGA"}); err != nil {
		t.Fatalf("RecordDeparture: %v", err)
	}

	hq := hasmv1.NewStrandedMigrantServiceClient(env.Conn)
	hasm := ids[commonv1.Programme_PROGRAMME_HASM]
	decided, err := hq.DecideRequest(env.As(t, auth.RoleProgrammeManager, auth.MissionHQ), &hasmv1.DecideRequestRequest{
		RequestId: uuid.NewString(), CaseId: hasm, Version: 1, Decision: hasmv1.Decision_DECISION_APPROVE})
	if err != nil {
		t.Fatalf("DecideRequest: %v", err)
	}
	if _, err := hq.RecordDeparture(worker, &hasmv1.RecordDepartureRequest{RequestId: uuid.NewString(), CaseId: hasm,
		Version: decided.GetRequest().GetVersion(), DepartureDate: day(10), ReturnCountry: "NGA"}); err != nil {
		t.Fatalf("RecordDeparture (HASM): %v", err)
	}

	fu := followupv1.NewFollowUpServiceClient(env.Conn)
	var open []*followupv1.FollowUp
	eventually(t, func() error {
		resp, err := fu.ListFollowUps(supervisor, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION})
		if open = resp.GetFollowUps(); err == nil && len(open) < 2 {
			return status.Error(codes.NotFound, "the departures' follow-ups are not there yet")
		}
		return err
	})
	for i, who := range []string{"staff-" + string(auth.RoleCaseworker), "staff-" + string(auth.RoleSupervisor)} {
		if _, err := fu.AssignFollowUp(supervisor, &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(),
			FollowUpId: open[i].GetFollowUpId(), Version: open[i].GetVersion(), Assignee: who}); err != nil {
			t.Fatalf("AssignFollowUp: %v", err)
		}
	}
}
