// Package servetest runs the passage binary of this checkout as processes of their own, for
// the tests that need real processes: a server killed, stopped and started again
// (internal/faulttest), several servers on one database (internal/fleettest).
//
// Build builds the binary once per test, without the race detector even when the test has
// it: a server built with it spends several times the CPU per call and takes seconds longer to
// link, which on a shared machine would stretch these tests towards minutes; the server's
// packages run their own tests under it. Env is the environment to give it (none of the
// caller's Passage settings), FreeAddrs the loopback addresses to listen on, and Start starts
// a command with its output in a file, which WaitReady, Kill, Term and Tail then serve.
package servetest
