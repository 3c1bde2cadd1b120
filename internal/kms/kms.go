package kms

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/tink-crypto/tink-go-hcvault/v2/integration/hcvault"
	"github.com/tink-crypto/tink-go/v2/core/registry"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// HCVaultScheme prefixes URIs of HashiCorp Vault transit keys:
// hcvault://HOST:PORT/transit/keys/NAME. The client takes its address, token and TLS
// settings from Vault's standard variables (VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, ...); the
// host in the URI only selects the key.
const HCVaultScheme = "hcvault://"

var registerOnce sync.Once
var registerErr error

// AEAD returns the key manager key named by uri, from the Tink KMS client registered for it.
// hcvault:// URIs get the built-in client on first use; any other scheme needs a client
// registered with registry.RegisterKMSClient beforehand (tests register a fake one).
// Errors name the URI's scheme only: a URI can carry credentials or key material (the fake
// KMS's does).
func AEAD(uri string) (tink.AEAD, error) {
	if uri == "" {
		return nil, errors.New("kms: no key URI")
	}
	if strings.HasPrefix(uri, HCVaultScheme) {
		registerOnce.Do(func() { registerErr = registerHCVault() })
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

func registerHCVault() error {
	cfg := vaultapi.DefaultConfig() // reads VAULT_ADDR, VAULT_CACERT, ...
	if cfg.Error != nil {
		return fmt.Errorf("kms: HashiCorp Vault configuration: %w", cfg.Error)
	}
	c, err := vaultapi.NewClient(cfg) // reads VAULT_TOKEN
	if err != nil {
		return fmt.Errorf("kms: HashiCorp Vault client: %w", err)
	}
	client, err := hcvault.NewClientWithAEADOptions(HCVaultScheme, c.Logical())
	if err != nil {
		return fmt.Errorf("kms: HashiCorp Vault client: %w", err)
	}
	registry.RegisterKMSClient(client)
	return nil
}

func scheme(uri string) string {
	if i := strings.Index(uri, "://"); i > 0 && i < 32 {
		return uri[:i]
	}
	return "(none)"
}
