package mtls

import (
	"crypto/tls"
)

// ClientConfig returns a client's TLS configuration: TLS 1.3 only, the server verified
// against f.CA (or the system roots), and the client certificate from f.Cert and f.Key
// presented when the server asks, re-read when the files change so a long-running client
// survives a renewal.
func ClientConfig(f ClientFiles) (*tls.Config, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	c := &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: f.ServerName,
	}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if f.Cert != "" {
		r, err := newReloader(func() (*tls.Certificate, error) {
			cert, err := loadKeyPair(f.Cert, f.Key)
			return &cert, err
		}, f.Cert, f.Key)
		if err != nil {
			return nil, err
		}
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return r.get(), nil
		}
	}
	return c, nil
}
