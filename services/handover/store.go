package handover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/pagetoken"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
)

// The store reads and writes handover's schema. Every statement runs under the caller's
// mission's declaration: row-level security shows a hand-over to its two missions only, and
// the case projection and the idempotency records to their own mission.

// projectedCase is a case as the projection holds it.
type projectedCase struct {
	mission         string
	programme       commonv1.Programme
	closed          bool
	subject         uuid.UUID
	sharingConsents []uuid.UUID
}

// sharing reports whether a hand-over resting on consentID may share the case: consentID is
// one of the principal's DATA_SHARING consents in force, or empty (a legal basis instead).
func (c *projectedCase) sharing(consentID string) bool {
	return consentID == "" || slices.Contains(c.sharingConsents, uuid.MustParse(consentID))
}

// getCase reads a case as the caller's mission sees it: its own, or one an open hand-over
// offers it (migrations/000030); any other is database.ErrNotFound.
func getCase(ctx context.Context, q database.Querier, id uuid.UUID) (*projectedCase, error) {
	var (
		c                   projectedCase
		programme, statusCd string
	)
	err := q.QueryRow(ctx, `SELECT mission, programme, intake_status, principal_subject_id, sharing_consents
FROM handover."case" WHERE case_id = $1`, id).Scan(&c.mission, &programme, &statusCd, &c.subject, &c.sharingConsents)
	if err != nil {
		return nil, database.NotFound(err)
	}
	c.programme, c.closed = programmeOf(programme), statusCd == closedCase
	return &c, nil
}

// profilePublished reports whether version of the programme's profile is published.
func profilePublished(ctx context.Context, q database.Querier, p commonv1.Programme, version int32) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM handover.profile WHERE programme = $1 AND version = $2)`,
		programmeCode(p), version).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("read profile: %w", err)
	}
	return ok, nil
}

const handoverColumns = `handover_id, case_id, subject_id, programme, from_mission, to_mission, parts, purpose,
consent_id, legal_basis, profile_version, status, decline_reason, version, proposed_by, created_at, updated_at`

func scanHandover(row pgx.Row) (*handoverv1.Handover, error) {
	var (
		h                          handoverv1.Handover
		id, caseID, subject        uuid.UUID
		consent                    *uuid.UUID
		programme, purpose, status string
		legalBasis, decline        *string
		parts                      []string
		createdAt, updatedAt       time.Time
	)
	if err := row.Scan(&id, &caseID, &subject, &programme, &h.FromMission, &h.ToMission, &parts, &purpose,
		&consent, &legalBasis, &h.ProfileVersion, &status, &decline, &h.Version, &h.ProposedBy, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	h.HandoverId, h.CaseId, h.SubjectId = id.String(), caseID.String(), subject.String()
	h.Programme = programmeOf(programme)
	h.Parts = partsOf(parts)
	h.Purpose = enumcode.Value[handoverv1.HandoverPurpose](purpose)
	if consent != nil {
		h.ConsentId = consent.String()
	}
	if legalBasis != nil {
		h.LegalBasis = enumcode.Value[commonv1.LegalBasis](*legalBasis)
	}
	h.Status = statusOf(status)
	if decline != nil {
		h.DeclineReason = enumcode.Value[handoverv1.HandoverDeclineReason](*decline)
	}
	h.CreateTime, h.UpdateTime = timestamppb.New(createdAt), timestamppb.New(updatedAt)
	return &h, nil
}

// getHandover reads a hand-over the caller's mission sends or receives; any other is
// errHandoverNotFound. With forUpdate its row stays locked until the transaction ends.
func getHandover(ctx context.Context, q database.Querier, id uuid.UUID, forUpdate bool) (*handoverv1.Handover, error) {
	sql := `SELECT ` + handoverColumns + ` FROM handover.handover WHERE handover_id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	h, err := scanHandover(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errHandoverNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read hand-over: %w", err)
	}
	return h, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// queueInsertHandover queues a new hand-over's row and the rows of the parts it covers, open.
