package objectstore

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Settings say where the bucket is and how to sign in, read by internal/envconfig.
type Settings struct {
	// Endpoint is the store's URL: https://HOST[:PORT] (http:// only in development).
	Endpoint string `env:"PASSAGE_S3_ENDPOINT" help:"the S3-compatible endpoint, {https://HOST[:PORT]} ({http://} only with {--dev}); required when {PASSAGE_DOCUMENT_STORE} is {s3}"`
	// Bucket is the bucket, which must exist: the server never creates one.
	Bucket string `env:"PASSAGE_S3_BUCKET" help:"the bucket the documents' sealed chunks are kept in; it must exist, and hold nothing else"`
	// Region is the bucket's region (signing needs one; most other stores take any).
	Region string `env:"PASSAGE_S3_REGION" default:"us-east-1" help:"the bucket's region, for request signing"`
	// AccessKeyFile and SecretKeyFile hold the credentials, one value each (a trailing
	// newline is dropped).
	AccessKeyFile string `env:"PASSAGE_S3_ACCESS_KEY_FILE" help:"a file holding the access key id; required with {s3}"`
	SecretKeyFile string `env:"PASSAGE_S3_SECRET_KEY_FILE" help:"a file holding the secret access key; required with {s3}; read again every 5 minutes, so a rotated key needs no restart"`
	// CAFile, when set, is the PEM bundle the endpoint's certificate is checked against
	// instead of the system's roots (a private CA).
	CAFile string `env:"PASSAGE_S3_CA_FILE" help:"PEM certificates to trust for the endpoint instead of the system's roots (a private CA)"`
}

// Check reports the first setting that is missing or wrong, naming its variable; dev allows
// a plain http:// endpoint.
func (s Settings) Check(dev bool) error {
	if _, _, err := s.endpoint(dev); err != nil {
		return err
	}
	if s.Bucket == "" {
		return errors.New("PASSAGE_S3_BUCKET is not set")
	}
	if s.Region == "" {
		return errors.New("PASSAGE_S3_REGION is empty")
	}
	for name, path := range map[string]string{"PASSAGE_S3_ACCESS_KEY_FILE": s.AccessKeyFile, "PASSAGE_S3_SECRET_KEY_FILE": s.SecretKeyFile} {
		if path == "" {
			return fmt.Errorf("%s is not set", name)
		}
		if _, err := readSecret(path); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if s.CAFile != "" {
		if _, err := os.Stat(s.CAFile); err != nil {
			return fmt.Errorf("PASSAGE_S3_CA_FILE: %w", err)
		}
	}
	return nil
}

// endpoint returns the endpoint's host[:port] and whether it is reached over TLS.
func (s Settings) endpoint(dev bool) (host string, secure bool, err error) {
	if s.Endpoint == "" {
		return "", false, errors.New("PASSAGE_S3_ENDPOINT is not set")
	}
	u, err := url.Parse(s.Endpoint)
	if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false, errors.New("PASSAGE_S3_ENDPOINT: want https://HOST[:PORT], without a path or credentials")
	}
	switch u.Scheme {
	case "https":
		return u.Host, true, nil
	case "http":
		if !dev {
			return "", false, errors.New("PASSAGE_S3_ENDPOINT: plain http:// is for --dev only; use https://")
		}
		return u.Host, false, nil
	}
	return "", false, errors.New("PASSAGE_S3_ENDPOINT: want https://HOST[:PORT]")
}

// readSecret reads a one-value secret file, without its trailing newline.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", errors.New("the file is empty")
	}
	return v, nil
}
