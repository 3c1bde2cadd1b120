// Package netlimit bounds what one client can make a listener hold: a cap on the connections
// open at once, which closes the ones over it as soon as they are accepted, and the limits
// every HTTP server of the process takes (timeouts, header and body sizes, HTTP/2 streams).
// The values come from one place, internal/server's Config.
package netlimit
