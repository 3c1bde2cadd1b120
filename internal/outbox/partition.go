package outbox

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// IndexedPartitions is the partition count migration 000042's index (event_partition16)
// serves, which the services' consumers use: a drain of one partition reads only its own
// events. Any other count is correct but reads the outbox by commit order and filters.
const IndexedPartitions = 16

// PartitionOf is the partition, among partitions, of an aggregate: what outbox.partition_of
// (migration 000042) computes in the database, from the UUID's last four bytes, random in
// version 4 and version 7 UUIDs alike.
func PartitionOf(aggregate uuid.UUID, partitions int) int {
	if partitions <= 1 {
		return 0
	}
	return int(binary.BigEndian.Uint32(aggregate[12:])&0x7fffffff) % partitions
}

// partitionOf is the SQL expression of the partition, among the consumer's, of the aggregate
// id expression col. The count is written into the statement (a trusted int from the
// configuration), so that with 16 partitions the planner reads the event_partition16 index
// (migration 000042); with one partition every event is in partition 0.
func (c *Consumer) partitionOf(col string) string {
	if c.cfg.Partitions == 1 {
		return "0"
	}
	return "outbox.partition_of(" + col + ", " + strconv.Itoa(c.cfg.Partitions) + ")"
}

// ensure makes the consumer's cursor rows, one per partition, exist once per process. A new
// consumer starts as one partition at the start of the outbox. A consumer of one partition (every
// consumer before migration 000042) configured with more spreads its cursor: each new
// partition starts where the one cursor stood, so that nothing before it is applied again and
// nothing after it is skipped. Any other change of the count is refused: partitions at
// different positions cannot be re-split without applying some events twice or not at all.
func (c *Consumer) ensure(ctx context.Context) error {
	c.readyMu.Lock()
	defer c.readyMu.Unlock()
	if c.ready {
		return nil
	}
	want := c.cfg.Partitions
	err := c.db.OutboxConsumerTx(ctx, c.cfg.Name, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+c.cfg.CursorTable+` (name, partition, partitions, tx_id, event_id)
VALUES ($1, 0, 1, '0', 0) ON CONFLICT (name, partition) DO NOTHING`, c.cfg.Name); err != nil {
			return fmt.Errorf("outbox: %s cursor: %w", c.cfg.Name, err)
		}
		// Partition 0's row lock makes replicas that start together spread the cursor once.
		var have int
		if err := tx.QueryRow(ctx, `SELECT partitions FROM `+c.cfg.CursorTable+` WHERE name = $1 AND partition = 0 FOR UPDATE`,
			c.cfg.Name).Scan(&have); err != nil {
			return fmt.Errorf("outbox: %s cursor: %w", c.cfg.Name, err)
		}
		switch {
		case have == want:
			return nil
		case have != 1:
			return fmt.Errorf("outbox: %s has %d partitions, configured %d: only one partition may be spread into more", c.cfg.Name, have, want)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+c.cfg.CursorTable+` (name, partition, partitions, tx_id, event_id)
SELECT c.name, p, $2, c.tx_id, c.event_id FROM `+c.cfg.CursorTable+` c, generate_series(1, $2 - 1) p
WHERE c.name = $1 AND c.partition = 0`, c.cfg.Name, want); err != nil {
			return fmt.Errorf("outbox: %s spread cursor: %w", c.cfg.Name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+c.cfg.CursorTable+` SET partitions = $2 WHERE name = $1 AND partition = 0`,
			c.cfg.Name, want); err != nil {
			return fmt.Errorf("outbox: %s spread cursor: %w", c.cfg.Name, err)
		}
		return nil
	})
	c.ready = err == nil
	return err
}

// CursorColumns is the shape of a consumer's cursor table (ConsumerConfig.CursorTable), as
// migrations 000002 and 000042 make the services' ones: `CREATE TABLE t ` + CursorColumns.
const CursorColumns = `(name text NOT NULL, partition int NOT NULL DEFAULT 0, partitions int NOT NULL DEFAULT 1,
  tx_id xid8 NOT NULL, event_id bigint NOT NULL, holder text, generation bigint NOT NULL DEFAULT 0,
  lease_until timestamptz, CHECK (partitions >= 1 AND partition >= 0 AND partition < partitions),
  PRIMARY KEY (name, partition))`

// pastCursor is the SQL condition that the event e lies in the partition whose cursor row is
// alias, past its cursor (committed or not yet past the horizon).
func (c *Consumer) pastCursor(alias string) string {
	return c.partitionOf("e.aggregate_id") + ` = ` + alias + `.partition AND (e.tx_id, e.event_id) > (` + alias + `.tx_id, ` + alias + `.event_id)`
}

// readable is the SQL condition that the partition whose cursor row is alias has an event
// past its cursor and below the horizon: one a drain would read now.
func (c *Consumer) readable(alias string) string {
	return `EXISTS (SELECT FROM outbox.event e WHERE ` + c.pastCursor(alias) + ` AND e.tx_id < ` + Horizon + `)`
}

// backlogged returns the partitions that have events to read now, in one statement, so that
// a drain of every partition opens a transaction only on those. One partition is always
// drained.
func (c *Consumer) backlogged(ctx context.Context) ([]int, error) {
	if c.cfg.Partitions == 1 {
		return []int{0}, nil
	}
	rows, err := c.db.OutboxConsumer(c.cfg.Name).Query(ctx, `SELECT c.partition FROM `+c.cfg.CursorTable+` c
WHERE c.name = $1 AND `+c.readable("c")+` ORDER BY c.partition`, c.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("outbox: %s look for events: %w", c.cfg.Name, err)
	}
	partitions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("outbox: %s look for events: %w", c.cfg.Name, err)
	}
	return partitions, nil
}
