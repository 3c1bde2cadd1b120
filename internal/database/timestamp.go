package database

import "time"

// Timestamp returns t as Postgres keeps a timestamptz: in UTC, to the microsecond. A service
// whose clock reads through it returns the times a later read of its rows returns.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
