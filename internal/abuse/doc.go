// Package abuse attacks the transport of a running server the way an outsider with no token
// would, over loopback: header lists that expand in the HTTP/2 header table, floods of
// streams, request bodies sent a byte at a time to the partner gateway, connections past the
// cap, large messages without a token. Each test bounds what the attack may cost the server
// (memory, goroutines, how long a connection stays open) from the limits in
// internal/server's Config. It holds only tests.
package abuse
