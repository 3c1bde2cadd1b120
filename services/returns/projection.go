package returns

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// applyIntakeEvent keeps returns' projection of AVRR cases in step with intake, inside the
// consumer's transaction: every event carries the whole pseudonymised case, so each one is
// applied as an upsert, and a return in COUNSELLING is opened for a case seen the first
// time. Cases of other programmes are passed over: a victim of trafficking who returns
// through AVRR gets an AVRR case of its own (intake.OpenCase), under the same subject ids.
func applyIntakeEvent(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	m, err := r.Decode()
	if err != nil {
		return err
	}
	c := intakecase.Of(m)
	if c == nil {
		return nil
	}
	if c.GetProgramme() != commonv1.Programme_PROGRAMME_AVRR {
		return nil
	}
	b := &pgx.Batch{}
	// The consumer's transaction reads every mission's events; this event's rows are written
	// under the mission the event was recorded for, which row-level security checked then.
	database.QueueMission(b, r.Mission)
	queueUpsertCase(b, c)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("project case: %w", err)
	}
	return nil
}

// queueUpsertCase adds the upsert of a case, its members and its return to b. An event older
// than the row (by intake's version) leaves the case as it is. assistance_allowed follows the
// principal's ASSISTANCE consent as intake derived it.
func queueUpsertCase(b *pgx.Batch, c *intakev1.Case) {
	b.Queue(`INSERT INTO returns."case" AS x (case_id, mission, intake_status, intake_version, principal_subject_id,
host_country, vulnerabilities, assistance_allowed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (case_id) DO UPDATE SET intake_status = EXCLUDED.intake_status, intake_version = EXCLUDED.intake_version,
host_country = EXCLUDED.host_country, vulnerabilities = EXCLUDED.vulnerabilities,
assistance_allowed = EXCLUDED.assistance_allowed
WHERE x.intake_version < EXCLUDED.intake_version`,
		c.GetCaseId(), c.GetMission(), enumcode.Code(c.GetStatus(), caseStatusPrefix), c.GetVersion(), c.GetSubjectId(),
		c.GetHostCountry(), enumcode.Codes(c.GetVulnerabilities(), vulnerabilityPrefix), consent.AssistanceAllowed(c))

	members := append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...)
	n := len(members)
	positions, subjects := make([]int16, n), make([]string, n)
	sexes, bands, nationalities := make([]string, n), make([]string, n), make([]*string, n)
	assisted := make([]bool, n)
	for i, m := range members {
		positions[i], subjects[i] = int16(i), m.GetSubjectId()
		sexes[i], bands[i] = enumcode.Code(m.GetSex(), sexPrefix), enumcode.Code(m.GetAgeBand(), ageBandPrefix)
		if m.GetNationality() != "" {
			nationalities[i] = &m.Nationality
		}
		assisted[i] = consent.MemberAssistanceAllowed(c, m.GetSubjectId())
	}
	// Intake corrects the principal's coded attributes and consent changes whom the case may
	// assist; the members themselves never change.
	b.Queue(`INSERT INTO returns.case_member AS x (case_id, position, subject_id, sex, age_band, nationality, assistance_allowed)
SELECT $1, p, s, g, a, n, y FROM unnest($2::smallint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $8::boolean[]) AS t(p, s, g, a, n, y)
ON CONFLICT (case_id, position) DO UPDATE SET sex = EXCLUDED.sex, age_band = EXCLUDED.age_band, nationality = EXCLUDED.nationality,
assistance_allowed = EXCLUDED.assistance_allowed
WHERE (SELECT intake_version FROM returns."case" WHERE case_id = $1) = $7`,
		c.GetCaseId(), positions, subjects, sexes, bands, nationalities, c.GetVersion(), assisted)

	b.Queue(`INSERT INTO returns."return" (case_id, mission, status, version, created_at, updated_at)
VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT (case_id) DO NOTHING`,
		c.GetCaseId(), c.GetMission(), enumcode.Code(counselling, statusPrefix), c.GetCreateTime().AsTime())
}
