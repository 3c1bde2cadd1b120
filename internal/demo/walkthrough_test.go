package demo

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/disclosure"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/internal/testserver"
	analyticsv1 "github.com/passage-cm/passage/proto/gen/passage/analytics/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	"github.com/passage-cm/passage/services/analytics"
)

// k is the threshold HQ analytics releases with (analytics.DefaultK).
const k = analytics.DefaultK

// dimension is one dimension of a walk-through table: how Aggregate names it, and the values
// a rollup row has of it as Aggregate keys them (several for a multi-valued dimension).
type dimension struct {
	api    analyticsv1.Dimension
	values func(rollupKey) []string
	multi  bool
}

// one reads a dimension of one value per row.
func one(f func(rollupKey) string) func(rollupKey) []string {
	return func(r rollupKey) []string { return []string{f(r)} }
}

// regionOf is a country's region as analytics groups it.
func regionOf(country string) string {
	if r, ok := region.CodeOf(country); ok {
		return r
	}
	return "UNKNOWN"
}

// set reads a multi-valued dimension: its codes, or empty alone for a row without any.
func set(s func(rollupKey) string, empty string) func(rollupKey) []string {
	return func(r rollupKey) []string {
		if v := s(r); v != "" {
			return strings.Split(v, ",")
		}
		return []string{empty}
	}
}

var (
	bySex           = dimension{api: analyticsv1.Dimension_DIMENSION_SEX, values: one(func(r rollupKey) string { return r.sex })}
	byHostRegion    = dimension{api: analyticsv1.Dimension_DIMENSION_HOST_REGION, values: one(func(r rollupKey) string { return regionOf(r.host) })}
	byReturnRegion  = dimension{api: analyticsv1.Dimension_DIMENSION_RETURN_REGION, values: one(func(r rollupKey) string { return regionOf(r.ret) })}
	byHostCountry   = dimension{api: analyticsv1.Dimension_DIMENSION_HOST_COUNTRY, values: one(func(r rollupKey) string { return r.host })}
	byReturnCountry = dimension{api: analyticsv1.Dimension_DIMENSION_RETURN_COUNTRY, values: one(func(r rollupKey) string { return r.ret })}
	byNationality   = dimension{api: analyticsv1.Dimension_DIMENSION_NATIONALITY, values: one(func(r rollupKey) string { return r.nationality })}
	byStatus        = dimension{api: analyticsv1.Dimension_DIMENSION_REFERRAL_STATUS, values: one(func(r rollupKey) string { return r.status })}
	byPartnerType   = dimension{api: analyticsv1.Dimension_DIMENSION_PARTNER_TYPE, values: one(func(r rollupKey) string { return r.partnerType })}
	byVulnerability = dimension{api: analyticsv1.Dimension_DIMENSION_VULNERABILITY, multi: true,
		values: set(func(r rollupKey) string { return r.vulnerabilities }, "NONE")}
	byExploitation = dimension{api: analyticsv1.Dimension_DIMENSION_EXPLOITATION_TYPE, multi: true,
		values: set(func(r rollupKey) string { return r.exploitation }, "UNKNOWN")}
)

// walkTable is one Aggregate call of the analyst walk-through (docs/analysts.md, "The
// analyst walk-through"), with what the plan says of it.
type walkTable struct {
	name      string
	measure   string // as stored: "PERSONS_RETURNED"
	programme commonv1.Programme
	// year filters the call to one year; 0 asks for every year (referrals are dated when
	// they are loaded).
	year int
	by   []dimension
	// seed marks the seed document's tables, whose large figures the share counts; the
	// others (by country) are asked for their distinct values, and their share is logged.
	seed bool
	// figures are the plan's own figures (Plan.Figures) for the table's cells, persons its
	// grand total, distinct the number of values of each dimension: the numbers the rollup
	// written from the plan must add up to.
	figures  map[string]int
	persons  int
	distinct []int
}

