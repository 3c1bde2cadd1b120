package projector_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pgtest"
	"github.com/passage-cm/passage/internal/testtime"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/analytics/projector"
)

// event is an outbox event as a service records it.
type event struct {
	mission string
	payload proto.Message
}

type projectorDB struct {
	owner, pool *pgxpool.Pool
}

func newProjectorDB(t *testing.T, events []event) *projectorDB {
	t.Helper()
	ctx := context.Background()
	admin := pgtest.New(t)
	owner, err := pgxpool.New(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	pool, err := database.Open(ctx, database.PoolConfig{AdminURL: admin, Role: projector.Role})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	for _, e := range events {
		var st database.Statement
		if err := outbox.Add(&st, []outbox.Event{{Producer: "test", AggregateID: uuid.New(), Mission: e.mission, Payload: e.payload}}); err != nil {
			t.Fatal(err)
		}
		b := &pgx.Batch{}
		st.Queue(b)
		if err := owner.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
	}
	return &projectorDB{owner: owner, pool: pool}
}

// drain applies every event with cfg, waiting for the horizon to pass them (other tests'
// transactions hold it back a moment).
func (d *projectorDB) drain(t *testing.T, cfg outbox.ConsumerConfig, want int) {
	t.Helper()
	c := outbox.NewConsumer(d.pool, cfg)
	total := 0
	for deadline := time.Now().Add(10 * time.Second); total < want && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n, err := c.Drain(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != want {
		t.Fatalf("applied %d events, want %d", total, want)
	}
}

// state is everything the projector wrote, in a canonical order, without the ids and
// transaction ids that depend on the order rows were written in.
func (d *projectorDB) state(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT format('fact %s %s %s', event_id, ordinal, row_to_json(f)::jsonb - 'fact_id' - 'event_id' - 'ordinal') FROM analytics.fact f ORDER BY event_id, measure, ordinal`,
		`SELECT format('rollup %s', row_to_json(r)::jsonb - 'tx_id') FROM analytics.rollup r ORDER BY 1`,
		`SELECT format('case %s', row_to_json(c)) FROM analytics_state."case" c ORDER BY case_id`,
		`SELECT format('member %s', row_to_json(m)) FROM analytics_state.member m ORDER BY case_id, subject_id`,
	} {
		out = append(out, d.lines(t, q)...)
	}
	return out
}

// lines reads the text column of every row q returns, as the owner.
func (d *projectorDB) lines(t *testing.T, q string) []string {
	t.Helper()
	rows, err := d.owner.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// day is a calendar date as the protos carry it.
var day = testtime.Day

// aCase is a registered case with a household of one; inStatistics is the principal's
// statistics consent, the child's is always given.
func aCase(id, mission string, version int64, inStatistics bool, host string) *intakev1.Case {
	return &intakev1.Case{
		CaseId: id, Mission: mission, Programme: commonv1.Programme_PROGRAMME_AVRR, Version: version,
		Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED, HostCountry: host, RegistrationDate: day(2026, 3, 1),
		Vulnerabilities: []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_OLDER_PERSON, commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS},
		SubjectId:       principal(id),
		Principal: &intakev1.CaseMember{SubjectId: principal(id), Sex: commonv1.Sex_SEX_FEMALE, AgeBand: commonv1.AgeBand_AGE_BAND_9_17,
			Nationality: "IRQ", InStatistics: inStatistics},
		HouseholdMembers: []*intakev1.CaseMember{{SubjectId: child(id), Sex: commonv1.Sex_SEX_MALE, InStatistics: true}},
	}
}

func principal(caseID string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(caseID+"/p")).String()
}
func child(caseID string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(caseID+"/c")).String()
}

// One drain applied by ApplyBatch leaves exactly the state that applying its events one at a
// time with Apply leaves: several missions; a case registered without the principal's
// statistics consent and counted when a later event of the same drain brings it; a case
// whose consent is withdrawn by a later event (its registration stays counted); an event
// older than its case's state; a departure in the middle of the drain, which reads the state
// the case events before it wrote; registrations with equal attributes, which add to one
// rollup row.
func TestApplyBatchEqualsApplyingOneAtATime(t *testing.T) {
	t.Parallel()
	a, b, c, d, e := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	events := []event{
		{"NER", &intakev1.CaseRegistered{Case: aCase(a, "NER", 1, false, "NER")}},
		{"DEU", &intakev1.CaseRegistered{Case: aCase(b, "DEU", 1, true, "DEU")}},
		{"NER", &intakev1.CaseRegistered{Case: aCase(c, "NER", 1, true, "NER")}},
		{"NER", &intakev1.CaseRegistered{Case: aCase(d, "NER", 1, true, "NER")}},
		{"NER", &intakev1.ConsentRecorded{Case: aCase(a, "NER", 2, true, "NER")}},
		{"DEU", &commonv1.DepartureRecorded{CaseId: b, Mission: "DEU", Programme: commonv1.Programme_PROGRAMME_AVRR,
			DepartureDate: day(2026, 5, 2), HostCountry: "DEU", ReturnCountry: "IRQ",
			Travellers: []*commonv1.TravellingPerson{
				{SubjectId: principal(b), Sex: commonv1.Sex_SEX_FEMALE, Nationality: "IRQ", Principal: true},
				{SubjectId: child(b), Sex: commonv1.Sex_SEX_MALE, Nationality: "IRQ"},
			}}},
		{"DEU", &intakev1.ConsentWithdrawn{Case: aCase(b, "DEU", 2, false, "DEU")}},
		{"NER", &intakev1.CaseUpdated{Case: aCase(c, "NER", 2, true, "TCD")}},
		{"NER", &intakev1.CaseRegistered{Case: aCase(c, "NER", 1, true, "NER")}}, // older than its case
		{"DEU", &intakev1.CaseRegistered{Case: aCase(e, "DEU", 1, true, "DEU")}},
	}
	cfg := outbox.ConsumerConfig{Name: projector.Name, CursorTable: "analytics_state.outbox_cursor", Types: projector.Events}

	batched := newProjectorDB(t, events)
	var batches int
	cfg.HandleBatch = func(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
		batches++
		return projector.ApplyBatch(ctx, tx, records)
	}
	cfg.Handle = func(context.Context, pgx.Tx, outbox.Record) error {
		t.Error("the batch failed and fell back to one event at a time")
		return nil
	}
	batched.drain(t, cfg, len(events))

	single := newProjectorDB(t, events)
	cfg.HandleBatch, cfg.Handle = nil, projector.Apply
	single.drain(t, cfg, len(events))

	want := single.state(t)
	if diff := cmp.Diff(want, batched.state(t)); diff != "" {
		t.Errorf("state after ApplyBatch (-one at a time +batch):\n%s", diff)
	}
	// The test is only as good as its drain: the facts it expects are there.
	var registered, returned, rows int
	if err := single.owner.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE measure = 'CASES_REGISTERED'),
count(*) FILTER (WHERE measure = 'PERSONS_RETURNED'), (SELECT count(*) FROM analytics.rollup WHERE measure = 'CASES_REGISTERED')
FROM analytics.fact`).Scan(&registered, &returned, &rows); err != nil {
		t.Fatal(err)
	}
	if registered != 5 || returned != 2 || rows != 2 {
		t.Errorf("%d registrations, %d returned, %d registration rollup rows; want 5, 2, 2", registered, returned, rows)
	}
	if batches == 0 || batches > 2 {
		t.Errorf("%d batches; want the drain in one (or two, when the horizon split it)", batches)
	}
}
