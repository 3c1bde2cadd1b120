package referral

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/webhook"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// moved is one status change of a referral, to record: its transition row, the partner's feed
// event, the outbox event and, for webhook partners, the delivery.
type moved struct {
	r     *referralv1.Referral
	from  referralv1.ReferralStatus
	cause string
	actor string
	// notify queues a webhook delivery to the partner: set for a webhook partner when the
	// change is not the partner's own doing.
	notify bool
}

// queueMoved queues everything a referral's change records, in the change's transaction. The
// outbox event carries the referral's codes, the status it left and the partner's category
// (for HQ's counts by status and partner type), never a person. A draft is the mission's own
// business: the partner hears of a referral from its send on.
func queueMoved(b *pgx.Batch, m moved) error {
	r := m.r
	var from *string
	if m.from != 0 {
		c := statusCode(m.from)
		from = &c
	}
	b.Queue(`INSERT INTO referral.transition (referral_id, mission, partner_id, from_status, to_status, version, cause, actor)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, r.ReferralId, r.Mission, r.PartnerId, from, statusCode(r.Status), r.Version,
		m.cause, m.actor)
	if r.Status != draft {
		b.Queue(`INSERT INTO referral.partner_event (event_id, partner_id, mission, referral_id, direction, status, version, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, feedEventID(r), r.PartnerId, r.Mission, r.ReferralId,
			enumcode.Code(r.Direction, directionPrefix), statusCode(r.Status), r.Version, r.UpdateTime.AsTime())
	}
	if m.notify && r.Status != draft {
		data, err := json.Marshal(webhookData{ReferralID: r.ReferralId, Status: r.Status.String(),
			Direction: r.Direction.String(), Version: r.Version,
			Links: webhookLinks{Referral: "/v1/referrals/" + r.ReferralId, Data: "/v1/referrals/" + r.ReferralId + "/data"}})
		if err != nil {
			return err
		}
		webhook.Queue(b, webhook.Delivery{Mission: r.Mission, Partner: uuid.MustParse(r.PartnerId),
			OrderingKey: uuid.MustParse(r.ReferralId), Event: webhook.Event{
				ID: feedEventID(r).String(), Source: "/passage/referral/" + r.Mission,
				Type: "org.iom.passage.referral.v1." + strings.ToLower(statusCode(r.Status)), Subject: r.ReferralId,
				Time: r.UpdateTime.AsTime(), Data: data,
			}})
	}
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: uuid.MustParse(r.ReferralId), Mission: r.Mission,
		Payload: &referralv1.ReferralChanged{Referral: r, PreviousStatus: m.from, PartnerCategory: r.PartnerCategory, Cause: m.cause}}}); err != nil {
		return err
	}
	st.Queue(b)
	return nil
}

// webhookData is a webhook event's payload: thin, as the partner pulls the data itself through
// the API (audited): ids, status and links, never a person. The feed event's id is the
// webhook-id, so a partner reading both sees one change once.
type webhookData struct {
	ReferralID string       `json:"referralId"`
	Status     string       `json:"status"`
	Direction  string       `json:"direction"`
	Version    int64        `json:"version"`
	Links      webhookLinks `json:"links"`
}

type webhookLinks struct {
	Referral string `json:"referral"`
	Data     string `json:"data"`
}

// notifies reports whether a partner hears of changes by webhook.
func notifies(ctx context.Context, q pgx.Tx, partner string) (bool, error) {
	var kind string
	if err := q.QueryRow(ctx, `SELECT connection_kind FROM referral.partner WHERE partner_id = $1`, partner).Scan(&kind); err != nil {
		return false, fmt.Errorf("read partner connection: %w", err)
	}
	return kind == "WEBHOOK", nil
}

// feedEventID is a feed event's id: derived from the referral and its version, so the same
// change always has the same id (the webhook-id of its delivery too).
func feedEventID(r *referralv1.Referral) uuid.UUID {
	return uuid.NewSHA1(uuid.MustParse(r.ReferralId), fmt.Appendf(nil, "version:%d", r.Version))
}

// change is what a mutation does to a locked referral: it moves it (checking the status
// machine and the caller's right to) and returns the cause to record.
type change func(tx pgx.Tx, r *referralv1.Referral) error

// mutate runs one mutating call on an existing referral: the replay of a retried request, the
// row lock, the version check, the change, and everything it records (transition, feed,
// outbox, audit, the first result), in one transaction declared for the caller's scope.
func (s *Service) mutate(ctx context.Context, who auth.Claims, scope callerScope, key idempotency.Key, referralID string,
	version int64, resp interface {
		proto.Message
		GetReferral() *referralv1.Referral
	}, set func(*referralv1.Referral), apply change,
) error {
	id, err := parseID("referral_id", referralID)
	if err != nil {
		return err
	}
	run := s.db.MissionTx
	if scope.partner != "" {
		run = func(ctx context.Context, _ string, fn func(pgx.Tx) error) error {
			return s.db.PartnerTx(ctx, scope.partner, fn)
		}
	}
	err = run(ctx, scope.mission, func(tx pgx.Tx) error {
		if replayed, err := s.idem.Replay(ctx, tx, key, resp); replayed || err != nil {
			return err
		}
		r, err := getReferral(ctx, tx, scope, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return staleVersion("referrals/"+r.ReferralId, r.Version)
		}
		from := r.Status
		if err := apply(tx, r); err != nil {
			return err
		}
		r.Version++
		r.UpdateTime = s.timestamp()
		view := r
		if scope.partner != "" {
			view = partnerView(r)
		}
		set(view)
		b := &pgx.Batch{}
		var st database.Statement
		if err := s.idem.Add(&st, []idempotency.Record{{Key: key, Response: resp}}); err != nil {
			return err
		}
		audit.Add(&st, []audit.Entry{audit.For(ctx, who, r.Mission, id).WithClientRequest(key.RequestID)})
		st.Queue(b)
		queueUpdateReferral(b, r)
		// The partner hears of the mission's changes; its own it knows.
		notify := false
		if scope.partner == "" {
			if notify, err = notifies(ctx, tx, r.PartnerId); err != nil {
				return err
			}
		}
		if err := queueMoved(b, moved{r: r, from: from, cause: causeOf(ctx), actor: actorOf(who), notify: notify}); err != nil {
			return err
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return s.idem.Settle(ctx, s.querier(scope), key, resp, err)
}

// partnerView is a referral as its partner sees it: without the mission's case and subject
// ids, which the partner has no use for.
func partnerView(r *referralv1.Referral) *referralv1.Referral {
	v := proto.Clone(r).(*referralv1.Referral)
	v.CaseId, v.SubjectId = "", ""
	if v.ConsentOverride != nil {
		v.ConsentOverride.RecordedBy = ""
	}
	return v
}

// causeOf is the RPC's short name ("SendReferral"), recorded as what moved a referral.
func causeOf(ctx context.Context) string {
	m, _ := grpc.Method(ctx)
	return m[strings.LastIndexByte(m, '/')+1:]
}

// actorOf is who a transition records: the staff member, or the partner.
func actorOf(who auth.Claims) string {
	if who.Role == auth.RolePartner {
		return "partner:" + who.Partner
	}
	return who.Subject
}
