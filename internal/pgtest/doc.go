// Package pgtest gives each test a Postgres database of its own: the embedded migrations are
// applied once into a template database, and every test gets a clone of it, dropped when the
// test ends. Tests run against a real server (DATABASE_URL, which `make test` sets after
// starting a private throwaway cluster), never a mock. A test of what reads from a streaming
// replica gets a cluster and a hot standby of its own instead (NewReplicated).
package pgtest
