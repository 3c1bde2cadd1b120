package referral

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/idempotency"
	"github.com/passage-cm/passage/internal/outbox"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// profileAggregate is the aggregate id audit records and events of data profiles carry: one
// per service category, derived from its code, so a category's versions share it.
func profileAggregate(c referralv1.ServiceCategory) uuid.UUID {
	return uuid.NewSHA1(profileNamespace, []byte(categoryCode(c)))
}

// profileNamespace names the data profiles' aggregate ids (a fixed, random UUID).
var profileNamespace = uuid.MustParse("5a0f7c7e-3b1d-4c52-9e51-2f0d7f4f8e21")

// PublishDataProfile publishes the next version of a category's profile. Versions are never
// changed afterwards (the role may not update the table): a referral shares the version it
// was sent with, whatever is published later.
func (s *Service) PublishDataProfile(ctx context.Context, req *referralv1.PublishDataProfileRequest) (*referralv1.PublishDataProfileResponse, error) {
	who, err := auth.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if !atHQ(who) {
		return nil, errHQOnly
	}
	key, err := idempotency.NewKey(s.keys, who.Mission, req.GetRequestId(), referralv1.ReferralService_PublishDataProfile_FullMethodName, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &referralv1.PublishDataProfileResponse{}
	// Neither mutation.Run nor Create: a publication creates the next version of a profile,
	// which it reads in its transaction under the category's advisory lock (publications take
	// turns), and one batch (Create) cannot read before it writes.
	err = s.db.MissionTx(ctx, who.Mission, func(tx pgx.Tx) error {
		if replayed, err := s.idem.Replay(ctx, tx, key, resp); replayed || err != nil {
			return err
		}
		// Publications of one category take turns, so two cannot claim the same version.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('referral.data_profile'), $1)`,
			int32(req.GetServiceCategory())); err != nil {
			return fmt.Errorf("lock profile: %w", err)
		}
		var version int32
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM referral.data_profile
WHERE service_category = $1`, categoryCode(req.GetServiceCategory())).Scan(&version); err != nil {
			return fmt.Errorf("next profile version: %w", err)
		}
		p := &referralv1.DataProfile{ServiceCategory: req.GetServiceCategory(), Version: version,
			Fields: req.GetFields(), PublishedBy: who.Subject, PublishTime: s.timestamp()}
		resp.Profile = p
		b := &pgx.Batch{}
		agg := profileAggregate(p.ServiceCategory)
		var st database.Statement
		if err := s.idem.Add(&st, []idempotency.Record{{Key: key, Response: resp}}); err != nil {
			return err
		}
		audit.Add(&st, []audit.Entry{audit.For(ctx, who, who.Mission, agg).WithClientRequest(key.RequestID)})
		if err := outbox.Add(&st, []outbox.Event{{Producer: producer, AggregateID: agg, Mission: who.Mission,
			Payload: &referralv1.DataProfilePublished{Profile: p}}}); err != nil {
			return err
		}
		st.Queue(b)
		b.Queue(`INSERT INTO referral.data_profile (service_category, version, fields, published_by, published_at)
VALUES ($1, $2, $3, $4, $5)`, categoryCode(p.ServiceCategory), p.Version, enumcode.Codes(p.Fields),
			p.PublishedBy, p.PublishTime.AsTime())
		return tx.SendBatch(ctx, b).Close()
	})
	if err := s.idem.Settle(ctx, s.db.Mission(who.Mission), key, resp, err); err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// ListDataProfiles lists the published versions, newest first per category.
func (s *Service) ListDataProfiles(ctx context.Context, req *referralv1.ListDataProfilesRequest) (*referralv1.ListDataProfilesResponse, error) {
	_, scope, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	var category *string
	if req.GetServiceCategory() != 0 {
		c := categoryCode(req.GetServiceCategory())
		category = &c
	}
	rows, err := s.querier(scope).Query(ctx, `SELECT service_category, version, fields, published_by, published_at
FROM referral.data_profile WHERE $1::text IS NULL OR service_category = $1
ORDER BY service_category, version DESC`, category)
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	defer rows.Close()
	resp := &referralv1.ListDataProfilesResponse{}
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, err
		}
		resp.Profiles = append(resp.Profiles, p)
	}
	return resp, rows.Err()
}
