package hcvaultlogin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/tink-crypto/tink-go-hcvault/v2/integration/hcvault"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/passage-cm/passage/internal/envconfig"
	"github.com/passage-cm/passage/internal/kms/kmstest"
)

// newClient is a Vault client of v that does not retry (the api client's default retries
// a server error twice, a second apart).
func newClient(t *testing.T, v *kmstest.Vault) *vaultapi.Client {
	t.Helper()
	return newClientNoting(t, v, nil)
}

// newClientNoting is newClient whose HTTP calls go through refusals (when not nil), as
// internal/kms makes its client.
func newClientNoting(t *testing.T, v *kmstest.Vault, refusals func(http.RoundTripper) *Refusals) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = v.URL
	cfg.MaxRetries = 0
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if refusals != nil {
		cfg.HttpClient.Transport = refusals(cfg.HttpClient.Transport)
	}
	c.ClearToken()
	return c
}

// transitAEAD is Tink's hcvault AEAD of the key "passage" on c, as internal/kms makes it.
func transitAEAD(t *testing.T, c *vaultapi.Client) tink.AEAD {
	t.Helper()
	kc, err := hcvault.NewClientWithAEADOptions("hcvault://", c.Logical())
	if err != nil {
		t.Fatal(err)
	}
	a, err := kc.GetAEAD("hcvault://vault.test:8200/transit/keys/passage")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logs records what a Session logs, and lets a test wait for a message.
type logs struct {
	mu     sync.Mutex
	lines  []string // message and attributes, as text
	change chan struct{}
}

func newLogs() *logs { return &logs{change: make(chan struct{})} }

func (l *logs) logger() *slog.Logger { return slog.New(&logHandler{l: l}) }

// await waits for n records with msg; it fails the test if the test's context ends first.
func (l *logs) await(t *testing.T, msg string, n int) {
	t.Helper()
	for {
		l.mu.Lock()
		count := 0
		for _, line := range l.lines {
			if strings.HasPrefix(line, msg+" ") {
				count++
			}
		}
		change := l.change
		l.mu.Unlock()
		if count >= n {
			return
		}
		select {
		case <-change:
		case <-t.Context().Done():
			t.Fatalf("gave up waiting for %d log records %q; logged: %q", n, msg, l.all())
		}
	}
}

func (l *logs) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

type logHandler struct {
	l *logs
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *logHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logHandler) WithGroup(string) slog.Handler            { return h }
func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b bytes.Buffer
	if err := slog.NewTextHandler(&b, nil).Handle(context.Background(), r); err != nil {
		return err
	}
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	h.l.lines = append(h.l.lines, r.Message+" "+b.String())
	close(h.l.change)
	h.l.change = make(chan struct{})
	return nil
}

// keep runs sess.Keep until the test ends.
func keep(t *testing.T, sess *Session, l *logs) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess.Keep(ctx, l.logger())
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// lastToken is the token of the last successful login.
func lastToken(calls []kmstest.VaultCall) string {
	var token string
	for _, c := range calls {
		if c.Kind == "login" && c.Status == 200 {
			token = c.Token
		}
	}
	return token
}

// checkTransit checks that the AEAD decrypts ct, no longer under the token old but under one
// a later login got.
func checkTransit(t *testing.T, v *kmstest.Vault, a tink.AEAD, ct []byte, old string) {
	t.Helper()
	pt, err := a.Decrypt(ct, []byte("kek"))
	if err != nil || string(pt) != "keyset" {
		t.Fatalf("Decrypt after the new login: %q, %v", pt, err)
	}
	issued := map[string]bool{}
	var used string
	for _, c := range v.Calls() {
		if c.Kind == "login" && c.Status == 200 && c.Token != old {
			issued[c.Token] = true
		}
		if c.Kind == "decrypt" && c.Status == 200 {
			used = c.Token
		}
	}
	if !issued[used] {
		t.Errorf("transit decrypt with token %q, want one of the later logins' %v", used, issued)
	}
}

