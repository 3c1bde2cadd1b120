package demo

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/ageband"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/region"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

func newPlan(t *testing.T, scale float64, seed uint64) *Plan {
	t.Helper()
	p, err := NewPlan(Config{Year: 2015, Scale: scale, Seed: seed}, IOMRegions())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApportion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		total   int
		weights []float64
		want    []int
	}{
		{10, []float64{1, 1, 1}, []int{4, 3, 3}}, // ties go to the earlier index
		{100, []float64{76, 24}, []int{76, 24}},
		{7, []float64{0.5, 0.3, 0.2}, []int{4, 2, 1}},
		{0, []float64{1, 2}, []int{0, 0}},
		{5, []float64{0, 0}, []int{0, 0}},
	}
	for _, tt := range tests {
		if got := apportion(tt.total, tt.weights); !slices.Equal(got, tt.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", tt.total, tt.weights, got, tt.want)
		}
	}
	// Every count is within one of its exact quota, and they add up.
	for total := range 500 {
		w := []float64{80.72, 8.28, 4.91, 2.5, 1.5, 0.8, 0.6, 0.45, 0.24}
		got := apportion(total, w)
		sum := 0
		for i, n := range got {
			sum += n
			if q := float64(total) * w[i] / 100; math.Abs(float64(n)-q) >= 1 {
				t.Fatalf("apportion(%d): count %d for quota %.3f", total, n, q)
			}
		}
		if sum != total {
			t.Fatalf("apportion(%d) adds up to %d", total, sum)
		}
	}
	if _, err := apportionAtLeastOne(2, []float64{1, 1, 1}); err == nil {
		t.Error("apportionAtLeastOne gave three categories one each out of two")
	}
}

// percent is count's share of total, rounded to two decimals as the report prints it.
func percent(count, total int) string { return fmt.Sprintf("%.2f", 100*float64(count)/float64(total)) }

// TestPlanReproducesThePublishedFigures checks the full-scale plan against the seed
// document, counting from the cases themselves (not the plan's own figures) with the
// regions looked up in internal/region.
func TestPlanReproducesThePublishedFigures(t *testing.T) {
	t.Parallel()
	p := newPlan(t, 1, 1)
	persons, male, female := 0, 0, 0
	host, ret := map[string]int{}, map[string]int{}
	hosts, returns := map[string]bool{}, map[string]bool{}
	for _, c := range p.AVRR {
		for _, person := range c.People {
			persons++
			switch person.Sex {
			case commonv1.Sex_SEX_MALE:
				male++
			case commonv1.Sex_SEX_FEMALE:
				female++
			}
		}
		h, ok1 := region.CodeOf(c.Host)
		r, ok2 := region.CodeOf(c.Return)
		if !ok1 || !ok2 {
			t.Fatalf("case %d: %s or %s is in no IOM region", c.Serial, c.Host, c.Return)
		}
		host[h] += len(c.People)
		ret[r] += len(c.People)
		hosts[c.Host], returns[c.Return] = true, true
	}
	got := map[string]string{
		"persons":          fmt.Sprint(persons),
		"male":             percent(male, persons),
		"female":           percent(female, persons),
		"host EEA":         percent(host["EEA"], persons),
		"host MENA":        percent(host["MENA"], persons),
		"host APAC":        percent(host["APAC"], persons),
		"return SEEECA":    percent(ret["SEEECA"], persons),
		"return APAC":      percent(ret["APAC"], persons),
		"return MENA":      percent(ret["MENA"], persons),
		"host countries":   fmt.Sprint(len(hosts)),
		"origin countries": fmt.Sprint(len(returns)),
	}
	want := map[string]string{
		"persons": "69000", "male": "76.00", "female": "24.00",
		"host EEA": "80.72", "host MENA": "8.28", "host APAC": "4.91",
		"return SEEECA": "60.59", "return APAC": "13.87", "return MENA": "7.01",
		"host countries": "98", "origin countries": "157",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the 2015 AVRR figures (-published +plan):\n%s", diff)
	}
	if p.Figures.HASMIndividuals != 524 || p.Figures.HASMNationalities != 43 {
		t.Errorf("HASM: %d individuals of %d nationalities, want 524 of 43", p.Figures.HASMIndividuals, p.Figures.HASMNationalities)
	}
	if p.Figures.HASMRejected == 0 || p.Figures.Victims != victimsAtFullScale {
		t.Errorf("%d rejected HASM requests and %d victims, want some and %d", p.Figures.HASMRejected, p.Figures.Victims, victimsAtFullScale)
	}
	if len(p.AVRR) >= persons {
		t.Errorf("%d cases for %d persons: no household has members", len(p.AVRR), persons)
	}
}

