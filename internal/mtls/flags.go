package mtls

import (
	"errors"
	"flag"
	"net"
	"net/netip"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// ClientFlags are a command-line gRPC client's transport settings: the PEM files that verify
// the server and present a client certificate, or no TLS at all. `passage`'s client commands
// and every command's `healthcheck --grpc` take them as the same flags.
type ClientFlags struct {
	Files ClientFiles
	// Plaintext connects without TLS.
	Plaintext bool
}

// Register defines the transport's flags on fs: --insecure, and --tls-ca, --tls-cert,
// --tls-key and --tls-server-name, whose defaults are PASSAGE_TLS_CA,
// PASSAGE_TLS_CLIENT_CERT, PASSAGE_TLS_CLIENT_KEY and PASSAGE_TLS_SERVER_NAME read with
// getenv. addrFlag names the command's flag of the server's address, for the help.
func (c *ClientFlags) Register(fs *flag.FlagSet, getenv func(string) string, addrFlag string) {
	fs.BoolVar(&c.Plaintext, "insecure", false, "connect without TLS (default: true for a loopback --"+addrFlag+", false otherwise)")
	fs.StringVar(&c.Files.CA, "tls-ca", getenv("PASSAGE_TLS_CA"), "PEM `FILE` of the CA that signed the server's certificate (env PASSAGE_TLS_CA; default: the system's roots)")
	fs.StringVar(&c.Files.Cert, "tls-cert", getenv("PASSAGE_TLS_CLIENT_CERT"), "client certificate PEM `FILE`, for a server that requires one (env PASSAGE_TLS_CLIENT_CERT)")
	fs.StringVar(&c.Files.Key, "tls-key", getenv("PASSAGE_TLS_CLIENT_KEY"), "client key PEM `FILE` (env PASSAGE_TLS_CLIENT_KEY)")
	fs.StringVar(&c.Files.ServerName, "tls-server-name", getenv("PASSAGE_TLS_SERVER_NAME"), "`NAME` expected in the server's certificate (default: the host of --"+addrFlag+")")
}

// Resolve chooses the transport to addr once the flags are parsed, unless --insecure was
// given (insecureGiven): no TLS only to this machine (IsLoopback), where no network can read
// what is sent, and only when no TLS file is named (files mean TLS, even to this machine).
func (c *ClientFlags) Resolve(addr string, insecureGiven bool) {
	if !insecureGiven {
		c.Plaintext = IsLoopback(addr) && c.Files == (ClientFiles{})
	}
}

// Credentials returns the connection's security: TLS 1.3 with the configured CA and client
// certificate (ClientConfig), or none when Plaintext. A TLS file given with Plaintext is
// refused rather than silently ignored.
func (c ClientFlags) Credentials() (credentials.TransportCredentials, error) {
	if c.Plaintext {
		if c.Files != (ClientFiles{}) {
			return nil, errors.New("--tls-* flags given for a connection without TLS: drop them or pass --insecure=false")
		}
		return insecure.NewCredentials(), nil
	}
	tc, err := ClientConfig(c.Files)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(tc), nil
}

// IsLoopback reports whether addr (host:port or host) names this machine.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = strings.Trim(addr, "[]")
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
