package search_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/testserver"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	searchv1 "github.com/passage-cm/passage/proto/gen/passage/search/v1"
	"github.com/passage-cm/passage/services/intake"
)

const elsewhereMethod = "/passage.search.v1.PersonSearchService/FindElsewhere"

// amina is registered in NER with a Nigerien passport.
func amina() *commonv1.Person {
	p := person("Amina", "Issoufou", day(1994, 7, 12), "NER")
	p.Documents = []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "NE 0481516", IssuingCountry: "NER"}}
	return p
}

func elsewhereByDocument(number string) *searchv1.FindElsewhereRequest {
	return &searchv1.FindElsewhereRequest{Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT,
		Criterion: &searchv1.FindElsewhereRequest_Document{Document: &commonv1.IdentityDocument{
			Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: number, IssuingCountry: "NER"}}}
}

func elsewhereByName(given, family string, y, m, d int32) *searchv1.FindElsewhereRequest {
	return &searchv1.FindElsewhereRequest{Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT,
		Criterion: &searchv1.FindElsewhereRequest_Name{Name: &searchv1.ExactNameCriterion{
			GivenName: given, FamilyName: family, DateOfBirth: day(y, m, d)}}}
}

// TestFindElsewhere: a person registered in NER who turns up in MAR is found from MAR by
// document and by name with the full date of birth; the answer names NER, the programme, the
// status and the year only; MAR's own case of the same person is not listed; and both
// missions' chains record the look-up, NER's without any criterion.
func TestFindElsewhere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, b.worker, "NER", amina())
	marWorker := b.env.As(t, auth.RoleCaseworker, "MAR")
	b.register(t, marWorker, "MAR", amina())
	supervisor := b.env.As(t, auth.RoleSupervisor, "MAR")

	want := &searchv1.FindElsewhereResponse{Known: []*searchv1.KnownElsewhere{{Mission: "NER",
		Programme: commonv1.Programme_PROGRAMME_AVRR, Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		RegistrationYear: int32(testtime.Today.Year())}}}
	for name, req := range map[string]*searchv1.FindElsewhereRequest{
		// Spaces and case aside, as the duplicate check compares a number.
		"document": elsewhereByDocument("ne0481516"),
		// The parts of the name in the other order, accents and case aside.
		"name": elsewhereByName("ISSOUFOU", "Amína", 1994, 7, 12),
	} {
		resp, err := b.search.FindElsewhere(supervisor, req)
		if err != nil {
			t.Fatalf("FindElsewhere by %s: %v", name, err)
		}
		if diff := cmp.Diff(want, resp, protocmp.Transform()); diff != "" {
			t.Errorf("FindElsewhere by %s (-want +got):\n%s", name, diff)
		}
	}

	recs := b.env.AuditRecords(t, elsewhereMethod)
	var asked, told []testserver.AuditRecord
	for _, r := range recs {
		switch r.Mission {
		case "MAR":
			asked = append(asked, r)
		case "NER":
			told = append(told, r)
		default:
			t.Errorf("a record in mission %s", r.Mission)
		}
		if r.CallerMission != "MAR" || r.Role != string(auth.RoleSupervisor) || r.AggregateID != "" {
			t.Errorf("record %+v: want MAR's supervisor, about no aggregate", r)
		}
	}
	wantAsked := []string{"ACCESS_PURPOSE_CASE_MANAGEMENT ELSEWHERE by=document missions=1",
		"ACCESS_PURPOSE_CASE_MANAGEMENT ELSEWHERE by=name_date_of_birth missions=1"}
	wantTold := []string{"ASKED_ELSEWHERE by=document", "ASKED_ELSEWHERE by=name_date_of_birth"}
	if diff := cmp.Diff(wantAsked, reasons(asked), sortStrings); diff != "" {
		t.Errorf("MAR's records (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantTold, reasons(told), sortStrings); diff != "" {
		t.Errorf("NER's records (-want +got):\n%s", diff)
	}
	chained := map[string]bool{}
	for _, c := range b.env.ChainAudit(t) {
		chained[c.Mission] = c.Links > 0 && c.Broken == nil
	}
	if !chained["MAR"] || !chained["NER"] {
		t.Errorf("chains verified: %v; want MAR's and NER's", chained)
	}
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func reasons(recs []testserver.AuditRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Reason)
	}
	return out
}

// TestFindElsewhereNothing: no other mission knows the person, or only the caller's mission
// does, or only by a loose match (a transliteration, a partial date): the answer is empty,
// and only the caller's mission records the look-up.
func TestFindElsewhereNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, b.worker, "NER", amina())
	ner := b.env.As(t, auth.RoleSupervisor, "NER")
	mar := b.env.As(t, auth.RoleSupervisor, "MAR")
	for name, tc := range map[string]struct {
		ctx context.Context
		req *searchv1.FindElsewhereRequest
	}{
		"another document":              {mar, elsewhereByDocument("NE 0481517")},
		"the caller's own mission":      {ner, elsewhereByDocument("NE 0481516")},
		"a transliteration of the name": {mar, elsewhereByName("Aminah", "Issoufou", 1994, 7, 12)},
		"another day of birth":          {mar, elsewhereByName("Amina", "Issoufou", 1994, 7, 13)},
	} {
		resp, err := b.search.FindElsewhere(tc.ctx, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(resp.GetKnown()) != 0 {
			t.Errorf("%s: %v, want nothing", name, resp.GetKnown())
		}
	}
	for _, r := range b.env.AuditRecords(t, elsewhereMethod) {
		if r.Mission != r.CallerMission || !strings.HasSuffix(r.Reason, "missions=0") {
			t.Errorf("record %+v: want the caller's own, with no mission answering", r)
		}
	}
}

