package analytics_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	"github.com/passage-cm/passage/services/analytics"
)

const (
	male   = commonv1.Sex_SEX_MALE
	female = commonv1.Sex_SEX_FEMALE
)

// caseload is a small AVRR year shaped like the seed's: most return from the EU to
// South-Eastern Europe, Eastern Europe and Central Asia or to the Middle East, a few from the
// Middle East to Asia; most are men. Some are not counted: a household member without a
// statistics consent, a principal who never gave one, a principal who withdrew it.
func caseload() []traveller {
	var out []traveller
	add := func(n int, tr traveller) {
		for range n {
			out = append(out, tr)
		}
	}
	add(12, traveller{mission: "DEU", host: "DEU", ret: "IRQ", sex: male, nationality: "IRQ", statistics: true})
	add(1, traveller{mission: "DEU", host: "DEU", ret: "IRQ", sex: male, nationality: "IRQ", statistics: true, household: true})
	add(11, traveller{mission: "DEU", host: "DEU", ret: "ALB", sex: male, nationality: "ALB", statistics: true})
	add(3, traveller{mission: "DEU", host: "DEU", ret: "ALB", sex: female, nationality: "ALB", statistics: true})
	add(2, traveller{mission: "EGY", host: "EGY", ret: "BGD", sex: male, nationality: "BGD", statistics: true})
	add(1, traveller{mission: "DEU", host: "DEU", ret: "IRQ", sex: female, nationality: "IRQ"})
	add(1, traveller{mission: "DEU", host: "DEU", ret: "IRQ", sex: female, nationality: "IRQ", statistics: true, withdraw: true})
	return out
}

// load registers the caseload through intake and walks it to departure through returns.
func (b *bundle) load(t *testing.T, load []traveller) (caseIDs, subjectIDs []string) {
	t.Helper()
	for i, tr := range load {
		c := b.register(t, tr, fmt.Sprintf("Person%02d", i))
		caseIDs = append(caseIDs, c.GetCaseId())
		subjectIDs = append(subjectIDs, c.GetSubjectId())
		for _, m := range c.GetHouseholdMembers() {
			subjectIDs = append(subjectIDs, m.GetSubjectId())
		}
		b.depart(t, tr, c.GetCaseId())
	}
	return caseIDs, subjectIDs
}

func cell(count int64, keys ...string) *analyticsv1.Cell {
	switch count {
	case suppressed:
		return &analyticsv1.Cell{Keys: keys, Suppressed: true, WithheldReason: analyticsv1.WithheldReason_WITHHELD_REASON_SUPPRESSED}
	case partSuppressed:
		return &analyticsv1.Cell{Keys: keys, Suppressed: true, WithheldReason: analyticsv1.WithheldReason_WITHHELD_REASON_PART_SUPPRESSED}
	}
	return &analyticsv1.Cell{Keys: keys, Count: count}
}

// suppressed marks a cell withheld as an entry of a protected release; partSuppressed one
// that adds up entries of which one is withheld.
const (
	suppressed     = -1
	partSuppressed = -2
)

