package testserver

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/audit"
)

// AuditRecord is one audit record as a test reads it back.
type AuditRecord struct {
	Mission, Actor, Role, CallerMission, Method, AggregateID, Reason, RequestID, ClientRequestID string
}

// AuditRecords returns the audit records of method (every method when ""), in the order
// they were written, read as the database owner.
func (e *Env) AuditRecords(t testing.TB, method string) []AuditRecord {
	t.Helper()
	var out []AuditRecord
	e.AsOwner(t, func(ctx context.Context, conn *pgx.Conn) {
		rows, _ := conn.Query(ctx, `SELECT mission, actor, role, caller_mission, method, coalesce(aggregate_id::text, ''),
  reason, request_id, coalesce(client_request_id::text, '')
FROM audit.record WHERE $1 = '' OR method = $1 ORDER BY record_id`, method)
		var err error
		out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[AuditRecord])
		if err != nil {
			t.Fatalf("read audit records: %v", err)
		}
	})
	return out
}

// ChainAudit links every committed audit record, as the auditor role, and verifies every
// chain, failing the test on any break.
func (e *Env) ChainAudit(t testing.TB) []audit.Chain {
	t.Helper()
	ctx := context.Background()
	pool := e.Pool(t, audit.Role)
	if err := audit.NewChainer(pool, e.AuditKey, audit.ChainerConfig{}).CatchUp(ctx, time.Minute); err != nil {
		t.Fatalf("chain audit records: %v", err)
	}
	chains, err := audit.Verify(ctx, pool, e.AuditKey, "")
	if err != nil {
		t.Fatalf("verify audit chains: %v", err)
	}
	for _, c := range chains {
		if c.Broken != nil {
			t.Errorf("audit chain: %v", c.Broken)
		}
	}
	return chains
}
