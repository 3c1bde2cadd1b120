package server

import (
	"cmp"
	"fmt"
	"os"
	"time"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/envconfig"
	"github.com/passage-cm/passage/internal/mtls"
	"github.com/passage-cm/passage/internal/netlimit"
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

	// DefaultMaxConnections caps the connections open at once on the gRPC listener, and apart
	// on the partner gateway's. With HTTP/2 that is up to 25,600 calls in flight on each.
	DefaultMaxConnections = 256
	// DefaultMaxConcurrentStreams caps the calls in flight on one HTTP/2 connection.
	DefaultMaxConcurrentStreams = 100
	// DefaultMaxHeaderBytes bounds a request's headers, decoded: a bearer token (at most
	// 8 KiB, see internal/auth), a request id, traceparent and tracestate fit with room.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultHTTPReadTimeout bounds reading one HTTP request, body included: a 1 MiB body
	// needs 35 KB/s, a partner's JSON of a few kilobytes far less.
	DefaultHTTPReadTimeout = 30 * time.Second
	// DefaultHTTPWriteTimeout bounds an HTTP request from the end of its headers to the end
	// of its response.
	DefaultHTTPWriteTimeout = time.Minute
	// DefaultIdleTimeout closes connections that carry no call for this long.
	DefaultIdleTimeout = 5 * time.Minute

	// minHeaderBytes is the smallest PASSAGE_MAX_HEADER_BYTES accepted: less could not carry
	// a bearer token with the rest of a call's headers.
	minHeaderBytes = 4 << 10
)

