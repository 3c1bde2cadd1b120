package bulk

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/country"
	"github.com/passage-cm/passage/internal/region"
	"github.com/passage-cm/passage/services/analytics/projector"
)

func facts(t *testing.T, g *Generator, chunk, limit int64) []Fact {
	t.Helper()
	var out []Fact
	if _, err := g.Chunk(chunk, limit, 0, func(f *Fact) error {
		c := *f
		c.Vulnerabilities = slices.Clone(f.Vulnerabilities)
		c.ExploitationTypes = slices.Clone(f.ExploitationTypes)
		c.MeansOfControl = slices.Clone(f.MeansOfControl)
		out = append(out, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	g1, _ := NewGenerator(DefaultConfig(7))
	g2, _ := NewGenerator(DefaultConfig(7))
	a, b := facts(t, g1, 3, 1e6), facts(t, g2, 3, 1e6)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("same seed, same chunk, different facts (-first +second):\n%s", diff)
	}
	g3, _ := NewGenerator(DefaultConfig(8))
	if cmp.Equal(a, facts(t, g3, 3, 1e6)) {
		t.Error("another seed gave the same facts")
	}
	// The last chunk stops at the limit.
	if n, _ := g1.Chunk(0, 25, 0, func(*Fact) error { return nil }); n != 25 {
		t.Errorf("chunk 0 up to 25 made %d persons", n)
	}
	if n, _ := g1.Chunk(5, 25, 0, func(*Fact) error { return nil }); n != 0 {
		t.Errorf("a chunk past the limit made %d persons", n)
	}
}

// TestFactsAreCodedAsTheProjectorCodes holds every fact to what the migration's checks and
// the projector's coding allow, so that the engine meets the same data either way.
func TestFactsAreCodedAsTheProjectorCodes(t *testing.T) {
	t.Parallel()
	g, err := NewGenerator(DefaultConfig(1))
	if err != nil {
		t.Fatal(err)
	}
	measures := []string{projector.CasesRegistered, projector.PersonsReturned, projector.PersonsAssisted, projector.VictimsIdentified, projector.HASMRequestsApproved, projector.HASMRequestsRejected}
	seen := map[string]int{}
	keys := map[[3]any]bool{}
	for chunk := int64(0); chunk < 3; chunk++ {
		for _, f := range facts(t, g, chunk, 1e6) {
			seen[f.Measure]++
			if !slices.Contains(measures, f.Measure) {
				t.Fatalf("measure %q", f.Measure)
			}
			if f.EventID >= 0 || f.Year < 2010 || f.Year > 2025 {
				t.Fatalf("event id %d, year %d", f.EventID, f.Year)
			}
			k := [3]any{f.EventID, f.Measure, f.Ordinal}
			if keys[k] {
				t.Fatalf("(event_id, measure, ordinal) %v twice", k)
			}
			keys[k] = true
			if !country.Valid(f.Nationality) || !country.Valid(f.HostCountry) {
				t.Fatalf("countries %q %q", f.Nationality, f.HostCountry)
			}
			wantReturn := f.Measure == projector.PersonsReturned || (f.Measure == projector.PersonsAssisted && f.Programme == "AVRR")
			if wantReturn != (f.ReturnCountry != "") || (wantReturn && !country.Valid(f.ReturnCountry)) {
				t.Fatalf("%s %s: return country %q", f.Measure, f.Programme, f.ReturnCountry)
			}
			if (f.Measure == projector.PersonsAssisted) != (f.AssistanceType != "") {
				t.Fatalf("%s: assistance type %q", f.Measure, f.AssistanceType)
			}
			if f.Measure != projector.VictimsIdentified && (len(f.ExploitationTypes) > 0 || len(f.MeansOfControl) > 0) {
				t.Fatalf("%s carries exploitation %v %v", f.Measure, f.ExploitationTypes, f.MeansOfControl)
			}
			for _, s := range [][]string{f.Vulnerabilities, f.ExploitationTypes, f.MeansOfControl} {
				if s == nil || !slices.IsSorted(s) || len(slices.Compact(slices.Clone(s))) != len(s) {
					t.Fatalf("set %v not sorted, unique and non-nil", s)
				}
			}
			if !slices.Contains(ageBands, f.AgeBand) || !slices.Contains([]string{"MALE", "FEMALE", "UNKNOWN"}, f.Sex) {
				t.Fatalf("age band %q, sex %q", f.AgeBand, f.Sex)
			}
			if f.Programme == "VOT" && !slices.Contains(f.Vulnerabilities, "VICTIM_OF_TRAFFICKING") {
				t.Fatalf("a VoT person without the vulnerability")
			}
		}
	}
	for _, m := range measures {
		if seen[m] == 0 {
			t.Errorf("no %s fact in 30,000 persons", m)
		}
	}
}

// TestShapes: the skew is the seed's, roughly (corridors and rounding move it by a few
// points; the seed's exact figures are passage demo seed's job).
func TestShapes(t *testing.T) {
	t.Parallel()
	g, _ := NewGenerator(DefaultConfig(2))
	var returned, male, female float64
	host, ret := map[string]float64{}, map[string]float64{}
	for chunk := int64(0); chunk < 10; chunk++ {
		for _, f := range facts(t, g, chunk, 1e6) {
			if f.Measure != projector.PersonsReturned || f.Programme != "AVRR" {
				continue
			}
			returned++
			switch f.Sex {
			case "MALE":
				male++
			case "FEMALE":
				female++
			}
			h, _ := region.CodeOf(f.HostCountry)
			r, _ := region.CodeOf(f.ReturnCountry)
			host[h]++
			ret[r]++
		}
	}
	within := func(name string, got, want, tol float64) {
		if got < want-tol || got > want+tol {
			t.Errorf("%s: %.2f%%, want %.2f%% ± %.0f", name, got, want, tol)
		}
	}
	within("men among AVRR returns", 100*male/returned, 75.6, 1.5)
	within("women among AVRR returns", 100*female/returned, 23.9, 1.5)
	within("returns from EEA", 100*host["EEA"]/returned, 80.72, 8)
	within("returns to SEEECA", 100*ret["SEEECA"]/returned, 60.59, 5)
	within("returns to APAC", 100*ret["APAC"]/returned, 13.87, 4)
}

func TestNewGeneratorRefusesBadYears(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{{FirstYear: 2020, LastYear: 2019}, {FirstYear: 1800, LastYear: 2000}, {FirstYear: 2000, LastYear: 3000}} {
		if _, err := NewGenerator(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