// TestFindElsewhereRefused: a caseworker may not ask (supervisors only), and a bad criterion
// is refused naming its field; neither writes a record.
func TestFindElsewhereRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, b.worker, "NER", amina())
	_, err := b.search.FindElsewhere(b.env.As(t, auth.RoleCaseworker, "MAR"), elsewhereByDocument("NE 0481516"))
	testserver.WantCode(t, err, codes.PermissionDenied)

	supervisor := b.env.As(t, auth.RoleSupervisor, "MAR")
	for field, req := range map[string]*searchv1.FindElsewhereRequest{
		// A partial date would need the loose indexes, which are never compared across missions.
		"name.date_of_birth": elsewhereByName("Amina", "Issoufou", 1994, 7, 0),
		"name.given_name":    elsewhereByName("--", "Issoufou", 1994, 7, 12),
		"document.number":    elsewhereByDocument("- -"),
		"purpose":            {Criterion: elsewhereByDocument("NE 0481516").Criterion},
	} {
		_, err := b.search.FindElsewhere(supervisor, req)
		st := testserver.WantCode(t, err, codes.InvalidArgument)
		if got := testserver.FieldViolations(st); len(got) != 1 || got[0] != field {
			t.Errorf("violations %v, want %s", got, field)
		}
	}
	if n := len(b.env.AuditRecords(t, elsewhereMethod)); n != 0 {
		t.Errorf("refused look-ups wrote %d audit records", n)
	}
}

// TestFindElsewhereRowSecurity: intake's role, declared for MAR, sees none of NER's index
// rows; declaring a digest shows it that digest's exact-kind row in NER, its case and member,
// and no other row (never the identity), and a loose kind's digest shows it nothing.
func TestFindElsewhereRowSecurity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, b.worker, "NER", amina())
	document := b.env.QueryText(t, `SELECT encode(digest, 'hex') FROM vault.blind_index WHERE mission = 'NER' AND kind = 'document'`)
	loose := b.env.QueryText(t, `SELECT encode(digest, 'hex') FROM vault.blind_index WHERE mission = 'NER' AND kind = 'folded_name_year'`)
	pool := b.env.Pool(t, intake.Role)
	ctx := context.Background()
	count := func(declared string) (indexes, cases, members, identities int) {
		t.Helper()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config($1, 'MAR', true)`, database.MissionSetting); err != nil {
				return err
			}
			if declared != "" {
				if _, err := tx.Exec(ctx, `SELECT set_config($1, $2, true)`, database.SearchElsewhereSetting, declared); err != nil {
					return err
				}
			}
			return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM vault.blind_index), (SELECT count(*) FROM intake."case"),
  (SELECT count(*) FROM intake.case_member), (SELECT count(*) FROM vault.identity)`).Scan(&indexes, &cases, &members, &identities)
		})
		if err != nil {
			t.Fatal(err)
		}
		return indexes, cases, members, identities
	}
	for _, tc := range []struct {
		name                   string
		declared               string
		indexes, cases, member int
	}{
		{"no declaration", "", 0, 0, 0},
		{"the document's digest", document, 1, 1, 1},
		{"a loose kind's digest", loose, 0, 0, 0},
	} {
		i, c, m, p := count(tc.declared)
		if i != tc.indexes || c != tc.cases || m != tc.member || p != 0 {
			t.Errorf("%s: %d index rows, %d cases, %d members, %d identities visible; want %d, %d, %d, 0",
				tc.name, i, c, m, p, tc.indexes, tc.cases, tc.member)
		}
	}
	// Without the declaration, intake's role cannot write a record into NER's chain.
	_, err := pool.Exec(ctx, `INSERT INTO audit.record (mission, actor, role, caller_mission, method, reason, request_id)
SELECT 'NER', 'staff-x', 'SUPERVISOR', 'MAR', $1, '', '' FROM (SELECT set_config('passage.mission', 'MAR', true)) d`, elsewhereMethod)
	if err == nil {
		t.Errorf("intake's role wrote a record into NER's chain without declaring a look-up")
	}
}

// TestFindElsewhereRateLimit: look-ups draw on the search class's bucket: once a caller's
// is empty the next is refused with RESOURCE_EXHAUSTED naming the class, and records nothing.
func TestFindElsewhereRateLimit(t *testing.T) {
	t.Parallel()
	cfg := quota.Config{Enabled: true}
	// A bucket that does not refill within the test: the refusal cannot depend on timing.
	cfg.Limits.Set(quota.Search, quota.Limit{Rate: 1e-6, Burst: 2})
	b := setupWith(t, cfg)
	supervisor := b.env.As(t, auth.RoleSupervisor, "MAR")
	req := elsewhereByDocument("NE 0481516")
	for i := range 2 {
		if _, err := b.search.FindElsewhere(supervisor, req); err != nil {
			t.Fatalf("look-up %d within the burst: %v", i+1, err)
		}
	}
	_, err := b.search.FindElsewhere(supervisor, req)
	st := testserver.WantCode(t, err, codes.ResourceExhausted)
	if !strings.Contains(detailsOf(st), "class:search") {
		t.Errorf("refusal %v does not name the search class", st.Details())
	}
	if n := len(b.env.AuditRecords(t, elsewhereMethod)); n != 2 {
		t.Errorf("%d audit records, want the 2 look-ups served", n)
	}
}