// request is the table's Aggregate request, under suppression with the default k.
func (w walkTable) request() *analyticsv1.AggregateRequest {
	f := &analyticsv1.Filter{Programmes: []commonv1.Programme{w.programme}, YearFrom: int32(w.year), YearTo: int32(w.year)}
	req := &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure(analyticsv1.Measure_value["MEASURE_"+w.measure]), Filter: f}
	for _, d := range w.by {
		req.GroupBy = append(req.GroupBy, d.api)
	}
	return req
}

// walkThrough lists the walk-through's calls for plan: AVRR persons returned in the plan's
// year by sex, host region, return region, both regions, vulnerability, and by host and by
// return country (for the number of countries); HASM individuals and their nationalities;
// victims identified by type of exploitation; referrals by status, partner type and both.
func walkThrough(p *Plan) []walkTable {
	f, y := p.Figures, p.Config.Year
	avrr, hasm, vot := commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_HASM, commonv1.Programme_PROGRAMME_VOT
	const returned, identified, referrals = "PERSONS_RETURNED", "VICTIMS_IDENTIFIED", "REFERRALS"
	return []walkTable{
		{name: "AVRR by sex", measure: returned, programme: avrr, year: y, by: []dimension{bySex}, seed: true, figures: f.AVRRBySex, persons: f.AVRRPersons},
		{name: "AVRR by host region", measure: returned, programme: avrr, year: y, by: []dimension{byHostRegion}, seed: true, figures: f.AVRRByHostRegion, persons: f.AVRRPersons},
		{name: "AVRR by return region", measure: returned, programme: avrr, year: y, by: []dimension{byReturnRegion}, seed: true, figures: f.AVRRByReturnRegion, persons: f.AVRRPersons},
		{name: "AVRR by host region and return region", measure: returned, programme: avrr, year: y, by: []dimension{byHostRegion, byReturnRegion}, seed: true, persons: f.AVRRPersons},
		{name: "AVRR by vulnerability", measure: returned, programme: avrr, year: y, by: []dimension{byVulnerability}, seed: true, figures: f.AVRRByVulnerability, persons: f.AVRRPersons},
		{name: "AVRR by host country", measure: returned, programme: avrr, year: y, by: []dimension{byHostCountry}, persons: f.AVRRPersons, distinct: []int{f.AVRRHostCountries}},
		{name: "AVRR by return country", measure: returned, programme: avrr, year: y, by: []dimension{byReturnCountry}, persons: f.AVRRPersons, distinct: []int{f.AVRRReturnCountries}},
		{name: "HASM by nationality", measure: returned, programme: hasm, year: y, by: []dimension{byNationality}, seed: true, persons: f.HASMIndividuals, distinct: []int{f.HASMNationalities}},
		{name: "VoT identified by exploitation type", measure: identified, programme: vot, year: y, by: []dimension{byExploitation}, seed: true, figures: f.VictimsByExploitation, persons: f.VictimsIdentified},
		{name: "referrals by status", measure: referrals, programme: vot, by: []dimension{byStatus}, seed: true, figures: f.ReferralsByStatus, persons: f.Victims},
		{name: "referrals by partner type", measure: referrals, programme: vot, by: []dimension{byPartnerType}, seed: true, figures: f.ReferralsByPartnerType, persons: f.Victims},
		{name: "referrals by status and partner type", measure: referrals, programme: vot, by: []dimension{byStatus, byPartnerType}, seed: true, persons: f.Victims},
	}
}

// keyOf joins an answer's keys ("" for all of a dimension).
func keyOf(keys []string) string { return strings.Join(keys, "|") }

