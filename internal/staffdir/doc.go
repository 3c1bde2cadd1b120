// Package staffdir keeps, in every service process, a copy of the staff directory
// (intake.staff_member, migration 000039) and admits or refuses each staff call against it,
// right after the token is verified and the method's role checked (auth.Admit, wired by
// internal/bootstrap). It is how someone who leaves loses access to every case at once: their
// token may live hours more (PASSAGE_MAX_TOKEN_LIFETIME), their directory entry does not.
//
// # Who is in it
//
// A member is a token's sub (a pseudonymous staff id, never a name nor an e-mail address) with
// a mission, a role and whether they are active; how they came in (provisioned_by); an
// optional display name for team lists, which only intake's role may read and which never
// reaches a log, an audit record, an event or an error; a version; and when they were added,
// changed, last seen (written at most about once a day) and deactivated. Partners are not
// staff: their calls pass.
//
// PASSAGE_STAFF_DIRECTORY says how members come in:
//   - claims (the default, so `make run` and tests need nothing): a staff token whose sub the
//     directory does not know is added, active, with its mission and role, at its first call,
//     in whichever service it calls.
//   - managed: only members an administrator provisioned are admitted.
//
// # The rules of admission
//
//   - An inactive member is refused on every RPC: PERMISSION_DENIED, reason STAFF_INACTIVE
//     (domain passage.staff.v1), a message naming no one. Not UNAUTHENTICATED: the token is
//     genuine and still valid, and that code tells a client to get a new token and try again,
//     which for a leaver would loop; PERMISSION_DENIED says that this identity may not, which
//     is the truth, and is not retried.
//   - A token whose mission or role is not the active entry's: in claims mode, an entry that
//     came from claims follows the token (a new version, announced like any change). The
//     identity provider is then the directory's source: a transfer or a promotion there is one
//     here at the member's next call, and refusing it would leave the member locked out until
//     an administrator repeated by hand what the provider already says. An entry an
//     administrator provisioned is the directory's word and is never moved by a token: such a
//     token is refused (STAFF_DIRECTORY_MISMATCH), as every mismatch is in managed mode, where
//     the directory, not the token, is the source. A deactivated member is never reactivated
//     by a token, whatever it says.
//
// # At once
//
// Every change to intake.staff_member that moves its version is announced by a trigger with
// pg_notify on channel passage_staff, in the changing transaction: Postgres delivers it at
// commit, and only if it commits. Each process listens on a connection of its own and applies
// the row's new state from the payload (ids and codes only), so a deactivation reaches every
// process within a fraction of a millisecond of its commit on one host (BenchmarkDeactivationReach)
// and the next call after that is refused. The whole directory is read again every 5 minutes,
// a safety net should a notification ever be lost without the connection failing.
//
// Admitting a known member is a map look-up under a read lock (BenchmarkAdmit: about 250 ns on
// this machine), with no query; the first call of a member a process has not seen adds them
// (one INSERT), and about once a day a call records the time last seen (one UPDATE).
//
// # When the database cannot be reached: closed
//
// While the listening connection is down, the copy is no longer trusted, and every staff call
// is refused UNAVAILABLE (retryable) until the process listens again and has read the whole
// directory, which it tries every 2 seconds. Failing open would let a leaver deactivated in
// that window in, through the one door this package exists to close; failing closed costs
// almost nothing, since every RPC needs the database anyway and fails without it.
//
// # Row-level security (see migration 000039)
//
//   - directory_read_by_every_service: every service role reads every member's ids, codes and
//     state, whatever the mission, because each process admits every caller and must see a
//     deactivation in any mission. Column grants keep display_name from all but intake's role.
//   - sign_in_adds_self_from_claims: every service role may add a member, but only active,
//     provisioned from claims, at version 1 and without a name: what a verified token already
//     proves. It can add no one inactive, and no administrator's entry.
//   - sign_in_follows_claims: the other services' roles may change an active, claims-provisioned
//     entry's mission, role, version and times only (column grants), and the row must stay
//     active and claims-provisioned: they can neither deactivate, reactivate nor move an
//     administrator's entry. (Their processes therefore record the time last seen only for
//     claims-provisioned members; intake's records it for all.)
//   - intake_provisions_members and intake_administers_members: intake's role writes the
//     directory without restriction; its StaffService (services/intake/staff) allows
//     administrators alone to provision, deactivate and reactivate.
//
// # Assignments
//
// CheckAssignee is the one check behind IntakeService.AssignCase (a case of the mission, or
// one shared with it after a hand-over: the receiving mission's assignment goes through
// AssignCase too) and FollowUpService.AssignFollowUp: the assignee must be an active member
// of the mission, else FAILED_PRECONDITION naming the field, with reason ASSIGNEE_UNKNOWN,
// ASSIGNEE_INACTIVE or ASSIGNEE_OTHER_MISSION. It holds the member's row FOR SHARE, so that an
// assignment and the member's deactivation (which ends their assignments) take turns.
package staffdir
