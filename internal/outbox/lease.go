package outbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/failurelog"
	"github.com/passage-cm/passage/internal/middleware"
)

// Run applies, every PollInterval, the events of the partitions this replica leases, until ctx
// ends. Every LeaseTTL/5 it renews its leases and balances them (Balance): each live replica
// holds its fair share, so N replicas drain up to N partitions at once, and the partitions of
// a replica that died are taken over once its leases expire. A failed drain is logged, and
// its partition tried again after a pause that doubles with each failure (up to 30 s) while
// the others are drained every PollInterval, so one bad event neither spins the process nor
// holds back other partitions; a failed balance or look-up is retried with a growing pause
// (up to LeaseTTL/5, so that the leases are renewed in time). Failures that go on are logged
// once, then every 30 s, and the recovery once every partition drains again (failurelog).
// When ctx ends, Run gives its leases up, so that the other replicas take them at once. While
// it runs, the consumer's backlog and the age of its oldest unapplied event are metrics (Lag).
func (c *Consumer) Run(ctx context.Context) error {
	if unregister, err := c.observe(); err != nil {
		c.cfg.Logger.WarnContext(ctx, "outbox consumer: no backlog metrics", "consumer", c.cfg.Name, middleware.ErrorAttr(err))
	} else {
		defer func() { _ = unregister() }()
	}
	defer c.release()
	pause := c.cfg.PollInterval
	var balanced time.Time
	failures := failurelog.New(c.cfg.Logger, "outbox consumer", "consumer", c.cfg.Name)
	for {
		var err error
		if time.Since(balanced) >= c.cfg.LeaseTTL/5 {
			if err = c.Balance(ctx); err == nil {
				balanced = time.Now()
			}
		}
		if err == nil {
			_, err = c.drainLeased(ctx)
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failures.Failed(ctx, err)
			pause = min(2*pause, 30*time.Second)
		default:
			if !c.retrying() {
				failures.Succeeded(ctx)
			}
			pause = c.cfg.PollInterval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(pause, c.cfg.LeaseTTL/5)):
		}
	}
}

// Leases returns the partitions this replica leases now, in order.
func (c *Consumer) Leases() []int {
	c.leasesMu.Lock()
	defer c.leasesMu.Unlock()
	return slices.Sorted(maps.Keys(c.leases))
}

// retrying reports whether a partition waits out its pause after a failed drain: until it
// drains, the consumer has not recovered.
func (c *Consumer) retrying() bool {
	c.leasesMu.Lock()
	defer c.leasesMu.Unlock()
	return len(c.retries) > 0
}

// retry is when Run next drains a partition whose drain failed, and the pause before then,
// doubled (up to 30 s) should it fail again.
type retry struct {
	at    time.Time
	pause time.Duration
}

// drainLeased drains the partitions this replica leases that hold events to read, each
// fenced by its lease's generation, but for those whose pause after a failed drain is not
// over; a partition whose lease another replica took is dropped from the leases. Run calls
// it, one call at a time.
func (c *Consumer) drainLeased(ctx context.Context) (int, error) {
	c.leasesMu.Lock()
	leases, retries := maps.Clone(c.leases), maps.Clone(c.retries)
	c.leasesMu.Unlock()
	if len(leases) == 0 {
		return 0, nil
	}
	due, lost, err := c.due(ctx, leases)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	total := 0
	var errs []error
	for _, p := range due {
		if now.Before(retries[p].at) {
			continue
		}
		generation := leases[p]
		n, err := c.drainPartition(ctx, p, &generation)
		total += n
		switch {
		case errors.Is(err, errLeaseLost):
			lost = append(lost, p)
		case err != nil:
			errs = append(errs, err)
			pause := min(2*max(retries[p].pause, c.cfg.PollInterval), 30*time.Second)
			retries[p] = retry{at: time.Now().Add(pause), pause: pause}
		default:
			delete(retries, p)
		}
	}
	c.leasesMu.Lock()
	for _, p := range lost {
		if c.leases[p] == leases[p] {
			delete(c.leases, p)
		}
	}
	maps.DeleteFunc(retries, func(p int, _ retry) bool { _, held := c.leases[p]; return !held })
	c.retries = retries
	c.leasesMu.Unlock()
	return total, errors.Join(errs...)
}

