package returns

import (
	"context"
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
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

// The store reads and writes returns' schema. A return is read whole: its row, its case's
// projection and every fact, the facts in one batch (one round trip). Writes are queued on a
// pgx.Batch so that a step (the fact, the return row, the outbox event, the idempotency
// record) commits or fails as one.

// record is a return as read, with what the rules need besides the message.
type record struct {
	ret *returnsv1.Return
	// closedFrom is the status a closed return was closed in.
	closedFrom returnsv1.ReturnStatus
	// caseClosed says the case is closed in intake.
	caseClosed bool
	// assistanceAllowed says the principal's ASSISTANCE consent (or legal basis) is in force.
	assistanceAllowed bool
	// notAssisted are the members who may not be assisted (consent.MemberAssistanceAllowed).
	notAssisted []string
	// acting is the mission that reads the return, or takes a step on it.
	acting string
	// grants are the hand-overs of the return's parts the acting mission sees, newest first.
	grants []grant
}

const returnColumns = `r.case_id, r.mission, r.status, r.version, r.closure_reason, r.closed_from, r.created_at,
r.updated_at, c.principal_subject_id, c.host_country, c.vulnerabilities, c.intake_status, c.assistance_allowed,
ARRAY(SELECT g.mission || '` + grantSep + `' || array_to_string(g.parts, '` + grantSep + `') FROM returns.part g
  WHERE g.case_id = r.case_id ORDER BY g.accepted_at DESC, g.handover_id)`

// scanReturn reads a row of returnColumns, as the acting mission reads it.
func scanReturn(row pgx.Row, acting string) (*record, error) {
	var (
		id, principal        uuid.UUID
		status, intakeStatus string
		closure, closedFrom  *string
		vulnerabilities      []string
		createdAt, updatedAt time.Time
		r                    returnsv1.Return
		assistanceAllowed    bool
		grants               []string
	)
	if err := row.Scan(&id, &r.Mission, &status, &r.Version, &closure, &closedFrom, &createdAt, &updatedAt,
		&principal, &r.HostCountry, &vulnerabilities, &intakeStatus, &assistanceAllowed, &grants); err != nil {
		return nil, database.NotFound(err)
	}
	r.CaseId = id.String()
	r.SubjectId = principal.String()
	r.Status = statusFromCode(status)
	r.Vulnerabilities = intakecase.Vulnerabilities(vulnerabilities)
	r.CreateTime = timestamppb.New(createdAt)
	r.UpdateTime = timestamppb.New(updatedAt)
	rec := &record{ret: &r, caseClosed: intakeStatus == enumcode.Code(closedCase), assistanceAllowed: assistanceAllowed,
		acting: acting, grants: grantsFrom(grants)}
	rec.setPartHolders()
	if closure != nil {
		r.ClosureReason = enumcode.Value[returnsv1.ClosureReason](*closure)
	}
	if closedFrom != nil {
		rec.closedFrom = statusFromCode(*closedFrom)
	}
	return rec, nil
}

// getReturn reads, for the mission, a return of its own or one it holds a part of, with every
// fact it may see (row-level security chooses them: migrations/000025). A return of another
// mission is not found. With forUpdate its row stays locked until the transaction ends.
func getReturn(ctx context.Context, q database.Querier, mission string, id uuid.UUID, forUpdate bool) (*record, error) {
	sql := `SELECT ` + returnColumns + ` FROM returns."return" r JOIN returns."case" c USING (case_id)
WHERE r.case_id = $1`
	if forUpdate {
		sql += ` FOR UPDATE OF r`
	}
	rec, err := scanReturn(q.QueryRow(ctx, sql, id), mission)
	if err != nil {
		return nil, err
	}
	// Row-level security shows no other mission's return; the server does not rely on it alone.
	if rec.ret.Mission != mission && !rec.received(mission) {
		return nil, database.ErrNotFound
	}
	if err := loadFacts(ctx, q, id, rec); err != nil {
		return nil, err
	}
	rec.setUnmet()
	return rec, nil
}

func provenance(version int64, by string, at time.Time) *returnsv1.Provenance {
	return &returnsv1.Provenance{Version: version, RecordedBy: by, RecordTime: timestamppb.New(at)}
}

// loadFacts reads the members and every fact of a return in one batch.
func loadFacts(ctx context.Context, q database.Querier, id uuid.UUID, rec *record) error {
	r := rec.ret
	b := &pgx.Batch{}
	var (
		version              int64
		by                   string
		at                   time.Time
		subject              uuid.UUID
		optSubject           *uuid.UUID
		day                  time.Time
		optDay               *time.Time
		a, bb, cc, dd        string
		optA, optB           *string
		list1, list2, list3  []string
		position             int16
		subjects             []uuid.UUID
		amount               *int64
		scores               []float64
		eco, soc, psy, compo float64
	)
	var assisted bool
	b.Queue(`SELECT position, subject_id, sex, age_band, coalesce(nationality, ''), assistance_allowed FROM returns.case_member
WHERE case_id = $1 ORDER BY position`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&position, &subject, &a, &bb, &cc, &assisted}, func() error {
			if !assisted {
				rec.notAssisted = append(rec.notAssisted, subject.String())
			}
			r.Members = append(r.Members, &returnsv1.ReturnMember{
				SubjectId: subject.String(), Principal: position == 0, Nationality: cc,
				Sex:     intakecase.Sex(a),
				AgeBand: intakecase.AgeBand(bb),
			})
			return nil
		})
		return err
	})
	b.Queue(`SELECT version, eligibility, ineligibility_reason, counselled_on, decided_on, recorded_by, recorded_at
FROM returns.eligibility_decision WHERE case_id = $1 ORDER BY version`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&version, &a, &optA, &optDay, &day, &by, &at}, func() error {
			d := &returnsv1.EligibilityDecision{
				Eligibility:  enumcode.Value[returnsv1.Eligibility](a),
				DecisionDate: civildate.FromTime(day),
				Provenance:   provenance(version, by, at),
			}
			if optA != nil {
				d.IneligibilityReason = enumcode.Value[returnsv1.IneligibilityReason](*optA)
			}
			if optDay != nil {
				d.CounsellingDate = civildate.FromTime(*optDay)
			}
			r.EligibilityDecisions = append(r.EligibilityDecisions, d)
			return nil
		})
		return err
	})
	b.Queue(`SELECT version, kind, subject_id, outcome, done_on, recorded_by, recorded_at
FROM returns.pre_departure_step WHERE case_id = $1 ORDER BY version`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&version, &a, &optSubject, &optA, &day, &by, &at}, func() error {
			s := &returnsv1.PreDepartureStep{Date: civildate.FromTime(day), Provenance: provenance(version, by, at)}
			if optSubject != nil {
				s.SubjectId = optSubject.String()
			}
			outcome := ""
			if optA != nil {
				outcome = *optA
			}
			setStep(s, a, outcome)
			r.PreDepartureSteps = append(r.PreDepartureSteps, s)
			return nil
		})
		return err
	})
	b.Queue(`SELECT version, departure_date, return_country, travelling_subject_ids, recorded_by, recorded_at
FROM returns.departure WHERE case_id = $1`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&version, &day, &a, &subjects, &by, &at}, func() error {
			d := &returnsv1.Departure{DepartureDate: civildate.FromTime(day), ReturnCountry: a, Provenance: provenance(version, by, at)}
			for _, s := range subjects {
				d.TravellingSubjectIds = append(d.TravellingSubjectIds, s.String())
			}
			r.Departure = d
			return nil
		})
		return err
	})
	b.Queue(`SELECT version, arrival_date, reception_assistance, recorded_by, recorded_at
FROM returns.arrival WHERE case_id = $1`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&version, &day, &list1, &by, &at}, func() error {
			r.Arrival = &returnsv1.Arrival{
				ArrivalDate:         civildate.FromTime(day),
				ReceptionAssistance: enumcode.Values[returnsv1.ReceptionAssistance](list1),
				Provenance:          provenance(version, by, at),
			}
			return nil
		})
		return err
	})
	b.Queue(`SELECT version, planned_on, economic, social, psychosocial, recorded_by, recorded_at
FROM returns.reintegration_plan WHERE case_id = $1 ORDER BY version`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&version, &day, &list1, &list2, &list3, &by, &at}, func() error {
			r.ReintegrationPlans = append(r.ReintegrationPlans, &returnsv1.ReintegrationPlan{
				PlanDate:     civildate.FromTime(day),
				Economic:     assistanceTypes(list1),
				Social:       assistanceTypes(list2),
				Psychosocial: assistanceTypes(list3),
				Provenance:   provenance(version, by, at),
			})
			return nil
		})
		return err
	})
	var assistanceID uuid.UUID
	b.Queue(`SELECT assistance_id, version, type, dimension, amount_minor, currency, delivered_on, provider, subject_id,
recorded_by, recorded_at FROM returns.assistance WHERE case_id = $1 ORDER BY version`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&assistanceID, &version, &a, &bb, &amount, &optA, &day, &dd, &subject, &by, &at}, func() error {
			x := &returnsv1.Assistance{
				AssistanceId: assistanceID.String(),
				Type:         enumcode.Value[returnsv1.AssistanceType](a),
				Dimension:    enumcode.Value[returnsv1.Dimension](bb),
				DeliveryDate: civildate.FromTime(day),
				Provider:     dd,
				SubjectId:    subject.String(),
				Provenance:   provenance(version, by, at),
			}
			if amount != nil && optA != nil {
				x.Value = &returnsv1.Money{AmountMinor: *amount, CurrencyCode: *optA}
			}
			r.Assistance = append(r.Assistance, x)
			return nil
		})
		return err
	})
	var visitID uuid.UUID
	b.Queue(`SELECT visit_id, version, visited_on, indicator_ids, indicator_scores, economic_score, social_score,
psychosocial_score, composite_score, recorded_by, recorded_at FROM returns.monitoring_visit WHERE case_id = $1
ORDER BY version`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&visitID, &version, &day, &list1, &scores, &eco, &soc, &psy, &compo, &by, &at}, func() error {
			v := &returnsv1.MonitoringVisit{
				VisitId:    visitID.String(),
				VisitDate:  civildate.FromTime(day),
				Provenance: provenance(version, by, at),
			}
			for i := range list1 {
				v.Indicators = append(v.Indicators, &returnsv1.IndicatorScore{IndicatorId: list1[i], Score: scores[i]})
			}
			// The scanned values are reused for the next row: keep copies.
			e, s, p, c := eco, soc, psy, compo
			v.EconomicScore, v.SocialScore, v.PsychosocialScore, v.CompositeScore = &e, &s, &p, &c
			r.MonitoringVisits = append(r.MonitoringVisits, v)
			return nil
		})
		return err
	})
	b.Queue(`SELECT version, from_status, to_status, closure_reason, reopen_reason, recorded_by, recorded_at
FROM returns.status_change WHERE case_id = $1 ORDER BY version`, id).Query(func(rows pgx.Rows) error {
		_, err := pgx.ForEachRow(rows, []any{&version, &a, &bb, &optA, &optB, &by, &at}, func() error {
			c := &returnsv1.StatusChange{From: statusFromCode(a), To: statusFromCode(bb), Provenance: provenance(version, by, at)}
			if optA != nil {
				c.ClosureReason = enumcode.Value[returnsv1.ClosureReason](*optA)
			}
			if optB != nil {
				c.ReopenReason = enumcode.Value[returnsv1.ReopenReason](*optB)
			}
			r.StatusChanges = append(r.StatusChanges, c)
			return nil
		})
		return err
	})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("read return facts: %w", err)
	}
	return nil
}

