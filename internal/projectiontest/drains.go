package projectiontest

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/outbox"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Registered is intake's CaseRegistered of c, recorded under c's mission.
func Registered(c *intakev1.Case) Event {
	return Recorded(&intakev1.CaseRegistered{Case: c})
}

// Updated is intake's CaseUpdated of c, recorded under c's mission.
func Updated(c *intakev1.Case) Event {
	return Recorded(&intakev1.CaseUpdated{Case: c})
}

// With returns a copy of c changed by edit.
func With(c *intakev1.Case, edit func(*intakev1.Case)) *intakev1.Case {
	c = proto.Clone(c).(*intakev1.Case)
	edit(c)
	return c
}

var errOneAtATime = errors.New("one event at a time")

// Refused writes events, among them one the projection refuses, and drains them once on two
// databases of the service connecting as role: on one, cfg's consumer tries its HandleBatch;
// on the other, the reference, every batch fails, so the consumer applies the events one at a
// time, each in a savepoint, and stops at the refused one. It fails the test unless each drain
// applied exactly one event and stopped with an error, and unless the batch handler was tried;
// it returns the batched database and the reference, whose rows the test compares.
func Refused(t *testing.T, role string, cfg outbox.ConsumerConfig, events ...Event) (batched, single *DB) {
	t.Helper()
	batched, single = New(t, role), New(t, role)
	cfg.Partitions = 1 // see onePartition
	batch, tried := cfg.HandleBatch, 0
	cfg.HandleBatch = func(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
		tried++
		return batch(ctx, tx, records)
	}
	one := cfg
	one.HandleBatch = func(context.Context, pgx.Tx, []outbox.Record) error { return errOneAtATime }
	for _, run := range []struct {
		name string
		d    *DB
		cfg  outbox.ConsumerConfig
	}{{"batched", batched, cfg}, {"one at a time", single, one}} {
		run.d.Emit(t, events...)
		if n, err := Drain(t, outbox.NewConsumer(run.d.Pool, run.cfg), len(events)); err == nil || n != 1 {
			t.Errorf("%s: drain = %d, %v; want 1 applied and the refused event's error", run.name, n, err)
		}
	}
	if tried == 0 {
		t.Error("the batch handler was never tried")
	}
	return batched, single
}

// onePartition: Compare, Refused and BenchmarkDrain run the service's consumer with one
// partition, whatever its configuration says. They test how a drain applies the events it
// reads, in commit order, which is what each partition of the consumer sees of its own cases;
// spread over partitions, a drain's events would be split between drains.

// BenchmarkDrain applies events to an empty projection of the service connecting as role, in
// drains of cfg's size: each drain together (cfg's HandleBatch), and one event at a time.
func BenchmarkDrain(b *testing.B, role string, cfg outbox.ConsumerConfig, events []Event) {
	for _, mode := range []string{"batched", "one-at-a-time"} {
		b.Run(mode, func(b *testing.B) {
			cfg := cfg
			cfg.Partitions = 1 // see onePartition
			if mode == "one-at-a-time" {
				cfg.HandleBatch = nil
			}
			for b.Loop() {
				b.StopTimer()
				d := New(b, role)
				d.Emit(b, events...)
				c := outbox.NewConsumer(d.Pool, cfg)
				b.StartTimer()
				if n, err := Drain(b, c, len(events)); err != nil || n != len(events) {
					b.Fatalf("drain = %d, %v", n, err)
				}
			}
		})
	}
}
