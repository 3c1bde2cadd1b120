package hasm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// applyEvent applies one event of the consumer: intake's to the case projection, a hand-over
// acceptance to hasm.part; each passes over the other's.
func applyEvent(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	if err := applyIntakeEvent(ctx, tx, r); err != nil {
		return err
	}
	return projectGrants(ctx, tx, []outbox.Record{r})
}

// applyEvents applies one drain of the consumer in one transaction, as applyEvent does.
func applyEvents(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	if err := applyIntakeEvents(ctx, tx, records); err != nil {
		return err
	}
	return projectGrants(ctx, tx, records)
}

// applyIntakeEvent writes a HASM case, as an intake event describes it, into the projection.
// Cases of other programmes are passed over. An event older than the projected version is
// ignored, so a replayed event never undoes a newer one. assistance_allowed follows the
// principal's ASSISTANCE consent as intake derived it.
func applyIntakeEvent(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	c, err := intakecase.Decode(r)
	if err != nil {
		return err
	}
	if c.GetProgramme() != commonv1.Programme_PROGRAMME_HASM {
		return nil
	}
	// The consumer's transaction reads every mission's events; this event's rows are written
	// under the mission it was recorded for, which row-level security checked then.
	b := &pgx.Batch{}
	database.QueueMission(b, r.Mission)
	var applied bool
	b.Queue(`INSERT INTO hasm."case" (case_id, mission, intake_status, intake_version,
principal_subject_id, host_country, vulnerabilities, assistance_allowed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (case_id) DO UPDATE SET mission = EXCLUDED.mission, intake_status = EXCLUDED.intake_status,
intake_version = EXCLUDED.intake_version, principal_subject_id = EXCLUDED.principal_subject_id,
host_country = EXCLUDED.host_country, vulnerabilities = EXCLUDED.vulnerabilities,
assistance_allowed = EXCLUDED.assistance_allowed
WHERE hasm."case".intake_version < EXCLUDED.intake_version
RETURNING true`,
		c.GetCaseId(), c.GetMission(), enumcode.Code(c.GetStatus()), c.GetVersion(), c.GetSubjectId(),
		c.GetHostCountry(), intakecase.VulnerabilityCodes(c.GetVulnerabilities()), consent.AssistanceAllowed(c)).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&applied); !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil // an older event than the row
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("project case: %w", err)
	}
	if !applied {
		return nil
	}
	members := append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...)
	n := len(members)
	positions, subjects := make([]int16, n), make([]string, n)
	sexes, bands, nationalities := make([]string, n), make([]string, n), make([]*string, n)
	for i, m := range members {
		positions[i], subjects[i] = int16(i), m.GetSubjectId()
		sexes[i], bands[i] = intakecase.SexCode(m.GetSex()), intakecase.AgeBandCode(m.GetAgeBand())
		if m.GetNationality() != "" {
			nationalities[i] = &m.Nationality
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hasm.case_member (case_id, position, subject_id, sex, age_band, nationality)
SELECT $1, p, s, x, a, n FROM unnest($2::smallint[], $3::uuid[], $4::text[], $5::text[], $6::text[]) AS t(p, s, x, a, n)
ON CONFLICT (case_id, position) DO UPDATE SET sex = EXCLUDED.sex, age_band = EXCLUDED.age_band,
nationality = EXCLUDED.nationality`,
		c.GetCaseId(), positions, subjects, sexes, bands, nationalities); err != nil {
		return fmt.Errorf("project case members: %w", err)
	}
	return nil
}

// catchUpWait bounds how long a request waits for intake's events to become readable.
const catchUpWait = 3 * time.Second

// CatchUp applies every intake event committed so far to the case projection (see
// outbox.Consumer.CatchUp for why one drain may not be enough).
func (s *Service) CatchUp(ctx context.Context) error {
	return s.consumer.CatchUp(ctx, catchUpWait)
}

// findCase reads a case the mission may make a request for: its own, unless another mission
// holds the case's RECEPTION (handoverpart.Refusal), or one whose RECEPTION it holds. On a miss
// it catches up with the consumer once and reads again, so a case registered, or a hand-over
// accepted, a moment ago is found (or, should intake's event stay out of reach, answered
// UNAVAILABLE rather than NOT_FOUND).
func (s *Service) findCase(ctx context.Context, mission string, caseID uuid.UUID) (*projectedCase, error) {
	var c *projectedCase
	err := intakecase.Await(ctx, s.consumer, caseID, catchUpWait, isCaseNotFound, func() error {
		q := s.db.Mission(mission)
		found, err := getCase(ctx, q, "", caseID)
		if err != nil {
			return err
		}
		part, _ := stepPart(hasmv1.StrandedMigrantService_RequestAssistance_FullMethodName, false)
		if err := handedOver(ctx, q, found.mission, mission, caseID, part); err != nil {
			return err
		}
		c = found
		return nil
	})
	return c, err
}

// catchUpConsent applies any consent change intake committed for the case, and any acceptance
// of a hand-over of it, before the service acts on it, so that a withdrawal and a hand-over
// take effect at once (see handoverpart.CatchUp).
func (s *Service) catchUpConsent(ctx context.Context, caseID uuid.UUID) error {
	return handoverpart.CatchUp(ctx, s.consumer, caseID, catchUpWait)
}
