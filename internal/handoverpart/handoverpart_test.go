package handoverpart_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/outbox"
	"github.com/passage-cm/passage/internal/pgtest"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

var (
	reception = handoverv1.HandoverPart_HANDOVER_PART_RECEPTION
	closure   = handoverv1.HandoverPart_HANDOVER_PART_CLOSURE
	transfer  = handoverv1.HandoverPart_HANDOVER_PART_TRANSFER
	avrr      = commonv1.Programme_PROGRAMME_AVRR
	hasm      = commonv1.Programme_PROGRAMME_HASM
)

func record(t *testing.T, id int64, m proto.Message, at time.Time) outbox.Record {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return outbox.Record{ID: id, Type: string(proto.MessageName(m)), Payload: b, OccurredAt: at}
}

func accepted(caseID uuid.UUID, to string, programme commonv1.Programme, parts ...handoverv1.HandoverPart) *handoverv1.HandoverAccepted {
	return &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: caseID.String(), FromMission: "DEU",
		ToMission: to, Programme: programme, Parts: parts, ProfileVersion: 1, Version: 2}
}

func TestOf(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	caseID := uuid.New()
	g, ok, err := handoverpart.Of(accepted(caseID, "IRQ", avrr, reception), at)
	if err != nil || !ok {
		t.Fatalf("Of(HandoverAccepted) = %v, %v", ok, err)
	}
	if g.CaseID != caseID || g.From != "DEU" || g.To != "IRQ" || !g.AcceptedAt.Equal(at) {
		t.Errorf("grant = %+v", g)
	}
	if !g.Holds(reception) || g.Holds(closure) {
		t.Errorf("a grant of RECEPTION: Holds(RECEPTION) = %v, Holds(CLOSURE) = %v", g.Holds(reception), g.Holds(closure))
	}
	whole, _, _ := handoverpart.Of(accepted(caseID, "NER", hasm, transfer), at)
	if !whole.Holds(reception) || !whole.Holds(closure) {
		t.Error("a TRANSFER grant does not hold every part")
	}
	if _, ok, err := handoverpart.Of(&handoverv1.HandoverProposed{}, at); ok || err != nil {
		t.Errorf("Of(HandoverProposed) = %v, %v; want no grant", ok, err)
	}
	bad := accepted(caseID, "IRQ", avrr, reception)
	bad.CaseId = "not-a-uuid"
	if _, _, err := handoverpart.Of(bad, at); err == nil {
		t.Error("Of accepted an event with a malformed case id")
	}
}

// TestProjectAndHolder: a drain's grants of the programmes are written once each, other events
// and programmes passed over, and the newest grant of a part names its holder.
func TestProjectAndHolder(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE public.part (handover_id uuid PRIMARY KEY, case_id uuid NOT NULL,
mission text NOT NULL, from_mission text NOT NULL, programme text NOT NULL, parts text[] NOT NULL,
accepted_at timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	caseID := uuid.New()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	first := accepted(caseID, "IRQ", avrr, reception, closure)
	records := []outbox.Record{
		record(t, 1, &intakev1.CaseRegistered{}, t0),
		record(t, 2, first, t0),
		record(t, 3, accepted(caseID, "NER", hasm, transfer), t0),
		record(t, 4, accepted(caseID, "TUR", avrr, closure), t0.Add(time.Hour)),
	}
	for range 2 { // a drain applied again changes nothing
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := handoverpart.Project(ctx, tx, records, "public.part", avrr); err != nil {
			t.Fatalf("Project: %v", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM public.part`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("grants written = %d, %v; want 2 (the HASM grant and intake's event passed over)", n, err)
	}
	for _, tt := range []struct {
		part handoverv1.HandoverPart
		want string
	}{
		{reception, "IRQ"},
		{closure, "TUR"}, // the newer grant
		{handoverv1.HandoverPart_HANDOVER_PART_MONITORING, ""},
	} {
		got, err := handoverpart.Holder(ctx, conn, "public.part", caseID, tt.part)
		if err != nil || got != tt.want {
			t.Errorf("Holder(%v) = %q, %v; want %q", tt.part, got, err, tt.want)
		}
	}
}
