package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/kms"
	"github.com/passage-cm/passage/internal/kms/hcvaultlogin"
	"github.com/passage-cm/passage/internal/kms/kmstest"
	"github.com/passage-cm/passage/internal/vault"
)

// TestKeysInitWritesTheAuditKeyset: outside development the audit chain's key, like the
// vault's, is a keyset encrypted under the key manager's key; `passage keys init` writes it,
// the server and `passage audit verify` load it, and it is useless read as cleartext.
func TestKeysInitWritesTheAuditKeyset(t *testing.T) {
	uri := kmstest.KeyURI(t)
	dir := t.TempDir()
	for name, v := range map[string]string{
		"DATABASE_URL":               "postgres://nobody@127.0.0.1:1/none", // init needs no database
		"PASSAGE_DEV":                "",
		"PASSAGE_KEK_URI":            uri,
		"PASSAGE_KEK_KEYSET":         filepath.Join(dir, "kek.json"),
		"PASSAGE_BLIND_INDEX_KEYSET": filepath.Join(dir, "blind-index.json"),
		"PASSAGE_AUDIT_KEYSET":       filepath.Join(dir, "audit.json"),
	} {
		t.Setenv(name, v)
	}
	var out bytes.Buffer
	if err := runKeys(context.Background(), []string{"init"}, &out, &out); err != nil {
		t.Fatalf("keys init: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "audit keyset written") {
		t.Errorf("keys init said %q, want the audit keyset written", out.String())
	}
	cfg, err := bootstrap.KeyConfigFromEnv(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bootstrap.LoadAuditKey(cfg); err != nil {
		t.Fatalf("load the audit key written by init: %v", err)
	}
	if _, err := (vault.KeysetFile{Path: cfg.AuditKeyset}).Read(); err == nil {
		t.Error("the audit keyset reads as cleartext: it must be encrypted under the key manager's key")
	}
	aead, err := kms.AEAD(uri, hcvaultlogin.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (vault.KeysetFile{Path: cfg.AuditKeyset, KMS: aead, Purpose: "kek"}).Read(); err == nil {
		t.Error("the audit keyset opens as the KEK keyset: its purpose must be bound to its encryption")
	}
	out.Reset()
	if err := auditKeyInit(cfg, &out); err == nil {
		t.Error("a second init replaced the audit keyset: every existing link would fail")
	}
}
