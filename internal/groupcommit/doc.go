// Package groupcommit gathers calls that arrive together into batches, so that a hot write
// path pays its fixed costs (a round trip, a statement's executor start-up, a commit and its
// WAL flush) once per batch rather than once per call.
//
// It never waits for company: a call that finds fewer than the allowed number of batches in
// flight starts one at once, alone if it is alone. Only while that many batches are already
// being written do later calls queue, and the next batch takes every queued call, up to a
// bound. So an idle server answers as fast as without batching, and a busy one writes fewer,
// larger transactions.
package groupcommit