// due sorts this replica's leases, in one statement, into the partitions with an event past
// their cursor and below the horizon, to drain, and those whose lease another replica has
// taken since (its holder or generation changed), to drop; the rest are idle. An idle replica
// thus polls its partitions with one query rather than a transaction each.
func (c *Consumer) due(ctx context.Context, leases map[int]int64) (due, lost []int, err error) {
	partitions := slices.Sorted(maps.Keys(leases))
	generations := make([]int64, len(partitions))
	for i, p := range partitions {
		generations[i] = leases[p]
	}
	rows, err := c.db.OutboxConsumer(c.cfg.Name).Query(ctx, `SELECT c.partition, x.taken
FROM `+c.cfg.CursorTable+` c JOIN unnest($2::int[], $3::bigint[]) AS l(partition, generation) USING (partition),
  LATERAL (SELECT c.holder IS DISTINCT FROM $4 OR c.generation <> l.generation AS taken) x
WHERE c.name = $1 AND (x.taken OR `+c.readable("c")+`)
ORDER BY c.partition`, c.cfg.Name, partitions, generations, c.holder)
	if err != nil {
		return nil, nil, fmt.Errorf("outbox: %s look for due partitions: %w", c.cfg.Name, err)
	}
	var p int
	var taken bool
	_, err = pgx.ForEachRow(rows, []any{&p, &taken}, func() error {
		if taken {
			lost = append(lost, p)
		} else {
			due = append(due, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("outbox: %s look for due partitions: %w", c.cfg.Name, err)
	}
	return due, lost, nil
}

// partitionRow is one partition's lease as Balance reads it.
type partitionRow struct {
	partition  int
	holder     string // "" when free
	generation int64
	live       bool // held, and the lease not expired
	locked     bool // a drain holds the row now: neither renewed nor taken this round
}

// Balance renews this replica's leases and moves it toward its fair share, in one
// transaction: the live replicas are those holding an unexpired lease, and this one; each
// should hold at most ceil(partitions / live replicas). A replica above its share gives the
// extra partitions up; one below takes free or expired partitions first, then partitions of
// replicas above their share (which their next drain finds fenced off). Taking a lease raises
// its generation, so the replica it was taken from commits nothing more on it. Rows a drain
// holds now are left alone this round. Run calls it every LeaseTTL/5; tests call it directly.
func (c *Consumer) Balance(ctx context.Context) error {
	if err := c.ensure(ctx); err != nil {
		return err
	}
	ttl := fmt.Sprintf("%d milliseconds", c.cfg.LeaseTTL.Milliseconds())
	mine := map[int]int64{}
	err := c.db.OutboxConsumerTx(ctx, c.cfg.Name, func(tx pgx.Tx) error {
		clear(mine)
		rows, err := tx.Query(ctx, `SELECT c.partition, coalesce(c.holder, ''), c.generation,
  c.holder IS NOT NULL AND c.lease_until > clock_timestamp(), l.partition IS NULL
FROM `+c.cfg.CursorTable+` c
LEFT JOIN (SELECT partition FROM `+c.cfg.CursorTable+` WHERE name = $1 FOR UPDATE SKIP LOCKED) l USING (partition)
WHERE c.name = $1
ORDER BY c.partition`, c.cfg.Name)
		if err != nil {
			return fmt.Errorf("outbox: %s leases: %w", c.cfg.Name, err)
		}
		parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (partitionRow, error) {
			var p partitionRow
			err := r.Scan(&p.partition, &p.holder, &p.generation, &p.live, &p.locked)
			return p, err
		})
		if err != nil {
			return fmt.Errorf("outbox: %s leases: %w", c.cfg.Name, err)
		}
		renew, release, take := c.plan(parts)
		if _, err := tx.Exec(ctx, `UPDATE `+c.cfg.CursorTable+` SET lease_until = clock_timestamp() + $3::interval
WHERE name = $1 AND partition = ANY($2) AND holder = $4`, c.cfg.Name, renew, ttl, c.holder); err != nil {
			return fmt.Errorf("outbox: %s renew leases: %w", c.cfg.Name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+c.cfg.CursorTable+` SET holder = NULL, lease_until = NULL
WHERE name = $1 AND partition = ANY($2) AND holder = $3`, c.cfg.Name, release, c.holder); err != nil {
			return fmt.Errorf("outbox: %s release leases: %w", c.cfg.Name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+c.cfg.CursorTable+` SET holder = $3, generation = generation + 1,
  lease_until = clock_timestamp() + $4::interval
WHERE name = $1 AND partition = ANY($2)`, c.cfg.Name, take, c.holder, ttl); err != nil {
			return fmt.Errorf("outbox: %s take leases: %w", c.cfg.Name, err)
		}
		held, err := tx.Query(ctx, `SELECT partition, generation FROM `+c.cfg.CursorTable+` WHERE name = $1 AND holder = $2`,
			c.cfg.Name, c.holder)
		if err != nil {
			return fmt.Errorf("outbox: %s leases: %w", c.cfg.Name, err)
		}
		var p int
		var g int64
		_, err = pgx.ForEachRow(held, []any{&p, &g}, func() error {
			mine[p] = g
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	c.leasesMu.Lock()
	c.leases = mine
	c.leasesMu.Unlock()
	return nil
}

// plan decides, from every partition's lease, which of this replica's leases to renew, which
// to give up and which partitions to take (see Balance).
func (c *Consumer) plan(parts []partitionRow) (renew, release, take []int) {
	held := map[string]int{} // live leases per replica
	for _, p := range parts {
		if p.live {
			held[p.holder]++
		}
	}
	replicas := len(held)
	if held[c.holder] == 0 {
		replicas++
	}
	share := (len(parts) + replicas - 1) / replicas
	count := 0 // this replica's partitions after the plan
	for _, p := range parts {
		if p.holder != c.holder || p.locked {
			continue
		}
		if count < share {
			renew = append(renew, p.partition)
			count++
		} else {
			release = append(release, p.partition)
		}
	}
	for _, p := range parts { // free and expired partitions first
		if count < share && !p.locked && !p.live && p.holder != c.holder {
			take = append(take, p.partition)
			count++
		}
	}
	for _, p := range parts { // then the extra partitions of replicas above their share
		if count < share && !p.locked && p.live && p.holder != c.holder && held[p.holder] > share {
			take = append(take, p.partition)
			held[p.holder]--
			count++
		}
	}
	return renew, release, take
}

// release gives this replica's leases up (on the way out of Run), so that the other replicas
// take its partitions at their next balance rather than after the leases expire.
func (c *Consumer) release() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := c.db.OutboxConsumerTx(ctx, c.cfg.Name, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE `+c.cfg.CursorTable+` SET holder = NULL, lease_until = NULL WHERE name = $1 AND holder = $2`,
			c.cfg.Name, c.holder)
		return err
	})
	if err != nil {
		c.cfg.Logger.Warn("outbox consumer: leases not given up; they expire", "consumer", c.cfg.Name, middleware.ErrorAttr(err))
	}
	c.leasesMu.Lock()
	clear(c.leases)
	clear(c.retries)
	c.leasesMu.Unlock()
}
