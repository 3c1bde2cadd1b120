package hcvaultlogin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"

	"github.com/passage-cm/passage/internal/middleware"
)

// Session is a Vault client's login: the token it got, which [Session.Keep] keeps alive.
type Session struct {
	client   *vaultapi.Client
	settings Settings
	// secret is the last login's answer, nil with Token. Login sets it, then only Keep.
	secret *vaultapi.Secret
	// loggedIn is when secret was got.
	loggedIn time.Time
	// retryMin and retryMax bound the wait between failed logins (it doubles).
	retryMin, retryMax time.Duration
	// refused, when set (LoginAgainOn), tells of Vault refusing the token to a call; a
	// refusal later than refusalGrace after the last login makes Keep log in again.
	refused      <-chan struct{}
	refusalGrace time.Duration
}

// errRefused ends a watch whose token Vault refused to a call (revoked, or expired early).
var errRefused = errors.New("HashiCorp Vault refused the token to a call")

// Refusals is a RoundTripper for a Vault client's HTTP client that notes each 403 Vault
// answers to a call other than a login or a renewal (Tink's transit calls, say): a token
// revoked, or ended before its lease said. A Session told of them (LoginAgainOn) logs in
// again at once rather than when the token's lease runs out. Put it on the client's
// Config.HttpClient after vaultapi.NewClient, which dials a unix:// address only through the
// *http.Transport it finds there.
type Refusals struct {
	next http.RoundTripper
	ch   chan struct{}
}

// NewRefusals returns Refusals passing every call on to next.
func NewRefusals(next http.RoundTripper) *Refusals {
	return &Refusals{next: next, ch: make(chan struct{}, 1)}
}

// RoundTrip implements http.RoundTripper.
func (r *Refusals) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusForbidden && !strings.HasPrefix(req.URL.Path, "/v1/auth/") {
		select {
		case r.ch <- struct{}{}:
		default: // one is noted already
		}
	}
	return resp, err
}

// LoginAgainOn makes Keep log in again when r notes that Vault refused the session's token,
// unless the last login is less than a minute old: a token that fresh refused means a policy
// that does not allow the call, which another login would not mend (and would only repeat).
// Call it before Keep.
func (s *Session) LoginAgainOn(r *Refusals) {
	s.refused = r.ch
}

// Login logs client in as s says and sets the token it gets on client. With Token it does
// nothing: the client keeps VAULT_TOKEN. Its error names the settings (method, role, mount,
// the variable of a file it could not read) and never a credential.
func Login(ctx context.Context, client *vaultapi.Client, s Settings) (*Session, error) {
	sess := &Session{client: client, settings: s, retryMin: time.Second, retryMax: time.Minute, refusalGrace: time.Minute}
	if s.method() == Token {
		return sess, nil
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	client.ClearToken() // a VAULT_TOKEN left in the environment is not this login's
	if err := sess.login(ctx); err != nil {
		return nil, err
	}
	return sess, nil
}

// login logs in once, reading the credentials' files anew, and keeps the answer.
func (s *Session) login(ctx context.Context) error {
	var (
		method vaultapi.AuthMethod
		creds  []string
		err    error
	)
	switch s.settings.method() {
	case Kubernetes:
		var jwt string
		if jwt, err = readCredential(varServiceAccountToken, s.settings.ServiceAccountTokenFile); err != nil {
			return err
		}
		creds = []string{jwt}
		method, err = kubernetes.NewKubernetesAuth(s.settings.Role,
			kubernetes.WithServiceAccountToken(jwt), kubernetes.WithMountPath(s.settings.mount()))
	case AppRole:
		var roleID, secretID string
		if roleID, err = readCredential(varRoleIDFile, s.settings.RoleIDFile); err != nil {
			return err
		}
		if secretID, err = readCredential(varSecretIDFile, s.settings.SecretIDFile); err != nil {
			return err
		}
		creds = []string{roleID, secretID}
		method, err = approle.NewAppRoleAuth(roleID, &approle.SecretID{FromString: secretID},
			approle.WithMountPath(s.settings.mount()))
	}
	if err != nil {
		return fmt.Errorf("HashiCorp Vault login (%s): %w", s.settings, redact(err, creds...))
	}
	secret, err := s.client.Auth().Login(ctx, method) // sets the client's token
	if err != nil {
		return fmt.Errorf("HashiCorp Vault login (%s): %w", s.settings, redact(err, creds...))
	}
	s.secret, s.loggedIn = secret, time.Now()
	return nil
}

// Keep keeps the session's token alive until ctx ends: it renews the token with the client's
// LifetimeWatcher and, when renewal fails or the token nears its maximum lifetime, logs in
// again (reading the credentials' files anew), retrying failed logins with backoff from 1s
// to 1m. Each failure is logged on logger, without credentials. It returns at once with
// Token, or for a token that never expires. Run it in one goroutine, after [Login].
func (s *Session) Keep(ctx context.Context, logger *slog.Logger) {
	for {
		if s.secret == nil || s.secret.Auth == nil || (s.secret.Auth.LeaseDuration == 0 && !s.secret.Auth.Renewable) {
			return
		}
		err := s.watch(ctx, logger)
		if ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, errRefused):
			logger.WarnContext(ctx, "HashiCorp Vault refused the token; logging in again",
				"auth", string(s.settings.method()))
		case err != nil:
			logger.WarnContext(ctx, "HashiCorp Vault token renewal failed; logging in again",
				"auth", string(s.settings.method()), middleware.ErrorAttr(err))
		default:
			logger.InfoContext(ctx, "HashiCorp Vault token renewed no further; logging in again",
				"auth", string(s.settings.method()))
		}
		if !s.relogin(ctx, logger) {
			return
		}
	}
}

