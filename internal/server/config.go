package server

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/quota"
)

// Defaults for [Config], used for any field left at its zero value.
const (
	DefaultGRPCAddr = "127.0.0.1:7070"
	DefaultHTTPAddr = "127.0.0.1:7080"
	// DefaultPartnerHTTPAddr is where the HTTP/JSON gateway for partner agencies listens.
	DefaultPartnerHTTPAddr = "127.0.0.1:7090"
	DefaultShutdownGrace   = 10 * time.Second
	// DefaultMaxRecvMsgBytes bounds a request: larger ones are refused by grpc itself with
	// RESOURCE_EXHAUSTED before any of our code or memory is spent on them.
	DefaultMaxRecvMsgBytes = 1 << 20
	// DefaultMaxTokenLifetime is the longest bearer token accepted (exp - iat): a working day.
	DefaultMaxTokenLifetime = auth.DefaultMaxLifetime
	// maxTokenLifetimeCeiling is the most PASSAGE_MAX_TOKEN_LIFETIME may allow: beyond a week a
	// stolen token outlives any reasonable response to its theft.
	maxTokenLifetimeCeiling = 7 * 24 * time.Hour
)

// Config is what a deployment can tune about the server.
type Config struct {
	// GRPCAddr is where gRPC listens. Env PASSAGE_GRPC_ADDR; default 127.0.0.1:7070.
	GRPCAddr string
	// HTTPAddr is where /healthz, /readyz and /metrics listen. Env PASSAGE_HTTP_ADDR;
	// default 127.0.0.1:7080.
	HTTPAddr string
	// PartnerHTTPAddr is where the HTTP/JSON gateway partners use listens (the services'
	// google.api.http bindings, see internal/gateway), with PartnerTLS. Env
	// PASSAGE_PARTNER_HTTP_ADDR; default 127.0.0.1:7090; "off" serves no gateway.
	PartnerHTTPAddr string
	// PartnerTLS are the gateway's own PEM files, apart from gRPC's: partner agencies reach it
	// under another name, often from the internet, and their client certificates (if any) come
	// from another CA than the one of IOM's own clients. PASSAGE_PARTNER_TLS_CERT and
	// PASSAGE_PARTNER_TLS_KEY, and PASSAGE_PARTNER_TLS_CLIENT_CA to require partner client
	// certificates that CA signed. None set serves the gateway in the clear, which is refused
	// when gRPC has TLS (see bootstrap); half of them set is refused.
	PartnerTLS mtls.ServerFiles
	// ShutdownGrace is how long in-flight calls may run after shutdown begins before they
	// are cancelled. Env PASSAGE_SHUTDOWN_GRACE (a Go duration, "10s"); default 10s.
	ShutdownGrace time.Duration
	// MaxRecvMsgBytes is the largest request accepted. Env PASSAGE_MAX_RECV_MSG_BYTES;
	// default 1 MiB.
	MaxRecvMsgBytes int
	// MaxTokenLifetime is the longest lifetime of a bearer token accepted: exp - iat, or
	// exp - now for a token without iat (see internal/auth's token contract). Env
	// PASSAGE_MAX_TOKEN_LIFETIME (a Go duration from 1m to 168h); default 12h.
	MaxTokenLifetime time.Duration
	// TLS are the PEM files for gRPC over TLS 1.3: PASSAGE_TLS_CERT and PASSAGE_TLS_KEY, and
	// PASSAGE_TLS_CLIENT_CA to require client certificates that CA signed (mTLS). None set
	// serves gRPC in the clear, for a laptop or behind a mesh that terminates TLS; half of
	// them set is refused.
	TLS mtls.ServerFiles
	// Quota limits each caller's calls per class of method and each source address's
	// unauthenticated calls (see internal/quota): PASSAGE_QUOTA ("on", the default, or "off")
	// and PASSAGE_QUOTA_<CLASS> ("RATE:BURST"). Its zero value, unlike the other fields',
	// limits nothing: DefaultConfig and ConfigFromEnv turn it on.
	Quota quota.Config
}

