package intake

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// The store reads and writes intake's schema. Reads take a database.Querier; writes are
// queued on a pgx.Batch so that a whole change (case, vault, outbox, idempotency record)
// travels in one round trip and commits or fails as one.

const caseColumns = `c.case_id, c.mission, c.programme, c.status, c.closure_reason, c.version,
c.principal_subject_id, c.host_country, c.vulnerabilities, c.registration_date, c.created_at, c.updated_at,
c.opened_from_case_id`

func scanCase(row pgx.Row) (*intakev1.Case, error) {
	var (
		id, principal        uuid.UUID
		programme, status    string
		closure              *string
		vulnerabilities      []string
		registered           time.Time
		createdAt, updatedAt time.Time
		openedFrom           *uuid.UUID
		c                    intakev1.Case
	)
	if err := row.Scan(&id, &c.Mission, &programme, &status, &closure, &c.Version, &principal,
		&c.HostCountry, &vulnerabilities, &registered, &createdAt, &updatedAt, &openedFrom); err != nil {
		return nil, database.NotFound(err)
	}
	if openedFrom != nil {
		c.OpenedFromCaseId = openedFrom.String()
	}
	c.CaseId = id.String()
	c.SubjectId = principal.String()
	c.Programme = programmeFromCode(programme)
	c.Status = statusFromCode(status)
	if closure != nil {
		c.ClosureReason = closureFromCode(*closure)
	}
	c.Vulnerabilities = vulnerabilitiesFromCodes(vulnerabilities)
	c.RegistrationDate = civildate.FromTime(registered)
	c.CreateTime = timestamppb.New(createdAt)
	c.UpdateTime = timestamppb.New(updatedAt)
	return &c, nil
}

