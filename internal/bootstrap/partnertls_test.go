package bootstrap

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/mtls/mtlstest"
	"github.com/passage-cm/passage/internal/server"
)

// The partner gateway has TLS of its own: its certificate and client CA, never gRPC's. A
// client certificate IOM's CA issued (good for gRPC) is refused on the partner port, a
// partner's is accepted; with gRPC on TLS and nothing for the gateway, it does not start.
func TestPartnerTLSIsItsOwn(t *testing.T) {
	t.Parallel()
	if tc, err := partnerTLS(server.Config{}); tc != nil || err != nil {
		t.Errorf("no TLS anywhere: %v, %v; want the gateway in the clear", tc, err)
	}
	iom, partners := mtlstest.NewCA(t, "iom"), mtlstest.NewCA(t, "partners")
	grpcCert := iom.Server(t, "grpc")
	grpcTLS := mtls.ServerFiles{Cert: grpcCert.Cert, Key: grpcCert.Key, ClientCA: iom.CertFile}
	if _, err := partnerTLS(server.Config{TLS: grpcTLS}); err == nil || !strings.Contains(err.Error(), "PASSAGE_PARTNER_TLS_CERT") {
		t.Errorf("gRPC on TLS, gateway without: %v; want a refusal naming PASSAGE_PARTNER_TLS_CERT", err)
	}
	gwCert := partners.Server(t, "partners-gateway")
	tc, err := partnerTLS(server.Config{TLS: grpcTLS,
		PartnerTLS: mtls.ServerFiles{Cert: gwCert.Cert, Key: gwCert.Key, ClientCA: partners.CertFile}})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	results := make(chan error, 1)
	go func() {
		tl := tls.NewListener(lis, tc)
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			results <- c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	roots := x509.NewCertPool()
	pem, err := os.ReadFile(partners.CertFile)
	if err != nil || !roots.AppendCertsFromPEM(pem) {
		t.Fatal("partners CA", err)
	}
	handshake := func(client mtlstest.Pair) error {
		t.Helper()
		cert, err := tls.LoadX509KeyPair(client.Cert, client.Key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tls.Dial("tcp", lis.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost",
			Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
		if err == nil {
			_ = c.Close()
		}
		return <-results // the server's verdict on the client certificate
	}
	if err := handshake(iom.Client(t, "caseworker-laptop")); err == nil {
		t.Error("a client certificate of gRPC's CA was accepted by the partner gateway")
	}
	if err := handshake(partners.Client(t, "ngo-terre")); err != nil {
		t.Errorf("a partner's client certificate was refused: %v", err)
	}
}
