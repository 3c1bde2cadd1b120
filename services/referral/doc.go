// Package referral is passage.referral.v1.ReferralService: inter-agency referrals, consent
// gated, minimal and audited, in both directions and over gRPC and HTTP/JSON.
//
// It keeps the HQ-wide partner registry and the data profiles, a projection of intake's cases
// (built from intake's outbox events, with the consent history that gates sharing), the
// referrals with their status machine (transition.go), and each partner's ordered event feed.
// Partners reach it with tokens of role partner naming them; their transactions declare the
// partner (passage.partner), never a mission, so Postgres shows them their own referrals only.
// An inbound referral, once accepted, is linked to an intake case of its mission (link.go);
// webhook URLs in the registry must point at public addresses (internal/egress).
package referral
