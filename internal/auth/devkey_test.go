package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadOrCreateDevKey(t *testing.T) {
	t.Parallel()

	dir := filepath.Join(t.TempDir(), "state", "keys")
	first, err := LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("first LoadOrCreateDevKey: %v", err)
	}
	second, err := LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatalf("second LoadOrCreateDevKey: %v", err)
	}
	if !first.Equal(second) {
		t.Error("second call returned a different key; want the stored one reused")
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"dev-signing-key.pem"}, names); diff != "" {
		t.Errorf("directory contents mismatch, temporary files left behind? (-want +got):\n%s", diff)
	}

	if runtime.GOOS != "windows" {
		wantModes := map[string]fs.FileMode{dir: fs.ModeDir | 0o700, filepath.Join(dir, devKeyFile): 0o600}
		gotModes := make(map[string]fs.FileMode)
		for path := range wantModes {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			gotModes[path] = fi.Mode()
		}
		if diff := cmp.Diff(wantModes, gotModes); diff != "" {
			t.Errorf("file modes mismatch (-want +got):\n%s", diff)
		}
	}
}

// Processes starting together (server and CLI) must agree on one key.
func TestLoadOrCreateDevKeyConcurrent(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	const n = 8
	keys := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key, err := LoadOrCreateDevKey(dir)
			if err != nil {
				t.Errorf("LoadOrCreateDevKey: %v", err)
				return
			}
			keys[i] = key
		})
	}
	wg.Wait()
	stored, err := readDevKey(filepath.Join(dir, devKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if diff := cmp.Diff([]byte(stored), k); diff != "" {
			t.Errorf("caller %d got a key other than the stored one (-want +got):\n%s", i, diff)
		}
	}
}

func TestLoadOrCreateDevKeyRejectsBadFile(t *testing.T) {
	t.Parallel()

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		contents []byte
	}{
		{"not PEM", []byte("hello")},
		{"wrong PEM type", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})},
		{"corrupt PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})},
		{"ECDSA, not Ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, devKeyFile)
			if err := os.WriteFile(path, tt.contents, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadOrCreateDevKey(dir); err == nil {
				t.Error("LoadOrCreateDevKey() error = nil, want an error")
			}
			// A bad key file is reported, never silently replaced.
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.contents, got); diff != "" {
				t.Errorf("key file changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMintTokenRoundTrip(t *testing.T) {
	t.Parallel()

	key, err := LoadOrCreateDevKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := Claims{Subject: "staff-42", Role: RoleProgrammeManager, Mission: MissionHQ}
	before := time.Now().Truncate(time.Second)
	token, err := MintToken(key, DevIssuer, Audience, in, time.Hour)
	if err != nil {
		t.Fatalf("MintToken: %v", err)
	}

	got, err := NewKeyVerifier(key.Public(), DevIssuer, Audience).Verify(t.Context(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.ExpiresAt.Before(before.Add(time.Hour)) {
		t.Errorf("ExpiresAt = %v, want at least %v", got.ExpiresAt, before.Add(time.Hour))
	}
	got.ExpiresAt = time.Time{}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("claims mismatch (-want +got):\n%s", diff)
	}
}

func TestMintTokenRefusesBadInput(t *testing.T) {
	t.Parallel()

	key := newKey(t)
	good := Claims{Subject: "staff-42", Role: RoleCaseworker, Mission: "NER"}

	tests := []struct {
		name             string
		issuer, audience string
		claims           Claims
		ttl              time.Duration
	}{
		{"zero ttl", DevIssuer, Audience, good, 0},
		{"negative ttl", DevIssuer, Audience, good, -time.Minute},
		{"empty issuer", "", Audience, good, time.Hour},
		{"empty audience", DevIssuer, "", good, time.Hour},
		{"no subject", DevIssuer, Audience, Claims{Role: RoleCaseworker, Mission: "NER"}, time.Hour},
		{"unknown role", DevIssuer, Audience, Claims{Subject: "s", Role: "root", Mission: "NER"}, time.Hour},
		{"bad mission", DevIssuer, Audience, Claims{Subject: "s", Role: RoleCaseworker, Mission: "Niger"}, time.Hour},
		{"HQ for caseworker", DevIssuer, Audience, Claims{Subject: "s", Role: RoleCaseworker, Mission: MissionHQ}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			token, err := MintToken(key, tt.issuer, tt.audience, tt.claims, tt.ttl)
			if err == nil {
				t.Errorf("MintToken() = %q, want an error", token)
			}
		})
	}
}
