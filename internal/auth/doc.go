// Package auth authenticates gRPC callers with bearer tokens (JWTs) and
// authorizes each RPC against a per-method role policy that fails closed.
// Verified identity travels in the request context as Claims; handlers use it
// for mission (tenant) checks. TapHandle authenticates a call when its stream opens,
// before grpc reads its message. A development Ed25519 key and token minting
// support local runs without an identity provider.
package auth
