// Package fleettest holds the test of issue 19's "several processes on one database", and
// nothing else: two, then three `passage serve` processes share one Postgres database, one of
// them is killed with SIGKILL while the load runs, and every outbox event is still applied
// exactly once, in order per case.
//
// TestServeProcessesShareOneDatabase builds the passage binary, clones a migrated database
// (internal/pgtest) and starts two processes on it, every service in each, on ports of their
// own, with the same development keys (one PASSAGE_DEV_DIR), so any process can serve any
// call. The load goes through real gRPC to the processes in turn (a round robin over one
// connection to each): two synthetic caseloads of the demo (internal/demo: registrations of
// many missions and the three programmes, household members' consents, AVRR returns up to the
// departure, HASM requests decided at HQ, victims screened, assisted and referred to partners
// who answer), and beside the second a series of changes to cases of its own (an update of the
// status, a consent, an update of the vulnerabilities, a suspension), so that each of those
// cases has a sequence of versions. The first caseload runs on two processes; a third starts;
// the second runs on three, and once part of it is acknowledged the first process (the one
// holding the consumers' leases when each consumer has one partition) is killed with SIGKILL,
// and the load goes on against the two left. Calls the kill interrupted are sent again with
// their request id, to another process.
//
// Once every outbox consumer's backlog (passage_outbox_consumer_backlog on a surviving
// process's /metrics) is zero, the test reads as the database's owner, and checks that:
//   - every projection of intake's cases (returns, trafficking, HASM, referral, hand-over,
//     analytics) holds every case of its programmes at intake's last version, and intake each
//     case of the series at the version its last change was acknowledged with: no event lost;
//   - analytics counted each event once: no two facts of one event, every rollup measure the
//     sum of its facts, the cases registered and the persons returned, the HASM decisions, the
//     victims identified and the referrals as many as the load made; every referral counted
//     at its last version. The order of a case's events shows here: the projector counts a
//     departure, a HASM decision or an identification only for the people it learnt of from
//     the case's intake events before it, so one applied ahead of them would count short;
//   - the killed process held leases when it died (the consumers' leases it held, found as
//     those its holder ids never renewed), and every one of them is now leased to a live
//     process: no partition is left to a dead holder.
//
// What it cannot see: an event applied twice one drain after the other, or one of intake's
// events applied after a newer one of its case, leaves no trace in the projections (an event
// older than a projection's row changes nothing, and the analytics projector remembers per
// case what it counted), so "once" and "in order" are checked as the services need them, in
// effect. A consumer that skips an event, or stops, fails it (a projection at an
// older version, a count short, a backlog that stays, or a programme step waiting in vain for
// its case).
//
// The processes are built without the race detector (internal/servetest says why: it would
// stretch the test on a shared machine); their output is shown only when the test fails.
package fleettest
