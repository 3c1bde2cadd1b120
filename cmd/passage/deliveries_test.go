package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/pgtest"
)

// `passage referral deliveries` lists every mission's deliveries, or the dead ones, and
// replays the dead ones of a partner, audited under --by.
func TestReferralDeliveriesCommands(t *testing.T) {
	admin := pgtest.New(t)
	t.Setenv("DATABASE_URL", admin)
	t.Setenv("PASSAGE_REFERRAL_DATABASE_URL", "")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	partner, other := uuid.New(), uuid.New()
	for _, row := range []struct {
		mission, state string
		partner        uuid.UUID
	}{{"NER", "dead", partner}, {"DEU", "dead", partner}, {"NER", "dead", other}, {"NER", "pending", partner}} {
		_, err := conn.Exec(ctx, `INSERT INTO webhook.delivery (mission, partner_id, ordering_key, event_id, event_type, body,
  state, finished_at, last_error) VALUES ($1, $2, gen_random_uuid(), replace(gen_random_uuid()::text, '-', ''),
  'org.iom.passage.referral.v1.sent', '{}', $3, CASE WHEN $3 = 'dead' THEN now() END,
  CASE WHEN $3 = 'dead' THEN 'HTTP 503 Service Unavailable' END)`, row.mission, row.partner, row.state)
		if err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := realMain(ctx, append([]string{"referral", "deliveries"}, args...), &stdout, &stderr)
		return stdout.String(), err
	}
	out, err := run("list")
	if err != nil || strings.Count(out, "\n") != 5 || !strings.Contains(out, "DEU") {
		t.Fatalf("list:\n%s%v", out, err)
	}
	out, err = run("list", "--dead", "--partner", partner.String())
	if err != nil || strings.Count(out, "\n") != 3 || strings.Contains(out, "pending") || !strings.Contains(out, "HTTP 503 Service Unavailable") {
		t.Fatalf("list --dead --partner:\n%s%v", out, err)
	}
	if _, err := run("replay", "--partner", partner.String()); err == nil || !strings.Contains(err.Error(), "--by") {
		t.Errorf("replay without --by: %v", err)
	}
	if _, err := run("replay", "--since", "yesterday", "--by", "staff-ops"); err == nil {
		t.Error("replay --since yesterday accepted")
	}
	if out, err = run("replay", "--since", "2999-01-01", "--by", "staff-ops"); err != nil || out != "replayed 0\n" {
		t.Errorf("replay of the future: %q, %v", out, err)
	}
	if out, err = run("replay", "--partner", partner.String(), "--by", "staff-ops"); err != nil || out != "replayed 2\n" {
		t.Fatalf("replay: %q, %v", out, err)
	}
	var pending, audited int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'pending') FROM webhook.delivery`).Scan(&pending); err != nil || pending != 3 {
		t.Errorf("%d pending after the replay, %v; want 3", pending, err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM audit.record WHERE method = 'passage referral deliveries replay' AND actor = 'staff-ops'`).Scan(&audited); err != nil || audited != 2 {
		t.Errorf("%d audit records, %v; want 2 (one per delivery, in its mission)", audited, err)
	}
}
