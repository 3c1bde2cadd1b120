package vault

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

func TestSearchKindNames(t *testing.T) {
	t.Parallel()
	var got []string
	for _, k := range SearchKinds() {
		got = append(got, k.String())
	}
	want := []string{"name_dob", "folded_name_dob", "folded_name_year_month", "folded_name_year", "name_token_dob", "phone"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("search kinds' names (-want +got):\n%s", diff)
	}
}

func TestFoldName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		given, family string
		want          string
	}{
		{"Mohammed: vowels dropped, doubled letters collapse", "Mohammed", "", "mhmd"},
		{"Muhammad", "Muhammad", "", "mhmd"},
		{"French ou", "Mouhamed", "", "mhmd"},
		{"Arabic script", "محمد", "", "mhmd"},
		{"kh is h", "Khaled", "", "hld"},
		{"h", "Haled", "", "hld"},
		{"q is k", "Qasim", "", "ksm"},
		{"sh and ch meet", "Chérif", "", "srf"},
		{"Sharif", "Sharif", "", "srf"},
		{"dj is j", "Djamila", "", "jml"},
		{"ee and y are vowels", "Yousef", "Aly", "l sf"},
		{"swapped names", "Aly", "Youssef", "l sf"},
		{"Cyrillic", "Юсуф", "", "sf"},
		{"vowel typo", "Amena", "", "mn"},
		{"no consonant keeps its vowels", "Aya", "", "aya"},
		{"repeated token once", "Ali", "Aly", "l"},
		{"other scripts unchanged", "ኪዳነ", "", "ኪዳነ"},
		{"nothing", " ", "", ""},
	}
	for _, tt := range tests {
		if got := FoldName(tt.given, tt.family); got != tt.want {
			t.Errorf("%s: FoldName(%q, %q) = %q, want %q", tt.name, tt.given, tt.family, got, tt.want)
		}
	}
}

func TestNormalisePhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"+227 90 12 34 56", "90123456"},
		{"00227-90-12-34-56", "90123456"},
		{"90 12 34 56", "90123456"},
		{"٩٠١٢٣٤٥٦", "90123456"}, // Arabic-Indic digits
		{"12345", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normalisePhone(tt.in); got != tt.want {
			t.Errorf("normalisePhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSearchIndexes checks which kinds a person gets, that equal inputs give equal digests,
// and that no search digest equals a duplicate-check digest (they are looked up together by
// digest only).
func TestSearchIndexes(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	p := &commonv1.Person{GivenName: "Mohammed", FamilyName: "Ali", DateOfBirth: &date.Date{Year: 1990, Month: 4, Day: 2},
		Nationality: "SDN", Phone: "+249 912 345 678",
		Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "P1", IssuingCountry: "SDN"}}}
	var kinds []string
	for _, ix := range k.SearchIndexes(p) {
		kinds = append(kinds, ix.Kind.String())
		for _, d := range k.BlindIndexes(p) {
			if bytes.Equal(d.Digest, ix.Digest) {
				t.Errorf("search index %s equals duplicate index %s", ix.Kind, d.Kind)
			}
		}
	}
	want := []string{"name_dob", "folded_name_dob", "folded_name_year_month", "folded_name_year", "name_token_dob", "name_token_dob", "phone"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	variant := k.NameIndexes("Ali", "Muhammad", &date.Date{Year: 1990, Month: 4, Day: 2})
	if bytes.Equal(variant[0].Digest, k.SearchIndexes(p)[0].Digest) {
		t.Error("a transliteration variant matched the exact name")
	}
	if !bytes.Equal(variant[1].Digest, k.SearchIndexes(p)[1].Digest) {
		t.Error("Ali Muhammad's folded name does not match Mohammed Ali's")
	}
	yearOnly := k.NameIndexes("Mohammed", "Ali", &date.Date{Year: 1990})
	if len(yearOnly) != 5 || yearOnly[2].Kind != KindFoldedNameYear || !bytes.Equal(yearOnly[2].Digest, k.SearchIndexes(p)[3].Digest) {
		t.Errorf("year-only indexes %v do not meet the full date's year index", yearOnly)
	}
	if got := k.SearchIndexes(&commonv1.Person{GivenName: "Amina", Phone: "12"}); len(got) != 0 {
		t.Errorf("no year, no phone: got %d indexes", len(got))
	}
}
