// Package retrypolicy is the gRPC service config that Passage's own clients (the passage CLI,
// the demo loader, the test harness) dial with: a call that fails UNAVAILABLE is tried again,
// with exponential backoff, up to five attempts in all.
//
// UNAVAILABLE is what a Passage server answers when it cannot act yet but will: a case intake
// has just committed that the service has not applied, a consent change still in flight. It is
// also what a dropped connection on a field office's satellite link gives. Retrying is safe
// because every mutating RPC carries a request_id: a repeat returns the first result and writes
// nothing twice. Other codes are never retried: they are answers.
package retrypolicy
