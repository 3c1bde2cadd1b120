package vault

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"google.golang.org/protobuf/testing/protocmp"
)

func TestLoadOrCreateDevKeyringPersists(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "keys") // absent: LoadOrCreateDevKeyring creates it
	first, err := LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatalf("first load: %v", err)
	}
	subject, p := uuid.New(), testPerson()
	sealed, err := first.Seal(subject, p)
	if err != nil {
		t.Fatal(err)
	}
	contents := readFiles(t, dir)

	second, err := LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatalf("second load: %v", err)
	}
	got, err := second.Open(subject, sealed)
	if err != nil {
		t.Fatalf("second keyring cannot open what the first sealed: %v", err)
	}
	if diff := cmp.Diff(p, got, protocmp.Transform()); diff != "" {
		t.Errorf("Open mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(first.BlindIndexes(p), second.BlindIndexes(p)); diff != "" {
		t.Errorf("blind indexes changed across loads (-want +got):\n%s", diff)
	}
	// The second load reads; it neither rewrites the keys nor leaves temporary files.
	if diff := cmp.Diff(contents, readFiles(t, dir)); diff != "" {
		t.Errorf("key directory changed on second load (-want +got):\n%s", diff)
	}

	modes := map[string]fs.FileMode{}
	for _, name := range []string{".", DevKEKFile, DevBlindIndexFile} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		modes[name] = info.Mode().Perm()
	}
	want := map[string]fs.FileMode{".": 0o700, DevKEKFile: 0o600, DevBlindIndexFile: 0o600}
	if diff := cmp.Diff(want, modes); diff != "" {
		t.Errorf("permissions (-want +got):\n%s", diff)
	}
}

func TestLoadOrCreateDevKeyringCreatesOnlyWhatIsMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := LoadOrCreateDevKeyring(dir); err != nil {
		t.Fatal(err)
	}
	kek, err := os.ReadFile(filepath.Join(dir, DevKEKFile))
	if err != nil {
		t.Fatal(err)
	}
	bi := filepath.Join(dir, DevBlindIndexFile)
	if err := os.Remove(bi); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateDevKeyring(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bi); err != nil {
		t.Errorf("missing blind-index keyset was not regenerated: %v", err)
	}
	if diff := cmp.Diff(string(kek), string(readFiles(t, dir)[DevKEKFile])); diff != "" {
		t.Errorf("existing key-encryption keyset was rewritten (-want +got):\n%s", diff)
	}
}

func TestLoadKeyring(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev, err := LoadOrCreateDevKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	kekPath, biPath := filepath.Join(dir, DevKEKFile), filepath.Join(dir, DevBlindIndexFile)

	t.Run("existing keysets", func(t *testing.T) {
		t.Parallel()
		k, err := LoadKeyring(kekPath, biPath)
		if err != nil {
			t.Fatal(err)
		}
		subject, p := uuid.New(), testPerson()
		sealed, err := dev.Seal(subject, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Open(subject, sealed); err != nil {
			t.Errorf("LoadKeyring cannot open what the dev keyring sealed: %v", err)
		}
	})

	missing := filepath.Join(t.TempDir(), "absent.json")
	tests := []struct {
		name           string
		kek, bi        string
		wantNotExist   bool
		wantErrContain string
	}{
		{name: "missing key-encryption keyset", kek: missing, bi: biPath, wantNotExist: true, wantErrContain: "key-encryption"},
		{name: "missing blind-index keyset", kek: kekPath, bi: missing, wantNotExist: true, wantErrContain: "blind-index"},
		{name: "swapped", kek: biPath, bi: kekPath, wantErrContain: "not a usable AEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadKeyring(tt.kek, tt.bi)
			if err == nil {
				t.Fatal("LoadKeyring succeeded")
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.wantNotExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v (err: %v)", got, tt.wantNotExist, err)
			}
			if !strings.Contains(err.Error(), tt.wantErrContain) {
				t.Errorf("error %q does not mention %q", err, tt.wantErrContain)
			}
			if _, statErr := os.Stat(missing); !errors.Is(statErr, fs.ErrNotExist) {
				t.Errorf("LoadKeyring created %s", missing)
			}
		})
	}
}

// TestLoadKeyringErrorsHoldNoKeyMaterial feeds damaged and mismatched keysets whose key
// value is a recognisable marker, and checks that no error repeats it.
func TestLoadKeyringErrorsHoldNoKeyMaterial(t *testing.T) {
	t.Parallel()
	const marker = "GiCLYkPGz1xAZ7Qf4vI6rSnhunGsYpPypbe0wtshcSntrg=="
	const aesGCM = `{"primaryKeyId":1,"key":[{"keyData":{"typeUrl":"type.googleapis.com/google.crypto.tink.AesGcmKey","value":"` + marker + `","keyMaterialType":"SYMMETRIC"},"status":"ENABLED","keyId":1,"outputPrefixType":"TINK"}]}`
	tests := []struct {
		name    string
		content string
		asKEK   bool
	}{
		{"truncated JSON", aesGCM[:len(aesGCM)-20], true},
		{"key value that is not base64", strings.Replace(aesGCM, marker, marker+"!"+marker, 1), true},
		{"unknown key type", strings.Replace(aesGCM, "AesGcmKey", "NoSuchKey", 1), true},
		{"primary key id absent", strings.Replace(aesGCM, `"primaryKeyId":1`, `"primaryKeyId":7`, 1), true},
		{"AEAD keyset where a MAC keyset belongs", aesGCM, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(bad, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			kek, bi := bad, "testdata/blind-index.json"
			if !tt.asKEK {
				kek, bi = "testdata/kek.json", bad
			}
			_, err := LoadKeyring(kek, bi)
			if err == nil {
				t.Fatal("LoadKeyring accepted a bad keyset")
			}
			if strings.Contains(err.Error(), marker[:16]) {
				t.Errorf("error repeats key material: %v", err)
			}
		})
	}
}

func TestNewKeyringRejectsWrongKeysets(t *testing.T) {
	t.Parallel()
	aeadHandle, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	macHandle, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		kek, bi *keyset.Handle
	}{
		{"nil key-encryption keyset", nil, macHandle},
		{"nil blind-index keyset", aeadHandle, nil},
		{"MAC keyset as key-encryption key", macHandle, macHandle},
		{"AEAD keyset as blind-index key", aeadHandle, aeadHandle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if k, err := NewKeyring(tt.kek, tt.bi); err == nil || k != nil {
				t.Errorf("NewKeyring = %v, %v; want nil and an error", k, err)
			}
		})
	}
}

// readFiles returns the content of every file in dir, by name.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}
