package prometheus_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/groupcommit"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/quota"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/telemetry"
	"github.com/passage-cm/passage/internal/webhook"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// scrape is one /metrics page: each sample's value by its series ("name{labels}"), and the
// names of the metric families (# TYPE lines) and of the samples.
type scrape struct {
	values   map[string]float64
	families map[string]string // name → type
	samples  map[string]bool
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)`)

func scrapeMetrics(t *testing.T, h http.Handler) scrape {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	s := scrape{values: map[string]float64{}, families: map[string]string{}, samples: map[string]bool{}}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			s.families[name] = typ
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		s.values[m[1]+m[2]] = v
		s.samples[m[1]] = true
	}
	return s
}

// value returns the value of the one series of name whose labels include every one of
// labels ("consumer=\"x\""); ok is false when there is none.
func (s scrape) value(name string, labels ...string) (float64, bool) {
	for series, v := range s.values {
		n, rest, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(rest, l)
		}
		if all {
			return v, true
		}
	}
	return 0, false
}

// pipeline runs, against a real database and one telemetry setup, every part of Passage
// that exports a passage_* metric: an outbox consumer, the audit chainer, a webhook worker
// (one delivery dead-lettered), a group-commit batcher, an observed pool and a server. It
// returns the metrics handler and the consumer's gate: the consumer applies nothing until
// the gate is opened.
type pipeline struct {
	tel      *telemetry.Telemetry
	consumer *outbox.Consumer
	chainer  *audit.Chainer
	gate     chan struct{}
	entered  chan struct{}
}

// noEndpoints knows no partner: every attempt fails, and with MaxAttempts 1 is dead-lettered.
type noEndpoints struct{}

func (noEndpoints) Endpoint(context.Context, string, uuid.UUID) (string, webhook.Secret, error) {
	return "", webhook.Secret{}, context.Canceled
}

type allowAll struct{}

func (allowAll) Verify(context.Context, string) (auth.Claims, error) { return auth.Claims{}, nil }

func startPipeline(t *testing.T) *pipeline {
	t.Helper()
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, "passage-metrics-test", "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	mp := tel.MeterProvider()

	url := pgtest.New(t)
	owner, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	unregister, err := database.ObservePool(mp, "passage_owner", owner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unregister() })

	// Three events for the consumer, three audit records for the chainer.
	if _, err := owner.Exec(ctx, `CREATE TABLE public.cursor `+outbox.CursorColumns); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		var st database.Statement
		if err := outbox.Add(&st, []outbox.Event{{Producer: "test", AggregateID: uuid.New(), Mission: "NER",
			Payload: &intakev1.CaseRegistered{Case: &intakev1.Case{CaseId: strconv.Itoa(i)}}}}); err != nil {
			t.Fatal(err)
		}
		audit.Add(&st, []audit.Entry{{Mission: "NER", Actor: "staff-1", Role: "caseworker", CallerMission: "NER",
			Method: "/passage.intake.v1.IntakeService/UpdateCase", AggregateID: uuid.New(), RequestID: "req",
			ClientRequestID: uuid.New()}})
		b := &pgx.Batch{}
		st.Queue(b)
		if err := owner.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
	}
	p := &pipeline{tel: tel, gate: make(chan struct{}), entered: make(chan struct{})}
	var once sync.Once
	p.consumer = outbox.NewConsumer(owner, outbox.ConsumerConfig{
		Name: "metrics_test", CursorTable: "public.cursor", Types: []string{"passage.intake.v1.CaseRegistered"},
		PollInterval: 5 * time.Millisecond, MeterProvider: mp,
		Handle: func(context.Context, pgx.Tx, outbox.Record) error {
			once.Do(func() { close(p.entered); <-p.gate })
			return nil
		},
	})
	auditor, err := database.Open(ctx, database.PoolConfig{AdminURL: url, Role: audit.Role})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(auditor.Close)
	h, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	key, err := audit.NewKey(h)
	if err != nil {
		t.Fatal(err)
	}
	p.chainer = audit.NewChainer(auditor, key, audit.ChainerConfig{PollInterval: 5 * time.Millisecond, MeterProvider: mp})

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { _ = p.consumer.Run(runCtx) })
	wg.Go(func() { _ = p.chainer.Run(runCtx) })

	// One webhook delivery, dead-lettered at its first attempt.
	referral, err := database.Open(ctx, database.PoolConfig{AdminURL: url, Role: "passage_referral"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(referral.Close)
	db := database.NewDB(referral)
	data, _ := json.Marshal(map[string]string{"status": "sent"})
	key2 := uuid.New()
	if err := db.MissionTx(ctx, "NER", func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		webhook.Queue(b, webhook.Delivery{Mission: "NER", Partner: uuid.New(), OrderingKey: key2, Event: webhook.Event{
			ID: uuid.NewString(), Source: "/passage/referral/NER", Type: "org.iom.passage.referral.v1.sent",
			Subject: key2.String(), Time: time.Now(), Data: data}})
		return tx.SendBatch(ctx, b).Close()
	}); err != nil {
		t.Fatal(err)
	}
	w := webhook.NewWorker(db, noEndpoints{}, webhook.WorkerConfig{MaxAttempts: 1, Metrics: webhook.NewMetrics(mp),
		Logger: slog.New(slog.DiscardHandler)})
	if n, err := w.DeliverDue(ctx); n != 1 || err != nil {
		t.Fatalf("webhook attempt: %d, %v", n, err)
	}
	if _, err := w.DeliverDue(ctx); err != nil { // sees the queue empty again
		t.Fatal(err)
	}

	batcher := groupcommit.New(groupcommit.Config{Name: "metrics_test", MeterProvider: mp}, func(context.Context, []int) {})
	if err := batcher.Do(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The server's own instruments and the RPC metrics of its stats handler, on tel: one call
	// served over loopback, to intake's service unimplemented (answered UNIMPLEMENTED), so no
	// test server (internal/testserver) is needed.
	// Quotas on, with room for one unauthenticated call per address: the second health check
	// is refused, so the refusal counter has a series.
	cfg := server.DefaultConfig()
	cfg.ShutdownGrace = time.Second
	cfg.Quota.Limits.Unauthenticated = quota.Limit{Rate: 0.001, Burst: 1}
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler), server.Options{Verifier: allowAll{}, Telemetry: tel})
	if err != nil {
		t.Fatal(err)
	}
	intakev1.RegisterIntakeServiceServer(srv.GRPC(), intakev1.UnimplementedIntakeServiceServer{})
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { _ = srv.RunOn(runCtx, grpcLis, httpLis) })
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// allowAll accepts any token, but the server's tap handle wants one to be sent.
	callCtx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer any")
	err = conn.Invoke(callCtx, rpcMethod, &emptypb.Empty{}, &emptypb.Empty{})
	if code := status.Code(err); code != codes.Unimplemented && code != codes.PermissionDenied {
		t.Fatalf("call to %s: %v, want an answer from the server (Unimplemented or PermissionDenied)", rpcMethod, err)
	}
	health := healthpb.NewHealthClient(conn)
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("first health check: %v", err)
	}
	if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("second health check: %v, want ResourceExhausted", err)
	}
	// And one call without a token, refused when its stream opens.
	if err := conn.Invoke(ctx, rpcMethod, &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("call without a token: %v, want Unauthenticated", err)
	}
	return p
}

// rpcMethod is the method the pipeline calls once, so that the RPC metrics have a series.
const rpcMethod = "/passage.intake.v1.IntakeService/GetCase"

// waitScrape scrapes until cond holds.
func (p *pipeline) waitScrape(t *testing.T, what string, cond func(scrape) bool) scrape {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := scrapeMetrics(t, p.tel.MetricsHandler())
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	exportedOnce sync.Once
	exportedOK   bool
	exportedLast scrape
)

// exported returns the scrape of the pipeline once everything has caught up. The pipeline
// runs once per test binary, in the first test to ask, which also reports the values checked
// on the way; the tests after it read the same scrape.
func exported(t *testing.T) scrape {
	t.Helper()
	exportedOnce.Do(func() {
		exportedLast = runPipeline(t)
		exportedOK = true
	})
	if !exportedOK {
		t.Fatal("the pipeline failed in another test")
	}
	return exportedLast
}

// runPipeline runs the pipeline and returns the scrape once everything has caught up; it
// checks the values on the way.
func runPipeline(t *testing.T) scrape {
	t.Helper()
	p := startPipeline(t)
	<-p.entered
	const consumer = `consumer="metrics_test"`
	before := scrapeMetrics(t, p.tel.MetricsHandler())
	if v, ok := before.value("passage_outbox_consumer_backlog", consumer); !ok || v != 3 {
		t.Errorf("consumer backlog before anything is applied = %v (present %v), want 3", v, ok)
	}
	if v, ok := before.value("passage_outbox_consumer_oldest_age_seconds", consumer); !ok || v <= 0 {
		t.Errorf("consumer oldest age before anything is applied = %v (present %v), want > 0", v, ok)
	}
	close(p.gate)
	after := p.waitScrape(t, "the consumer and the chainer to catch up", func(s scrape) bool {
		b, ok1 := s.value("passage_outbox_consumer_backlog", consumer)
		c, ok2 := s.value("passage_audit_chainer_backlog")
		return ok1 && ok2 && b == 0 && c == 0
	})
	for _, want := range []struct {
		name   string
		labels []string
		check  func(float64) bool
		says   string
	}{
		{"passage_outbox_consumer_oldest_age_seconds", []string{consumer}, func(v float64) bool { return v == 0 }, "0 once applied"},
		{"passage_audit_chainer_oldest_age_seconds", nil, func(v float64) bool { return v == 0 }, "0 once chained"},
		{"passage_webhook_dead_letters_total", nil, func(v float64) bool { return v == 1 }, "1"},
		{"passage_webhook_queue_depth", nil, func(v float64) bool { return v == 0 }, "0 after the dead letter"},
		{"passage_webhook_in_flight", nil, func(v float64) bool { return v == 0 }, "0"},
		{"passage_groupcommit_batch_size_count", []string{`batcher="metrics_test"`}, func(v float64) bool { return v == 1 }, "1 batch"},
		{"passage_db_pool_max", []string{`pool="passage_owner"`}, func(v float64) bool { return v >= 1 }, ">= 1"},
		{"passage_db_pool_acquires_total", []string{`pool="passage_owner"`}, func(v float64) bool { return v > 0 }, "> 0"},
		{"passage_server_ready", nil, func(v float64) bool { return v == 1 }, "1"},
		{"passage_server_streams_unauthenticated_total", nil, func(v float64) bool { return v == 1 }, "1, the call without a token"},
		{"passage_quota_refusals_total", []string{`class="unauthenticated"`}, func(v float64) bool { return v == 1 }, "1, the second health check"},
		{"rpc_server_call_duration_seconds_count", []string{`rpc_method="` + strings.TrimPrefix(rpcMethod, "/") + `"`}, func(v float64) bool { return v == 1 }, "1 call"},
	} {
		if v, ok := after.value(want.name, want.labels...); !ok || !want.check(v) {
			t.Errorf("%s%v = %v (present %v), want %s", want.name, want.labels, v, ok, want.says)
		}
	}
	return after
}

// passageFamilies returns the exported passage_* metric families, sorted by name.
func (s scrape) passageFamilies() map[string]string {
	out := map[string]string{}
	for name, typ := range s.families {
		if strings.HasPrefix(name, "passage_") {
			out[name] = typ
		}
	}
	return out
}