// TestPlanAtAnyScale: every count stays within one of its exact quota, and from 0.05 up the
// plan keeps its 98 host and 157 origin countries.
func TestPlanAtAnyScale(t *testing.T) {
	t.Parallel()
	for _, scale := range []float64{0.003, 0.02, 0.05, 0.12} {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			t.Parallel()
			p := newPlan(t, scale, 7)
			f := p.Figures
			total := int(math.Round(avrrPersons * scale))
			if f.AVRRPersons != total {
				t.Fatalf("%d persons, want %d", f.AVRRPersons, total)
			}
			within := func(what string, n int, percent float64) {
				if q := float64(total) * percent / 100; math.Abs(float64(n)-q) >= 1 {
					t.Errorf("%s: %d persons for an exact quota of %.2f", what, n, q)
				}
			}
			within("male", f.AVRRBySex["MALE"], avrrMalePercent)
			within("female", f.AVRRBySex["FEMALE"], avrrFemalePercent)
			for _, s := range hostShares {
				within("host "+s.region, f.AVRRByHostRegion[s.region], s.percent)
			}
			for _, s := range returnShares {
				within("return "+s.region, f.AVRRByReturnRegion[s.region], s.percent)
			}
			if scale >= minFullScale && (f.AVRRHostCountries != avrrHostCountries || f.AVRRReturnCountries != avrrOriginCountries) {
				t.Errorf("%d host and %d origin countries, want %d and %d", f.AVRRHostCountries, f.AVRRReturnCountries, avrrHostCountries, avrrOriginCountries)
			}
			if want := int(math.Round(hasmIndividuals * scale)); f.HASMIndividuals != want || f.HASMNationalities != min(want, hasmNationalities) {
				t.Errorf("HASM: %d individuals of %d nationalities, want %d of %d", f.HASMIndividuals, f.HASMNationalities, want, min(want, hasmNationalities))
			}
		})
	}
}

