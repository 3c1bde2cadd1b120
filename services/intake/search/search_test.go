package search_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
)

const method = "/passage.search.v1.PersonSearchService/SearchPersons"

// mohammed is the person searched for: Sudanese, registered in Niger.
func mohammed() *commonv1.Person {
	p := person("Mohammed", "Al-Hassan", day(1990, 4, 2), "SDN")
	p.Documents = []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "P1234567", IssuingCountry: "SDN"}}
	p.Phone = "+227 90 12 34 56"
	return p
}

// TestSearchPersons finds the same person by every kind of criterion and rule, and never
// finds another mission's registration of the same person.
func TestSearchPersons(t *testing.T) {
	t.Parallel()
	b := setup(t)
	caseID, subjectID := b.register(t, b.worker, "NER", mohammed())
	b.register(t, b.worker, "NER", person("Amina", "Zawadi", day(1992, 5, 17), "NGA"))
	// The same person, registered in Germany: Niger never finds it, and Germany finds only it.
	deuCase, _ := b.register(t, b.other, "DEU", mohammed())

	document := func(number string) *searchv1.SearchPersonsRequest {
		return &searchv1.SearchPersonsRequest{Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT,
			Criterion: &searchv1.SearchPersonsRequest_Document{Document: &commonv1.IdentityDocument{
				Type: commonv1.DocumentType_DOCUMENT_TYPE_EMERGENCY_TRAVEL_DOCUMENT, Number: number, IssuingCountry: "SDN"}}}
	}
	withNationality := byName("Mohammed", "Al-Hassan", day(1990, 4, 2))
	withNationality.GetName().Nationality = "SDN"
	otherNationality := byName("Mohammed", "Al-Hassan", day(1990, 4, 2))
	otherNationality.GetName().Nationality = "NGA"
	tests := []struct {
		name string
		req  *searchv1.SearchPersonsRequest
		want searchv1.MatchRule // UNSPECIFIED: no match
	}{
		{"document, written otherwise, as another type", document("p-123 4567"), searchv1.MatchRule_MATCH_RULE_EXACT},
		{"document of no one", document("P7654321"), 0},
		{"name and full date of birth", byName("Mohammed", "Al-Hassan", day(1990, 4, 2)), searchv1.MatchRule_MATCH_RULE_EXACT},
		{"with the nationality", withNationality, searchv1.MatchRule_MATCH_RULE_EXACT},
		{"of another nationality", otherNationality, 0},
		{"given and family names swapped", byName("Al Hassan", "MOHAMMED", day(1990, 4, 2)), searchv1.MatchRule_MATCH_RULE_EXACT},
		// The folded name: vowels and doubled letters aside, Mohammed and Muhammad are "mhmd".
		{"transliteration variant", byName("Muhammad", "Al-Hasan", day(1990, 4, 2)), searchv1.MatchRule_MATCH_RULE_TRANSLITERATION},
		{"Arabic script", byName("محمد", "Al-Hassan", day(1990, 4, 2)), searchv1.MatchRule_MATCH_RULE_TRANSLITERATION},
		{"vowel typo", byName("Mohammed", "Al-Hassen", day(1990, 4, 2)), searchv1.MatchRule_MATCH_RULE_TRANSLITERATION},
		{"year of birth only", byName("Mohamed", "Al-Hassan", day(1990, 0, 0)), searchv1.MatchRule_MATCH_RULE_PARTIAL_DATE_OF_BIRTH},
		{"year and month of birth", byName("Mohammed", "Al-Hassan", day(1990, 4, 0)), searchv1.MatchRule_MATCH_RULE_PARTIAL_DATE_OF_BIRTH},
		{"another day of the same year", byName("Mohammed", "Al-Hassan", day(1990, 9, 9)), searchv1.MatchRule_MATCH_RULE_PARTIAL_DATE_OF_BIRTH},
		// A consonant typo changes one folded token; the other tokens still match with the date.
		{"one-letter typo in a consonant", byName("Mohammed", "Al-Hassam", day(1990, 4, 2)), searchv1.MatchRule_MATCH_RULE_ONE_NAME},
		{"another year", byName("Mohammed", "Al-Hassan", day(1991, 4, 2)), 0},
		{"phone, written otherwise", &searchv1.SearchPersonsRequest{Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_RETURN_TRAVEL,
			Criterion: &searchv1.SearchPersonsRequest_Phone{Phone: "90-12-34-56"}}, searchv1.MatchRule_MATCH_RULE_EXACT},
	}
	for _, tt := range tests {
		resp, err := b.search.SearchPersons(b.worker, tt.req)
		if err != nil {
			t.Fatalf("%s: SearchPersons: %v", tt.name, err)
		}
		var want []*searchv1.PersonMatch
		if tt.want != 0 {
			want = []*searchv1.PersonMatch{{CaseId: caseID, SubjectId: subjectID, Programme: commonv1.Programme_PROGRAMME_AVRR,
				Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED, Rule: tt.want}}
		}
		got := resp.GetMatches()
		for _, m := range got {
			if m.GetIdentity().GetGivenName() != "Mohammed" {
				t.Errorf("%s: the registering caseworker got identity %v, want Mohammed's", tt.name, m.GetIdentity())
			}
			m.Identity = nil
		}
		if diff := cmp.Diff(want, got, cmpProto); diff != "" {
			t.Errorf("%s: matches (-want +got):\n%s", tt.name, diff)
		}
	}

	resp, err := b.search.SearchPersons(b.other, document("P1234567"))
	if err != nil {
		t.Fatalf("SearchPersons in DEU: %v", err)
	}
	if len(resp.GetMatches()) != 1 || resp.GetMatches()[0].GetCaseId() != deuCase {
		t.Errorf("DEU's search found %v, want its own case %s only", resp.GetMatches(), deuCase)
	}
	// The criteria never reach the server's logs.
	for _, word := range []string{"Mohammed", "Hassan", "1234567", "90-12-34-56", "محمد"} {
		if strings.Contains(b.env.Logs.String(), word) {
			t.Errorf("the server's logs carry a criterion: %q", word)
		}
	}
}

