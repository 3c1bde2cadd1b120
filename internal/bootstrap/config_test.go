package bootstrap

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passage-cm/passage/internal/kms"
	"github.com/passage-cm/passage/internal/kms/hcvaultlogin"
	"github.com/passage-cm/passage/internal/kms/kmstest"
	"github.com/passage-cm/passage/internal/privacy"
	"github.com/passage-cm/passage/internal/retention"
	"github.com/passage-cm/passage/internal/vault"
)

func TestConfigFromEnv(t *testing.T) {
	for _, name := range []string{"DATABASE_URL", "PASSAGE_DEV", "PASSAGE_DEV_DIR", "PASSAGE_KEK_KEYSET", "PASSAGE_BLIND_INDEX_KEYSET", "PASSAGE_AUDIT_KEYSET",
		"PASSAGE_KEK_URI", "PASSAGE_KEK_RELOAD", "PASSAGE_RETENTION_INTERVAL",
		"PASSAGE_JWKS_URL", "PASSAGE_TOKEN_ISSUER", "PASSAGE_DB_MAX_CONNS", "PASSAGE_LOG_LEVEL", "PASSAGE_DP_YEARLY_EPSILON",
		"PASSAGE_WEBHOOK_ALLOW_NETWORKS", "PASSAGE_QUOTA", "PASSAGE_GRPC_REFLECTION"} {
		t.Setenv(name, "")
	}
	if _, err := ConfigFromEnv(true); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("without DATABASE_URL: %v", err)
	}
	t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/passage")

	_, err := ConfigFromEnv(false)
	if err == nil || !strings.Contains(err.Error(), "PASSAGE_JWKS_URL") || !strings.Contains(err.Error(), "PASSAGE_KEK_KEYSET") ||
		!strings.Contains(err.Error(), "PASSAGE_AUDIT_KEYSET") || !strings.Contains(err.Error(), "PASSAGE_KEK_URI") {
		t.Errorf("production without keys and JWKS: %v", err)
	}

	t.Setenv("PASSAGE_DEV_DIR", "rel/dir")
	t.Setenv("PASSAGE_LOG_LEVEL", "warn")
	t.Setenv("PASSAGE_DB_MAX_CONNS", "8")
	c, err := ConfigFromEnv(true)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || !filepath.IsAbs(c.DevDir) || c.LogLevel != slog.LevelWarn || c.MaxConns != 8 || c.TokenAudience != "passage" ||
		c.KEKReload != time.Minute || c.Retention.Interval != retention.Interval(24*time.Hour) || c.Retention.Policy()["VOT"] != 10 ||
		c.PrivacyYearlyEpsilon != privacy.DefaultYearlyEpsilon || len(c.WebhookAllowNetworks) != 0 || bool(c.Server.Quota.Enabled) {
		t.Errorf("dev config = %+v", c)
	}
	t.Setenv("PASSAGE_QUOTA", "on")
	if c, err := ConfigFromEnv(true); err != nil || !c.Server.Quota.Enabled {
		t.Errorf("dev with PASSAGE_QUOTA=on: quotas enabled %v, %v", c.Server.Quota.Enabled, err)
	}
	t.Setenv("PASSAGE_QUOTA", "")
	// Reflection: on in development unless turned off; off otherwise unless turned on.
	if !c.Server.Reflection {
		t.Error("dev without PASSAGE_GRPC_REFLECTION: reflection off")
	}
	t.Setenv("PASSAGE_GRPC_REFLECTION", "off")
	if c, err := ConfigFromEnv(true); err != nil || c.Server.Reflection {
		t.Errorf("dev with PASSAGE_GRPC_REFLECTION=off: reflection %v, %v", c.Server.Reflection, err)
	}
	t.Setenv("PASSAGE_GRPC_REFLECTION", "")
	t.Setenv("PASSAGE_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8, ::1")
	if c, err := ConfigFromEnv(true); err != nil || fmt.Sprint(c.WebhookAllowNetworks) != "[127.0.0.0/8 ::1/128]" {
		t.Errorf("PASSAGE_WEBHOOK_ALLOW_NETWORKS: %v, %v", c.WebhookAllowNetworks, err)
	}
	t.Setenv("PASSAGE_WEBHOOK_ALLOW_NETWORKS", "partner.local")
	if _, err := ConfigFromEnv(true); err == nil || !strings.Contains(err.Error(), "PASSAGE_WEBHOOK_ALLOW_NETWORKS") {
		t.Errorf("a name as a network: %v", err)
	}
	t.Setenv("PASSAGE_WEBHOOK_ALLOW_NETWORKS", "")

	t.Setenv("PASSAGE_DB_MAX_CONNS", "-1")
	if _, err := ConfigFromEnv(true); err == nil {
		t.Error("a negative pool size was accepted")
	}
	t.Setenv("PASSAGE_DB_MAX_CONNS", "")
	for name, bad := range map[string]string{"PASSAGE_REGISTER_BATCHES_IN_FLIGHT": "0", "PASSAGE_ANALYTICS_REPLICA_MAX_LAG": "500ms", "PASSAGE_KEK_RELOAD": "10ms", "PASSAGE_RETENTION_INTERVAL": "soon", "PASSAGE_DP_YEARLY_EPSILON": "0"} {
		t.Setenv(name, bad)
		if _, err := ConfigFromEnv(true); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, bad, err)
		}
		t.Setenv(name, "")
	}
	t.Setenv("PASSAGE_RETENTION_INTERVAL", "off")
	if c, err := ConfigFromEnv(true); err != nil || c.Retention.Interval != 0 {
		t.Errorf("PASSAGE_RETENTION_INTERVAL=off: %v, %v", c.Retention.Interval, err)
	}
	t.Setenv("PASSAGE_RETENTION_INTERVAL", "")

	t.Setenv("PASSAGE_DB_MAX_CONNS", "")
	t.Setenv("PASSAGE_LOG_LEVEL", "loud")
	if _, err := ConfigFromEnv(true); err == nil {
		t.Error("an unknown log level was accepted")
	}
}

