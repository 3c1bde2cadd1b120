package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
)

// The referral's columns, in the order scanReferral reads them.
const referralColumns = `referral_id, mission, direction, case_id, subject_id, partner_id, partner_category,
service_category, reason, status, version, consent_id, override_reason, override_by, profile_version,
partner_reference, decline_reason, outcome, revoke_reason, respond_by, created_at, updated_at`

func scanReferral(row pgx.Row) (*referralv1.Referral, error) {
	var (
		r                                           referralv1.Referral
		id, partner                                 uuid.UUID
		caseID, subject, consentID                  *uuid.UUID
		direction, partnerCat, category, reason, st string
		overrideReason, overrideBy                  *string
		profile                                     *int32
		decline, outcome, revoke                    *string
		respondBy                                   *time.Time
		created, updated                            time.Time
	)
	if err := row.Scan(&id, &r.Mission, &direction, &caseID, &subject, &partner, &partnerCat, &category, &reason,
		&st, &r.Version, &consentID, &overrideReason, &overrideBy, &profile, &r.PartnerReference, &decline, &outcome,
		&revoke, &respondBy, &created, &updated); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errReferralNotFound
		}
		return nil, fmt.Errorf("read referral: %w", err)
	}
	r.ReferralId, r.PartnerId = id.String(), partner.String()
	r.Direction = enumcode.Value[referralv1.Direction](direction)
	if caseID != nil {
		r.CaseId = caseID.String()
	}
	if subject != nil {
		r.SubjectId = subject.String()
	}
	if consentID != nil {
		r.ConsentId = consentID.String()
	}
	r.PartnerCategory = partnerCategoryOf(partnerCat)
	r.ServiceCategory = categoryOf(category)
	r.Reason = enumcode.Value[referralv1.ReferralReason](reason)
	r.Status = statusOf(st)
	if overrideReason != nil {
		r.ConsentOverride = &referralv1.ConsentOverride{
			Reason:     enumcode.Value[referralv1.OverrideReason](*overrideReason),
			RecordedBy: deref(overrideBy),
		}
	}
	if profile != nil {
		r.ProfileVersion = *profile
	}
	r.DeclineReason = optionalNumber[referralv1.DeclineReason](decline)
	r.Outcome = optionalNumber[referralv1.ServiceOutcome](outcome)
	r.RevokeReason = optionalNumber[referralv1.RevokeReason](revoke)
	if respondBy != nil {
		r.RespondBy = timestamppb.New(*respondBy)
	}
	r.CreateTime, r.UpdateTime = timestamppb.New(created), timestamppb.New(updated)
	return &r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nullUUID(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t *timestamppb.Timestamp) any {
	if t == nil {
		return nil
	}
	return t.AsTime()
}

// getReferral reads one referral through q, locked for update when lock is set. q's
// declaration (a mission or a partner) decides what it can see; the explicit filters say the
// same in the query, so a mistake in either is caught by the other.
func getReferral(ctx context.Context, q database.Querier, scope callerScope, id uuid.UUID, lock bool) (*referralv1.Referral, error) {
	sql := `SELECT ` + referralColumns + ` FROM referral.referral WHERE referral_id = $1 AND `
	var arg any
	if scope.partner != "" {
		sql += `partner_id = $2`
		arg = scope.partner
	} else {
		sql += `mission = $2`
		arg = scope.mission
	}
	if lock {
		sql += ` FOR UPDATE`
	}
	return scanReferral(q.QueryRow(ctx, sql, id, arg))
}

func queueInsertReferral(b *pgx.Batch, r *referralv1.Referral, createdBy string) {
	var override, overrideBy *string
	if o := r.GetConsentOverride(); o != nil {
		override, overrideBy = optional(o.GetReason()), &o.RecordedBy
	}
	var profile *int32
	if r.ProfileVersion > 0 {
		profile = &r.ProfileVersion
	}
	b.Queue(`INSERT INTO referral.referral (referral_id, mission, direction, case_id, subject_id, partner_id,
partner_category, service_category, reason, status, version, consent_id, override_reason, override_by,
profile_version, partner_reference, respond_by, created_by, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)`,
		r.ReferralId, r.Mission, enumcode.Code(r.Direction), nullUUID(r.CaseId), nullUUID(r.SubjectId),
		r.PartnerId, partnerCategoryCode(r.PartnerCategory), categoryCode(r.ServiceCategory),
		enumcode.Code(r.Reason), statusCode(r.Status), r.Version, nullUUID(r.ConsentId), override,
		overrideBy, profile, r.PartnerReference, nullTime(r.RespondBy), createdBy, r.CreateTime.AsTime())
}

