package attack_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/testserver"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// floodRate is the rate at which issue 15's caseworker listed cases: 1,922 calls a second.
const floodRate = 1922

// floodWorkers send the flood, each at floodRate/floodWorkers a second, or as fast as the
// server answers when it cannot keep up.
const floodWorkers = 16

// quietRate is how often the measured caller lists cases: a busy screen or script, within
// the default read limit (20 a second).
const quietRate = 15

// phaseCalls is the length of a quiet or a flooded phase, in the measured caller's calls.
const phaseCalls = 15

// BenchmarkQuietCallerUnderFlood measures a caseworker's ListCases latency (the loop, a call
// every 1/quietRate s) in phases of phaseCalls calls, alternately quiet and while a colleague
// of the same mission lists cases at floodRate, with quotas off and at their defaults. It
// reports both phases' p99s, their ratio, and the flood's calls a second and share refused.
// The whole server runs in this process over an in-memory connection, flooder included, so
// the flood's own client work competes for the same cores: the ratio is an upper bound of
// what a remote flood does.
//
//	go test -run '^$' -bench QuietCallerUnderFlood -benchtime 300x ./internal/attack/
func BenchmarkQuietCallerUnderFlood(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  quota.Config
	}{{"quotas=off", quota.Config{}}, {"quotas=default", quota.DefaultConfig()}} {
		b.Run(tc.name, func(b *testing.B) {
			env := testserver.Start(b, testserver.Options{Services: specs(), Quota: tc.cfg, CachedTokens: true})
			client := intakev1.NewIntakeServiceClient(env.Conn)
			loader := env.AsStaff(b, "staff-loader", auth.RoleCaseworker, "NER")
			register := method{full: intakev1.IntakeService_RegisterCase_FullMethodName}
			for range 40 {
				req := missionRequest(register).(*intakev1.RegisterCaseRequest)
				req.Mission = "NER"
				if _, err := client.RegisterCase(loader, req); err != nil {
					b.Fatal(err)
				}
			}
			quiet := env.AsStaff(b, "staff-quiet", auth.RoleCaseworker, "NER")
			pace := time.NewTicker(time.Second / quietRate)
			defer pace.Stop()
			list := func() time.Duration {
				<-pace.C
				start := time.Now()
				if _, err := client.ListCases(quiet, &intakev1.ListCasesRequest{}); err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			ctx, cancel := context.WithCancel(context.Background())
			flooder := env.AsStaff(b, "staff-flooder", auth.RoleCaseworker, "NER")
			var flooding atomic.Bool
			var sent, refused atomic.Int64
			var wg sync.WaitGroup
			for range floodWorkers {
				wg.Go(func() {
					tick := time.NewTicker(time.Second * floodWorkers / floodRate)
					defer tick.Stop()
					for {
						select {
						case <-ctx.Done():
							return
						case <-tick.C:
						}
						if !flooding.Load() {
							continue
						}
						_, err := client.ListCases(flooder, &intakev1.ListCasesRequest{})
						sent.Add(1)
						if status.Code(err) == codes.ResourceExhausted {
							refused.Add(1)
						}
					}
				})
			}
			// Quiet and flooded phases alternate, so that the other work on a shared machine
			// weighs on both alike.
			var calm, flooded []time.Duration
			var floodTime time.Duration
			var floodStart time.Time
			i := 0
			for b.Loop() {
				on := (i/phaseCalls)%2 == 1
				switch {
				case on && !flooding.Load():
					floodStart = time.Now()
				case !on && flooding.Load():
					floodTime += time.Since(floodStart)
				}
				flooding.Store(on)
				if d := list(); on {
					flooded = append(flooded, d)
				} else {
					calm = append(calm, d)
				}
				i++
			}
			if flooding.Load() {
				floodTime += time.Since(floodStart)
			}
			cancel()
			wg.Wait()

			q, f := p99(calm), p99(flooded)
			b.ReportMetric(ms(q), "quiet-p99-ms")
			b.ReportMetric(ms(f), "flood-p99-ms")
			b.ReportMetric(float64(f)/float64(q), "p99-ratio")
			b.ReportMetric(float64(sent.Load())/floodTime.Seconds(), "flood-calls/s")
			b.ReportMetric(float64(refused.Load())/float64(max(1, sent.Load())), "flood-refused-share")
		})
	}
}

func p99(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)*99)/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