// getCase reads a case of the mission with its members and consents. A case of another
// mission is not found, by the server's filter and, underneath, by row-level security (q is
// declared for the caller's mission). An empty mission leaves the second alone: only tests
// ask for that (Service.checkMission). With forUpdate the case row stays locked until the
// transaction ends.
func getCase(ctx context.Context, q database.Querier, mission string, id uuid.UUID, forUpdate bool) (*intakev1.Case, error) {
	sql := `SELECT ` + caseColumns + ` FROM intake."case" c WHERE c.case_id = $1`
	args := []any{id}
	if mission != "" {
		sql += ` AND c.mission = $2`
		args = append(args, mission)
	}
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	c, err := scanCase(q.QueryRow(ctx, sql, args...))
	if err != nil {
		return nil, err
	}
	if err := loadDetails(ctx, q, []*intakev1.Case{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// loadDetails fills in the members and the consent history of cases, in one round trip for
// all of them, and derives which consent records are in force and who may be counted in
// statistics. q runs for the cases' mission (row-level security).
func loadDetails(ctx context.Context, q database.Querier, cases []*intakev1.Case) error {
	if len(cases) == 0 {
		return nil
	}
	byID := make(map[uuid.UUID]*intakev1.Case, len(cases))
	ids := make([]uuid.UUID, len(cases))
	for i, c := range cases {
		ids[i] = uuid.MustParse(c.CaseId)
		byID[ids[i]] = c
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT case_id, position, subject_id, sex, age_band, coalesce(nationality, '')
FROM intake.case_member WHERE case_id = ANY($1) ORDER BY case_id, position`, ids).Query(func(rows pgx.Rows) error {
		var caseID, subjectID uuid.UUID
		var position int16
		var sex, band, nationality string
		_, err := pgx.ForEachRow(rows, []any{&caseID, &position, &subjectID, &sex, &band, &nationality}, func() error {
			m := &intakev1.CaseMember{SubjectId: subjectID.String(), Sex: sexFromCode(sex), AgeBand: ageBandFromCode(band), Nationality: nationality}
			c := byID[caseID]
			if position == 0 {
				c.Principal = m
			} else {
				c.HouseholdMembers = append(c.HouseholdMembers, m)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read case members: %w", err)
		}
		return nil
	})
	b.Queue(`SELECT x.case_id, x.consent_id, x.subject_id, x.purpose, x.granted, x.given_on, x.partner, x.partner_category,
x.legal_basis, x.recorded_by, w.withdrawn_on, coalesce(w.recorded_by, '')
FROM intake.consent x LEFT JOIN intake.consent_withdrawal w ON w.consent_id = x.consent_id
WHERE x.case_id = ANY($1) ORDER BY x.case_id, x.position`, ids).Query(func(rows pgx.Rows) error {
		var caseID, consentID, subjectID uuid.UUID
		var purpose, partner, category, basis, recordedBy, withdrawnBy string
		var granted bool
		var givenOn time.Time
		var withdrawnOn *time.Time
		_, err := pgx.ForEachRow(rows, []any{&caseID, &consentID, &subjectID, &purpose, &granted, &givenOn, &partner, &category,
			&basis, &recordedBy, &withdrawnOn, &withdrawnBy}, func() error {
			x := &commonv1.Consent{
				ConsentId: consentID.String(), SubjectId: subjectID.String(), Purpose: purposeFromCode(purpose),
				Granted: granted, Date: civildate.FromTime(givenOn), Partner: partner, PartnerCategory: categoryFromCode(category),
				LegalBasis: legalBasisFromCode(basis), RecordedBy: recordedBy,
			}
			if withdrawnOn != nil {
				x.Withdrawal = &commonv1.ConsentWithdrawal{Date: civildate.FromTime(*withdrawnOn), RecordedBy: withdrawnBy}
			}
			c := byID[caseID]
			c.Consents = append(c.Consents, x)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read consents: %w", err)
		}
		return nil
	})
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("read case details: %w", err)
	}
	for _, c := range cases {
		consent.Derive(c.Consents)
		consent.Mark(c)
	}
	return nil
}

// addInsertCases adds to st the inserts of new cases of mission (createdBy[i] registered
// cases[i]), their members and their consents, as its parts "new_case", "new_members" and
// "new_consents": three inserts however many cases there are. Registration is the hot path,
// and each insert costs the server its set-up (relations, indexes, row-level security,
// foreign-key triggers) as well as the rows it writes; the members' and consents' foreign keys
// are checked at the end of the statement, when the case rows exist.
func addInsertCases(st *database.Statement, mission string, cases []*intakev1.Case, createdBy []string) {
	nc := len(cases)
	caseIDs, programmes, statuses := make([]string, nc), make([]string, nc), make([]string, nc)
	versions, principals, hosts := make([]int64, nc), make([]string, nc), make([]string, nc)
	vulnerabilities, registered := make([]string, nc), make([]time.Time, nc)
	created, openedFrom := make([]time.Time, nc), make([]*string, nc)
	var (
		mCases, subjects, sexes, bands []string
		positions                      []int16
		nationalities                  []*string
		xCases, purposes, partners     []string
		recordedBy, consentIDs         []string
		consentSubjects, categories    []string
		bases                          []string
		xPositions                     []int16
		granted                        []bool
		givenOn                        []time.Time
	)
	for j, c := range cases {
		caseIDs[j], programmes[j] = c.CaseId, enumcode.Code(c.Programme)
		statuses[j], versions[j], principals[j] = enumcode.Code(c.Status), c.Version, c.SubjectId
		hosts[j], registered[j], created[j] = c.HostCountry, civildate.ToTime(c.RegistrationDate), c.CreateTime.AsTime()
		// One text[] per case does not fit a two-dimensional array of ragged rows: each case's
		// codes travel as one array literal, cast back on the server.
		vulnerabilities[j] = textArrayLiteral(vulnerabilityCodes(c.Vulnerabilities))
		if c.OpenedFromCaseId != "" {
			openedFrom[j] = &c.OpenedFromCaseId
		}
		for i, m := range append([]*intakev1.CaseMember{c.Principal}, c.HouseholdMembers...) {
			mCases, positions, subjects = append(mCases, c.CaseId), append(positions, int16(i)), append(subjects, m.SubjectId)
			sexes, bands = append(sexes, enumcode.Code(m.Sex)), append(bands, enumcode.Code(m.AgeBand))
			var nationality *string
			if m.Nationality != "" {
				nationality = &m.Nationality
			}
			nationalities = append(nationalities, nationality)
		}
		for i, x := range c.Consents {
			xCases, xPositions = append(xCases, c.CaseId), append(xPositions, int16(i))
			purposes, granted = append(purposes, enumcode.Code(x.Purpose)), append(granted, x.Granted)
			givenOn, partners = append(givenOn, civildate.ToTime(x.Date)), append(partners, x.Partner)
			recordedBy, consentIDs = append(recordedBy, x.RecordedBy), append(consentIDs, x.ConsentId)
			consentSubjects, categories = append(consentSubjects, x.SubjectId), append(categories, categoryCode(x.PartnerCategory))
			bases = append(bases, legalBasisCode(x.LegalBasis))
		}
	}
	m := st.Arg(mission)
	st.Add("new_case", `INSERT INTO intake."case" (case_id, mission, programme, status, version, principal_subject_id,
    host_country, vulnerabilities, registration_date, created_by, created_at, updated_at, opened_from_case_id)
  SELECT i, `+m+`, p, s, v, a, h, u::text[], r, b, t, t, o
  FROM unnest(`+st.Arg(caseIDs)+`::uuid[], `+st.Arg(programmes)+`::text[], `+st.Arg(statuses)+`::text[], `+
		st.Arg(versions)+`::bigint[], `+st.Arg(principals)+`::uuid[], `+st.Arg(hosts)+`::text[], `+st.Arg(vulnerabilities)+`::text[], `+
		st.Arg(registered)+`::date[], `+st.Arg(createdBy)+`::text[], `+st.Arg(created)+`::timestamptz[], `+
		st.Arg(openedFrom)+`::uuid[]) AS t(i, p, s, v, a, h, u, r, b, t, o)`)
	st.Add("new_members", `INSERT INTO intake.case_member (case_id, mission, position, subject_id, sex, age_band, nationality)
  SELECT c, `+m+`, p, s, x, a, n
  FROM unnest(`+st.Arg(mCases)+`::uuid[], `+st.Arg(positions)+`::smallint[], `+st.Arg(subjects)+`::uuid[], `+st.Arg(sexes)+`::text[], `+
		st.Arg(bands)+`::text[], `+st.Arg(nationalities)+`::text[]) AS t(c, p, s, x, a, n)`)
	st.Add("new_consents", `INSERT INTO intake.consent (case_id, mission, position, purpose, granted, given_on, partner, recorded_by, consent_id,
  subject_id, partner_category, legal_basis)
  SELECT c, `+m+`, p, u, g, d, r, b, i, s, k, l
  FROM unnest(`+st.Arg(xCases)+`::uuid[], `+st.Arg(xPositions)+`::smallint[], `+st.Arg(purposes)+`::text[], `+st.Arg(granted)+`::boolean[], `+
		st.Arg(givenOn)+`::date[], `+st.Arg(partners)+`::text[], `+st.Arg(recordedBy)+`::text[], `+st.Arg(consentIDs)+`::uuid[],
    `+st.Arg(consentSubjects)+`::uuid[], `+st.Arg(categories)+`::text[], `+st.Arg(bases)+`::text[]) AS t(c, p, u, g, d, r, b, i, s, k, l)`)
}

// textArrayLiteral writes codes as a Postgres array literal ("{A,B}"). Codes are upper-case
// letters, digits and underscores (enumcode), which need no quoting.
func textArrayLiteral(codes []string) string {
	return "{" + strings.Join(codes, ",") + "}"
}

// queueInsertConsent adds a consent record, the case's position-th, to b.
func queueInsertConsent(b *pgx.Batch, mission, caseID string, position int, x *commonv1.Consent) {
	b.Queue(`INSERT INTO intake.consent (case_id, position, purpose, granted, given_on, partner, recorded_by, consent_id,
subject_id, partner_category, legal_basis, mission) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		caseID, int16(position), enumcode.Code(x.Purpose), x.Granted, civildate.ToTime(x.Date), x.Partner,
		x.RecordedBy, x.ConsentId, x.SubjectId, categoryCode(x.PartnerCategory), legalBasisCode(x.LegalBasis), mission)
}

// queueInsertWithdrawal adds the withdrawal of a consent record to b.
func queueInsertWithdrawal(b *pgx.Batch, mission, caseID string, x *commonv1.Consent, at time.Time) {
	b.Queue(`INSERT INTO intake.consent_withdrawal (consent_id, case_id, mission, withdrawn_on, recorded_by, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6)`,
		x.ConsentId, caseID, mission, civildate.ToTime(x.Withdrawal.Date), x.Withdrawal.RecordedBy, at)
}

// queueUpdateCase adds the update of a case's own row to b; c carries the new values and
// the new version.
func queueUpdateCase(b *pgx.Batch, c *intakev1.Case) {
	var closure *string
	if c.Status == intakev1.CaseStatus_CASE_STATUS_CLOSED {
		s := enumcode.Code(c.ClosureReason)
		closure = &s
	}
	// closed_at is set once, when the case closes (retention counts from it); nothing leaves
	// CLOSED, so it never changes after.
	b.Queue(`UPDATE intake."case" SET status = $2, closure_reason = $3, version = $4, host_country = $5,
vulnerabilities = $6, updated_at = $7,
closed_at = CASE WHEN $2 = 'CLOSED' THEN coalesce(closed_at, $7) END
WHERE case_id = $1 AND version = $4 - 1`,
		c.CaseId, enumcode.Code(c.Status), closure, c.Version, c.HostCountry,
		vulnerabilityCodes(c.Vulnerabilities), c.UpdateTime.AsTime())
}

// queueUpdatePrincipal adds the update of the principal's coded attributes to b.
func queueUpdatePrincipal(b *pgx.Batch, caseID string, m *intakev1.CaseMember) {
	var nationality *string
	if m.Nationality != "" {
		nationality = &m.Nationality
	}
	b.Queue(`UPDATE intake.case_member SET sex = $2, age_band = $3, nationality = $4 WHERE case_id = $1 AND position = 0`,
		caseID, enumcode.Code(m.Sex), enumcode.Code(m.AgeBand), nationality)
}

// match is a blind-index hit: a person of an existing case of the mission, with the staff
// who work on that case (who may then see the match in full: duplicates.go).
type match struct {
	digest    []byte
	kind      string
	caseID    uuid.UUID
	subjectID uuid.UUID
	createdBy string   // who registered the case
	assigned  []string // whom a supervisor assigned to it
}

// queueFindMatches adds to b the look-up of the people of the mission's cases whose blind
// indexes equal digests, with who works on each of their cases; out is filled when the batch
// is closed.
//
// The statement is prepared once per connection and its generic plan kept, so it is written
// to leave the planner no bad choice however stale the statistics (a new mission's tables
// grow from nothing): the digests are an index condition on the primary key, never a hash
// join against the mission's every index row, and the few hits are materialised before the
// join to the case members.
//
// Postgres would not keep that plan on its own: the generic plan's estimate for
// `digest = ANY($2)` (ten elements) exceeds the custom plans' (two to six), so the plan cache
// planned the join afresh on every call, 0.3 ms of server CPU per registration. The batch's
// transaction therefore forces generic plans (set_config local to it, so the pooled
// connection's next user plans as usual).
func queueFindMatches(b *pgx.Batch, mission string, digests [][]byte, out *[]match) {
	if len(digests) == 0 {
		return
	}
	b.Queue(forceGenericPlans)
	b.Queue(`WITH hits AS MATERIALIZED (
  SELECT digest, kind, subject_id FROM vault.blind_index WHERE mission = $1 AND digest = ANY($2::bytea[])
)
SELECT h.digest, h.kind, m.case_id, m.subject_id, c.created_by,
  ARRAY(SELECT a.staff_id FROM intake.case_assignment a WHERE a.case_id = m.case_id)
FROM hits h JOIN intake.case_member m ON m.subject_id = h.subject_id
JOIN intake."case" c ON c.case_id = m.case_id
ORDER BY m.case_id, m.position`, mission, digests).Query(func(rows pgx.Rows) error {
		var m match
		_, err := pgx.ForEachRow(rows, []any{&m.digest, &m.kind, &m.caseID, &m.subjectID, &m.createdBy, &m.assigned}, func() error {
			*out = append(*out, match{digest: append([]byte(nil), m.digest...), kind: m.kind, caseID: m.caseID, subjectID: m.subjectID,
				createdBy: m.createdBy, assigned: m.assigned})
			m.assigned = nil
			return nil
		})
		if err != nil {
			return fmt.Errorf("find duplicates: %w", err)
		}
		return nil
	})
}

// forceGenericPlans makes the rest of the transaction run prepared statements with their
// generic plans (see queueFindMatches).
const forceGenericPlans = `SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`

// openCaseExists reports whether the subject is the principal of an open case of the
// programme in the mission.
func openCaseExists(ctx context.Context, q database.Querier, mission string, subject uuid.UUID, programme string) (bool, error) {
	var exists bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT FROM intake."case"
WHERE mission = $1 AND principal_subject_id = $2 AND programme = $3 AND status <> 'CLOSED')`,
		mission, subject, programme).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look for an open case: %w", err)
	}
	return exists, nil
}
