// Package faulttest holds the fault test of issue 14, and nothing else: it proves that
// registrations made under load survive what an operator's worst day does to a Passage
// server and its database.
//
// TestRegistrationsSurviveCrashesAndRestarts starts a throwaway Postgres cluster of its own
// (deploy/local/postgres.sh, never the shared DATABASE_URL's server, since it restarts it),
// builds the passage binary, migrates the database and runs `passage serve --dev`. Eight
// clients then register cases continuously, each registration with a request id of its own,
// retried with that same request id (retrypolicy.Do) until it gets an answer that is not
// UNAVAILABLE or ABORTED. While the load runs, the server is killed with SIGKILL and started
// again, Postgres is stopped in immediate mode (as after a crash) and started again, and the
// server is stopped with SIGTERM and started again. The test then asserts that:
//   - every registration was acknowledged, and the database holds exactly one case per
//     request id: the case it was acknowledged with (nothing lost, nothing written twice);
//   - every request, sent again once all is over, answers the case of its first success,
//     those whose outcome an outage left unknown included;
//   - no call was ever answered INTERNAL or UNKNOWN: an outage is answered as one
//     (UNAVAILABLE or ABORTED), never as a bug; every error code seen is printed with its
//     count, per phase;
//   - every outbox consumer caught up with the events the registrations wrote, each
//     registration having written exactly one CaseRegistered event;
//   - no background worker logged its failure at ERROR twice during one outage: the outage
//     is one line per worker (internal/failurelog), not one per attempt;
//   - the server stopped cleanly on SIGTERM.
//
// It skips only when the PostgreSQL server binaries (initdb, pg_ctl) are not installed. The
// data are synthetic: names made of syllables, random document numbers.
package faulttest
