package kmstest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Vault is a HashiCorp Vault server as far as Passage's client uses one: a login endpoint
// for the Kubernetes and AppRole auth methods, token renewal (renew-self), and transit
// encrypt and decrypt, which answer only a live token. Tokens expire for real: each lives
// TTL from its login or last renewal, and never past MaxTTL from its login. Everything the
// server is sent is recorded (Calls), so a test can wait for a login or renewal and check
// what it carried.
type Vault struct {
	// URL is the server's address, for VAULT_ADDR or the api client's Address.
	URL string

	mu     sync.Mutex
	cfg    VaultConfig
	jwt    string // the service account token the Kubernetes login accepts now
	secret string // the AppRole secret id accepted now
	fails  int    // logins still to refuse with a server error
	tokens map[string]*vaultToken
	next   int
	calls  []VaultCall
	change chan struct{} // closed and replaced on every call
	aead   cipher.AEAD
}

// VaultConfig is what a Vault accepts and how long its tokens live.
type VaultConfig struct {
	// Mount is where the auth method is mounted: logins go to /v1/auth/Mount/login.
	Mount string
	// Role and JWT are the Kubernetes login's role and service account token.
	Role, JWT string
	// RoleID and SecretID are the AppRole login's.
	RoleID, SecretID string
	// TTL and MaxTTL bound a token's life (whole seconds, as Vault counts).
	TTL, MaxTTL time.Duration
	// Key is the transit key's name (transit/keys/Key).
	Key string
}

// VaultCall is one request the server answered.
type VaultCall struct {
	// Kind is "login", "renew", "encrypt" or "decrypt".
	Kind string
	// Token is the token the request carried (X-Vault-Token), or the one a login issued.
	Token string
	// Role, JWT, RoleID and SecretID are what a login presented.
	Role, JWT, RoleID, SecretID string
	// Status is the HTTP status answered.
	Status int
}

type vaultToken struct {
	issued, expires time.Time
	revoked         bool
}

// NewVault starts a Vault with cfg, closed when the test ends.
func NewVault(t testing.TB, cfg VaultConfig) *Vault {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	v := &Vault{cfg: cfg, jwt: cfg.JWT, secret: cfg.SecretID, tokens: map[string]*vaultToken{},
		change: make(chan struct{}), aead: aead}
	srv := httptest.NewServer(http.HandlerFunc(v.serve))
	t.Cleanup(srv.Close)
	v.URL = srv.URL
	return v
}

// RotateJWT makes jwt the only service account token the Kubernetes login accepts, as when
// Kubernetes has rotated the projected token and the old one expired.
func (v *Vault) RotateJWT(jwt string) { v.locked(func() { v.jwt = jwt }) }

// RotateSecretID makes id the only AppRole secret id the login accepts.
func (v *Vault) RotateSecretID(id string) { v.locked(func() { v.secret = id }) }

// FailLogins makes the next n logins fail with a server error.
func (v *Vault) FailLogins(n int) { v.locked(func() { v.fails = n }) }

func (v *Vault) locked(f func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f()
}

// Revoke revokes token: renewal and transit refuse it from now on.
func (v *Vault) Revoke(token string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if tok, ok := v.tokens[token]; ok {
		tok.revoked = true
	}
}

// Calls returns the requests answered so far, in order.
func (v *Vault) Calls() []VaultCall {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]VaultCall(nil), v.calls...)
}

// Await waits until done holds of the calls answered so far and returns them; it fails the
// test if the test's context ends first.
func (v *Vault) Await(t testing.TB, what string, done func([]VaultCall) bool) []VaultCall {
	t.Helper()
	for {
		v.mu.Lock()
		calls, change := append([]VaultCall(nil), v.calls...), v.change
		v.mu.Unlock()
		if done(calls) {
			return calls
		}
		select {
		case <-change:
		case <-t.Context().Done():
			t.Fatalf("Vault: gave up waiting for %s; calls: %+v", what, calls)
		}
	}
}

func (v *Vault) record(c VaultCall) {
	v.calls = append(v.calls, c)
	close(v.change)
	v.change = make(chan struct{})
}

