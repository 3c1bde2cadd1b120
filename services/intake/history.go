package intake

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// A case's history is read from what is already kept: the outbox events filed under the case
// (every service files its events about a case under the case's id: the programme services,
// the hand-over service and the follow-up service by mutation.Kind.About or the case id they
// write), and, for who did each, the audit record that the call which wrote the event wrote in
// the same transaction (internal/mutation commits the change, its event and its audit record
// together). Row-level security shows a transaction declared for the caller's mission only
// that mission's events and records (mission_isolation, record_mission; migrations/000035 lets
// intake read the records of changes, not of reads): across a hand-over, each mission reads
// its own side.

// systemActor is the actor of an event that no person's call wrote: a follow-up created or
// closed on a programme's event, a reminder, a follow-up moved with a hand-over.
const systemActor = "system"

// historyFilter is what a history page token is bound to: its case.
func historyFilter(id uuid.UUID) []byte { return pagetoken.Filter("history|" + id.String()) }

// GetCaseHistory reads the events recorded about a case for the caller's mission, oldest
// first, each with who did it. The caller's mission must own the case or hold a live share of
// it (an accepted or completed hand-over); any other case is NOT_FOUND. The read is audited
// as a read of the case, in the caller's mission's chain.
func (s *Service) GetCaseHistory(ctx context.Context, req *intakev1.GetCaseHistoryRequest) (*intakev1.GetCaseHistoryResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	id, err := parseCaseID(req.GetCaseId())
	if err != nil {
		return nil, err
	}
	var after *historyPosition
	if tok := req.GetPageToken(); tok != "" {
		c, err := pagetoken.Decode(tok, historyFilter(id))
		if err != nil {
			return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("page_token", pagetoken.Mismatch))
		}
		p := positionOf(c.ID)
		after = &p
	}
	limit := pagetoken.Size(req.GetPageSize())
	var entries []*intakev1.CaseHistoryEntry
	var next *historyPosition
	err = s.awaitShare(ctx, id, func() error {
		return s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
			if err := s.checkHistoryAccess(ctx, tx, who, id); err != nil {
				return err
			}
			if err := audit.Write(ctx, tx, audit.For(ctx, who, who.Mission, id)); err != nil {
				return err
			}
			entries, next, err = readHistory(ctx, tx, who.Mission, id, after, limit)
			return err
		})
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &intakev1.GetCaseHistoryResponse{Entries: entries}
	if next != nil {
		resp.NextPageToken = pagetoken.Encode(pagetoken.Cursor{ID: next.id()}, historyFilter(id))
	}
	return resp, nil
}

// checkHistoryAccess finds case id for the caller's mission, declared in tx: its own case, or
// one a live hand-over shares with it. Anything else is database.ErrNotFound.
func (s *Service) checkHistoryAccess(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) error {
	_, err := getCase(ctx, tx, s.missionFilter(who), id, false)
	if !errors.Is(err, database.ErrNotFound) {
		return err
	}
	shares, err := liveShares(ctx, tx, who.Mission, id)
	if err != nil {
		return err
	}
	if len(shares) == 0 {
		return database.ErrNotFound
	}
	return nil
}

// historyPosition is an event's place in commit order: its transaction's id, then its own.
type historyPosition struct {
	txID    uint64
	eventID int64
}

// id packs p into the id of a page token's cursor (which carries a uuid): the token is
// opaque to the caller and bound to the case by its filter.
func (p historyPosition) id() uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], p.txID)
	binary.BigEndian.PutUint64(u[8:], uint64(p.eventID))
	return u
}

func positionOf(u uuid.UUID) historyPosition {
	return historyPosition{txID: binary.BigEndian.Uint64(u[:8]), eventID: int64(binary.BigEndian.Uint64(u[8:]))}
}

// readHistory reads, through tx, up to limit of mission's events about case id after the
// position after (from the first when nil), oldest first, and the position to read the next
// page from (nil on the last page). Each event's actor is the staff subject of the change's
// audit record in the same transaction: the record about the same aggregate when there are
// several (registrations written together), else the transaction's first (a hand-over's or a
// follow-up's record names its own id, its event the case); with none, the system.
func readHistory(ctx context.Context, tx pgx.Tx, mission string, id uuid.UUID, after *historyPosition, limit int) ([]*intakev1.CaseHistoryEntry, *historyPosition, error) {
	var afterTx *string
	var afterEvent int64
	if after != nil {
		t := strconv.FormatUint(after.txID, 10)
		afterTx, afterEvent = &t, after.eventID
	}
	rows, err := tx.Query(ctx, `SELECT e.tx_id::text, e.event_id, e.producer, e.event_type, e.mission, e.payload, e.occurred_at,
  r.actor, coalesce(r.method, ''), coalesce(r.reason, '')
FROM outbox.event e
LEFT JOIN LATERAL (
  SELECT a.actor, a.method, a.reason FROM audit.record a
  WHERE a.tx_id = e.tx_id AND a.mission = e.mission AND a.client_request_id IS NOT NULL
  ORDER BY a.aggregate_id IS DISTINCT FROM e.aggregate_id, a.record_id
  LIMIT 1) r ON true
WHERE e.aggregate_id = $1 AND e.mission = $2
  AND ($3::text IS NULL OR (e.tx_id, e.event_id) > ($3::text::xid8, $4::bigint))
ORDER BY e.tx_id, e.event_id
LIMIT $5`, id, mission, afterTx, afterEvent, limit+1)
	if err != nil {
		return nil, nil, fmt.Errorf("read history: %w", err)
	}
	var (
		out   []*intakev1.CaseHistoryEntry
		pos   []historyPosition
		txID  string
		r     outbox.Record
		actor *string
		e     intakev1.CaseHistoryEntry
	)
	_, err = pgx.ForEachRow(rows, []any{&txID, &r.ID, &r.Producer, &r.Type, &r.Mission, &r.Payload, &r.OccurredAt,
		&actor, &e.Method, &e.Reason}, func() error {
		t, err := strconv.ParseUint(txID, 10, 64)
		if err != nil {
			return fmt.Errorf("event %d: transaction id: %w", r.ID, err)
		}
		entry := &intakev1.CaseHistoryEntry{
			Time: timestamppb.New(r.OccurredAt), Mission: r.Mission, Service: r.Producer, EventType: r.Type,
			Actor: systemActor, Method: e.Method, Reason: e.Reason,
		}
		if actor != nil {
			entry.Actor = *actor
		}
		// An event of a type this build does not know (a newer service's) is still listed,
		// without details.
		if m, err := r.Decode(); err == nil {
			entry.Details = historyDetails(m.ProtoReflect())
		}
		out, pos = append(out, entry), append(pos, historyPosition{txID: t, eventID: r.ID})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read history: %w", err)
	}
	if len(out) <= limit {
		return out, nil, nil
	}
	return out[:limit], &pos[limit-1], nil
}
