package hasm_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// step is one status-changing call on a request at the version given.
type step func(b *bundle, r *hasmv1.AssistanceRequest) (*hasmv1.AssistanceRequest, error)

var (
	approve step = func(b *bundle, r *hasmv1.AssistanceRequest) (*hasmv1.AssistanceRequest, error) {
		resp, err := b.client.DecideRequest(b.hq, approval(r))
		return resp.GetRequest(), err
	}
	reject step = func(b *bundle, r *hasmv1.AssistanceRequest) (*hasmv1.AssistanceRequest, error) {
		resp, err := b.client.DecideRequest(b.hq, rejection(r, hasmv1.RejectionReason_REJECTION_REASON_NOT_ELIGIBLE))
		return resp.GetRequest(), err
	}
	depart step = func(b *bundle, r *hasmv1.AssistanceRequest) (*hasmv1.AssistanceRequest, error) {
		resp, err := b.client.RecordDeparture(b.worker, departure(r))
		return resp.GetRequest(), err
	}
	arrive step = func(b *bundle, r *hasmv1.AssistanceRequest) (*hasmv1.AssistanceRequest, error) {
		resp, err := b.client.RecordArrival(b.worker, arrival(r))
		return resp.GetRequest(), err
	}
	closeReq step = func(b *bundle, r *hasmv1.AssistanceRequest) (*hasmv1.AssistanceRequest, error) {
		resp, err := b.client.CloseRequest(b.worker, closing(r, hasmv1.ClosureReason_CLOSURE_REASON_LOST_CONTACT))
		return resp.GetRequest(), err
	}
)

func TestForbiddenTransitions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-FLOW", 10_000_000)
	tests := []struct {
		name     string
		path     []step // brings a new request to the status under test
		from, to string
		refused  step
	}{
		{"no departure before approval", nil, "REQUESTED", "DEPARTED", depart},
		{"no arrival before departure", nil, "REQUESTED", "ARRIVED", arrive},
		{"no arrival before departure, approved", []step{approve}, "APPROVED", "ARRIVED", arrive},
		{"no second decision", []step{approve}, "APPROVED", "REJECTED", reject},
		{"no approval after a rejection", []step{reject}, "REJECTED", "APPROVED", approve},
		{"no departure after a rejection", []step{reject}, "REJECTED", "DEPARTED", depart},
		{"no closing a rejection", []step{reject}, "REJECTED", "CLOSED", closeReq},
		{"no decision after departure", []step{approve, depart}, "DEPARTED", "APPROVED", approve},
		{"no second departure", []step{approve, depart}, "DEPARTED", "DEPARTED", depart},
		{"no closing a completed return", []step{approve, depart, arrive}, "ARRIVED", "CLOSED", closeReq},
		{"no second arrival", []step{approve, depart, arrive}, "ARRIVED", "ARRIVED", arrive},
		{"nothing after closure", []step{closeReq}, "CLOSED", "APPROVED", approve},
		{"no closing twice", []step{approve, closeReq}, "CLOSED", "CLOSED", closeReq},
	}
	for _, tt := range tests {
		r := b.requestFor(t, "HASM-FLOW", 1_000)
		var err error
		for _, s := range tt.path {
			if r, err = s(b, r); err != nil {
				t.Fatalf("%s: getting there: %v", tt.name, err)
			}
		}
		before := b.stored(t)
		_, err = tt.refused(b, r)
		st := testserver.WantCode(t, err, codes.FailedPrecondition)
		info := errorInfo(st)
		if diff := cmp.Diff(map[string]string{"from": tt.from, "to": tt.to}, info.GetMetadata()); info.GetReason() != "INVALID_TRANSITION" || diff != "" {
			t.Errorf("%s: details %v (-want +got):\n%s", tt.name, info, diff)
		}
		if diff := cmp.Diff(before, b.stored(t)); diff != "" {
			t.Errorf("%s: a refused transition wrote (-before +after):\n%s", tt.name, diff)
		}
	}
}