func queueInsertHandover(b *pgx.Batch, h *handoverv1.Handover) {
	var legalBasis *string
	if h.LegalBasis != 0 {
		legalBasis = nullable(enumcode.Code(h.LegalBasis))
	}
	b.Queue(`INSERT INTO handover.handover (`+handoverColumns+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, $13, $14, $15, $15)`,
		h.HandoverId, h.CaseId, h.SubjectId, programmeCode(h.Programme), h.FromMission, h.ToMission,
		enumcode.Codes(h.Parts), enumcode.Code(h.Purpose), nullable(h.ConsentId), legalBasis,
		h.ProfileVersion, statusCode(h.Status), h.Version, h.ProposedBy, h.CreateTime.AsTime())
	b.Queue(`INSERT INTO handover.part (handover_id, case_id, part, from_mission, to_mission, open)
SELECT $1, $2, p, $3, $4, true FROM unnest($5::text[]) AS p`,
		h.HandoverId, h.CaseId, h.FromMission, h.ToMission, enumcode.Codes(covered(h.Programme, h.Parts)))
}

// queueUpdateHandover queues a hand-over's new status, version and time; a hand-over that is
// no longer open releases its parts of the case.
func queueUpdateHandover(b *pgx.Batch, h *handoverv1.Handover) {
	var decline *string
	if h.DeclineReason != 0 {
		decline = nullable(enumcode.Code(h.DeclineReason))
	}
	b.Queue(`UPDATE handover.handover SET status = $2, decline_reason = $3, version = $4, updated_at = $5
WHERE handover_id = $1 AND version = $4 - 1`,
		h.HandoverId, statusCode(h.Status), decline, h.Version, h.UpdateTime.AsTime())
	if !open(h.Status) {
		b.Queue(`UPDATE handover.part SET open = false WHERE handover_id = $1 AND open`, h.HandoverId)
	}
}

// listFilter is a validated ListHandovers query.
type listFilter struct {
	mission   string
	direction handoverv1.HandoverDirection
	status    string
	after     *pagetoken.Cursor // after the last hand-over of the previous page, if any
	limit     int
}

// listHandovers lists the mission's hand-overs, newest first: those it sends, receives, or
// both, by the filter's direction.
func listHandovers(ctx context.Context, q database.Querier, f listFilter) ([]*handoverv1.Handover, error) {
	var afterTime *time.Time
	var afterID uuid.UUID
	if f.after != nil {
		afterTime, afterID = &f.after.Time, f.after.ID
	}
	side := `(from_mission = $1 OR to_mission = $1)`
	switch f.direction {
	case handoverv1.HandoverDirection_HANDOVER_DIRECTION_INCOMING:
		side = `to_mission = $1`
	case handoverv1.HandoverDirection_HANDOVER_DIRECTION_OUTGOING:
		side = `from_mission = $1`
	}
	rows, err := q.Query(ctx, `SELECT `+handoverColumns+` FROM handover.handover
WHERE `+side+`
AND ($2 = '' OR status = $2)
AND ($3::timestamptz IS NULL OR (created_at, handover_id) < ($3, $4))
ORDER BY created_at DESC, handover_id DESC
LIMIT $5`, f.mission, f.status, afterTime, afterID, f.limit)
	if err != nil {
		return nil, fmt.Errorf("list hand-overs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*handoverv1.Handover, error) { return scanHandover(r) })
	if err != nil {
		return nil, fmt.Errorf("list hand-overs: %w", err)
	}
	return out, nil
}

func scanProfile(row pgx.Row) (*handoverv1.HandoverProfile, error) {
	var (
		p         handoverv1.HandoverProfile
		programme string
		fields    []string
		at        time.Time
	)
	if err := row.Scan(&programme, &p.Version, &fields, &p.PublishedBy, &at); err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	p.Programme = programmeOf(programme)
	p.Fields = enumcode.Values[handoverv1.HandoverField](fields)
	p.PublishTime = timestamppb.New(at)
	return &p, nil
}