// TestHouseholdMemberAndTruncation: a household member is found in their own right (the
// match names them, not the principal), and a criterion matching more than 50 cases returns
// the first 50 and says so.
func TestHouseholdMemberAndTruncation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := b.intake.RegisterCase(b.worker, &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(), Mission: "NER",
		Programme: commonv1.Programme_PROGRAMME_VOT, Principal: person("Awa", "Diallo", day(1985, 1, 1), "MLI"),
		HouseholdMembers: []*commonv1.Person{person("Moussa", "Diallo", day(2015, 6, 1), "MLI")}, HostCountry: "NER",
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: day(2026, 3, 1)}}})
	if err != nil {
		t.Fatalf("RegisterCase: %v", err)
	}
	got, err := b.search.SearchPersons(b.worker, byName("Musa", "Diallo", day(2015, 0, 0)))
	if err != nil {
		t.Fatalf("SearchPersons: %v", err)
	}
	member := resp.GetCase().GetHouseholdMembers()[0].GetSubjectId()
	if len(got.GetMatches()) != 1 || got.GetMatches()[0].GetSubjectId() != member ||
		got.GetMatches()[0].GetProgramme() != commonv1.Programme_PROGRAMME_VOT || got.GetMatches()[0].GetIdentity().GetGivenName() != "Moussa" {
		t.Errorf("matches %v, want the household member %s of the VOT case", got.GetMatches(), member)
	}

	for range 51 {
		b.register(t, b.worker, "NER", person("Ali", "Musa", day(2000, 2, 2), "SDN"))
	}
	got, err = b.search.SearchPersons(b.worker, byName("Ali", "Musa", day(2000, 2, 2)))
	if err != nil {
		t.Fatalf("SearchPersons: %v", err)
	}
	if len(got.GetMatches()) != 50 || !got.GetTruncated() {
		t.Errorf("%d matches, truncated %v; want 50 and truncated", len(got.GetMatches()), got.GetTruncated())
	}
	var searches []string
	for _, r := range b.env.AuditRecords(t, method) {
		if r.AggregateID == "" {
			searches = append(searches, r.Reason)
		}
	}
	want := []string{"ACCESS_PURPOSE_CASE_MANAGEMENT SEARCH by=name_date_of_birth matched=1",
		"ACCESS_PURPOSE_CASE_MANAGEMENT SEARCH by=name_date_of_birth matched=50 truncated"}
	if diff := cmp.Diff(want, searches); diff != "" {
		t.Errorf("the searches' audit records (-want +got):\n%s", diff)
	}
}