// expected is every number of the table's answer as the rows count it: each cell and each
// marginal total, keyed by keyOf. A person counts once in a total over a multi-valued
// dimension, once per category in its cells.
func (w walkTable) expected(rows map[rollupKey]int64) map[string]int64 {
	out := map[string]int64{}
	n := len(w.by)
	for r, persons := range rows {
		if r.measure != w.measure || r.programme != enumcode.Code(w.programme) || (w.year != 0 && r.year != w.year) {
			continue
		}
		for mask := range 1 << n {
			combos := [][]string{{}}
			for i, d := range w.by {
				vs := []string{""}
				if mask&(1<<i) != 0 {
					vs = d.values(r)
				}
				var next [][]string
				for _, c := range combos {
					for _, v := range vs {
						next = append(next, append(slices.Clone(c), v))
					}
				}
				combos = next
			}
			for _, c := range combos {
				out[keyOf(c)] += persons
			}
		}
	}
	return out
}

// isCell reports whether key names a cell (a value of every dimension), not a total.
func isCell(key string, n int) bool {
	return n > 0 && !slices.Contains(strings.Split(key, "|"), "")
}

// tableShare is what one walk-through table released of its large figures: cells of the
// plan of at least k persons.
type tableShare struct {
	name  string
	seed  bool
	large int
	// released are the large cells the answer gives; perAnswer those the former policy
	// (each answer suppressed on its own, disclosure.Suppress) would have given.
	released, perAnswer int
	// withheld names the large cells withheld, with the plan's figure.
	withheld []string
	// emptyWithheld counts the numbers listed withheld that the plan has nobody in.
	emptyWithheld int
}

// checkFigures asserts that the rows add up to the plan's own figures for the table: the
// rollup written from the plan is the plan.
func checkFigures(t *testing.T, w walkTable, want map[string]int64) {
	t.Helper()
	if got := want[keyOf(make([]string, len(w.by)))]; got != int64(w.persons) {
		t.Errorf("%s: the rows count %d in all, the plan %d", w.name, got, w.persons)
	}
	if w.figures != nil {
		cells := map[string]int{}
		for key, n := range want {
			if isCell(key, len(w.by)) {
				cells[key] = int(n)
			}
		}
		planned := maps.Clone(w.figures)
		maps.DeleteFunc(planned, func(_ string, n int) bool { return n == 0 })
		if !maps.Equal(cells, planned) {
			t.Errorf("%s: the rows give %v, the plan's figures %v", w.name, cells, planned)
		}
	}
}

// distinctValues counts, per dimension, the values of the table's non-empty cells.
func distinctValues(want map[string]int64, n int) []int {
	out := make([]int, n)
	for i := range n {
		seen := map[string]bool{}
		for key, c := range want {
			if c > 0 && isCell(key, n) {
				seen[strings.Split(key, "|")[i]] = true
			}
		}
		out[i] = len(seen)
	}
	return out
}

