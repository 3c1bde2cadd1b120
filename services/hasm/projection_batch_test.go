package hasm

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/projectiontest"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// stranded is a HASM case of version v with a household of one, the principal's ASSISTANCE
// consent in force or, withdrawn, not. Its subject ids follow from its id.
func stranded(id, mission string, v int64, status intakev1.CaseStatus, assistance bool) *intakev1.Case {
	principal, child := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id+"p")).String(), uuid.NewSHA1(uuid.NameSpaceOID, []byte(id+"c")).String()
	return &intakev1.Case{
		CaseId: id, Mission: mission, Programme: commonv1.Programme_PROGRAMME_HASM, Status: status, Version: v,
		SubjectId: principal, HostCountry: mission, CreateTime: timestamppb.New(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)),
		Vulnerabilities:  []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS, commonv1.Vulnerability_VULNERABILITY_OLDER_PERSON},
		Principal:        &intakev1.CaseMember{SubjectId: principal, Sex: commonv1.Sex_SEX_FEMALE, AgeBand: commonv1.AgeBand_AGE_BAND_27_29, Nationality: "ETH"},
		HouseholdMembers: []*intakev1.CaseMember{{SubjectId: child, Sex: commonv1.Sex_SEX_MALE}},
		Consents: []*commonv1.Consent{{SubjectId: principal, Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE,
			Granted: assistance, InForce: assistance}},
	}
}

// intake's events and cases, as projectiontest makes them.
var (
	registered = projectiontest.Registered
	updated    = projectiontest.Updated
	with       = projectiontest.With
)

// hasmRows is every row of the projection, a case with its members, as JSON.
func hasmRows(t testing.TB, d *projectiontest.DB) []string {
	t.Helper()
	return d.Rows(t, `SELECT (to_jsonb(c) || jsonb_build_object('members',
  (SELECT jsonb_agg(to_jsonb(m) ORDER BY m.position) FROM hasm.case_member m WHERE m.case_id = c.case_id)))::text
FROM hasm."case" c ORDER BY c.case_id`)
}

// hasmCaseRow is what the tests expect of a projected case.
type hasmCaseRow struct {
	CaseID, Mission, Status, Host string
	Version                       int64
	Assistance                    bool
	Members                       int
	PrincipalSex                  string
}

func hasmCases(t *testing.T, d *projectiontest.DB) []hasmCaseRow {
	t.Helper()
	return projectiontest.Collect[hasmCaseRow](t, d, `SELECT c.case_id::text, c.mission, c.intake_status, c.host_country,
  c.intake_version, c.assistance_allowed,
  (SELECT count(*)::int FROM hasm.case_member m WHERE m.case_id = c.case_id),
  coalesce((SELECT m.sex FROM hasm.case_member m WHERE m.case_id = c.case_id AND m.position = 0), '')
FROM hasm."case" c ORDER BY c.case_id`)
}

func sortedCases(rows ...hasmCaseRow) []hasmCaseRow {
	slices.SortFunc(rows, func(x, y hasmCaseRow) int { return strings.Compare(x.CaseID, y.CaseID) })
	return rows
}

// applyDrains applies the drains batched and one event at a time (projectiontest.Compare) and
// returns the batched database.
func applyDrains(t *testing.T, drains ...[]projectiontest.Event) *projectiontest.DB {
	t.Helper()
	return projectiontest.Compare(t, Role, consumerConfig(), hasmRows, drains...)
}

