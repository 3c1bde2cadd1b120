// Package groupcommit gathers calls that arrive together into batches, so that a hot write
// path pays its fixed costs (a round trip, a statement's executor start-up, a commit and its
// WAL flush) once per batch rather than once per call.
//
// It never waits for company: a call that finds fewer than the allowed number of batches in
// flight starts one at once, alone if it is alone. Only while that many batches are already
// being written do later calls queue, and the next batch takes every queued call, up to a
// bound. So an idle server answers as fast as without batching, and a busy one writes fewer,
// larger transactions.
//
// The allowed number of batches in flight may change while calls come and go
// (Batcher.SetMaxInFlight: intake divides a budget for the whole database between its live
// processes, internal/procshare). A raised limit starts batches for the calls already queued;
// a lowered one interrupts no batch, and a batch that ends while too many are in flight leaves
// the queue to the others rather than take another, so every call is still taken by exactly
// one batch. The limit in force is a gauge, passage.groupcommit.in_flight.limit, beside the
// batch sizes and queue waits.
package groupcommit
