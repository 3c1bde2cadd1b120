package referral

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pagetoken"
	"github.com/passage-cm/passage/internal/rpcerr"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// feedCursor is a position in a partner's feed: the last (transaction id, sequence) read.
// Events are read in that order and only below the commit horizon (outbox.Horizon): every
// transaction that could still add an event before the cursor has ended, so the cursor never
// moves past an event that commits later, and events of one transaction (which share a
// timestamp) come in sequence order.
type feedCursor struct {
	txID uint64
	seq  int64
}

// The cursor is opaque to partners: 16 bytes, base64url. It is no secret and grants nothing:
// a partner's transaction sees its own events only, whatever cursor it sends.
func (c feedCursor) String() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], c.txID)
	binary.BigEndian.PutUint64(b[8:], uint64(c.seq))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func parseFeedCursor(s string) (feedCursor, error) {
	if s == "" {
		return feedCursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return feedCursor{}, errors.New("malformed cursor")
	}
	c := feedCursor{txID: binary.BigEndian.Uint64(b[:8]), seq: int64(binary.BigEndian.Uint64(b[8:]))}
	if c.seq < 0 {
		return feedCursor{}, errors.New("malformed cursor")
	}
	return c, nil
}

// ListReferralEvents reads the calling partner's feed after the cursor.
func (s *Service) ListReferralEvents(ctx context.Context, req *referralv1.ListReferralEventsRequest) (*referralv1.ListReferralEventsResponse, error) {
	_, scope, err := partnerOf(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := parseFeedCursor(req.GetCursor())
	if err != nil {
		return nil, rpcerr.InvalidArgument(rpcerr.FieldViolation("cursor", "is not a cursor from a previous response"))
	}
	rows, err := s.db.Partner(scope.partner).Query(ctx, `SELECT tx_id::text, seq, event_id, referral_id, direction, status,
version, occurred_at FROM referral.partner_event
WHERE partner_id = $1 AND (tx_id, seq) > ($2::text::xid8, $3) AND tx_id < `+outbox.Horizon+`
ORDER BY tx_id, seq LIMIT $4`, scope.partner, strconv.FormatUint(cur.txID, 10), cur.seq, pagetoken.Size(req.GetPageSize()))
	if err != nil {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	defer rows.Close()
	resp := &referralv1.ListReferralEventsResponse{}
	for rows.Next() {
		var (
			txID              string
			eventID, referral uuid.UUID
			direction, st     string
			e                 referralv1.ReferralEvent
			at                time.Time
		)
		if err := rows.Scan(&txID, &cur.seq, &eventID, &referral, &direction, &st, &e.Version, &at); err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		if cur.txID, err = strconv.ParseUint(txID, 10, 64); err != nil {
			return nil, fmt.Errorf("read feed: %w", err)
		}
		e.EventId, e.ReferralId = eventID.String(), referral.String()
		e.Direction = enumcode.Value[referralv1.Direction](direction)
		e.Status = statusOf(st)
		e.Time = timestamppb.New(at)
		resp.Events = append(resp.Events, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	resp.NextCursor = cur.String()
	return resp, nil
}
