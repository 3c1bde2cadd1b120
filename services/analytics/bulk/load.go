package bulk

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options tune a load.
type Options struct {
	// Generators is how many goroutines make persons (default: the number of CPUs). The
	// facts go to Postgres through one COPY, in one transaction, so that a failed load
	// leaves nothing behind; generating is cheap next to it.
	Generators int
	// SkipFacts writes the rollup only: what the Aggregate engine reads. The facts are
	// what the rollup can be rebuilt and checked from; without them the load is quicker
	// and the database smaller, and the rollup no longer equals the facts.
	SkipFacts bool
	// Progress, if set, is called after each chunk with the persons made so far, one call
	// at a time.
	Progress func(persons int64)
}

// Report says what a load wrote and how fast.
type Report struct {
	Persons       int64
	Facts         int64
	RollupRows    int64 // combinations written (new or added to)
	Elapsed       time.Duration
	PersonsPerSec float64
}

var factColumns = []string{"event_id", "ordinal", "measure", "year", "programme", "sex", "age_band", "nationality",
	"host_country", "return_country", "vulnerabilities", "assistance_type", "exploitation_types", "means_of_control"}

// ErrPrivileges is returned when the connection cannot write the anonymised tables as the
// loader does: as their owner with BYPASSRLS, or a superuser (as migrations run).
var ErrPrivileges = errors.New("bulk: load as the database owner with BYPASSRLS (the role that runs migrations); the service roles cannot")

