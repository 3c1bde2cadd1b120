package handover

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// applyIntakeEvent applies one event: the consumer's fallback when a drain's batch fails, so
// that a poison event is found and held back alone. It is the batch form with one record.
func applyIntakeEvent(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	return applyIntakeEvents(ctx, tx, []outbox.Record{r})
}

// applyIntakeEvents keeps the projection of intake's cases in step, inside the consumer's
// transaction, for one drain's events at once: every programme's cases (a hand-over is every
// programme's), each upserted from the newest of its events in the drain under the mission its
// events were recorded for (intakecase.Project, one round trip for all three). An event older
// than the row (by intake's version) changes nothing.
func applyIntakeEvents(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	return intakecase.Project(ctx, tx, records, queueCases, commonv1.Programme_PROGRAMME_AVRR,
		commonv1.Programme_PROGRAMME_VOT, commonv1.Programme_PROGRAMME_HASM)
}

// queueCases adds the upsert of one mission's cases to b, as one multi-row statement. The
// principal's DATA_SHARING consents in force are kept by id, as a text of comma-joined ids (an
// array of arrays cannot be ragged; a uuid never holds a comma).
func queueCases(b *pgx.Batch, cases []*intakev1.Case) {
	var (
		ids, missions, programmes, statuses, principals, consents []string
		versions                                                  []int64
	)
	for _, c := range cases {
		ids = append(ids, c.GetCaseId())
		missions = append(missions, c.GetMission())
		programmes = append(programmes, programmeCode(c.GetProgramme()))
		statuses = append(statuses, enumcode.Code(c.GetStatus()))
		principals = append(principals, c.GetSubjectId())
		versions = append(versions, c.GetVersion())
		consents = append(consents, strings.Join(sharingConsents(c), ","))
	}
	b.Queue(`INSERT INTO handover."case" AS x (case_id, mission, programme, intake_status, intake_version,
principal_subject_id, sharing_consents)
SELECT c, m, p, s, v, pr, string_to_array(k, ',')::uuid[]
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::uuid[], $7::text[]) AS t(c, m, p, s, v, pr, k)
ON CONFLICT (case_id) DO UPDATE SET intake_status = EXCLUDED.intake_status, intake_version = EXCLUDED.intake_version,
sharing_consents = EXCLUDED.sharing_consents
WHERE x.intake_version < EXCLUDED.intake_version`,
		ids, missions, programmes, statuses, versions, principals, consents)
}

// sharingConsents are the ids of the principal's DATA_SHARING consent records in force, as
// intake derived them.
func sharingConsents(c *intakev1.Case) []string {
	var out []string
	for _, r := range c.GetConsents() {
		if r.GetInForce() && r.GetSubjectId() == c.GetSubjectId() &&
			r.GetPurpose() == commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING {
			if _, err := uuid.Parse(r.GetConsentId()); err == nil {
				out = append(out, r.GetConsentId())
			}
		}
	}
	return out
}
