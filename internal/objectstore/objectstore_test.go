package objectstore_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/objectstore"
	"github.com/passage-cm/passage/internal/objectstore/miniotest"
)

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m)) }

// TestBucket: what is put comes back; a missing key is ErrNotFound; a blob over the limit is
// refused; the listing reports keys in order, or their common prefixes; deleting a prefix
// deletes what is under it alone.
func TestBucket(t *testing.T) {
	t.Parallel()
	b, _ := miniotest.Bucket(t)
	ctx := context.Background()
	for _, key := range []string{"a/1/00", "a/1/01", "a/2/00", "b/1/00"} {
		if err := b.Put(ctx, key, []byte("blob "+key)); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	got, err := b.Get(ctx, "a/1/01", 100)
	if err != nil || string(got) != "blob a/1/01" {
		t.Errorf("Get: %q, %v", got, err)
	}
	if _, err := b.Get(ctx, "a/1/02", 100); !errors.Is(err, objectstore.ErrNotFound) {
		t.Errorf("Get of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := b.Get(ctx, "a/1/01", 4); err == nil {
		t.Error("Get over the limit succeeded")
	}
	if keys := list(t, b, "", true); keys != "a/ b/" {
		t.Errorf("top-level prefixes %q", keys)
	}
	if keys := list(t, b, "a/", false); keys != "a/1/00 a/1/01 a/2/00" {
		t.Errorf("keys under a/: %q", keys)
	}
	if err := b.DeletePrefix(ctx, "a/1/"); err != nil {
		t.Fatalf("DeletePrefix: %v", err)
	}
	if err := b.DeletePrefix(ctx, "a/1/"); err != nil {
		t.Errorf("DeletePrefix of nothing: %v", err)
	}
	if keys := list(t, b, "", false); keys != "a/2/00 b/1/00" {
		t.Errorf("keys after deleting a/1/: %q", keys)
	}
	if err := b.DeletePrefix(ctx, ""); err == nil {
		t.Error("DeletePrefix of the whole bucket succeeded")
	}
}

func list(t *testing.T, b *objectstore.Bucket, prefix string, delimit bool) string {
	t.Helper()
	var keys []string
	if err := b.List(context.Background(), prefix, delimit, func(o objectstore.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatalf("List: %v", err)
	}
	return strings.Join(keys, " ")
}

// TestOpen: a bucket that does not exist, a certificate not trusted and credentials that are
// wrong each stop Open with an error; the right settings open the bucket over TLS.
func TestOpen(t *testing.T) {
	t.Parallel()
	_, s := miniotest.Bucket(t)
	ctx := context.Background()

	missing := s
	missing.Bucket = "no-such-bucket"
	if _, err := objectstore.Open(ctx, missing, false); err == nil || !strings.Contains(err.Error(), "PASSAGE_S3_BUCKET") {
		t.Errorf("Open of a missing bucket: %v", err)
	}
	untrusted := s
	untrusted.CAFile = ""
	if _, err := objectstore.Open(ctx, untrusted, false); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Open with the system's roots: %v, want a certificate error", err)
	}
	wrong := s
	wrong.SecretKeyFile = filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(wrong.SecretKeyFile, []byte("not-the-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := objectstore.Open(ctx, wrong, false); err == nil {
		t.Error("Open with a wrong secret key succeeded")
	}
	b, err := objectstore.Open(ctx, s, false)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := b.Put(ctx, "k", []byte("v")); err != nil {
		t.Errorf("Put: %v", err)
	}
}

// TestCheck: each missing or wrong setting is an error naming its variable; plain http is
// allowed in development only.
func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(key, []byte("k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := objectstore.Settings{Endpoint: "https://s3.example.org", Bucket: "passage", Region: "us-east-1",
		AccessKeyFile: key, SecretKeyFile: key}
	if err := good.Check(false); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for name, tc := range map[string]struct {
		change func(*objectstore.Settings)
		dev    bool
		want   string
	}{
		"no endpoint":       {func(s *objectstore.Settings) { s.Endpoint = "" }, false, "PASSAGE_S3_ENDPOINT is not set"},
		"http":              {func(s *objectstore.Settings) { s.Endpoint = "http://127.0.0.1:9000" }, false, "PASSAGE_S3_ENDPOINT: plain http"},
		"a path":            {func(s *objectstore.Settings) { s.Endpoint = "https://s3.example.org/bucket" }, false, "PASSAGE_S3_ENDPOINT: want"},
		"credentials in it": {func(s *objectstore.Settings) { s.Endpoint = "https://k:s@s3.example.org" }, false, "PASSAGE_S3_ENDPOINT: want"},
		"no scheme":         {func(s *objectstore.Settings) { s.Endpoint = "s3.example.org" }, false, "PASSAGE_S3_ENDPOINT: want"},
		"no bucket":         {func(s *objectstore.Settings) { s.Bucket = "" }, false, "PASSAGE_S3_BUCKET"},
		"no region":         {func(s *objectstore.Settings) { s.Region = "" }, false, "PASSAGE_S3_REGION"},
		"no access key":     {func(s *objectstore.Settings) { s.AccessKeyFile = "" }, false, "PASSAGE_S3_ACCESS_KEY_FILE is not set"},
		"no key file":       {func(s *objectstore.Settings) { s.SecretKeyFile = filepath.Join(dir, "none") }, false, "PASSAGE_S3_SECRET_KEY_FILE"},
		"an empty key":      {func(s *objectstore.Settings) { s.AccessKeyFile = empty }, false, "PASSAGE_S3_ACCESS_KEY_FILE: the file is empty"},
		"no CA file":        {func(s *objectstore.Settings) { s.CAFile = filepath.Join(dir, "none") }, false, "PASSAGE_S3_CA_FILE"},
		"http in dev":       {func(s *objectstore.Settings) { s.Endpoint = "http://127.0.0.1:9000" }, true, ""},
	} {
		s := good
		tc.change(&s)
		err := s.Check(tc.dev)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestUnavailable: while the store is out of reach every operation fails with an error that
// is ErrUnavailable and carries no network error (which database.Classify would take for a
// lost connection to Postgres); once the store is back, they work again. A missing key, or a
// call given up by its caller, is not an outage.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	b, link := miniotest.LinkedBucket(t)
	ctx := context.Background()
	if err := b.Put(ctx, "a/1/00", []byte("blob")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := b.Get(ctx, "a/1/01", 100); !errors.Is(err, objectstore.ErrNotFound) || errors.Is(err, objectstore.ErrUnavailable) {
		t.Errorf("Get of a missing key: %v, want ErrNotFound alone", err)
	}

	link.Cut()
	_, getErr := b.Get(ctx, "a/1/00", 100)
	ops := map[string]error{
		"Put":          b.Put(ctx, "a/1/01", []byte("blob")),
		"Get":          getErr,
		"List":         b.List(ctx, "a/", false, func(objectstore.Object) error { return nil }),
		"DeletePrefix": b.DeletePrefix(ctx, "a/"),
	}
	for op, err := range ops {
		if !errors.Is(err, objectstore.ErrUnavailable) {
			t.Errorf("%s while the store is away: %v, want ErrUnavailable", op, err)
		}
		if _, isNet := errors.AsType[net.Error](err); isNet {
			t.Errorf("%s while the store is away: %v carries a network error, which database.Classify would take for Postgres's", op, err)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Put(canceled, "a/1/01", []byte("blob")); err == nil || errors.Is(err, objectstore.ErrUnavailable) {
		t.Errorf("Put with its context canceled: %v, want the cancellation, not an outage", err)
	}

	link.Mend()
	if got, err := b.Get(ctx, "a/1/00", 100); err != nil || string(got) != "blob" {
		t.Errorf("Get once the store is back: %q, %v", got, err)
	}
}