// Load adds persons synthetic persons to analytics.fact and analytics.rollup in one
// transaction on conn.
func Load(ctx context.Context, conn *pgx.Conn, g *Generator, persons int64, o Options) (Report, error) {
	start := time.Now()
	if persons < 1 {
		return Report{}, fmt.Errorf("bulk: persons must be at least 1 (got %d)", persons)
	}
	var bypass bool
	if err := conn.QueryRow(ctx, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&bypass); err != nil {
		return Report{}, fmt.Errorf("bulk: %w", err)
	}
	if !bypass {
		return Report{}, ErrPrivileges
	}
	if o.Generators < 1 {
		o.Generators = runtime.NumCPU()
	}

	tx, err := conn.Begin(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("bulk: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Event ids continue below those of earlier loads; an advisory lock keeps two loads from
	// taking the same ones (the projector's ids are positive, it is not held up).
	var below int64
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('passage demo load'))`); err != nil {
		return Report{}, fmt.Errorf("bulk: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(min(event_id), 0) FROM analytics.fact WHERE event_id < 0`).Scan(&below); err != nil {
		return Report{}, fmt.Errorf("bulk: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches, done := g.produce(ctx, persons, below, o)

	src := &factSource{batches: batches}
	var facts int64
	if o.SkipFacts {
		for src.Next() {
		}
		facts = src.n
	} else {
		facts, err = tx.CopyFrom(ctx, pgx.Identifier{"analytics", "fact"}, factColumns, src)
		if err != nil {
			cancel()
			<-done
			return Report{}, fmt.Errorf("bulk: copy facts: %w", err)
		}
	}
	made := <-done
	if made.err != nil {
		return Report{}, made.err
	}
	rows, err := writeRollup(ctx, tx, made.rollup)
	if err != nil {
		return Report{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Report{}, fmt.Errorf("bulk: commit: %w", err)
	}
	el := time.Since(start)
	return Report{Persons: made.persons, Facts: facts, RollupRows: rows, Elapsed: el,
		PersonsPerSec: float64(made.persons) / el.Seconds()}, nil
}

type produced struct {
	persons int64
	rollup  map[RollupKey]int64
	err     error
}

// produce makes the persons' facts in chunks on o.Generators goroutines and sends them, a
// chunk at a time, in any order. Each goroutine also counts its facts into a rollup of its
// own; done carries their sum once every fact has been sent.
func (g *Generator) produce(ctx context.Context, persons, below int64, o Options) (<-chan []Fact, <-chan produced) {
	chunks := (persons + ChunkSize - 1) / ChunkSize
	out := make(chan []Fact, o.Generators*2)
	done := make(chan produced, 1)
	next := make(chan int64)
	go func() {
		defer close(next)
		for n := int64(0); n < chunks; n++ {
			select {
			case next <- n:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		total   int64
		rollups = make([]map[RollupKey]int64, o.Generators)
	)
	for w := range o.Generators {
		rollups[w] = map[RollupKey]int64{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := rollups[w]
			for n := range next {
				batch := make([]Fact, 0, ChunkSize*2)
				made, _ := g.Chunk(n, persons, below, func(f *Fact) error {
					batch = append(batch, *f)
					local[f.Key()]++
					return nil
				})
				select {
				case out <- batch:
				case <-ctx.Done():
					return
				}
				mu.Lock()
				total += made
				if o.Progress != nil {
					o.Progress(total) // under the lock: one call at a time, counts rising
				}
				mu.Unlock()
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
		var err error
		if ctx.Err() != nil {
			err = fmt.Errorf("bulk: %w", ctx.Err())
		}
		sum := rollups[0]
		for _, m := range rollups[1:] {
			for k, n := range m {
				sum[k] += n
			}
		}
		done <- produced{persons: total, rollup: sum, err: err}
	}()
	return out, done
}

// factSource feeds COPY from the batches.
type factSource struct {
	batches <-chan []Fact
	batch   []Fact
	i       int
	n       int64
}

func (s *factSource) Next() bool {
	for s.i >= len(s.batch) {
		b, ok := <-s.batches
		if !ok {
			return false
		}
		s.batch, s.i = b, 0
	}
	s.i++
	s.n++
	return true
}

func (s *factSource) Values() ([]any, error) {
	f := &s.batch[s.i-1]
	return []any{f.EventID, f.Ordinal, f.Measure, f.Year, f.Programme, f.Sex, f.AgeBand, f.Nationality,
		f.HostCountry, f.ReturnCountry, f.Vulnerabilities, f.AssistanceType, f.ExploitationTypes, f.MeansOfControl}, nil
}

func (s *factSource) Err() error { return nil }

// writeRollup adds the counts to analytics.rollup: COPY into a temporary table, then one
// INSERT that adds to the combinations already there. The referral columns keep their
// default, the empty string: the bulk load draws no referrals. Every row it touches gets this
// transaction's id, which is how the service's in-memory copy finds what changed.
func writeRollup(ctx context.Context, tx pgx.Tx, rollup map[RollupKey]int64) (int64, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE bulk_rollup (LIKE analytics.rollup INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
		return 0, fmt.Errorf("bulk: rollup: %w", err)
	}
	rows := make([][]any, 0, len(rollup))
	for k, n := range rollup {
		rows = append(rows, []any{k.Measure, k.Year, k.Programme, k.Sex, k.AgeBand, k.Nationality, k.HostCountry,
			k.ReturnCountry, split(k.Vulnerabilities), k.AssistanceType, split(k.ExploitationTypes), n})
	}
	cols := []string{"measure", "year", "programme", "sex", "age_band", "nationality", "host_country",
		"return_country", "vulnerabilities", "assistance_type", "exploitation_types", "persons"}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bulk_rollup"}, cols, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("bulk: rollup: %w", err)
	}
	list := strings.Join(cols, ", ")
	tag, err := tx.Exec(ctx, `INSERT INTO analytics.rollup (`+list+`)
SELECT `+list+` FROM bulk_rollup
ON CONFLICT (measure, year, programme, sex, age_band, nationality, host_country, return_country,
  vulnerabilities, assistance_type, exploitation_types, referral_status, partner_type, referral_direction)
DO UPDATE SET persons = analytics.rollup.persons + EXCLUDED.persons, tx_id = pg_current_xact_id()`)
	if err != nil {
		return 0, fmt.Errorf("bulk: rollup: %w", err)
	}
	return tag.RowsAffected(), nil
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
