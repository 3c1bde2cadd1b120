package webhook

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/egress"
)

// BenchmarkDeliver measures the worker's throughput: b.N deliveries over 64 ordering keys,
// queued beforehand, delivered by one worker to a local receiver that verifies every
// signature and answers 204 at once. It reports deliveries per second; the queueing is not
// timed. `go test -run - -bench Deliver -benchtime 5000x ./internal/webhook/`
func BenchmarkDeliver(b *testing.B) {
	for _, concurrency := range []int{8, 32} {
		b.Run(map[int]string{8: "concurrency=8", 32: "concurrency=32"}[concurrency], func(b *testing.B) {
			benchDeliver(b, concurrency)
		})
	}
}

func benchDeliver(b *testing.B, concurrency int) {
	tb := setup(b)
	r := newReceiver(b, time.Now, func(string, int) action { return accept })
	ctx := context.Background()
	keys := keys(64)
	const perTx = 100
	for start := 0; start < b.N; start += perTx {
		err := tb.db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
			batch := &pgx.Batch{}
			for i := start; i < min(start+perTx, b.N); i++ {
				data, _ := json.Marshal(eventData{Key: keys[i%len(keys)].String(), Seq: i})
				Queue(batch, Delivery{Mission: "NER", Partner: tb.partner, OrderingKey: keys[i%len(keys)], Event: Event{
					ID: uuid.NewString(), Source: "/passage/referral/NER", Type: "org.iom.passage.referral.v1.updated",
					Time: time.Now(), Data: data}})
			}
			return tx.SendBatch(ctx, batch).Close()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	w := NewWorker(tb.db, endpoints{partner: tb.partner, url: r.srv.URL, secret: r.secret},
		WorkerConfig{AllowNetworks: egress.Loopback(), Concurrency: concurrency, PollInterval: time.Millisecond})
	b.ResetTimer()
	start := time.Now()
	delivered := 0
	for delivered < b.N {
		n, err := w.DeliverDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		delivered += n
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	if len(r.receipts()) != b.N {
		b.Fatalf("%d received, want %d", len(r.receipts()), b.N)
	}
}
