package middleware

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/database"
)

// clientStatus is what the client sees of an error.
type clientStatus struct {
	Code    codes.Code
	Message string
}

func TestErrorMasking(t *testing.T) {
	t.Parallel()
	const masked = "internal error (request id req-7)"
	tests := []struct {
		name       string
		err        error
		cancelCtx  bool
		want       clientStatus
		wantCauses int // "internal error" log records
	}{
		{
			name: "client status passes unchanged",
			err:  status.Error(codes.NotFound, "case not found"),
			want: clientStatus{codes.NotFound, "case not found"},
		},
		{
			name: "wrapped client status loses the wrapping text",
			err:  fmt.Errorf("looking up Amina Haddad: %w", status.Error(codes.FailedPrecondition, "case is closed")),
			want: clientStatus{codes.FailedPrecondition, "case is closed"},
		},
		{
			name:       "plain error",
			err:        errors.New("user Amina Haddad not found"),
			want:       clientStatus{codes.Internal, masked},
			wantCauses: 1,
		},
		{
			name:       "internal status",
			err:        status.Error(codes.Internal, "decrypting Amina Haddad"),
			want:       clientStatus{codes.Internal, masked},
			wantCauses: 1,
		},
		{
			name:       "unknown status",
			err:        status.Error(codes.Unknown, "Amina"),
			want:       clientStatus{codes.Internal, masked},
			wantCauses: 1,
		},
		{
			name:       "data loss status",
			err:        status.Error(codes.DataLoss, "Amina"),
			want:       clientStatus{codes.Internal, masked},
			wantCauses: 1,
		},
		{
			name:      "caller went away",
			err:       fmt.Errorf("query: %w", context.Canceled),
			cancelCtx: true,
			want:      clientStatus{codes.Canceled, "context canceled"},
		},
		{
			name:       "context error while the call is alive is ours",
			err:        fmt.Errorf("vault call: %w", context.DeadlineExceeded),
			want:       clientStatus{codes.Internal, masked},
			wantCauses: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(RequestIDHeader, "req-7"))

			_, err := b.call(ctx, "/test.Svc/Get", nil, func(context.Context, any) (any, error) {
				if tt.cancelCtx {
					cancel()
				}
				return nil, tt.err
			})

			st := status.Convert(err)
			if diff := cmp.Diff(tt.want, clientStatus{st.Code(), st.Message()}); diff != "" {
				t.Errorf("client status (-want +got):\n%s", diff)
			}
			causes := 0
			for _, rec := range b.records(t) {
				if rec["msg"] == "internal error" {
					causes++
				}
			}
			if causes != tt.wantCauses {
				t.Errorf("logged %d causes, want %d:\n%s", causes, tt.wantCauses, b.logs.String())
			}
		})
	}
}

func TestErrorMaskingStream(t *testing.T) {
	t.Parallel()
	b := setup(t, ChainConfig{})
	err := b.stream(context.Background(), "/test.Svc/Watch", &fakeServerStream{}, func(any, grpc.ServerStream) error {
		return errors.New("Amina Haddad")
	})
	if st := status.Convert(err); st.Code() != codes.Internal || strings.Contains(st.Message(), "Amina") {
		t.Errorf("status = %v, want Internal without the cause", st)
	}
}

func TestErrorMaskingLogsRedactedCause(t *testing.T) {
	t.Parallel()
	pgErr := &pgconn.PgError{
		Severity:       "ERROR",
		Code:           "23505",
		Message:        `duplicate key value violates unique constraint "person_document_hash_key"`,
		Detail:         "Key (given_name)=(Amina Haddad) already exists.",
		Where:          "SQL function check_person line 3 at RAISE with Amina",
		SchemaName:     "vault",
		TableName:      "person",
		ColumnName:     "document_hash",
		ConstraintName: "person_document_hash_key",
	}
	tests := []struct {
		name string
		err  error
		want map[string]any
	}{
		{
			name: "postgres error keeps only codes and names",
			err:  fmt.Errorf("insert person %s: %w", "Amina Haddad", pgErr),
			want: map[string]any{
				"types":      "*fmt.wrapError > *pgconn.PgError",
				"sqlstate":   "23505",
				"schema":     "vault",
				"table":      "person",
				"column":     "document_hash",
				"constraint": "person_document_hash_key",
			},
		},
		{
			name: "our own error is logged whole",
			err:  fmt.Errorf("open case %s: %w", "c-1", errors.New("vault sealed")),
			want: map[string]any{
				"types":   "*fmt.wrapError > *errors.errorString",
				"message": "open case c-1: vault sealed",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{})
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(RequestIDHeader, "req-8"))
			_, _ = b.call(ctx, "/test.Svc/Put", nil, func(context.Context, any) (any, error) { return nil, tt.err })

			rec := b.record(t, "internal error")
			got := map[string]any{"level": rec["level"], "request_id": rec["request_id"], "method": rec["method"], "error": rec["error"]}
			want := map[string]any{"level": "ERROR", "request_id": "req-8", "method": "/test.Svc/Put", "error": tt.want}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cause log (-want +got):\n%s", diff)
			}
			if strings.Contains(b.logs.String(), "Amina") {
				t.Errorf("logs contain personal data from the Postgres error:\n%s", b.logs.String())
			}
		})
	}
}

func TestErrorTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("x"), "*errors.errorString"},
		{fmt.Errorf("a: %w", &pgconn.PgError{}), "*fmt.wrapError > *pgconn.PgError"},
		{errors.Join(errors.New("a"), fmt.Errorf("b: %w", context.Canceled)), "*errors.joinError > [*errors.errorString, *fmt.wrapError > *errors.errorString]"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, errorTypes(tt.err)); diff != "" {
			t.Errorf("errorTypes(%v) (-want +got):\n%s", tt.err, diff)
		}
	}
}

// TestDatabaseFailuresAreOutages checks that a failure of the database, or another store out
// of reach, reaches the client as UNAVAILABLE or ABORTED, never INTERNAL, with an ErrorInfo
// saying whether the request may have been applied, and is logged as a warning without
// personal data.
func TestDatabaseFailuresAreOutages(t *testing.T) {
	t.Parallel()
	pg := func(code string) error {
		return fmt.Errorf("insert case of Amina Haddad: %w", &pgconn.PgError{Code: code, Detail: "Amina Haddad"})
	}
	tests := []struct {
		name    string
		err     error
		code    codes.Code
		reason  string
		applied string
		logged  string // the log line's message
	}{
		{"lost at commit", pg("57P01"), codes.Unavailable, ReasonOutcomeUnknown, "true", "database failure"},
		{"nothing applied", database.NothingApplied(pg("57P01")), codes.Unavailable, ReasonDatabaseUnavailable, "false", "database failure"},
		{"closed connection", fmt.Errorf("look up: %w", pgconn.ErrConnClosed), codes.Unavailable, ReasonOutcomeUnknown, "true", "database failure"},
		{"serialization failures", fmt.Errorf("gave up: %w", pg("40001")), codes.Aborted, ReasonTransactionAborted, "false", "database failure"},
		{"statement timeout", pg("57014"), codes.Aborted, ReasonTransactionAborted, "false", "database failure"},
		{"object store away", fmt.Errorf("seal the document: %w", storeAway{}), codes.Unavailable, "OBJECT_STORE_UNAVAILABLE", "false", "dependency failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, ChainConfig{})
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(RequestIDHeader, "req-9"))
			_, err := b.call(ctx, "/test.Svc/Put", nil, func(context.Context, any) (any, error) { return nil, tt.err })

			st := status.Convert(err)
			if st.Code() != tt.code || !strings.HasSuffix(st.Message(), "(request id req-9)") {
				t.Errorf("status = %v %q, want %v with the request id", st.Code(), st.Message(), tt.code)
			}
			var info *errdetails.ErrorInfo
			var retry *errdetails.RetryInfo
			for _, d := range st.Details() {
				switch d := d.(type) {
				case *errdetails.ErrorInfo:
					info = d
				case *errdetails.RetryInfo:
					retry = d
				}
			}
			if info == nil || info.GetDomain() != OutageDomain || info.GetReason() != tt.reason ||
				info.GetMetadata()[MayHaveAppliedKey] != tt.applied {
				t.Errorf("ErrorInfo = %v, want reason %s, %s=%s", info, tt.reason, MayHaveAppliedKey, tt.applied)
			}
			if retry.GetRetryDelay().AsDuration() <= 0 {
				t.Errorf("RetryInfo = %v, want a delay", retry)
			}
			rec := b.record(t, tt.logged)
			if rec["level"] != "WARN" || rec["reason"] != tt.reason {
				t.Errorf("log record = %v, want a warning with reason %s", rec, tt.reason)
			}
			if logs := b.logs.String(); strings.Contains(logs, "Amina") || strings.Contains(logs, "internal error") {
				t.Errorf("logs hold personal data or an internal error:\n%s", logs)
			}
		})
	}
}

// storeAway is an error of a dependency out of reach, as objectstore.ErrUnavailable's are.
type storeAway struct{}

func (storeAway) Error() string        { return "dial tcp 127.0.0.1:9000: connect: connection refused" }
func (storeAway) OutageReason() string { return "OBJECT_STORE_UNAVAILABLE" }