// TestKeyringFiles: cleartext keysets only in development; with PASSAGE_KEK_URI the keysets
// are read encrypted under the key manager's key (a fake KMS registered under its test URI
// scheme stands in for one), in development and production alike.
func TestKeyringFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := KeyringFiles(Config{KEKKeyset: filepath.Join(dir, "kek.json"), BlindIndexKeyset: filepath.Join(dir, "bi.json")}); err == nil ||
		!strings.Contains(err.Error(), "PASSAGE_KEK_URI") {
		t.Fatalf("cleartext keysets outside development: %v", err)
	}
	dev, err := KeyringFiles(Config{Dev: true, DevDir: dir})
	if err != nil || dev.KEK.KMS != nil || dev.KEK.Path != filepath.Join(dir, vault.DevKEKFile) {
		t.Fatalf("development files = %+v, %v", dev, err)
	}

	uri := kmstest.KeyURI(t)
	cfg := Config{KEKURI: uri, KEKKeyset: filepath.Join(dir, "kek.enc.json"), BlindIndexKeyset: filepath.Join(dir, "bi.enc.json")}
	files, err := KeyringFiles(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := kms.AEAD(uri, hcvaultlogin.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	kek, _ := vault.NewKEKKeyset()
	bi, _ := vault.NewBlindIndexKeyset()
	if err := (vault.KeysetFile{Path: cfg.KEKKeyset, KMS: a, Purpose: "kek"}).Write(kek); err != nil {
		t.Fatal(err)
	}
	if err := (vault.KeysetFile{Path: cfg.BlindIndexKeyset, KMS: a, Purpose: "blind-index"}).Write(bi); err != nil {
		t.Fatal(err)
	}
	k, err := files.Load()
	if err != nil {
		t.Fatalf("load through the KMS: %v", err)
	}
	if k.KEKPrimary() != kek.KeysetInfo().GetPrimaryKeyId() {
		t.Error("the loaded KEK is not the one written")
	}
	cfg.BlindIndexKeyset = ""
	if _, err := KeyringFiles(cfg); err == nil {
		t.Error("a KMS URI without both keyset files was accepted")
	}
}

// TestConfigWithoutDatabaseURL: DATABASE_URL may be left unset when the auditor and every
// service, its worker included, have their own PASSAGE_<SERVICE>_DATABASE_URL; otherwise the
// error names the ones missing.
func TestConfigWithoutDatabaseURL(t *testing.T) {
	for _, name := range []string{"DATABASE_URL", "PASSAGE_DEV_DIR", "PASSAGE_QUOTA", "PASSAGE_AUDITOR_DATABASE_URL",
		"PASSAGE_INTAKE_DATABASE_URL", "PASSAGE_ANALYTICS_DATABASE_URL", "PASSAGE_ANALYTICS_WORKER_DATABASE_URL"} {
		t.Setenv(name, "")
	}
	services := []Service{{Short: "intake", Role: "passage_intake"},
		{Short: "analytics", Role: "passage_analytics", WorkerRole: "passage_analytics_projector"}}
	t.Setenv("PASSAGE_AUDITOR_DATABASE_URL", "postgres://passage_auditor@db/passage")
	t.Setenv("PASSAGE_INTAKE_DATABASE_URL", "postgres://passage_intake@db/passage")
	t.Setenv("PASSAGE_ANALYTICS_DATABASE_URL", "postgres://passage_analytics@db/passage")
	_, err := ConfigFromEnv(true, services...)
	if err == nil || !strings.Contains(err.Error(), "PASSAGE_ANALYTICS_WORKER_DATABASE_URL") ||
		strings.Contains(err.Error(), "PASSAGE_INTAKE_DATABASE_URL") {
		t.Errorf("without the worker's URL: %v", err)
	}
	t.Setenv("PASSAGE_ANALYTICS_WORKER_DATABASE_URL", "postgres://passage_analytics_projector@db/passage")
	if c, err := ConfigFromEnv(true, services...); err != nil || c.DatabaseURL != "" {
		t.Errorf("every service with its own URL: %q, %v", c.DatabaseURL, err)
	}
	t.Setenv("PASSAGE_AUDITOR_DATABASE_URL", "")
	if _, err := ConfigFromEnv(true, services...); err == nil || !strings.Contains(err.Error(), "PASSAGE_AUDITOR_DATABASE_URL") {
		t.Errorf("without the auditor's URL: %v", err)
	}
}
