package country

import "testing"

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
	}
	for _, tt := range tests {
		if got := Valid(tt.code); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
