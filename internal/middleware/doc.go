// Package middleware holds the gRPC interceptors every Passage service runs, assembled once
// by [Chain] in a fixed order. They give each RPC a request id, one log line, a recovered
// panic instead of a crash, masked internal errors, authentication, quotas and protovalidate
// checks, without any of them ever writing a request payload or personal data to a client, a log
// line or a span.
//
// # Order
//
// The chain runs, outermost first:
//
//	recovery → request id → logging → error masking → address quota → auth → caller quota →
//	validation → handler
//
// Each stage has its place for a reason:
//
//   - Recovery is outermost so that a panic anywhere below it, in an interceptor or a
//     handler, becomes codes.Internal instead of killing the process and every other call
//     on it. It logs the panic's type and stack, never its value, which may hold personal
//     data.
//   - Request id comes next because every later stage logs it: the id is chosen (or taken
//     from a sane x-request-id header), stored in the context, returned as the x-request-id
//     response header and set on the span as passage.request_id.
//   - Logging sits outside error masking so that its one line per RPC records the code the
//     client actually received, never an unmasked cause, and outside auth so that refused
//     calls are logged too. It notices a handler that panics and logs that call as Internal
//     before recovery replies. Successful health checks are not logged: they are probes.
//   - Error masking wraps auth, validation and the handler, so an error that is not a gRPC
//     status, or is Unknown, Internal or DataLoss, from any of them reaches the client as
//     "internal error (request id …)". The cause is logged once, through [ErrorAttr]. A
//     failure of the database (database.Classify) is not a bug: it becomes UNAVAILABLE or
//     ABORTED with an ErrorInfo saying whether the request may have applied (outage, in
//     masking.go), the one place where any service's database failures are mapped.
//   - The address quota sits just outside auth, since the calls it limits have no verified
//     caller: a public method (health, reflection) takes from its source address's bucket
//     before it runs, and a call auth refuses takes from it afterwards, answered
//     RESOURCE_EXHAUSTED instead of UNAUTHENTICATED once the bucket is empty. It is inside
//     logging and masking, so refusals are logged (at Warn) and keep their details.
//   - Auth runs before validation: a caller without a valid token learns nothing about the
//     request schema, and its payload costs no validation work. After auth, the caller's
//     role and mission are recorded for the log line.
//   - The caller quota comes right after auth, when the caller's subject is known, and
//     before validation and the handler, so that a refused call costs neither: each caller
//     has a bucket per class of method (internal/quota), and a call over its limit is
//     answered RESOURCE_EXHAUSTED with a RetryInfo and a QuotaFailure naming the class.
//     Invalid requests are charged like valid ones: a flood of them is still a flood. The
//     partner HTTP gateway calls the same server in-process, so its calls pass both quota
//     stages too, keyed by the partner's address (see internal/gateway).
//   - Validation is last, so handlers only ever see messages that satisfy the protovalidate
//     rules in the .proto files and keep only business rules, which they report with
//     [rpcerr.InvalidArgument] and [rpcerr.FieldViolation] in the same shape.
//
// Tracing is not an interceptor: the otelgrpc stats handler starts the span before the chain
// runs, which is why the request-id stage can tag it.
//
// # Errors and personal data
//
// Passage code never formats personal data (names, dates of birth, document numbers,
// contacts, free text) into an error; that rule is what lets [ErrorAttr] log err.Error() for
// our own errors. Errors from Postgres are the exception we cannot control, since their
// Message, Detail and Where can quote row values; for those only the SQLSTATE and the names of
// the schema, table, column and constraint are logged. Client errors are logged as their
// status code and, for InvalidArgument, the names of the offending fields; never their text.
package middleware