func (v *Vault) serve(w http.ResponseWriter, r *http.Request) {
	var raw map[string]any
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		vaultError(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
		vaultError(w, http.StatusBadRequest, "failed to parse JSON input")
		return
	}
	body := map[string]string{} // the string fields; renew-self's increment is a number
	for k, x := range raw {
		if s, ok := x.(string); ok {
			body[k] = s
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	token := r.Header.Get("X-Vault-Token")
	switch path := strings.TrimPrefix(r.URL.Path, "/v1/"); path {
	case "auth/" + v.cfg.Mount + "/login":
		v.login(w, body)
	case "auth/token/renew-self":
		v.renew(w, token)
	case "transit/encrypt/" + v.cfg.Key, "transit/decrypt/" + v.cfg.Key:
		v.transit(w, strings.Split(path, "/")[1], token, body)
	default:
		vaultError(w, http.StatusNotFound, "no handler for route "+path)
	}
}

func (v *Vault) login(w http.ResponseWriter, body map[string]string) {
	c := VaultCall{Kind: "login", Role: body["role"], JWT: body["jwt"], RoleID: body["role_id"], SecretID: body["secret_id"]}
	switch {
	case v.fails > 0:
		v.fails--
		c.Status = http.StatusInternalServerError
	case c.JWT != "" && (c.Role != v.cfg.Role || c.JWT != v.jwt):
		c.Status = http.StatusForbidden
	case c.RoleID != "" && (c.RoleID != v.cfg.RoleID || c.SecretID != v.secret):
		c.Status = http.StatusBadRequest // Vault's answer to a wrong secret id
	case c.JWT == "" && c.RoleID == "":
		c.Status = http.StatusBadRequest
	default:
		c.Status = http.StatusOK
	}
	if c.Status != http.StatusOK {
		v.record(c)
		vaultError(w, c.Status, map[int]string{http.StatusInternalServerError: "internal error",
			http.StatusForbidden: "permission denied", http.StatusBadRequest: "invalid role or secret ID"}[c.Status])
		return
	}
	v.next++
	c.Token = fmt.Sprintf("hvs.test-token-%d", v.next)
	now := time.Now()
	v.tokens[c.Token] = &vaultToken{issued: now, expires: now.Add(v.cfg.TTL)}
	v.record(c)
	writeAuth(w, c.Token, v.cfg.TTL)
}

// live returns the token's record if it is known, not revoked and not expired.
func (v *Vault) live(token string) (*vaultToken, bool) {
	tok, ok := v.tokens[token]
	return tok, ok && !tok.revoked && time.Now().Before(tok.expires)
}

func (v *Vault) renew(w http.ResponseWriter, token string) {
	tok, ok := v.live(token)
	if !ok {
		v.record(VaultCall{Kind: "renew", Token: token, Status: http.StatusForbidden})
		vaultError(w, http.StatusForbidden, "permission denied")
		return
	}
	now := time.Now()
	tok.expires = now.Add(v.cfg.TTL)
	if limit := tok.issued.Add(v.cfg.MaxTTL); limit.Before(tok.expires) {
		tok.expires = limit
	}
	v.record(VaultCall{Kind: "renew", Token: token, Status: http.StatusOK})
	writeAuth(w, token, tok.expires.Sub(now))
}

func (v *Vault) transit(w http.ResponseWriter, op, token string, body map[string]string) {
	c := VaultCall{Kind: op, Token: token, Status: http.StatusForbidden}
	defer func() { v.record(c) }()
	if _, ok := v.live(token); !ok {
		vaultError(w, c.Status, "permission denied")
		return
	}
	ad, err := base64.StdEncoding.DecodeString(body["associated_data"])
	if err != nil {
		c.Status = http.StatusBadRequest
		vaultError(w, c.Status, "associated_data is not base64")
		return
	}
	var data map[string]string
	switch op {
	case "encrypt":
		pt, err := base64.StdEncoding.DecodeString(body["plaintext"])
		if err != nil {
			c.Status = http.StatusBadRequest
			vaultError(w, c.Status, "plaintext is not base64")
			return
		}
		nonce := make([]byte, v.aead.NonceSize())
		_, _ = rand.Read(nonce)
		data = map[string]string{"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(v.aead.Seal(nonce, nonce, pt, ad))}
	case "decrypt":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(body["ciphertext"], "vault:v1:"))
		n := v.aead.NonceSize()
		if err != nil || len(raw) < n {
			c.Status = http.StatusBadRequest
			vaultError(w, c.Status, "invalid ciphertext")
			return
		}
		pt, err := v.aead.Open(nil, raw[:n], raw[n:], ad)
		if err != nil {
			c.Status = http.StatusBadRequest
			vaultError(w, c.Status, "cipher: message authentication failed")
			return
		}
		data = map[string]string{"plaintext": base64.StdEncoding.EncodeToString(pt)}
	}
	c.Status = http.StatusOK
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

func writeAuth(w http.ResponseWriter, token string, lease time.Duration) {
	writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{
		"client_token": token, "accessor": "accessor-" + token, "policies": []string{"default", "passage-kek"},
		"lease_duration": int(lease / time.Second), "renewable": true,
	}})
}

func vaultError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []string{msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