// DefaultConfig returns the configuration for a server on a developer's machine.
func DefaultConfig() Config {
	return Config{
		GRPCAddr:         DefaultGRPCAddr,
		HTTPAddr:         DefaultHTTPAddr,
		PartnerHTTPAddr:  DefaultPartnerHTTPAddr,
		ShutdownGrace:    DefaultShutdownGrace,
		MaxRecvMsgBytes:  DefaultMaxRecvMsgBytes,
		MaxTokenLifetime: DefaultMaxTokenLifetime,
		Quota:            quota.DefaultConfig(),
	}
}

// ConfigFromEnv returns [DefaultConfig] overridden by the PASSAGE_* variables that are set.
func ConfigFromEnv() (Config, error) {
	return configFrom(os.LookupEnv)
}

func configFrom(lookup func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	if v, ok := lookup("PASSAGE_GRPC_ADDR"); ok && v != "" {
		cfg.GRPCAddr = v
	}
	if v, ok := lookup("PASSAGE_HTTP_ADDR"); ok && v != "" {
		cfg.HTTPAddr = v
	}
	if v, ok := lookup("PASSAGE_PARTNER_HTTP_ADDR"); ok && v != "" {
		cfg.PartnerHTTPAddr = v
	}
	if v, ok := lookup("PASSAGE_SHUTDOWN_GRACE"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("server: PASSAGE_SHUTDOWN_GRACE=%q: want a positive duration such as 10s", v)
		}
		cfg.ShutdownGrace = d
	}
	if v, ok := lookup("PASSAGE_MAX_RECV_MSG_BYTES"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return Config{}, fmt.Errorf("server: PASSAGE_MAX_RECV_MSG_BYTES=%q: want a positive number of bytes", v)
		}
		cfg.MaxRecvMsgBytes = n
	}
	if v, ok := lookup("PASSAGE_MAX_TOKEN_LIFETIME"); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > maxTokenLifetimeCeiling {
			return Config{}, fmt.Errorf("server: PASSAGE_MAX_TOKEN_LIFETIME=%q: want a duration from 1m to 168h, such as 12h", v)
		}
		cfg.MaxTokenLifetime = d
	}
	for name, field := range map[string]*string{
		"PASSAGE_TLS_CERT": &cfg.TLS.Cert, "PASSAGE_TLS_KEY": &cfg.TLS.Key, "PASSAGE_TLS_CLIENT_CA": &cfg.TLS.ClientCA,
	} {
		if v, ok := lookup(name); ok {
			*field = v
		}
	}
	if err := cfg.TLS.Validate(); err != nil {
		return Config{}, fmt.Errorf("server: %w", err)
	}
	for name, field := range map[string]*string{
		"PASSAGE_PARTNER_TLS_CERT": &cfg.PartnerTLS.Cert, "PASSAGE_PARTNER_TLS_KEY": &cfg.PartnerTLS.Key,
		"PASSAGE_PARTNER_TLS_CLIENT_CA": &cfg.PartnerTLS.ClientCA,
	} {
		if v, ok := lookup(name); ok {
			*field = v
		}
	}
	if err := cfg.PartnerTLS.ValidateAs("PASSAGE_PARTNER_TLS_"); err != nil {
		return Config{}, fmt.Errorf("server: partner gateway: %w", err)
	}
	q, err := quota.FromEnv(lookup)
	if err != nil {
		return Config{}, fmt.Errorf("server: %w", err)
	}
	cfg.Quota = q
	return cfg, nil
}

// withDefaults fills the zero fields of c from [DefaultConfig].
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.GRPCAddr == "" {
		c.GRPCAddr = d.GRPCAddr
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = d.HTTPAddr
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = d.ShutdownGrace
	}
	if c.MaxRecvMsgBytes <= 0 {
		c.MaxRecvMsgBytes = d.MaxRecvMsgBytes
	}
	return c
}
