package trafficking

import "github.com/passage-cm/passage/internal/outbox"

// WithoutServerMissionCheck switches off the server's own mission filter on reads and changes
// by case id, leaving mission isolation to row-level security alone. It exists for tests only
// (this file is compiled into the package's tests, never into the binary): they show that the
// database by itself refuses another mission's victim case.
func WithoutServerMissionCheck() Option {
	return func(s *Service, _ *outbox.ConsumerConfig) { s.checkMission = false }
}

// WithOnePartition gives the service's consumer one partition instead of its sixteen, so
// that catching up on a miss about any case applies every event committed before it.
func WithOnePartition() Option {
	return func(_ *Service, c *outbox.ConsumerConfig) { c.Partitions = 1 }
}
