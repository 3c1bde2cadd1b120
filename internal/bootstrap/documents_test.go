package bootstrap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDocumentSettings: documents are kept in Postgres, up to 20 MiB, unless set otherwise;
// each wrong document or S3 setting stops the server with an error naming its variable, and
// the S3 settings are required only with PASSAGE_DOCUMENT_STORE=s3.
func TestDocumentSettings(t *testing.T) {
	for _, name := range []string{"PASSAGE_DOCUMENT_STORE", "PASSAGE_DOCUMENT_MAX_BYTES", "PASSAGE_DOCUMENT_SWEEP_INTERVAL",
		"PASSAGE_S3_ENDPOINT", "PASSAGE_S3_BUCKET", "PASSAGE_S3_REGION", "PASSAGE_S3_ACCESS_KEY_FILE", "PASSAGE_S3_SECRET_KEY_FILE",
		"PASSAGE_S3_CA_FILE", "PASSAGE_DEV", "PASSAGE_QUOTA"} {
		t.Setenv(name, "")
	}
	t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/passage")
	c, err := ConfigFromEnv(true)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Documents; d.Store != DocumentStorePostgres || d.MaxBytes != 20<<20 || d.SweepInterval != time.Hour || d.S3.Region != "us-east-1" {
		t.Errorf("defaults: %+v", d)
	}

	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s3 := map[string]string{"PASSAGE_DOCUMENT_STORE": "s3", "PASSAGE_S3_ENDPOINT": "https://s3.example.org",
		"PASSAGE_S3_BUCKET": "passage", "PASSAGE_S3_ACCESS_KEY_FILE": key, "PASSAGE_S3_SECRET_KEY_FILE": key}
	for name, value := range s3 {
		t.Setenv(name, value)
	}
	if c, err := ConfigFromEnv(true); err != nil || c.Documents.Store != DocumentStoreS3 || c.Documents.S3.Bucket != "passage" {
		t.Errorf("s3: %+v, %v", c.Documents, err)
	}
	for name, bad := range map[string]string{
		"PASSAGE_DOCUMENT_STORE":          "disk",
		"PASSAGE_DOCUMENT_MAX_BYTES":      "0",
		"PASSAGE_DOCUMENT_SWEEP_INTERVAL": "1s",
		"PASSAGE_S3_ENDPOINT":             "ftp://s3.example.org",
		"PASSAGE_S3_BUCKET":               "",
		"PASSAGE_S3_ACCESS_KEY_FILE":      filepath.Join(t.TempDir(), "none"),
	} {
		t.Setenv(name, bad)
		if _, err := ConfigFromEnv(true); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v", name, bad, err)
		}
		t.Setenv(name, s3[name])
	}
	t.Setenv("PASSAGE_DOCUMENT_MAX_BYTES", "2147483648")
	if _, err := ConfigFromEnv(true); err == nil || !strings.Contains(err.Error(), "PASSAGE_DOCUMENT_MAX_BYTES") {
		t.Errorf("2 GiB: %v", err)
	}
	t.Setenv("PASSAGE_DOCUMENT_MAX_BYTES", "")

	t.Setenv("PASSAGE_DOCUMENT_STORE", "postgres")
	t.Setenv("PASSAGE_S3_ENDPOINT", "")
	if _, err := ConfigFromEnv(true); err != nil {
		t.Errorf("postgres with the S3 settings incomplete: %v", err)
	}
}