// TestSeedShapedFigures loads a caseload through the real intake and returns RPCs and asks
// Aggregate the seed's questions: persons returned by sex, by host and return region, the
// number of return countries; cases registered. Counts below 11 come back suppressed; people
// without a statistics consent in force are not counted at all.
func TestSeedShapedFigures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	caseIDs, subjectIDs := b.load(t, caseload())
	// Counted: 12 + 1 + 11 + 3 + 2 principals; not the household member, not the principal
	// without consent, not the one who withdrew.
	b.awaitFacts(t, "PERSONS_RETURNED", 29)
	// Registrations: the same 29, and the principal who withdrew later, counted at registration
	// while the consent was in force (a withdrawal acts from then on).
	b.awaitFacts(t, "CASES_REGISTERED", 30)
	if n := b.env.QueryInt(t, `SELECT count(*) FROM analytics.fact WHERE measure = 'PERSONS_RETURNED'`); n != 29 {
		t.Errorf("persons returned facts = %d, want 29 (no one without a statistics consent in force)", n)
	}
	returned := analyticsv1.Measure_MEASURE_PERSONS_RETURNED
	for _, tt := range []struct {
		name    string
		req     *analyticsv1.AggregateRequest
		cells   []*analyticsv1.Cell
		totals  []*analyticsv1.Cell
		k       int32
		columns []int32
	}{{
		name: "by sex",
		req:  &analyticsv1.AggregateRequest{Measure: returned, GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_SEX}},
		// 3 women: suppressed, and the men with them, else 29 - 26 would give them away.
		cells:   []*analyticsv1.Cell{cell(suppressed, "FEMALE"), cell(suppressed, "MALE")},
		totals:  []*analyticsv1.Cell{cell(29, "")},
		k:       11,
		columns: []int32{2},
	}, {
		name: "by host region and return region",
		req: &analyticsv1.AggregateRequest{Measure: returned, GroupBy: []analyticsv1.Dimension{
			analyticsv1.Dimension_DIMENSION_HOST_REGION, analyticsv1.Dimension_DIMENSION_RETURN_REGION}},
		// The 2 persons returned from MENA to APAC are small: the box that protects them
		// spans EEA and MENA's other corner, whose cells are withheld too, one of them empty
		// (a withheld cell may be empty). The grand total is released here as in every other
		// table.
		cells: []*analyticsv1.Cell{cell(suppressed, "EEA", "APAC"), cell(suppressed, "EEA", "MENA"), cell(14, "EEA", "SEEECA"),
			cell(suppressed, "MENA", "APAC"), cell(suppressed, "MENA", "MENA")},
		totals: []*analyticsv1.Cell{cell(29, "", ""), cell(suppressed, "", "APAC"), cell(suppressed, "", "MENA"),
			cell(14, "", "SEEECA"), cell(suppressed, "EEA", ""), cell(suppressed, "MENA", "")},
		k:       11,
		columns: []int32{2, 3},
	}, {
		name: "distinct return countries, filtered to the EU",
		req: &analyticsv1.AggregateRequest{Measure: returned, GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY},
			Filter:  &analyticsv1.Filter{HostRegions: []string{"EEA"}, YearFrom: 2026, YearTo: 2026},
			Release: &analyticsv1.AggregateRequest_Suppression{Suppression: &analyticsv1.Suppression{K: 11}}},
		// Small counts of single host countries of the region (withheld in the release) are
		// protected by boxes that reach IRQ and BGD (empty) here; so is the region's total,
		// which would give them away. Distinct values count what the cells list: a withheld
		// cell may be empty.
		cells:   []*analyticsv1.Cell{cell(14, "ALB"), cell(suppressed, "BGD"), cell(suppressed, "IRQ")},
		totals:  []*analyticsv1.Cell{cell(suppressed, "")},
		k:       11,
		columns: []int32{3},
	}, {
		name: "cases registered by programme, nothing of another year",
		req: &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_PROGRAMME, analyticsv1.Dimension_DIMENSION_YEAR}},
		cells:   []*analyticsv1.Cell{cell(30, "AVRR", "2026")},
		totals:  []*analyticsv1.Cell{cell(30, "", ""), cell(30, "", "2026"), cell(30, "AVRR", "")},
		k:       11,
		columns: []int32{1, 1},
	}, {
		name: "vulnerable groups: nobody has one",
		req: &analyticsv1.AggregateRequest{Measure: returned, GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_VULNERABILITY},
			Filter: &analyticsv1.Filter{YearFrom: 2015, YearTo: 2015}},
		totals:  []*analyticsv1.Cell{cell(0, "")},
		k:       11,
		columns: []int32{0},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			got := b.aggregate(t, tt.req)
			want := &analyticsv1.AggregateResponse{Cells: tt.cells, Totals: tt.totals, K: tt.k, DistinctValues: tt.columns}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			recoverable(t, got)
		})
	}

	t.Run("the query role's view holds no subject or case id", func(t *testing.T) {
		dump := b.dumpAs(t, analytics.Role, auth.MissionHQ)
		if len(dump) == 0 {
			t.Fatal("the query role reads nothing: the check proves nothing")
		}
		for _, id := range append(slices.Clone(caseIDs), subjectIDs...) {
			if strings.Contains(dump, id) {
				t.Errorf("an id of the caseload is readable by %s", analytics.Role)
			}
		}
		// The projector's own state is pseudonymous: the check above would catch it there.
		if state := b.dumpAs(t, analytics.ProjectorRole, "DEU"); !strings.Contains(state, subjectIDs[0]) {
			t.Error("the projector's state does not hold the subject ids: the check above proves nothing")
		}
	})
}

