package rpcerr

import (
	"fmt"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// WithDetails returns a status error with code c, message msg and the details. Should a
// detail fail to marshal, the status goes without details rather than becoming another
// error: the code and the message are what the client must get.
func WithDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st := status.New(c, msg)
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		return st.Err()
	}
	return withDetails.Err()
}

// Violation is one failed precondition: typ is its kind ("VERSION", "STATUS"), subject what
// failed it ("cases/<id>") and description why, in words a client may show.
func Violation(typ, subject, description string) *errdetails.PreconditionFailure_Violation {
	return &errdetails.PreconditionFailure_Violation{Type: typ, Subject: subject, Description: description}
}

// FailedPrecondition returns a FAILED_PRECONDITION status with message msg and two details:
// an ErrorInfo with reason, domain and metadata (nil for none), and a PreconditionFailure
// listing the violations.
func FailedPrecondition(domain, reason, msg string, metadata map[string]string, violations ...*errdetails.PreconditionFailure_Violation) error {
	return WithDetails(codes.FailedPrecondition, msg,
		&errdetails.ErrorInfo{Reason: reason, Domain: domain, Metadata: metadata},
		&errdetails.PreconditionFailure{Violations: violations})
}

// StaleVersion is a change made against a version that is no longer current: "the <what>
// changed since it was read: it is at version <current>", reason STALE_VERSION with the
// current_version in the metadata, and a VERSION violation of subject (the record's name,
// "cases/<id>"), so that a client can re-read and retry.
func StaleVersion(domain, what, subject string, current int64) error {
	version := strconv.FormatInt(current, 10)
	return FailedPrecondition(domain, "STALE_VERSION",
		fmt.Sprintf("the %s changed since it was read: it is at version %d", what, current),
		map[string]string{"current_version": version},
		Violation("VERSION", subject, "current version is "+version))
}

// InvalidTransition is a change the record's status does not allow: reason
// INVALID_TRANSITION with the metadata the service gives (the status codes involved), and a
// STATUS violation of "status", both saying msg.
func InvalidTransition(domain, msg string, metadata map[string]string) error {
	return FailedPrecondition(domain, "INVALID_TRANSITION", msg, metadata, Violation("STATUS", "status", msg))
}
