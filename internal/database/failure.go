package database

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// Failure is what a failed database call tells its caller about the database, as opposed to
// what it tells about the request: that Postgres could not be reached or went away, or that
// it rolled the transaction back for a reason of its own. It is the one taxonomy of database
// failures in Passage; Classify builds it, the error-masking middleware turns it into a gRPC
// status, and no service maps these failures itself.
type Failure struct {
	// Kind says what happened.
	Kind FailureKind
	// Outcome says whether the call's writes may have been applied.
	Outcome Outcome
}

// FailureKind is the class of a database failure.
type FailureKind int

const (
	// Unreachable: Postgres could not be reached, refused the connection (starting up,
	// shutting down, out of connections), or the connection was lost. Retrying later, with
	// the same request id, is how to go on.
	Unreachable FailureKind = iota + 1
	// RolledBack: Postgres rolled the transaction back of its own accord: a serialization
	// failure or deadlock that kept recurring, a lock or statement timeout. Nothing was
	// applied; the same request may succeed when run again.
	RolledBack
)

// Outcome is whether a failed call's writes may have been applied.
type Outcome int

const (
	// NotApplied: nothing of the call was applied, for certain: it failed before its
	// statements were sent, or before its transaction's COMMIT was, and Postgres rolls back
	// every transaction whose connection goes away before COMMIT.
	NotApplied Outcome = iota + 1
	// OutcomeUnknown: the connection went away after a COMMIT (or a statement that commits
	// alone) was sent, so the writes may or may not have been applied. Only a retry with the
	// same request id can tell: it replays the first result if there was one.
	OutcomeUnknown
)

// Postgres SQLSTATE codes of failures that are the database's, not the request's. Class 08
// (connection exception) is matched by its prefix.
const (
	codeLockNotAvailable    = "55P03" // lock_timeout expired
	codeQueryCanceled       = "57014" // statement_timeout expired (or a cancel request)
	codeAdminShutdown       = "57P01" // the server is shutting down, or the backend was terminated
	codeCrashShutdown       = "57P02" // another backend crashed and the server resets
	codeCannotConnectNow    = "57P03" // the server is starting up or in recovery
	codeDatabaseDropped     = "57P04"
	codeIdleSessionTimeout  = "57P05"
	codeTooManyConnections  = "53300"
	codeConnectionException = "08"
)

// Classify reports whether err is a failure of the database rather than of the request, and
// which. A connection-level failure anywhere in err's chain counts, however it is wrapped;
// so do serialization failures and deadlocks (once InTx has given up retrying them) and
// lock and statement timeouts. Anything else — a constraint violation, a bad statement, a
// domain error, the caller's own cancellation — is not a Failure: ok is false.
//
// The outcome is NotApplied when the failure surely came before anything was applied (the
// connection failed before anything was sent; InTx lost it before COMMIT; Postgres rolled
// back) and OutcomeUnknown otherwise.
func Classify(err error) (f Failure, ok bool) {
	if err == nil {
		return Failure{}, false
	}
	var known *classified
	if errors.As(err, &known) {
		return known.failure, true
	}
	if pgErr, isPg := errors.AsType[*pgconn.PgError](err); isPg {
		return classifyPg(pgErr, err)
	}
	if !connectionLost(err) {
		return Failure{}, false
	}
	return Failure{Kind: Unreachable, Outcome: outcomeOf(err)}, true
}

// classifyPg classifies an error Postgres sent. err is the whole chain it was found in.
func classifyPg(pgErr *pgconn.PgError, err error) (Failure, bool) {
	switch code := pgErr.Code; {
	case code == codeSerializationFailure, code == codeDeadlockDetected,
		code == codeLockNotAvailable, code == codeQueryCanceled:
		return Failure{Kind: RolledBack, Outcome: NotApplied}, true
	case code == codeAdminShutdown, code == codeCrashShutdown, code == codeCannotConnectNow,
		code == codeDatabaseDropped, code == codeIdleSessionTimeout, code == codeTooManyConnections,
		len(code) == 5 && code[:2] == codeConnectionException:
		// The backend ended the session: a transaction not yet committed is rolled back, but
		// a COMMIT in flight may have completed first.
		return Failure{Kind: Unreachable, Outcome: outcomeOf(err)}, true
	}
	return Failure{}, false
}

// connectionLost reports whether err says the connection to Postgres failed or was lost,
// as opposed to a statement failing on a live connection.
func connectionLost(err error) bool {
	var (
		connect *pgconn.ConnectError
		netErr  net.Error
		pgconnE interface{ SafeToRetry() bool }
	)
	switch {
	case errors.As(err, &netErr) && !errors.Is(err, context.DeadlineExceeded):
		// context.DeadlineExceeded is a net.Error too; a deadline is an outage only when it
		// ended a wait for Postgres, which pgconn wraps (below).
		return true
	case errors.As(err, &connect),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &pgconnE):
		// pgconn's own errors: I/O on the connection failed, the connection was busy or
		// closed, or a deadline ended a wait for Postgres. The caller's own deadline is
		// told apart before Classify is asked (the error-masking middleware checks the
		// call's context first); what is left is the server's own bound on a database
		// that stopped answering.
		return true
	}
	return false
}

// outcomeOf is NotApplied when pgconn guarantees that nothing was sent, or when the error
// was marked so by InTx; OutcomeUnknown otherwise.
func outcomeOf(err error) Outcome {
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) || pgconn.SafeToRetry(err) {
		return NotApplied
	}
	return OutcomeUnknown
}

// classified is an error whose Failure is known from where it happened, which the error
// itself cannot tell: InTx knows whether COMMIT had been sent.
type classified struct {
	failure Failure
	err     error
}

func (e *classified) Error() string { return e.err.Error() }
func (e *classified) Unwrap() error { return e.err }

// NothingApplied marks err, when it is a Failure, as one that applied nothing: the failure of
// a call that only reads, or of a transaction before its COMMIT was sent (Postgres rolls such
// a transaction back, whatever the failure). Other errors are returned as they are.
func NothingApplied(err error) error {
	f, ok := Classify(err)
	if !ok || f.Outcome == NotApplied {
		return err
	}
	f.Outcome = NotApplied
	return &classified{failure: f, err: err}
}