// TestIdentityOnlyToThoseWhoMayReadIt: a colleague who does not work on the case finds it but
// not the name; a supervisor's assignment opens it; break glass opens it only under that
// purpose. Every search is audited with its purpose and kind of criterion, and every identity
// returned as a read of its case.
func TestIdentityOnlyToThoseWhoMayReadIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	caseID, _ := b.register(t, b.worker, "NER", mohammed())
	req := byName("Mohammed", "Al-Hassan", day(1990, 4, 2))

	resp, err := b.search.SearchPersons(b.colleague, req)
	if err != nil {
		t.Fatalf("SearchPersons: %v", err)
	}
	if len(resp.GetMatches()) != 1 || resp.GetMatches()[0].GetCaseId() != caseID || resp.GetMatches()[0].GetIdentity() != nil {
		t.Errorf("colleague's matches = %v, want case %s without identity", resp.GetMatches(), caseID)
	}
	records := b.env.AuditRecords(t, method)
	if diff := cmp.Diff([]string{"staff-colleague||ACCESS_PURPOSE_CASE_MANAGEMENT SEARCH by=name_date_of_birth matched=1"}, auditLines(records)); diff != "" {
		t.Errorf("audit of the colleague's search (-want +got):\n%s", diff)
	}

	resp, err = b.search.SearchPersons(b.worker, req)
	if err != nil {
		t.Fatalf("SearchPersons: %v", err)
	}
	if resp.GetMatches()[0].GetIdentity().GetFamilyName() != "Al-Hassan" {
		t.Errorf("the registering caseworker got identity %v", resp.GetMatches()[0].GetIdentity())
	}
	want := []string{
		"staff-colleague||ACCESS_PURPOSE_CASE_MANAGEMENT SEARCH by=name_date_of_birth matched=1",
		"staff-caseworker||ACCESS_PURPOSE_CASE_MANAGEMENT SEARCH by=name_date_of_birth matched=1",
		"staff-caseworker|" + caseID + "|ACCESS_PURPOSE_CASE_MANAGEMENT",
	}
	if diff := cmp.Diff(want, auditLines(b.env.AuditRecords(t, method))); diff != "" {
		t.Errorf("audit records (-want +got):\n%s", diff)
	}
	for _, r := range b.env.AuditRecords(t, "") {
		if strings.Contains(r.Reason, "Mohammed") || strings.Contains(r.Reason, "1990") {
			t.Errorf("audit record carries the criterion: %+v", r)
		}
	}

	// Break glass: the grant opens the identity only when the search says so.
	chief := b.env.As(t, auth.RoleSupervisor, "NER")
	if _, err := b.intake.BreakGlass(chief, breakGlass(caseID)); err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	resp, err = b.search.SearchPersons(chief, req)
	if err != nil {
		t.Fatalf("SearchPersons: %v", err)
	}
	if resp.GetMatches()[0].GetIdentity() != nil {
		t.Error("a break-glass grant opened the identity for ACCESS_PURPOSE_CASE_MANAGEMENT")
	}
	req.Purpose = commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS
	if resp, err = b.search.SearchPersons(chief, req); err != nil {
		t.Fatalf("SearchPersons: %v", err)
	}
	if resp.GetMatches()[0].GetIdentity() == nil {
		t.Error("a live break-glass grant did not open the identity for ACCESS_PURPOSE_BREAK_GLASS")
	}
	b.env.ChainAudit(t)
}

func auditLines(records []testserver.AuditRecord) []string {
	var out []string
	for _, r := range records {
		out = append(out, r.Actor+"|"+r.AggregateID+"|"+r.Reason)
	}
	return out
}

