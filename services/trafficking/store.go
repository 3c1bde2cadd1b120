package trafficking

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/pagetoken"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// The store reads and writes the trafficking schema. A victim case is one row: the case as
// intake registered it (projected from intake's events) and the VoT facts recorded on it;
// assistance records are rows of their own. Reads take a database.Querier; writes are queued
// on a pgx.Batch so that a change, its outbox event and its idempotency record commit as one.

const caseColumns = `v.case_id, v.mission, v.status, v.closure_reason, v.version,
v.subject_ids, v.sexes, v.age_bands, v.nationalities, v.host_country, v.vulnerabilities, v.registration_date,
v.intake_status, v.registered_at, v.identification_status, v.identified_by, v.identification_date,
v.exploitation_types, v.means_of_control, v.recruiter_relationship, v.exploitation_countries,
v.exploitation_start_year, v.exploitation_end_year, v.child_at_exploitation,
v.cooperation_status, v.cooperation_date, v.risk_level, v.risk_date, v.risk_factors,
v.linked_case_ids, v.updated_at`

func scanCase(row pgx.Row) (*traffickingv1.VictimCase, error) {
	var (
		id                                    uuid.UUID
		status, intakeStatus                  string
		closure, identification, identifiedBy *string
		recruiter, cooperation, riskLevel     *string
		subjects, linked                      []uuid.UUID
		sexes, bands, nationalities, vulns    []string
		types, means, countries, factors      []string
		registered                            time.Time
		identifiedOn, cooperationOn, riskOn   *time.Time
		startYear, endYear                    *int32
		child                                 *bool
		registeredAt, updatedAt               time.Time
		c                                     traffickingv1.VictimCase
	)
	if err := row.Scan(&id, &c.Mission, &status, &closure, &c.Version,
		&subjects, &sexes, &bands, &nationalities, &c.HostCountry, &vulns, &registered,
		&intakeStatus, &registeredAt, &identification, &identifiedBy, &identifiedOn,
		&types, &means, &recruiter, &countries, &startYear, &endYear, &child,
		&cooperation, &cooperationOn, &riskLevel, &riskOn, &factors,
		&linked, &updatedAt); err != nil {
		return nil, database.NotFound(err)
	}
	c.CaseId = id.String()
	c.Status = statusFromCode(status)
	if closure != nil {
		c.ClosureReason = closureFromCode(*closure)
	}
	for i, s := range subjects {
		m := &intakev1.CaseMember{
			SubjectId:   s.String(),
			Sex:         intakecase.Sex(sexes[i]),
			AgeBand:     intakecase.AgeBand(bands[i]),
			Nationality: nationalities[i],
		}
		if i == 0 {
			c.Principal, c.PrincipalSubjectId = m, m.SubjectId
		} else {
			c.HouseholdMembers = append(c.HouseholdMembers, m)
		}
	}
	c.Vulnerabilities = intakecase.Vulnerabilities(vulns)
	c.RegistrationDate = civildate.FromTime(registered)
	c.IntakeStatus = intakeStatusFromCode(intakeStatus)
	if identification != nil {
		c.Identification = &traffickingv1.Identification{
			Status:       enumcode.Value[traffickingv1.IdentificationStatus](*identification),
			IdentifiedBy: enumcode.Value[traffickingv1.IdentifyingAuthority](*identifiedBy),
			Date:         civildate.FromTime(*identifiedOn),
		}
	}
	if types != nil {
		c.Exploitation = &traffickingv1.Exploitation{
			Types:                   enumcode.Values[traffickingv1.ExploitationType](types),
			MeansOfControl:          enumcode.Values[traffickingv1.MeansOfControl](means),
			RecruiterRelationship:   enumcode.Value[traffickingv1.RecruiterRelationship](*recruiter),
			CountriesOfExploitation: countries,
			StartYear:               valueOr(startYear),
			EndYear:                 valueOr(endYear),
			ChildAtExploitation:     valueOr(child),
		}
		if len(c.Exploitation.MeansOfControl) == 0 {
			c.Exploitation.MeansOfControl = nil
		}
	}
	if cooperation != nil {
		c.LawEnforcementCooperation = &traffickingv1.LawEnforcementCooperation{
			Status: enumcode.Value[traffickingv1.CooperationStatus](*cooperation),
			Date:   civildate.FromTime(*cooperationOn),
		}
	}
	if riskLevel != nil {
		c.RiskAssessment = &traffickingv1.RiskAssessment{
			Level:   enumcode.Value[traffickingv1.RiskLevel](*riskLevel),
			Date:    civildate.FromTime(*riskOn),
			Factors: enumcode.Values[traffickingv1.RiskFactor](factors),
		}
		if len(c.RiskAssessment.Factors) == 0 {
			c.RiskAssessment.Factors = nil
		}
	}
	for _, l := range linked {
		c.LinkedCaseIds = append(c.LinkedCaseIds, l.String())
	}
	c.CreateTime = timestamppb.New(registeredAt)
	c.UpdateTime = timestamppb.New(updatedAt)
	return &c, nil
}

