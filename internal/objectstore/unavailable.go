package objectstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/minio/minio-go/v7"
)

// ErrUnavailable is in the chain of an error of a store that could not be reached, or that
// answered it cannot serve now: a refused, dropped or timed-out connection, or an answer of
// 500 and up (503 Slow Down, 507 a full drive). Nothing was stored or read, and the same call
// may succeed later. The server answers such an error UNAVAILABLE, with the ErrorInfo reason
// OutageReason (internal/middleware), never INTERNAL: the store away is an outage, not a bug.
var ErrUnavailable = errors.New("object store unavailable")

// OutageReason is the ErrorInfo reason of the status a call gets when the object store is
// unavailable.
const OutageReason = "OBJECT_STORE_UNAVAILABLE"

// unavailableError is a store's error that ErrUnavailable classifies. It unwraps to
// ErrUnavailable alone, keeping only the transport error's text: the network errors it would
// otherwise carry are what database.Classify takes for a lost connection to Postgres, and a
// transaction that met one is run again, reading an upload's stream a second time.
type unavailableError struct{ err error }

func (e unavailableError) Error() string { return e.err.Error() }
func (e unavailableError) Unwrap() error { return ErrUnavailable }

// OutageReason makes the error an outage to the error-masking middleware: its status is
// UNAVAILABLE with this reason, and nothing applied.
func (unavailableError) OutageReason() string { return OutageReason }

// classify marks err as ErrUnavailable when it says the store is out of reach, unless ctx has
// ended: a call given up is the caller's, not an outage.
func classify(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !unreachable(err) {
		return err
	}
	return unavailableError{err}
}

// unreachable reports whether err is a transport failure or a server-side refusal to serve
// now, as opposed to a refusal of the request itself (a missing key, denied access).
func unreachable(err error) bool {
	if resp := minio.ToErrorResponse(err); resp.StatusCode != 0 {
		return resp.StatusCode >= http.StatusInternalServerError
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