func assistanceTypes(cs []string) []returnsv1.AssistanceType {
	return enumcode.Values[returnsv1.AssistanceType](cs)
}

// Pre-departure steps are stored as a kind and the code of their outcome.
const (
	kindTravelDocument = "TRAVEL_DOCUMENT"
	kindFitToTravel    = "FIT_TO_TRAVEL"
	kindBooking        = "BOOKING"
	kindMedicalEscort  = "MEDICAL_ESCORT"
	kindGuardian       = "GUARDIAN_APPOINTED"
	kindBestInterests  = "BEST_INTERESTS_ASSESSMENT"
	kindRisk           = "RISK_ASSESSMENT"
)

// stepCodes returns the stored kind and outcome of a step ("" when it has none).
func stepCodes(s *returnsv1.PreDepartureStep) (kind, outcome string) {
	switch st := s.GetStep().(type) {
	case *returnsv1.PreDepartureStep_TravelDocument:
		return kindTravelDocument, enumcode.Code(st.TravelDocument)
	case *returnsv1.PreDepartureStep_FitToTravel:
		return kindFitToTravel, enumcode.Code(st.FitToTravel)
	case *returnsv1.PreDepartureStep_Booking:
		return kindBooking, enumcode.Code(st.Booking)
	case *returnsv1.PreDepartureStep_MedicalEscort:
		return kindMedicalEscort, ""
	case *returnsv1.PreDepartureStep_GuardianAppointed:
		return kindGuardian, ""
	case *returnsv1.PreDepartureStep_BestInterestsAssessment:
		return kindBestInterests, enumcode.Code(st.BestInterestsAssessment)
	case *returnsv1.PreDepartureStep_RiskAssessment:
		return kindRisk, enumcode.Code(st.RiskAssessment)
	}
	return "", ""
}

