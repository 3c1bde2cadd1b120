// Package intakecase reads intake's case out of its outbox events, for the services that keep
// a projection of intake's cases (returns, trafficking, HASM, referral, analytics): which
// events carry the whole pseudonymised case, the case an event carries (Of, Decode), and each
// case's newest state in a drain of them (Newest, for the consumers that apply a drain at
// once), and the codes a projection stores the case's coded person attributes under (SexCode,
// AgeBandCode, VulnerabilityCodes).
package intakecase
