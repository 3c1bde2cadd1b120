package hasm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/pagetoken"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// The store reads and writes the hasm schema. Reads take a database.Querier; writes are
// queued on a pgx.Batch so that a whole change (request, fund, outbox event, idempotency
// record) travels in one round trip and commits or fails as one.

const requestColumns = `r.case_id, r.mission, r.status, r.version, r.principal_subject_id, r.host_country,
r.stranded_reason, r.no_other_assistance_reason, r.estimated_cost, r.currency, r.fund_code, r.fund_year,
r.requested_by, r.approved_amount, r.rejection_reason, r.decided_by, r.decided_at, r.departure_date,
r.return_country, r.travelling_subject_ids, r.arrival_date, r.closure_reason, r.created_at, r.updated_at`

func scanRequest(row pgx.Row) (*hasmv1.AssistanceRequest, error) {
	var (
		caseID, principal                   uuid.UUID
		status, stranded, noOther           string
		approved                            *int64
		rejection, decidedBy, returnCountry *string
		closure                             *string
		decidedAt, departed, arrived        *time.Time
		travelling                          []uuid.UUID
		createdAt, updatedAt                time.Time
		r                                   hasmv1.AssistanceRequest
	)
	if err := row.Scan(&caseID, &r.Mission, &status, &r.Version, &principal, &r.HostCountry,
		&stranded, &noOther, &r.EstimatedCost, &r.Currency, &r.FundCode, &r.FundYear,
		&r.RequestedBy, &approved, &rejection, &decidedBy, &decidedAt, &departed,
		&returnCountry, &travelling, &arrived, &closure, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	r.CaseId = caseID.String()
	r.SubjectId = principal.String()
	r.Status = statusFromCode(status)
	r.StrandedReason = strandedFromCode(stranded)
	r.NoOtherAssistanceReason = noOtherFromCode(noOther)
	if approved != nil {
		r.ApprovedAmount = *approved
	}
	if rejection != nil {
		r.RejectionReason = rejectionFromCode(*rejection)
	}
	if decidedBy != nil {
		r.DecidedBy = *decidedBy
	}
	if decidedAt != nil {
		r.DecideTime = timestamppb.New(*decidedAt)
	}
	if departed != nil {
		r.DepartureDate = civildate.FromTime(*departed)
	}
	if returnCountry != nil {
		r.ReturnCountry = *returnCountry
	}
	for _, id := range travelling {
		r.TravellingSubjectIds = append(r.TravellingSubjectIds, id.String())
	}
	if arrived != nil {
		r.ArrivalDate = civildate.FromTime(*arrived)
	}
	if closure != nil {
		r.ClosureReason = closureFromCode(*closure)
	}
	r.CreateTime = timestamppb.New(createdAt)
	r.UpdateTime = timestamppb.New(updatedAt)
	return &r, nil
}

// getRequest reads the request mission made for a case ("": the case's own mission's, which
// only HQ reads with it). A request row-level security hides is not found. With forUpdate the
// row stays locked until the transaction ends.
func getRequest(ctx context.Context, q database.Querier, mission string, caseID uuid.UUID, forUpdate bool) (*hasmv1.AssistanceRequest, error) {
	sql := `SELECT ` + requestColumns + ` FROM hasm.request r WHERE r.case_id = $1
AND r.mission = coalesce(nullif($2, ''), (SELECT c.mission FROM hasm."case" c WHERE c.case_id = $1))`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	r, err := scanRequest(q.QueryRow(ctx, sql, caseID, mission))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errRequestNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	return r, nil
}

// queueInsertRequest adds the insert of a new request to b.
func queueInsertRequest(b *pgx.Batch, r *hasmv1.AssistanceRequest) {
	b.Queue(`INSERT INTO hasm.request (case_id, mission, status, version, principal_subject_id, host_country,
stranded_reason, no_other_assistance_reason, estimated_cost, currency, fund_code, fund_year, requested_by,
created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
		r.CaseId, r.Mission, enumcode.Code(r.Status), r.Version, r.SubjectId, r.HostCountry,
		enumcode.Code(r.StrandedReason), enumcode.Code(r.NoOtherAssistanceReason),
		r.EstimatedCost, r.Currency, r.FundCode, r.FundYear, r.RequestedBy, r.CreateTime.AsTime())
}

// queueUpdateRequest adds the update of a request's mutable columns to b; r carries the new
// values and the new version.
func queueUpdateRequest(b *pgx.Batch, r *hasmv1.AssistanceRequest) {
	var (
		approved                            *int64
		rejection, decidedBy, returnCountry *string
		closure                             *string
		decidedAt, departed, arrived        *time.Time
	)
	if r.ApprovedAmount != 0 {
		approved = &r.ApprovedAmount
	}
	if r.RejectionReason != hasmv1.RejectionReason_REJECTION_REASON_UNSPECIFIED {
		c := enumcode.Code(r.RejectionReason)
		rejection = &c
	}
	if r.DecidedBy != "" {
		decidedBy = &r.DecidedBy
	}
	if r.DecideTime != nil {
		t := r.DecideTime.AsTime()
		decidedAt = &t
	}
	if r.DepartureDate != nil {
		t := civildate.ToTime(r.DepartureDate)
		departed = &t
	}
	if r.ReturnCountry != "" {
		returnCountry = &r.ReturnCountry
	}
	if r.ArrivalDate != nil {
		t := civildate.ToTime(r.ArrivalDate)
		arrived = &t
	}
	if r.ClosureReason != hasmv1.ClosureReason_CLOSURE_REASON_UNSPECIFIED {
		c := enumcode.Code(r.ClosureReason)
		closure = &c
	}
	travelling := r.TravellingSubjectIds
	if travelling == nil {
		travelling = []string{}
	}
	b.Queue(`UPDATE hasm.request SET status = $2, version = $3, approved_amount = $4, rejection_reason = $5,
decided_by = $6, decided_at = $7, departure_date = $8, return_country = $9, travelling_subject_ids = $10::uuid[],
arrival_date = $11, closure_reason = $12, updated_at = $13
WHERE case_id = $1 AND mission = $14 AND version = $3 - 1`,
		r.CaseId, enumcode.Code(r.Status), r.Version, approved, rejection, decidedBy, decidedAt,
		departed, returnCountry, travelling, arrived, closure, r.UpdateTime.AsTime(), r.Mission)
}

// requestFilter is a validated ListRequests query.
type requestFilter struct {
	mission string            // "" for every mission
	status  string            // "" for every status
	after   *pagetoken.Cursor // after the last request of the previous page, if any
	limit   int
}

func listRequests(ctx context.Context, q database.Querier, f requestFilter) ([]*hasmv1.AssistanceRequest, error) {
	var afterTime *time.Time
	var afterID uuid.UUID
	if f.after != nil {
		afterTime, afterID = &f.after.Time, f.after.ID
	}
	rows, err := q.Query(ctx, `SELECT `+requestColumns+` FROM hasm.request r
WHERE ($1 = '' OR r.mission = $1)
AND ($2 = '' OR r.status = $2)
AND ($3::timestamptz IS NULL OR (r.created_at, r.case_id) < ($3, $4))
ORDER BY r.created_at DESC, r.case_id DESC
LIMIT $5`, f.mission, f.status, afterTime, afterID, f.limit)
	if err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	var out []*hasmv1.AssistanceRequest
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list requests: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return out, nil
}

// Funds.

const fundColumns = `fund_id, code, year, currency, budget, committed, version, created_at, updated_at`

func scanFund(row pgx.Row) (*hasmv1.Fund, error) {
	var (
		id                   uuid.UUID
		createdAt, updatedAt time.Time
		f                    hasmv1.Fund
	)
	err := row.Scan(&id, &f.Code, &f.Year, &f.Currency, &f.Budget, &f.Committed, &f.Version, &createdAt, &updatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errFundNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read fund: %w", err)
	}
	f.FundId = id.String()
	f.Remaining = f.Budget - f.Committed
	f.CreateTime = timestamppb.New(createdAt)
	f.UpdateTime = timestamppb.New(updatedAt)
	return &f, nil
}

// getFund reads a fund by code and year. With forUpdate the row stays locked until the
// transaction ends: approvals, releases and budget changes of one fund take turns on it, which
// is what keeps committed within budget under concurrent approvals.
func getFund(ctx context.Context, q database.Querier, code string, year int32, forUpdate bool) (*hasmv1.Fund, error) {
	sql := `SELECT ` + fundColumns + ` FROM hasm.fund WHERE code = $1 AND year = $2`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	return scanFund(q.QueryRow(ctx, sql, code, year))
}

func queueInsertFund(b *pgx.Batch, f *hasmv1.Fund, createdBy string) {
	b.Queue(`INSERT INTO hasm.fund (fund_id, code, year, currency, budget, committed, version, created_by, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		f.FundId, f.Code, f.Year, f.Currency, f.Budget, f.Committed, f.Version, createdBy, f.CreateTime.AsTime())
}

// queueUpdateFund adds the update of a fund's budget, committed amount and version to b.
func queueUpdateFund(b *pgx.Batch, f *hasmv1.Fund) {
	b.Queue(`UPDATE hasm.fund SET budget = $2, committed = $3, version = $4, updated_at = $5 WHERE fund_id = $1`,
		f.FundId, f.Budget, f.Committed, f.Version, f.UpdateTime.AsTime())
}

// The case projection.

// projectedCase is what the service knows of an intake case of programme HASM.
type projectedCase struct {
	mission         string
	status          string // intake's status code
	principal       uuid.UUID
	hostCountry     string
	vulnerabilities []commonv1.Vulnerability
	// assistanceAllowed says the principal's ASSISTANCE consent (or legal basis) is in force.
	assistanceAllowed bool
}

// getCase reads a case of the mission ("": any the caller's declaration sees, its own or one
// it holds a part of) from the projection.
func getCase(ctx context.Context, q database.Querier, mission string, caseID uuid.UUID) (*projectedCase, error) {
	var c projectedCase
	var vulnerabilities []string
	err := q.QueryRow(ctx, `SELECT mission, intake_status, principal_subject_id, host_country, vulnerabilities, assistance_allowed
FROM hasm."case" WHERE case_id = $1 AND ($2 = '' OR mission = $2)`, caseID, mission).
		Scan(&c.mission, &c.status, &c.principal, &c.hostCountry, &vulnerabilities, &c.assistanceAllowed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errCaseNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read case: %w", err)
	}
	c.vulnerabilities = intakecase.Vulnerabilities(vulnerabilities)
	return &c, nil
}

// caseMembers reads the coded people of a case, the principal first.
func caseMembers(ctx context.Context, q database.Querier, caseID uuid.UUID) ([]*commonv1.TravellingPerson, error) {
	rows, err := q.Query(ctx, `SELECT position, subject_id, sex, age_band, coalesce(nationality, '')
FROM hasm.case_member WHERE case_id = $1 ORDER BY position`, caseID)
	if err != nil {
		return nil, fmt.Errorf("read case members: %w", err)
	}
	var out []*commonv1.TravellingPerson
	var position int16
	var subject uuid.UUID
	var sex, band, nationality string
	_, err = pgx.ForEachRow(rows, []any{&position, &subject, &sex, &band, &nationality}, func() error {
		out = append(out, &commonv1.TravellingPerson{
			SubjectId: subject.String(), Sex: intakecase.Sex(sex), AgeBand: intakecase.AgeBand(band),
			Nationality: nationality, Principal: position == 0,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read case members: %w", err)
	}
	return out, nil
}
