package objectstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Bucket is one bucket of an S3-compatible store. It is safe for concurrent use.
type Bucket struct {
	client *minio.Client
	name   string
}

// Object is what List reports of one blob.
type Object struct {
	Key      string
	Modified time.Time
}

// Open checks s (Check, with dev), connects to the bucket it names and checks that the bucket
// exists.
func Open(ctx context.Context, s Settings, dev bool) (*Bucket, error) {
	if err := s.Check(dev); err != nil {
		return nil, err
	}
	host, secure, _ := s.endpoint(dev)
	transport, err := transport(s.CAFile)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(host, &minio.Options{
		Creds:  credentials.New(&fileCredentials{access: s.AccessKeyFile, secret: s.SecretKeyFile}),
		Secure: secure, Region: s.Region, Transport: transport, BucketLookup: minio.BucketLookupPath,
		// Three tries (about 1.5 s of pauses) ride out a dropped connection; minio-go's ten
		// (about 8 s) would keep a caseworker waiting on a store that is down, when the call
		// is better answered UNAVAILABLE for the client to retry (ErrUnavailable).
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("PASSAGE_S3_ENDPOINT: %w", err)
	}
	b := &Bucket{client: client, name: s.Bucket}
	if err := b.Check(ctx); errors.Is(err, errNoBucket) {
		return nil, fmt.Errorf("PASSAGE_S3_BUCKET: bucket %s does not exist (create it; the server never does)", s.Bucket)
	} else if err != nil {
		return nil, err
	}
	return b, nil
}

// transport is an HTTP transport that trusts caFile's certificates, or the system's roots
// when caFile is "", and speaks TLS 1.2 at least.
func transport(caFile string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	// Chunks are ciphertext: compressing them gains nothing.
	t.DisableCompression = true
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("PASSAGE_S3_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("PASSAGE_S3_CA_FILE: no PEM certificate in the file")
		}
		t.TLSClientConfig.RootCAs = pool
	}
	return t, nil
}

// Check reports whether the bucket can be reached and still exists (errNoBucket when not):
// Open checks it, and readiness pings it (one HEAD request). Its error wraps the client's
// own, unclassified, so that readiness's log names the cause (connection refused, a
// timeout); no request's transaction ever sees it.
func (b *Bucket) Check(ctx context.Context) error {
	ok, err := b.client.BucketExists(ctx, b.name)
	if err != nil {
		return fmt.Errorf("object store: reach bucket %s: %w", b.name, err)
	}
	if !ok {
		return fmt.Errorf("object store: bucket %s: %w", b.name, errNoBucket)
	}
	return nil
}

// errNoBucket is a bucket the store does not hold.
var errNoBucket = errors.New("it does not exist")

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Put stores blob under key, replacing what was there.
func (b *Bucket) Put(ctx context.Context, key string, blob []byte) error {
	_, err := b.client.PutObject(ctx, b.name, key, bytes.NewReader(blob), int64(len(blob)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	if err != nil {
		return fmt.Errorf("object store: put into bucket %s: %w", b.name, classify(ctx, err))
	}
	return nil
}

// Get reads the blob under key, of at most limit bytes. A missing key is an error wrapping
// ErrNotFound.
func (b *Bucket) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	obj, err := b.client.GetObject(ctx, b.name, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("object store: get from bucket %s: %w", b.name, classify(ctx, err))
	}
	defer obj.Close()
	blob, err := io.ReadAll(io.LimitReader(obj, limit+1))
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return nil, fmt.Errorf("object store: get from bucket %s: %w", b.name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("object store: get from bucket %s: %w", b.name, classify(ctx, err))
	}
	if int64(len(blob)) > limit {
		return nil, fmt.Errorf("object store: get from bucket %s: a blob of more than %d bytes", b.name, limit)
	}
	return blob, nil
}

// ErrNotFound is a key the bucket does not hold.
var ErrNotFound = errors.New("no such object")

// List calls fn with each blob whose key starts with prefix, in key order; with delimit,
// keys are cut after the first "/" past the prefix and each such common prefix is reported
// once (its Modified zero).
func (b *Bucket) List(ctx context.Context, prefix string, delimit bool, fn func(Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range b.client.ListObjects(ctx, b.name, minio.ListObjectsOptions{Prefix: prefix, Recursive: !delimit}) {
		if o.Err != nil {
			return fmt.Errorf("object store: list bucket %s: %w", b.name, classify(ctx, o.Err))
		}
		if err := fn(Object{Key: o.Key, Modified: o.LastModified}); err != nil {
			return err
		}
	}
	return nil
}

// DeletePrefix deletes every blob whose key starts with prefix, which must not be empty.
// Deleting what is not there is not an error.
func (b *Bucket) DeletePrefix(ctx context.Context, prefix string) error {
	if prefix == "" {
		return errors.New("object store: refusing to delete the whole bucket")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objects := make(chan minio.ObjectInfo)
	listErr := make(chan error, 1)
	go func() {
		defer close(objects)
		listErr <- b.List(ctx, prefix, false, func(o Object) error {
			select {
			case objects <- minio.ObjectInfo{Key: o.Key}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var err error
	for e := range b.client.RemoveObjects(ctx, b.name, objects, minio.RemoveObjectsOptions{}) {
		if err == nil {
			err = fmt.Errorf("object store: delete from bucket %s: %w", b.name, classify(ctx, e.Err))
			cancel()
		}
	}
	return errors.Join(err, <-listErr)
}

// fileCredentials reads the access key and secret key from their files, again once they
// are older than credentialsTTL.
type fileCredentials struct {
	access, secret string

	mu   sync.Mutex
	read time.Time
}

// credentialsTTL is how long credentials read from the files are used before being read
// again.
const credentialsTTL = 5 * time.Minute

func (f *fileCredentials) Retrieve() (credentials.Value, error) {
	access, err := readSecret(f.access)
	if err != nil {
		return credentials.Value{}, fmt.Errorf("PASSAGE_S3_ACCESS_KEY_FILE: %w", err)
	}
	secret, err := readSecret(f.secret)
	if err != nil {
		return credentials.Value{}, fmt.Errorf("PASSAGE_S3_SECRET_KEY_FILE: %w", err)
	}
	f.mu.Lock()
	f.read = time.Now()
	f.mu.Unlock()
	return credentials.Value{AccessKeyID: access, SecretAccessKey: secret, SignerType: credentials.SignatureV4}, nil
}

func (f *fileCredentials) RetrieveWithCredContext(*credentials.CredContext) (credentials.Value, error) {
	return f.Retrieve()
}

func (f *fileCredentials) IsExpired() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Since(f.read) > credentialsTTL
}