// TestKubernetesLoginKeepsTheTokenAlive: a Kubernetes login presents the role and the
// service account token from its file; the token is renewed until it reaches its maximum
// lifetime, then the process logs in again with the token file as Kubernetes has rotated it,
// and Tink's transit AEAD goes on with the new token.
func TestKubernetesLoginKeepsTheTokenAlive(t *testing.T) {
	t.Parallel()
	jwtFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, jwtFile, "jwt-first\n")
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "kubernetes", Role: "passage-intake", JWT: "jwt-first",
		TTL: 2 * time.Second, MaxTTL: 3 * time.Second, Key: "passage"})
	c := newClient(t, v)
	sess, err := Login(t.Context(), c, Settings{Method: Kubernetes, Role: "passage-intake", ServiceAccountTokenFile: jwtFile})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	calls := v.Calls()
	if len(calls) != 1 || calls[0].Role != "passage-intake" || calls[0].JWT != "jwt-first" || calls[0].Status != 200 {
		t.Fatalf("login calls %+v, want one with role passage-intake and the file's token", calls)
	}
	first := calls[0].Token
	if c.Token() != first {
		t.Fatalf("client token %q, want the login's %q", c.Token(), first)
	}
	a := transitAEAD(t, c)
	ct, err := a.Encrypt([]byte("keyset"), []byte("kek"))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}

	// Kubernetes rotates the projected token; Vault refuses the old one from now on.
	writeFile(t, jwtFile, "jwt-second")
	v.RotateJWT("jwt-second")
	l := newLogs()
	keep(t, sess, l)
	l.await(t, "logged in to HashiCorp Vault again", 1)
	calls = v.Calls()
	var renewed, relogged bool
	for _, call := range calls {
		renewed = renewed || (call.Kind == "renew" && call.Token == first && call.Status == 200)
		relogged = relogged || (call.Kind == "login" && call.Status == 200 && call.JWT == "jwt-second" && call.Role == "passage-intake")
	}
	if !renewed || !relogged {
		t.Fatalf("calls %+v: want the first token renewed, then a login with the rotated service account token", calls)
	}
	if c.Token() == first {
		t.Fatalf("client token %q after the new login, want the new one", c.Token())
	}
	checkTransit(t, v, a, ct, first)
	for _, secret := range []string{"jwt-first", "jwt-second", first, lastToken(calls)} {
		if strings.Contains(l.all(), secret) {
			t.Errorf("the logs carry a credential %q:\n%s", secret, l.all())
		}
	}
}

// TestLoginAgainAfterRevocation: a token Vault no longer renews (revoked) is replaced when its
// lease runs out; failed logins are logged, without credentials, and retried until one
// succeeds.
func TestLoginAgainAfterRevocation(t *testing.T) {
	t.Parallel()
	jwtFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, jwtFile, "jwt-only")
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "k8s-east", Role: "passage-returns", JWT: "jwt-only",
		TTL: 2 * time.Second, MaxTTL: time.Hour, Key: "passage"})
	c := newClient(t, v)
	sess, err := Login(t.Context(), c, Settings{Method: Kubernetes, Role: "passage-returns", Mount: "k8s-east", ServiceAccountTokenFile: jwtFile})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	sess.retryMin = time.Millisecond
	a := transitAEAD(t, c)
	ct, err := a.Encrypt([]byte("keyset"), []byte("kek"))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	first := c.Token()
	v.Revoke(first)
	v.FailLogins(2)
	l := newLogs()
	keep(t, sess, l)
	l.await(t, "logged in to HashiCorp Vault again", 1)
	logged := l.all()
	if n := strings.Count(logged, "\nHashiCorp Vault login failed; trying again "); n != 2 {
		t.Errorf("%d failed logins logged, want 2:\n%s", n, logged)
	}
	if !strings.Contains(logged, "auth=kubernetes") || strings.Contains(logged, "jwt-only") || strings.Contains(logged, first) {
		t.Errorf("the logs should name the method and no credential:\n%s", logged)
	}
	if _, err := a.Decrypt(ct, []byte("other")); err == nil {
		t.Error("Decrypt with the wrong associated data succeeded")
	}
	checkTransit(t, v, a, ct, first)
}