// recoverable fails when a suppressed entry of resp can be recovered by subtraction: when it
// is the only suppressed entry of a line (the entries that differ from it in one dimension
// only, with their total over that dimension), the released ones give it away.
func recoverable(t *testing.T, resp *analyticsv1.AggregateResponse) {
	t.Helper()
	for _, p := range exposed(resp) {
		t.Errorf("suppressed %v is the only hidden entry of its line: recoverable by subtraction", p)
	}
}

// exposed lists the keys of the suppressed entries of resp that subtraction recovers.
func exposed(resp *analyticsv1.AggregateResponse) [][]string {
	var out [][]string
	entries := append(slices.Clone(resp.GetCells()), resp.GetTotals()...)
	for _, e := range entries {
		if !e.GetSuppressed() {
			continue
		}
		for i, k := range e.GetKeys() {
			if k == "" {
				continue
			}
			hidden := 0
			for _, o := range entries {
				same := true
				for j := range o.GetKeys() {
					if j != i && o.GetKeys()[j] != e.GetKeys()[j] {
						same = false
					}
				}
				if same && o.GetSuppressed() {
					hidden++
				}
			}
			if hidden == 1 {
				out = append(out, e.GetKeys())
			}
		}
	}
	return out
}

// TestSuppressionResistsSubtraction: the check above is not vacuous; primary suppression alone
// (3 women hidden, 26 men and a total of 29 released) would fail it.
func TestSuppressionResistsSubtraction(t *testing.T) {
	t.Parallel()
	primaryOnly := &analyticsv1.AggregateResponse{
		Cells:  []*analyticsv1.Cell{cell(suppressed, "FEMALE"), cell(26, "MALE")},
		Totals: []*analyticsv1.Cell{cell(29, "")},
	}
	if got := exposed(primaryOnly); !cmp.Equal(got, [][]string{{"FEMALE"}}) {
		t.Errorf("exposed = %v, want the women's cell", got)
	}
}

// dumpAs reads, as role in a transaction declared for mission, every row of every table it
// may select, as text.
func (b *bundle) dumpAs(t *testing.T, role, mission string) string {
	t.Helper()
	ctx := context.Background()
	url, err := database.RoleURL(b.env.AdminURL, role)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND has_schema_privilege(schemaname, 'USAGE')
  AND has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, tb := range tables {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `SELECT set_config('passage.mission', $1, true)`, mission); err != nil {
			t.Fatal(err)
		}
		var text string
		if err := tx.QueryRow(ctx, `SELECT coalesce(string_agg(t::text, E'\n'), '') FROM `+tb+` t`).Scan(&text); err != nil {
			t.Fatalf("%s: %v", tb, err)
		}
		_ = tx.Rollback(ctx)
		sb.WriteString(text)
	}
	return sb.String()
}

