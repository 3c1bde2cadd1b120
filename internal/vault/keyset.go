package vault

import (
	"fmt"

	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
)

// ReadKeyset reads a Tink cleartext JSON keyset for a key other than the vault's own (the
// audit key, say), with the same guarantees as LoadKeyring: a damaged file never echoes its
// content into an error.
//
// DEVELOPMENT ONLY, like LoadKeyring: the key is on disk unprotected.
func ReadKeyset(path string) (*keyset.Handle, error) {
	h, err := readCleartextKeyset(path)
	if err != nil {
		return nil, fmt.Errorf("vault: keyset: %w", err)
	}
	return h, nil
}

// LoadOrCreateDevKeyset loads the cleartext keyset at path, generating it from template
// (mode 0600, never replacing a file another process wrote first) when it is missing.
//
// DEVELOPMENT ONLY, like LoadOrCreateDevKeyring.
func LoadOrCreateDevKeyset(path string, template func() *tinkpb.KeyTemplate) (*keyset.Handle, error) {
	h, err := loadOrCreateCleartextKeyset(path, template)
	if err != nil {
		return nil, fmt.Errorf("vault: dev keyset: %w", err)
	}
	return h, nil
}
