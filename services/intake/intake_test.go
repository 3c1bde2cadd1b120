package intake_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func TestRegisterAndGetCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := registration(amina(), child("Chidi", 2019), child("Ngozi", 2008))
	resp := b.register(t, req)

	c := resp.GetCase()
	want := &intakev1.Case{
		Mission:   "NER",
		Programme: commonv1.Programme_PROGRAMME_AVRR,
		Status:    intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		Version:   1,
		// The principal's assistance consent speaks for the household.
		Principal: &intakev1.CaseMember{Sex: commonv1.Sex_SEX_FEMALE, AgeBand: commonv1.AgeBand_AGE_BAND_30_38, Nationality: "NGA", AssistanceAllowed: true},
		HouseholdMembers: []*intakev1.CaseMember{
			{Sex: commonv1.Sex_SEX_MALE, AgeBand: commonv1.AgeBand_AGE_BAND_0_8, Nationality: "NGA", AssistanceAllowed: true},
			{Sex: commonv1.Sex_SEX_MALE, AgeBand: commonv1.AgeBand_AGE_BAND_18_20, Nationality: "NGA", AssistanceAllowed: true},
		},
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS},
		HostCountry:     "NER",
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
			Date: &date.Date{Year: 2026, Month: 3, Day: 14}, RecordedBy: "staff-caseworker",
			LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_CONSENT, InForce: true}},
		RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 14},
	}
	ignoreIDs := protocmp.IgnoreFields(&intakev1.Case{}, "case_id", "subject_id", "create_time", "update_time")
	ignoreSubject := protocmp.IgnoreFields(&intakev1.CaseMember{}, "subject_id")
	ignoreConsentIDs := protocmp.IgnoreFields(&commonv1.Consent{}, "consent_id", "subject_id")
	if diff := cmp.Diff(want, c, protocmp.Transform(), ignoreIDs, ignoreSubject, ignoreConsentIDs); diff != "" {
		t.Errorf("registered case (-want +got):\n%s", diff)
	}
	if x := c.GetConsents()[0]; x.GetSubjectId() != c.GetSubjectId() || uuid.Validate(x.GetConsentId()) != nil {
		t.Errorf("registration consent is for %q with id %q; want the principal's, with a random id", x.GetSubjectId(), x.GetConsentId())
	}
	if c.GetSubjectId() != c.GetPrincipal().GetSubjectId() || uuid.Validate(c.GetSubjectId()) != nil {
		t.Errorf("subject_id %q must be the principal's random id", c.GetSubjectId())
	}
	if len(resp.GetSuspectedDuplicates()) != 0 {
		t.Errorf("first registration has duplicates: %v", resp.GetSuspectedDuplicates())
	}

	basic, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
	if err != nil {
		t.Fatalf("GetCase: %v", err)
	}
	if diff := cmp.Diff(c, basic.GetCase(), protocmp.Transform()); diff != "" {
		t.Errorf("GetCase returns another case than RegisterCase (-register +get):\n%s", diff)
	}
	if basic.GetIdentity() != nil {
		t.Error("the basic view carries identity")
	}

	full, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		t.Fatalf("GetCase FULL: %v", err)
	}
	wantIdentity := &intakev1.CaseIdentity{
		Principal: &intakev1.PersonIdentity{SubjectId: c.GetSubjectId(), Person: req.GetPrincipal()},
		HouseholdMembers: []*intakev1.PersonIdentity{
			{SubjectId: c.GetHouseholdMembers()[0].GetSubjectId(), Person: req.GetHouseholdMembers()[0]},
			{SubjectId: c.GetHouseholdMembers()[1].GetSubjectId(), Person: req.GetHouseholdMembers()[1]},
		},
	}
	if diff := cmp.Diff(wantIdentity, full.GetIdentity(), protocmp.Transform()); diff != "" {
		t.Errorf("decrypted identity (-want +got):\n%s", diff)
	}

	if got := b.env.Count(t, "outbox.event"); got != 1 {
		t.Errorf("outbox has %d events, want 1 CaseRegistered", got)
	}
}

func TestRegisterCaseIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := registration(amina(), child("Chidi", 2019))
	first := b.register(t, req)
	again := b.register(t, proto.CloneOf(req))
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("a retry returned another result (-first +retry):\n%s", diff)
	}

	// Eight retries of another request race each other.
	racing := registration(child("Musa", 2001))
	var wg sync.WaitGroup
	results := make([]*intakev1.RegisterCaseResponse, 8)
	errs := make([]error, 8)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = b.client.RegisterCase(b.worker, proto.CloneOf(racing))
		})
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

	// Blind indexes: the duplicate check's 4 and the search's 22 (internal/vault/searchindex.go).
	want := map[string]int{`intake."case"`: 2, "intake.case_member": 3, "intake.consent": 2, "intake.idempotency": 2,
		"vault.identity": 3, "vault.blind_index": 4 + 22, "outbox.event": 2}
	if diff := cmp.Diff(want, b.stored(t)); diff != "" {
		t.Errorf("rows after retries (-want +got):\n%s", diff)
	}
}

func TestRequestIDReusedForAnotherRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := registration(amina())
	b.register(t, first)
	before := b.stored(t)

	other := registration(child("Musa", 2001))
	other.RequestId = first.GetRequestId()
	_, err := b.client.RegisterCase(b.worker, other)
	st := testserver.WantCode(t, err, codes.InvalidArgument)
	if diff := cmp.Diff([]string{"request_id"}, testserver.FieldViolations(st)); diff != "" {
		t.Errorf("field violations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, b.stored(t)); diff != "" {
		t.Errorf("a refused request changed the database (-before +after):\n%s", diff)
	}

	// The same request id in another mission is another request altogether.
	otherMission := registration(child("Musa", 2001))
	otherMission.RequestId, otherMission.Mission = first.GetRequestId(), "DEU"
	if _, err := b.client.RegisterCase(b.other, otherMission); err != nil {
		t.Errorf("the same request id in another mission: %v", err)
	}
}

func TestSuspectedDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.register(t, registration(amina())).GetCase()

	tests := []struct {
		name   string
		person func() *commonv1.Person
		want   []intakev1.MatchBasis
	}{
		{"same passport written differently", func() *commonv1.Person {
			p := child("Someone", 1990)
			p.Documents = []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_OTHER, Number: "a0 987-6543", IssuingCountry: "NGA"}}
			return p
		}, []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_DOCUMENT}},
		{"same name, date of birth and nationality, accents and order aside", func() *commonv1.Person {
			return &commonv1.Person{GivenName: "ZAWADI-OKONKWO", FamilyName: "Àmina", DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17}, Nationality: "NGA"}
		}, []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_NAME_DATE_OF_BIRTH_NATIONALITY}},
		{"both", amina, []intakev1.MatchBasis{intakev1.MatchBasis_MATCH_BASIS_DOCUMENT, intakev1.MatchBasis_MATCH_BASIS_NAME_DATE_OF_BIRTH_NATIONALITY}},
		{"same passport number from another state", func() *commonv1.Person {
			p := child("Someone", 1990)
			p.Documents = []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "A09876543", IssuingCountry: "GHA"}}
			return p
		}, nil},
		{"another date of birth", func() *commonv1.Person {
			p := amina()
			p.Documents = nil
			p.DateOfBirth = &date.Date{Year: 1993, Month: 5, Day: 17}
			return p
		}, nil},
	}
	for _, tt := range tests {
		resp := b.register(t, registration(tt.person()))
		var got []intakev1.MatchBasis
		for _, d := range resp.GetSuspectedDuplicates() {
			if d.GetCaseId() != first.GetCaseId() {
				continue // earlier rows of this table match each other too
			}
			if d.GetSubjectId() != first.GetSubjectId() || d.GetMatchedSubjectId() != resp.GetCase().GetSubjectId() {
				t.Errorf("%s: duplicate names the wrong people: %v", tt.name, d)
			}
			got = append(got, d.GetMatchedOn()...)
		}
		slices.Sort(got)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: match bases (-want +got):\n%s", tt.name, diff)
		}
	}

	// Another mission's register never reveals this mission's cases.
	req := registration(amina())
	req.Mission = "DEU"
	resp, err := b.client.RegisterCase(b.other, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetSuspectedDuplicates()) != 0 {
		t.Errorf("another mission sees duplicates: %v", resp.GetSuspectedDuplicates())
	}
}

func TestUpdateCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()

	update := func(ctx context.Context, version int64, mask []string, edit func(*intakev1.UpdateCaseRequest)) (*intakev1.Case, error) {
		req := &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: version,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: mask}}
		if edit != nil {
			edit(req)
		}
		resp, err := b.client.UpdateCase(ctx, req)
		return resp.GetCase(), err
	}

	got, err := update(b.worker, 1, []string{"status", "host_country"}, func(r *intakev1.UpdateCaseRequest) {
		r.Status, r.HostCountry = intakev1.CaseStatus_CASE_STATUS_ACTIVE, "MLI"
	})
	if err != nil {
		t.Fatalf("UpdateCase: %v", err)
	}
	if got.GetVersion() != 2 || got.GetStatus() != intakev1.CaseStatus_CASE_STATUS_ACTIVE || got.GetHostCountry() != "MLI" {
		t.Errorf("updated case = v%d %v %s, want v2 ACTIVE MLI", got.GetVersion(), got.GetStatus(), got.GetHostCountry())
	}

	// A stale version is refused with the current version in the details.
	before := b.stored(t)
	_, err = update(b.worker, 1, []string{"host_country"}, func(r *intakev1.UpdateCaseRequest) { r.HostCountry = "DZA" })
	st := testserver.WantCode(t, err, codes.FailedPrecondition)
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info.GetReason() != "STALE_VERSION" || info.GetMetadata()["current_version"] != "2" {
		t.Errorf("stale version details = %v, want STALE_VERSION with current_version 2", info)
	}

	// Impossible transitions and bad values are refused.
	for _, tt := range []struct {
		name  string
		mask  []string
		edit  func(*intakev1.UpdateCaseRequest)
		code  codes.Code
		field string
	}{
		{"back to registered", []string{"status"}, func(r *intakev1.UpdateCaseRequest) { r.Status = intakev1.CaseStatus_CASE_STATUS_REGISTERED }, codes.FailedPrecondition, ""},
		{"close through update", []string{"status"}, func(r *intakev1.UpdateCaseRequest) { r.Status = intakev1.CaseStatus_CASE_STATUS_CLOSED }, codes.InvalidArgument, "status"},
		{"unknown path", []string{"mission"}, nil, codes.InvalidArgument, "update_mask"},
		{"unassigned country", []string{"host_country"}, func(r *intakev1.UpdateCaseRequest) { r.HostCountry = "XYZ" }, codes.InvalidArgument, "host_country"},
		{"adult as UMC", []string{"vulnerabilities"}, func(r *intakev1.UpdateCaseRequest) {
			r.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD}
		}, codes.InvalidArgument, "vulnerabilities"},
		{"empty principal name", []string{"principal"}, func(r *intakev1.UpdateCaseRequest) { r.Principal = &commonv1.Person{GivenName: " "} }, codes.InvalidArgument, "principal.given_name"},
	} {
		_, err := update(b.worker, 2, tt.mask, tt.edit)
		st := testserver.WantCode(t, err, tt.code)
		if tt.field != "" && !slices.Contains(testserver.FieldViolations(st), tt.field) {
			t.Errorf("%s: violations %v do not name %s", tt.name, testserver.FieldViolations(st), tt.field)
		}
	}
	after := b.stored(t)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("refused updates changed the database (-before +after):\n%s", diff)
	}

	// Correcting the principal's identity reseals it and recodes the case.
	corrected := amina()
	corrected.DateOfBirth = &date.Date{Year: 2000, Month: 1, Day: 1}
	corrected.Documents[0].Number = "B1111111"
	got, err = update(b.worker, 2, []string{"principal"}, func(r *intakev1.UpdateCaseRequest) { r.Principal = corrected })
	if err != nil {
		t.Fatalf("UpdateCase principal: %v", err)
	}
	if got.GetPrincipal().GetAgeBand() != commonv1.AgeBand_AGE_BAND_24_26 || got.GetVersion() != 3 {
		t.Errorf("after correction: %v v%d, want AGE_BAND_24_26 v3", got.GetPrincipal().GetAgeBand(), got.GetVersion())
	}
	full, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: c.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(corrected, full.GetIdentity().GetPrincipal().GetPerson(), protocmp.Transform()); diff != "" {
		t.Errorf("identity after correction (-want +got):\n%s", diff)
	}
	dupReq := registration(child("Other", 1980))
	dupReq.Principal.Documents = []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "B1111111", IssuingCountry: "NGA"}}
	if d := b.register(t, dupReq).GetSuspectedDuplicates(); len(d) != 1 || d[0].GetCaseId() != c.GetCaseId() {
		t.Errorf("the corrected document is not found as a duplicate: %v", d)
	}
}

func TestCloseCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()
	req := &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 1,
		Reason: intakev1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY}
	resp, err := b.client.CloseCase(b.worker, req)
	if err != nil {
		t.Fatalf("CloseCase: %v", err)
	}
	if got := resp.GetCase(); got.GetStatus() != intakev1.CaseStatus_CASE_STATUS_CLOSED ||
		got.GetClosureReason() != intakev1.ClosureReason_CLOSURE_REASON_WITHDRAWN_BY_BENEFICIARY || got.GetVersion() != 2 {
		t.Errorf("closed case = %v %v v%d", got.GetStatus(), got.GetClosureReason(), got.GetVersion())
	}
	retry, err := b.client.CloseCase(b.worker, proto.CloneOf(req))
	if err != nil {
		t.Fatalf("CloseCase retry: %v", err)
	}
	if diff := cmp.Diff(resp, retry, protocmp.Transform()); diff != "" {
		t.Errorf("retry of CloseCase (-first +retry):\n%s", diff)
	}

	// Nothing moves a closed case.
	_, err = b.client.CloseCase(b.worker, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 2,
		Reason: intakev1.ClosureReason_CLOSURE_REASON_OTHER})
	testserver.WantCode(t, err, codes.FailedPrecondition)
	_, err = b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 2,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE})
	testserver.WantCode(t, err, codes.FailedPrecondition)

	var events []string
	conn := b.env.AdminURL
	_ = conn
	if n := b.env.Count(t, "outbox.event WHERE event_type = 'passage.intake.v1.CaseClosed'"); n != 1 {
		events = append(events, "CaseClosed")
		t.Errorf("%d CaseClosed events, want 1", n)
	}
}

func TestMissionIsolationAndRoles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.register(t, registration(amina())).GetCase()

	// Another mission's caseworker cannot tell the case exists.
	_, err := b.client.GetCase(b.other, &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.UpdateCase(b.other, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 1,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"host_country"}}, HostCountry: "DEU"})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.CloseCase(b.other, &intakev1.CloseCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 1,
		Reason: intakev1.ClosureReason_CLOSURE_REASON_OTHER})
	testserver.WantCode(t, err, codes.NotFound)
	list, err := b.client.ListCases(b.other, &intakev1.ListCasesRequest{})
	if err != nil || len(list.GetCases()) != 0 {
		t.Errorf("another mission lists %d cases (%v), want 0", len(list.GetCases()), err)
	}
	_, err = b.client.ListCases(b.other, &intakev1.ListCasesRequest{Mission: "NER"})
	testserver.WantCode(t, err, codes.PermissionDenied)
	_, err = b.client.RegisterCase(b.other, registration(amina()))
	testserver.WantCode(t, err, codes.PermissionDenied)

	// HQ roles and partners get nothing from intake.
	for _, role := range []auth.Role{auth.RoleAnalyst, auth.RolePartner, auth.RoleAdmin, auth.RoleProgrammeManager} {
		_, err := b.client.GetCase(b.env.As(t, role, "NER"), &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
		testserver.WantCode(t, err, codes.PermissionDenied)
	}
	// A supervisor of the mission reads the coded record; identity needs assignment or a
	// break-glass grant (access_test.go).
	if _, err := b.client.GetCase(b.env.As(t, auth.RoleSupervisor, "NER"), &intakev1.GetCaseRequest{CaseId: c.GetCaseId()}); err != nil {
		t.Errorf("supervisor GetCase BASIC: %v", err)
	}
	// No token, a garbage token, a tampered token.
	_, err = b.client.GetCase(context.Background(), &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
	testserver.WantCode(t, err, codes.Unauthenticated)
	tok := b.env.Token(t, auth.RoleCaseworker, "NER")
	tampered := tok[:len(tok)-4] + "AAAA"
	if tampered == tok {
		tampered = tok[:len(tok)-4] + "BBBB"
	}
	for _, bad := range []string{"not-a-jwt", tampered} {
		_, err = b.client.GetCase(withToken(bad), &intakev1.GetCaseRequest{CaseId: c.GetCaseId()})
		testserver.WantCode(t, err, codes.Unauthenticated)
	}
}