// setStep sets the step of s from its stored kind and outcome.
func setStep(s *returnsv1.PreDepartureStep, kind, outcome string) {
	switch kind {
	case kindTravelDocument:
		s.Step = &returnsv1.PreDepartureStep_TravelDocument{TravelDocument: enumcode.Value[commonv1.DocumentType](outcome)}
	case kindFitToTravel:
		s.Step = &returnsv1.PreDepartureStep_FitToTravel{FitToTravel: enumcode.Value[returnsv1.FitToTravel](outcome)}
	case kindBooking:
		s.Step = &returnsv1.PreDepartureStep_Booking{Booking: enumcode.Value[returnsv1.TravelMode](outcome)}
	case kindMedicalEscort:
		s.Step = &returnsv1.PreDepartureStep_MedicalEscort{MedicalEscort: &returnsv1.MedicalEscortArranged{}}
	case kindGuardian:
		s.Step = &returnsv1.PreDepartureStep_GuardianAppointed{GuardianAppointed: &returnsv1.GuardianAppointed{}}
	case kindBestInterests:
		s.Step = &returnsv1.PreDepartureStep_BestInterestsAssessment{BestInterestsAssessment: enumcode.Value[returnsv1.BestInterests](outcome)}
	case kindRisk:
		s.Step = &returnsv1.PreDepartureStep_RiskAssessment{RiskAssessment: enumcode.Value[returnsv1.RiskLevel](outcome)}
	}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Writes. Each fact is inserted with the version it made and its provenance.

func queueUpdateReturn(b *pgx.Batch, rec *record) {
	r := rec.ret
	var closure, closedFrom *string
	if r.Status == closed {
		closure = nullable(enumcode.Code(r.ClosureReason))
		closedFrom = nullable(enumcode.Code(rec.closedFrom))
	}
	b.Queue(`UPDATE returns."return" SET status = $2, version = $3, closure_reason = $4, closed_from = $5, updated_at = $6
WHERE case_id = $1 AND version = $3 - 1`,
		r.CaseId, enumcode.Code(r.Status), r.Version, closure, closedFrom, r.UpdateTime.AsTime())
}

func queueEligibility(b *pgx.Batch, caseID, mission string, d *returnsv1.EligibilityDecision) {
	var reason *string
	if d.IneligibilityReason != returnsv1.IneligibilityReason_INELIGIBILITY_REASON_UNSPECIFIED {
		reason = nullable(enumcode.Code(d.IneligibilityReason))
	}
	var counselled *time.Time
	if d.CounsellingDate != nil {
		t := civildate.ToTime(d.CounsellingDate)
		counselled = &t
	}
	p := d.Provenance
	b.Queue(`INSERT INTO returns.eligibility_decision (case_id, version, eligibility, ineligibility_reason, counselled_on,
decided_on, recorded_by, recorded_at, mission) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		caseID, p.Version, enumcode.Code(d.Eligibility), reason, counselled, civildate.ToTime(d.DecisionDate),
		p.RecordedBy, p.RecordTime.AsTime(), mission)
}

func queueStep(b *pgx.Batch, caseID, mission string, s *returnsv1.PreDepartureStep) {
	kind, outcome := stepCodes(s)
	p := s.Provenance
	b.Queue(`INSERT INTO returns.pre_departure_step (case_id, version, kind, subject_id, outcome, done_on, recorded_by,
recorded_at, mission) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		caseID, p.Version, kind, nullable(s.SubjectId), nullable(outcome), civildate.ToTime(s.Date), p.RecordedBy, p.RecordTime.AsTime(), mission)
}

func queueDeparture(b *pgx.Batch, caseID, mission string, d *returnsv1.Departure) {
	p := d.Provenance
	b.Queue(`INSERT INTO returns.departure (case_id, version, departure_date, return_country, travelling_subject_ids,
recorded_by, recorded_at, mission) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		caseID, p.Version, civildate.ToTime(d.DepartureDate), d.ReturnCountry, d.TravellingSubjectIds, p.RecordedBy, p.RecordTime.AsTime(), mission)
}

func queueArrival(b *pgx.Batch, caseID, mission string, a *returnsv1.Arrival) {
	p := a.Provenance
	b.Queue(`INSERT INTO returns.arrival (case_id, version, arrival_date, reception_assistance, recorded_by, recorded_at,
mission) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		caseID, p.Version, civildate.ToTime(a.ArrivalDate), enumcode.Codes(a.ReceptionAssistance), p.RecordedBy, p.RecordTime.AsTime(), mission)
}

func queuePlan(b *pgx.Batch, caseID, mission string, pl *returnsv1.ReintegrationPlan) {
	p := pl.Provenance
	b.Queue(`INSERT INTO returns.reintegration_plan (case_id, version, planned_on, economic, social, psychosocial,
recorded_by, recorded_at, mission) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		caseID, p.Version, civildate.ToTime(pl.PlanDate), enumcode.Codes(pl.Economic),
		enumcode.Codes(pl.Social), enumcode.Codes(pl.Psychosocial), p.RecordedBy, p.RecordTime.AsTime(), mission)
}

func queueAssistance(b *pgx.Batch, caseID, mission string, a *returnsv1.Assistance) {
	var amount *int64
	var currency *string
	if v := a.Value; v != nil {
		amount, currency = &v.AmountMinor, &v.CurrencyCode
	}
	p := a.Provenance
	b.Queue(`INSERT INTO returns.assistance (assistance_id, case_id, version, type, dimension, amount_minor, currency,
delivered_on, provider, subject_id, recorded_by, recorded_at, mission)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		a.AssistanceId, caseID, p.Version, enumcode.Code(a.Type), enumcode.Code(a.Dimension), amount, currency,
		civildate.ToTime(a.DeliveryDate), a.Provider, a.SubjectId, p.RecordedBy, p.RecordTime.AsTime(), mission)
}

func queueVisit(b *pgx.Batch, caseID, mission string, v *returnsv1.MonitoringVisit) {
	ids, scores := make([]string, len(v.Indicators)), make([]float64, len(v.Indicators))
	for i, x := range v.Indicators {
		ids[i], scores[i] = x.IndicatorId, x.Score
	}
	p := v.Provenance
	b.Queue(`INSERT INTO returns.monitoring_visit (visit_id, case_id, version, visited_on, indicator_ids, indicator_scores,
economic_score, social_score, psychosocial_score, composite_score, recorded_by, recorded_at, mission)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		v.VisitId, caseID, p.Version, civildate.ToTime(v.VisitDate), ids, scores, v.GetEconomicScore(), v.GetSocialScore(),
		v.GetPsychosocialScore(), v.GetCompositeScore(), p.RecordedBy, p.RecordTime.AsTime(), mission)
}

func queueStatusChange(b *pgx.Batch, caseID, mission string, c *returnsv1.StatusChange) {
	var closure, reopen *string
	if c.ClosureReason != returnsv1.ClosureReason_CLOSURE_REASON_UNSPECIFIED {
		closure = nullable(enumcode.Code(c.ClosureReason))
	}
	if c.ReopenReason != returnsv1.ReopenReason_REOPEN_REASON_UNSPECIFIED {
		reopen = nullable(enumcode.Code(c.ReopenReason))
	}
	p := c.Provenance
	b.Queue(`INSERT INTO returns.status_change (case_id, version, from_status, to_status, closure_reason, reopen_reason,
recorded_by, recorded_at, mission) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		caseID, p.Version, enumcode.Code(c.From), enumcode.Code(c.To), closure, reopen, p.RecordedBy, p.RecordTime.AsTime(), mission)
}

// listFilter is a validated ListReturns query.
type listFilter struct {
	mission string
	status  string
	after   *pagetoken.Cursor // after the last return of the previous page, if any
	limit   int
}

func listReturns(ctx context.Context, q database.Querier, f listFilter) ([]*returnsv1.Return, error) {
	var afterTime *time.Time
	var afterID uuid.UUID
	if f.after != nil {
		afterTime, afterID = &f.after.Time, f.after.ID
	}
	// The mission's own returns and those it holds parts of, each a page at most, merged: two
	// index scans rather than a filter over every mission's returns.
	rows, err := q.Query(ctx, `SELECT `+returnColumns+` FROM returns."return" r JOIN returns."case" c USING (case_id)
WHERE r.case_id IN (
  (SELECT x.case_id FROM returns."return" x WHERE x.mission = $1
   AND ($2 = '' OR x.status = $2) AND ($3::timestamptz IS NULL OR (x.created_at, x.case_id) < ($3, $4))
   ORDER BY x.created_at DESC, x.case_id DESC LIMIT $5)
  UNION ALL
  (SELECT x.case_id FROM returns."return" x WHERE x.mission <> $1
   AND x.case_id IN (SELECT g.case_id FROM returns.part g WHERE g.mission = $1)
   AND ($2 = '' OR x.status = $2) AND ($3::timestamptz IS NULL OR (x.created_at, x.case_id) < ($3, $4))
   ORDER BY x.created_at DESC, x.case_id DESC LIMIT $5))
ORDER BY r.created_at DESC, r.case_id DESC
LIMIT $5`, f.mission, f.status, afterTime, afterID, f.limit)
	if err != nil {
		return nil, fmt.Errorf("list returns: %w", err)
	}
	defer rows.Close()
	var out []*returnsv1.Return
	for rows.Next() {
		rec, err := scanReturn(rows, f.mission)
		if err != nil {
			return nil, fmt.Errorf("list returns: %w", err)
		}
		out = append(out, rec.ret)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list returns: %w", err)
	}
	return out, nil
}
