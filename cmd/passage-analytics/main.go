// Command passage-analytics runs the analytics service alone, with its projector of every
// service's outbox events. It reads the same environment as `passage serve` (see
// docs/operators.md); the projector connects with PASSAGE_ANALYTICS_WORKER_DATABASE_URL.
package main

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/analytics"
)

func main() { bootstrap.Main("passage-analytics", analytics.Spec()) }