// TestLoginAgainWhenVaultRefusesTheToken: a token revoked while its lease still runs is
// refused to a transit call; the session, told of the refusal, logs in again at once (not
// when the lease ends, an hour later), and the next transit call goes through.
func TestLoginAgainWhenVaultRefusesTheToken(t *testing.T) {
	t.Parallel()
	jwtFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, jwtFile, "jwt-only")
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "kubernetes", Role: "passage-hasm", JWT: "jwt-only",
		TTL: time.Hour, MaxTTL: time.Hour, Key: "passage"})
	var refusals *Refusals
	c := newClientNoting(t, v, func(next http.RoundTripper) *Refusals {
		refusals = NewRefusals(next)
		return refusals
	})
	sess, err := Login(t.Context(), c, Settings{Method: Kubernetes, Role: "passage-hasm", ServiceAccountTokenFile: jwtFile})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	sess.LoginAgainOn(refusals)
	sess.retryMin, sess.refusalGrace = time.Millisecond, 0
	a := transitAEAD(t, c)
	ct, err := a.Encrypt([]byte("keyset"), []byte("kek"))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	l := newLogs()
	keep(t, sess, l)
	first := c.Token()
	v.Revoke(first)
	if _, err := a.Decrypt(ct, []byte("kek")); err == nil {
		t.Fatal("Decrypt with a revoked token succeeded")
	}
	l.await(t, "logged in to HashiCorp Vault again", 1)
	if logged := l.all(); !strings.Contains(logged, "HashiCorp Vault refused the token; logging in again") ||
		strings.Contains(logged, first) || strings.Contains(logged, "jwt-only") {
		t.Errorf("the logs should say the token was refused, with no credential:\n%s", logged)
	}
	checkTransit(t, v, a, ct, first)
}

// TestAppRoleLogin: an AppRole login reads the role id and the secret id from their files,
// again at every login (the secret id may have been replaced).
func TestAppRoleLogin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	roleFile, secretFile := filepath.Join(dir, "role-id"), filepath.Join(dir, "secret-id")
	writeFile(t, roleFile, "role-abc\n")
	writeFile(t, secretFile, "secret-one\n")
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "approle", RoleID: "role-abc", SecretID: "secret-one",
		TTL: time.Second, MaxTTL: time.Second, Key: "passage"})
	c := newClient(t, v)
	sess, err := Login(t.Context(), c, Settings{Method: AppRole, RoleIDFile: roleFile, SecretIDFile: secretFile})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	a := transitAEAD(t, c)
	ct, err := a.Encrypt([]byte("keyset"), []byte("kek"))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	first := c.Token()
	writeFile(t, secretFile, "secret-two")
	v.RotateSecretID("secret-two")
	l := newLogs()
	keep(t, sess, l)
	l.await(t, "logged in to HashiCorp Vault again", 1)
	var logins []kmstest.VaultCall
	for _, call := range v.Calls() {
		if call.Kind == "login" && call.Status == 200 {
			logins = append(logins, call)
		}
	}
	if len(logins) < 2 || logins[0].SecretID != "secret-one" || logins[1].RoleID != "role-abc" || logins[1].SecretID != "secret-two" {
		t.Fatalf("logins %+v: want the role id, then the secret id as the file says at each login", logins)
	}
	checkTransit(t, v, a, ct, first)
}

