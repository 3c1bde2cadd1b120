package vault

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/type/date"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

func TestKindString(t *testing.T) {
	t.Parallel()
	got := map[Kind]string{}
	for _, k := range []Kind{0, KindDocument, KindNameDateOfBirthNationality, 99} {
		got[k] = k.String()
	}
	want := map[Kind]string{
		0:                              "Kind(0)",
		KindDocument:                   "document",
		KindNameDateOfBirthNationality: "name_dob_nationality",
		99:                             "Kind(99)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Kind.String (-want +got):\n%s", diff)
	}
}

func TestNormaliseDocumentNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"AB123456", "AB123456"},
		{"ab-123 456", "AB123456"},
		{"  ab 12/34.56  ", "AB123456"},
		{"ＡＢ１２３", "AB123"},         // full-width forms fold under NFKC
		{"a\u00a0b\u200b1", "AB1"}, // no-break space, zero-width space
		{"é12", "12"},              // non-ASCII letters are not part of a document number
		{"---", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normaliseDocumentNumber(tt.in); got != tt.want {
			t.Errorf("normaliseDocumentNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormaliseName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		given, family string
		want          string
	}{
		{"plain", "Amina", "Diallo", "amina diallo"},
		{"sorted tokens", "Diallo", "Amina", "amina diallo"},
		{"accents and extra spaces", "José  MARÍA", "", "jose maria"},
		{"accents, swapped order", "maria", "jose", "jose maria"},
		{"leading and trailing space", "  Amina ", "\tDiallo\n", "amina diallo"},
		{"hyphenated family name", "Amina", "Diallo-Traoré", "amina diallo traore"},
		{"apostrophe", "Mamadou", "N'Diaye", "diaye mamadou n"},
		{"typographic apostrophe", "Mamadou", "N’Diaye", "diaye mamadou n"},
		{"decomposed input equals composed", "Jose\u0301", "", "jose"},
		{"cedilla and ligature", "François", "ﬁlali", "filali francois"},
		{"sharp s folds to ss", "Weiß", "", "weiss"},
		{"greek final sigma", "ΟΔΥΣΣΕΑΣ", "", "οδυσσεασ"},
		{"greek with accent", "Οδυσσέας", "", "οδυσσεασ"},
		{"turkish dotted capital I", "İbrahim", "", "ibrahim"},
		{"arabic", "محمد", "الامين", "الامين محمد"},
		{"arabic harakat removed", "مُحَمَّد", "", "محمد"},
		{"arabic hamza on alef removed", "أحمد", "", "احمد"},
		{"arabic tatweel removed", "محـــمد", "", "محمد"},
		{"arabic presentation forms", "\ufee1\ufea3\ufee4\ufeaa", "", "محمد"},
		{"ethiopic", "ኪዳነ", "ተስፋይ", "ተስፋይ ኪዳነ"},
		{"devanagari vowel signs stay in the word", "राम", "", "राम"},
		{"digits kept", "Louis", "XIV 2", "2 louis xiv"},
		{"given name of punctuation only", "-- .", "", ""},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := normaliseName(tt.given, tt.family); got != tt.want {
				t.Errorf("normaliseName(%q, %q) = %q, want %q", tt.given, tt.family, got, tt.want)
			}
		})
	}
}

func TestNameDateOfBirthNationalityInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		person *commonv1.Person
		want   string
		wantOK bool
	}{
		{
			name:   "full date",
			person: &commonv1.Person{GivenName: "Amina", FamilyName: "Diallo", DateOfBirth: &date.Date{Year: 1990, Month: 7, Day: 4}, Nationality: "GIN"},
			want:   "ndn\x00amina diallo\x001990-07-04\x00GIN", wantOK: true,
		},
		{
			name:   "year and month",
			person: &commonv1.Person{GivenName: "Amina", DateOfBirth: &date.Date{Year: 1990, Month: 7}, Nationality: "GIN"},
			want:   "ndn\x00amina\x001990-07-00\x00GIN", wantOK: true,
		},
		{
			name:   "year only",
			person: &commonv1.Person{GivenName: "Amina", DateOfBirth: &date.Date{Year: 990}, Nationality: "GIN"},
			want:   "ndn\x00amina\x000990-00-00\x00GIN", wantOK: true,
		},
		{name: "no date of birth", person: &commonv1.Person{GivenName: "Amina", Nationality: "GIN"}},
		{name: "month without year", person: &commonv1.Person{GivenName: "Amina", DateOfBirth: &date.Date{Month: 7, Day: 4}, Nationality: "GIN"}},
		{name: "no nationality", person: &commonv1.Person{GivenName: "Amina", DateOfBirth: &date.Date{Year: 1990}}},
		{name: "given name normalises to nothing", person: &commonv1.Person{GivenName: " - ", FamilyName: "Diallo", DateOfBirth: &date.Date{Year: 1990}, Nationality: "GIN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := nameDateOfBirthNationalityInput(tt.person)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("nameDateOfBirthNationalityInput = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBlindIndexesKinds(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	passport := &commonv1.IdentityDocument{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "P1234567", IssuingCountry: "ERI"}
	tests := []struct {
		name   string
		person *commonv1.Person
		want   []Kind
	}{
		{"nil person", nil, nil},
		{"every field", testPerson(), []Kind{KindDocument, KindDocument, KindNameDateOfBirthNationality}},
		{"name only", &commonv1.Person{GivenName: "Kidane"}, []Kind{}},
		{"same document twice, once as another type", &commonv1.Person{Documents: []*commonv1.IdentityDocument{
			passport,
			{Type: commonv1.DocumentType_DOCUMENT_TYPE_OTHER, Number: "p 123-4567", IssuingCountry: "ERI"},
		}}, []Kind{KindDocument}},
		{"same number, two issuing states", &commonv1.Person{Documents: []*commonv1.IdentityDocument{
			passport,
			{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "P1234567", IssuingCountry: "ETH"},
		}}, []Kind{KindDocument, KindDocument}},
		{"document number without letters or digits", &commonv1.Person{Documents: []*commonv1.IdentityDocument{
			{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "--", IssuingCountry: "ERI"},
		}}, []Kind{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []Kind
			indexes := k.BlindIndexes(tt.person)
			if indexes != nil {
				got = []Kind{}
			}
			for _, bi := range indexes {
				got = append(got, bi.Kind)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("kinds (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBlindIndexesMatch registers pairs of records and checks whether they would be found as
// the same person, by document and by name + date of birth + nationality.
func TestBlindIndexesMatch(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	dob := func(y, m, d int32) *date.Date { return &date.Date{Year: y, Month: m, Day: d} }
	doc := func(number, country string) []*commonv1.IdentityDocument {
		return []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: number, IssuingCountry: country}}
	}
	base := &commonv1.Person{GivenName: "José María", FamilyName: "Núñez", DateOfBirth: dob(1985, 2, 1), Nationality: "VEN", Documents: doc("ab-123 456", "VEN")}
	with := func(edit func(p *commonv1.Person)) *commonv1.Person {
		p := &commonv1.Person{
			GivenName: base.GivenName, FamilyName: base.FamilyName, DateOfBirth: dob(1985, 2, 1),
			Nationality: base.Nationality, Documents: doc("ab-123 456", "VEN"),
		}
		edit(p)
		return p
	}
	type match struct{ Document, NameDOBNationality bool }
	tests := []struct {
		name  string
		other *commonv1.Person
		want  match
	}{
		{"identical", with(func(*commonv1.Person) {}), match{true, true}},
		{"spelling accidents", with(func(p *commonv1.Person) {
			p.GivenName, p.FamilyName = "  jose   MARIA ", "NUNEZ"
			p.Documents = doc("AB123456", "VEN")
		}), match{true, true}},
		{"given and family names swapped", with(func(p *commonv1.Person) {
			p.GivenName, p.FamilyName = "Núñez", "José María"
		}), match{true, true}},
		{"document recorded as another type", with(func(p *commonv1.Person) {
			p.Documents[0].Type = commonv1.DocumentType_DOCUMENT_TYPE_EMERGENCY_TRAVEL_DOCUMENT
		}), match{true, true}},
		{"another document number", with(func(p *commonv1.Person) {
			p.Documents = doc("AB123457", "VEN")
		}), match{false, true}},
		{"same number, another issuing state", with(func(p *commonv1.Person) {
			p.Documents = doc("AB123456", "COL")
		}), match{false, true}},
		{"another day of birth", with(func(p *commonv1.Person) { p.DateOfBirth = dob(1985, 2, 2) }), match{true, false}},
		{"day of birth unknown", with(func(p *commonv1.Person) { p.DateOfBirth = dob(1985, 2, 0) }), match{true, false}},
		{"another nationality", with(func(p *commonv1.Person) { p.Nationality = "COL" }), match{true, false}},
		{"another name", with(func(p *commonv1.Person) { p.GivenName = "José Luis" }), match{true, false}},
		{"a name fewer", with(func(p *commonv1.Person) { p.GivenName = "José" }), match{true, false}},
		{"no documents", with(func(p *commonv1.Person) { p.Documents = nil }), match{false, true}},
	}
	baseIndexes := k.BlindIndexes(base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			otherIndexes := k.BlindIndexes(tt.other)
			got := match{
				Document:           shareIndex(baseIndexes, otherIndexes, KindDocument),
				NameDOBNationality: shareIndex(baseIndexes, otherIndexes, KindNameDateOfBirthNationality),
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("match (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBlindIndexesDependOnTheKey(t *testing.T) {
	t.Parallel()
	p := testPerson()
	k := newTestKeyring(t)
	a, b := k.BlindIndexes(p), k.BlindIndexes(p)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same key, same person, different indexes (-first +second):\n%s", diff)
	}
	for _, kind := range []Kind{KindDocument, KindNameDateOfBirthNationality} {
		if shareIndex(a, newTestKeyring(t).BlindIndexes(p), kind) {
			t.Errorf("%v index is equal under two different keys", kind)
		}
	}
}

// TestBlindIndexesGolden pins the digests under the fixed test key: they are stored in the
// database, so any change to normalisation or input layout must show up here. The expected
// values were checked outside Tink with plain HMAC-SHA256 over the inputs shown.
func TestBlindIndexesGolden(t *testing.T) {
	t.Parallel()
	k := fixtureKeyring(t)
	var got []string
	for _, bi := range k.BlindIndexes(testPerson()) {
		got = append(got, bi.Kind.String()+" "+hex.EncodeToString(bi.Digest))
	}
	want := []string{
		// 0x01, the key id, then HMAC-SHA256 of "doc\x00NER\x0008PC41927"
		"document 0150d2361fcee06654eff67fa6264c8822827d358d0268eae9e8a698f36f115fa69472006c",
		// ... of "doc\x00NER\x00NE55302291"
		"document 0150d2361f61b4a5b25005dea9ac03726ec66eff34038d22a9d646aba7e1aeff4aa378be0b",
		// ... of "ndn\x00abdoulkarim aicha fatouma zakari\x001994-03-17\x00NER"
		"name_dob_nationality 0150d2361f5b9440262055fd359bb0e3a766473f95747a29e5be36239ad29be80b08add904",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("digests (-want +got):\n%s", diff)
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	data := []byte("request body")
	same := k.Fingerprint("intake.register", data)
	if !bytes.Equal(same, k.Fingerprint("intake.register", data)) {
		t.Error("Fingerprint is not deterministic")
	}
	distinct := map[string][]byte{
		"base":                        same,
		"another domain":              k.Fingerprint("intake.update", data),
		"another data":                k.Fingerprint("intake.register", []byte("request body.")),
		"boundary moved into domain":  k.Fingerprint("intake.registerrequest", []byte(" body")),
		"empty data":                  k.Fingerprint("intake.register", nil),
		"another key":                 newTestKeyring(t).Fingerprint("intake.register", data),
		"blind index of the same key": k.mac("doc\x00intake.register\x00request body"),
	}
	seen := map[string]string{}
	for name, fp := range distinct {
		if prev, ok := seen[string(fp)]; ok {
			t.Errorf("%q and %q have the same fingerprint", prev, name)
		}
		seen[string(fp)] = name
	}

	defer func() {
		if recover() == nil {
			t.Error("Fingerprint accepted a domain containing NUL")
		}
	}()
	k.Fingerprint("a\x00b", data)
}

// shareIndex reports whether a and b have an equal digest of the given kind.
func shareIndex(a, b []BlindIndex, kind Kind) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Kind == kind && y.Kind == kind && bytes.Equal(x.Digest, y.Digest) {
				return true
			}
		}
	}
	return false
}