func queueUpdateReferral(b *pgx.Batch, r *referralv1.Referral) {
	var profile *int32
	if r.ProfileVersion > 0 {
		profile = &r.ProfileVersion
	}
	b.Queue(`UPDATE referral.referral SET status = $2, version = $3, profile_version = $4, partner_reference = $5,
decline_reason = $6, outcome = $7, revoke_reason = $8, respond_by = $9, updated_at = $10, consent_id = $11
WHERE referral_id = $1`,
		r.ReferralId, statusCode(r.Status), r.Version, profile, r.PartnerReference,
		optional(r.DeclineReason), optional(r.Outcome), optional(r.RevokeReason),
		nullTime(r.RespondBy), r.UpdateTime.AsTime(), nullUUID(r.ConsentId))
}

// The partner's columns, in the order scanPartner reads them.
const partnerColumns = `partner_id, code, name, category, services, countries, connection_kind, webhook_url,
signing_secret IS NOT NULL, agreement_reference, agreement_start, agreement_expiry, version, created_at, updated_at`

// storedService is a partner service as referral.partner.services stores it.
type storedService struct {
	Name       string   `json:"name"`
	Categories []string `json:"categories"`
}

func scanPartner(row pgx.Row) (*referralv1.Partner, error) {
	var (
		p                referralv1.Partner
		id               uuid.UUID
		category, kind   string
		services         []byte
		start, expiry    time.Time
		created, updated time.Time
		connection       referralv1.Connection
		agreement        referralv1.DataSharingAgreement
	)
	if err := row.Scan(&id, &p.Code, &p.Name, &category, &services, &p.Countries, &kind, &connection.WebhookUrl,
		&connection.HasSigningSecret, &agreement.Reference, &start, &expiry, &p.Version, &created, &updated); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errPartnerNotFound
		}
		return nil, fmt.Errorf("read partner: %w", err)
	}
	p.PartnerId = id.String()
	p.Category = partnerCategoryOf(category)
	var stored []storedService
	if err := json.Unmarshal(services, &stored); err != nil {
		return nil, fmt.Errorf("read partner services: %w", err)
	}
	for _, s := range stored {
		p.Services = append(p.Services, &referralv1.PartnerService{Name: s.Name,
			Categories: enumcode.Values[referralv1.ServiceCategory](s.Categories)})
	}
	connection.Kind = enumcode.Value[referralv1.ConnectionKind](kind)
	agreement.StartDate, agreement.ExpiryDate = toDate(start), toDate(expiry)
	p.Connection, p.Agreement = &connection, &agreement
	p.CreateTime, p.UpdateTime = timestamppb.New(created), timestamppb.New(updated)
	return &p, nil
}

func getPartner(ctx context.Context, q database.Querier, id uuid.UUID, lock bool) (*referralv1.Partner, error) {
	sql := `SELECT ` + partnerColumns + ` FROM referral.partner WHERE partner_id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	return scanPartner(q.QueryRow(ctx, sql, id))
}

func toDate(t time.Time) *date.Date {
	return &date.Date{Year: int32(t.Year()), Month: int32(t.Month()), Day: int32(t.Day())}
}

func fromDate(d *date.Date) time.Time {
	return time.Date(int(d.GetYear()), time.Month(d.GetMonth()), int(d.GetDay()), 0, 0, 0, 0, time.UTC)
}

// services returns a partner's services as stored, and every category they offer.
func storedServices(in []*referralv1.PartnerService) ([]byte, []string, error) {
	out := make([]storedService, len(in))
	seen := map[string]bool{}
	var all []string
	for i, s := range in {
		out[i] = storedService{Name: s.GetName(), Categories: enumcode.Codes(s.GetCategories())}
		for _, c := range out[i].Categories {
			if !seen[c] {
				seen[c] = true
				all = append(all, c)
			}
		}
	}
	b, err := json.Marshal(out)
	return b, all, err
}

// latestProfile reads the newest published version of a category's data profile.
func latestProfile(ctx context.Context, q database.Querier, category referralv1.ServiceCategory) (*referralv1.DataProfile, error) {
	return scanProfile(q.QueryRow(ctx, `SELECT service_category, version, fields, published_by, published_at
FROM referral.data_profile WHERE service_category = $1 ORDER BY version DESC LIMIT 1`, categoryCode(category)))
}

// profileVersion reads one version of a category's data profile.
func profileVersion(ctx context.Context, q database.Querier, category referralv1.ServiceCategory, version int32) (*referralv1.DataProfile, error) {
	return scanProfile(q.QueryRow(ctx, `SELECT service_category, version, fields, published_by, published_at
FROM referral.data_profile WHERE service_category = $1 AND version = $2`, categoryCode(category), version))
}

func scanProfile(row pgx.Row) (*referralv1.DataProfile, error) {
	var (
		p        referralv1.DataProfile
		category string
		fields   []string
		at       time.Time
	)
	if err := row.Scan(&category, &p.Version, &fields, &p.PublishedBy, &at); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errProfileMissing
		}
		return nil, fmt.Errorf("read data profile: %w", err)
	}
	p.ServiceCategory = categoryOf(category)
	p.Fields = enumcode.Values[referralv1.SharedField](fields)
	p.PublishTime = timestamppb.New(at)
	return &p, nil
}
