package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// TestAuditVerify runs `passage audit verify` on chains written by a service role: it passes
// on intact chains and, once the owner edits a record, exits with an error naming the link.
func TestAuditVerify(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t)
	dir := t.TempDir()
	key, err := audit.LoadOrCreateDevKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", url)
	t.Setenv("PASSAGE_DEV_DIR", dir)
	t.Setenv("PASSAGE_AUDITOR_DATABASE_URL", "")
	t.Setenv("PASSAGE_AUDIT_KEYSET", "")

	intake, err := database.Open(ctx, database.PoolConfig{AdminURL: url, Role: "passage_intake"})
	if err != nil {
		t.Fatal(err)
	}
	defer intake.Close()
	for i, m := range []string{"NER", "NER", "DEU", "NER"} {
		e := audit.Entry{Mission: m, Actor: "staff-1", Role: "caseworker", CallerMission: m, Method: "/m",
			AggregateID: uuid.New(), RequestID: fmt.Sprint("r", i)}
		if err := audit.Write(ctx, database.NewDB(intake).Mission(m), e); err != nil {
			t.Fatal(err)
		}
	}
	// One more, not chained yet: reported, not a fault.
	auditor, err := database.Open(ctx, database.PoolConfig{AdminURL: url, Role: audit.Role})
	if err != nil {
		t.Fatal(err)
	}
	defer auditor.Close()
	if err := audit.NewChainer(auditor, key, audit.ChainerConfig{}).CatchUp(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := audit.Write(ctx, database.NewDB(intake).Mission("NER"), audit.Entry{Mission: "NER", Actor: "staff-1", Role: "caseworker", CallerMission: "NER",
		Method: "/m", RequestID: "late"}); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := realMain(ctx, []string{"audit", "verify", "--dev"}, &out, &out); err != nil {
		t.Fatalf("verify of intact chains: %v\n%s", err, out.String())
	}
	for _, want := range []string{"DEU: ok, 1 links verified, 0 records not yet chained", "NER: ok, 3 links verified, 1 records not yet chained"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// The owner rewrites who did it.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var id int64
	if err := conn.QueryRow(ctx, `UPDATE audit.record SET actor = 'staff-2'
WHERE record_id = (SELECT record_id FROM audit.link WHERE mission = 'NER' AND position = 2) RETURNING record_id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = realMain(ctx, []string{"audit", "verify", "--dev", "--mission", "NER"}, &out, &out)
	want := fmt.Sprintf("audit chain of mission NER broken at position 2 (record %d)", id)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("verify after tampering: %v, want an error with %q\n%s", err, want, out.String())
	}
	if strings.Contains(out.String(), "DEU") {
		t.Errorf("--mission NER reported other missions:\n%s", out.String())
	}
	// DEU alone still verifies.
	if err := realMain(ctx, []string{"audit", "verify", "--dev", "--mission", "DEU"}, &out, &out); err != nil {
		t.Errorf("verify DEU: %v", err)
	}
}