// Two drains over two missions: a case of another programme, a case three times in one drain
// (a newer version with its consent withdrawn and its principal's sex corrected, its first
// version again after it, its newer version again with other values), then a drain with that
// case's first version once more (older than the row: neither it nor its members change) and
// a newer version of a case of the first drain. Each drain is one batch, and the projection is
// what applying the events one at a time makes.
func TestBatchProjectionMatchesOneAtATime(t *testing.T) {
	t.Parallel()
	a, b, c, d := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	a1 := stranded(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
	a2 := with(stranded(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, false), func(c *intakev1.Case) {
		c.Principal.Sex = commonv1.Sex_SEX_MALE
	})
	// The same version again: one at a time the first of equal versions stands.
	a2again := with(a2, func(c *intakev1.Case) { c.HostCountry = "DJI" })
	b1 := stranded(b, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
	other := with(stranded(uuid.NewString(), "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true), func(c *intakev1.Case) {
		c.Programme = commonv1.Programme_PROGRAMME_AVRR
	})
	got := hasmCases(t, applyDrains(t,
		[]projectiontest.Event{
			registered(a1),
			registered(b1),
			registered(other),
			updated(a2),
			registered(stranded(c, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
			registered(a1), // out of order: older than the drain's newest of a
			updated(a2again),
		},
		[]projectiontest.Event{
			registered(a1), // older than the row
			updated(stranded(b, "NER", 2, intakev1.CaseStatus_CASE_STATUS_CLOSED, false)),
			registered(stranded(d, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
		},
	))
	want := sortedCases(
		hasmCaseRow{CaseID: a, Mission: "DEU", Status: "ACTIVE", Host: "DEU", Version: 2, Assistance: false, Members: 2, PrincipalSex: "MALE"},
		hasmCaseRow{CaseID: b, Mission: "NER", Status: "CLOSED", Host: "NER", Version: 2, Assistance: false, Members: 2, PrincipalSex: "FEMALE"},
		hasmCaseRow{CaseID: c, Mission: "DEU", Status: "REGISTERED", Host: "DEU", Version: 1, Assistance: true, Members: 2, PrincipalSex: "FEMALE"},
		hasmCaseRow{CaseID: d, Mission: "NER", Status: "REGISTERED", Host: "NER", Version: 1, Assistance: true, Members: 2, PrincipalSex: "FEMALE"},
	)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("projection (-want +got):\n%s", diff)
	}
}

// Events row-level security refuses: the batch fails, the consumer applies the drain's events
// one at a time, commits those before the refused one and stops at it, and the projection is
// what applying them one at a time makes.
func TestBatchProjectionIsolatesARefusedEvent(t *testing.T) {
	t.Parallel()
	ok, wrong, after, x := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	okCase := stranded(ok, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
	for _, tc := range []struct {
		name   string
		events []projectiontest.Event
		want   []hasmCaseRow // after the drain that stops at the refused event
	}{{
		// intake records an event under its case's mission; this one says DEU for a NER case.
		name: "another mission's case",
		events: []projectiontest.Event{
			registered(okCase),
			{Mission: "DEU", Payload: &intakev1.CaseRegistered{Case: stranded(wrong, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)}},
			registered(stranded(after, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
		},
		want: []hasmCaseRow{{CaseID: ok, Mission: "DEU", Status: "REGISTERED", Host: "DEU", Version: 1, Assistance: true, Members: 2, PrincipalSex: "FEMALE"}},
	}, {
		// The same case's newer version recorded under another mission: it alone is refused,
		// and the case stays at the version before it.
		name: "a case's newer version under another mission",
		events: []projectiontest.Event{
			registered(stranded(x, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)),
			{Mission: "DEU", Payload: &intakev1.CaseUpdated{Case: stranded(x, "NER", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, true)}},
		},
		want: []hasmCaseRow{{CaseID: x, Mission: "NER", Status: "REGISTERED", Host: "NER", Version: 1, Assistance: true, Members: 2, PrincipalSex: "FEMALE"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			batched, single := projectiontest.Refused(t, Role, consumerConfig(), tc.events...)
			if diff := cmp.Diff(tc.want, hasmCases(t, batched)); diff != "" {
				t.Errorf("projection (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(hasmRows(t, single), hasmRows(t, batched)); diff != "" {
				t.Errorf("batched projection differs from one event at a time (-single +batched):\n%s", diff)
			}
		})
	}
}

// BenchmarkIntakeDrain applies 1,000 of intake's events (600 cases of two missions registered,
// 400 of them updated) to an empty projection, in drains of the consumer's default size:
// each drain together, and one event at a time.
func BenchmarkIntakeDrain(b *testing.B) {
	events := make([]projectiontest.Event, 0, 1000)
	var cases []*intakev1.Case
	for i := range 600 {
		c := stranded(uuid.NewString(), []string{"DEU", "NER"}[i%2], 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
		cases = append(cases, c)
		events = append(events, registered(c))
	}
	for _, c := range cases[:400] {
		events = append(events, updated(with(c, func(c *intakev1.Case) { c.Version, c.Status = 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE })))
	}
	projectiontest.BenchmarkDrain(b, Role, consumerConfig(), events)
}
