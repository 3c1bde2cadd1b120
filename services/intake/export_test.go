package intake

import "github.com/passage-cm/passage/internal/groupcommit"

// WithoutServerMissionCheck switches off the server's own mission filter on reads and updates
// by case id, leaving mission isolation to row-level security alone. It exists for tests only
// (this file is compiled into the package's tests, never into the binary): they show that the
// database by itself refuses another mission's case.
func WithoutServerMissionCheck() Option {
	return func(s *Service) { s.checkMission = false }
}

// WithGroupCommit sets the bounds of RegisterCase's group commit.
func WithGroupCommit(maxBatch, maxInFlight int) Option {
	return func(s *Service) { s.batch = groupcommit.Config{MaxBatch: maxBatch, MaxInFlight: maxInFlight} }
}

// WithBatchHooks has before run as a mission's part of a registration batch starts, and
// afterLookup once its look-ups are done, each with the request ids of the batch's members
// (in the order the batch writes them), so that tests can hold a batch while others queue, or
// race a member's retry between its look-up and its write.
func WithBatchHooks(before, afterLookup func(requestIDs []string)) Option {
	ids := func(f func([]string)) func([]*pendingCase) {
		if f == nil {
			return nil
		}
		return func(rs []*pendingCase) {
			out := make([]string, len(rs))
			for i, r := range rs {
				out[i] = r.key.RequestID.String()
			}
			f(out)
		}
	}
	return func(s *Service) { s.beforeBatch, s.afterLookup = ids(before), ids(afterLookup) }
}

// QueuedRegistrations is how many registrations wait for a batch to take them.
func (s *Service) QueuedRegistrations() int { return s.registrar.Queued() }
