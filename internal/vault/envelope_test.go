package vault

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

func TestSealOpenRoundTrip(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	tests := []struct {
		name   string
		person *commonv1.Person
	}{
		{"every field", testPerson()},
		{"given name only", &commonv1.Person{GivenName: "Kidane"}},
		{"empty", &commonv1.Person{}},
		{"arabic script, year of birth only", &commonv1.Person{
			GivenName:   "مُحَمَّد",
			FamilyName:  "الأمين",
			DateOfBirth: &date.Date{Year: 1988},
			Nationality: "SDN",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			subject := uuid.New()
			sealed, err := k.Seal(subject, tt.person)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			got, err := k.Open(subject, sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if diff := cmp.Diff(tt.person, got, protocmp.Transform()); diff != "" {
				t.Errorf("Open(Seal(p)) mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSealUsesAFreshDataKeyEveryTime(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	subject, p := uuid.New(), testPerson()
	first, err := k.Seal(subject, p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := k.Seal(subject, p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first.WrappedKey, second.WrappedKey) {
		t.Error("two seals share a wrapped data key")
	}
	if bytes.Equal(first.Ciphertext, second.Ciphertext) {
		t.Error("two seals share a ciphertext")
	}
	// Each ciphertext belongs to its own data key only.
	if _, err := k.Open(subject, Sealed{WrappedKey: first.WrappedKey, Ciphertext: second.Ciphertext}); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("Open(first key, second ciphertext) error = %v, want ErrUndecryptable", err)
	}
}

func TestOpenRejectsWhatItCannotAuthenticate(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	subject, p := uuid.New(), testPerson()
	sealed, err := k.Seal(subject, p)
	if err != nil {
		t.Fatal(err)
	}
	other := uuid.New()
	otherSealed, err := k.Seal(other, p)
	if err != nil {
		t.Fatal(err)
	}
	flipLast := func(b []byte) []byte {
		b = slices.Clone(b)
		b[len(b)-1] ^= 0x01
		return b
	}

	tests := []struct {
		name    string
		keyring *Keyring
		subject uuid.UUID
		sealed  Sealed
	}{
		{"another subject id", k, other, sealed},
		{"another subject's wrapped key", k, subject, Sealed{WrappedKey: otherSealed.WrappedKey, Ciphertext: sealed.Ciphertext}},
		{"another subject's ciphertext", k, subject, Sealed{WrappedKey: sealed.WrappedKey, Ciphertext: otherSealed.Ciphertext}},
		{"tampered ciphertext", k, subject, Sealed{WrappedKey: sealed.WrappedKey, Ciphertext: flipLast(sealed.Ciphertext)}},
		{"truncated ciphertext", k, subject, Sealed{WrappedKey: sealed.WrappedKey, Ciphertext: sealed.Ciphertext[:len(sealed.Ciphertext)-1]}},
		{"tampered wrapped key", k, subject, Sealed{WrappedKey: flipLast(sealed.WrappedKey), Ciphertext: sealed.Ciphertext}},
		{"empty", k, subject, Sealed{}},
		{"another key-encryption key", newTestKeyring(t), subject, sealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.keyring.Open(tt.subject, tt.sealed)
			if !errors.Is(err, ErrUndecryptable) {
				t.Fatalf("Open error = %v, want ErrUndecryptable", err)
			}
			if got != nil {
				t.Errorf("Open returned a person along with an error")
			}
			if msg := err.Error(); strings.Contains(msg, p.GetFamilyName()) || strings.Contains(msg, subject.String()) {
				t.Errorf("error %q carries personal data or the subject id", msg)
			}
		})
	}
}

func TestReseal(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	subject := uuid.New()
	sealed, err := k.Seal(subject, testPerson())
	if err != nil {
		t.Fatal(err)
	}
	corrected := testPerson()
	corrected.FamilyName = "Abdoulkarim"
	corrected.DateOfBirth = &date.Date{Year: 1994, Month: 3, Day: 18}

	ciphertext, err := k.Reseal(subject, sealed.WrappedKey, corrected)
	if err != nil {
		t.Fatalf("Reseal: %v", err)
	}
	got, err := k.Open(subject, Sealed{WrappedKey: sealed.WrappedKey, Ciphertext: ciphertext})
	if err != nil {
		t.Fatalf("Open after Reseal: %v", err)
	}
	if diff := cmp.Diff(corrected, got, protocmp.Transform()); diff != "" {
		t.Errorf("Open(Reseal(corrected)) mismatch (-want +got):\n%s", diff)
	}

	if _, err := k.Reseal(uuid.New(), sealed.WrappedKey, corrected); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("Reseal with another subject id: error = %v, want ErrUndecryptable", err)
	}
}

func TestSealRefusesNilInputs(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	if _, err := k.Seal(uuid.Nil, testPerson()); err == nil {
		t.Error("Seal(uuid.Nil) succeeded")
	}
	if _, err := k.Seal(uuid.New(), nil); err == nil {
		t.Error("Seal(nil person) succeeded")
	}
	if _, err := k.Reseal(uuid.Nil, nil, testPerson()); err == nil {
		t.Error("Reseal(uuid.Nil) succeeded")
	}
	if _, err := k.Open(uuid.Nil, Sealed{}); err == nil {
		t.Error("Open(uuid.Nil) succeeded")
	}
}

func TestSealedBytesHoldNoPlaintext(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	p := testPerson()
	sealed, err := k.Seal(uuid.New(), p)
	if err != nil {
		t.Fatal(err)
	}
	plaintext, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		p.GetGivenName(), "Aïcha", "Fatouma", "Abdoulkarim", p.GetPhone(), "Lazaret",
		p.GetDocuments()[0].GetNumber(), "41927", "5530-2291", string(plaintext),
	}
	stored := map[string][]byte{"WrappedKey": sealed.WrappedKey, "Ciphertext": sealed.Ciphertext}
	for _, bi := range k.BlindIndexes(p) {
		stored["blind index "+bi.Kind.String()] = bi.Digest
	}
	for field, b := range stored {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains %q in clear", field, s)
			}
		}
	}
}

// TestKeyEncryptionKeyRotation shows that rotation needs no format change: the wrapped key
// names the KEK key that wrapped it, so a keyring whose KEK gained a new primary key still
// opens old seals, and new seals use the new key.
func TestKeyEncryptionKeyRotation(t *testing.T) {
	t.Parallel()
	kek, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	bi, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	before, err := NewKeyring(kek, bi)
	if err != nil {
		t.Fatal(err)
	}
	subject, p := uuid.New(), testPerson()
	old, err := before.Seal(subject, p)
	if err != nil {
		t.Fatal(err)
	}

	m := keyset.NewManagerFromHandle(kek)
	newID, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrimary(newID); err != nil {
		t.Fatal(err)
	}
	rotated, err := m.Handle()
	if err != nil {
		t.Fatal(err)
	}
	after, err := NewKeyring(rotated, bi)
	if err != nil {
		t.Fatal(err)
	}

	got, err := after.Open(subject, old)
	if err != nil {
		t.Fatalf("Open of a seal made before rotation: %v", err)
	}
	if diff := cmp.Diff(p, got, protocmp.Transform()); diff != "" {
		t.Errorf("Open after rotation mismatch (-want +got):\n%s", diff)
	}
	fresh, err := after.Seal(subject, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := before.Open(subject, fresh); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("pre-rotation keyring opened a seal wrapped by the new KEK key: error = %v", err)
	}
}

// TestIdentityCiphertextIsBoundToSubjectAndLabel checks the inner layer on its own: even with
// the data key in hand, the identity decrypts only with this subject's id and the identity
// label as associated data.
func TestIdentityCiphertextIsBoundToSubjectAndLabel(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	subject := uuid.New()
	sealed, err := k.Seal(subject, testPerson())
	if err != nil {
		t.Fatal(err)
	}
	dataKey, err := k.unwrap(subject, sealed.WrappedKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ad      []byte
		wantErr bool
	}{
		{"subject id and label", identityAssociatedData(subject), false},
		{"another subject id", identityAssociatedData(uuid.New()), true},
		{"subject id without label", subject[:], true},
		{"label without subject id", []byte(identityLabel), true},
		{"none", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := dataKey.Decrypt(sealed.Ciphertext, tt.ad)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("Decrypt error = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
