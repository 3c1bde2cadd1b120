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
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/mutation"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/rpcerr"
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

// queueMoved queues everything a referral's change records, in the change's transaction:
// queueMovedRecords and the outbox event.
func queueMoved(b *pgx.Batch, m moved) error {
	event, err := queueMovedRecords(b, m)
	if err != nil {
		return err
	}
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: uuid.MustParse(m.r.ReferralId), Mission: m.r.Mission,
		Payload: event}}); err != nil {
		return err
	}
	st.Queue(b)
	return nil
}

// queueMovedRecords queues a referral's change's own records (its transition row, the
// partner's feed event and webhook delivery) and returns its outbox event. The outbox event carries the referral's codes, the status it left and the partner's category
// (for HQ's counts by status and partner type), never a person. A draft is the mission's own
// business: the partner hears of a referral from its send on.
func queueMovedRecords(b *pgx.Batch, m moved) (proto.Message, error) {
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
			enumcode.Code(r.Direction), statusCode(r.Status), r.Version, r.UpdateTime.AsTime())
	}
	if m.notify && r.Status != draft {
		data, err := json.Marshal(webhookData{ReferralID: r.ReferralId, Status: r.Status.String(),
			Direction: r.Direction.String(), Version: r.Version,
			Links: webhookLinks{Referral: "/v1/referrals/" + r.ReferralId, Data: "/v1/referrals/" + r.ReferralId + "/data"}})
		if err != nil {
			return nil, err
		}
		webhook.Queue(b, webhook.Delivery{Mission: r.Mission, Partner: uuid.MustParse(r.PartnerId),
			OrderingKey: uuid.MustParse(r.ReferralId), Event: webhook.Event{
				ID: feedEventID(r).String(), Source: "/passage/referral/" + r.Mission,
				Type: "org.iom.passage.referral.v1." + strings.ToLower(statusCode(r.Status)), Subject: r.ReferralId,
				Time: r.UpdateTime.AsTime(), Data: data,
			}})
	}
	return &referralv1.ReferralChanged{Referral: r, PreviousStatus: m.from, PartnerCategory: r.PartnerCategory, Cause: m.cause}, nil
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

// change is what a mutation does to a locked referral: it moves it, checking the status
// machine and the caller's right to.
type change func(tx pgx.Tx, r *referralv1.Referral) error

// mutate runs one move of an existing referral (mutation.Kind.Run: the row lock, the replay
// of a retried request, the version check, the referral row, the outbox event, the audit and
// idempotency records in one transaction, declared for the caller's mission or partner) and
// records it (transition, feed, webhook: queueMoved). set receives the referral as the
// caller sees it, for the response.
func (s *Service) mutate(ctx context.Context, who auth.Claims, key idempotency.Key, referralID string,
	version int64, resp proto.Message, set func(*referralv1.Referral), apply change,
) error {
	partner := who.Role == auth.RolePartner
	m := mutation.Mutation{Who: who, Key: key, Ref: referralID, Version: version, Resp: resp}
	return s.referrals.Run(ctx, m, func(r *referralv1.Referral, st *mutation.Step) (proto.Message, error) {
		from := r.Status
		if err := apply(st.Tx, r); err != nil {
			return nil, err
		}
		r.Version, r.UpdateTime = st.Version, timestamppb.New(st.Now)
		view := r
		if partner {
			view = partnerView(r)
		}
		set(view)
		// The partner hears of the mission's changes; its own it knows.
		notify := false
		if !partner {
			var err error
			if notify, err = notifies(ctx, st.Tx, r.PartnerId); err != nil {
				return nil, err
			}
		}
		return queueMovedRecords(st.Batch, moved{r: r, from: from, cause: causeOf(ctx), actor: actorOf(who), notify: notify})
	})
}

// kind describes a referral to mutation.Run: staff change their mission's, a partner its own.
func (s *Service) kind() mutation.Kind[*referralv1.Referral] {
	return mutation.Kind[*referralv1.Referral]{
		DB: s.db, Idem: s.idem, Producer: producer, Clock: s.clock, Partners: true,
		Parse: func(ref string) (uuid.UUID, error) { return rpcerr.ParseID("referral_id", ref) },
		Lock: func(ctx context.Context, tx pgx.Tx, who auth.Claims, id uuid.UUID) (*referralv1.Referral, error) {
			scope, err := scopeOf(who)
			if err != nil {
				return nil, err
			}
			return getReferral(ctx, tx, scope, id, true)
		},
		Version: func(r *referralv1.Referral) int64 { return r.Version },
		Mission: func(r *referralv1.Referral) string { return r.Mission },
		Stale: func(_ string, r *referralv1.Referral) error {
			return staleVersion("referrals/"+r.ReferralId, r.Version)
		},
		Save: func(r *referralv1.Referral, st *mutation.Step) {
			r.Version, r.UpdateTime = st.Version, timestamppb.New(st.Now)
			queueUpdateReferral(st.Batch, r)
		},
	}
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