func valueOr[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// getCase reads a victim case of the mission, or one it holds a part of, with the assistance
// records the mission made and the parts handed over. A case of another mission is not found,
// by the server's filter and, underneath, by row-level security (q is declared for the
// caller's mission); nor are the assistance records another mission made. An empty mission
// leaves the second alone: only tests ask for that (Service.checkMission). With forUpdate the
// row stays locked until the transaction ends. Alike in shape to intake's getCase (the filter,
// the lock, the children loaded after), it reads this service's own tables.
func getCase(ctx context.Context, q database.Querier, mission string, id uuid.UUID, forUpdate bool) (*traffickingv1.VictimCase, error) {
	sql := `SELECT ` + caseColumns + ` FROM trafficking.victim_case v WHERE v.case_id = $1`
	args := []any{id}
	if mission != "" {
		sql += ` AND (v.mission = $2 OR EXISTS (SELECT FROM ` + partTable + ` p WHERE p.case_id = v.case_id AND p.mission = $2))`
		args = append(args, mission)
	}
	if forUpdate {
		sql += ` FOR UPDATE OF v`
	}
	c, err := scanCase(q.QueryRow(ctx, sql, args...))
	if err != nil {
		return nil, err
	}
	cases := []*traffickingv1.VictimCase{c}
	if err := loadAssistance(ctx, q, mission, cases); err != nil {
		return nil, err
	}
	if err := loadParts(ctx, q, cases); err != nil {
		return nil, err
	}
	return c, nil
}

// loadAssistance fills in the assistance records of cases that mission made (any visible to q
// when mission is empty), in one query for all of them.
func loadAssistance(ctx context.Context, q database.Querier, mission string, cases []*traffickingv1.VictimCase) error {
	if len(cases) == 0 {
		return nil
	}
	byID := make(map[uuid.UUID]*traffickingv1.VictimCase, len(cases))
	ids := make([]uuid.UUID, len(cases))
	for i, c := range cases {
		ids[i] = uuid.MustParse(c.CaseId)
		byID[ids[i]] = c
	}
	rows, err := q.Query(ctx, `SELECT case_id, assistance_id, type, start_date, end_date, provider, recorded_by
FROM trafficking.assistance WHERE case_id = ANY($1) AND ($2 = '' OR mission = $2)
ORDER BY case_id, recorded_at, assistance_id`, ids, mission)
	if err != nil {
		return fmt.Errorf("read assistance: %w", err)
	}
	var caseID, assistanceID uuid.UUID
	var typ, provider, recordedBy string
	var start time.Time
	var end *time.Time
	_, err = pgx.ForEachRow(rows, []any{&caseID, &assistanceID, &typ, &start, &end, &provider, &recordedBy}, func() error {
		a := &traffickingv1.Assistance{
			AssistanceId: assistanceID.String(),
			Type:         enumcode.Value[traffickingv1.AssistanceType](typ),
			StartDate:    civildate.FromTime(start),
			Provider:     provider,
			RecordedBy:   recordedBy,
		}
		if end != nil {
			a.EndDate = civildate.FromTime(*end)
		}
		c := byID[caseID]
		c.Assistance = append(c.Assistance, a)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read assistance: %w", err)
	}
	return nil
}

// day returns a date as a nullable SQL date.
func day(d *date.Date) *time.Time {
	if d == nil {
		return nil
	}
	t := civildate.ToTime(d)
	return &t
}

// nonZero returns nil for the zero value, so that unknown years are stored as NULL.
func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// queueUpdateCase adds the update of the VoT facts of a case's row to b; c carries the new
// values and the new version. The columns projected from intake are the consumer's alone.
func queueUpdateCase(b *pgx.Batch, c *traffickingv1.VictimCase) {
	var closure, identification, identifiedBy *string
	if c.Status == closed {
		closure = nonZero(enumcode.Code(c.ClosureReason))
	}
	var identifiedOn *time.Time
	if id := c.Identification; id != nil {
		identification = nonZero(enumcode.Code(id.Status))
		identifiedBy = nonZero(enumcode.Code(id.IdentifiedBy))
		identifiedOn = day(id.Date)
	}
	var types, means, countries []string
	var recruiter *string
	var startYear, endYear *int32
	var child *bool
	if e := c.Exploitation; e != nil {
		types = enumcode.Codes(e.Types)
		means = enumcode.Codes(e.MeansOfControl)
		recruiter = nonZero(enumcode.Code(e.RecruiterRelationship))
		countries = e.CountriesOfExploitation
		startYear, endYear = nonZero(e.StartYear), nonZero(e.EndYear)
		child = &e.ChildAtExploitation
	}
	var cooperation *string
	var cooperationOn *time.Time
	if lc := c.LawEnforcementCooperation; lc != nil {
		cooperation, cooperationOn = nonZero(enumcode.Code(lc.Status)), day(lc.Date)
	}
	var riskLevel *string
	var riskOn *time.Time
	var factors []string
	if r := c.RiskAssessment; r != nil {
		riskLevel, riskOn, factors = nonZero(enumcode.Code(r.Level)), day(r.Date), enumcode.Codes(r.Factors)
	}
	b.Queue(`UPDATE trafficking.victim_case SET status = $2, closure_reason = $3, version = $4, updated_at = $5,
identification_status = $6, identified_by = $7, identification_date = $8,
exploitation_types = $9, means_of_control = $10, recruiter_relationship = $11, exploitation_countries = $12,
exploitation_start_year = $13, exploitation_end_year = $14, child_at_exploitation = $15,
cooperation_status = $16, cooperation_date = $17, risk_level = $18, risk_date = $19, risk_factors = $20
WHERE case_id = $1 AND version = $4 - 1`,
		c.CaseId, enumcode.Code(c.Status), closure, c.Version, c.UpdateTime.AsTime(),
		identification, identifiedBy, identifiedOn,
		types, means, recruiter, countries, startYear, endYear, child,
		cooperation, cooperationOn, riskLevel, riskOn, factors)
}

// queueInsertAssistance adds the insert of a new assistance record, made by mission, to b.
func queueInsertAssistance(b *pgx.Batch, caseID, mission string, a *traffickingv1.Assistance, at time.Time) {
	b.Queue(`INSERT INTO trafficking.assistance (assistance_id, case_id, mission, type, start_date, end_date, provider, recorded_by, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		a.AssistanceId, caseID, mission, enumcode.Code(a.Type), day(a.StartDate), day(a.EndDate), a.Provider, a.RecordedBy, at)
}

// queueEndAssistance adds the recording of an assistance record's end date to b.
func queueEndAssistance(b *pgx.Batch, caseID string, a *traffickingv1.Assistance) {
	b.Queue(`UPDATE trafficking.assistance SET end_date = $3 WHERE assistance_id = $1 AND case_id = $2 AND end_date IS NULL`,
		a.AssistanceId, caseID, day(a.EndDate))
}

// listFilter is a validated ListVictimCases query.
type listFilter struct {
	mission string
	status  string
	after   *pagetoken.Cursor // after the last case of the previous page, if any
	limit   int
}

// listCases reads a page of the mission's victim cases and of those it holds a part of: two
// keyset scans (the mission's own by its index, the others by their grants) merged in order.
func listCases(ctx context.Context, q database.Querier, f listFilter) ([]*traffickingv1.VictimCase, error) {
	const page = `AND ($2 = '' OR v.status = $2)
AND ($3::timestamptz IS NULL OR (v.registered_at, v.case_id) < ($3, $4))
ORDER BY v.registered_at DESC, v.case_id DESC
LIMIT $5`
	sql := `(SELECT ` + caseColumns + ` FROM trafficking.victim_case v WHERE v.mission = $1
` + page + `)
UNION ALL
(SELECT ` + caseColumns + ` FROM trafficking.victim_case v WHERE v.mission <> $1
AND v.case_id IN (SELECT p.case_id FROM ` + partTable + ` p WHERE p.mission = $1)
` + page + `)
ORDER BY registered_at DESC, case_id DESC
LIMIT $5`
	var afterTime *time.Time
	var afterID uuid.UUID
	if f.after != nil {
		afterTime, afterID = &f.after.Time, f.after.ID
	}
	rows, err := q.Query(ctx, sql, f.mission, f.status, afterTime, afterID, f.limit)
	if err != nil {
		return nil, fmt.Errorf("list victim cases: %w", err)
	}
	var cases []*traffickingv1.VictimCase
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list victim cases: %w", err)
		}
		cases = append(cases, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list victim cases: %w", err)
	}
	if err := loadAssistance(ctx, q, f.mission, cases); err != nil {
		return nil, err
	}
	if err := loadParts(ctx, q, cases); err != nil {
		return nil, err
	}
	return cases, nil
}

// requireAssistance refuses a change to a case whose principal's ASSISTANCE consent (or legal
// basis) is not in force, as intake's events last said.
func requireAssistance(ctx context.Context, q database.Querier, id uuid.UUID) error {
	var allowed bool
	if err := q.QueryRow(ctx, `SELECT assistance_allowed FROM trafficking.victim_case WHERE case_id = $1`, id).Scan(&allowed); err != nil {
		return fmt.Errorf("read assistance consent: %w", database.NotFound(err))
	}
	if !allowed {
		return &consent.MissingError{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE}
	}
	return nil
}
