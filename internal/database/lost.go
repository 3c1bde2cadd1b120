package database

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"
)

// A connection found lost is seldom lost alone: Postgres restarted, or the network between
// went down, and every idle connection of the pool is as dead, though nothing says so until
// it is used. pgxpool checks a connection before handing it out only after a second idle, so
// under load each dead connection would fail one more request after the outage is over. So a
// lost connection makes the pool drop all of its connections (pgxpool.Pool.Reset, meant for
// this): the next requests connect afresh, and fail only while Postgres is really away.

// forgetIfLost resets pool when err says a connection of it was lost.
func forgetIfLost(pool *pgxpool.Pool, err error) {
	if lostConnection(err) {
		pool.Reset()
	}
}

// lostConnection reports whether err says an established connection failed, as opposed to a
// connection that could not be made, a pool closed on purpose, or a refusal that leaves the
// other connections as they are (too many connections).
func lostConnection(err error) bool {
	f, ok := Classify(err)
	if !ok || f.Kind != Unreachable {
		return false
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) || errors.Is(err, puddle.ErrClosedPool) {
		return false
	}
	pgErr, isPg := errors.AsType[*pgconn.PgError](err)
	return !isPg || pgErr.Code != codeTooManyConnections
}

// watchedResults is a batch's results that reset the pool when the batch finds its
// connection lost. Every Querier call of a DB ends with its batch's Close, which reports the
// batch's first error.
type watchedResults struct {
	pgx.BatchResults
	pool *pgxpool.Pool
}

func watch(pool *pgxpool.Pool, br pgx.BatchResults) pgx.BatchResults {
	return &watchedResults{BatchResults: br, pool: pool}
}

func (w *watchedResults) Close() error {
	err := w.BatchResults.Close()
	forgetIfLost(w.pool, err)
	return err
}
