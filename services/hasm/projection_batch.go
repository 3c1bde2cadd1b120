package hasm

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// applyIntakeEvents applies one drain's intake events with the end state of applyIntakeEvent
// on each in turn, in one round trip: the drain's HASM cases are written mission by mission,
// each mission's declaration followed by two multi-row statements, the upsert of its cases
// and of their members.
//
// A case twice in the drain is written once, from its newest event by intake's version
// (intakecase.Newest, which also fails a drain naming two missions for one case): one at
// a time, an event no newer than the row changes nothing, so between events of equal version
// the first in commit order is the one that stands. The upsert keeps the same guard against
// the row (an event older than the projection is ignored), and members are written only for
// the cases whose row now has the version of their event: the cases the upsert applied. (One
// at a time a replayed event of the row's own version writes no members; here it writes them
// again, with the values intake gave that version, which are the ones already there.)
//
// Only the newest event of a case is written, so an older one of the same drain that the
// database would refuse on its own is not tried: intake never writes one, and the consumer
// falls back to one event at a time for any error the batch does meet.
func applyIntakeEvents(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	return intakecase.Project(ctx, tx, records, func(b *pgx.Batch, cases []*intakev1.Case) {
		var rows caseRows
		for _, c := range cases {
			rows.add(c)
		}
		rows.queue(b)
	}, commonv1.Programme_PROGRAMME_HASM)
}

// caseRows are the columns of one mission's cases and their members, as arrays for multi-row
// statements.
type caseRows struct {
	caseIDs, missions, statuses, principals, hosts, vulnerabilities []string
	versions                                                        []int64
	assistance                                                      []bool

	memberCases, subjects, sexes, bands []string
	positions                           []int16
	nationalities                       []*string
	memberVersions                      []int64
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
	w.vulnerabilities = append(w.vulnerabilities, strings.Join(intakecase.VulnerabilityCodes(c.GetVulnerabilities()), vulnerabilitySep))
	w.assistance = append(w.assistance, consent.AssistanceAllowed(c))

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
	}
}

// queue adds the upserts of the cases and of their members to b, with applyIntakeEvent's
// columns and guard.
func (w *caseRows) queue(b *pgx.Batch) {
	b.Queue(`INSERT INTO hasm."case" AS x (case_id, mission, intake_status, intake_version,
principal_subject_id, host_country, vulnerabilities, assistance_allowed)
SELECT c, m, s, v, p, h, string_to_array(u, '`+vulnerabilitySep+`'), a
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::uuid[], $6::text[], $7::text[], $8::boolean[]) AS t(c, m, s, v, p, h, u, a)
ON CONFLICT (case_id) DO UPDATE SET mission = EXCLUDED.mission, intake_status = EXCLUDED.intake_status,
intake_version = EXCLUDED.intake_version, principal_subject_id = EXCLUDED.principal_subject_id,
host_country = EXCLUDED.host_country, vulnerabilities = EXCLUDED.vulnerabilities,
assistance_allowed = EXCLUDED.assistance_allowed
WHERE x.intake_version < EXCLUDED.intake_version`,
		w.caseIDs, w.missions, w.statuses, w.versions, w.principals, w.hosts, w.vulnerabilities, w.assistance)

	// Only a case the statement above applied (its row has its event's version now) has its
	// members written, as applyIntakeEvent writes them only after an applied upsert.
	b.Queue(`INSERT INTO hasm.case_member AS x (case_id, position, subject_id, sex, age_band, nationality)
SELECT c, p, s, g, a, n
FROM unnest($1::uuid[], $2::smallint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS t(c, p, s, g, a, n, v)
WHERE t.v = (SELECT k.intake_version FROM hasm."case" k WHERE k.case_id = t.c)
ON CONFLICT (case_id, position) DO UPDATE SET sex = EXCLUDED.sex, age_band = EXCLUDED.age_band,
nationality = EXCLUDED.nationality`,
		w.memberCases, w.positions, w.subjects, w.sexes, w.bands, w.nationalities, w.memberVersions)
}