func TestStaleVersion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-V", 100_000)
	r := b.requestFor(t, "HASM-V", 1_000)
	approved, err := approve(b, r)
	if err != nil {
		t.Fatal(err)
	}
	before := b.stored(t)
	_, err = depart(b, r) // r is version 1; the approval moved it to 2
	info := errorInfo(testserver.WantCode(t, err, codes.FailedPrecondition))
	if info.GetReason() != "STALE_VERSION" || info.GetMetadata()["current_version"] != "2" {
		t.Errorf("stale details = %v, want STALE_VERSION at version 2", info)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a stale change wrote (-before +after):\n%s", diff)
	}
	if _, err := depart(b, approved); err != nil {
		t.Errorf("the current version: %v", err)
	}
}

func TestRetriesAreIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-IDEM", 100_000)
	c := b.hasmCase(t)
	req := assistance(c.GetCaseId(), "HASM-IDEM", 5_000)
	first, err := b.client.RequestAssistance(b.worker, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.client.RequestAssistance(b.worker, proto.CloneOf(req))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("a retry returned another result (-first +retry):\n%s", diff)
	}
	// Another request id for the same case is another request, refused.
	_, err = b.client.RequestAssistance(b.worker, assistance(c.GetCaseId(), "HASM-IDEM", 5_000))
	testserver.WantCode(t, err, codes.AlreadyExists)

	// Eight retries of one approval race: one commits, all get its result, the fund is
	// charged once.
	decide := approval(first.GetRequest())
	results := make([]*hasmv1.DecideRequestResponse, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = b.client.DecideRequest(b.hq, proto.CloneOf(decide)) })
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
	if got := results[0].GetFund().GetCommitted(); got != 5_000 {
		t.Errorf("fund committed %d after racing retries, want 5000", got)
	}
	want := map[string]int{"hasm.request": 1, "hasm.fund": 1, "hasm.idempotency": 3, "outbox.event": 4,
		"committed": 5_000, "fund versions": 1, "request versions": 2}
	if diff := cmp.Diff(want, b.stored(t)); diff != "" {
		t.Errorf("rows after retries (-want +got):\n%s", diff)
	}

	// A request id reused for another request is refused on request_id.
	reused := departure(results[0].GetRequest())
	reused.RequestId = req.GetRequestId()
	_, err = b.client.RecordDeparture(b.worker, reused)
	if diff := cmp.Diff([]string{"request_id"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("field violations (-want +got):\n%s", diff)
	}
}

func TestMissionIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-ISO", 100_000)
	r := b.requestFor(t, "HASM-ISO", 1_000)
	germanCase := b.registerCase(t, b.other, "DEU", commonv1.Programme_PROGRAMME_HASM)
	avrrCase := b.registerCase(t, b.worker, "YEM", commonv1.Programme_PROGRAMME_AVRR)
	pmYemen := b.env.As(t, auth.RoleProgrammeManager, "YEM")

	before := b.stored(t)
	notFound := []struct {
		name string
		call func() error
	}{
		{"another mission's case", func() error {
			_, err := b.client.RequestAssistance(b.other, assistance(r.GetCaseId(), "HASM-ISO", 1_000))
			return err
		}},
		{"an AVRR case", func() error {
			_, err := b.client.RequestAssistance(b.worker, assistance(avrrCase.GetCaseId(), "HASM-ISO", 1_000))
			return err
		}},
		{"a case that does not exist", func() error {
			_, err := b.client.RequestAssistance(b.worker, assistance(uuid.NewString(), "HASM-ISO", 1_000))
			return err
		}},
		{"another mission's request", func() error {
			_, err := b.client.GetRequest(b.other, &hasmv1.GetRequestRequest{CaseId: r.GetCaseId()})
			return err
		}},
		{"a programme manager of a mission reads only that mission", func() error {
			_, err := b.client.GetRequest(b.env.As(t, auth.RoleProgrammeManager, "DEU"), &hasmv1.GetRequestRequest{CaseId: r.GetCaseId()})
			return err
		}},
		{"another mission's closure", func() error {
			_, err := b.client.CloseRequest(b.other, closing(r, hasmv1.ClosureReason_CLOSURE_REASON_OTHER))
			return err
		}},
	}
	for _, tt := range notFound {
		if err := tt.call(); status.Code(err) != codes.NotFound {
			t.Errorf("%s: got %v, want NOT_FOUND", tt.name, err)
		}
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("calls for what the caller may not see wrote (-before +after):\n%s", diff)
	}

	// HQ reads every mission's requests; missions list only their own.
	if _, err := b.client.GetRequest(b.hq, &hasmv1.GetRequestRequest{CaseId: r.GetCaseId()}); err != nil {
		t.Errorf("HQ GetRequest: %v", err)
	}
	if _, err := b.client.RequestAssistance(b.other, assistance(germanCase.GetCaseId(), "HASM-ISO", 2_000)); err != nil {
		t.Fatal(err)
	}
	before = b.stored(t)
	list := func(ctx context.Context, mission string) []string {
		t.Helper()
		resp, err := b.client.ListRequests(ctx, &hasmv1.ListRequestsRequest{Mission: mission})
		if err != nil {
			t.Fatalf("ListRequests %q: %v", mission, err)
		}
		var missions []string
		for _, x := range resp.GetRequests() {
			missions = append(missions, x.GetMission())
		}
		return missions
	}
	if diff := cmp.Diff([]string{"DEU", "YEM"}, list(b.hq, "")); diff != "" {
		t.Errorf("HQ's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"YEM"}, list(b.hq, "YEM")); diff != "" {
		t.Errorf("HQ's list of Yemen (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"YEM"}, list(b.worker, "")); diff != "" {
		t.Errorf("Yemen's list (-want +got):\n%s", diff)
	}
	_, err := b.client.ListRequests(b.worker, &hasmv1.ListRequestsRequest{Mission: "DEU"})
	testserver.WantCode(t, err, codes.PermissionDenied)

	// Who may do what.
	denied := []struct {
		name string
		call func() error
	}{
		{"a caseworker decides", func() error { _, err := b.client.DecideRequest(b.worker, approval(r)); return err }},
		{"a programme manager of a mission decides", func() error { _, err := b.client.DecideRequest(pmYemen, approval(r)); return err }},
		{"an admin decides", func() error { _, err := b.client.DecideRequest(b.admin, approval(r)); return err }},
		{"HQ requests assistance", func() error {
			_, err := b.client.RequestAssistance(b.hq, assistance(r.GetCaseId(), "HASM-ISO", 1))
			return err
		}},
		{"HQ records a departure", func() error { _, err := b.client.RecordDeparture(b.hq, departure(r)); return err }},
		{"a caseworker creates a fund", func() error {
			_, err := b.client.CreateFund(b.worker, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "X1", Year: 2026, Currency: "USD", Budget: 1})
			return err
		}},
		{"a programme manager of a mission creates a fund", func() error {
			_, err := b.client.CreateFund(pmYemen, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "X1", Year: 2026, Currency: "USD", Budget: 1})
			return err
		}},
		{"an analyst reads a fund", func() error {
			_, err := b.client.GetFund(b.env.As(t, auth.RoleAnalyst, auth.MissionHQ), &hasmv1.GetFundRequest{Code: "HASM-ISO", Year: 2026})
			return err
		}},
		{"a caseworker reads a fund", func() error {
			_, err := b.client.GetFund(b.worker, &hasmv1.GetFundRequest{Code: "HASM-ISO", Year: 2026})
			return err
		}},
	}
	for _, tt := range denied {
		if err := tt.call(); err == nil {
			t.Errorf("%s: allowed", tt.name)
		} else {
			testserver.WantCode(t, err, codes.PermissionDenied)
		}
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refused calls wrote (-before +after):\n%s", diff)
	}
}

func TestListRequestsPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-PAGE", 100_000)
	var want []string
	for range 5 {
		want = append([]string{b.requestFor(t, "HASM-PAGE", 100).GetCaseId()}, want...) // newest first
	}
	var got []string
	req := &hasmv1.ListRequestsRequest{PageSize: 2}
	for {
		resp, err := b.client.ListRequests(b.worker, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetRequests() {
			got = append(got, r.GetCaseId())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged requests (-want +got):\n%s", diff)
	}
	_, err := b.client.ListRequests(b.worker, &hasmv1.ListRequestsRequest{PageToken: req.GetPageToken(), Status: hasmv1.RequestStatus_REQUEST_STATUS_APPROVED})
	if diff := cmp.Diff([]string{"page_token"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("a token for other filters (-want +got):\n%s", diff)
	}
}

func TestClosedCaseGetsNoAssistance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-SHUT", 100_000)
	c := b.hasmCase(t)
	r := b.requestFor(t, "HASM-SHUT", 1_000)
	for _, id := range []string{c.GetCaseId(), r.GetCaseId()} {
		got, err := b.intake.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: id})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.intake.CloseCase(b.worker, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: id,
			Version: got.GetCase().GetVersion(), Reason: intakev1.ClosureReason_CLOSURE_REASON_DECEASED}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.svc.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := b.stored(t)
	_, err := b.client.RequestAssistance(b.worker, assistance(c.GetCaseId(), "HASM-SHUT", 1_000))
	if info := errorInfo(testserver.WantCode(t, err, codes.FailedPrecondition)); info.GetReason() != "CASE_CLOSED" {
		t.Errorf("request for a closed case: %v", info)
	}
	_, err = approve(b, r)
	if info := errorInfo(testserver.WantCode(t, err, codes.FailedPrecondition)); info.GetReason() != "CASE_CLOSED" {
		t.Errorf("approval for a closed case: %v", info)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("refusals wrote (-before +after):\n%s", diff)
	}
	// The request itself can still be closed.
	if _, err := closeReq(b, r); err != nil {
		t.Errorf("closing the request of a closed case: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.createFund(t, "HASM-IN", 100_000)
	c := b.hasmCase(t, brother())
	r := b.requestFor(t, "HASM-IN", 1_000)
	approved, err := approve(b, r)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"case id", func() error {
			req := assistance("not-a-uuid", "HASM-IN", 1)
			_, err := b.client.RequestAssistance(b.worker, req)
			return err
		}, "case_id"},
		{"no cost", func() error {
			_, err := b.client.RequestAssistance(b.worker, assistance(c.GetCaseId(), "HASM-IN", 0))
			return err
		}, "estimated_cost"},
		{"currency pattern", func() error {
			req := assistance(c.GetCaseId(), "HASM-IN", 1)
			req.Currency = "usd"
			_, err := b.client.RequestAssistance(b.worker, req)
			return err
		}, "currency"},
		{"currency not the fund's", func() error {
			req := assistance(c.GetCaseId(), "HASM-IN", 1)
			req.Currency = "EUR"
			_, err := b.client.RequestAssistance(b.worker, req)
			return err
		}, "currency"},
		{"no such fund", func() error {
			_, err := b.client.RequestAssistance(b.worker, assistance(c.GetCaseId(), "HASM-NONE", 1))
			return err
		}, "fund_code"},
		{"no stranded reason", func() error {
			req := assistance(c.GetCaseId(), "HASM-IN", 1)
			req.StrandedReason = 0
			_, err := b.client.RequestAssistance(b.worker, req)
			return err
		}, "stranded_reason"},
		{"reject without a reason", func() error {
			req := rejection(r, 0)
			_, err := b.client.DecideRequest(b.hq, req)
			return err
		}, "rejection_reason"},
		{"approve with a reason", func() error {
			req := approval(r)
			req.RejectionReason = hasmv1.RejectionReason_REJECTION_REASON_OTHER
			_, err := b.client.DecideRequest(b.hq, req)
			return err
		}, "rejection_reason"},
		{"departure in the future", func() error {
			req := departure(approved)
			req.DepartureDate = &date.Date{Year: 2026, Month: 3, Day: 15}
			_, err := b.client.RecordDeparture(b.worker, req)
			return err
		}, "departure_date"},
		{"partial departure date", func() error {
			req := departure(approved)
			req.DepartureDate = &date.Date{Year: 2026, Month: 3}
			_, err := b.client.RecordDeparture(b.worker, req)
			return err
		}, "departure_date"},
		{"unassigned return country", func() error {
			req := departure(approved)
			req.ReturnCountry = "XXX"
			_, err := b.client.RecordDeparture(b.worker, req)
			return err
		}, "return_country"},
		{"return to the host country", func() error {
			req := departure(approved)
			req.ReturnCountry = "YEM"
			_, err := b.client.RecordDeparture(b.worker, req)
			return err
		}, "return_country"},
		{"a traveller not of the case", func() error {
			req := departure(approved)
			req.TravellingSubjectIds = []string{approved.GetSubjectId(), c.GetSubjectId()}
			_, err := b.client.RecordDeparture(b.worker, req)
			return err
		}, "travelling_subject_ids[1]"},
		{"unknown currency for a fund", func() error {
			_, err := b.client.CreateFund(b.hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-XYZ", Year: 2026, Currency: "XYZ", Budget: 1})
			return err
		}, "currency"},
		{"fund code", func() error {
			_, err := b.client.CreateFund(b.hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "hasm x", Year: 2026, Currency: "USD", Budget: 1})
			return err
		}, "code"},
	}
	before := b.stored(t)
	for _, tt := range tests {
		err := tt.call()
		if err == nil {
			t.Errorf("%s: accepted", tt.name)
			continue
		}
		if diff := cmp.Diff([]string{tt.field}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
			t.Errorf("%s: field violations (-want +got):\n%s", tt.name, diff)
		}
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("bad input wrote (-before +after):\n%s", diff)
	}

	// The travellers must include the principal; with it, a part of the household may travel.
	c2 := b.hasmCase(t, brother())
	req2, err := b.client.RequestAssistance(b.worker, assistance(c2.GetCaseId(), "HASM-IN", 1_000))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := approve(b, req2.GetRequest())
	if err != nil {
		t.Fatal(err)
	}
	onlyBrother := departure(r2)
	onlyBrother.TravellingSubjectIds = []string{c2.GetHouseholdMembers()[0].GetSubjectId()}
	_, err = b.client.RecordDeparture(b.worker, onlyBrother)
	if diff := cmp.Diff([]string{"travelling_subject_ids"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("travellers without the principal (-want +got):\n%s", diff)
	}
	alone := departure(r2)
	alone.TravellingSubjectIds = []string{c2.GetSubjectId()}
	departed, err := b.client.RecordDeparture(b.worker, alone)
	if err != nil {
		t.Fatalf("the principal alone: %v", err)
	}
	early := arrival(departed.GetRequest())
	early.ArrivalDate = &date.Date{Year: 2026, Month: 3, Day: 9}
	_, err = b.client.RecordArrival(b.worker, early)
	if diff := cmp.Diff([]string{"arrival_date"}, testserver.FieldViolations(testserver.WantCode(t, err, codes.InvalidArgument))); diff != "" {
		t.Errorf("arrival before departure (-want +got):\n%s", diff)
	}
	events := b.events(t)
	if d := events[len(events)-1].Payload.(*commonv1.DepartureRecorded); len(d.GetTravellers()) != 1 || !d.GetTravellers()[0].GetPrincipal() {
		t.Errorf("departure of the principal alone has travellers %v", d.GetTravellers())
	}
}
