// Package gateway serves the HTTP/JSON API partner agencies use: grpc-gateway's reverse proxy,
// from the google.api.http bindings of the contracts, in front of the process's own gRPC
// server. The proxy reaches that server over an in-process connection (no socket), so every
// HTTP call is a gRPC call through the same interceptor chain: request id, logging, error
// masking, quotas, authentication, authorization, validation, audit; no rule holds on one
// transport and not the other. The server sees each call as coming from the partner's own
// address (the proxy's X-Forwarded-For, which only the proxy can reach that server with), so
// unauthenticated gateway calls are limited per partner host, not all together. Its TLS is its own (PASSAGE_PARTNER_TLS_*, see internal/bootstrap), never
// gRPC's client CA.
//
// Requests are taken as they are sent, and only as JSON: a body must be declared
// application/json (a charset of utf-8 allowed), anything else is 415 Unsupported Media Type
// before routing; the method is the request's own, never one named by X-HTTP-Method-Override,
// X-HTTP-Method or X-Method-Override (dropped), and a POSTed form is not answered by a GET
// binding (grpc-gateway's path-length fallback, turned off). Bodies are bounded by
// MaxBodyBytes.
package gateway
