// Package intakecase reads intake's case out of its outbox events, for the services that keep a
// projection of intake's cases (returns, trafficking, HASM, referral, analytics): which events
// carry the whole pseudonymised case, and the case an event carries.
package intakecase
