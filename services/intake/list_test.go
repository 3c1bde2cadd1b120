package intake_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func TestListCases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var ids []string // in registration order
	for i := range 7 {
		req := registration(child("Person", int32(1980+i)))
		if i%2 == 1 {
			req.Programme = commonv1.Programme_PROGRAMME_VOT
		}
		if i == 6 {
			req.HostCountry = "MLI"
			req.RegistrationDate = &date.Date{Year: 2025, Month: 12, Day: 31}
		}
		ids = append(ids, b.register(t, req).GetCase().GetCaseId())
	}
	newestFirst := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	caseIDs := func(cs []*intakev1.Case) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.GetCaseId())
		}
		return out
	}

	// Pages of three, newest first, until the token runs out.
	var got []string
	req := &intakev1.ListCasesRequest{PageSize: 3}
	for pages := 0; ; pages++ {
		resp, err := b.client.ListCases(b.worker, req)
		if err != nil {
			t.Fatalf("ListCases: %v", err)
		}
		if len(resp.GetCases()) > 3 || pages > 3 {
			t.Fatalf("page %d has %d cases", pages, len(resp.GetCases()))
		}
		for _, c := range resp.GetCases() {
			if c.GetPrincipal() == nil || c.GetConsents() == nil {
				t.Errorf("listed case %s lacks its members or consents", c.GetCaseId())
			}
		}
		got = append(got, caseIDs(resp.GetCases())...)
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if diff := cmp.Diff(newestFirst(6, 5, 4, 3, 2, 1, 0), got); diff != "" {
		t.Errorf("paged listing (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		name string
		req  *intakev1.ListCasesRequest
		want []string
	}{
		{"programme", &intakev1.ListCasesRequest{Programme: commonv1.Programme_PROGRAMME_VOT}, newestFirst(5, 3, 1)},
		{"host country", &intakev1.ListCasesRequest{HostCountry: "MLI"}, newestFirst(6)},
		{"registration dates", &intakev1.ListCasesRequest{RegisteredFrom: &date.Date{Year: 2025, Month: 1, Day: 1}, RegisteredTo: &date.Date{Year: 2025, Month: 12, Day: 31}}, newestFirst(6)},
		{"status", &intakev1.ListCasesRequest{Status: intakev1.CaseStatus_CASE_STATUS_CLOSED}, nil},
	} {
		resp, err := b.client.ListCases(b.worker, tt.req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, caseIDs(resp.GetCases())); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	// A token is bound to its filters, and a forged one is refused.
	first, err := b.client.ListCases(b.worker, &intakev1.ListCasesRequest{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*intakev1.ListCasesRequest{
		{PageSize: 2, PageToken: first.GetNextPageToken(), Programme: commonv1.Programme_PROGRAMME_VOT},
		{PageToken: "not-a-token"},
		{RegisteredFrom: &date.Date{Year: 2026, Month: 2, Day: 30}},
		{RegisteredFrom: &date.Date{Year: 2026, Month: 2, Day: 1}, RegisteredTo: &date.Date{Year: 2026, Month: 1, Day: 1}},
		{HostCountry: "XYZ"},
		{PageSize: 101},
	} {
		_, err := b.client.ListCases(b.worker, bad)
		testserver.WantCode(t, err, codes.InvalidArgument)
	}
}