// Config is what a deployment can tune about the server. The fields tagged env are read by
// [envconfig] (their help is the table in docs/operators.md and `passage serve -h`); their defaults
// equal [DefaultConfig]'s, which a test checks.
type Config struct {
	// GRPCAddr is where gRPC listens. Env PASSAGE_GRPC_ADDR; default 127.0.0.1:7070.
	GRPCAddr string `env:"PASSAGE_GRPC_ADDR" default:"127.0.0.1:7070" help:"gRPC"`
	// HTTPAddr is where /healthz, /readyz and /metrics listen. Env PASSAGE_HTTP_ADDR;
	// default 127.0.0.1:7080.
	HTTPAddr string `env:"PASSAGE_HTTP_ADDR" default:"127.0.0.1:7080" help:"{/healthz}, {/readyz}, {/metrics} (Prometheus)"`
	// PartnerHTTPAddr is where the HTTP/JSON gateway partners use listens (the services'
	// google.api.http bindings, see internal/gateway), with PartnerTLS. Env
	// PASSAGE_PARTNER_HTTP_ADDR; default 127.0.0.1:7090; "off" serves no gateway.
	PartnerHTTPAddr string `env:"PASSAGE_PARTNER_HTTP_ADDR" default:"127.0.0.1:7090" help:"the partners' HTTP/JSON gateway ({off} disables it), with its own TLS ({PASSAGE_PARTNER_TLS_*})"`
	// PartnerTLS are the gateway's own PEM files, apart from gRPC's: partner agencies reach it
	// under another name, often from the internet, and their client certificates (if any) come
	// from another CA than the one of IOM's own clients. PASSAGE_PARTNER_TLS_CERT and
	// PASSAGE_PARTNER_TLS_KEY, and PASSAGE_PARTNER_TLS_CLIENT_CA to require partner client
	// certificates that CA signed. None set serves the gateway in the clear, which is refused
	// when gRPC has TLS (see bootstrap); half of them set is refused.
	PartnerTLS mtls.ServerFiles `envprefix:"PASSAGE_PARTNER_TLS_" help:"the partner gateway, its own files (required when gRPC has TLS)"`
	// ShutdownGrace is how long in-flight calls may run after shutdown begins before they
	// are cancelled. Env PASSAGE_SHUTDOWN_GRACE (a Go duration, "10s"); default 10s.
	ShutdownGrace time.Duration `env:"PASSAGE_SHUTDOWN_GRACE" default:"10s" help:"how long in-flight calls may run after shutdown begins before they are cancelled"`
	// MaxRecvMsgBytes is the largest request accepted. Env PASSAGE_MAX_RECV_MSG_BYTES;
	// default 1 MiB.
	MaxRecvMsgBytes int `env:"PASSAGE_MAX_RECV_MSG_BYTES" default:"1048576" help:"the largest request accepted, gRPC message or gateway body, in bytes"`
	// MaxTokenLifetime is the longest lifetime of a bearer token accepted: exp - iat, or
	// exp - now for a token without iat (see internal/auth's token contract). Env
	// PASSAGE_MAX_TOKEN_LIFETIME (a Go duration from 1m to 168h); default 12h.
	MaxTokenLifetime time.Duration `env:"PASSAGE_MAX_TOKEN_LIFETIME" default:"12h" help:"the longest token accepted, {exp - iat} (or {exp - now} without {iat}); a Go duration from {1m} to {168h}"`
	// MaxConnections caps the connections open at once on the gRPC listener and, apart, on
	// the partner gateway's: one over the cap is closed as soon as it is accepted. The
	// /healthz, /readyz and /metrics listener has a small cap of its own (64). Env
	// PASSAGE_MAX_CONNECTIONS; default 256. Keep twice this, plus the database pools, under
	// the process's file limit.
	MaxConnections int `env:"PASSAGE_MAX_CONNECTIONS" default:"256" help:"connections open at once on the gRPC listener, and apart on the partner gateway's; one more is closed as soon as it is accepted (the probe listener has 64 of its own). Keep twice this, plus the pools, under the file limit"`
	// MaxConcurrentStreams caps the calls in flight on one HTTP/2 connection, gRPC's and the
	// gateway's: more are refused (REFUSED_STREAM) and a client retries them. Env
	// PASSAGE_MAX_CONCURRENT_STREAMS; default 100.
	MaxConcurrentStreams int `env:"PASSAGE_MAX_CONCURRENT_STREAMS" default:"100" help:"calls in flight on one HTTP/2 connection (gRPC and gateway); more are refused and clients retry them"`
	// MaxHeaderBytes bounds a request's headers once decoded: gRPC metadata, and the headers
	// of every HTTP server's requests. A gRPC call over it is reset before any of our code
	// runs. Env PASSAGE_MAX_HEADER_BYTES; default 16 KiB, at least 4 KiB.
	MaxHeaderBytes int `env:"PASSAGE_MAX_HEADER_BYTES" default:"16384" help:"a request's headers once decoded (gRPC metadata, HTTP headers); at least 4096, room for a bearer token"`
	// HTTPReadTimeout bounds reading one request on the partner gateway, headers and body: a
	// client that sends its body slower is cut off. Env PASSAGE_HTTP_READ_TIMEOUT (a Go
	// duration); default 30s.
	HTTPReadTimeout time.Duration `env:"PASSAGE_HTTP_READ_TIMEOUT" default:"30s" help:"reading one gateway request, body included; slower clients are cut off"`
	// HTTPWriteTimeout bounds a gateway request from the end of its headers to the end of
	// its response; default 1m.
	HTTPWriteTimeout time.Duration
	// IdleTimeout closes a connection that carries no call for this long: gRPC's
	// MaxConnectionIdle (the client reconnects when it next calls) and the gateway's
	// keep-alive. Env PASSAGE_IDLE_TIMEOUT (a Go duration); default 5m.
	IdleTimeout time.Duration `env:"PASSAGE_IDLE_TIMEOUT" default:"5m" help:"connections with no call for this long are closed (gRPC {MaxConnectionIdle}, HTTP keep-alive)"`
	// TLS are the PEM files for gRPC over TLS 1.3: PASSAGE_TLS_CERT and PASSAGE_TLS_KEY, and
	// PASSAGE_TLS_CLIENT_CA to require client certificates that CA signed (mTLS). None set
	// serves gRPC in the clear, for a laptop or behind a mesh that terminates TLS; half of
	// them set is refused.
	TLS mtls.ServerFiles `envprefix:"PASSAGE_TLS_" help:"gRPC"`
	// Reflection serves gRPC server reflection (the list of services and their descriptors,
	// which grpcurl and similar tools read) to anyone, without a token. Handy on a developer's
	// machine, it tells an attacker every method to try, so it is off unless asked for. Env
	// PASSAGE_GRPC_REFLECTION ("on" or "off"); with --dev it is on unless set to "off"
	// (bootstrap).
	Reflection envconfig.Switch `env:"PASSAGE_GRPC_REFLECTION" default:"off" help:"gRPC server reflection, for grpcurl and similar tools: it lists every method to anyone without a token, so keep it {off} in production; with {--dev} it is on unless set to {off}"`
	// Quota limits each caller's calls per class of method and each source address's
	// unauthenticated calls (see internal/quota): PASSAGE_QUOTA ("on", the default, or "off")
	// and PASSAGE_QUOTA_<CLASS> ("RATE:BURST"), its env tags. Its zero value, unlike the
	// other fields', limits nothing: DefaultConfig and ConfigFromEnv turn it on.
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

		MaxConnections:       DefaultMaxConnections,
		MaxConcurrentStreams: DefaultMaxConcurrentStreams,
		MaxHeaderBytes:       DefaultMaxHeaderBytes,
		HTTPReadTimeout:      DefaultHTTPReadTimeout,
		HTTPWriteTimeout:     DefaultHTTPWriteTimeout,
		IdleTimeout:          DefaultIdleTimeout,
	}
}

// ConfigFromEnv returns [DefaultConfig] overridden by the PASSAGE_* variables that are set.
func ConfigFromEnv() (Config, error) {
	return configFrom(os.LookupEnv)
}

func configFrom(lookup func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	if err := envconfig.Parse(&cfg, lookup); err != nil {
		return Config{}, fmt.Errorf("server: %w", err)
	}
	return Complete(cfg)
}

