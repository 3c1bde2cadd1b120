package vault

import (
	"testing"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"google.golang.org/genproto/googleapis/type/date"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// newTestKeyring returns a keyring with freshly generated keys, different on every call.
func newTestKeyring(tb testing.TB) *Keyring {
	tb.Helper()
	kek, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		tb.Fatal(err)
	}
	bi, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		tb.Fatal(err)
	}
	k, err := NewKeyring(kek, bi)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// fixtureKeyring loads the fixed, test-only keysets in testdata, for results that must not
// change between runs (golden digests).
func fixtureKeyring(tb testing.TB) *Keyring {
	tb.Helper()
	k, err := LoadKeyring("testdata/kek.json", "testdata/blind-index.json")
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// testPerson is a fictitious person with every field set.
func testPerson() *commonv1.Person {
	return &commonv1.Person{
		GivenName:   "Aïcha Fatouma",
		FamilyName:  "Abdoulkarim-Zakari",
		DateOfBirth: &date.Date{Year: 1994, Month: 3, Day: 17},
		Sex:         commonv1.Sex_SEX_FEMALE,
		Nationality: "NER",
		Documents: []*commonv1.IdentityDocument{
			{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "08PC 41927", IssuingCountry: "NER"},
			{Type: commonv1.DocumentType_DOCUMENT_TYPE_NATIONAL_ID, Number: "NE-5530-2291", IssuingCountry: "NER"},
		},
		Phone:   "+227 90 12 34 56",
		Address: "Quartier Lazaret, Niamey",
	}
}

func BenchmarkSeal(b *testing.B) {
	k := newTestKeyring(b)
	subject, p := uuid.New(), testPerson()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(subject, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := newTestKeyring(b)
	subject := uuid.New()
	sealed, err := k.Seal(subject, testPerson())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(subject, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlindIndexes(b *testing.B) {
	k := newTestKeyring(b)
	p := testPerson()
	b.ReportAllocs()
	for b.Loop() {
		if got := k.BlindIndexes(p); len(got) != 3 {
			b.Fatalf("got %d indexes, want 3", len(got))
		}
	}
}
