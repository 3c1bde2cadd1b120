package mtls

import (
	"crypto/tls"
	"errors"
)

// alpnH2 is the protocol gRPC speaks; grpc-go clients refuse a server that does not
// negotiate it.
var alpnH2 = []string{"h2"}

// ServerConfig returns the server's TLS configuration: TLS 1.3 only, the certificate from
// f.Cert and f.Key, and with f.ClientCA every client must present a certificate that CA
// signed, valid now. The files are read now (a bad file fails here, at startup) and again
// whenever one of them changes, at the next handshake.
func ServerConfig(f ServerFiles) (*tls.Config, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if !f.Enabled() {
		return nil, errors.New("mtls: no TLS files configured")
	}
	paths := []string{f.Cert, f.Key}
	if f.ClientCA != "" {
		paths = append(paths, f.ClientCA)
	}
	r, err := newReloader(func() (*tls.Config, error) { return buildServerConfig(f) }, paths...)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: alpnH2,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.get(), nil
		},
	}, nil
}

func buildServerConfig(f ServerFiles) (*tls.Config, error) {
	cert, err := loadKeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		NextProtos:   alpnH2,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.NoClientCert,
	}
	if f.ClientCA != "" {
		pool, err := loadPool(f.ClientCA)
		if err != nil {
			return nil, err
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}
