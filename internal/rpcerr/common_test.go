package rpcerr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/idempotency"
)

func TestMapperMap(t *testing.T) {
	t.Parallel()
	errShared := errors.New("shared package error")
	caseNotFound := status.Error(codes.NotFound, "case not found")
	mapper := Mapper{
		Domain:   "passage.test.v1",
		NotFound: caseNotFound,
		Shared: func(domain string, err error) error {
			if errors.Is(err, errShared) {
				return status.Error(codes.Unavailable, "shared by "+domain)
			}
			return nil
		},
	}
	tests := []struct {
		name   string
		mapper Mapper
		err    error
		want   *spb.Status // nil: Map reports false
	}{
		{
			name:   "status passes unchanged",
			mapper: mapper,
			err:    status.Error(codes.PermissionDenied, "no"),
			want:   want(t, codes.PermissionDenied, "no"),
		},
		{
			name:   "shared package error, wrapped",
			mapper: mapper,
			err:    fmt.Errorf("open case: %w", errShared),
			want:   want(t, codes.Unavailable, "shared by passage.test.v1"),
		},
		{
			name:   "database not found, wrapped",
			mapper: mapper,
			err:    fmt.Errorf("read case: %w", database.ErrNotFound),
			want:   want(t, codes.NotFound, "case not found"),
		},
		{
			name:   "database not found without a NotFound status is the service's",
			mapper: Mapper{Domain: "passage.test.v1"},
			err:    database.ErrNotFound,
		},
		{
			name:   "invalid request id",
			mapper: Mapper{},
			err:    fmt.Errorf("register: %w", idempotency.ErrInvalidRequestID),
			want: want(t, codes.InvalidArgument, "invalid request: request_id: must be a UUID",
				&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "request_id", Description: "must be a UUID"}}}),
		},
		{
			name:   "reused request id",
			mapper: Mapper{},
			err:    idempotency.ErrReused,
			want: want(t, codes.InvalidArgument, "invalid request: request_id: "+idempotency.ErrReused.Error(),
				&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "request_id", Description: idempotency.ErrReused.Error()}}}),
		},
		{
			name:   "stale version, wrapped, without the wrapping text",
			mapper: mapper,
			err:    fmt.Errorf("update case: %w", &StaleVersionError{Domain: "passage.test.v1", What: "case", Subject: "cases/42", Current: 7}),
			want: want(t, codes.FailedPrecondition, "the case changed since it was read: it is at version 7",
				&errdetails.ErrorInfo{Reason: "STALE_VERSION", Domain: "passage.test.v1", Metadata: map[string]string{"current_version": "7"}},
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
					Type: "VERSION", Subject: "cases/42", Description: "current version is 7",
				}}}),
		},
		{
			name:   "transition, wrapped, without the wrapping text",
			mapper: mapper,
			err: fmt.Errorf("close case: %w", &TransitionError{Domain: "passage.test.v1",
				Message: "a case cannot move from CLOSED to OPEN", Metadata: map[string]string{"from": "CLOSED", "to": "OPEN"}}),
			want: want(t, codes.FailedPrecondition, "a case cannot move from CLOSED to OPEN",
				&errdetails.ErrorInfo{Reason: "INVALID_TRANSITION", Domain: "passage.test.v1", Metadata: map[string]string{"from": "CLOSED", "to": "OPEN"}},
				&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{
					Type: "STATUS", Subject: "status", Description: "a case cannot move from CLOSED to OPEN",
				}}}),
		},
		{
			name:   "domain error is the service's",
			mapper: mapper,
			err:    errors.New("fund exhausted"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := tt.mapper.Map(tt.err)
			if tt.want == nil {
				if ok || got != nil {
					t.Fatalf("Map(%v) = %v, %v; want nil, false", tt.err, got, ok)
				}
				return
			}
			if !ok {
				t.Fatalf("Map(%v) reports false", tt.err)
			}
			if diff := cmp.Diff(tt.want, status.Convert(got).Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMapperMapNil(t *testing.T) {
	t.Parallel()
	if got, ok := (Mapper{}).Map(nil); got != nil || !ok {
		t.Errorf("Map(nil) = %v, %v; want nil, true", got, ok)
	}
}
