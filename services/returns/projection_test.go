package returns

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/projectiontest"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// projectionDB is a migrated database: the owner's pool, which writes intake's events as
// intake would, and a consumer of returns' own configuration on a pool of returns' role.
type projectionDB struct {
	owner    *pgxpool.Pool
	consumer outbox.ConsumerConfig
	pool     *pgxpool.Pool
}

func newProjectionDB(t *testing.T) *projectionDB {
	t.Helper()
	db := projectiontest.New(t, Role)
	return &projectionDB{owner: db.Owner, pool: db.Pool, consumer: consumerConfig()}
}

// emit records events as intake does, each in a transaction of its own, in the order given.
func (d *projectionDB) emit(t *testing.T, events ...proto.Message) {
	t.Helper()
	for _, e := range events {
		c := caseOf(e)
		var st database.Statement
		if err := outbox.Add(&st, []outbox.Event{{Producer: "intake", AggregateID: uuid.MustParse(c.GetCaseId()), Mission: c.GetMission(), Payload: e}}); err != nil {
			t.Fatal(err)
		}
		b := &pgx.Batch{}
		st.Queue(b)
		if err := d.owner.SendBatch(context.Background(), b).Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func caseOf(e proto.Message) *intakev1.Case {
	switch e := e.(type) {
	case *intakev1.CaseRegistered:
		return e.GetCase()
	case *intakev1.CaseUpdated:
		return e.GetCase()
	}
	panic("unexpected event")
}

type projected struct {
	CaseID, Mission, Status string
	Version                 int64
	Assistance              bool
	Members, Assisted       int
	ReturnStatus            string
}

func (d *projectionDB) projection(t *testing.T) []projected {
	t.Helper()
	rows, err := d.owner.Query(context.Background(), `SELECT c.case_id::text, c.mission, c.intake_status, c.intake_version, c.assistance_allowed,
  (SELECT count(*)::int FROM returns.case_member m WHERE m.case_id = c.case_id),
  (SELECT count(*)::int FROM returns.case_member m WHERE m.case_id = c.case_id AND m.assistance_allowed),
  coalesce((SELECT r.status FROM returns."return" r WHERE r.case_id = c.case_id), '')
FROM returns."case" c ORDER BY c.case_id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[projected])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// avrr is an AVRR case of version v with a household of one, the principal's ASSISTANCE
// consent in force or, withdrawn, not.
func avrr(id, mission string, v int64, status intakev1.CaseStatus, assistance bool) *intakev1.Case {
	principal, child := uuid.NewSHA1(uuid.NameSpaceOID, []byte(id+"p")).String(), uuid.NewSHA1(uuid.NameSpaceOID, []byte(id+"c")).String()
	return &intakev1.Case{
		CaseId: id, Mission: mission, Programme: commonv1.Programme_PROGRAMME_AVRR, Status: status, Version: v,
		SubjectId: principal, HostCountry: mission, CreateTime: timestamppb.New(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)),
		Vulnerabilities:  []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_MEDICAL_NEEDS, commonv1.Vulnerability_VULNERABILITY_OLDER_PERSON},
		Principal:        &intakev1.CaseMember{SubjectId: principal, Sex: commonv1.Sex_SEX_FEMALE, Nationality: "IRQ"},
		HouseholdMembers: []*intakev1.CaseMember{{SubjectId: child, Sex: commonv1.Sex_SEX_MALE}},
		Consents: []*commonv1.Consent{{SubjectId: principal, Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE,
			Granted: assistance, InForce: assistance}},
	}
}

// One drain of several missions' cases, one of them twice (its consent withdrawn by the
// later event), a case of another programme and an event older than its case: the batch
// handler alone writes them, each mission's rows under its own declaration, and the
// projection is what applying them one at a time makes.
func TestBatchProjectionOfOneDrain(t *testing.T) {
	t.Parallel()
	d := newProjectionDB(t)
	a, b, c, vot := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	votCase := avrr(vot, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
	votCase.Programme = commonv1.Programme_PROGRAMME_VOT
	d.emit(t,
		&intakev1.CaseRegistered{Case: avrr(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
		&intakev1.CaseRegistered{Case: avrr(b, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
		&intakev1.CaseRegistered{Case: votCase},
		&intakev1.CaseUpdated{Case: avrr(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, false)},
		&intakev1.CaseRegistered{Case: avrr(c, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
		// Out of order: a's first version again, after its second.
		&intakev1.CaseRegistered{Case: avrr(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
	)
	cfg := d.consumer
	var batches [][]int64
	cfg.HandleBatch = func(ctx context.Context, tx pgx.Tx, records []outbox.Record) error {
		ids := make([]int64, len(records))
		for i, r := range records {
			ids[i] = r.ID
		}
		batches = append(batches, ids)
		return applyIntakeEvents(ctx, tx, records)
	}
	cfg.Handle = func(context.Context, pgx.Tx, outbox.Record) error {
		t.Error("the batch failed and fell back to one event at a time")
		return nil
	}
	if n, err := projectiontest.Drain(t, outbox.NewConsumer(d.pool, cfg), 6); err != nil || n != 6 {
		t.Fatalf("drain = %d, %v; want 6 applied", n, err)
	}
	// Usually one batch; the outbox is read behind the oldest transaction in the cluster, so
	// another test's may split it, which changes nothing the projection shows.
	if n := len(slices.Concat(batches...)); n != 6 {
		t.Errorf("batches %v; want the six events", batches)
	}
	want := []projected{
		{CaseID: a, Mission: "DEU", Status: "ACTIVE", Version: 2, Assistance: false, Members: 2, Assisted: 0, ReturnStatus: "COUNSELLING"},
		{CaseID: b, Mission: "NER", Status: "REGISTERED", Version: 1, Assistance: true, Members: 2, Assisted: 2, ReturnStatus: "COUNSELLING"},
		{CaseID: c, Mission: "DEU", Status: "REGISTERED", Version: 1, Assistance: true, Members: 2, Assisted: 2, ReturnStatus: "COUNSELLING"},
	}
	slices.SortFunc(want, func(x, y projected) int { return strings.Compare(x.CaseID, y.CaseID) })
	if diff := cmp.Diff(want, d.projection(t)); diff != "" {
		t.Errorf("projection (-want +got):\n%s", diff)
	}
	var vulnerabilities []string
	if err := d.owner.QueryRow(context.Background(), `SELECT vulnerabilities FROM returns."case" WHERE case_id = $1`, b).Scan(&vulnerabilities); err != nil {
		t.Fatal(err)
	}
	if len(vulnerabilities) != 2 {
		t.Errorf("vulnerabilities %v; want two codes", vulnerabilities)
	}

	// The same events applied one at a time (the fallback's path) make the same projection.
	single := newProjectionDB(t)
	single.emit(t,
		&intakev1.CaseRegistered{Case: avrr(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
		&intakev1.CaseRegistered{Case: avrr(b, "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
		&intakev1.CaseRegistered{Case: votCase},
		&intakev1.CaseUpdated{Case: avrr(a, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, false)},
		&intakev1.CaseRegistered{Case: avrr(c, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
		&intakev1.CaseRegistered{Case: avrr(a, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)},
	)
	cfg = single.consumer
	cfg.HandleBatch = nil
	if n, err := projectiontest.Drain(t, outbox.NewConsumer(single.pool, cfg), 6); err != nil || n != 6 {
		t.Fatalf("drain one at a time = %d, %v; want 6 applied", n, err)
	}
	if diff := cmp.Diff(want, single.projection(t)); diff != "" {
		t.Errorf("projection one event at a time (-want +got):\n%s", diff)
	}
}

// A drain whose events are declared for the wrong mission is refused by row-level security:
// the batch declares each mission for its own rows only.
func TestBatchProjectionWritesUnderEachEventsMission(t *testing.T) {
	t.Parallel()
	d := newProjectionDB(t)
	ok, wrong := avrr(uuid.NewString(), "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true), avrr(uuid.NewString(), "NER", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)
	// intake records an event under its case's mission; this one says DEU for a NER case.
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{
		{Producer: "intake", AggregateID: uuid.MustParse(ok.GetCaseId()), Mission: "DEU", Payload: &intakev1.CaseRegistered{Case: ok}},
		{Producer: "intake", AggregateID: uuid.MustParse(wrong.GetCaseId()), Mission: "DEU", Payload: &intakev1.CaseRegistered{Case: wrong}},
	}); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	if err := d.owner.SendBatch(context.Background(), b).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := projectiontest.Drain(t, outbox.NewConsumer(d.pool, d.consumer), 2); err == nil {
		t.Fatal("a case written under another mission's declaration was accepted")
	}
	// The fallback applied the event before the refused one, alone.
	got := d.projection(t)
	if len(got) != 1 || got[0].CaseID != ok.GetCaseId() {
		t.Errorf("projection %+v; want only the case of the event before the refused one", got)
	}
}

// A case's newer version recorded under another mission in the same drain: the batch is
// refused, the consumer applies the events one at a time, and row-level security refuses the
// wrong one where it stands, leaving the case as the event before it left it.
func TestBatchProjectionRefusesACaseUnderTwoMissions(t *testing.T) {
	t.Parallel()
	d := newProjectionDB(t)
	id := uuid.NewString()
	first, moved := avrr(id, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true), avrr(id, "DEU", 2, intakev1.CaseStatus_CASE_STATUS_ACTIVE, true)
	var st database.Statement
	if err := outbox.Add(&st, []outbox.Event{
		{Producer: "intake", AggregateID: uuid.MustParse(id), Mission: "DEU", Payload: &intakev1.CaseRegistered{Case: first}},
		{Producer: "intake", AggregateID: uuid.MustParse(id), Mission: "NER", Payload: &intakev1.CaseUpdated{Case: moved}},
	}); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	st.Queue(b)
	if err := d.owner.SendBatch(context.Background(), b).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := projectiontest.Drain(t, outbox.NewConsumer(d.pool, d.consumer), 2); err == nil {
		t.Fatal("a case's version recorded under another mission was applied")
	}
	got := d.projection(t)
	if len(got) != 1 || got[0].Version != 1 || got[0].Status != "REGISTERED" {
		t.Errorf("projection %+v; want the case at its first version only", got)
	}
}

// A poison event (a payload that does not decode) in the middle of a drain: the events before
// it are applied and committed with the cursor just before it; it and those after it in its
// partition (here, the next event of its case) wait. Drains after that apply nothing twice;
// once it is gone, the rest follow exactly once.
func TestBatchProjectionHoldsBackOnlyAPoisonEvent(t *testing.T) {
	t.Parallel()
	d := newProjectionDB(t)
	before, after := uuid.NewString(), uuid.NewString()
	d.emit(t, &intakev1.CaseRegistered{Case: avrr(before, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)})
	var poison int64
	if err := d.owner.QueryRow(context.Background(), `INSERT INTO outbox.event (producer, event_type, aggregate_id, mission, payload)
VALUES ('intake', 'passage.intake.v1.CaseUpdated', $1, 'DEU', '\xffff') RETURNING event_id`, after).Scan(&poison); err != nil {
		t.Fatal(err)
	}
	d.emit(t, &intakev1.CaseUpdated{Case: avrr(after, "DEU", 1, intakev1.CaseStatus_CASE_STATUS_REGISTERED, true)})

	c := outbox.NewConsumer(d.pool, d.consumer)
	n, err := projectiontest.Drain(t, c, 3)
	if err == nil || n != 1 {
		t.Fatalf("drain over a poison event = %d, %v; want 1 applied and its error", n, err)
	}
	for range 2 {
		if n, err := c.Drain(context.Background()); err == nil || n != 0 {
			t.Errorf("drain again = %d, %v; want the poison's error and nothing applied", n, err)
		}
	}
	if got := d.projection(t); len(got) != 1 || got[0].CaseID != before {
		t.Fatalf("projection %+v; want only the case before the poison", got)
	}
	if _, err := d.owner.Exec(context.Background(), `DELETE FROM outbox.event WHERE event_id = $1`, poison); err != nil {
		t.Fatal(err)
	}
	if n, err := projectiontest.Drain(t, c, 1); err != nil || n != 1 {
		t.Fatalf("drain after the poison is gone = %d, %v; want 1", n, err)
	}
	got := d.projection(t)
	if len(got) != 2 {
		t.Fatalf("projection %+v; want both cases", got)
	}
	for _, p := range got {
		if p.Version != 1 || p.Members != 2 || p.ReturnStatus != "COUNSELLING" {
			t.Errorf("case %+v; want version 1, two members, a return in counselling", p)
		}
	}
}