// TestDepartureShowsWithinSeconds: a departure recorded through the returns RPCs shows in
// Aggregate (here as a suppressed grand total, one person) without anyone asking for a
// refresh. The target is two seconds; the wait allowed is longer because the outbox is read
// behind the oldest transaction of the whole test cluster (see internal/outbox), and the time
// taken is logged.
func TestDepartureShowsWithinSeconds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tr := traveller{mission: "NER", host: "NER", ret: "MLI", sex: female, nationality: "MLI", statistics: true}
	c := b.register(t, tr, "Freshness")
	req := &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY}}
	if got := b.aggregate(t, req).GetCells(); len(got) != 0 {
		t.Fatalf("before the departure: %v", got)
	}
	departed := b.depart(t, tr, c.GetCaseId())
	for {
		got := b.aggregate(t, req).GetCells()
		if len(got) == 1 {
			if diff := cmp.Diff(cell(suppressed, "MLI"), got[0], protocmp.Transform()); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			t.Logf("departure visible in Aggregate after %v", time.Since(departed).Round(time.Millisecond))
			return
		}
		if time.Since(departed) > 15*time.Second {
			t.Fatal("the departure is not in Aggregate after 15 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRefusesBadInput: each mistake is INVALID_ARGUMENT naming the field.
func TestRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	returned := analyticsv1.Measure_MEASURE_PERSONS_RETURNED
	sex := analyticsv1.Dimension_DIMENSION_SEX
	for _, tt := range []struct {
		name  string
		req   *analyticsv1.AggregateRequest
		field string
	}{
		{"no measure", &analyticsv1.AggregateRequest{}, "measure"},
		{"unknown measure", &analyticsv1.AggregateRequest{Measure: 99}, "measure"},
		{"unknown dimension", &analyticsv1.AggregateRequest{Measure: returned, GroupBy: []analyticsv1.Dimension{99}}, "group_by[0]"},
		{"repeated dimension", &analyticsv1.AggregateRequest{Measure: returned, GroupBy: []analyticsv1.Dimension{sex, sex}}, "group_by"},
		{"five dimensions", &analyticsv1.AggregateRequest{Measure: returned, GroupBy: []analyticsv1.Dimension{sex,
			analyticsv1.Dimension_DIMENSION_YEAR, analyticsv1.Dimension_DIMENSION_AGE_BAND,
			analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY}}, "group_by"},
		{"exploitation type of cases registered", &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE}}, "group_by[0]"},
		{"return country of cases registered", &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_CASES_REGISTERED,
			GroupBy: []analyticsv1.Dimension{sex, analyticsv1.Dimension_DIMENSION_RETURN_REGION}}, "group_by[1]"},
		{"return country of referrals", &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_REFERRALS,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_REFERRAL_STATUS, analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY}}, "group_by[1]"},
		{"partner type of persons returned", &analyticsv1.AggregateRequest{Measure: returned,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_PARTNER_TYPE}}, "group_by[0]"},
		{"referral status of victims identified", &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_VICTIMS_IDENTIFIED,
			GroupBy: []analyticsv1.Dimension{sex, analyticsv1.Dimension_DIMENSION_REFERRAL_DIRECTION}}, "group_by[1]"},
		{"years backwards", &analyticsv1.AggregateRequest{Measure: returned, Filter: &analyticsv1.Filter{YearFrom: 2016, YearTo: 2015}}, "filter"},
		{"unknown country", &analyticsv1.AggregateRequest{Measure: returned, Filter: &analyticsv1.Filter{HostCountries: []string{"DEU", "ZZZ"}}}, "filter.host_countries[1]"},
		{"malformed country", &analyticsv1.AggregateRequest{Measure: returned, Filter: &analyticsv1.Filter{ReturnCountries: []string{"iraq"}}}, "filter.return_countries[0]"},
		{"unknown region", &analyticsv1.AggregateRequest{Measure: returned, Filter: &analyticsv1.Filter{ReturnRegions: []string{"ATLANTIS"}}}, "filter.return_regions[0]"},
		{"k below 11", &analyticsv1.AggregateRequest{Measure: returned,
			Release: &analyticsv1.AggregateRequest_Suppression{Suppression: &analyticsv1.Suppression{K: 5}}}, "suppression.k"},
		{"k above 11: a second threshold", &analyticsv1.AggregateRequest{Measure: returned,
			Release: &analyticsv1.AggregateRequest_Suppression{Suppression: &analyticsv1.Suppression{K: 14}}}, "suppression.k"},
		{"sex by nationality: two release tables", &analyticsv1.AggregateRequest{Measure: returned,
			GroupBy: []analyticsv1.Dimension{sex, analyticsv1.Dimension_DIMENSION_NATIONALITY}}, "group_by[1]"},
		{"host region filtered by nationality", &analyticsv1.AggregateRequest{Measure: returned,
			GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_HOST_REGION}, Filter: &analyticsv1.Filter{Nationalities: []string{"NGA"}}}, "filter.nationalities"},
		{"every host country but one: a set of values", &analyticsv1.AggregateRequest{Measure: returned,
			GroupBy: []analyticsv1.Dimension{sex}, Filter: &analyticsv1.Filter{HostCountries: []string{"DEU", "NER", "TUR"}}}, "filter.host_countries"},
		{"epsilon zero", &analyticsv1.AggregateRequest{Measure: returned,
			Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{}}}, "differential_privacy.epsilon"},
		{"epsilon above 1", &analyticsv1.AggregateRequest{Measure: returned,
			Release: &analyticsv1.AggregateRequest_DifferentialPrivacy{DifferentialPrivacy: &analyticsv1.DifferentialPrivacy{Epsilon: 1.5}}}, "differential_privacy.epsilon"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.analytics.Aggregate(b.analyst, tt.req)
			st := testserver.WantCode(t, err, codes.InvalidArgument)
			if fields := testserver.FieldViolations(st); !slices.Contains(fields, tt.field) {
				t.Errorf("violations name %v, want %s", fields, tt.field)
			}
		})
	}
}

