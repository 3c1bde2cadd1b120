// Package server is the gRPC server bootstrap every Passage service runs on: one grpc.Server
// with tracing, the interceptor chain of package middleware, keepalive rules for poor
// networks, health checking, reflection when turned on (Config.Reflection, off by default), plus
// a small HTTP server for probes and metrics.
// Transport limits come from [Config] and hold before any of our code runs: header list size,
// streams per connection, idle connections, a connection cap per listener
// ([Server.LimitListener]), HTTP timeouts and body sizes ([Config.HTTPLimits]), and
// authentication when a stream opens, before its message is read (auth.TapHandle).
// Readiness follows the database ([Watch]): while it cannot be reached, gRPC health answers
// NOT_SERVING and /readyz 503 "database unreachable", so load balancers drain the replica.
// Services register on [Server.GRPC]; [Server.Run] serves until its context ends and then
// shuts down gracefully.
package server