// TestLoginErrors: a login that cannot be made fails at start with the settings it needs,
// and never repeats a credential.
func TestLoginErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jwt, empty, roleID, secretID := filepath.Join(dir, "jwt"), filepath.Join(dir, "empty"), filepath.Join(dir, "role"), filepath.Join(dir, "secret")
	writeFile(t, jwt, "jwt-secret-value")
	writeFile(t, empty, "\n")
	writeFile(t, roleID, "role-id-value")
	writeFile(t, secretID, "secret-id-wrong")
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "kubernetes", Role: "passage-intake", JWT: "jwt-other",
		RoleID: "role-id-value", SecretID: "secret-id-right", TTL: time.Hour, MaxTTL: time.Hour, Key: "passage"})
	for _, tc := range []struct {
		name string
		s    Settings
		want []string
	}{
		{"no role", Settings{Method: Kubernetes, ServiceAccountTokenFile: jwt}, []string{"PASSAGE_VAULT_AUTH=kubernetes", "PASSAGE_VAULT_ROLE"}},
		{"no token file", Settings{Method: Kubernetes, Role: "passage-intake"}, []string{"PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE"}},
		{"missing token file", Settings{Method: Kubernetes, Role: "passage-intake", ServiceAccountTokenFile: filepath.Join(dir, "absent")},
			[]string{"PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE", "absent"}},
		{"empty token file", Settings{Method: Kubernetes, Role: "passage-intake", ServiceAccountTokenFile: empty},
			[]string{"PASSAGE_VAULT_SERVICE_ACCOUNT_TOKEN_FILE", "is empty"}},
		{"refused", Settings{Method: Kubernetes, Role: "passage-intake", ServiceAccountTokenFile: jwt},
			[]string{"PASSAGE_VAULT_AUTH=kubernetes", "PASSAGE_VAULT_ROLE=passage-intake", "mounted at kubernetes", "permission denied"}},
		{"approle files", Settings{Method: AppRole, RoleIDFile: roleID}, []string{"PASSAGE_VAULT_ROLE_ID_FILE", "PASSAGE_VAULT_SECRET_ID_FILE"}},
		{"approle mount", Settings{Method: AppRole, RoleIDFile: roleID, SecretIDFile: secretID}, []string{"PASSAGE_VAULT_AUTH=approle", "mounted at approle", "404"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, v)
			_, err := Login(t.Context(), c, tc.s)
			if err == nil {
				t.Fatal("Login succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for _, secret := range []string{"jwt-secret-value", "role-id-value", "secret-id-wrong"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q repeats a credential", err)
				}
			}
			if c.Token() != "" {
				t.Errorf("client token %q after a failed login", c.Token())
			}
		})
	}
}

// TestTokenMethod: with token (the default) nothing logs in: the client keeps VAULT_TOKEN,
// and Keep has nothing to do.
func TestTokenMethod(t *testing.T) {
	t.Parallel()
	v := kmstest.NewVault(t, kmstest.VaultConfig{Mount: "kubernetes", Key: "passage"})
	c := newClient(t, v)
	c.SetToken("static-token")
	sess, err := Login(t.Context(), c, Settings{})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	sess.Keep(t.Context(), newLogs().logger()) // returns at once
	if c.Token() != "static-token" || len(v.Calls()) != 0 {
		t.Errorf("token %q, calls %+v: want VAULT_TOKEN kept and no call", c.Token(), v.Calls())
	}
}

// TestSettingsFromEnv: the variables' defaults, and a wrong method named without its value.
func TestSettingsFromEnv(t *testing.T) {
	t.Parallel()
	var s Settings
	if err := envconfig.Defaults(&s); err != nil {
		t.Fatal(err)
	}
	if s.Method != Token || s.ServiceAccountTokenFile != "/var/run/secrets/kubernetes.io/serviceaccount/token" || s.mount() != "token" {
		t.Errorf("defaults %+v", s)
	}
	env := map[string]string{"PASSAGE_VAULT_AUTH": "kubernetes", "PASSAGE_VAULT_ROLE": "passage-intake"}
	if err := envconfig.Parse(&s, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if s.Method != Kubernetes || s.Role != "passage-intake" || s.mount() != "kubernetes" {
		t.Errorf("parsed %+v", s)
	}
	err := envconfig.Parse(&s, func(k string) (string, bool) { return "hvs.some-token", k == "PASSAGE_VAULT_AUTH" })
	if err == nil || !strings.Contains(err.Error(), "PASSAGE_VAULT_AUTH") || strings.Contains(err.Error(), "hvs.some-token") {
		t.Errorf("a wrong method: %v", err)
	}
}

// TestRedact: a credential an auth method or the server repeats is cut from the error.
func TestRedact(t *testing.T) {
	t.Parallel()
	err := redact(errors.New(`invalid jwt "eyJ.abc.def" for role`), "eyJ.abc.def", "")
	if strings.Contains(err.Error(), "eyJ") || !strings.Contains(err.Error(), "[credential]") {
		t.Errorf("redacted: %v", err)
	}
	plain := errors.New("permission denied")
	if got := redact(plain, "eyJ.abc.def"); got != plain {
		t.Errorf("an error without credentials changed: %v", got)
	}
}