// Complete checks cfg, whose tagged fields a caller has parsed already (bootstrap parses
// them with its own, in one pass, from [DefaultConfig]): what the tags' types cannot say,
// ranges and the TLS files that go in pairs.
func Complete(cfg Config) (Config, error) {
	if cfg.ShutdownGrace <= 0 {
		return Config{}, fmt.Errorf("server: PASSAGE_SHUTDOWN_GRACE=%s: want a positive duration such as 10s", cfg.ShutdownGrace)
	}
	if cfg.MaxRecvMsgBytes <= 0 {
		return Config{}, fmt.Errorf("server: PASSAGE_MAX_RECV_MSG_BYTES=%d: want a positive number of bytes", cfg.MaxRecvMsgBytes)
	}
	if d := cfg.MaxTokenLifetime; d < time.Minute || d > maxTokenLifetimeCeiling {
		return Config{}, fmt.Errorf("server: PASSAGE_MAX_TOKEN_LIFETIME=%s: want a duration from 1m to 168h, such as 12h", d)
	}
	for _, f := range []struct {
		name string
		n    int
	}{
		{"PASSAGE_MAX_CONNECTIONS", cfg.MaxConnections}, {"PASSAGE_MAX_CONCURRENT_STREAMS", cfg.MaxConcurrentStreams},
		{"PASSAGE_MAX_HEADER_BYTES", cfg.MaxHeaderBytes},
	} {
		if f.n <= 0 {
			return Config{}, fmt.Errorf("server: %s=%d: want a positive number", f.name, f.n)
		}
	}
	if cfg.MaxHeaderBytes < minHeaderBytes {
		return Config{}, fmt.Errorf("server: PASSAGE_MAX_HEADER_BYTES=%d: want at least %d, room for a bearer token", cfg.MaxHeaderBytes, minHeaderBytes)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"PASSAGE_HTTP_READ_TIMEOUT", cfg.HTTPReadTimeout}, {"PASSAGE_IDLE_TIMEOUT", cfg.IdleTimeout}} {
		if f.d <= 0 {
			return Config{}, fmt.Errorf("server: %s=%s: want a positive duration such as 30s", f.name, f.d)
		}
	}
	if err := cfg.TLS.Validate(); err != nil {
		return Config{}, fmt.Errorf("server: %w", err)
	}
	if err := cfg.PartnerTLS.ValidateAs("PASSAGE_PARTNER_TLS_"); err != nil {
		return Config{}, fmt.Errorf("server: partner gateway: %w", err)
	}
	return cfg, nil
}

// withDefaults fills the zero (or negative) fields of c from [DefaultConfig].
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.GRPCAddr = cmp.Or(c.GRPCAddr, d.GRPCAddr)
	c.HTTPAddr = cmp.Or(c.HTTPAddr, d.HTTPAddr)
	c.ShutdownGrace = positiveOr(c.ShutdownGrace, d.ShutdownGrace)
	c.MaxRecvMsgBytes = positiveOr(c.MaxRecvMsgBytes, d.MaxRecvMsgBytes)
	c.MaxConnections = positiveOr(c.MaxConnections, d.MaxConnections)
	c.MaxConcurrentStreams = positiveOr(c.MaxConcurrentStreams, d.MaxConcurrentStreams)
	c.MaxHeaderBytes = positiveOr(c.MaxHeaderBytes, d.MaxHeaderBytes)
	c.HTTPReadTimeout = positiveOr(c.HTTPReadTimeout, d.HTTPReadTimeout)
	c.HTTPWriteTimeout = positiveOr(c.HTTPWriteTimeout, d.HTTPWriteTimeout)
	c.IdleTimeout = positiveOr(c.IdleTimeout, d.IdleTimeout)
	return c
}

// positiveOr is v when it is positive, else def.
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// probeMaxConnections caps the /healthz, /readyz and /metrics listener: probes and a scraper
// need a handful, and a flood there must not take descriptors from the others.
const probeMaxConnections = 64

// HTTPLimits are the limits of an HTTP server that clients reach from outside the cluster
// (the partner gateway, and the web pages to come), from c's fields with their defaults:
// headers in 10s, the whole request in HTTPReadTimeout, bodies up to MaxRecvMsgBytes like
// gRPC's messages. Cap its listener with [Server.LimitListener].
func (c Config) HTTPLimits() netlimit.HTTP {
	c = c.withDefaults()
	return netlimit.HTTP{
		ReadHeaderTimeout:    10 * time.Second,
		ReadTimeout:          c.HTTPReadTimeout,
		WriteTimeout:         c.HTTPWriteTimeout,
		IdleTimeout:          c.IdleTimeout,
		MaxHeaderBytes:       c.MaxHeaderBytes,
		MaxBodyBytes:         int64(c.MaxRecvMsgBytes),
		MaxConcurrentStreams: c.MaxConcurrentStreams,
	}
}

// probeHTTPLimits are the limits of the /healthz, /readyz and /metrics server: GET requests
// only, answered at once.
func (c Config) probeHTTPLimits() netlimit.HTTP {
	return netlimit.HTTP{
		ReadHeaderTimeout:    5 * time.Second,
		ReadTimeout:          10 * time.Second,
		WriteTimeout:         30 * time.Second,
		IdleTimeout:          time.Minute,
		MaxHeaderBytes:       c.MaxHeaderBytes,
		MaxBodyBytes:         4 << 10,
		MaxConcurrentStreams: c.MaxConcurrentStreams,
	}
}
