package intakecase

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/outbox"
)

// ErrNotApplied is a case intake has committed but the service's projection does not hold yet,
// because its consumer could not read the event in time (a long transaction elsewhere holds the
// outbox horizon back). The case exists: the caller is told to retry, not that it is missing.
var ErrNotApplied = errors.New("intakecase: the case's latest change is not applied yet")

// Await runs op, which reads or changes a case through the service's projection of intake's
// cases. When op misses the case (missing reports it), the case may have been registered a
// moment ago: the consumer catches up, for at most wait, and op runs once more. Should op miss
// again while an intake event about the case is still past the consumer's cursor, Await
// returns ErrNotApplied rather than op's not-found, so that a caseworker who registers a case and
// at once acts on it in another service is never told that the case does not exist.
func Await(ctx context.Context, c *outbox.Consumer, caseID uuid.UUID, wait time.Duration, missing func(error) bool, op func() error) error {
	err := op()
	if !missing(err) {
		return err
	}
	if err := c.CatchUpOn(ctx, caseID, wait); err != nil {
		return err
	}
	if err = op(); !missing(err) {
		return err
	}
	behind, berr := c.Behind(ctx, caseID, Events)
	switch {
	case berr != nil:
		return berr
	case behind:
		return ErrNotApplied
	}
	return err
}

// StatusOf maps what a service that projects intake's cases may fail with, short of its own
// errors, to the status a client gets: consent's errors as consent.StatusOf does, ErrNotApplied
// to UNAVAILABLE (safe to retry). It returns nil for any other error. domain is the service's
// error domain.
func StatusOf(domain string, err error) error {
	if st := consent.StatusOf(domain, err); st != nil {
		return st
	}
	if errors.Is(err, ErrNotApplied) {
		return status.Error(codes.Unavailable, "the case's latest change is still being applied: retry")
	}
	return nil
}
