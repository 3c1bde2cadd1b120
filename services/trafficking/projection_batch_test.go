package trafficking

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/projectiontest"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

var registeredOn = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

// victim is a VoT case of version v with a household of one (without a nationality), the
// principal's ASSISTANCE consent in force or, withdrawn, not. Its subject ids follow from its
// id.
func victim(id, mission string, v int64, status intakev1.CaseStatus, assistance bool) *intakev1.Case {
	principal, child := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id+"p")).String(), uuid.NewSHA1(uuid.NameSpaceOID, []byte(id+"c")).String()
	return &intakev1.Case{
		CaseId: id, Mission: mission, Programme: commonv1.Programme_PROGRAMME_VOT, Status: status, Version: v,
		SubjectId: principal, HostCountry: mission, CreateTime: timestamppb.New(registeredOn),
		RegistrationDate: &date.Date{Year: 2026, Month: 1, Day: 10},
		Vulnerabilities:  []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS, commonv1.Vulnerability_VULNERABILITY_OLDER_PERSON},
		Principal:        &intakev1.CaseMember{SubjectId: principal, Sex: commonv1.Sex_SEX_FEMALE, AgeBand: commonv1.AgeBand_AGE_BAND_27_29, Nationality: "NGA"},
		HouseholdMembers: []*intakev1.CaseMember{{SubjectId: child, Sex: commonv1.Sex_SEX_MALE}},
		Consents: []*commonv1.Consent{{SubjectId: principal, Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE,
			Granted: assistance, InForce: assistance}},
	}
}

// openedFrom is an AVRR case of mission opened from the VoT case from (intake.OpenCase).
func openedFrom(id, mission, from string, v int64) *intakev1.Case {
	return with(victim(id, mission, v, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true), func(c *intakev1.Case) {
		c.Programme, c.OpenedFromCaseId = commonv1.Programme_PROGRAMME_AVRR, from
	})
}

// intake's events and cases, as projectiontest makes them.
var (
	registered = projectiontest.Registered
	updated    = projectiontest.Updated
	with       = projectiontest.With
)

// victimRows is every row of the projection as JSON, but for created_at (the clock of the
// insert, not the event's).
func victimCaseRows(t testing.TB, d *projectiontest.DB) []string {
	t.Helper()
	return d.Rows(t, `SELECT (to_jsonb(v) - 'created_at')::text FROM trafficking.victim_case v ORDER BY v.case_id`)
}

// victimRow is what the tests expect of a projected case.
type victimRow struct {
	CaseID, Mission, IntakeStatus string
	Assistance                    bool
	Registered                    time.Time
	Sexes, Nationalities, Linked  []string
}

func victimCases(t *testing.T, d *projectiontest.DB) []victimRow {
	t.Helper()
	return projectiontest.Collect[victimRow](t, d, `SELECT v.case_id::text, v.mission, v.intake_status, v.assistance_allowed,
  v.registered_at, v.sexes, v.nationalities, v.linked_case_ids::text[]
FROM trafficking.victim_case v ORDER BY v.case_id`)
}

func sortedVictims(rows ...victimRow) []victimRow {
	slices.SortFunc(rows, func(x, y victimRow) int { return strings.Compare(x.CaseID, y.CaseID) })
	return rows
}

// applyDrains applies the drains batched and one event at a time (projectiontest.Compare) and
// returns the batched database.
func applyDrains(t *testing.T, drains ...[]projectiontest.Event) *projectiontest.DB {
	t.Helper()
	return projectiontest.Compare(t, Role, consumerConfig(), victimCaseRows, drains...)
}

