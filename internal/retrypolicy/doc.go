// Package retrypolicy is how Passage's own clients (the passage CLI, the demo loader, the
// load tool, the test harness and the fault test) retry, at two levels:
//   - a gRPC service config that tries a call failing UNAVAILABLE or ABORTED again, with
//     exponential backoff, up to five attempts in all. gRPC retries only an answer that came
//     without response headers, and a Passage server sends its request id as a header with
//     every answer, so in practice this covers the failures before a server answers: a
//     connection refused or reset, a server going away;
//   - Do, which retries a call answered UNAVAILABLE or ABORTED by the server itself (the
//     database away, the outcome of a commit unknown, a transaction rolled back), with the
//     same request, until the caller's deadline: the outages that last seconds (a Postgres
//     restart, a server replaced).
//
// UNAVAILABLE is what a Passage server answers when it cannot act yet but will: a case intake
// has just committed that the service has not applied, a consent change still in flight, the
// database away. It is also what a dropped connection on a field office's satellite link
// gives. ABORTED is a transaction that Postgres rolled back (a race lost too often, a lock
// timeout). Retrying is safe because every mutating RPC carries a request_id: a repeat returns
// the first result and writes nothing twice. That holds too when the server said the outcome
// is unknown (ErrorInfo reason OUTCOME_UNKNOWN, metadata may_have_applied "true"): the retry
// settles it, with the first result if there was one. Other codes are never retried: they are
// answers.
package retrypolicy
