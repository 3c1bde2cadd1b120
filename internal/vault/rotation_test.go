package vault

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/testing/fakekms"
)

// TestRotateRewrapRetire walks one data key through a KEK's life: wrapped by the first key,
// re-wrapped by the second after a rotation (its ciphertext untouched), and unreadable in its
// old wrapping once the first key is retired, while the re-wrapped one still opens.
func TestRotateRewrapRetire(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t)
	h := kekHandle(t, k)
	first := k.KEKPrimary()
	subject, p := uuid.New(), testPerson()
	sealed, err := k.Seal(subject, p)
	if err != nil {
		t.Fatal(err)
	}
	if sealed.KEKKeyID != first {
		t.Fatalf("Seal recorded key %d, the primary is %d", sealed.KEKKeyID, first)
	}
	if id, err := WrappingKeyID(sealed.WrappedKey); err != nil || id != first {
		t.Fatalf("WrappingKeyID = %d, %v; want %d", id, err, first)
	}

	rotated, second, err := RotateKEK(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetKEK(rotated); err != nil {
		t.Fatal(err)
	}
	if k.KEKPrimary() != second || second == first || !slices.Equal(k.KEKKeyIDs(), sortedIDs(first, second)) {
		t.Fatalf("after rotation: primary %d, ids %v", k.KEKPrimary(), k.KEKKeyIDs())
	}
	if _, err := k.Open(subject, sealed); err != nil {
		t.Fatalf("the old wrapping no longer opens before retirement: %v", err)
	}
	fresh, err := k.Seal(uuid.New(), p)
	if err != nil || fresh.KEKKeyID != second {
		t.Fatalf("a new seal used key %d (%v), want %d", fresh.KEKKeyID, err, second)
	}

	rewrapped, id, err := k.Rewrap(subject, sealed.WrappedKey)
	if err != nil || id != second {
		t.Fatalf("Rewrap = key %d, %v; want %d", id, err, second)
	}
	moved := Sealed{WrappedKey: rewrapped, Ciphertext: sealed.Ciphertext}
	if _, err := k.Open(subject, moved); err != nil {
		t.Fatalf("the re-wrapped key does not open the unchanged ciphertext: %v", err)
	}
	if _, _, err := k.Rewrap(uuid.New(), sealed.WrappedKey); !errors.Is(err, ErrUndecryptable) {
		t.Errorf("Rewrap under another subject: %v, want ErrUndecryptable", err)
	}

	if _, err := RetireKEK(rotated, second); !errors.Is(err, ErrRetirePrimary) {
		t.Errorf("retiring the primary: %v", err)
	}
	if _, err := RetireKEK(rotated, first^second^12345); !errors.Is(err, ErrUnknownKEKKey) {
		t.Errorf("retiring an unknown key: %v", err)
	}
	retired, err := RetireKEK(rotated, first)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetKEK(retired); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(subject, sealed); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("the old wrapping (as in a backup) still opens after retirement: %v", err)
	}
	if _, err := k.Open(subject, moved); err != nil {
		t.Fatalf("the re-wrapped key no longer opens after retirement: %v", err)
	}
}

func TestWrappingKeyIDRejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, b := range [][]byte{nil, []byte("not a keyset"), {0x0a, 0x02, 0x00, 0x01}} {
		if _, err := WrappingKeyID(b); err == nil {
			t.Errorf("WrappingKeyID(%x) accepted", b)
		}
	}
}

// TestKeysetFileKMS writes and reads keysets encrypted under a key manager key, through a
// fake KMS registered under its test URI scheme: the file holds no key material in clear,
// cannot be read without the KMS key, and cannot be passed off as the other keyset.
func TestKeysetFileKMS(t *testing.T) {
	t.Parallel()
	uri, err := fakekms.NewKeyURI()
	if err != nil {
		t.Fatal(err)
	}
	kmsKey, err := fakekms.NewAEAD(uri)
	if err != nil {
		t.Fatal(err)
	}
	otherURI, _ := fakekms.NewKeyURI()
	otherKMS, _ := fakekms.NewAEAD(otherURI)

	dir := t.TempDir()
	files := KeyringFiles{
		KEK:        KeysetFile{Path: filepath.Join(dir, "kek.enc.json"), KMS: kmsKey, Purpose: "kek"},
		BlindIndex: KeysetFile{Path: filepath.Join(dir, "bi.enc.json"), KMS: kmsKey, Purpose: "blind-index"},
	}
	kek, err := NewKEKKeyset()
	if err != nil {
		t.Fatal(err)
	}
	bi, err := NewBlindIndexKeyset()
	if err != nil {
		t.Fatal(err)
	}
	if err := files.KEK.Write(kek); err != nil {
		t.Fatal(err)
	}
	if err := files.BlindIndex.Write(bi); err != nil {
		t.Fatal(err)
	}
	k, err := files.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	subject := uuid.New()
	sealed, err := k.Seal(subject, testPerson())
	if err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(files.KEK.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("encryptedKeyset")) || bytes.Contains(raw, []byte("keyData")) {
		t.Errorf("the KMS-encrypted keyset file is not encrypted:\n%s", raw)
	}
	if fi, _ := os.Stat(files.KEK.Path); fi.Mode().Perm() != 0o600 {
		t.Errorf("keyset file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := (KeysetFile{Path: files.KEK.Path, KMS: otherKMS, Purpose: "kek"}).Read(); err == nil {
		t.Error("the keyset was read with another KMS key")
	}
	if _, err := (KeysetFile{Path: files.KEK.Path, KMS: kmsKey, Purpose: "blind-index"}).Read(); err == nil {
		t.Error("the KEK keyset was accepted as the blind-index keyset")
	}
	if _, err := (KeysetFile{Path: files.KEK.Path}).Read(); err == nil {
		t.Error("the encrypted keyset was read as cleartext")
	}

	// A rotation written to the file reaches a running keyring through ReloadKEK.
	rotated, newID, err := RotateKEK(kek)
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := files.ReloadKEK(k); err != nil || changed {
		t.Fatalf("reload of an unchanged file: %v, %v", changed, err)
	}
	if err := files.KEK.Write(rotated); err != nil {
		t.Fatal(err)
	}
	if changed, err := files.ReloadKEK(k); err != nil || !changed || k.KEKPrimary() != newID {
		t.Fatalf("reload after rotation: %v, %v, primary %d want %d", changed, err, k.KEKPrimary(), newID)
	}
	if _, err := k.Open(subject, sealed); err != nil {
		t.Fatalf("a seal from before the reload: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	if _, err := (KeysetFile{Path: filepath.Join(dir, "absent"), KMS: kmsKey}).Read(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// kekHandle gives k a fresh KEK keyset and returns its handle: the keyring never exposes
// its own.
func kekHandle(t *testing.T, k *Keyring) *keyset.Handle {
	t.Helper()
	h, err := NewKEKKeyset()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetKEK(h); err != nil {
		t.Fatal(err)
	}
	return h
}

func sortedIDs(ids ...uint32) []uint32 {
	slices.Sort(ids)
	return ids
}