// TestInvalidCriteria: every bad criterion is INVALID_ARGUMENT naming its field, and is
// neither audited nor answered.
func TestInvalidCriteria(t *testing.T) {
	t.Parallel()
	b := setup(t)
	named := func(edit func(*searchv1.NameCriterion)) *searchv1.SearchPersonsRequest {
		r := byName("Mohammed", "Al-Hassan", day(1990, 4, 2))
		edit(r.GetName())
		return r
	}
	purpose := commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT
	tests := []struct {
		name  string
		req   *searchv1.SearchPersonsRequest
		field string
	}{
		{"no purpose", &searchv1.SearchPersonsRequest{Criterion: &searchv1.SearchPersonsRequest_Phone{Phone: "90123456"}}, "purpose"},
		{"no criterion", &searchv1.SearchPersonsRequest{Purpose: purpose}, "criterion"},
		{"no given name", named(func(n *searchv1.NameCriterion) { n.GivenName = "" }), "name.given_name"},
		{"given name of punctuation", named(func(n *searchv1.NameCriterion) { n.GivenName = " - " }), "name.given_name"},
		{"no date of birth", named(func(n *searchv1.NameCriterion) { n.DateOfBirth = nil }), "name.date_of_birth"},
		{"month 13", named(func(n *searchv1.NameCriterion) { n.DateOfBirth = day(1990, 13, 0) }), "name.date_of_birth"},
		{"day without month", named(func(n *searchv1.NameCriterion) { n.DateOfBirth = day(1990, 0, 3) }), "name.date_of_birth"},
		{"born in the future", named(func(n *searchv1.NameCriterion) { n.DateOfBirth = day(2030, 1, 1) }), "name.date_of_birth"},
		{"nationality malformed", named(func(n *searchv1.NameCriterion) { n.Nationality = "Sudan" }), "name.nationality"},
		{"phone without digits enough", &searchv1.SearchPersonsRequest{Purpose: purpose,
			Criterion: &searchv1.SearchPersonsRequest_Phone{Phone: "+227-12"}}, "phone"},
		{"document without number", &searchv1.SearchPersonsRequest{Purpose: purpose,
			Criterion: &searchv1.SearchPersonsRequest_Document{Document: &commonv1.IdentityDocument{
				Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "", IssuingCountry: "SDN"}}}, "document.number"},
		{"document without country", &searchv1.SearchPersonsRequest{Purpose: purpose,
			Criterion: &searchv1.SearchPersonsRequest_Document{Document: &commonv1.IdentityDocument{
				Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "P1", IssuingCountry: ""}}}, "document.issuing_country"},
	}
	for _, tt := range tests {
		_, err := b.search.SearchPersons(b.worker, tt.req)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: got %v, want INVALID_ARGUMENT", tt.name, err)
			continue
		}
		st := status.Convert(err)
		if !slices.Contains(testserver.FieldViolations(st), tt.field) {
			t.Errorf("%s: violations %v do not name %s", tt.name, testserver.FieldViolations(st), tt.field)
		}
		if strings.Contains(st.Message(), "Mohammed") {
			t.Errorf("%s: error message carries the criterion: %q", tt.name, st.Message())
		}
	}
	if n := len(b.env.AuditRecords(t, method)); n != 0 {
		t.Errorf("refused searches wrote %d audit records", n)
	}
}

// TestSearchRateLimit: searches have their own bucket per caller. Once a caller's is empty
// their next search is refused with RESOURCE_EXHAUSTED naming the class, before any work
// (no audit record); their reads still go through, and a colleague still searches.
func TestSearchRateLimit(t *testing.T) {
	t.Parallel()
	cfg := quota.Config{Enabled: true}
	// A bucket that does not refill within the test: the refusal cannot depend on timing.
	cfg.Limits.Set(quota.Search, quota.Limit{Rate: 1e-6, Burst: 3})
	b := setupWith(t, cfg)
	req := byName("Mohammed", "Al-Hassan", day(1990, 4, 2))
	for i := range 3 {
		if _, err := b.search.SearchPersons(b.worker, req); err != nil {
			t.Fatalf("search %d within the burst: %v", i+1, err)
		}
	}
	_, err := b.search.SearchPersons(b.worker, req)
	st := testserver.WantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(detailsOf(st), "class:search") {
		t.Errorf("refusal %v does not name the search class", st.Details())
	}
	if n := len(b.env.AuditRecords(t, method)); n != 3 {
		t.Errorf("%d audit records, want the 3 searches served", n)
	}
	if _, err := b.intake.ListCases(b.worker, &intakev1.ListCasesRequest{Mission: "NER"}); err != nil {
		t.Errorf("a read after the searches ran out: %v", err)
	}
	if _, err := b.search.SearchPersons(b.colleague, req); err != nil {
		t.Errorf("a colleague's search: %v", err)
	}
}

// TestCorrectionReindexes: correcting the principal's identity replaces their search indexes,
// so the corrected name is found and the old one no longer is.
func TestCorrectionReindexes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	caseID, _ := b.register(t, b.worker, "NER", mohammed())
	corrected := mohammed()
	corrected.GivenName, corrected.DateOfBirth = "Ibrahim", day(1991, 1, 20)
	if _, err := b.intake.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: caseID, Version: 1,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"principal"}}, Principal: corrected}); err != nil {
		t.Fatalf("UpdateCase: %v", err)
	}
	for _, tt := range []struct {
		req   *searchv1.SearchPersonsRequest
		found bool
	}{
		{byName("Ibrahim", "Al-Hassan", day(1991, 1, 20)), true},
		{byName("Mohammed", "Al-Hassan", day(1990, 4, 2)), false},
	} {
		resp, err := b.search.SearchPersons(b.worker, tt.req)
		if err != nil {
			t.Fatalf("SearchPersons: %v", err)
		}
		if found := len(resp.GetMatches()) == 1 && resp.GetMatches()[0].GetCaseId() == caseID; found != tt.found || len(resp.GetMatches()) > 1 {
			t.Errorf("after the correction, %s: matches %v, want found=%v", tt.req.GetName().GetGivenName(), resp.GetMatches(), tt.found)
		}
	}
}
