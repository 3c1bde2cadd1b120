// Package gateway serves the HTTP/JSON API partner agencies use: grpc-gateway's reverse proxy,
// from the google.api.http bindings of the contracts, in front of the process's own gRPC
// server. The proxy reaches that server over an in-process connection (no socket), so every
// HTTP call is a gRPC call through the same interceptor chain: request id, logging, error
// masking, quotas, authentication, authorization, validation, audit; no rule holds on one
// transport and not the other. The server sees each call as coming from the partner's own
// address (the proxy's X-Forwarded-For, which only the proxy can reach that server with), so
// unauthenticated gateway calls are limited per partner host, not all together. Its TLS is its own (PASSAGE_PARTNER_TLS_*, see internal/bootstrap), never
// gRPC's client CA.
package gateway
