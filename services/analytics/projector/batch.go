package projector

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/intakecase"
	"github.com/passage-cm/passage/internal/outbox"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// ApplyBatch applies one drain's events, in commit order, with the effect of Apply on each in
// turn. Runs of intake's case events (most of the traffic: a registration is one) are written
// together, as a segment: two round trips for the whole run, whatever its size and missions,
// instead of three or four per event. A segment ends before a case it already holds, so that
// every case in it is applied from exactly one event, as Apply would apply it, and the cases
// of a segment, being independent of each other, may be written in any order. Every other
// event is applied alone with Apply, after the segment before it: it reads the state that
// segment wrote.
func ApplyBatch(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	seg := &segment{}
	for _, r := range records {
		m, err := r.Decode()
		if err != nil {
			return err
		}
		if c := intakecase.Of(m); c != nil {
			if seg.holds(c.GetCaseId()) {
				if err := seg.apply(ctx, tx); err != nil {
					return err
				}
				seg = &segment{}
			}
			seg.add(r, c)
			continue
		}
		if err := seg.apply(ctx, tx); err != nil {
			return err
		}
		seg = &segment{}
		if err := Apply(ctx, tx, r); err != nil {
			return err
		}
	}
	return seg.apply(ctx, tx)
}

// segment is a run of case events, at most one per case, grouped by the mission each event was
// recorded under (row-level security holds each mission's rows to its own declaration).
type segment struct {
	missions []string
	cases    map[string][]caseEvent // by mission
	seen     map[string]bool        // case ids
}

type caseEvent struct {
	event int64
	c     *intakev1.Case
}

func (s *segment) holds(caseID string) bool { return s.seen[caseID] }

func (s *segment) add(r outbox.Record, c *intakev1.Case) {
	if s.cases == nil {
		s.cases, s.seen = map[string][]caseEvent{}, map[string]bool{}
	}
	if _, ok := s.cases[r.Mission]; !ok {
		s.missions = append(s.missions, r.Mission)
	}
	s.cases[r.Mission] = append(s.cases[r.Mission], caseEvent{event: r.ID, c: c})
	s.seen[c.GetCaseId()] = true
}

// apply writes the segment as caseEvent does each case. First round trip: every mission's
// cases upserted, one statement per mission, returning the cases the events were newer than
// (an older event changes nothing) and whether each one's registration was counted. Second:
// those cases' members, the registrations now counted flagged, and their facts appended and
// added to the rollup, one statement each.
func (s *segment) apply(ctx context.Context, tx pgx.Tx) error {
	if len(s.missions) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, m := range s.missions {
		database.QueueMission(b, m)
		queueCases(b, s.cases[m])
	}
	br := tx.SendBatch(ctx, b)
	applied := map[string]map[string]bool{} // mission -> case id -> registration counted
	for _, m := range s.missions {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("analytics projector: declare mission: %w", err)
		}
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return fmt.Errorf("analytics projector: cases: %w", err)
		}
		applied[m] = map[string]bool{}
		var id string
		var counted bool
		_, err = pgx.ForEachRow(rows, []any{&id, &counted}, func() error { applied[m][id] = counted; return nil })
		if err != nil {
			br.Close()
			return fmt.Errorf("analytics projector: cases: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("analytics projector: cases: %w", err)
	}

	b = &pgx.Batch{}
	var facts registrations
	for _, m := range s.missions {
		var members memberRows
		var counted []string
		for _, e := range s.cases[m] {
			wasCounted, ok := applied[m][strings.ToLower(e.c.GetCaseId())]
			if !ok {
				continue // an older event than the one applied
			}
			members.add(e.c)
			if !wasCounted && e.c.GetPrincipal().GetInStatistics() {
				counted = append(counted, e.c.GetCaseId())
				facts.add(e.event, e.c)
			}
		}
		if len(members.caseIDs) == 0 {
			continue
		}
		database.QueueMission(b, m)
		members.queue(b)
		if len(counted) > 0 {
			b.Queue(`UPDATE analytics_state."case" SET registration_counted = true WHERE case_id = ANY($1::uuid[])`, counted)
		}
	}
	if len(facts.events) > 0 {
		facts.queue(b)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("analytics projector: members and registrations: %w", err)
	}
	return nil
}

// setSep joins a set of codes into one array element: codes are upper-case letters, digits
// and underscores, never a comma.
const setSep = ","

func queueCases(b *pgx.Batch, cases []caseEvent) {
	n := len(cases)
	ids, missions, programmes, hosts, vulns := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	versions, years := make([]int64, n), make([]int32, n)
	for i, e := range cases {
		c := e.c
		ids[i], missions[i], programmes[i], hosts[i] = c.GetCaseId(), c.GetMission(), programme(c.GetProgramme()), c.GetHostCountry()
		vulns[i] = strings.Join(vulnerabilities(c.GetVulnerabilities()), setSep)
		versions[i], years[i] = c.GetVersion(), c.GetRegistrationDate().GetYear()
	}
	b.Queue(`INSERT INTO analytics_state."case" AS x (case_id, mission, programme, intake_version,
host_country, vulnerabilities, registration_year)
SELECT c, m, p, v, h, string_to_array(u, '`+setSep+`'), y
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::int[]) AS t(c, m, p, v, h, u, y)
ON CONFLICT (case_id) DO UPDATE SET intake_version = EXCLUDED.intake_version, host_country = EXCLUDED.host_country,
vulnerabilities = EXCLUDED.vulnerabilities
WHERE x.intake_version < EXCLUDED.intake_version
RETURNING case_id::text, registration_counted`, ids, missions, programmes, versions, hosts, vulns, years)
}

