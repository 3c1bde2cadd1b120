package outbox_test

import (
	"context"
	"fmt"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pgtest"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// Environment of a replica process (TestReplicaProcess): the database and the replica's name.
const (
	replicaDBEnv   = "PASSAGE_OUTBOX_REPLICA_DB"
	replicaNameEnv = "PASSAGE_OUTBOX_REPLICA_NAME"
	// replicaPartitionsEnv is the consumer's partition count (default 16).
	replicaPartitionsEnv = "PASSAGE_OUTBOX_REPLICA_PARTITIONS"
)

// TestReplicaProcess is not a test: it is one replica of the consumer "replicas", run in a
// process of its own by the tests and benchmarks below (the test binary started again with
// -test.run naming it), until it is sent SIGTERM or killed. Its projection, public.applied,
// records each event it applies with the event's number in its aggregate's sequence.
func TestReplicaProcess(t *testing.T) {
	url := os.Getenv(replicaDBEnv)
	if url == "" {
		t.Skip("run by the replica tests in a process of its own")
	}
	name := os.Getenv(replicaNameEnv)
	partitions := 16
	if p := os.Getenv(replicaPartitionsEnv); p != "" {
		var err error
		if partitions, err = strconv.Atoi(p); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	seq := func(r outbox.Record) (int, error) {
		m, err := r.Decode()
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(m.(*intakev1.CaseRegistered).GetCase().GetCaseId())
	}
	c := outbox.NewConsumer(pool, outbox.ConsumerConfig{
		Name: "replicas", CursorTable: "public.cursor", Partitions: partitions, LeaseTTL: 2 * time.Second,
		PollInterval: 20 * time.Millisecond, Types: []string{registered},
		Handle: func(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
			n, err := seq(r)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO public.applied (aggregate_id, seq, event_id, replica) VALUES ($1, $2, $3, $4)`,
				r.AggregateID, n, r.ID, name)
			return err
		},
		HandleBatch: func(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
			aggs, seqs, ids := make([]uuid.UUID, len(records)), make([]int, len(records)), make([]int64, len(records))
			for i, r := range records {
				n, err := seq(r)
				if err != nil {
					return err
				}
				aggs[i], seqs[i], ids[i] = r.AggregateID, n, r.ID
			}
			_, err := tx.Exec(ctx, `INSERT INTO public.applied (aggregate_id, seq, event_id, replica)
SELECT a, s, e, $4 FROM unnest($1::uuid[], $2::int[], $3::bigint[]) WITH ORDINALITY AS x(a, s, e, n) ORDER BY n`,
				aggs, seqs, ids, name)
			return err
		},
	})
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// replicaSet is a backlog of events in a fresh database and the replica processes applying it.
type replicaSet struct {
	t          testing.TB
	url        string
	pool       *pgxpool.Pool
	total      int
	partitions int    // of the replicas' consumer; 0 for the default
	replicaURL string // where the replicas connect, when not url (through a latencyProxy)
	backlog    pgx.Tx // the backlog's transaction until release

	mu    sync.Mutex
	procs map[string]*exec.Cmd
	logs  map[string]*syncBuffer
}

func newReplicaSet(t testing.TB, aggregateCount, perAggregate int) *replicaSet {
	t.Helper()
	url := pgtest.New(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE public.cursor `+outbox.CursorColumns+`;
CREATE TABLE public.applied (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, aggregate_id uuid NOT NULL,
  seq int NOT NULL, event_id bigint NOT NULL, replica text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	s := &replicaSet{t: t, url: url, pool: pool, total: aggregateCount * perAggregate,
		procs: map[string]*exec.Cmd{}, logs: map[string]*syncBuffer{}}
	t.Cleanup(s.stopAll) // before the database is dropped
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A backlog never released is rolled back, or closing the pool would wait for its connection.
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	writeSequences(t, tx, aggregates(aggregateCount), perAggregate)
	s.backlog = tx
	return s
}

// release commits the backlog: the replicas see it from now on.
func (s *replicaSet) release() {
	s.t.Helper()
	if err := s.backlog.Commit(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

// leased reports whether every partition is leased, to replicas distinct replicas.
func (s *replicaSet) leased(replicas int) bool {
	s.t.Helper()
	var holders int
	var all bool
	if err := s.pool.QueryRow(context.Background(), `SELECT count(DISTINCT holder), count(*) > 0 AND count(*) FILTER (WHERE lease_until > now()) = count(*)
FROM public.cursor WHERE name = 'replicas'`).Scan(&holders, &all); err != nil {
		s.t.Fatal(err)
	}
	return holders == replicas && all
}

// start starts the replica process name.
func (s *replicaSet) start(name string) {
	s.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaProcess$", "-test.count=1")
	url := s.url
	if s.replicaURL != "" {
		url = s.replicaURL
	}
	cmd.Env = append(os.Environ(), replicaDBEnv+"="+url, replicaNameEnv+"="+name)
	if s.partitions > 0 {
		cmd.Env = append(cmd.Env, replicaPartitionsEnv+"="+strconv.Itoa(s.partitions))
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.procs[name], s.logs[name] = cmd, out
	s.mu.Unlock()
}

// kill kills the replica process name at once (SIGKILL): it gives nothing up.
func (s *replicaSet) kill(name string) {
	s.t.Helper()
	s.mu.Lock()
	cmd := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if err := cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	_ = cmd.Wait()
}

// stopAll stops the replica processes still running (SIGTERM, so they give their leases up).
func (s *replicaSet) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, cmd := range s.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			s.t.Errorf("replica %s: %v\n%s", name, err, s.logs[name])
		}
		delete(s.procs, name)
	}
}

// applied returns how many events the replicas applied, in all and by the replica name.
func (s *replicaSet) applied(name string) (all, by int) {
	s.t.Helper()
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE replica = $1) FROM public.applied`,
		name).Scan(&all, &by); err != nil {
		s.t.Fatal(err)
	}
	return all, by
}

// waitFor polls until done reports true; it fails the test after two minutes (a bound for a
// broken build, not a timing the test asserts), every 100 ms (a count of the applied rows).
func (s *replicaSet) waitFor(what string, done func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); !done(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.mu.Lock()
			defer s.mu.Unlock()
			for name, out := range s.logs {
				s.t.Logf("replica %s:\n%s", name, out)
			}
			s.t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// checkOnceInOrder fails the test unless every event was applied exactly once and each
// aggregate's events in their order.
func (s *replicaSet) checkOnceInOrder() {
	s.t.Helper()
	var rows, events, disorder int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT event_id),
  count(*) FILTER (WHERE seq <> rn)
FROM (SELECT event_id, seq, row_number() OVER (PARTITION BY aggregate_id ORDER BY id) AS rn FROM public.applied) a`).
		Scan(&rows, &events, &disorder); err != nil {
		s.t.Fatal(err)
	}
	if rows != s.total || events != s.total || disorder != 0 {
		s.t.Fatalf("applied %d rows of %d distinct events, %d out of their aggregate's order; want %d once each, in order",
			rows, events, disorder, s.total)
	}
}

func TestReplicasShareTheWorkAndSurviveAKill(t *testing.T) {
	if os.Getenv(replicaDBEnv) != "" {
		t.Skip("in a replica process")
	}
	s := newReplicaSet(t, 400, 25)

	// Two replicas balance their leases, then share the backlog.
	s.start("r1")
	s.start("r2")
	s.waitFor("two replicas to lease every partition", func() bool { return s.leased(2) })
	s.release()
	s.waitFor("the backlog to be applied", func() bool {
		all, _ := s.applied("")
		return all == s.total
	})
	// A third joins and takes its share; a second backlog commits, and one replica is
	// killed at once: its partitions are taken over once its leases expire.
	s.start("r3")
	s.waitFor("three replicas to lease every partition", func() bool { return s.leased(3) })
	writeSequences(t, s.pool, aggregates(400), 25)
	s.total *= 2
	killed := time.Now()
	s.kill("r1")
	s.waitFor("the second backlog to be applied", func() bool {
		all, _ := s.applied("")
		return all == s.total
	})
	t.Logf("the second backlog applied %v after the kill", time.Since(killed).Round(time.Millisecond))
	s.checkOnceInOrder()
	for _, name := range []string{"r1", "r2", "r3"} {
		_, n := s.applied(name)
		t.Logf("replica %s applied %d events", name, n)
	}
}

// BenchmarkReplicas applies a backlog of 100,000 events (2,000 aggregates of 50) with one
// and with three replica processes of a consumer of 16 partitions on one Postgres, and with
// one replica of a consumer of one partition (the consumers before partitions), and reports
// events applied per second and the machine's busy cores. The network cases put a network
// between the replicas and Postgres (latencyProxy; the round trip it makes is reported as
// rtt-ms), as between pods and a database on nodes of their own. Run it with -benchtime=1x:
// each iteration writes its own backlog.
func BenchmarkReplicas(b *testing.B) {
	for _, bench := range []struct {
		replicas, partitions int
		network              bool // through a latencyProxy
	}{{1, 1, false}, {1, 16, false}, {3, 16, false}, {1, 16, true}, {3, 16, true}} {
		n := bench.replicas
		name := fmt.Sprintf("partitions=%d/replicas=%d", bench.partitions, n)
		if bench.network {
			name += "/network"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := newReplicaSet(b, 2000, 50)
				s.partitions = bench.partitions
				if bench.network {
					// 50 µs each way asked; this machine's timers make it about 1 ms
					// each way (rtt-ms).
					s.replicaURL = latencyProxy(b, s.url, 50*time.Microsecond)
					b.ReportMetric(measuredRTT(b, s.replicaURL).Seconds()*1000, "rtt-ms")
				}
				// The replicas start and balance their leases before the backlog commits:
				// the benchmark times the application, not the processes' start.
				for i := range n {
					s.start(fmt.Sprintf("r%d", i+1))
				}
				s.waitFor("the replicas to lease every partition", func() bool { return s.leased(n) })
				s.release()
				b.StartTimer()
				start, cpu := time.Now(), readCPU()
				s.waitFor("the backlog to be applied", func() bool {
					all, _ := s.applied("")
					return all == s.total
				})
				b.ReportMetric(float64(s.total)/time.Since(start).Seconds(), "events/s")
				if busy, ok := cpu.busyCores(readCPU()); ok {
					b.ReportMetric(busy, "busy-cores")
				}
				b.StopTimer()
				s.stopAll()
			}
		})
	}
}

// cpuTimes is the machine's CPU time as /proc/stat's first line counts it, in ticks: busy (user,
// nice, system, irq, softirq, steal) and in all. Zero where there is no /proc/stat.
type cpuTimes struct{ busy, total uint64 }

func readCPU() cpuTimes {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	var t cpuTimes
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTimes{}
		}
		t.total += v
		if i != 3 && i != 4 { // idle, iowait
			t.busy += v
		}
	}
	return t
}

// busyCores is how many of the machine's cores were busy on average from t to later, for the
// benchmark's CPU split: every process's, Postgres's included.
func (t cpuTimes) busyCores(later cpuTimes) (float64, bool) {
	if t.total == 0 || later.total <= t.total {
		return 0, false
	}
	share := float64(later.busy-t.busy) / float64(later.total-t.total)
	return share * float64(runtime.NumCPU()), true
}

// latencyProxy returns url with its host replaced by a TCP proxy to it that holds every byte
// delay in each direction, in order: a round trip takes 2×delay longer, as across a network.
// It stops when the benchmark ends.
func latencyProxy(b *testing.B, url string, delay time.Duration) string {
	b.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		b.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			go delayed(server, client, delay)
			go delayed(client, server, delay)
		}
	}()
	u.Host = ln.Addr().String()
	return u.String()
}

// measuredRTT is the median time of a round trip (SELECT 1) to the database at url.
func measuredRTT(b *testing.B, url string) time.Duration {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	times := make([]time.Duration, 21)
	for i := range times {
		start := time.Now()
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			b.Fatal(err)
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[len(times)/2]
}

// delayed copies src to dst, each chunk written delay after it was read, until src ends;
// then it closes dst.
func delayed(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		data []byte
		at   time.Time
	}
	chunks := make(chan chunk, 4096)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 64<<10)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{buf[:n], time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	_ = dst.Close()
	for range chunks { // let the reader end
	}
}
