package hasm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
)

// The HASM role reaches its own schema only; other roles cannot reach it.
func TestGrants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		role, sql string
	}{
		{hasm.Role, `SELECT count(*) FROM vault.identity`},
		{hasm.Role, `SELECT count(*) FROM vault.blind_index`},
		{hasm.Role, `SELECT count(*) FROM intake."case"`},
		{hasm.Role, `SELECT count(*) FROM intake.case_member`},
		{hasm.Role, `DELETE FROM hasm.request`},
		{hasm.Role, `DELETE FROM hasm.fund`},
		{hasm.Role, `UPDATE hasm.idempotency SET method = ''`},
		{hasm.Role, `DELETE FROM outbox.event`},
		{intake.Role, `SELECT count(*) FROM hasm.request`},
		{intake.Role, `SELECT count(*) FROM hasm."case"`},
		{"passage_analytics", `SELECT count(*) FROM hasm.fund`},
	}
	pools := map[string]interface {
		Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	}{}
	for _, tt := range tests {
		if pools[tt.role] == nil {
			pools[tt.role] = b.env.Pool(t, tt.role)
		}
		_, err := pools[tt.role].Exec(context.Background(), tt.sql)
		var pgErr *pgconn.PgError
		if !asPgError(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: %s = %v, want permission denied (42501)", tt.role, tt.sql, err)
		}
	}
	// What the service needs, it has.
	for _, sql := range []string{`SELECT count(*) FROM hasm.request`, `SELECT count(*) FROM outbox.event`, `SELECT count(*) FROM hasm.outbox_cursor`} {
		if _, err := pools[hasm.Role].Exec(context.Background(), sql); err != nil {
			t.Errorf("%s: %s: %v", hasm.Role, sql, err)
		}
	}
}

func asPgError(err error, target **pgconn.PgError) bool {
	return errors.As(err, target)
}
