package returns

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// applyEvent applies one event: the consumer's fallback when a drain's batch fails, so that a
// poison event is found and held back alone. It is the batch form with one record.
func applyEvent(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	return applyEvents(ctx, tx, []outbox.Record{r})
}

// applyEvents applies a drain: intake's events to the cases (applyIntakeEvents), the hand-over
// service's acceptances of AVRR cases to the grants of their parts (returns.part, under each
// receiving mission's declaration); each passes over the other's events.
func applyEvents(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	if err := applyIntakeEvents(ctx, tx, records); err != nil {
		return err
	}
	return handoverpart.Project(ctx, tx, records, "returns.part", commonv1.Programme_PROGRAMME_AVRR)
}

// applyIntakeEvents keeps returns' projection of AVRR cases in step with intake, inside the
// consumer's transaction, for one drain's events at once: every event carries the whole
// pseudonymised case, so each case is upserted from the newest of its events in the drain, and
// a return in COUNSELLING is opened for a case seen the first time. Cases of other programmes
// are passed over: a victim of trafficking who returns through AVRR gets an AVRR case of its
// own (intake.OpenCase), under the same subject ids.
//
// The drain's cases are written mission by mission, three multi-row statements each after the
// mission's declaration, all in one round trip: the consumer's transaction reads every
// mission's events, and each mission's rows are written under the mission its events were
// recorded for, which row-level security checked then.
//
// A case twice in the drain is written once, at its newest state (intakecase.Newest: one
// statement cannot upsert a row twice); a case whose events name two missions fails the batch,
// so that the consumer applies the events one at a time and row-level security holds back the
// wrong one where it stands.
func applyIntakeEvents(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	return intakecase.Project(ctx, tx, records, func(b *pgx.Batch, cases []*intakev1.Case) {
		var rows caseRows
		for _, c := range cases {
			rows.add(c)
		}
		rows.queue(b)
	}, commonv1.Programme_PROGRAMME_AVRR)
}

// caseRows are the columns of one mission's cases, their members and their returns, as arrays
// for multi-row statements.
type caseRows struct {
	caseIDs, missions, statuses, principals, hosts, vulnerabilities []string
	versions                                                        []int64
	assistance                                                      []bool
	created                                                         []time.Time

	memberCases, subjects, sexes, bands []string
	positions                           []int16
	nationalities                       []*string
	memberVersions                      []int64
	assisted                            []bool
}

// vulnerabilitySep joins a case's vulnerability codes into one array element: enum codes are
// upper-case letters, digits and underscores, never a comma.
const vulnerabilitySep = ","

func (w *caseRows) add(c *intakev1.Case) {
	w.caseIDs = append(w.caseIDs, c.GetCaseId())
	w.missions = append(w.missions, c.GetMission())
	w.statuses = append(w.statuses, enumcode.Code(c.GetStatus()))
	w.versions = append(w.versions, c.GetVersion())
	w.principals = append(w.principals, c.GetSubjectId())
	w.hosts = append(w.hosts, c.GetHostCountry())
	w.vulnerabilities = append(w.vulnerabilities,
		strings.Join(intakecase.VulnerabilityCodes(c.GetVulnerabilities()), vulnerabilitySep))
	w.assistance = append(w.assistance, consent.AssistanceAllowed(c))
	w.created = append(w.created, c.GetCreateTime().AsTime())

	members := append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...)
	for i, m := range members {
		w.memberCases = append(w.memberCases, c.GetCaseId())
		w.positions = append(w.positions, int16(i))
		w.subjects = append(w.subjects, m.GetSubjectId())
		w.sexes = append(w.sexes, intakecase.SexCode(m.GetSex()))
		w.bands = append(w.bands, intakecase.AgeBandCode(m.GetAgeBand()))
		var nationality *string
		if m.GetNationality() != "" {
			nationality = &m.Nationality
		}
		w.nationalities = append(w.nationalities, nationality)
		w.memberVersions = append(w.memberVersions, c.GetVersion())
		w.assisted = append(w.assisted, consent.MemberAssistanceAllowed(c, m.GetSubjectId()))
	}
}

// queue adds the upserts of the cases, their members and their returns to b. An event older
// than the row (by intake's version) leaves the case and its members as they are.
// assistance_allowed follows the principal's ASSISTANCE consent as intake derived it.
func (w *caseRows) queue(b *pgx.Batch) {
	b.Queue(`INSERT INTO returns."case" AS x (case_id, mission, intake_status, intake_version, principal_subject_id,
host_country, vulnerabilities, assistance_allowed)
SELECT c, m, s, v, p, h, string_to_array(u, '`+vulnerabilitySep+`'), a
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::uuid[], $6::text[], $7::text[], $8::boolean[]) AS t(c, m, s, v, p, h, u, a)
ON CONFLICT (case_id) DO UPDATE SET intake_status = EXCLUDED.intake_status, intake_version = EXCLUDED.intake_version,
host_country = EXCLUDED.host_country, vulnerabilities = EXCLUDED.vulnerabilities,
assistance_allowed = EXCLUDED.assistance_allowed
WHERE x.intake_version < EXCLUDED.intake_version`,
		w.caseIDs, w.missions, w.statuses, w.versions, w.principals, w.hosts, w.vulnerabilities, w.assistance)

	// Intake corrects the principal's coded attributes and consent changes whom the case may
	// assist; the members themselves never change. Only an event that is now the case's
	// state (its version is the row's, after the statement above) writes them.
	b.Queue(`INSERT INTO returns.case_member AS x (case_id, position, subject_id, sex, age_band, nationality, assistance_allowed)
SELECT c, p, s, g, a, n, y
FROM unnest($1::uuid[], $2::smallint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::boolean[]) AS t(c, p, s, g, a, n, v, y)
WHERE t.v = (SELECT intake_version FROM returns."case" k WHERE k.case_id = t.c)
ON CONFLICT (case_id, position) DO UPDATE SET sex = EXCLUDED.sex, age_band = EXCLUDED.age_band, nationality = EXCLUDED.nationality,
assistance_allowed = EXCLUDED.assistance_allowed`,
		w.memberCases, w.positions, w.subjects, w.sexes, w.bands, w.nationalities, w.memberVersions, w.assisted)

	b.Queue(`INSERT INTO returns."return" (case_id, mission, status, version, created_at, updated_at)
SELECT c, m, $3, 1, t, t FROM unnest($1::uuid[], $2::text[], $4::timestamptz[]) AS r(c, m, t)
ON CONFLICT (case_id) DO NOTHING`,
		w.caseIDs, w.missions, enumcode.Code(counselling), w.created)
}