// TestOnlyHQStatistics: analysts and programme managers at HQ; nobody else.
func TestOnlyHQStatistics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req := &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED}
	for _, tt := range []struct {
		role    auth.Role
		mission string
		want    codes.Code
	}{
		{auth.RoleAnalyst, auth.MissionHQ, codes.OK},
		{auth.RoleProgrammeManager, auth.MissionHQ, codes.OK},
		{auth.RoleAdmin, auth.MissionHQ, codes.PermissionDenied},
		{auth.RoleCaseworker, "DEU", codes.PermissionDenied},
		{auth.RoleSupervisor, "DEU", codes.PermissionDenied},
		{auth.RoleAnalyst, "DEU", codes.PermissionDenied},
	} {
		t.Run(string(tt.role)+"@"+tt.mission, func(t *testing.T) {
			ctx := b.env.As(t, tt.role, tt.mission)
			_, err := b.analytics.Aggregate(ctx, req)
			testserver.WantCode(t, err, tt.want)
			_, err = b.analytics.ListRegions(ctx, &analyticsv1.ListRegionsRequest{})
			testserver.WantCode(t, err, tt.want)
		})
	}
}

// TestListRegions: the grouping of internal/region, every accepted country once.
func TestListRegions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := b.analytics.ListRegions(b.analyst, &analyticsv1.ListRegionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	var codes []string
	for _, r := range resp.GetRegions() {
		codes = append(codes, r.GetCode())
		for _, c := range r.GetCountries() {
			if prev, ok := seen[c]; ok {
				t.Errorf("%s in %s and %s", c, prev, r.GetCode())
			}
			seen[c] = r.GetCode()
		}
	}
	if want := []string{"EEA", "SEEECA", "MENA", "APAC", "WCA", "EHoA", "SA", "CNAC", "SAM"}; !cmp.Equal(slices.Sorted(slices.Values(codes)), slices.Sorted(slices.Values(want))) {
		t.Errorf("regions %v, want %v", codes, want)
	}
	if seen["DEU"] != "EEA" || seen["IRQ"] != "MENA" || seen["ALB"] != "SEEECA" {
		t.Errorf("DEU in %s, IRQ in %s, ALB in %s", seen["DEU"], seen["IRQ"], seen["ALB"])
	}
}

