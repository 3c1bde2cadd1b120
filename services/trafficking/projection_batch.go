package trafficking

import (
	"context"
	"fmt"
	"strings"
	"time"

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

// projectBatch applies one drain's intake events with the end state of project on each in
// turn, in one round trip: for each mission the drain touches, its declaration, then up to
// three multi-row statements.
//
// A VoT case twice in the drain is written once. project writes an event's attributes over the
// row only when the event is newer than the row's intake version, so the case's newest event
// stands (between equal versions, the first in commit order), under the same guard against the
// row, and the insert of a case new to the projection takes its registration time from its
// first event. Every event is still read in
// full, so one project would refuse (a subject id that is not a UUID) fails the batch too; a
// superseded one only the database would refuse (a host country out of its CHECK) is not
// tried: intake never writes one, and the consumer falls back to one event at a time for any
// error the batch does meet.
//
// A link (a case of another programme opened from a VoT case) matches the VoT case only if its
// row exists when the link's event comes. Links that come before any event of their VoT case in
// the drain are therefore written before the drain's upserts, as the projection stood; those
// after one, after the upserts; each set in commit order, a case linked once.
//
// The drain's accepted hand-overs of VoT cases are written to the grants after the cases, in
// one more round trip when there are any (handoverpart.Project); each handler passes over the
// other's events.
func projectBatch(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	if err := projectCases(ctx, tx, records); err != nil {
		return err
	}
	return handoverpart.Project(ctx, tx, records, partTable, commonv1.Programme_PROGRAMME_VOT)
}

// projectCases is projectBatch's part for intake's events.
func projectCases(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
	var missions []string
	byMission := map[string]*victimRows{}
	rowsOf := func(mission string) *victimRows {
		w, ok := byMission[mission]
		if !ok {
			w = &victimRows{}
			byMission[mission] = w
			missions = append(missions, mission)
		}
		return w
	}
	type victim struct {
		mission     string // the mission the case's events were recorded under
		first, last *intakev1.Case
		people      people // of last
	}
	var victims []victim // in the order of each case's first event
	index := map[string]int{}
	for _, r := range records {
		c, err := intakecase.Decode(r)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		if c.GetProgramme() != commonv1.Programme_PROGRAMME_VOT {
			from := c.GetOpenedFromCaseId()
			if from == "" {
				continue
			}
			w := rowsOf(r.Mission)
			if i, ok := index[from]; ok && victims[i].mission == r.Mission {
				w.after.add(from, c.GetCaseId())
			} else {
				w.before.add(from, c.GetCaseId())
			}
			continue
		}
		p, err := peopleOf(c)
		if err != nil {
			return err
		}
		i, seen := index[c.GetCaseId()]
		if !seen {
			index[c.GetCaseId()] = len(victims)
			victims = append(victims, victim{mission: r.Mission, first: c, last: c, people: p})
			rowsOf(r.Mission)
			continue
		}
		v := &victims[i]
		if v.mission != r.Mission || v.first.GetMission() != c.GetMission() {
			return intakecase.ErrMixedMissions
		}
		if c.GetVersion() > v.last.GetVersion() {
			v.last, v.people = c, p
		}
	}
	for _, v := range victims {
		byMission[v.mission].add(v.first, v.last, v.people)
	}
	if len(missions) == 0 {
		return nil
	}
	// The consumer's transaction reads every mission's events; each mission's rows are written
	// under the mission their events were recorded for, which row-level security checked then.
	b := &pgx.Batch{}
	for _, m := range missions {
		database.QueueMission(b, m)
		byMission[m].queue(b)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("project cases: %w", err)
	}
	return nil
}

// victimRows are the columns of one mission's VoT cases, their members and the links to them,
// as arrays for multi-row statements.
type victimRows struct {
	caseIDs, missions, hosts, vulnerabilities, intakeStatuses []string
	registrationDates, registered                             []time.Time
	assistance                                                []bool
	versions                                                  []int64

	// The members of every case, one element each, in position order.
	memberCases                 []string
	subjects                    []uuid.UUID
	sexes, bands, nationalities []string

	before, after links
}

// vulnerabilitySep joins a case's vulnerability codes into one array element: enum codes are
// upper-case letters, digits and underscores, never a comma.
const vulnerabilitySep = ","

// add adds a case as its last event in the drain describes it, first being its first (which
// gives the registration time of a case new to the projection).
func (w *victimRows) add(first, last *intakev1.Case, p people) {
	w.caseIDs = append(w.caseIDs, last.GetCaseId())
	w.missions = append(w.missions, last.GetMission())
	w.hosts = append(w.hosts, last.GetHostCountry())
	w.vulnerabilities = append(w.vulnerabilities,
		strings.Join(intakecase.VulnerabilityCodes(last.GetVulnerabilities()), vulnerabilitySep))
	w.registrationDates = append(w.registrationDates, civildate.ToTime(last.GetRegistrationDate()))
	w.intakeStatuses = append(w.intakeStatuses, enumcode.Code(last.GetStatus()))
	w.registered = append(w.registered, first.GetCreateTime().AsTime())
	w.assistance = append(w.assistance, consent.AssistanceAllowed(last))
	w.versions = append(w.versions, last.GetVersion())
	for range p.subjects {
		w.memberCases = append(w.memberCases, last.GetCaseId())
	}
	w.subjects = append(w.subjects, p.subjects...)
	w.sexes = append(w.sexes, p.sexes...)
	w.bands = append(w.bands, p.bands...)
	w.nationalities = append(w.nationalities, p.nationalities...)
}

// queue adds the mission's statements to b: the links that come before their VoT case's
// events, the upsert of the cases (queueUpsertProjection's columns, the members aggregated back
// into the row's arrays in position order), then the links that come after.
func (w *victimRows) queue(b *pgx.Batch) {
	w.before.queue(b)
	if len(w.caseIDs) > 0 {
		b.Queue(`INSERT INTO trafficking.victim_case AS x (case_id, mission, status, version, subject_ids, sexes, age_bands,
nationalities, host_country, vulnerabilities, registration_date, intake_status, registered_at, updated_at, assistance_allowed,
intake_version)
SELECT t.c, t.m, 'AWAITING_SCREENING', 1, p.subjects, p.sexes, p.bands, p.nationalities, t.h,
  string_to_array(t.u, '`+vulnerabilitySep+`'), t.d, t.s, t.r, t.r, t.a, t.v
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::timestamptz[], $8::boolean[],
  $14::bigint[]) AS t(c, m, h, u, d, s, r, a, v)
JOIN (SELECT c, array_agg(s ORDER BY o) AS subjects, array_agg(g ORDER BY o) AS sexes,
        array_agg(b ORDER BY o) AS bands, array_agg(n ORDER BY o) AS nationalities
      FROM unnest($9::uuid[], $10::uuid[], $11::text[], $12::text[], $13::text[]) WITH ORDINALITY AS mm(c, s, g, b, n, o)
      GROUP BY c) AS p ON p.c = t.c
ON CONFLICT (case_id) DO UPDATE SET subject_ids = EXCLUDED.subject_ids, sexes = EXCLUDED.sexes,
age_bands = EXCLUDED.age_bands, nationalities = EXCLUDED.nationalities, host_country = EXCLUDED.host_country,
vulnerabilities = EXCLUDED.vulnerabilities, registration_date = EXCLUDED.registration_date,
intake_status = EXCLUDED.intake_status, assistance_allowed = EXCLUDED.assistance_allowed,
intake_version = EXCLUDED.intake_version
WHERE x.intake_version < EXCLUDED.intake_version`,
			w.caseIDs, w.missions, w.hosts, w.vulnerabilities, w.registrationDates, w.intakeStatuses, w.registered, w.assistance,
			w.memberCases, w.subjects, w.sexes, w.bands, w.nationalities, w.versions)
	}
	w.after.queue(b)
}

// links are cases opened from VoT cases, in commit order, each (VoT case, case) pair once.
type links struct {
	from, cases []string
	seen        map[[2]string]bool
}

func (l *links) add(from, caseID string) {
	k := [2]string{from, caseID}
	if l.seen[k] {
		return
	}
	if l.seen == nil {
		l.seen = map[[2]string]bool{}
	}
	l.seen[k] = true
	l.from, l.cases = append(l.from, from), append(l.cases, caseID)
}

// queue adds queueLink's update for every pair, one statement: each VoT case gets the cases not
// linked to it yet appended in commit order, and a case whose links are all there is not
// touched.
func (l *links) queue(b *pgx.Batch) {
	if len(l.from) == 0 {
		return
	}
	b.Queue(`UPDATE trafficking.victim_case AS v
SET linked_case_ids = v.linked_case_ids
  || ARRAY(SELECT x FROM unnest(l.ids) WITH ORDINALITY AS u(x, o) WHERE x <> ALL (v.linked_case_ids) ORDER BY o)
FROM (SELECT f, array_agg(c ORDER BY o) AS ids
      FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS t(f, c, o) GROUP BY f) AS l
WHERE v.case_id = l.f AND NOT (l.ids <@ v.linked_case_ids)`, l.from, l.cases)
}