// TestPlanCases checks each case as the services will: countries assigned and apart, dates
// in the year and in order, children where the vulnerability says so, the safeguards the
// returns service requires, and people obviously fake.
func TestPlanCases(t *testing.T) {
	t.Parallel()
	p := newPlan(t, 0.05, 3)
	from, to := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2015, 12, 31, 0, 0, 0, 0, time.UTC)
	inYear := func(what string, serial int, d ...time.Time) {
		for i, x := range d {
			if x.Before(from) || x.After(to) || (i > 0 && x.Before(d[i-1])) {
				t.Fatalf("%s %d: dates %v not in 2015 or not in order", what, serial, d)
			}
		}
	}
	fake := func(what string, serial int, people ...Person) {
		for _, person := range people {
			if !strings.HasPrefix(person.FamilyName, "Demo-") || (person.Passport != "" && !strings.HasPrefix(person.Passport, "DEMO")) {
				t.Fatalf("%s %d: a person who is not obviously synthetic: %q %q", what, serial, person.FamilyName, person.Passport)
			}
			if !country.Valid(person.Nationality) {
				t.Fatalf("%s %d: nationality %q", what, serial, person.Nationality)
			}
		}
	}
	needs := map[commonv1.Vulnerability][]string{
		commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD: {"guardian_appointed", "best_interests_assessment"},
		commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING:       {"risk_assessment"},
		commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS:               {"fit_to_travel", "medical_escort"},
	}
	seen := map[commonv1.Vulnerability]int{}
	for _, c := range p.AVRR {
		if c.Host == c.Return || !country.Valid(c.Host) || !country.Valid(c.Return) {
			t.Fatalf("AVRR case %d: from %s to %s", c.Serial, c.Host, c.Return)
		}
		steps := []time.Time{c.Registered, c.Counselled, c.Decided}
		var kinds []string
		for _, s := range c.Steps {
			steps = append(steps, civildate.ToTime(s.GetDate()))
			kinds = append(kinds, string(s.ProtoReflect().WhichOneof(s.ProtoReflect().Descriptor().Oneofs().ByName("step")).Name()))
		}
		inYear("AVRR case", c.Serial, append(steps, c.Departed)...)
		fake("AVRR case", c.Serial, c.People...)
		if _, ok := c.Steps[len(c.Steps)-1].GetStep().(*returnsv1.PreDepartureStep_Booking); !ok {
			t.Fatalf("AVRR case %d: the last step is not the booking", c.Serial)
		}
		for _, v := range c.Vulnerabilities {
			seen[v]++
			for _, k := range needs[v] {
				if !slices.Contains(kinds, k) {
					t.Fatalf("AVRR case %d (%v): no %s step among %v", c.Serial, v, k, kinds)
				}
			}
			if v == commonv1.Vulnerability_VULNERABILITY_UNACCOMPANIED_MIGRANT_CHILD &&
				(len(c.People) != 1 || !ageband.IsChild(ageband.At(civildate.FromTime(c.People[0].Born), c.Registered))) {
				t.Fatalf("AVRR case %d: an unaccompanied child who is not a child alone", c.Serial)
			}
		}
	}
	for v := range needs {
		if seen[v] == 0 {
			t.Errorf("no AVRR case with %v", v)
		}
	}
	for _, h := range p.HASM {
		fake("HASM case", h.Serial, h.People...)
		if h.Host == h.Nationality || h.EstimatedCost <= 0 {
			t.Fatalf("HASM case %d: from %s to %s at %d", h.Serial, h.Host, h.Nationality, h.EstimatedCost)
		}
		if h.Approve {
			inYear("HASM case", h.Serial, h.Registered, h.Departed)
		}
	}
	for _, v := range p.Victim {
		fake("victim case", v.Serial, v.Person)
		inYear("victim case", v.Serial, v.Registered, v.Screened, v.AssistanceStart)
		if len(v.Exploitation.GetTypes()) == 0 || len(v.Exploitation.GetMeansOfControl()) == 0 {
			t.Fatalf("victim case %d: exploitation without types or means of control", v.Serial)
		}
	}
}

func TestPlanIsReproducible(t *testing.T) {
	t.Parallel()
	a, b, other := newPlan(t, 0.02, 9), newPlan(t, 0.02, 9), newPlan(t, 0.02, 10)
	if diff := cmp.Diff(a.Figures, b.Figures); diff != "" {
		t.Errorf("the same seed gave other figures:\n%s", diff)
	}
	same := func(x, y *Plan) bool {
		return x.AVRR[0].Host == y.AVRR[0].Host && x.AVRR[0].People[0].GivenName == y.AVRR[0].People[0].GivenName &&
			x.AVRR[0].Departed.Equal(y.AVRR[0].Departed) && x.RequestID("avrr", 0, "register") == y.RequestID("avrr", 0, "register")
	}
	if !same(a, b) {
		t.Error("the same seed gave another first case or request id")
	}
	if same(a, other) {
		t.Error("another seed gave the same first case and request id")
	}
}

func TestPlanRefuses(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{
		{Year: time.Now().Year(), Scale: 1},
		{Year: 1999, Scale: 1},
		{Year: 2015, Scale: 0},
		{Year: 2015, Scale: math.NaN()},
		{Year: 2015, Scale: 0.000001},
	} {
		if _, err := NewPlan(cfg, IOMRegions()); err == nil {
			t.Errorf("NewPlan(%+v) made a plan", cfg)
		}
	}
	if _, err := NewPlan(Config{Year: 2015, Scale: 1}, IOMRegions()[1:]); err == nil {
		t.Error("NewPlan made a plan without the EEA region")
	}
}