// askWalkThrough sends every call of the walk-through as an HQ analyst and checks each answer
// against the plan (rows, as the projector records it): every number released is the plan's,
// every grand total is released, every category the plan has is listed (released or
// withheld) and no other, and distinct_values count the plan's categories. It returns, per
// table, how many of the plan's large cells the answer released, and how many the former
// per-answer suppression would have.
func askWalkThrough(t *testing.T, client analyticsv1.AnalyticsServiceClient, hq context.Context, p *Plan, rows map[rollupKey]int64) []tableShare {
	t.Helper()
	var out []tableShare
	for _, w := range walkThrough(p) {
		want := w.expected(rows)
		checkFigures(t, w, want)
		n := len(w.by)
		if w.distinct != nil {
			if got := distinctValues(want, n); !slices.Equal(got, w.distinct) {
				t.Errorf("%s: the rows hold %v distinct values, the plan %v", w.name, got, w.distinct)
			}
		}
		resp, err := client.Aggregate(hq, w.request())
		if err != nil {
			t.Fatalf("%s: Aggregate: %v", w.name, err)
		}
		share := tableShare{name: w.name, seed: w.seed}
		listed := map[string]bool{}
		released := map[string]bool{}
		for _, c := range append(slices.Clone(resp.GetCells()), resp.GetTotals()...) {
			keys := c.GetKeys()
			if n == 0 {
				keys = nil
			}
			key := keyOf(keys)
			listed[key] = true
			switch {
			case c.GetSuppressed() && want[key] == 0:
				// A corner of a protection box the plan has nobody in: listed withheld
				// by design (internal/disclosure, "What is not protected").
				share.emptyWithheld++
			case want[key] == 0:
				t.Errorf("%s: the answer releases %q as %d, which the plan does not count", w.name, key, c.GetCount())
			case c.GetSuppressed():
			case c.GetCount() != want[key]:
				t.Errorf("%s: %q released as %d, the plan has %d", w.name, key, c.GetCount(), want[key])
			default:
				released[key] = true
			}
		}
		for key, c := range want {
			if c > 0 && !listed[key] {
				t.Errorf("%s: %q (%d in the plan) is not in the answer", w.name, key, c)
			}
		}
		// The grand total is released whenever it is large; a population of fewer than k is
		// withheld whole.
		if grand := keyOf(make([]string, n)); released[grand] != (want[grand] >= k) {
			t.Errorf("%s: the grand total (%d in the plan) released %v", w.name, want[grand], released[grand])
		}
		if got := resp.GetDistinctValues(); w.distinct != nil && !slices.Equal(got, int32s(w.distinct)) {
			t.Errorf("%s: distinct_values %v, the plan %v", w.name, got, w.distinct)
		}
		old := perAnswer(t, w, want)
		for _, key := range slices.Sorted(maps.Keys(want)) {
			if c := want[key]; c >= k && isCell(key, n) {
				share.large++
				if released[key] {
					share.released++
				} else {
					share.withheld = append(share.withheld, fmt.Sprintf("%s=%d", key, c))
				}
				if old[key] {
					share.perAnswer++
				}
			}
		}
		out = append(out, share)
	}
	return out
}

func int32s(xs []int) []int32 {
	out := make([]int32, len(xs))
	for i, x := range xs {
		out[i] = int32(x)
	}
	return out
}

// perAnswer is what the former policy released of the table's cells: the answer protected on
// its own by disclosure.Suppress (primary and complementary suppression within the answer),
// as attacktest.PerAnswer serves it. It returns the keys of the cells released.
func perAnswer(t *testing.T, w walkTable, want map[string]int64) map[string]bool {
	t.Helper()
	n := len(w.by)
	if n == 0 {
		return nil
	}
	tab := disclosure.Table{Dimensions: n, MultiValued: make([]bool, n)}
	for i, d := range w.by {
		tab.MultiValued[i] = d.multi
	}
	for _, key := range slices.Sorted(maps.Keys(want)) {
		keys := strings.Split(key, "|")
		totalsMulti := false
		for i, v := range keys {
			totalsMulti = totalsMulti || (v == "" && w.by[i].multi)
		}
		if want[key] > 0 && (isCell(key, n) || totalsMulti) {
			tab.Cells = append(tab.Cells, disclosure.Cell{Keys: keys, Count: want[key]})
		}
	}
	rel, err := disclosure.Suppress(tab, k)
	if err != nil {
		t.Fatalf("%s: the per-answer release: %v", w.name, err)
	}
	out := map[string]bool{}
	for _, r := range rel {
		if !r.Total && !r.Suppressed {
			out[keyOf(r.Keys)] = true
		}
	}
	return out
}

// logShares logs each table's share of large cells released, the withheld ones by name,
// and returns the share over the seed's tables.
func logShares(t *testing.T, shares []tableShare) (released, large, perAnswer int) {
	t.Helper()
	for _, s := range shares {
		t.Logf("%-40s large cells released %d/%d (per-answer policy %d/%d); empty combinations listed withheld: %d",
			s.name, s.released, s.large, s.perAnswer, s.large, s.emptyWithheld)
		if len(s.withheld) > 0 {
			t.Logf("%-40s withheld though large: %s", "", strings.Join(s.withheld, " "))
		}
		if s.seed {
			released, large, perAnswer = released+s.released, large+s.large, perAnswer+s.perAnswer
		}
	}
	return released, large, perAnswer
}

