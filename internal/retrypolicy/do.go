package retrypolicy

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Backoff of Do between attempts: from firstPause, doubling up to maxPause, each pause drawn
// at random between half and all of it, so that clients that failed together do not come back
// together. A server's RetryInfo raises a pause to at least what it asks.
const (
	firstPause = 100 * time.Millisecond
	maxPause   = 2 * time.Second
)

// Retryable reports whether a call that failed with err may be made again as it was: its
// status is UNAVAILABLE or ABORTED.
func Retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Aborted:
		return true
	}
	return false
}

// MayHaveApplied reports whether err says the server may have applied the request: an
// ErrorInfo with metadata may_have_applied "true", or an UNAVAILABLE or DEADLINE_EXCEEDED that
// says nothing either way (a connection lost after the request was sent).
func MayHaveApplied(err error) bool {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if v, ok := info.GetMetadata()["may_have_applied"]; ok {
				return v == "true"
			}
		}
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}

// Option changes how Do retries.
type Option func(*doOptions)

type doOptions struct {
	onRetry func(attempt int, err error, pause time.Duration)
}

// OnRetry has Do call f before each pause: the attempt that failed (1 for the first), its
// error, and how long Do waits before the next. A command line uses it to say at once that
// the server is unavailable and that it keeps trying.
func OnRetry(f func(attempt int, err error, pause time.Duration)) Option {
	return func(o *doOptions) { o.onRetry = f }
}

// Do calls call until it returns nil or an error that is not Retryable, or until ctx ends,
// and returns call's last error. The call must be safe to repeat as it is: a read, or a
// mutation that carries its request id, the same in every attempt. Do never gives up on its
// own: ctx's deadline is the bound.
func Do(ctx context.Context, call func(context.Context) error, opts ...Option) error {
	var o doOptions
	for _, opt := range opts {
		opt(&o)
	}
	pause := firstPause
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil || !Retryable(err) {
			return err
		}
		wait := max(pause/2+rand.N(pause/2+1), retryDelay(err))
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err // the next attempt could not finish in time
		}
		if o.onRetry != nil {
			o.onRetry(attempt, err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, maxPause)
	}
}

// retryDelay is the pause the server asked for in a RetryInfo detail of err, or 0.
func retryDelay(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}
