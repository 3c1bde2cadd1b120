package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
)

// Chain is what verification found in one mission's chain.
type Chain struct {
	Mission string
	// Links is the number of links checked (the chain's length when it is intact).
	Links int64
	// Head is the MAC of the last link: an operator who notes it elsewhere can later prove
	// that nothing was cut from the end of the chain.
	Head []byte
	// Unchained counts the mission's records the chainer has not linked yet (committed after
	// its cursor, or not yet below the commit horizon). Not a fault by itself.
	Unchained int64
	// Broken is the first broken link, or nil when the chain verifies.
	Broken *Break
}

// Break names the first link of a chain that does not verify.
type Break struct {
	Mission  string
	Position int64
	// RecordID is the record the link binds (for a missing link, the record found in its
	// place, or 0).
	RecordID int64
	Problem  string
}

func (b *Break) Error() string {
	return fmt.Sprintf("audit chain of mission %s broken at position %d (record %d): %s", b.Mission, b.Position, b.RecordID, b.Problem)
}

// Problems a Break reports.
const (
	ProblemMissingLink  = "link missing: a record was removed from the chain"
	ProblemRemoved      = "record removed"
	ProblemAltered      = "record altered, moved or reordered, or link forged: the MAC does not verify"
	ProblemRelinked     = "link does not follow the link before it"
	ProblemOtherMission = "record belongs to another mission"
	ProblemOrder        = "records out of commit order"
	ProblemUnlinked     = "record behind the chainer's cursor has no link"
)

// Verify recomputes the chain of mission, or of every mission when mission is "", with key,
// and returns one Chain per mission in mission order. The error is non-nil only when the
// chains could not be read; a broken chain is reported in its Chain.Broken.
//
// q must read audit.record, audit.link and audit.chain_cursor: the auditor role, or the
// owner.
func Verify(ctx context.Context, q database.Querier, key *Key, mission string) ([]Chain, error) {
	missions := []string{mission}
	if mission == "" {
		rows, _ := q.Query(ctx, `SELECT mission FROM audit.link UNION SELECT mission FROM audit.record ORDER BY 1`)
		var err error
		if missions, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return nil, fmt.Errorf("audit: list missions: %w", err)
		}
	}
	var cursorTx uint64
	var cursorRecord int64
	var cursorText string
	err := q.QueryRow(ctx, `SELECT tx_id::text, record_id FROM audit.chain_cursor WHERE name = $1`, cursorName).
		Scan(&cursorText, &cursorRecord)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return nil, fmt.Errorf("audit: read cursor: %w", err)
	default:
		if cursorTx, err = strconv.ParseUint(cursorText, 10, 64); err != nil {
			return nil, fmt.Errorf("audit: read cursor: %w", err)
		}
	}
	out := make([]Chain, 0, len(missions))
	for _, m := range missions {
		c, err := verifyMission(ctx, q, key, m, cursorTx, cursorRecord)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func verifyMission(ctx context.Context, q database.Querier, key *Key, mission string, cursorTx uint64, cursorRecord int64) (Chain, error) {
	c := Chain{Mission: mission, Head: []byte{}}
	rows, err := q.Query(ctx, `SELECT l.position, l.record_id, l.prev_mac, l.mac, r.record_id IS NOT NULL,
  coalesce(r.tx_id::text, ''), coalesce(r.mission, ''), coalesce(r.actor, ''), coalesce(r.role, ''),
  coalesce(r.caller_mission, ''), coalesce(r.method, ''),
  coalesce(r.aggregate_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(r.reason, ''),
  coalesce(r.request_id, ''), coalesce(r.client_request_id, '00000000-0000-0000-0000-000000000000'::uuid),
  coalesce(r.occurred_at, 'epoch')
FROM audit.link l LEFT JOIN audit.record r ON r.record_id = l.record_id
WHERE l.mission = $1
ORDER BY l.position`, mission)
	if err != nil {
		return c, fmt.Errorf("audit: read chain: %w", err)
	}
	var (
		position, linkRecord int64
		prevMAC, mac         []byte
		exists               bool
		r                    stored
		lastTx               uint64
		lastRecordID         int64
		expected             = int64(1)
	)
	fail := func(problem string, pos, id int64) {
		c.Broken = &Break{Mission: mission, Position: pos, RecordID: id, Problem: problem}
	}
	_, err = pgx.ForEachRow(rows, []any{&position, &linkRecord, &prevMAC, &mac, &exists, &r.TxID, &r.Mission, &r.Actor,
		&r.Role, &r.CallerMission, &r.Method, &r.AggregateID, &r.Reason, &r.RequestID, &r.ClientRequestID, &r.OccurredAt}, func() error {
		if c.Broken != nil {
			return nil // the first break is the one to report; the rest may follow from it
		}
		r.ID = linkRecord
		switch {
		case position != expected:
			fail(ProblemMissingLink, expected, linkRecord)
		case !bytes.Equal(prevMAC, c.Head):
			fail(ProblemRelinked, position, linkRecord)
		case !exists:
			fail(ProblemRemoved, position, linkRecord)
		case r.Mission != mission:
			fail(ProblemOtherMission, position, linkRecord)
		case !key.check(mac, r, position, c.Head):
			fail(ProblemAltered, position, linkRecord)
		default:
			tx, err := strconv.ParseUint(r.TxID, 10, 64)
			if err != nil {
				return fmt.Errorf("audit: record %d: transaction id: %w", linkRecord, err)
			}
			if c.Links > 0 && (tx < lastTx || tx == lastTx && linkRecord < lastRecordID) {
				fail(ProblemOrder, position, linkRecord)
				return nil
			}
			lastTx, lastRecordID = tx, linkRecord
			c.Links++
			c.Head = mac
			expected++
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("audit: read chain: %w", err)
	}

	// Records of the mission with no link: behind the cursor, their link was removed; past
	// it, the chainer has not reached them yet.
	rows, err = q.Query(ctx, `SELECT r.record_id, r.tx_id::text FROM audit.record r
WHERE r.mission = $1 AND NOT EXISTS (SELECT FROM audit.link l WHERE l.record_id = r.record_id)
ORDER BY r.tx_id, r.record_id`, mission)
	if err != nil {
		return c, fmt.Errorf("audit: read unchained records: %w", err)
	}
	var id int64
	var txText string
	_, err = pgx.ForEachRow(rows, []any{&id, &txText}, func() error {
		tx, err := strconv.ParseUint(txText, 10, 64)
		if err != nil {
			return fmt.Errorf("audit: record %d: transaction id: %w", id, err)
		}
		if tx < cursorTx || tx == cursorTx && id <= cursorRecord {
			if c.Broken == nil {
				c.Broken = &Break{Mission: mission, Position: c.Links + 1, RecordID: id, Problem: ProblemUnlinked}
			}
			return nil
		}
		c.Unchained++
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("audit: read unchained records: %w", err)
	}
	return c, nil
}
