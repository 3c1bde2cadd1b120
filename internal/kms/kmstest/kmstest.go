package kmstest

import (
	"sync"
	"testing"

	"github.com/tink-crypto/tink-go/v2/core/registry"
	"github.com/tink-crypto/tink-go/v2/testing/fakekms"
)

var (
	registerOnce sync.Once
	registerErr  error
)

// KeyURI registers Tink's fake KMS client (once per process) and returns the URI of a new
// key in it, which kms.AEAD and the KMS-encrypted keyset files accept like a real one.
func KeyURI(t testing.TB) string {
	t.Helper()
	registerOnce.Do(func() {
		var client registry.KMSClient
		if client, registerErr = fakekms.NewClient("fake-kms://"); registerErr == nil {
			registry.RegisterKMSClient(client)
		}
	})
	if registerErr != nil {
		t.Fatalf("fake KMS: %v", registerErr)
	}
	uri, err := fakekms.NewKeyURI()
	if err != nil {
		t.Fatalf("fake KMS key: %v", err)
	}
	return uri
}
