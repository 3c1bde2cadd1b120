// Package quota holds the per-caller and per-address rate limits of a Passage server: token
// buckets, refilled continuously, that a call must take from before it runs, so that one
// caller (a runaway script, a stolen token, a dashboard gone wrong) cannot take the server
// from everyone else.
//
// # Classes
//
// Every RPC belongs to one class, and each class has its own limit and its own bucket per
// caller, so that a caller flooding one class still reads, writes or counts in the others:
//
//   - read: Get…, List… and Download… methods;
//   - write: every method that records, changes or sends something (Register…, Update…,
//     Record…, Close…, Create…, …; see [Classify]);
//   - search: Search… and Find… methods (the person search, SearchPersons, and its look-up in
//     other missions, FindElsewhere, one bucket for both), limited well below reads, since
//     each search probes a register of identities;
//   - analytics: every method of the HQ analytics service, priced by [Cost] rather than one
//     token per call: an Aggregate or ExportAggregate over n dimensions costs 1 + 2^n (a table
//     of n dimensions has up to 2^n marginal tables to protect), ExportVictimRecords as much
//     as the widest aggregate, the others 1. A burst of four-dimension tables thus empties an
//     analyst's bucket 17 times sooner than grand totals do;
//   - partner: every call of a partner agency's token, whatever the method, through gRPC or
//     the partner HTTP gateway (which calls the same server in-process);
//   - partner_address: no method's class, but a second bucket every partner call also takes
//     from, per source address (the partner's own through the gateway), so that one address
//     holding several partners' tokens gets one address's share;
//   - unauthenticated: calls that carry no verified identity (health checks, reflection,
//     and calls whose token is refused), limited per source address instead of per caller.
//
// A test holds every method of every service to a class, so that a new method cannot go
// unpriced.
//
// # Keys and memory
//
// Callers are keyed by their token's subject (a pseudonymous staff or partner id) and the
// class; addresses by the peer's IP, IPv6 by its /64 (a single host usually owns a whole /64,
// and keying by address would let it spread a flood over 2^64 buckets). Each keyspace keeps at
// most Config.MaxBuckets buckets, split over shards, each shard dropping its least recently
// used bucket to make room; a bucket dropped before it refilled comes back full, which errs
// toward letting a call through. Neither subjects nor addresses leave this package: refusals
// are counted by class only (metric passage.quota.refusals), and a refused client is told the
// class, never whose bucket it was.
//
// # Refusals
//
// A call over its limit fails with RESOURCE_EXHAUSTED, a google.rpc.RetryInfo saying when the
// bucket will hold enough for it, and a google.rpc.QuotaFailure naming the class
// ("class:analytics"), before any of the service's work is done.
package quota