// minLargeReleased is, per scale, the share of the seed's large cells the walk-through must
// get back at least: a floor against regression at what the protected releases give today
// (run with -v for each table's share and the large figures withheld). Issue 13 asks for "the
// same figures wherever they are large"; at the seed's own scale 114 of 125 come back
// (91.2%; per-answer suppression, which combined answers defeat, 96.8%), at a fiftieth of it,
// a caseload of 1,400 persons, 24 of 37.
var minLargeReleased = map[float64]float64{0.02: 0.6, 1: 0.9}

// TestWalkThroughAtScale is the acceptance test of issue 13's "Done when" for analysts: with
// the seed's caseload in analytics (the plan written into analytics.rollup as the projector
// would have recorded it, see planRollup), every call of the analyst walk-through answers
// through the real Aggregate API. Every number released is the plan's; every grand total
// of k persons or more is released; every category the plan has is listed, released or
// withheld; distinct_values count the plan's countries and nationalities. Of the large
// cells (k persons or more) of the seed's tables, at least minLargeReleased come back: a
// large entry may be withheld as the complement of a small one. The test logs each table's
// share beside what per-answer suppression (the former policy) released, and names the
// large cells withheld.
//
// Scale 0.02 is `passage demo seed --scale 0.02`; scale 1 is the seed document's year.
func TestWalkThroughAtScale(t *testing.T) {
	t.Parallel()
	for _, scale := range []float64{0.02, 1} {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			t.Parallel()
			plan, err := NewPlan(Config{Year: 2015, Scale: scale, Seed: 2015}, IOMRegions())
			if err != nil {
				t.Fatal(err)
			}
			env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{analytics.Spec()}})
			rows := planRollup(plan, time.Now().UTC().Year())
			writeRollup(t, env, rows)
			client := analyticsv1.NewAnalyticsServiceClient(env.Conn)
			hq := env.As(t, auth.RoleAnalyst, auth.MissionHQ)
			awaitRefresh(t, client, hq, rows)
			released, large, old := logShares(t, askWalkThrough(t, client, hq, plan, rows))
			t.Logf("scale %g: the seed's tables released %d of their %d large cells (%.1f%%); per-answer suppression %d (%.1f%%)",
				scale, released, large, 100*float64(released)/float64(large), old, 100*float64(old)/float64(large))
			if float64(released) < minLargeReleased[scale]*float64(large) {
				t.Errorf("scale %g: %d of %d large cells released, want at least %.0f%%", scale, released, large, 100*minLargeReleased[scale])
			}
		})
	}
}

// awaitRefresh waits until the service counts the persons returned that rows hold: every
// year and programme listed, each released one with its count. (The time of its last refresh
// is not enough: a refresh reads only the rows committed below the oldest transaction still
// open in the whole cluster, which parallel tests hold back.)
func awaitRefresh(t *testing.T, client analyticsv1.AnalyticsServiceClient, hq context.Context, rows map[rollupKey]int64) {
	t.Helper()
	want := map[[2]string]int64{}
	for k, n := range rows {
		if k.measure == "PERSONS_RETURNED" {
			want[[2]string{fmt.Sprint(k.year), k.programme}] += n
		}
	}
	req := &analyticsv1.AggregateRequest{Measure: analyticsv1.Measure_MEASURE_PERSONS_RETURNED,
		GroupBy: []analyticsv1.Dimension{analyticsv1.Dimension_DIMENSION_YEAR, analyticsv1.Dimension_DIMENSION_PROGRAMME}}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(25 * time.Millisecond) {
		resp, err := client.Aggregate(hq, req)
		if err != nil {
			t.Fatal(err)
		}
		counted := 0
		for _, c := range resp.GetCells() {
			if n, ok := want[[2]string{c.GetKeys()[0], c.GetKeys()[1]}]; ok && (c.GetSuppressed() || c.GetCount() == n) {
				counted++
			}
		}
		if counted == len(want) && len(resp.GetCells()) == len(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service does not count the persons returned in time: %v", resp.GetCells())
		}
	}
}
