package bootstrap

import (
	"context"
	"errors"
	"time"

	"github.com/passage-cm/passage/internal/envconfig"
	"github.com/passage-cm/passage/internal/objectstore"
)

// DocumentStore is where the documents' sealed chunks are kept: "postgres" (the default,
// which needs nothing more) or "s3" (an S3-compatible bucket, PASSAGE_S3_*).
type DocumentStore string

// The document stores.
const (
	DocumentStorePostgres DocumentStore = "postgres"
	DocumentStoreS3       DocumentStore = "s3"
)

// UnmarshalText reads postgres or s3.
func (s *DocumentStore) UnmarshalText(b []byte) error {
	switch v := DocumentStore(b); v {
	case DocumentStorePostgres, DocumentStoreS3:
		*s = v
		return nil
	}
	return envconfig.Reason("want postgres or s3")
}

// Documents are the settings of the documents service (services/intake/document).
type Documents struct {
	Store DocumentStore `env:"PASSAGE_DOCUMENT_STORE" default:"postgres" help:"where documents' sealed chunks are kept: {postgres} (in the database, nothing more to run) or {s3} (a bucket of an S3-compatible store, {PASSAGE_S3_*})"`
	// MaxBytes is the largest file an upload accepts.
	MaxBytes int64 `env:"PASSAGE_DOCUMENT_MAX_BYTES" default:"20971520" help:"the largest document an upload accepts, in bytes (20 MiB by default); a larger one is refused before any byte is read; at most 1 GiB"`
	// SweepInterval is how often the S3 bucket is swept of the objects no readable
	// document needs (an erased person's, a failed upload's).
	SweepInterval time.Duration `env:"PASSAGE_DOCUMENT_SWEEP_INTERVAL" default:"1h" help:"with {s3}: how often the bucket is swept of the objects of erased people's documents and of failed uploads; at least {1m}"`
	S3            objectstore.Settings
}

// maxDocumentBytes bounds PASSAGE_DOCUMENT_MAX_BYTES: a document is a scan or a photo, and an
// upload holds a database transaction open while it runs.
const maxDocumentBytes = 1 << 30

// check reports the first document setting that is wrong, naming its variable; the S3
// settings are checked only when the store is s3.
func (d Documents) check(dev bool) error {
	if d.MaxBytes < 1 || d.MaxBytes > maxDocumentBytes {
		return errors.New("PASSAGE_DOCUMENT_MAX_BYTES must be a whole number of bytes from 1 to 1073741824 (1 GiB)")
	}
	if d.Store != DocumentStoreS3 {
		return nil
	}
	if d.SweepInterval < time.Minute {
		return errors.New("PASSAGE_DOCUMENT_SWEEP_INTERVAL must be a duration of at least 1m, e.g. 1h")
	}
	return d.S3.Check(dev)
}

// DocumentDeps is what the documents service is built from besides its pool and keys.
type DocumentDeps struct {
	// Bucket keeps the chunks when set (PASSAGE_DOCUMENT_STORE=s3); nil keeps them in
	// Postgres.
	Bucket *objectstore.Bucket
	// MaxBytes is the largest file an upload accepts; 0 is the service's default.
	MaxBytes int64
	// SweepInterval is how often the bucket is swept (Bucket set only).
	SweepInterval time.Duration
}

// OpenDocumentBucket opens the bucket cfg names when documents are kept in S3
// (PASSAGE_DOCUMENT_STORE=s3), nil otherwise: what Run hands the documents service, and what
// an operator's command reading documents (`passage export`) reads them from.
func OpenDocumentBucket(ctx context.Context, cfg Config) (*objectstore.Bucket, error) {
	if cfg.Documents.Store != DocumentStoreS3 {
		return nil, nil
	}
	return objectstore.Open(ctx, cfg.Documents.S3, cfg.Dev)
}
