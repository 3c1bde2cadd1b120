package testserver

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// WantCode fails the test unless err is a status with code c; it returns the status, for
// the details to be checked next.
func WantCode(t testing.TB, err error, c codes.Code) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != c {
		t.Fatalf("got %v, want code %v", err, c)
	}
	return st
}

// FieldViolations returns the fields named by a status's BadRequest details, in order; nil
// when there are none.
func FieldViolations(st *status.Status) []string {
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// PreconditionViolations returns the "TYPE subject" of every violation in a status's
// PreconditionFailure details, in order; nil when there are none.
func PreconditionViolations(st *status.Status) []string {
	var out []string
	for _, d := range st.Details() {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			for _, v := range pf.GetViolations() {
				out = append(out, v.GetType()+" "+v.GetSubject())
			}
		}
	}
	return out
}

// WantMissingConsent fails the test unless err is the refusal of a purpose without consent:
// FAILED_PRECONDITION whose PreconditionFailure names the consent ("CONSENT" and the
// purpose's code, e.g. "ASSISTANCE").
func WantMissingConsent(t testing.TB, err error, purpose string) {
	t.Helper()
	st := WantCode(t, err, codes.FailedPrecondition)
	got := PreconditionViolations(st)
	if len(got) != 1 || got[0] != "CONSENT "+purpose {
		t.Fatalf("violations %q, want [CONSENT %s]", got, purpose)
	}
}
