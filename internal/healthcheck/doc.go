// Package healthcheck is the `healthcheck` command of every Passage binary (`passage
// healthcheck`, `passage-intake healthcheck`, …): one probe of a running server made the way
// a load balancer makes it, for the images, which are built on scratch and hold no shell and
// no HTTP client, so that Docker's HEALTHCHECK, Compose's healthcheck and an operator can probe
// a container from inside it.
//
// By default it asks GET /readyz of the server's probe listener, PASSAGE_HTTP_ADDR read as
// `serve` reads it (internal/server's configuration, so the same variable and default), with an
// unspecified host (":7080", "0.0.0.0:7080", as the images set it) probed on loopback; --live
// asks /healthz instead. A 200 is healthy; anything else is not, said in one line: the status
// code and the first line of the body, which the server keeps free of personal data ("not
// ready", "database unreachable") and which is read no further than [MaxBody] bytes, cut to
// [MaxLine] printable characters. --grpc asks the gRPC health service instead (optionally for
// one --service), over the transport the client commands take (mtls.ClientFlags).
//
// The probe is bounded: one attempt (the orchestrator retries), within --timeout (3s by
// default), no redirect followed, no proxy, no connection kept.
package healthcheck
