// Package server is the gRPC server bootstrap every Passage service runs on: one grpc.Server
// with tracing, the interceptor chain of package middleware, keepalive rules for poor
// networks, health checking, reflection when turned on (Config.Reflection, off by default), plus
// a small HTTP server for probes and metrics.
// Transport limits come from [Config] and hold before any of our code runs: header list size,
// streams per connection, idle connections, a connection cap per listener
// ([Server.LimitListener]), HTTP timeouts and body sizes ([Config.HTTPLimits]), and
// authentication when a stream opens, before its message is read (auth.TapHandle).
// Readiness is per service and follows the dependencies each needs ([Watch]): the database,
// which every service needs, and a service's own (analytics' standby). While one is
// unreachable, or lags ([ErrLagging]), gRPC health answers NOT_SERVING for the services that
// need it, and for "" (the process) when every service does; so in a process that runs every
// service, a standby that fails takes analytics out of service and leaves the others serving,
// while in a process of one service every dependency of that service is the process's.
// /readyz answers for the process (200 while it can serve what every service needs; the
// body's first line "ready" or the reason, "database unreachable", then one line per service
// not serving and why) and, with ?service=NAME or /readyz/NAME, for one service (200 or 503
// with the reason, 404 for a service the process does not run), for a probe or a load
// balancer that routes that service's calls. Bodies name dependencies, never their
// addresses. passage_server_ready has a series for the process and one per service.
// Services register on [Server.GRPC]; [Server.Run] serves until its context ends and then
// shuts down gracefully.
package server