// watch renews the token until the watcher stops: nil when the token nears the end of its
// lifetime, its maximum or the lease of a token Vault refuses to renew (revoked), or when ctx
// ends; errRefused when Vault refused the token to a call (LoginAgainOn); the error when
// renewal failed otherwise.
func (s *Session) watch(ctx context.Context, logger *slog.Logger) error {
	behavior := vaultapi.RenewBehaviorRenewDisabled // a token Vault will not renew: watch it run out
	if s.secret.Auth.Renewable {
		behavior = vaultapi.RenewBehaviorErrorOnErrors // a failed renewal ends it: log in again at once
	}
	w, err := s.client.NewLifetimeWatcher(&vaultapi.LifetimeWatcherInput{Secret: s.secret, RenewBehavior: behavior})
	if err != nil {
		return err
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.DoneCh():
			return err
		case <-s.refused:
			if time.Since(s.loggedIn) >= s.refusalGrace {
				return errRefused
			}
		case r := <-w.RenewCh():
			if r.Secret != nil && r.Secret.Auth != nil {
				logger.DebugContext(ctx, "HashiCorp Vault token renewed", "auth", string(s.settings.method()),
					"lease", (time.Duration(r.Secret.Auth.LeaseDuration) * time.Second).String())
			}
		}
	}
}

// relogin logs in until it succeeds (true) or ctx ends (false), waiting longer after each
// failure, and at least retryMin after the last login: tokens that Vault grants for less
// than a second do not make it log in without pause. The client keeps its current token
// meanwhile: it may still be good.
func (s *Session) relogin(ctx context.Context, logger *slog.Logger) bool {
	if !sleep(ctx, s.retryMin-time.Since(s.loggedIn)) {
		return false
	}
	wait := s.retryMin
	for {
		err := s.login(ctx)
		if err == nil {
			logger.InfoContext(ctx, "logged in to HashiCorp Vault again", "auth", string(s.settings.method()))
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		// Half the wait, plus up to as much again at random: processes that lost Vault
		// together do not all come back at once.
		d := wait/2 + rand.N(wait/2+1)
		logger.ErrorContext(ctx, "HashiCorp Vault login failed; trying again", "auth", string(s.settings.method()),
			"retry_in", d.String(), middleware.ErrorAttr(err))
		if !sleep(ctx, d) {
			return false
		}
		wait = min(2*wait, s.retryMax)
	}
}

// sleep waits d, or less if ctx ends first (false).
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
