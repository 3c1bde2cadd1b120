package country

import (
	"slices"
	"testing"
)

func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want bool
	}{
		{"NER", true},
		{"DEU", true},
		{"IRQ", true},
		{"YEM", true},
		{"THA", true},
		{"SSD", true}, // South Sudan, assigned 2011
		{"XKX", false},
		{"ner", false},
		{"NE", false},
		{"NERR", false},
		{"", false},
		{"XXA", false},
		{"ZZZ", false},
		{"AAA", false},
		{"EUR", false},
		{"150", false},
		{"N3R", false},
		{"ÄÄÄ", false},
		// Withdrawn (ISO 3166-3) or exceptionally reserved: CLDR still knows them.
		{"SUN", false},
		{"YUG", false},
		{"SCG", false},
		{"ANT", false},
		{"ZAR", false},
		{"DDR", false},
		{"ASC", false},
		{"TAA", false},
		{"SRB", true},
		{"COD", true},
		{"SHN", true},
	}
	for _, tt := range tests {
		if got := Valid(tt.code); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

// TestAll pins the number of codes accepted to the 249 that ISO 3166-1 assigns (a change of
// the x/text tables that adds or drops one shows here first), and checks All against Valid
// over every three-letter string.
func TestAll(t *testing.T) {
	t.Parallel()
	got := All()
	if len(got) != 249 {
		t.Errorf("All() has %d codes, want the 249 ISO 3166-1 assigns", len(got))
	}
	if !slices.IsSorted(got) {
		t.Error("All() is not sorted")
	}
	n := 0
	b := []byte("AAA")
	for b[0] = 'A'; b[0] <= 'Z'; b[0]++ {
		for b[1] = 'A'; b[1] <= 'Z'; b[1]++ {
			for b[2] = 'A'; b[2] <= 'Z'; b[2]++ {
				if Valid(string(b)) {
					n++
					if _, ok := slices.BinarySearch(got, string(b)); !ok {
						t.Errorf("All() lacks %s", b)
					}
				}
			}
		}
	}
	if n != len(got) {
		t.Errorf("Valid accepts %d codes, All() has %d", n, len(got))
	}
	got[0] = "XXX"
	if All()[0] == "XXX" {
		t.Error("All() returns its own slice: a caller changed it")
	}
}
