// Package mtls builds the TLS configurations of Passage's gRPC server and clients from PEM
// files: TLS 1.3 only, client certificates required and verified when a client CA is
// configured, and certificates re-read from disk when they change, so that a renewed
// certificate takes effect without a restart. [ClientFlags] are the command-line flags that
// name a client's files, or no TLS (--insecure), as every gRPC client command takes them.
package mtls
