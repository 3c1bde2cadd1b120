package region

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/country"
)

// TestEveryCountryInExactlyOneRegion is the rule the statistics rest on: a country in no
// region would vanish from every regional table, one in two would be counted twice.
func TestEveryCountryInExactlyOneRegion(t *testing.T) {
	t.Parallel()
	in := map[string][]string{}
	for _, r := range All() {
		for _, c := range r.Countries {
			in[c] = append(in[c], r.Code)
		}
	}
	for _, c := range country.All() {
		if len(in[c]) != 1 {
			t.Errorf("%s is in regions %v, want exactly one", c, in[c])
		}
	}
	for c := range in {
		if !country.Valid(c) {
			t.Errorf("regions.json holds %s, which internal/country does not accept", c)
		}
	}
}

func TestAll(t *testing.T) {
	t.Parallel()
	var codes []string
	for _, r := range All() {
		codes = append(codes, r.Code)
		if r.Name == "" || r.Office == "" {
			t.Errorf("%s: name %q, office %q", r.Code, r.Name, r.Office)
		}
		if !slices.IsSorted(r.Countries) || len(slices.Compact(slices.Clone(r.Countries))) != len(r.Countries) {
			t.Errorf("%s: countries not sorted and unique: %v", r.Code, r.Countries)
		}
	}
	want := []string{"EEA", "SEEECA", "MENA", "APAC", "WCA", "EHoA", "SA", "CNAC", "SAM"}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("region codes (-want +got):\n%s", diff)
	}

	// The caller's copy is its own.
	rs := All()
	rs[0].Countries[0] = "XXX"
	rs[0].Name = "changed"
	if again := All(); again[0].Countries[0] == "XXX" || again[0].Name == "changed" {
		t.Error("All returns shared state")
	}
}

func TestOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		country, want string
	}{
		{"DEU", "EEA"},
		{"GBR", "EEA"},
		{"ISL", "EEA"},
		{"LIE", "EEA"},
		{"NOR", "EEA"},
		{"CHE", "EEA"},
		{"REU", "EEA"},
		{"TUR", "SEEECA"},
		{"ISR", "SEEECA"},
		{"RUS", "SEEECA"},
		{"UZB", "SEEECA"},
		{"IRQ", "MENA"},
		{"SDN", "MENA"},
		{"MAR", "MENA"},
		{"AFG", "APAC"},
		{"IRN", "APAC"},
		{"PAK", "APAC"},
		{"AUS", "APAC"},
		{"NER", "WCA"},
		{"CMR", "WCA"},
		{"MRT", "WCA"},
		{"ETH", "EHoA"},
		{"SSD", "EHoA"},
		{"COD", "SA"},
		{"ZAF", "SA"},
		{"MEX", "CNAC"},
		{"GUY", "CNAC"},
		{"SUR", "CNAC"},
		{"GRL", "CNAC"},
		{"USA", "CNAC"},
		{"BRA", "SAM"},
		{"VEN", "SAM"},
	}
	for _, tt := range tests {
		r, ok := Of(tt.country)
		if !ok || r.Code != tt.want {
			t.Errorf("Of(%q) = %q, %v; want %q", tt.country, r.Code, ok, tt.want)
		}
		if !slices.Contains(r.Countries, tt.country) {
			t.Errorf("Of(%q) = %s, whose countries lack it", tt.country, r.Code)
		}
		if code, ok := CodeOf(tt.country); !ok || code != tt.want {
			t.Errorf("CodeOf(%q) = %q, %v; want %q", tt.country, code, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "deu", "XKX", "SUN", "EUR", "EEA", "XXA"} {
		if r, ok := Of(bad); ok {
			t.Errorf("Of(%q) = %s, want none", bad, r.Code)
		}
		if code, ok := CodeOf(bad); ok {
			t.Errorf("CodeOf(%q) = %s, want none", bad, code)
		}
	}
}

func TestByCode(t *testing.T) {
	t.Parallel()
	for _, want := range All() {
		got, ok := ByCode(want.Code)
		if !ok {
			t.Fatalf("ByCode(%q) not found", want.Code)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ByCode(%q) (-want +got):\n%s", want.Code, diff)
		}
	}
	for _, bad := range []string{"", "eea", "EU", "DEU"} {
		if _, ok := ByCode(bad); ok {
			t.Errorf("ByCode(%q) found a region", bad)
		}
	}
}

// TestParseRefusesBrokenData: the checks parse makes are what keep a careless edit of
// regions.json from shipping (the binary would panic at the first use; this test fails first).
func TestParseRefusesBrokenData(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"not json":             `{`,
		"country twice":        `{"regions":[{"code":"A","name":"a","listed":["DEU"]},{"code":"B","name":"b","judged":{"DEU":"x"}}]}`,
		"country twice in one": `{"regions":[{"code":"A","name":"a","listed":["DEU"],"judged":{"DEU":"x"}}]}`,
		"code twice":           `{"regions":[{"code":"A","name":"a"},{"code":"A","name":"b"}]}`,
		"no name":              `{"regions":[{"code":"A"}]}`,
	} {
		if _, err := parse([]byte(doc)); err == nil {
			t.Errorf("%s: parse accepted it", name)
		}
	}
	if _, err := parse(data); err != nil {
		t.Errorf("embedded regions.json: %v", err)
	}
}