// Two drains over two missions. In the first: a link to a VoT case before the VoT case's own
// event (it matches no row yet and links nothing), a case of another programme, a VoT case
// three times (a newer version with its consent withdrawn, its principal's sex corrected and,
// to tell them apart, another registration time; then its first version again), a case opened
// from it, twice. In the second: links to VoT cases of the first drain, one of them again, and
// a newer version of one. Each drain is one batch, and the projection is what applying the
// events one at a time makes.
//
// The first version of a case, coming again after the second, changes nothing, and neither
// does the second version again with other values: the newest version, as first applied,
// stands (migration 000021's intake_version).
func TestBatchProjectionMatchesOneAtATime(t *testing.T) {
	t.Parallel()
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	l0, l1, l2, l3 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	a1 := victim(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
	a2 := with(victim(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, false), func(c *intakev1.Case) {
		c.Principal.Sex = commonv1.Sex_SEX_MALE
		c.CreateTime = timestamppb.New(registeredOn.Add(time.Hour))
	})
	got := victimCases(t, applyDrains(t,
		[]projectiontest.Event{
			registered(openedFrom(l0, "NER", b, 1)), // before b is known: links nothing
			registered(victim(b, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
			registered(with(victim(uuid.NewString(), "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true), func(c *intakev1.Case) {
				c.Programme = commonv1.Programme_PROGRAMME_HASM
			})),
			registered(a1),
			updated(a2),
			registered(openedFrom(l1, "DEU", a, 1)),
			updated(openedFrom(l1, "DEU", a, 2)),
			registered(a1), // out of order, and last: older than the row, it changes nothing
			updated(with(victim(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_CLOSED, true), func(c *intakev1.Case) {
				c.Principal.Sex = commonv1.Sex_SEX_FEMALE // the same version again, other values: the first stands
			})),
			registered(victim(c, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
		},
		[]projectiontest.Event{
			registered(openedFrom(l2, "NER", b, 1)),
			updated(victim(b, "NER", 2, intakev1.CaseStatus_CASE_STATUS_CLOSED, false)),
			registered(openedFrom(l3, "DEU", a, 1)),
			updated(openedFrom(l1, "DEU", a, 3)), // linked already
		},
	))
	twoPeople := func(principalSex string) []string { return []string{principalSex, "MALE"} }
	want := sortedVictims(
		victimRow{CaseID: a, Mission: "DEU", IntakeStatus: "ACTIVE", Assistance: false, Registered: registeredOn,
			Sexes: twoPeople("MALE"), Nationalities: []string{"NGA", ""}, Linked: []string{l1, l3}},
		victimRow{CaseID: b, Mission: "NER", IntakeStatus: "CLOSED", Assistance: false, Registered: registeredOn,
			Sexes: twoPeople("FEMALE"), Nationalities: []string{"NGA", ""}, Linked: []string{l2}},
		victimRow{CaseID: c, Mission: "DEU", IntakeStatus: "REGISTERED", Assistance: true, Registered: registeredOn,
			Sexes: twoPeople("FEMALE"), Nationalities: []string{"NGA", ""}, Linked: []string{}},
	)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
		t.Errorf("projection (-want +got):\n%s", diff)
	}
}

// A case's first and last events in one drain: a new case takes its registration time from
// the first, as one at a time the first inserts the row and the later ones leave it.
func TestBatchProjectionRegistersACaseAtItsFirstEvent(t *testing.T) {
	t.Parallel()
	a := uuid.NewString()
	later := with(victim(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, true), func(c *intakev1.Case) {
		c.CreateTime = timestamppb.New(registeredOn.Add(time.Hour))
	})
	got := victimCases(t, applyDrains(t, []projectiontest.Event{
		registered(victim(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
		updated(later),
	}))
	if len(got) != 1 || !got[0].Registered.Equal(registeredOn) || got[0].IntakeStatus != "ACTIVE" {
		t.Errorf("projection %+v; want the case active, registered at %v", got, registeredOn)
	}
}

// Events a drain cannot apply: the batch fails, the consumer applies the drain's events one at
// a time, commits those before the failing one and stops at it, and the projection is what
// applying them one at a time makes.
func TestBatchProjectionIsolatesARefusedEvent(t *testing.T) {
	t.Parallel()
	ok, wrong, after, x := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	okCase := victim(ok, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
	okRow := victimRow{CaseID: ok, Mission: "DEU", IntakeStatus: "REGISTERED", Assistance: true, Registered: registeredOn,
		Sexes: []string{"FEMALE", "MALE"}, Nationalities: []string{"NGA", ""}, Linked: []string{}}
	for _, tc := range []struct {
		name   string
		events []projectiontest.Event
		want   []victimRow // after the drain that stops at the failing event
	}{{
		// intake records an event under its case's mission; this one says DEU for a NER case.
		name: "another mission's case",
		events: []projectiontest.Event{
			registered(okCase),
			{Mission: "DEU", Payload: &intakev1.CaseRegistered{Case: victim(wrong, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)}},
			registered(victim(after, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
		},
		want: []victimRow{okRow},
	}, {
		// The same case's newer version recorded under another mission: it alone is refused,
		// and the case stays as the event before it left it.
		name: "a case's newer version under another mission",
		events: []projectiontest.Event{
			registered(okCase),
			{Mission: "NER", Payload: &intakev1.CaseUpdated{Case: victim(ok, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, true)}},
		},
		want: []victimRow{okRow},
	}, {
		// A version of a case with a subject id that is not one, superseded by a good one in
		// the same drain: one at a time it fails, so the batch must too.
		name: "a superseded event project refuses",
		events: []projectiontest.Event{
			registered(okCase),
			registered(with(victim(x, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true), func(c *intakev1.Case) {
				c.HouseholdMembers[0].SubjectId = "not-a-subject-id"
			})),
			updated(victim(x, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, true)),
		},
		want: []victimRow{okRow},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			batched, single := projectiontest.Refused(t, Role, consumerConfig(), tc.events...)
			if diff := cmp.Diff(tc.want, victimCases(t, batched), cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) })); diff != "" {
				t.Errorf("projection (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(victimCaseRows(t, single), victimCaseRows(t, batched)); diff != "" {
				t.Errorf("batched projection differs from one event at a time (-single +batched):\n%s", diff)
			}
		})
	}
}

// BenchmarkIntakeDrain applies 1,000 of intake's events (500 VoT cases of two missions
// registered, 300 of them updated, 200 AVRR cases opened from them) to an empty projection, in
// drains of the consumer's default size: each drain together, and one event at a time.
func BenchmarkIntakeDrain(b *testing.B) {
	events := make([]projectiontest.Event, 0, 1000)
	var cases []*intakev1.Case
	for i := range 500 {
		c := victim(uuid.NewString(), []string{"DEU", "NER"}[i%2], 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
		cases = append(cases, c)
		events = append(events, registered(c))
	}
	for _, c := range cases[:300] {
		events = append(events, updated(with(c, func(c *intakev1.Case) { c.Version, c.Status = 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE })))
	}
	for _, c := range cases[:200] {
		events = append(events, registered(openedFrom(uuid.NewString(), c.GetMission(), c.GetCaseId(), 1)))
	}
	projectiontest.BenchmarkDrain(b, Role, consumerConfig(), events)
}
