package bootstrap

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	for _, name := range []string{"DATABASE_URL", "PASSAGE_DEV", "PASSAGE_DEV_DIR", "PASSAGE_KEK_KEYSET", "PASSAGE_BLIND_INDEX_KEYSET", "PASSAGE_AUDIT_KEYSET",
		"PASSAGE_JWKS_URL", "PASSAGE_TOKEN_ISSUER", "PASSAGE_DB_MAX_CONNS", "PASSAGE_LOG_LEVEL"} {
		t.Setenv(name, "")
	}
	if _, err := ConfigFromEnv(true); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("without DATABASE_URL: %v", err)
	}
	t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/passage")

	_, err := ConfigFromEnv(false)
	if err == nil || !strings.Contains(err.Error(), "PASSAGE_JWKS_URL") || !strings.Contains(err.Error(), "PASSAGE_KEK_KEYSET") ||
		!strings.Contains(err.Error(), "PASSAGE_AUDIT_KEYSET") {
		t.Errorf("production without keys and JWKS: %v", err)
	}

	t.Setenv("PASSAGE_DEV_DIR", "rel/dir")
	t.Setenv("PASSAGE_LOG_LEVEL", "warn")
	t.Setenv("PASSAGE_DB_MAX_CONNS", "8")
	c, err := ConfigFromEnv(true)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || !filepath.IsAbs(c.DevDir) || c.LogLevel != slog.LevelWarn || c.MaxConns != 8 || c.TokenAudience != "passage" {
		t.Errorf("dev config = %+v", c)
	}

	t.Setenv("PASSAGE_DB_MAX_CONNS", "-1")
	if _, err := ConfigFromEnv(true); err == nil {
		t.Error("a negative pool size was accepted")
	}
	t.Setenv("PASSAGE_DB_MAX_CONNS", "")
	t.Setenv("PASSAGE_LOG_LEVEL", "loud")
	if _, err := ConfigFromEnv(true); err == nil {
		t.Error("an unknown log level was accepted")
	}
}
