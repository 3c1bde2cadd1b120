package retrypolicy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/passage-cm/passage/internal/retrypolicy"
)

// outcomeUnknown is the status a Passage server gives when the database went away while a
// request was being committed.
func outcomeUnknown(t *testing.T) error {
	t.Helper()
	st, err := status.New(codes.Unavailable, "it may have been applied").WithDetails(
		&errdetails.ErrorInfo{Domain: "passage", Reason: "OUTCOME_UNKNOWN", Metadata: map[string]string{"may_have_applied": "true"}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func TestDoRetriesToTheAnswer(t *testing.T) {
	t.Parallel()
	unknown := outcomeUnknown(t)
	for _, tt := range []struct {
		name      string
		errs      []error // the answers of the attempts, nil being success
		wantCode  codes.Code
		wantCalls int
	}{
		{"served at once", []error{nil}, codes.OK, 1},
		{"outage, then the first result", []error{unknown, status.Error(codes.Unavailable, "no"), status.Error(codes.Aborted, "race"), nil}, codes.OK, 4},
		{"an answer is final", []error{unknown, status.Error(codes.NotFound, "case not found")}, codes.NotFound, 2},
		{"internal is final", []error{status.Error(codes.Internal, "bug"), nil}, codes.Internal, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls, retries := 0, 0
			err := retrypolicy.Do(context.Background(), func(context.Context) error {
				calls++
				return tt.errs[calls-1]
			}, retrypolicy.OnRetry(func(attempt int, err error, pause time.Duration) {
				retries++
				if attempt != calls || !retrypolicy.Retryable(err) || pause <= 0 {
					t.Errorf("OnRetry(%d, %v, %v) after %d calls", attempt, err, pause, calls)
				}
			}))
			if status.Code(err) != tt.wantCode || calls != tt.wantCalls || retries != calls-1 {
				t.Errorf("Do = %v after %d calls and %d retries; want %v after %d", err, calls, retries, tt.wantCode, tt.wantCalls)
			}
		})
	}
}

func TestDoStopsAtTheDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	err := retrypolicy.Do(ctx, func(context.Context) error {
		calls++
		return status.Error(codes.Unavailable, "database unavailable")
	})
	if status.Code(err) != codes.Unavailable || calls < 2 {
		t.Errorf("Do = %v after %d calls; want the last UNAVAILABLE after several", err, calls)
	}
	if ctx.Err() == nil {
		// Do may stop early when the next pause would outlast the deadline, never late.
		if d, _ := ctx.Deadline(); time.Until(d) > maxPause {
			t.Errorf("Do gave up with %v left", time.Until(d))
		}
	}
}

// maxPause is the longest pause Do takes between attempts, without a RetryInfo.
const maxPause = 2 * time.Second

func TestMayHaveApplied(t *testing.T) {
	t.Parallel()
	notApplied, err := status.New(codes.Unavailable, "nothing applied").WithDetails(
		&errdetails.ErrorInfo{Domain: "passage", Reason: "DATABASE_UNAVAILABLE", Metadata: map[string]string{"may_have_applied": "false"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"outcome unknown", outcomeUnknown(t), true},
		{"nothing applied", notApplied.Err(), false},
		{"unavailable, said nothing", status.Error(codes.Unavailable, "connection reset"), true},
		{"deadline", status.Error(codes.DeadlineExceeded, "deadline"), true},
		{"an answer", status.Error(codes.InvalidArgument, "bad"), false},
		{"not a status", errors.New("x"), false},
	} {
		if got := retrypolicy.MayHaveApplied(tt.err); got != tt.want {
			t.Errorf("%s: MayHaveApplied = %v, want %v", tt.name, got, tt.want)
		}
	}
}
