package referral

import (
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

const (
	draft     = referralv1.ReferralStatus_REFERRAL_STATUS_DRAFT
	sent      = referralv1.ReferralStatus_REFERRAL_STATUS_SENT
	received  = referralv1.ReferralStatus_REFERRAL_STATUS_RECEIVED
	accepted  = referralv1.ReferralStatus_REFERRAL_STATUS_ACCEPTED
	declined  = referralv1.ReferralStatus_REFERRAL_STATUS_DECLINED
	completed = referralv1.ReferralStatus_REFERRAL_STATUS_COMPLETED
	revoked   = referralv1.ReferralStatus_REFERRAL_STATUS_REVOKED
	expired   = referralv1.ReferralStatus_REFERRAL_STATUS_EXPIRED
	withdrawn = referralv1.ReferralStatus_REFERRAL_STATUS_WITHDRAWN

	outbound = referralv1.Direction_DIRECTION_OUTBOUND
	inbound  = referralv1.Direction_DIRECTION_INBOUND
)

// legal is the status machine: for each status, where it may go. DECLINED, COMPLETED,
// REVOKED, EXPIRED and WITHDRAWN are final.
var legal = map[referralv1.ReferralStatus][]referralv1.ReferralStatus{
	draft:    {sent, revoked, withdrawn},
	sent:     {received, accepted, declined, revoked, expired, withdrawn},
	received: {accepted, declined, revoked, expired, withdrawn},
	accepted: {completed, revoked, withdrawn},
}

// checkTransition reports whether a referral may go from one status to another.
func checkTransition(from, to referralv1.ReferralStatus) error {
	for _, s := range legal[from] {
		if s == to {
			return nil
		}
	}
	return transitionError(from, to, "")
}

// dataOpen reports whether the partner of an outbound referral may read its data: from the
// send until it is answered and the service delivered, and never after a revocation,
// withdrawal or expiry. migrations/000014's vault policy says the same in the database.
func dataOpen(s referralv1.ReferralStatus) bool {
	return s == sent || s == received || s == accepted
}