// TestRoleGrants proves the grant model of 000013: the query role reads the anonymised tables
// and nothing else, not even the outbox; the projector reads the outbox and its own state, and
// neither the vault nor any service's tables.
func TestRoleGrants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	query := database.NewDB(b.env.Pool(t, analytics.Role))
	projector := database.NewDB(b.env.Pool(t, analytics.ProjectorRole))
	hq, ner := query.Mission(auth.MissionHQ), projector.Mission("NER")
	for _, tt := range []struct {
		who     string
		q       database.Querier
		sql     string
		allowed bool
	}{
		{"query reads the rollup", hq, `SELECT count(*) FROM analytics.rollup`, true},
		{"query reads victim records", hq, `SELECT count(*) FROM analytics.victim_record`, true},
		{"query reads facts", hq, `SELECT count(*) FROM analytics.fact`, false},
		{"query writes the rollup", hq, `UPDATE analytics.rollup SET persons = persons + 1`, false},
		{"query reads the outbox", hq, `SELECT count(*) FROM outbox.event`, false},
		{"query reads the vault", hq, `SELECT count(*) FROM vault.identity`, false},
		{"query reads blind indexes", hq, `SELECT count(*) FROM vault.blind_index`, false},
		{"query reads intake cases", hq, `SELECT count(*) FROM intake."case"`, false},
		{"query reads intake members", hq, `SELECT count(*) FROM intake.case_member`, false},
		{"query reads returns", hq, `SELECT count(*) FROM returns."return"`, false},
		{"query reads returns members", hq, `SELECT count(*) FROM returns.case_member`, false},
		{"query reads victim cases", hq, `SELECT count(*) FROM trafficking.victim_case`, false},
		{"query reads hasm requests", hq, `SELECT count(*) FROM hasm.request`, false},
		{"query reads hasm members", hq, `SELECT count(*) FROM hasm.case_member`, false},
		{"query reads the projector's state", hq, `SELECT count(*) FROM analytics_state.member`, false},
		{"query reads the audit", hq, `SELECT count(*) FROM audit.record`, false},
		{"projector reads its state", ner, `SELECT count(*) FROM analytics_state.member`, true},
		{"projector reads the vault", ner, `SELECT count(*) FROM vault.identity`, false},
		{"projector reads intake cases", ner, `SELECT count(*) FROM intake."case"`, false},
		{"projector reads returns", ner, `SELECT count(*) FROM returns."return"`, false},
		{"projector deletes facts", ner, `DELETE FROM analytics.fact`, false},
		{"projector deletes the rollup", ner, `DELETE FROM analytics.rollup`, false},
		{"projector writes events", ner, `INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload) VALUES ('x', 'x', gen_random_uuid(), 'NER', '')`, false},
	} {
		t.Run(tt.who, func(t *testing.T) {
			_, err := tt.q.Exec(ctx, tt.sql)
			var pgErr *pgconn.PgError
			refused := errors.As(err, &pgErr) && pgErr.Code == "42501" // insufficient_privilege
			switch {
			case tt.allowed && err != nil:
				t.Errorf("%s: %v, want allowed", tt.sql, err)
			case !tt.allowed && !refused:
				t.Errorf("%s: %v, want insufficient_privilege", tt.sql, err)
			}
		})
	}
	// Row-level security: the query role sees the anonymised tables only declared for HQ, and
	// a mission's projector state only under that mission.
	b.env.ExecAsOwner(t, `INSERT INTO analytics.rollup (measure, year, programme, sex, age_band, nationality, host_country,
return_country, vulnerabilities, assistance_type, exploitation_types, persons)
VALUES ('PERSONS_RETURNED', 2015, 'AVRR', 'MALE', '30_38', 'IRQ', 'DEU', 'IRQ', '{}', '', '{}', 12)`)
	var n int
	if err := query.Mission("DEU").QueryRow(ctx, `SELECT count(*) FROM analytics.rollup`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the query role declared for a mission reads %d rollup rows (%v), want 0", n, err)
	}
	if err := hq.QueryRow(ctx, `SELECT count(*) FROM analytics.rollup`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the query role declared for HQ reads %d rollup rows (%v), want 1", n, err)
	}
}
