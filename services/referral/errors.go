package referral

import (
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/rpcerr"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

const errorDomain = "passage.referral.v1"

// Entities that are not there. Another mission's case or referral, and another partner's
// referral, are not found either, so that ids cannot be probed.
var (
	errCaseNotFound     = errors.New("case not found")
	errReferralNotFound = errors.New("referral not found")
	errPartnerNotFound  = errors.New("partner not found")
	errProfileMissing   = errors.New("no data profile is published for the referral's service category")
	errPartnerExists    = errors.New("a partner with this code is already registered")
	errNotPartner       = errors.New("the token names no partner")
)

// transitionError is a status change the status machine does not allow, or one the caller
// may not make (a receiver's answer by the sender, say): why says which, or is empty for the
// status machine's refusal.
func transitionError(from, to referralv1.ReferralStatus, why string) error {
	msg := why
	if msg == "" {
		msg = fmt.Sprintf("a referral cannot go from %s to %s", statusCode(from), statusCode(to))
	}
	return &rpcerr.TransitionError{Domain: errorDomain, Message: msg,
		Metadata: map[string]string{"from": statusCode(from), "to": statusCode(to)}}
}

// LinkError is a LinkReferralCase the rules refuse: an outbound referral, one not accepted,
// or one already linked.
type LinkError struct {
	Why string
}

func (e *LinkError) Error() string { return e.Why }

// AgreementExpiredError is a send to a partner whose data-sharing agreement has expired.
type AgreementExpiredError struct {
	PartnerID string
	Expiry    string
}

func (e *AgreementExpiredError) Error() string {
	return "the partner's data-sharing agreement expired on " + e.Expiry
}

// DataUnavailableError is a read of a referral's data while the referral does not allow it
// (not yet sent, or revoked, withdrawn, expired, declined, completed).
type DataUnavailableError struct {
	Status referralv1.ReferralStatus
}

func (e *DataUnavailableError) Error() string {
	return "the referral's data is not available while it is " + statusCode(e.Status)
}

// missingSharingConsent is the DATA_SHARING consent a referral to partner lacks; the
// PreconditionFailure names the consent and the partner (code and category), never a person.
type missingSharingConsent struct {
	partnerCode, partnerCategory string
}

func (e *missingSharingConsent) Error() string {
	return "no DATA_SHARING consent or legal basis is in force for partner " + e.partnerCode +
		" nor its category " + e.partnerCategory
}

// staleVersion is a change made against a version of the record subject ("requests/<case
// id>", "funds/<code>/<year>") that is no longer current.
func staleVersion(subject string, current int64) error {
	return &rpcerr.StaleVersionError{Domain: errorDomain, What: "record", Subject: subject, Current: current}
}

// common maps the errors every service maps alike; toStatus asks it first.
var common = rpcerr.Mapper{Domain: errorDomain, Shared: intakecase.StatusOf}

// toStatus maps the service's domain errors to gRPC status errors, in one place. Errors it
// does not know are returned as they are: the error-masking middleware turns them into an
// INTERNAL status without their text.
func toStatus(err error) error {
	if st, ok := common.Map(err); ok {
		return st
	}
	// Alike in shape in every service, the cases below map only this service's own errors
	// (the errors all services share are common's, above).
	var (
		expired *AgreementExpiredError
		data    *DataUnavailableError
		sharing *missingSharingConsent
		link    *LinkError
	)
	switch {
	// The sentinels' own texts, never err.Error(): a wrapped error could carry more than the
	// client should read.
	case errors.Is(err, errCaseNotFound):
		return status.Error(codes.NotFound, errCaseNotFound.Error())
	case errors.Is(err, errReferralNotFound):
		return status.Error(codes.NotFound, errReferralNotFound.Error())
	case errors.Is(err, errPartnerNotFound):
		return status.Error(codes.NotFound, errPartnerNotFound.Error())
	case errors.Is(err, errPartnerExists):
		return status.Error(codes.AlreadyExists, errPartnerExists.Error())
	case errors.Is(err, errNotPartner):
		return status.Error(codes.PermissionDenied, errNotPartner.Error())
	case errors.Is(err, errProfileMissing):
		return rpcerr.FailedPrecondition(errorDomain, "PROFILE_MISSING", err.Error(), nil,
			rpcerr.Violation("DATA_PROFILE", "service_category", err.Error()))
	case errors.As(err, &expired):
		return rpcerr.FailedPrecondition(errorDomain, "AGREEMENT_EXPIRED", expired.Error(),
			map[string]string{"expiry": expired.Expiry},
			rpcerr.Violation("AGREEMENT", "partners/"+expired.PartnerID, expired.Error()))
	case errors.As(err, &data):
		return rpcerr.FailedPrecondition(errorDomain, "DATA_UNAVAILABLE", data.Error(),
			map[string]string{"status": statusCode(data.Status)})
	case errors.As(err, &link):
		return rpcerr.FailedPrecondition(errorDomain, "NOT_LINKABLE", link.Error(), nil,
			rpcerr.Violation("LINK", "case_id", link.Error()))
	case errors.As(err, &sharing):
		return rpcerr.FailedPrecondition(errorDomain, "CONSENT_MISSING", sharing.Error(), map[string]string{
			"purpose": "DATA_SHARING", "partner": sharing.partnerCode, "partner_category": sharing.partnerCategory,
		}, rpcerr.Violation("CONSENT", "DATA_SHARING", sharing.Error()))
	}
	return err
}

// isCaseNotFound reports a miss of the case projection.
func isCaseNotFound(err error) bool { return errors.Is(err, errCaseNotFound) }
