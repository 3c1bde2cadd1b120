package trafficking

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// project applies one event to the victim cases, inside the consumer's transaction. A VoT case
// is inserted when first seen and its intake attributes kept up to date after; the VoT facts on
// it are never touched here. A case of another programme opened from a VoT case
// (intake.OpenCase: a victim returning through AVRR) is linked to it by id. An accepted
// hand-over of a VoT case is written to the grants (handoverpart.Project). Everything else is
// passed over.
func project(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	if err := handoverpart.Project(ctx, tx, []outbox.Record{r}, partTable, commonv1.Programme_PROGRAMME_VOT); err != nil {
		return err
	}
	c, err := intakecase.Decode(r)
	if err != nil {
		return err
	}
	if c == nil {
		return nil
	}
	// The consumer's transaction reads every mission's events; what this one implies is
	// written under the mission it was recorded for, which row-level security checked then.
	b := &pgx.Batch{}
	database.QueueMission(b, r.Mission)
	if c.GetProgramme() != commonv1.Programme_PROGRAMME_VOT {
		from := c.GetOpenedFromCaseId()
		if from == "" {
			return nil
		}
		queueLink(b, from, c.GetCaseId())
	} else if err := queueUpsertProjection(b, c); err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("project case %s: %w", c.GetCaseId(), err)
	}
	return nil
}

// queueUpsertProjection queues the write of the intake attributes of a VoT case: a new case
// awaits screening. assistance_allowed follows the principal's ASSISTANCE consent as intake
// derived it. An event no newer than the row's intake version changes nothing.
func queueUpsertProjection(b *pgx.Batch, c *intakev1.Case) error {
	p, err := peopleOf(c)
	if err != nil {
		return err
	}
	subjects, sexes, bands, nationalities := p.subjects, p.sexes, p.bands, p.nationalities
	registered := c.GetCreateTime().AsTime()
	b.Queue(`INSERT INTO trafficking.victim_case AS x (case_id, mission, status, version, subject_ids, sexes, age_bands,
nationalities, host_country, vulnerabilities, registration_date, intake_status, registered_at, updated_at, assistance_allowed,
intake_version)
VALUES ($1, $2, 'AWAITING_SCREENING', 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)
ON CONFLICT (case_id) DO UPDATE SET subject_ids = $3, sexes = $4, age_bands = $5, nationalities = $6,
host_country = $7, vulnerabilities = $8, registration_date = $9, intake_status = $10, assistance_allowed = $12,
intake_version = $13
WHERE x.intake_version < $13`,
		c.GetCaseId(), c.GetMission(), subjects, sexes, bands, nationalities, c.GetHostCountry(),
		intakecase.VulnerabilityCodes(c.GetVulnerabilities()), civildate.ToTime(c.GetRegistrationDate()),
		enumcode.Code(c.GetStatus()), registered, consent.AssistanceAllowed(c), c.GetVersion())
	return nil
}

// people are the members of a case, position 0 the principal, as the parallel arrays of
// trafficking.victim_case.
type people struct {
	subjects                    []uuid.UUID
	sexes, bands, nationalities []string
}

// peopleOf reads the members of c; a subject id that is not a UUID is an error.
func peopleOf(c *intakev1.Case) (people, error) {
	members := append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...)
	n := len(members)
	p := people{subjects: make([]uuid.UUID, n), sexes: make([]string, n), bands: make([]string, n), nationalities: make([]string, n)}
	for i, m := range members {
		id, err := uuid.Parse(m.GetSubjectId())
		if err != nil {
			return people{}, fmt.Errorf("case %s: member %d: subject id: %w", c.GetCaseId(), i, err)
		}
		p.subjects[i] = id
		p.sexes[i], p.bands[i], p.nationalities[i] = intakecase.SexCode(m.GetSex()), intakecase.AgeBandCode(m.GetAgeBand()), m.GetNationality()
	}
	return p, nil
}

// queueLink queues the record that case was opened from a VoT case; a case opened from a case
// of another programme (or, were it possible, of another mission) matches no row and changes
// nothing.
func queueLink(b *pgx.Batch, from, caseID string) {
	b.Queue(`UPDATE trafficking.victim_case SET linked_case_ids = array_append(linked_case_ids, $2)
WHERE case_id = $1 AND NOT ($2 = ANY (linked_case_ids))`, from, caseID)
}
