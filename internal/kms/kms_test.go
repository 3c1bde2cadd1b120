package kms

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tink-crypto/tink-go/v2/core/registry"

	"github.com/passage-cm/passage/internal/kms/hcvaultlogin"
	"github.com/passage-cm/passage/internal/kms/kmstest"
)

func TestAEADFromARegisteredClient(t *testing.T) {
	uri := kmstest.KeyURI(t)
	a, err := AEAD(uri, hcvaultlogin.Settings{})
	if err != nil {
		t.Fatalf("AEAD: %v", err)
	}
	ct, err := a.Encrypt([]byte("keyset"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := a.Decrypt(ct, []byte("ad")); err != nil || !bytes.Equal(pt, []byte("keyset")) {
		t.Fatalf("round trip: %q, %v", pt, err)
	}
}

// TestAEADErrorsDoNotEchoTheURI: a key URI can carry credentials or, for the fake KMS, the
// key itself; errors name the scheme only.
func TestAEADErrorsDoNotEchoTheURI(t *testing.T) {
	for _, uri := range []string{"", "nokms://secret-key-material", "secret-without-scheme"} {
		_, err := AEAD(uri, hcvaultlogin.Settings{})
		if err == nil {
			t.Errorf("AEAD(%q) succeeded", uri)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("AEAD(%q) error echoes the URI: %v", uri, err)
		}
	}
}

// TestHCVaultIsBuiltIn: hcvault:// URIs find their client without registration (the key
// manager is not reached until a key is used).
func TestHCVaultIsBuiltIn(t *testing.T) {
	t.Setenv("VAULT_ADDR", "https://127.0.0.1:1")
	t.Setenv("VAULT_TOKEN", "test")
	if _, err := AEAD("hcvault://127.0.0.1:1/transit/keys/passage", hcvaultlogin.Settings{}); err != nil {
		t.Fatalf("hcvault: %v", err)
	}
}

// TestHCVaultKubernetesLogin: with PASSAGE_VAULT_AUTH=kubernetes the hcvault client logs in
// to VAULT_ADDR with the service account token, not VAULT_TOKEN, and Tink's transit AEAD
// uses the token the login got.
func TestHCVaultKubernetesLogin(t *testing.T) {
	t.Setenv("VAULT_TOKEN", "static-env-token")
	v, client, err := kubernetesLogin(t, "service-account-jwt", "service-account-jwt")
	if err != nil {
		t.Fatalf("newHCVaultClient: %v", err)
	}
	a, err := client.GetAEAD("hcvault://vault.vault.svc:8200/transit/keys/passage")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := a.Encrypt([]byte("keyset"), []byte("ad"))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if pt, err := a.Decrypt(ct, []byte("ad")); err != nil || !bytes.Equal(pt, []byte("keyset")) {
		t.Fatalf("round trip: %q, %v", pt, err)
	}
	calls := v.Calls()
	if len(calls) != 3 || calls[0].Kind != "login" || calls[0].Role != "passage-intake" || calls[0].JWT != "service-account-jwt" {
		t.Fatalf("calls %+v: want a login as passage-intake with the service account token, then transit", calls)
	}
	for _, c := range calls[1:] {
		if c.Token != calls[0].Token || c.Status != 200 {
			t.Errorf("%s with token %q (status %d), want the login's %q", c.Kind, c.Token, c.Status, calls[0].Token)
		}
	}
}

// TestHCVaultUnixSocket: a VAULT_ADDR of unix:// (a Vault Agent or Proxy on a socket) is
// dialled as Vault's client does it; the login and Tink's transit calls go through it.
func TestHCVaultUnixSocket(t *testing.T) {
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "kubernetes", Role: "passage-intake", JWT: "service-account-jwt",
		TTL: time.Hour, MaxTTL: time.Hour, Key: "passage"})
	target, err := url.Parse(v.URL)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "vault.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target)}
	go func() { _ = proxy.Serve(lis) }()
	t.Cleanup(func() { _ = proxy.Close() })
	t.Setenv("VAULT_ADDR", "unix://"+sock)
	jwt := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(jwt, []byte("service-account-jwt"), 0o600); err != nil {
		t.Fatal(err)
	}
	client, _, err := newHCVaultClient(t.Context(), hcvaultlogin.Settings{Method: hcvaultlogin.Kubernetes,
		Role: "passage-intake", ServiceAccountTokenFile: jwt})
	if err != nil {
		t.Fatalf("newHCVaultClient: %v", err)
	}
	a, err := client.GetAEAD("hcvault://vault.vault.svc:8200/transit/keys/passage")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Encrypt([]byte("keyset"), []byte("ad")); err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if calls := v.Calls(); len(calls) != 2 || calls[0].Kind != "login" || calls[1].Kind != "encrypt" || calls[1].Status != 200 {
		t.Errorf("calls %+v: want a login, then an encryption, through the socket", calls)
	}
}

// TestHCVaultLoginFailure: a login refused at start is an error naming the settings, not the
// service account token.
func TestHCVaultLoginFailure(t *testing.T) {
	_, _, err := kubernetesLogin(t, "another-jwt", "stale-service-account-jwt")
	if err == nil || !strings.Contains(err.Error(), "PASSAGE_VAULT_AUTH=kubernetes") ||
		!strings.Contains(err.Error(), "PASSAGE_VAULT_ROLE=passage-intake") || strings.Contains(err.Error(), "stale-service-account-jwt") {
		t.Errorf("a refused login: %v", err)
	}
}

// kubernetesLogin makes the hcvault client of a Vault (VAULT_ADDR) whose Kubernetes login
// accepts the service account token accepted for role passage-intake, logged in with the
// token presented.
func kubernetesLogin(t *testing.T, accepted, presented string) (*kmstest.Vault, registry.KMSClient, error) {
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "kubernetes", Role: "passage-intake", JWT: accepted,
		TTL: time.Hour, MaxTTL: time.Hour, Key: "passage"})
	t.Setenv("VAULT_ADDR", v.URL)
	jwt := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(jwt, []byte(presented), 0o600); err != nil {
		t.Fatal(err)
	}
	client, _, err := newHCVaultClient(t.Context(), hcvaultlogin.Settings{Method: hcvaultlogin.Kubernetes,
		Role: "passage-intake", ServiceAccountTokenFile: jwt})
	return v, client, err
}
