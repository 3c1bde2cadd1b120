package kms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/tink-crypto/tink-go-hcvault/v2/integration/hcvault"
	"github.com/tink-crypto/tink-go/v2/core/registry"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/passage-cm/passage/internal/kms/hcvaultlogin"
)

// HCVaultScheme prefixes URIs of HashiCorp Vault transit keys:
// hcvault://HOST:PORT/transit/keys/NAME. The client takes its address and TLS settings from
// Vault's standard variables (VAULT_ADDR, VAULT_CACERT, ...), and its token from VAULT_TOKEN
// or from a login (internal/kms/hcvaultlogin); the host in the URI only selects the key.
const HCVaultScheme = "hcvault://"

var registerOnce sync.Once
var registerErr error

// AEAD returns the key manager key named by uri, from the Tink KMS client registered for it.
// hcvault:// URIs get the built-in client on first use, logged in to Vault as login says:
// one client and one login for the process, whose token a background goroutine keeps alive
// for as long as the process runs (logging through slog.Default), since Tink's registry
// keeps the client as long. Any other scheme needs a client registered with
// registry.RegisterKMSClient beforehand (tests register a fake one), and ignores login.
// Errors name the URI's scheme only: a URI can carry credentials or key material (the fake
// KMS's does).
func AEAD(uri string, login hcvaultlogin.Settings) (tink.AEAD, error) {
	if uri == "" {
		return nil, errors.New("kms: no key URI")
	}
	if strings.HasPrefix(uri, HCVaultScheme) {
		registerOnce.Do(func() {
			var client registry.KMSClient
			var session *hcvaultlogin.Session
			if client, session, registerErr = newHCVaultClient(context.Background(), login); registerErr == nil {
				registry.RegisterKMSClient(client)
				go session.Keep(context.Background(), slog.Default())
			}
		})
		if registerErr != nil {
			return nil, registerErr
		}
	}
	client, err := registry.GetKMSClient(uri)
	if err != nil {
		return nil, fmt.Errorf("kms: no client for key URIs of scheme %q", scheme(uri))
	}
	a, err := client.GetAEAD(uri)
	if err != nil {
		return nil, fmt.Errorf("kms: key of scheme %q: %w", scheme(uri), err)
	}
	return a, nil
}

// newHCVaultClient makes the Tink KMS client of hcvault:// URIs on a Vault client logged in
// as login says. Tink's AEADs call Vault through that same client, so they use whatever
// token the session's last login set on it.
func newHCVaultClient(ctx context.Context, login hcvaultlogin.Settings) (registry.KMSClient, *hcvaultlogin.Session, error) {
	cfg := vaultapi.DefaultConfig() // reads VAULT_ADDR, VAULT_CACERT, ...
	if cfg.Error != nil {
		return nil, nil, fmt.Errorf("kms: HashiCorp Vault configuration: %w", cfg.Error)
	}
	c, err := vaultapi.NewClient(cfg) // reads VAULT_TOKEN
	if err != nil {
		return nil, nil, fmt.Errorf("kms: HashiCorp Vault client: %w", err)
	}
	// Vault's refusals of the token to transit calls make the session log in again at once.
	// Wrapped only now: NewClient wants cfg's own *http.Transport, to dial a unix://
	// VAULT_ADDR; the client reads cfg.HttpClient at every call.
	refusals := hcvaultlogin.NewRefusals(cfg.HttpClient.Transport)
	cfg.HttpClient.Transport = refusals
	session, err := hcvaultlogin.Login(ctx, c, login)
	if err != nil {
		return nil, nil, fmt.Errorf("kms: %w", err)
	}
	session.LoginAgainOn(refusals)
	client, err := hcvault.NewClientWithAEADOptions(HCVaultScheme, c.Logical())
	if err != nil {
		return nil, nil, fmt.Errorf("kms: HashiCorp Vault client: %w", err)
	}
	return client, session, nil
}

func scheme(uri string) string {
	if i := strings.Index(uri, "://"); i > 0 && i < 32 {
		return uri[:i]
	}
	return "(none)"
}
