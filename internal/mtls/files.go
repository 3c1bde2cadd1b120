package mtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ServerFiles names the server's PEM files. All empty means no TLS; otherwise Cert and Key
// are both required, and ClientCA, when set, makes client certificates mandatory.
// Its env tags are read under a prefix (internal/envconfig's envprefix): PASSAGE_TLS_ for
// gRPC, PASSAGE_PARTNER_TLS_ for the partner gateway.
type ServerFiles struct {
	Cert     string `env:"CERT" help:"the certificate (PEM) to serve TLS 1.3 with, with {*KEY} (both or neither)"`
	Key      string `env:"KEY" help:"the private key of {*CERT}"`
	ClientCA string `env:"CLIENT_CA" help:"with TLS, require client certificates signed by this CA (mTLS)"`
}

// Enabled reports whether any TLS file is configured.
func (f ServerFiles) Enabled() bool {
	return f.Cert != "" || f.Key != "" || f.ClientCA != ""
}

// Validate refuses half a configuration: a certificate without its key (or the reverse), or
// a client CA without a server certificate. Starting in the clear when the operator meant
// TLS would send tokens and identities over the wire unprotected.
func (f ServerFiles) Validate() error {
	return f.ValidateAs("PASSAGE_TLS_")
}

// ValidateAs is Validate, naming the missing settings with prefix ("PASSAGE_PARTNER_TLS_"
// for the partner gateway's files).
func (f ServerFiles) ValidateAs(prefix string) error {
	if !f.Enabled() {
		return nil
	}
	var missing []string
	if f.Cert == "" {
		missing = append(missing, prefix+"CERT")
	}
	if f.Key == "" {
		missing = append(missing, prefix+"KEY")
	}
	if len(missing) > 0 {
		return fmt.Errorf("mtls: incomplete TLS configuration: %v not set", missing)
	}
	return nil
}

// ClientFiles names a client's PEM files. CA verifies the server (empty: the system roots);
// Cert and Key, both or neither, are the client certificate presented to the server.
type ClientFiles struct {
	CA, Cert, Key string
	// ServerName overrides the name checked in the server's certificate (empty: the host
	// of the address dialled).
	ServerName string
}

// Validate refuses a client certificate without its key, or the reverse.
func (f ClientFiles) Validate() error {
	if (f.Cert == "") != (f.Key == "") {
		return errors.New("mtls: a client certificate needs both --tls-cert and --tls-key")
	}
	return nil
}

// fileState identifies a version of a file cheaply, without reading it.
type fileState struct {
	modTime time.Time
	size    int64
}

// reloader holds what was built from a set of files and rebuilds it when one of them changes
// on disk. A failed rebuild (a half-written renewal, say) keeps serving the last good value.
type reloader[T any] struct {
	paths []string
	build func() (T, error)

	mu     sync.Mutex
	states []fileState
	value  T
}

func newReloader[T any](build func() (T, error), paths ...string) (*reloader[T], error) {
	r := &reloader[T]{paths: paths, build: build}
	states, err := r.stat()
	if err != nil {
		return nil, err
	}
	v, err := build()
	if err != nil {
		return nil, err
	}
	r.states, r.value = states, v
	return r, nil
}

func (r *reloader[T]) stat() ([]fileState, error) {
	out := make([]fileState, len(r.paths))
	for i, p := range r.paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("mtls: %w", err)
		}
		out[i] = fileState{fi.ModTime(), fi.Size()}
	}
	return out, nil
}

// get returns the current value, rebuilt first if a file changed. A stat per handshake costs
// microseconds, next to the milliseconds of the handshake itself.
func (r *reloader[T]) get() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	states, err := r.stat()
	if err != nil || equalStates(states, r.states) {
		return r.value
	}
	v, err := r.build()
	if err != nil {
		return r.value
	}
	r.states, r.value = states, v
	return v
}

func equalStates(a, b []fileState) bool {
	for i := range a {
		if !a[i].modTime.Equal(b[i].modTime) || a[i].size != b[i].size {
			return false
		}
	}
	return true
}

// loadPool reads a PEM bundle of CA certificates.
func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mtls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("mtls: %s holds no PEM certificate", path)
	}
	return pool, nil
}

func loadKeyPair(cert, key string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("mtls: %w", err)
	}
	return c, nil
}
