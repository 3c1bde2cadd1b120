package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/rpcerr"
)

// unaryErrorMasking replaces internal errors with a fixed message; see [maskError].
func unaryErrorMasking(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			err = maskError(ctx, logger, info.FullMethod, err)
		}
		return resp, err
	}
}

// streamErrorMasking replaces internal errors with a fixed message; see [maskError].
func streamErrorMasking(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		err := handler(srv, ss)
		if err != nil {
			err = maskError(ss.Context(), logger, info.FullMethod, err)
		}
		return err
	}
}

// maskError decides what the client sees of err:
//   - a status with a client-facing code passes unchanged; when it is wrapped, the wrapping
//     text is dropped, because grpc would otherwise send err.Error() as the message;
//   - an error caused by the call's own context ending becomes Canceled or DeadlineExceeded,
//     which is the caller's doing, not a fault to log;
//   - a failure of the database (database.Classify) becomes Unavailable or Aborted, saying
//     whether the request may have been applied; see [outage];
//   - another dependency out of reach (an error implementing dependencyOutage, such as the
//     object store's) becomes Unavailable with that dependency's reason; see [unavailable];
//   - anything else (a plain error, or Unknown, Internal, DataLoss) is logged with its cause
//     and becomes Internal "internal error (request id …)".
func maskError(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if se, ok := errors.AsType[statusError](err); ok {
		if st := se.GRPCStatus(); st != nil && !isServerFault(st.Code()) {
			return st.Err()
		}
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return status.FromContextError(ctx.Err()).Err()
	}
	id := RequestID(ctx)
	if f, ok := database.Classify(err); ok {
		logger.LogAttrs(ctx, slog.LevelWarn, "database failure",
			slog.String("method", method),
			slog.String("request_id", id),
			slog.String("reason", outageReason(f)),
			ErrorAttr(err),
		)
		return outage(f, id)
	}
	if o, ok := errors.AsType[dependencyOutage](err); ok {
		logger.LogAttrs(ctx, slog.LevelWarn, "dependency failure",
			slog.String("method", method),
			slog.String("request_id", id),
			slog.String("reason", o.OutageReason()),
			ErrorAttr(err),
		)
		return unavailable(o.OutageReason(), id)
	}
	logger.LogAttrs(ctx, slog.LevelError, "internal error",
		slog.String("method", method),
		slog.String("request_id", id),
		ErrorAttr(err),
	)
	return status.Errorf(codes.Internal, "internal error (request id %s)", id)
}

// statusError is an error carrying a gRPC status, as status.Error returns.
type statusError interface {
	error
	GRPCStatus() *status.Status
}

// isServerFault reports whether code says the server failed, so its message is not for the
// client's eyes.
func isServerFault(code codes.Code) bool {
	switch code {
	case codes.OK, codes.Unknown, codes.Internal, codes.DataLoss:
		// OK with a non-nil error is a bug in whoever built it.
		return true
	default:
		return false
	}
}

// OutageDomain is the ErrorInfo domain of the statuses that report a database failure.
const OutageDomain = "passage"

// Reasons of the ErrorInfo that a database failure's status carries, with its metadata key
// MayHaveAppliedKey ("true" or "false"): what a client needs to decide on its own whether and
// how to retry.
const (
	// ReasonDatabaseUnavailable: Postgres could not be reached; nothing was applied.
	// UNAVAILABLE, may_have_applied false.
	ReasonDatabaseUnavailable = "DATABASE_UNAVAILABLE"
	// ReasonOutcomeUnknown: the connection was lost while the request's writes were being
	// committed; they may have been applied. UNAVAILABLE, may_have_applied true: retry with
	// the same request id, which replays the first result if there was one.
	ReasonOutcomeUnknown = "OUTCOME_UNKNOWN"
	// ReasonTransactionAborted: Postgres rolled the transaction back (a race lost too often,
	// a lock or statement timeout); nothing was applied. ABORTED, may_have_applied false.
	ReasonTransactionAborted = "TRANSACTION_ABORTED"
	// MayHaveAppliedKey is the ErrorInfo metadata key saying whether the request's writes may
	// have been applied.
	MayHaveAppliedKey = "may_have_applied"
)

// Retry delays suggested to clients (google.rpc.RetryInfo): a database away is given a
// second to come back; a lost race may be run again at once.
const (
	unavailableRetryDelay = time.Second
	abortedRetryDelay     = 100 * time.Millisecond
)

// outage is the status of a database failure f for the call with request id id:
//   - Unreachable, nothing applied: UNAVAILABLE, DATABASE_UNAVAILABLE, may_have_applied false;
//   - Unreachable, outcome unknown: UNAVAILABLE, OUTCOME_UNKNOWN, may_have_applied true;
//   - RolledBack: ABORTED, TRANSACTION_ABORTED, may_have_applied false.
//
// UNAVAILABLE is what gRPC clients and the project's retry policy retry; a request id makes
// the retry safe whatever the outcome. The message is fixed text: the cause is logged, not
// sent.
func outage(f database.Failure, id string) error {
	applied := f.Outcome == database.OutcomeUnknown
	code, delay, msg := codes.Unavailable, unavailableRetryDelay,
		"the database is unavailable; nothing was applied: retry later"
	switch {
	case f.Kind == database.RolledBack:
		code, delay, msg = codes.Aborted, abortedRetryDelay,
			"the database rolled the request back; nothing was applied: retry"
	case applied:
		msg = "the database became unavailable while the request was being applied; it may have been applied: retry it unchanged, its request_id returns the first result"
	}
	return rpcerr.WithDetails(code, fmt.Sprintf("%s (request id %s)", msg, id),
		&errdetails.ErrorInfo{Domain: OutageDomain, Reason: outageReason(f),
			Metadata: map[string]string{MayHaveAppliedKey: strconv.FormatBool(applied)}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)},
		&errdetails.RequestInfo{RequestId: id})
}

// dependencyOutage is implemented by the errors of a dependency other than Postgres that is
// out of reach (the object store's, objectstore.ErrUnavailable): nothing was applied, and the
// same call may succeed later. OutageReason is the ErrorInfo reason to answer with.
type dependencyOutage interface {
	error
	OutageReason() string
}

// unavailable is the status of a call that met a dependency outage with the given reason:
// UNAVAILABLE, may_have_applied false, retry after a second. The message is fixed text.
func unavailable(reason, id string) error {
	return rpcerr.WithDetails(codes.Unavailable,
		fmt.Sprintf("a store the request needs is unavailable; nothing was applied: retry later (request id %s)", id),
		&errdetails.ErrorInfo{Domain: OutageDomain, Reason: reason, Metadata: map[string]string{MayHaveAppliedKey: "false"}},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(unavailableRetryDelay)},
		&errdetails.RequestInfo{RequestId: id})
}

// outageReason is the ErrorInfo reason of a database failure f.
func outageReason(f database.Failure) string {
	switch {
	case f.Kind == database.RolledBack:
		return ReasonTransactionAborted
	case f.Outcome == database.OutcomeUnknown:
		return ReasonOutcomeUnknown
	default:
		return ReasonDatabaseUnavailable
	}
}