// memberRows are the people of a mission's applied cases, as arrays.
type memberRows struct {
	caseIDs, missions, subjects, sexes, bands, nationalities []string
	positions                                                []int32
	inStatistics                                             []bool
}

func (w *memberRows) add(c *intakev1.Case) {
	for i, m := range append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...) {
		w.caseIDs = append(w.caseIDs, c.GetCaseId())
		w.missions = append(w.missions, c.GetMission())
		w.positions = append(w.positions, int32(i))
		w.subjects = append(w.subjects, m.GetSubjectId())
		w.sexes = append(w.sexes, sex(m.GetSex()))
		w.bands = append(w.bands, ageBand(m.GetAgeBand()))
		w.nationalities = append(w.nationalities, orUnknown(m.GetNationality()))
		w.inStatistics = append(w.inStatistics, m.GetInStatistics())
	}
}

func (w *memberRows) queue(b *pgx.Batch) {
	b.Queue(`INSERT INTO analytics_state.member (case_id, mission, position, subject_id, sex, age_band, nationality, in_statistics)
SELECT c, m, p, s, g, a, n, y
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::boolean[]) AS t(c, m, p, s, g, a, n, y)
ON CONFLICT (case_id, subject_id) DO UPDATE SET position = EXCLUDED.position, sex = EXCLUDED.sex,
age_band = EXCLUDED.age_band, nationality = EXCLUDED.nationality, in_statistics = EXCLUDED.in_statistics`,
		w.caseIDs, w.missions, w.positions, w.subjects, w.sexes, w.bands, w.nationalities, w.inStatistics)
}

// registrations are the CASES_REGISTERED facts of a segment, each its event's fact 0, as count
// records them.
type registrations struct {
	events                                                          []int64
	years                                                           []int32
	programmes, sexes, bands, nationalities, hosts, vulnerabilities []string
}

func (f *registrations) add(event int64, c *intakev1.Case) {
	pr := c.GetPrincipal()
	f.events = append(f.events, event)
	f.years = append(f.years, c.GetRegistrationDate().GetYear())
	f.programmes = append(f.programmes, programme(c.GetProgramme()))
	f.sexes = append(f.sexes, sex(pr.GetSex()))
	f.bands = append(f.bands, ageBand(pr.GetAgeBand()))
	f.nationalities = append(f.nationalities, orUnknown(pr.GetNationality()))
	f.hosts = append(f.hosts, orUnknown(c.GetHostCountry()))
	f.vulnerabilities = append(f.vulnerabilities, strings.Join(vulnerabilities(c.GetVulnerabilities()), setSep))
}

// queue appends the facts and adds the ones appended now (an event's fact recorded already
// adds nothing) to their rollup rows, one per distinct key, in one statement.
func (f *registrations) queue(b *pgx.Batch) {
	b.Queue(`WITH f AS (
  INSERT INTO analytics.fact (event_id, ordinal, measure, year, programme, sex, age_band, nationality, host_country,
    return_country, vulnerabilities, assistance_type, exploitation_types, means_of_control,
    referral_status, partner_type, referral_direction)
  SELECT e, 0, $1, y, p, s, a, n, h, '', string_to_array(u, '`+setSep+`'), '', '{}', '{}', '', '', ''
  FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) AS t(e, y, p, s, a, n, h, u)
  ON CONFLICT (event_id, measure, ordinal) DO NOTHING
  RETURNING measure, year, programme, sex, age_band, nationality, host_country, return_country, vulnerabilities,
    assistance_type, exploitation_types, referral_status, partner_type, referral_direction)
INSERT INTO analytics.rollup AS x (measure, year, programme, sex, age_band, nationality, host_country,
  return_country, vulnerabilities, assistance_type, exploitation_types, referral_status, partner_type,
  referral_direction, persons)
SELECT measure, year, programme, sex, age_band, nationality, host_country, return_country, vulnerabilities,
  assistance_type, exploitation_types, referral_status, partner_type, referral_direction, count(*)
FROM f
GROUP BY measure, year, programme, sex, age_band, nationality, host_country, return_country, vulnerabilities,
  assistance_type, exploitation_types, referral_status, partner_type, referral_direction
ON CONFLICT (measure, year, programme, sex, age_band, nationality, host_country, return_country,
  vulnerabilities, assistance_type, exploitation_types, referral_status, partner_type, referral_direction)
DO UPDATE SET persons = x.persons + EXCLUDED.persons, tx_id = pg_current_xact_id()`,
		CasesRegistered, f.events, f.years, f.programmes, f.sexes, f.bands, f.nationalities, f.hosts, f.vulnerabilities)
}
